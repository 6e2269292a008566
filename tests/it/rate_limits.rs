//! Rate limits (DESIGN §2): per principal, per account and, without a valid token, per client
//! address; 429 `rate_limited` with `Retry-After`, and the `RateLimit-Policy` / `RateLimit`
//! fields of the IETF draft on every limited response. Each test sets its own limits.

use crate::dual_db_test;
use crate::harness::{Db, Options, Reply, TestApp, account_body};
use api::config::{RateLimit, RateLimitSettings};
use reqwest::Method;
use std::num::NonZeroU32;
use std::time::Duration;
use uuid::Uuid;

fn limit(quota: u32, seconds: u64) -> Option<RateLimit> {
    Some(RateLimit {
        quota: NonZeroU32::new(quota).expect("non-zero"),
        window: Duration::from_secs(seconds),
    })
}

async fn spawn(db: Db, rate_limits: RateLimitSettings) -> TestApp {
    TestApp::spawn_with(
        db,
        Options {
            migrate: true,
            rate_limits: Some(rate_limits),
            ..Options::default()
        },
    )
    .await
}

/// `(policy, r, t)` of the `RateLimit` field.
fn counters(reply: &Reply) -> (String, u32, u64) {
    let value = reply
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no RateLimit header: {:?}", reply.headers));
    let mut parts = value.split(';');
    let policy = parts.next().expect("policy").trim_matches('"').to_owned();
    let mut remaining = None;
    let mut reset = None;
    for parameter in parts {
        match parameter.split_once('=') {
            Some(("r", n)) => remaining = n.parse().ok(),
            Some(("t", n)) => reset = n.parse().ok(),
            _ => panic!("unexpected parameter in {value}"),
        }
    }
    (
        policy,
        remaining.expect("r parameter"),
        reset.expect("t parameter"),
    )
}

fn retry_after(reply: &Reply) -> u64 {
    reply
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", reply.headers))
}

