//! Bearer-token validation (DESIGN §3): the forged-token table, external issuer keys, and no
//! side effect from a refused request.

use crate::dual_db_test;
use crate::harness::{
    AUDIENCE, Db, EXTERNAL_ISSUER, ISSUER, Options, TEST_SECRET, TestApp, account_body, fixture,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(directory: Uuid) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "jane.doe@contoso.com",
        "kind": "user",
        "tid": directory.to_string(),
        "iat": now(),
        "exp": now() + 600,
    })
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("signed")
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture key")
}

fn rs256(claims: &Value, kid: &str, key_file: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(&pem(key_file)).expect("rsa key"),
    )
    .expect("signed")
}

fn es256(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ec_pem(&pem("test-only-ec.pem")).expect("ec key"),
    )
    .expect("signed")
}

fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A JWKS trusting the RSA fixture as `rsa-1` and the EC fixture as `ec-1`.
fn write_jwks(dir: &std::path::Path) -> std::path::PathBuf {
    let mut rsa = Jwk::from_encoding_key(
        &EncodingKey::from_rsa_pem(&pem("test-only-rsa.pem")).expect("rsa key"),
        Algorithm::RS256,
    )
    .expect("rsa jwk");
    rsa.common.key_id = Some("rsa-1".into());
    let mut ec = Jwk::from_encoding_key(
        &EncodingKey::from_ec_pem(&pem("test-only-ec.pem")).expect("ec key"),
        Algorithm::ES256,
    )
    .expect("ec jwk");
    ec.common.key_id = Some("ec-1".into());
    let path = dir.join("jwks.json");
    std::fs::write(
        &path,
        serde_json::to_string(&JwkSet {
            keys: vec![rsa, ec],
        })
        .expect("json"),
    )
    .expect("jwks written");
    path
}

async fn spawn_with_jwks(db: Db) -> (TestApp, tempfile::TempDir) {
    let keys = tempfile::tempdir().expect("tempdir");
    let jwks = write_jwks(keys.path());
    let app = TestApp::spawn_with(
        db,
        Options {
            migrate: true,
            jwks_file: Some(jwks),
            ..Options::default()
        },
    )
    .await;
    (app, keys)
}

/// The forged tokens: each must be refused with 401 `invalid_token`.
fn forgeries(directory: Uuid) -> Vec<(&'static str, String)> {
    let valid = claims(directory);
    let with = |key: &str, value: Value| {
        let mut c = valid.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = valid.clone();
        c.as_object_mut().expect("object").remove(key);
        c
    };
    let external = |c: &Value| {
        let mut c = c.clone();
        c["iss"] = json!(EXTERNAL_ISSUER);
        c
    };
    let genuine = hs256(&valid, TEST_SECRET.as_bytes());
    let parts: Vec<&str> = genuine.split('.').collect();
    let public_key = pem("test-only-rsa.pub.pem");
    let mut hs_with_kid = Header::new(Algorithm::HS256);
    hs_with_kid.kid = Some("rsa-1".into());

    vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                segment(&json!({"alg": "none", "typ": "JWT"})),
                segment(&valid)
            ),
        ),
        (
            "alg none with a kid",
            format!(
                "{}.{}.",
                segment(&json!({"alg": "none", "kid": "rsa-1"})),
                segment(&valid)
            ),
        ),
        (
            "HS256 signed with the public key",
            hs256(&external(&valid), &public_key),
        ),
        (
            "HS256 signed with the public key, naming its kid",
            jsonwebtoken::encode(
                &hs_with_kid,
                &external(&valid),
                &EncodingKey::from_secret(&public_key),
            )
            .expect("signed"),
        ),
        (
            "expired beyond the leeway",
            hs256(&with("exp", json!(now() - 31)), TEST_SECRET.as_bytes()),
        ),
        (
            "not valid before a future nbf",
            hs256(&with("nbf", json!(now() + 120)), TEST_SECRET.as_bytes()),
        ),
        (
            "wrong iss",
            hs256(&with("iss", json!("someone-else")), TEST_SECRET.as_bytes()),
        ),
        (
            "wrong aud",
            hs256(&with("aud", json!("another-api")), TEST_SECRET.as_bytes()),
        ),
        (
            "missing exp",
            hs256(&without("exp"), TEST_SECRET.as_bytes()),
        ),
        (
            "missing iss",
            hs256(&without("iss"), TEST_SECRET.as_bytes()),
        ),
        (
            "missing aud",
            hs256(&without("aud"), TEST_SECRET.as_bytes()),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                segment(&with("sub", json!("mallory@contoso.com"))),
                parts[2]
            ),
        ),
        (
            "signed with another secret",
            hs256(&valid, b"another-secret-that-is-long-enough-32b"),
        ),
        (
            "unknown kid",
            rs256(&external(&valid), "rsa-9", "test-only-rsa-untrusted.pem"),
        ),
        (
            "trusted kid, untrusted key",
            rs256(&external(&valid), "rsa-1", "test-only-rsa-untrusted.pem"),
        ),
        (
            "external key with the embedded issuer",
            rs256(&valid, "rsa-1", "test-only-rsa.pem"),
        ),
        (
            "unknown kind",
            hs256(&with("kind", json!("admin")), TEST_SECRET.as_bytes()),
        ),
        (
            "an operator token from the external issuer",
            rs256(
                &external(&with("kind", json!("operator"))),
                "rsa-1",
                "test-only-rsa.pem",
            ),
        ),
        (
            "user without a directory",
            hs256(&without("tid"), TEST_SECRET.as_bytes()),
        ),
        ("not a JWT", "not.a.jwt".to_owned()),
    ]
}

