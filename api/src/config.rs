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
    /// How long an `Idempotency-Key` claim blocks retries before a retry may take over a key
    /// whose first request died (a crash mid-request): `PC_IDEMPOTENCY_LEASE`.
    pub idempotency_lease: chrono::Duration,
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
    pub rate_limits: RateLimitSettings,
}

/// A rate-limit policy: `quota` requests per `window`, refilled continuously.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub quota: std::num::NonZeroU32,
    pub window: std::time::Duration,
}

/// The rate-limit policies of a server; `None` turns a policy off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Per principal: a user, an app, or an operator.
    pub principal: Option<RateLimit>,
    /// Shared by every principal of one account (one directory).
    pub account: Option<RateLimit>,
    /// Per client address, for requests without a valid token.
    pub address: Option<RateLimit>,
}

impl RateLimitSettings {
    pub const fn off() -> Self {
        Self {
            principal: None,
            account: None,
            address: None,
        }
    }
}

/// Longest window a policy may have: one day.
const MAX_RATE_WINDOW_SECONDS: u64 = 86_400;
/// Largest quota a policy may have; above it a limit is no limit.
const MAX_RATE_QUOTA: u32 = 1_000_000;

/// Parses a rate-limit setting: `<requests>/<window>` with the window in seconds, minutes or
/// hours (`600/60s`, `600/1m`, `10000/1h`), or `off`.
pub fn parse_rate_limit(name: &str, raw: &str) -> Result<Option<RateLimit>, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let refuse = |why: &str| {
        format!(
            "{name} {raw:?} {why}: write <requests>/<window>, e.g. 600/60s, 600/1m or 10000/1h, or off"
        )
    };
    let (quota, window) = raw.split_once('/').ok_or_else(|| refuse("is not a rate"))?;
    let quota: u32 = quota
        .trim()
        .parse()
        .map_err(|_| refuse("does not start with a whole number of requests"))?;
    if !(1..=MAX_RATE_QUOTA).contains(&quota) {
        return Err(refuse(&format!(
            "must allow 1 to {MAX_RATE_QUOTA} requests"
        )));
    }
    let window = window.trim();
    let (amount, unit) = match window.char_indices().next_back() {
        Some((last, _)) => window.split_at(last),
        None => return Err(refuse("has no window")),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        _ => return Err(refuse("has no window unit (s, m or h)")),
    };
    let amount: u64 = amount
        .parse()
        .map_err(|_| refuse("has no whole number before the window unit"))?;
    let seconds = amount.saturating_mul(seconds_per_unit);
    if !(1..=MAX_RATE_WINDOW_SECONDS).contains(&seconds) {
        return Err(refuse("must have a window of 1 second to 24 hours"));
    }
    Ok(Some(RateLimit {
        quota: std::num::NonZeroU32::new(quota).ok_or_else(|| refuse("must allow a request"))?,
        window: std::time::Duration::from_secs(seconds),
    }))
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
            idempotency_lease: chrono::Duration::seconds(60),
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
    fn rate_limits_parse_with_a_unit_or_off() {
        let limit = |quota: u32, seconds: u64| {
            Some(RateLimit {
                quota: std::num::NonZeroU32::new(quota).expect("non-zero"),
                window: std::time::Duration::from_secs(seconds),
            })
        };
        let parse = |raw: &str| parse_rate_limit("PC_RATE_LIMIT_PRINCIPAL", raw);
        assert_eq!(parse("600/60s"), Ok(limit(600, 60)));
        assert_eq!(parse(" 600 / 1m "), Ok(limit(600, 60)));
        assert_eq!(parse("10000/1h"), Ok(limit(10_000, 3_600)));
        assert_eq!(parse("1000000/24h"), Ok(limit(1_000_000, 86_400)));
        assert_eq!(parse("off"), Ok(None));
        assert_eq!(parse("OFF"), Ok(None));
        for bad in [
            "",
            "600",
            "600/60",
            "0/60s",
            "1000001/60s",
            "-1/60s",
            "600/0s",
            "600/25h",
            "600/s",
            "600/60x",
            "x/60s",
            "600/1.5m",
            "600/60é",
            "600/",
        ] {
            let refused = parse(bad).expect_err(bad);
            assert!(
                refused.starts_with("PC_RATE_LIMIT_PRINCIPAL") && refused.contains("e.g. 600/60s"),
                "{refused}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let mut auth = settings("sqlite://x.db").auth;
        auth.jwt_secret = Some("super-secret-value-that-is-long-enough".into());
        assert!(!format!("{auth:?}").contains("super-secret"));
    }
}
