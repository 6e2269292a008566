//! `Idempotency-Key` (DESIGN §2): replay, body mismatch, in-flight, scope, retention.

use crate::harness::{TestApp, TestDb, account_body};
use crate::{dual_db_test, dual_test};
use chrono::{Duration, Utc};
use persistence::DbPool;
use persistence::repos::idempotency::{
    self, Claim, ClaimLost, KeyTimes, ScopedKey, StoredResponse,
};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn post_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: &Value,
) -> crate::harness::Reply {
    app.send(
        app.request(Method::POST, "/v1/accounts")
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

async fn accounts_in(app: &TestApp) -> Vec<Value> {
    let list = app
        .get(
            "/v1/operator/accounts?limit=200",
            Some(&app.operator_token()),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.json()["items"].as_array().cloned().unwrap_or_default()
}

dual_test! {
    async fn a_retry_replays_the_first_response(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let first = post_with_key(&app, &token, "enroll-1", &account_body()).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(first.header("idempotent-replayed"), None);

        let retry = post_with_key(&app, &token, "enroll-1", &account_body()).await;
        assert_eq!(retry.status, 201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.text, first.text);
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.header("etag"), first.header("etag"));
        assert_ne!(retry.header("x-request-id"), first.header("x-request-id"));
        assert_eq!(accounts_in(&app).await.len(), 1);

        // Without the key, the same request is a new attempt and meets the rule.
        app.post_json("/v1/accounts", &token, &account_body()).await.assert_problem(409, "account_exists");
    }

    async fn the_same_json_written_differently_is_the_same_request(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let compact = account_body().to_string();
        let pretty = serde_json::to_string_pretty(&account_body()).expect("json");
        let send = |body: String| {
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .header("idempotency-key", "k")
                .header("content-type", "application/json")
                .body(body)
        };
        let first = app.send(send(compact)).await;
        assert_eq!(first.status, 201);
        let second = app.send(send(pretty)).await;
        assert_eq!(second.status, 201);
        assert_eq!(second.header("idempotent-replayed"), Some("true"));
    }

    async fn the_same_key_with_another_body_is_422(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        assert_eq!(post_with_key(&app, &token, "k-1", &account_body()).await.status, 201);
        let mut other = account_body();
        other["legal_name"] = json!("Fabrikam Inc.");
        post_with_key(&app, &token, "k-1", &other).await.assert_problem(422, "idempotency_key_reused");
        assert_eq!(accounts_in(&app).await.len(), 1);
    }

    async fn refusals_are_replayed_too(app) {
        let (directory, _, _) = app.create_account().await;
        let colleague = app.user_token(directory, "sam.lee@contoso.com");
        let first = post_with_key(&app, &colleague, "k", &account_body()).await;
        first.assert_problem(409, "account_exists");
        let retry = post_with_key(&app, &colleague, "k", &account_body()).await;
        // A problem like any other: its request_id is the replaying request's.
        let replayed = retry.assert_problem(409, "account_exists");
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(replayed["detail"], first.json()["detail"]);
        assert_ne!(replayed["request_id"], first.json()["request_id"]);
    }

    async fn keys_are_scoped_to_the_principal_within_a_directory(app) {
        // Jane enrolls with key "k"; Sam, in the same directory, sends the same key and body.
        let directory = Uuid::now_v7();
        let jane = app.user_token(directory, "jane.doe@contoso.com");
        let sam = app.user_token(directory, "sam.lee@contoso.com");
        assert_eq!(post_with_key(&app, &jane, "k", &account_body()).await.status, 201);
        // Not Jane's stored 201: Sam's own request, refused by the one-account rule.
        let reply = post_with_key(&app, &sam, "k", &account_body()).await;
        reply.assert_problem(409, "account_exists");
        assert_eq!(reply.header("idempotent-replayed"), None);
    }

    async fn a_validation_failure_does_not_use_up_the_key(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let mut invalid = account_body();
        invalid["primary_contact"]["email"] = json!("info@contoso.com");
        post_with_key(&app, &token, "k", &invalid).await.assert_problem(400, "validation_failed");
        let corrected = post_with_key(&app, &token, "k", &account_body()).await;
        assert_eq!(corrected.status, 201, "{}", corrected.text);
        assert_eq!(corrected.header("idempotent-replayed"), None);
    }

    async fn keys_are_scoped_to_the_caller(app) {
        // Two directories using the same key value do not collide.
        let a = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let b = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let first = post_with_key(&app, &a, "shared-key", &account_body()).await;
        let second = post_with_key(&app, &b, "shared-key", &account_body()).await;
        assert_eq!(first.status, 201);
        assert_eq!(second.status, 201);
        assert_eq!(second.header("idempotent-replayed"), None);
        assert_ne!(first.json()["id"], second.json()["id"]);
        assert_eq!(accounts_in(&app).await.len(), 2);
    }

    async fn malformed_keys_are_400(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        for key in ["".to_owned(), "k".repeat(256), "   ".to_owned()] {
            post_with_key(&app, &token, &key, &account_body())
                .await
                .assert_problem(400, "invalid_idempotency_key");
        }
        assert_eq!(post_with_key(&app, &token, &"k".repeat(255), &account_body()).await.status, 201);
    }

    async fn fifty_parallel_requests_with_one_key_create_one_account(app) {
        let directory = Uuid::now_v7();
        let token = app.user_token(directory, "jane.doe@contoso.com");
        let body = account_body();
        let attempts = (0..50).map(|_| post_with_key(&app, &token, "burst", &body));
        let replies = futures_util::future::join_all(attempts).await;
        let mut created = 0;
        let mut replayed = 0;
        let mut in_use = 0;
        let mut ids = std::collections::HashSet::new();
        for reply in &replies {
            match (reply.status.as_u16(), reply.header("idempotent-replayed")) {
                (201, None) => {
                    created += 1;
                    ids.insert(reply.json()["id"].clone());
                }
                (201, Some("true")) => {
                    replayed += 1;
                    ids.insert(reply.json()["id"].clone());
                }
                (409, _) => {
                    reply.assert_problem(409, "idempotency_key_in_use");
                    assert_eq!(reply.header("retry-after"), Some("1"));
                    in_use += 1;
                }
                other => panic!("unexpected {other:?}: {}", reply.text),
            }
        }
        assert_eq!(created, 1, "replayed {replayed}, in use {in_use}");
        assert_eq!(created + replayed + in_use, 50);
        assert_eq!(ids.len(), 1);
        let accounts = accounts_in(&app).await;
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0]["directory_id"], directory.to_string());
    }
}