dual_db_test! {
    async fn forged_tokens_are_401_and_change_nothing(db) {
        let (app, _keys) = spawn_with_jwks(db).await;
        let directory = Uuid::now_v7();
        for (forgery, token) in forgeries(directory) {
            let me = app.get("/v1/me", Some(&token)).await;
            me.assert_problem(401, "invalid_token");
            assert!(
                me.header("www-authenticate").is_some_and(|h| h.contains("invalid_token")),
                "{forgery}"
            );
            let enroll = app.post_json("/v1/accounts", &token, &account_body()).await;
            assert_eq!(enroll.status, 401, "{forgery}: {}", enroll.text);
        }
        // Nothing was created by any of them.
        let genuine = app.user_token(directory, "jane.doe@contoso.com");
        app.get("/v1/account", Some(&genuine)).await.assert_problem(404, "account_not_found");
        let list = app.get("/v1/operator/accounts", Some(&app.operator_token())).await.json();
        assert_eq!(list["items"], json!([]));
    }

    async fn tokens_inside_the_leeway_are_accepted(db) {
        let app = TestApp::spawn(db).await;
        let mut c = claims(Uuid::now_v7());
        c["exp"] = json!(now() - 20);
        assert_eq!(app.get("/v1/me", Some(&hs256(&c, TEST_SECRET.as_bytes()))).await.status, 200);
        c["exp"] = json!(now() + 600);
        c["nbf"] = json!(now() + 20);
        assert_eq!(app.get("/v1/me", Some(&hs256(&c, TEST_SECRET.as_bytes()))).await.status, 200);
    }

    async fn the_external_issuers_keys_are_trusted_by_kid(db) {
        let (app, _keys) = spawn_with_jwks(db).await;
        let directory = Uuid::now_v7();
        let mut c = claims(directory);
        c["iss"] = json!(EXTERNAL_ISSUER);
        let rsa = rs256(&c, "rsa-1", "test-only-rsa.pem");
        let me = app.get("/v1/me", Some(&rsa)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.json()["directory_id"], directory.to_string());
        let ec = es256(&c, "ec-1");
        assert_eq!(app.get("/v1/me", Some(&ec)).await.status, 200);
        // A key is bound to its algorithm: the EC key's kid on an RSA signature fails.
        let crossed = rs256(&c, "ec-1", "test-only-rsa.pem");
        app.get("/v1/me", Some(&crossed)).await.assert_problem(401, "invalid_token");
        // Embedded tokens keep working beside the external issuer.
        assert_eq!(app.get("/v1/me", Some(&app.user_token(directory, "jane.doe@contoso.com"))).await.status, 200);
        // And an external token enrolls like any other.
        assert_eq!(app.post_json("/v1/accounts", &rsa, &account_body()).await.status, 201);
    }

    async fn a_missing_or_malformed_authorization_header_is_401(db) {
        let app = TestApp::spawn(db).await;
        let none = app.get("/v1/me", None).await;
        none.assert_problem(401, "missing_token");
        assert_eq!(none.header("www-authenticate"), Some(r#"Bearer realm="partner-center""#));
        for header in ["Basic amFuZTpzZWNyZXQ=", "Bearer", "Bearer  ", "token-without-scheme"] {
            let reply = app.send(
app.request(reqwest::Method::GET, "/v1/me")
                    .header("authorization", header),
).await;
            reply.assert_problem(401, "invalid_token");
        }
        // Scheme names are case-insensitive (RFC 7235).
        let token = app.operator_token();
        let reply = app.send(
app.request(reqwest::Method::GET, "/v1/me")
                .header("authorization", format!("bearer {token}")),
).await;
        assert_eq!(reply.status, 200);
    }
}
