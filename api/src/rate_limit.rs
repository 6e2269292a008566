//! Rate limits (DESIGN §2): every request with a valid token counts against its principal
//! (a user, an app, an operator) and against its account, which all of the account's
//! principals share; a request without a valid token counts against its client address, so the
//! token endpoint and bad tokens cannot be used to hammer the service. The operations probes and
//! the OpenAPI document and its viewer are not limited.
//!
//! Each policy is a GCRA bucket from `governor` (keyed, in memory, per process): a burst of `q`
//! requests, refilled continuously at `q` per `w` seconds. Responses carry the IETF
//! draft-ietf-httpapi-ratelimit-headers fields: `RateLimit-Policy` lists the policies that apply
//! to the request, `RateLimit` reports the one closest to its limit. A refused request is a 429
//! `rate_limited` problem with `Retry-After`, and never reaches a handler.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use domain::principal::Principal;
use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use std::net::IpAddr;
use std::time::Duration;

use crate::auth::{self, Authenticated};
use crate::config::{RateLimit, RateLimitSettings};
use crate::error::{ApiError, ErrorCode};

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Paths no limit applies to: probes must answer while clients are throttled, and the
/// document is static.
pub fn is_exempt(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/openapi.json" | "/openapi.yaml" | "/docs"
    ) || path.starts_with("/docs/")
}

/// The policies, as named in the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyName {
    Principal,
    Account,
    Address,
}

impl PolicyName {
    pub const fn id(self) -> &'static str {
        match self {
            PolicyName::Principal => "principal",
            PolicyName::Account => "account",
            PolicyName::Address => "address",
        }
    }

    fn counted_against(self) -> &'static str {
        match self {
            PolicyName::Principal => "your token's principal",
            PolicyName::Account => "your account (shared by all its users and apps)",
            PolicyName::Address => "your client address (requests without a valid token)",
        }
    }
}

type Keyed = Governor<
    String,
    DefaultKeyedStateStore<String>,
    governor::clock::DefaultClock,
    StateInformationMiddleware,
>;

struct Policy {
    name: PolicyName,
    limit: RateLimit,
    limiter: Keyed,
}

/// A policy's counters after a request: `r` and `t` of the `RateLimit` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    policy: PolicyName,
    /// Requests left now.
    remaining: u32,
    /// Seconds until the whole quota is available again.
    reset_seconds: u64,
}

impl Counters {
    fn header(self) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "\"{}\";r={};t={}",
            self.policy.id(),
            self.remaining,
            self.reset_seconds
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// A refused request: the policy's counters and when the next request will be admitted.
struct Refusal {
    counters: Counters,
    retry_after_seconds: u64,
    limit: RateLimit,
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Policy {
    fn new(name: PolicyName, limit: RateLimit) -> Self {
        // One request back every window / quota; a full bucket holds the whole quota.
        let quota = Quota::with_period(limit.window / limit.quota.get())
            .unwrap_or_else(|| Quota::per_second(limit.quota))
            .allow_burst(limit.quota);
        Self {
            name,
            limit,
            limiter: Governor::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
        }
    }

    fn interval(&self) -> Duration {
        self.limit.window / self.limit.quota.get()
    }

    fn check(&self, key: &str) -> Result<Counters, Refusal> {
        let quota = self.limit.quota.get();
        match self.limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity().min(quota);
                Ok(Counters {
                    policy: self.name,
                    remaining,
                    reset_seconds: ceil_seconds(self.interval() * (quota - remaining)),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(Refusal {
                    counters: Counters {
                        policy: self.name,
                        remaining: 0,
                        reset_seconds: ceil_seconds(wait + self.interval() * (quota - 1)),
                    },
                    retry_after_seconds: ceil_seconds(wait).max(1),
                    limit: self.limit,
                })
            }
        }
    }

    fn item(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.name.id(),
            self.limit.quota,
            self.limit.window.as_secs()
        )
    }
}

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A valid token: its principal, and the account of its directory (a directory belongs to
    /// at most one account, so it names the account without a database read). Operators share
    /// one budget as their "account".
    Principal { principal: String, account: String },
    /// No valid token: the client's address (an IPv6 client by its /64, which one host
    /// usually holds whole).
    Address(String),
}

impl Caller {
    pub fn of(principal: Option<&Principal>, peer: Option<IpAddr>) -> Self {
        match principal {
            Some(Principal::User { email, directory }) => Caller::Principal {
                principal: format!("user:{directory}:{}", email.as_str().to_lowercase()),
                account: format!("directory:{directory}"),
            },
            Some(Principal::App {
                client_id,
                directory,
            }) => Caller::Principal {
                principal: format!("app:{directory}:{client_id}"),
                account: format!("directory:{directory}"),
            },
            Some(Principal::Operator { email }) => Caller::Principal {
                principal: format!("operator:{}", email.as_str().to_lowercase()),
                account: "operators".to_owned(),
            },
            None => Caller::Address(match peer {
                Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                    Some(v4) => v4.to_string(),
                    None => {
                        let s = v6.segments();
                        format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                    }
                },
                Some(IpAddr::V4(v4)) => v4.to_string(),
                None => "unknown".to_owned(),
            }),
        }
    }
}