dual_db_test! {
    async fn a_burst_past_the_principal_limit_is_refused_until_a_unit_comes_back(db) {
        // 3 requests, one back every 5 s.
        let app = spawn(db, RateLimitSettings { principal: limit(3, 15), account: limit(100, 15), address: None }).await;
        let directory = Uuid::now_v7();
        let jane = app.user_token(directory, "jane.doe@contoso.com");
        for left in [2, 1, 0] {
            let reply = app.get("/v1/me", Some(&jane)).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            assert_eq!(reply.header("ratelimit-policy"), Some("\"principal\";q=3;w=15, \"account\";q=100;w=15"));
            let (policy, remaining, reset) = counters(&reply);
            assert_eq!((policy.as_str(), remaining), ("principal", left));
            assert_eq!(reset, 5 * u64::from(3 - left));
        }
        // The fourth would enroll the company: refused, and nothing is created.
        let refused = app.post_json("/v1/accounts", &jane, &account_body()).await;
        let problem = refused.assert_problem(429, "rate_limited");
        assert!(problem["detail"].as_str().expect("detail").contains("principal"), "{problem}");
        let wait = retry_after(&refused);
        assert!((1..=5).contains(&wait), "Retry-After {wait}");
        assert_eq!(refused.header("ratelimit-policy"), Some("\"principal\";q=3;w=15, \"account\";q=100;w=15"));
        let (policy, remaining, reset) = counters(&refused);
        assert_eq!((policy.as_str(), remaining), ("principal", 0));
        assert!((wait..=15).contains(&reset), "t={reset}, Retry-After {wait}");
        // Another person of the same directory has their own budget (the account's is ample).
        let sam = app.user_token(directory, "sam.lee@contoso.com");
        let me = app.get("/v1/me", Some(&sam)).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["account"], serde_json::Value::Null, "the refused enrollment created an account");

        tokio::time::sleep(Duration::from_secs(wait)).await;
        let served = app.post_json("/v1/accounts", &jane, &account_body()).await;
        assert_eq!(served.status, 201, "{}", served.text);
        assert_eq!(counters(&served).1, 0);
        app.get("/v1/me", Some(&jane)).await.assert_problem(429, "rate_limited");
    }

    async fn the_users_of_one_account_share_its_budget(db) {
        let app = spawn(db, RateLimitSettings { principal: limit(20, 120), account: limit(8, 120), address: None }).await;
        let (directory, jane, _) = app.create_account().await;
        let (_, sam) = app.add_user(directory, &jane, "sam.lee@contoso.com", &["report_viewer"]).await;
        // Enrolling and adding Sam used 2 of the account's 8; Jane and Sam share the other 6.
        let mut served = 0;
        let mut refused = Vec::new();
        for turn in 0..10 {
            let token = if turn % 2 == 0 { &jane } else { &sam };
            let reply = app.get("/v1/account", Some(token)).await;
            if reply.status == 200 {
                assert!(refused.is_empty(), "served after a refusal: {}", reply.text);
                let (policy, remaining, _) = counters(&reply);
                assert_eq!((policy.as_str(), remaining), ("account", 5 - served));
                served += 1;
            } else {
                let problem = reply.assert_problem(429, "rate_limited");
                assert!(problem["detail"].as_str().expect("detail").contains("account"), "{problem}");
                assert_eq!(counters(&reply).0, "account");
                refused.push(turn);
            }
        }
        assert_eq!(served, 6);
        assert_eq!(refused, vec![6, 7, 8, 9], "both users are refused once the account is spent");
        // Each has used at most 1 + 5 of their own 20: the account's budget is what ran out.
        // Another account is served meanwhile.
        let (_, other, _) = app.create_account_as("ops@fabrikam.com").await;
        let reply = app.get("/v1/account", Some(&other)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(counters(&reply), ("account".to_owned(), 6, 30));
    }

    async fn every_limited_response_carries_the_headers_with_a_falling_count(db) {
        // One unit back every 72 s: nothing refills while the test runs.
        let app = spawn(db, RateLimitSettings { principal: limit(50, 3600), account: limit(500, 3600), address: limit(120, 60) }).await;
        let (_, jane, _) = app.create_account().await;
        let mut previous: Option<(u32, u64)> = None;
        for path in ["/v1/account", "/v1/me", "/v1/memberships", "/v1/no-such-route", "/v1/users/not-a-uuid"] {
            let reply = app.get(path, Some(&jane)).await;
            assert_eq!(reply.header("ratelimit-policy"), Some("\"principal\";q=50;w=3600, \"account\";q=500;w=3600"), "{path}");
            let (policy, remaining, reset) = counters(&reply);
            assert_eq!(policy, "principal", "{path}");
            if let Some((last_remaining, last_reset)) = previous {
                assert_eq!(remaining, last_remaining - 1, "{path}");
                assert_eq!(reset, last_reset + 72, "{path}");
            }
            previous = Some((remaining, reset));
        }
        // Enrolling used one: 50 - 1 - 5 left.
        assert_eq!(previous, Some((44, 6 * 72)));
        // Without a token the client's address is counted.
        let reply = app.get("/v1/account", None).await;
        reply.assert_problem(401, "missing_token");
        assert_eq!(reply.header("ratelimit-policy"), Some("\"address\";q=120;w=60"));
        assert_eq!(counters(&reply).0, "address");
        // The probes and the documents are not limited.
        for path in ["/healthz", "/readyz", "/openapi.json"] {
            let reply = app.get(path, None).await;
            assert_eq!(reply.status, 200, "{path}");
            assert!(reply.header("ratelimit").is_none() && reply.header("ratelimit-policy").is_none(), "{path}");
        }
    }

    async fn requests_without_a_valid_token_are_limited_by_address(db) {
        let app = spawn(db, RateLimitSettings { principal: limit(100, 60), account: limit(100, 60), address: limit(3, 60) }).await;
        let bad = app.get("/v1/me", Some("not-a-token")).await;
        bad.assert_problem(401, "invalid_token");
        assert_eq!(counters(&bad), ("address".to_owned(), 2, 20));
        let token_request = || {
            app.request(Method::POST, "/v1/oauth2/token").form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
                ("client_secret", "wrong"),
            ])
        };
        let wrong = app.send(token_request()).await;
        assert_eq!(wrong.status, 401, "{}", wrong.text);
        assert_eq!(counters(&wrong).1, 1);
        app.get("/v1/me", None).await.assert_problem(401, "missing_token");
        // The address is spent: the token endpoint and bad tokens are refused before any work.
        let refused = app.send(token_request()).await;
        refused.assert_problem(429, "rate_limited");
        assert!(retry_after(&refused) >= 1);
        assert_eq!(refused.header("ratelimit-policy"), Some("\"address\";q=3;w=60"));
        app.get("/v1/me", Some("not-a-token")).await.assert_problem(429, "rate_limited");
        // A valid token is counted against its principal, not the address.
        let jane = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let reply = app.get("/v1/me", Some(&jane)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(counters(&reply).1, 99);
    }
}
