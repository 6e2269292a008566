//! Resolved configuration. Everything is checked here, before anything starts, and a bad
//! value stops start-up with one line that names the setting.

use persistence::DatabaseUrl;

pub use crate::mailer::MailSettings;
pub use crate::webhooks::WebhookSettings;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub auth: AuthSettings,
    /// Where the generated signing key lives when the database is not a local file.
    pub data_dir: PathBuf,
    pub mail: MailSettings,
    pub webhooks: WebhookSettings,
}

#[derive(Clone)]
pub struct AuthSettings {
    pub jwt_secret: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub jwks_file: Option<PathBuf>,
    pub jwks_issuer: Option<String>,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_file", &self.jwks_file)
            .field("jwks_issuer", &self.jwks_issuer)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub bind: SocketAddr,
    pub workers: usize,
    pub pool_size: u32,
    pub shutdown_timeout_seconds: u64,
    pub migrate_on_start: bool,
}

impl Settings {
    /// The embedded signing key's file: beside a SQLite database (`<db>.jwt-secret`), or in the
    /// data directory for PostgreSQL.
    pub fn key_file(&self) -> PathBuf {
        match self.database_url.sqlite_path() {
            Some(path) => {
                let mut name = path.file_name().unwrap_or_default().to_os_string();
                name.push(".jwt-secret");
                path.with_file_name(name)
            }
            None => self.data_dir.join("partner-center.jwt-secret"),
        }
    }
}

pub fn parse_bind(raw: &str) -> Result<SocketAddr, String> {
    raw.to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| format!("PC_BIND {raw:?} is not a host:port address, e.g. 127.0.0.1:8080"))
}

pub fn check_auth(auth: &AuthSettings) -> Result<(), String> {
    if auth.issuer.trim().is_empty() {
        return Err("PC_JWT_ISSUER must not be empty".into());
    }
    if auth.audience.trim().is_empty() {
        return Err("PC_JWT_AUDIENCE must not be empty".into());
    }
    match (&auth.jwks_file, &auth.jwks_issuer) {
        (Some(_), None) => Err("PC_JWKS_FILE is set but PC_JWKS_ISSUER is not: name the external issuer whose keys it holds".into()),
        (None, Some(_)) => Err("PC_JWKS_ISSUER is set but PC_JWKS_FILE is not".into()),
        (Some(_), Some(issuer)) if issuer == &auth.issuer => Err(
            "PC_JWKS_ISSUER must differ from PC_JWT_ISSUER: the embedded and external issuers are told apart by it".into(),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings {
        Settings {
            database_url: DatabaseUrl::parse(url).expect("valid"),
            auth: AuthSettings {
                jwt_secret: None,
                issuer: "partner-center".into(),
                audience: "partner-center-api".into(),
                jwks_file: None,
                jwks_issuer: None,
            },
            data_dir: PathBuf::from("/var/lib/pc"),
            mail: MailSettings {
                smtp_url: None,
                from: "partner-center@localhost".into(),
                drop_dir: PathBuf::from("/var/lib/pc/mail"),
            },
            webhooks: WebhookSettings::default(),
        }
    }

    #[test]
    fn key_file_sits_beside_sqlite_or_in_the_data_dir() {
        assert_eq!(
            settings("sqlite:///srv/pc/partner-center.db").key_file(),
            PathBuf::from("/srv/pc/partner-center.db.jwt-secret")
        );
        assert_eq!(
            settings("sqlite://pc.db").key_file(),
            PathBuf::from("pc.db.jwt-secret")
        );
        assert_eq!(
            settings("postgres://u@h/d").key_file(),
            PathBuf::from("/var/lib/pc/partner-center.jwt-secret")
        );
    }

    #[test]
    fn bind_addresses() {
        assert!(parse_bind("127.0.0.1:8080").is_ok());
        assert!(parse_bind("localhost:0").is_ok());
        assert!(parse_bind("8080").is_err());
        assert!(parse_bind("nowhere:x").is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let mut auth = settings("sqlite://x.db").auth;
        auth.jwt_secret = Some("super-secret-value-that-is-long-enough".into());
        assert!(!format!("{auth:?}").contains("super-secret"));
    }
}