/// The outcome of counting a request.
enum Decision {
    Allowed(Option<Counters>),
    Refused(Refusal),
}

/// The server's rate limiters, shared by its workers.
pub struct RateLimiter {
    principal: Option<Policy>,
    account: Option<Policy>,
    address: Option<Policy>,
}

impl RateLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            principal: settings
                .principal
                .map(|limit| Policy::new(PolicyName::Principal, limit)),
            account: settings
                .account
                .map(|limit| Policy::new(PolicyName::Account, limit)),
            address: settings
                .address
                .map(|limit| Policy::new(PolicyName::Address, limit)),
        }
    }

    fn policies_for(&self, caller: &Caller) -> Vec<&Policy> {
        match caller {
            Caller::Principal { .. } => [&self.principal, &self.account]
                .into_iter()
                .flatten()
                .collect(),
            Caller::Address(_) => self.address.iter().collect(),
        }
    }

    /// The principal's own budget is counted first: a principal refused by it does not use
    /// up its account's, so one runaway client leaves its colleagues their share. A request
    /// refused by the account's budget has used a unit of its principal's.
    fn count(&self, caller: &Caller) -> Decision {
        let keyed: Vec<(&Policy, &str)> = match caller {
            Caller::Principal { principal, account } => [
                self.principal.as_ref().map(|p| (p, principal.as_str())),
                self.account.as_ref().map(|p| (p, account.as_str())),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Caller::Address(address) => self
                .address
                .as_ref()
                .map(|p| (p, address.as_str()))
                .into_iter()
                .collect(),
        };
        let mut closest: Option<Counters> = None;
        for (policy, key) in keyed {
            match policy.check(key) {
                Ok(counters) => {
                    if closest.is_none_or(|c| counters.remaining < c.remaining) {
                        closest = Some(counters);
                    }
                }
                Err(refusal) => return Decision::Refused(refusal),
            }
        }
        Decision::Allowed(closest)
    }

    fn policy_header(&self, caller: &Caller) -> Option<HeaderValue> {
        let items: Vec<String> = self.policies_for(caller).iter().map(|p| p.item()).collect();
        (!items.is_empty())
            .then(|| HeaderValue::from_str(&items.join(", ")).ok())
            .flatten()
    }

    /// Forgets keys whose bucket is full again, so memory follows recent callers only.
    fn forget_idle(&self) {
        for policy in [&self.principal, &self.account, &self.address]
            .into_iter()
            .flatten()
        {
            policy.limiter.retain_recent();
            policy.limiter.shrink_to_fit();
        }
    }
}

