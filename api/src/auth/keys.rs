//! Where signing keys come from: the embedded HS256 secret (configured, or generated once and
//! kept in a private file) and the external issuer's public keys (a JWKS file).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use rand::TryRngCore;
use rand::rngs::OsRng;
use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{ExternalIssuer, TrustedKey};

/// HS256 keys shorter than the hash output weaken it (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;
const GENERATED_SECRET_BYTES: usize = 64;

/// The embedded signing secret: `configured` when given, else the content of `key_file`,
/// created from the operating system's CSPRNG with mode 0600 on first start.
pub fn load_embedded_secret(configured: Option<&str>, key_file: &Path) -> Result<Vec<u8>, String> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "PC_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long (it has {})",
                secret.len()
            ));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    // Two processes starting together may both find no file: one creates it, the other reads
    // it (after a short wait if it catches the file before the first has linked it).
    for _ in 0..50 {
        match read_key_file(key_file)? {
            Some(secret) => return Ok(secret),
            None => match create_key_file(key_file)? {
                Some(secret) => return Ok(secret),
                None => std::thread::sleep(std::time::Duration::from_millis(20)),
            },
        }
    }
    Err(format!(
        "cannot read or create the signing key file {}",
        key_file.display()
    ))
}

fn read_key_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(format!(
                "cannot read the signing key file {}: {error}",
                path.display()
            ));
        }
    };
    if metadata.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "the signing key file {} is readable by other users; run chmod 600 on it",
            path.display()
        ));
    }
    let text = fs::read_to_string(path).map_err(|error| {
        format!(
            "cannot read the signing key file {}: {error}",
            path.display()
        )
    })?;
    let secret = STANDARD
        .decode(text.trim())
        .map_err(|_| format!("the signing key file {} is not base64", path.display()))?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the signing key file {} holds a key shorter than {MIN_SECRET_BYTES} bytes",
            path.display()
        ));
    }
    Ok(Some(secret))
}

/// Writes a fresh key to a private temporary file, then links it into place, which fails if
/// the file appeared meanwhile: the key file is never seen half-written. `None` when another
/// process won the race.
fn create_key_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let fail = |what: &str, error: std::io::Error| {
        format!(
            "cannot {what} the signing key file {}: {error}",
            path.display()
        )
    };
    let mut secret = vec![0u8; GENERATED_SECRET_BYTES];
    OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|error| format!("the operating system's random source failed: {error}"))?;
    let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(|e| fail("create", e))?;
    let written = file
        .write_all(format!("{}\n", STANDARD.encode(&secret)).as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(fail("write", error));
    }
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            log::info!("generated a new token signing key in {}", path.display());
            Ok(Some(secret))
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(error) => Err(fail("create", error)),
    }
}

/// Reads the external issuer's public keys. Each key needs a `kid`; RSA keys verify RS256 and
/// P-256 keys ES256. Symmetric or other keys are refused: a JWKS is for public keys.
pub fn load_jwks(path: &Path, issuer: String) -> Result<ExternalIssuer, String> {
    let text = fs::read_to_string(path)
        .map_err(|error| format!("cannot read PC_JWKS_FILE {}: {error}", path.display()))?;
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|error| format!("PC_JWKS_FILE {} is not a JWK set: {error}", path.display()))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let kid =
            jwk.common.key_id.clone().ok_or_else(|| {
                format!("PC_JWKS_FILE {}: every key needs a \"kid\"", path.display())
            })?;
        let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => {
                return Err(format!(
                    "PC_JWKS_FILE {}: key {kid:?} is not an RS256 or ES256 public key",
                    path.display()
                ));
            }
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|error| format!("PC_JWKS_FILE {}: key {kid:?}: {error}", path.display()))?;
        if keys
            .insert(kid.clone(), TrustedKey { key, algorithm })
            .is_some()
        {
            return Err(format!(
                "PC_JWKS_FILE {}: duplicate kid {kid:?}",
                path.display()
            ));
        }
    }
    if keys.is_empty() {
        return Err(format!("PC_JWKS_FILE {} holds no keys", path.display()));
    }
    Ok(ExternalIssuer { issuer, keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        let first = load_embedded_secret(None, &path).expect("created");
        assert_eq!(first.len(), GENERATED_SECRET_BYTES);
        let mode = fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_embedded_secret(None, &path).expect("read back");
        assert_eq!(first, second);
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        load_embedded_secret(None, &path).expect("created");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = load_embedded_secret(None, &path).expect_err("refused");
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn a_short_configured_secret_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error =
            load_embedded_secret(Some("short"), &dir.path().join("unused")).expect_err("refused");
        assert!(error.contains("at least 32 bytes"), "{error}");
        assert!(load_embedded_secret(Some(&"x".repeat(32)), &dir.path().join("unused")).is_ok());
    }
}
