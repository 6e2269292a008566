//! Tokens this process has verified, so a client that sends one token with every request pays
//! for its signature check and claim decoding once rather than on each request.
//!
//! An entry is keyed by the whole token text, signature included, so only the very token that
//! verified can find it. What the verification checked stays true of that text for as long as
//! the process runs (the keys are loaded at start-up, the issuer and audience are fixed), except
//! expiry: an entry is used only while its `exp` is within the leeway of the clock, by the
//! comparison jsonwebtoken makes, and after that the token goes through the full check, which
//! refuses it. A refused token is never kept.

use chrono::{DateTime, Utc};
use domain::principal::Principal;
use std::collections::HashMap;
use std::sync::RwLock;

use super::LEEWAY_SECONDS;

/// At most this many tokens are kept; a full cache first drops the expired entries, and if none
/// are, starts again empty.
const CAPACITY: usize = 1024;

/// Longer tokens are verified every time, so the cache stays within about 2 MiB whatever callers
/// send (the service's own tokens are a few hundred bytes).
const LONGEST_KEPT: usize = 2048;

/// A verified token's principal and expiry.
type Verified = (Principal, DateTime<Utc>);

#[derive(Default)]
pub(super) struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, Verified>>,
}

impl VerifiedTokens {
    /// The principal and expiry of `token` if it verified before and has not expired at `now`
    /// (seconds since the epoch).
    pub(super) fn get(&self, token: &str, now: u64) -> Option<Verified> {
        let entries = self.entries.read().ok()?;
        let (principal, expires_at) = entries.get(token)?;
        still_valid(*expires_at, now).then(|| (principal.clone(), *expires_at))
    }

    pub(super) fn insert(
        &self,
        token: &str,
        principal: Principal,
        expires_at: DateTime<Utc>,
        now: u64,
    ) {
        // A poisoned lock only means another thread panicked mid-insert; the cache is an
        // optimisation, so it is skipped rather than trusted.
        if token.len() > LONGEST_KEPT {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, expires_at)| still_valid(*expires_at, now));
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.into(), (principal, expires_at));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .read()
            .map(|entries| entries.len())
            .unwrap_or(0)
    }
}

/// jsonwebtoken's own test: a token has expired when `exp < now - leeway`.
fn still_valid(expires_at: DateTime<Utc>, now: u64) -> bool {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    expires_at.timestamp() >= now.saturating_sub(LEEWAY_SECONDS as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::email::EmailAddress;

    fn operator() -> Principal {
        Principal::Operator {
            email: EmailAddress::parse("ops@contoso.com").expect("valid"),
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("in range")
    }

    #[test]
    fn an_entry_serves_until_its_expiry_plus_the_leeway_and_not_a_second_longer() {
        let cache = VerifiedTokens::default();
        cache.insert("a.b.c", operator(), at(1_000), 900);
        assert_eq!(cache.get("a.b.c", 1_000), Some((operator(), at(1_000))));
        assert!(cache.get("a.b.c", 1_000 + LEEWAY_SECONDS).is_some());
        assert_eq!(cache.get("a.b.c", 1_001 + LEEWAY_SECONDS), None);
    }

    #[test]
    fn only_the_same_token_text_finds_an_entry() {
        let cache = VerifiedTokens::default();
        cache.insert("a.b.c", operator(), at(1_000), 900);
        assert_eq!(cache.get("a.b.d", 900), None);
        assert_eq!(cache.get("a.b.c ", 900), None);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_and_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            // Every other entry has expired by the time the cache fills.
            let expiry = if i % 2 == 0 { 100 } else { 10_000 };
            cache.insert(&format!("token-{i}"), operator(), at(expiry), 50);
        }
        cache.insert("next", operator(), at(10_000), 5_000);
        assert_eq!(cache.len(), CAPACITY / 2 + 1);
        assert!(cache.get("token-1", 5_000).is_some());
        for i in 0..CAPACITY {
            cache.insert(&format!("fresh-{i}"), operator(), at(10_000), 5_000);
        }
        assert!(cache.len() <= CAPACITY);
    }

    #[test]
    fn an_overlong_token_is_not_kept() {
        let cache = VerifiedTokens::default();
        let long = "x".repeat(LONGEST_KEPT + 1);
        cache.insert(&long, operator(), at(1_000), 900);
        assert_eq!(cache.get(&long, 900), None);
    }
}
