//! Delivering the event outbox to webhook endpoints.
//!
//! Requests are signed per Standard Webhooks: `webhook-id` (the event id, the same on every
//! retry so receivers can drop duplicates), `webhook-timestamp` (Unix seconds of the attempt)
//! and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with one signature
//! per live secret while a rotated secret overlaps the new one. The worker runs on every
//! replica; row leases keep two replicas from posting one delivery at once, and a delivery
//! whose worker died is taken up again when its lease runs out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use domain::action_center::{Audience, Class, NewItem, Priority};
use domain::webhooks::{RetryPolicy, should_disable};
use domain::workspace::Workspace;
use hmac::{Hmac, Mac};
use persistence::connection::write_transaction;
use persistence::repos::action_center::{self, Target};
use persistence::repos::webhooks::{self, AttemptOutcome, Claimed, Next};
use serde_json::json;
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::audit;
use crate::billing::system_actor;
use crate::clock;
use crate::db;
use crate::state::AppState;

/// How deliveries are made, retried and given up on. Every duration is configurable so that
/// tests (and impatient operators) can shorten them.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow `http` URLs and loopback or private addresses (tests, closed networks).
    pub allow_insecure_urls: bool,
    pub retry: RetryPolicy,
    /// An endpoint failing every attempt for this long is disabled.
    pub disable_after: Duration,
    /// How long a worker holds a claimed delivery; longer than `timeout`.
    pub lease: Duration,
    /// One attempt's time limit (connect, send, response headers).
    pub timeout: std::time::Duration,
    /// How often the worker looks for due deliveries.
    pub poll: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_insecure_urls: false,
            retry: RetryPolicy {
                base: Duration::seconds(30),
                cap: Duration::hours(6),
                give_up_after: Duration::days(3),
            },
            disable_after: Duration::days(3),
            lease: Duration::seconds(60),
            timeout: std::time::Duration::from_secs(10),
            poll: std::time::Duration::from_secs(1),
        }
    }
}

impl WebhookSettings {
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("PC_WEBHOOK_RETRY_BASE", self.retry.base),
            ("PC_WEBHOOK_RETRY_CAP", self.retry.cap),
            ("PC_WEBHOOK_RETRY_PERIOD", self.retry.give_up_after),
            ("PC_WEBHOOK_DISABLE_AFTER", self.disable_after),
            ("PC_WEBHOOK_LEASE", self.lease),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, d)| *d <= Duration::zero()) {
            return Err(format!("{name} must be longer than zero"));
        }
        // Far longer would overflow the instants computed from them, and means nothing here.
        if let Some((name, _)) = positive.iter().find(|(_, d)| *d > Duration::days(365)) {
            return Err(format!("{name} must be at most 365d"));
        }
        let timeout = Duration::from_std(self.timeout).unwrap_or(Duration::MAX);
        if timeout <= Duration::zero() || timeout + Duration::seconds(1) > self.lease {
            return Err(
                "PC_WEBHOOK_TIMEOUT must be positive and at least a second shorter than PC_WEBHOOK_LEASE (a lease that ran out mid-attempt would let a second replica post the same delivery)".into(),
            );
        }
        if self.poll.is_zero() {
            return Err("PC_WEBHOOK_POLL must be longer than zero".into());
        }
        Ok(())
    }
}

/// Parses `500ms`, `30s`, `5m`, `6h`, `3d`.
pub fn parse_duration(name: &str, raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let amount: i64 = digits.parse().map_err(|_| {
        format!("{name} {raw:?} is not a duration such as 500ms, 30s, 5m, 6h or 3d")
    })?;
    let duration = match unit {
        "ms" => Duration::try_milliseconds(amount),
        "s" => Duration::try_seconds(amount),
        "m" => Duration::try_minutes(amount),
        "h" => Duration::try_hours(amount),
        "d" => Duration::try_days(amount),
        _ => None,
    };
    duration
        .ok_or_else(|| format!("{name} {raw:?} is not a duration such as 500ms, 30s, 5m, 6h or 3d"))
}