fn key(name: &str) -> ScopedKey {
    ScopedKey {
        scope: "directory:test".into(),
        principal: "user:jane@contoso.com".into(),
        key: name.into(),
    }
}

const TIMES: KeyTimes = api::extract::idempotency::KEY_TIMES;

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{}".into(),
    }
}

fn pool(db: &TestDb) -> DbPool {
    persistence::migrate::run_pending(&db.database_url()).expect("migrated");
    DbPool::build(&db.database_url(), 2).expect("pool")
}

dual_db_test! {
    async fn responses_are_kept_for_24_hours_then_the_key_is_free(db) {
        let db = TestDb::create(db);
        let pool = pool(&db);
        let mut conn = pool.get().expect("connection");
        let t0 = Utc::now();
        let Claim::Acquired(token) = idempotency::claim(&mut conn, &key("k"), "h", t0, TIMES).expect("claim") else {
            panic!("first claim acquires");
        };
        assert_eq!(idempotency::complete(&mut conn, &key("k"), &token, &response()).expect("complete"), Ok(()));
        let just_before = t0 + Duration::hours(24) - Duration::microseconds(1);
        assert_eq!(
            idempotency::claim(&mut conn, &key("k"), "h", just_before, TIMES).expect("claim"),
            Claim::Replay(response())
        );
        assert_eq!(
            idempotency::claim(&mut conn, &key("k"), "other", just_before, TIMES).expect("claim"),
            Claim::BodyMismatch
        );
        let at_expiry = t0 + Duration::hours(24);
        assert!(matches!(
            idempotency::claim(&mut conn, &key("k"), "other", at_expiry, TIMES).expect("claim"),
            Claim::Acquired(_)
        ));
        // Purging removes only what is past retention.
        let mut conn = pool.get().expect("connection");
        assert!(matches!(idempotency::claim(&mut conn, &key("fresh"), "h", at_expiry, TIMES).expect("claim"), Claim::Acquired(_)));
        assert_eq!(idempotency::purge_expired(&mut conn, at_expiry + Duration::hours(23)).expect("purge"), 0);
        assert_eq!(idempotency::purge_expired(&mut conn, at_expiry + Duration::hours(24)).expect("purge"), 2);
    }

    async fn a_dead_claim_is_taken_over_after_its_lease_and_loses_its_completion(db) {
        let db = TestDb::create(db);
        let pool = pool(&db);
        let mut conn = pool.get().expect("connection");
        let t0 = Utc::now();
        let Claim::Acquired(first) = idempotency::claim(&mut conn, &key("k"), "h", t0, TIMES).expect("claim") else {
            panic!("first claim acquires");
        };
        let within = t0 + TIMES.lease - Duration::microseconds(1);
        assert_eq!(idempotency::claim(&mut conn, &key("k"), "h", within, TIMES).expect("claim"), Claim::InFlight);
        let Claim::Acquired(second) = idempotency::claim(&mut conn, &key("k"), "h", t0 + TIMES.lease, TIMES).expect("claim") else {
            panic!("the lease expired: a retry takes the key over");
        };
        // The first request, if it was only slow, can no longer complete: its work rolls back.
        assert_eq!(idempotency::complete(&mut conn, &key("k"), &first, &response()).expect("complete"), Err(ClaimLost));
        assert_eq!(idempotency::complete(&mut conn, &key("k"), &second, &response()).expect("complete"), Ok(()));
    }
}