/// Every minute, drops the state of callers whose buckets have refilled.
pub async fn run_housekeeping(limiter: web::Data<RateLimiter>) {
    let mut tick = actix_web::rt::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        limiter.forget_idle();
    }
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let Some(limiter) = limiter.filter(|_| !is_exempt(req.path())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // The token is verified once: the handler's `Authenticated` extractor reuses this result.
    let authenticated = auth::authenticate(req.request()).ok();
    let caller = Caller::of(
        authenticated
            .as_ref()
            .map(|Authenticated(principal, _)| principal),
        req.peer_addr().map(|address| address.ip()),
    );
    if let Some(authenticated) = authenticated {
        req.extensions_mut().insert(authenticated);
    }
    let policy = limiter.policy_header(&caller);
    match limiter.count(&caller) {
        Decision::Allowed(counters) => {
            let mut response = next.call(req).await?.map_into_boxed_body();
            let headers = response.headers_mut();
            if let Some(policy) = policy {
                headers.insert(RATELIMIT_POLICY, policy);
            }
            if let Some(counters) = counters {
                headers.insert(RATELIMIT, counters.header());
            }
            Ok(response)
        }
        Decision::Refused(refusal) => {
            let mut error = ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "Too many requests counted against {}: at most {} per {} s. Retry after {} s.",
                    refusal.counters.policy.counted_against(),
                    refusal.limit.quota,
                    refusal.limit.window.as_secs(),
                    refusal.retry_after_seconds
                ),
            )
            .with_header(RETRY_AFTER, refusal.retry_after_seconds.to_string());
            if let Some(policy) = policy.and_then(|p| p.to_str().ok().map(str::to_owned)) {
                error = error.with_header(RATELIMIT_POLICY, policy);
            }
            if let Ok(counters) = refusal.counters.header().to_str() {
                error = error.with_header(RATELIMIT, counters);
            }
            Ok(req.into_response(error.error_response()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::email::EmailAddress;
    use std::num::NonZeroU32;

    fn limit(quota: u32, seconds: u64) -> Option<RateLimit> {
        Some(RateLimit {
            quota: NonZeroU32::new(quota).expect("non-zero"),
            window: Duration::from_secs(seconds),
        })
    }

    fn user(directory: &str, email: &str) -> Caller {
        Caller::of(
            Some(&Principal::User {
                email: EmailAddress::parse(email).expect("valid"),
                directory: directory.parse().expect("uuid"),
            }),
            None,
        )
    }

    const CONTOSO: &str = "0190a000-0000-7000-8000-000000000001";
    const FABRIKAM: &str = "0190a000-0000-7000-8000-000000000002";

    #[test]
    fn a_principal_refused_by_its_own_budget_leaves_the_account_budget_alone() {
        let limiter = RateLimiter::new(&RateLimitSettings {
            principal: limit(2, 60),
            account: limit(3, 60),
            address: None,
        });
        let jane = user(CONTOSO, "jane@contoso.com");
        let sam = user(CONTOSO, "sam@contoso.com");
        assert!(
            matches!(limiter.count(&jane), Decision::Allowed(Some(c)) if c.policy == PolicyName::Principal && c.remaining == 1)
        );
        assert!(matches!(limiter.count(&jane), Decision::Allowed(Some(c)) if c.remaining == 0));
        for _ in 0..5 {
            assert!(
                matches!(limiter.count(&jane), Decision::Refused(r) if r.counters.policy == PolicyName::Principal)
            );
        }
        // The account used 2 of 3: Sam gets the last one, and then the account is spent.
        assert!(
            matches!(limiter.count(&sam), Decision::Allowed(Some(c)) if c.policy == PolicyName::Account && c.remaining == 0)
        );
        assert!(
            matches!(limiter.count(&sam), Decision::Refused(r) if r.counters.policy == PolicyName::Account && r.retry_after_seconds >= 1)
        );
        assert!(matches!(
            limiter.count(&user(FABRIKAM, "jane@contoso.com")),
            Decision::Allowed(_)
        ));
    }

    #[test]
    fn emails_count_as_one_principal_whatever_their_case() {
        assert_eq!(
            user(CONTOSO, "Jane@Contoso.com"),
            user(CONTOSO, "jane@contoso.com")
        );
    }

    #[test]
    fn addresses_key_ipv6_clients_by_their_slash_64() {
        let of = |ip: &str| Caller::of(None, Some(ip.parse().expect("ip")));
        assert_eq!(of("2001:db8:1:2:aaaa::1"), of("2001:db8:1:2:bbbb::9"));
        assert_ne!(of("2001:db8:1:2::1"), of("2001:db8:1:3::1"));
        assert_eq!(of("::ffff:192.0.2.7"), of("192.0.2.7"));
        assert_eq!(Caller::of(None, None), Caller::Address("unknown".into()));
    }

    #[test]
    fn headers_use_the_structured_field_syntax() {
        let limiter = RateLimiter::new(&RateLimitSettings {
            principal: limit(600, 60),
            account: limit(3000, 60),
            address: limit(120, 60),
        });
        let jane = user(CONTOSO, "jane@contoso.com");
        assert_eq!(
            limiter.policy_header(&jane).expect("policy"),
            "\"principal\";q=600;w=60, \"account\";q=3000;w=60"
        );
        let Decision::Allowed(Some(counters)) = limiter.count(&jane) else {
            panic!("allowed");
        };
        // One request used: 599 left, and the unit used comes back in 100 ms (t rounds up).
        assert_eq!(counters.header(), "\"principal\";r=599;t=1");
        let anonymous = Caller::of(None, Some("192.0.2.7".parse().expect("ip")));
        assert_eq!(
            limiter.policy_header(&anonymous).expect("policy"),
            "\"address\";q=120;w=60"
        );
    }

    #[test]
    fn exempt_paths_are_the_probes_and_the_documents() {
        for path in [
            "/healthz",
            "/readyz",
            "/openapi.json",
            "/openapi.yaml",
            "/docs",
            "/docs/index.html",
        ] {
            assert!(is_exempt(path), "{path}");
        }
        for path in ["/v1/oauth2/token", "/v1/me", "/docsx", "/healthz/x", "/"] {
            assert!(!is_exempt(path), "{path}");
        }
    }
}