/// The delivery side: settings and the HTTP client.
pub struct Webhooks {
    pub settings: WebhookSettings,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new(settings: WebhookSettings) -> Result<Self, String> {
        settings.check()?;
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect would take the signed body somewhere the account never registered.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the host itself, past the check
            // below that keeps deliveries off internal addresses.
            .no_proxy()
            .user_agent(concat!(
                "partner-center-webhooks/",
                env!("CARGO_PKG_VERSION")
            ));
        if !settings.allow_insecure_urls {
            builder = builder.dns_resolver(Arc::new(PublicAddressesOnly));
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Webhooks { settings, client })
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks has it.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// `v1,<signature>` of one message under one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Why a URL cannot receive webhooks.
pub fn url_refusal(raw: &str, allow_insecure: bool) -> Option<&'static str> {
    let Ok(url) = reqwest::Url::parse(raw) else {
        return Some("not an absolute URL");
    };
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        _ => return Some("must be an https URL"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not carry credentials (the signature authenticates the sender)");
    }
    if url.fragment().is_some() {
        return Some("must not have a fragment");
    }
    if allow_insecure {
        return url.host().is_none().then_some("has no host");
    }
    match url.host() {
        None => Some("has no host"),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some("must not point at loopback")
        }
        Some(url::Host::Ipv4(ip)) => (!is_public(IpAddr::V4(ip)))
            .then_some("must not point at a loopback, private or link-local address"),
        Some(url::Host::Ipv6(ip)) => (!is_public(IpAddr::V6(ip)))
            .then_some("must not point at a loopback, private or link-local address"),
    }
}

/// An address on the public internet: not loopback, private, link-local (cloud metadata
/// lives there), unspecified, multicast or otherwise special.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                // 100.64.0.0/10 carrier-grade NAT, 198.18.0.0/15 benchmarking,
                // 192.0.0.0/24 protocol assignments, 240.0.0.0/4 reserved.
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded = |high: u16, low: u16| {
                let [h1, h2] = high.to_be_bytes();
                let [l1, l2] = low.to_be_bytes();
                IpAddr::V4(std::net::Ipv4Addr::new(h1, h2, l1, l2))
            };
            // Addresses that carry an IPv4 address reach it: judge that one. IPv4-mapped and
            // -compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
            if let Some(v4) = v6.to_ipv4() {
                return !v6.is_loopback() && !v6.is_unspecified() && is_public(IpAddr::V4(v4));
            }
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(embedded(segments[6], segments[7]));
            }
            if segments[0] == 0x2002 {
                return is_public(embedded(segments[1], segments[2]));
            }
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0)
        }
    }
}

/// Resolves names as the system does and keeps only public addresses, so a name that
/// resolves (or is rebound) to an internal address is refused at delivery, not only at
/// registration.
struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = resolved.filter(|addr| is_public(addr.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Attempts in flight per replica. Each runs on its own; a slow endpoint holds one slot for up
/// to the timeout, not a whole round.
const IN_FLIGHT: usize = 32;

/// Delivers due deliveries until the server stops: claims as many as there are free slots and
/// starts each attempt at once.
pub async fn run_worker(state: AppState) {
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    loop {
        let free = slots.available_permits();
        let claimed = match claim(&state, free).await {
            Ok(claimed) => claimed,
            Err(error) => {
                log::warn!("webhook delivery: {error}");
                Vec::new()
            }
        };
        let count = claimed.len();
        for delivery in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let state = state.clone();
            actix_web::rt::spawn(async move {
                if let Err(error) = attempt(&state, delivery).await {
                    log::warn!("webhook delivery: {error}");
                }
                drop(slot);
            });
        }
        // All slots were used: more may be due, so look again as soon as one frees.
        if count > 0 && count == free {
            if let Ok(slot) = slots.clone().acquire_owned().await {
                drop(slot);
            }
            continue;
        }
        actix_web::rt::time::sleep(state.webhooks.settings.poll).await;
    }
}

async fn claim(state: &AppState, free: usize) -> Result<Vec<Claimed>, String> {
    if free == 0 {
        return Ok(Vec::new());
    }
    let lease = state.webhooks.settings.lease;
    let limit = i64::try_from(free).unwrap_or(1);
    db::run(state, move |conn| {
        Ok(webhooks::claim_due(conn, clock::now(), lease, limit)?)
    })
    .await
    .map_err(|e| e.to_string())
}

/// The signatures a request carries: the current secret's, and the previous one's while it
/// still overlaps.
fn signatures(delivery: &Claimed, timestamp: i64, wall: DateTime<Utc>) -> String {
    let id = delivery.event_id.to_string();
    let mut secrets = vec![delivery.secret.as_str()];
    if let (Some(previous), Some(until)) = (
        delivery.previous_secret.as_deref(),
        delivery.previous_secret_expires_at,
    ) && wall < until
    {
        secrets.push(previous);
    }
    secrets
        .into_iter()
        .filter_map(|secret| sign(secret, &id, timestamp, &delivery.payload))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Longest response excerpt or error kept in the delivery log.
const ERROR_CHARS: usize = 300;

async fn attempt(state: &AppState, delivery: Claimed) -> Result<(), String> {
    let settings = &state.webhooks.settings;
    let wall = clock::now();
    let started = std::time::Instant::now();
    let (status_code, error) = match url_refusal(&delivery.url, settings.allow_insecure_urls) {
        Some(refusal) => (None, Some(format!("the URL {refusal}"))),
        None => {
            let timestamp = wall.timestamp();
            let sent = state
                .webhooks
                .client
                .post(&delivery.url)
                .header("content-type", "application/json")
                .header("webhook-id", delivery.event_id.to_string())
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signatures(&delivery, timestamp, wall))
                .body(delivery.payload.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    (Some(response.status().as_u16()), None)
                }
                Ok(response) => (
                    Some(response.status().as_u16()),
                    Some(format!("the endpoint answered {}", response.status())),
                ),
                Err(error) => (None, Some(describe(&error))),
            }
        }
    };
    let outcome = AttemptOutcome {
        attempted_at: wall,
        status_code,
        error: error.map(|e| e.chars().take(ERROR_CHARS).collect()),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    let policy = settings.retry;
    let disable_after = settings.disable_after;
    db::run(state, move |conn| {
        write_transaction(conn, |conn| {
            record(conn, &delivery, &outcome, policy, disable_after)
        })
    })
    .await
    .map_err(|e| e.to_string())
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn record(
    conn: &mut persistence::DbConnection,
    delivery: &Claimed,
    outcome: &AttemptOutcome,
    policy: RetryPolicy,
    disable_after: Duration,
) -> Result<(), crate::error::ApiError> {
    let wall = outcome.attempted_at;
    let succeeded = outcome.error.is_none();
    let next = if succeeded {
        Next::Delivered
    } else {
        let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let first = delivery.first_attempt_at.unwrap_or(wall);
        policy
            .next_attempt(attempts, first, wall)
            .map_or(Next::GiveUp, Next::RetryAt)
    };
    if !webhooks::record_attempt(conn, delivery, outcome, next)? {
        return Ok(());
    }
    let scope = &delivery.scope;
    let failing_since = webhooks::note_health(conn, scope, delivery.endpoint_id, succeeded, wall)?;
    let Some(since) = failing_since.filter(|since| should_disable(*since, wall, disable_after))
    else {
        return Ok(());
    };
    if !webhooks::disable_failing(conn, scope, delivery.endpoint_id, wall)? {
        return Ok(());
    }
    let endpoint = delivery.endpoint_id.to_string();
    action_center::raise(
        conn,
        scope,
        &NewItem {
            class: Class::Action(Priority::Recommended),
            event: "webhook.disabled",
            workspace: Workspace::AccountSettings,
            audience: Audience::Workspace,
            title: "A webhook endpoint was disabled".to_owned(),
            message: format!(
                "{} failed every delivery since {}, so it was disabled. Fix it and enable it \
                 again (PATCH /v1/webhooks/{endpoint} with enabled: true), then redeliver what \
                 it missed.",
                delivery.url,
                since.to_rfc3339()
            ),
            due_at: None,
        },
        Some(Target {
            kind: "webhook",
            id: &endpoint,
        }),
        wall,
    )?;
    audit::record_as(
        conn,
        scope,
        &system_actor(),
        "webhook.disabled",
        ("webhook", endpoint),
        json!({"url": delivery.url, "failing_since": since, "last_error": outcome.error}),
        wall,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn urls_must_be_https_and_outside_internal_networks() {
        for bad in [
            "http://hooks.example.com/x",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://[2002:7f00:1::]/x",
            "https://[fec0::1]/x",
            "https://198.18.0.1/x",
            "https://240.0.0.1/x",
            "https://user:pw@hooks.example.com/x",
            "hooks.example.com",
        ] {
            assert!(url_refusal(bad, false).is_some(), "{bad}");
        }
        assert_eq!(url_refusal("https://hooks.example.com/pc?x=1", false), None);
        assert_eq!(url_refusal("https://93.184.215.14/pc", false), None);
        assert_eq!(url_refusal("https://[2606:4700::1111]/pc", false), None);
        assert_eq!(url_refusal("https://[64:ff9b::5db8:d70e]/pc", false), None);
        assert_eq!(url_refusal("http://127.0.0.1:9000/hook", true), None);
        assert!(url_refusal("ftp://127.0.0.1/hook", true).is_some());
    }

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(
            parse_duration("X", "500ms"),
            Ok(Duration::milliseconds(500))
        );
        assert_eq!(parse_duration("X", "3d"), Ok(Duration::days(3)));
        assert!(parse_duration("X", "3").is_err());
        assert!(parse_duration("X", "-3s").is_err());
        assert!(parse_duration("X", "99999999999999999d").is_err());
    }

    #[test]
    fn a_lease_shorter_than_an_attempt_is_refused() {
        let mut settings = WebhookSettings::default();
        assert_eq!(settings.check(), Ok(()));
        settings.lease = Duration::seconds(10);
        assert!(settings.check().is_err());
    }
}
