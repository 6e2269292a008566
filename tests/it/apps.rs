//! Integration apps and the OAuth 2.0 client-credentials token endpoint (RFC 6749).

use crate::dual_test;
use crate::harness::TestApp;
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> crate::harness::Reply {
    app.send(app.request(Method::POST, "/v1/oauth2/token").form(form))
        .await
}

async fn app_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let reply = token_request(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    body["access_token"].as_str().expect("token").to_owned()
}

async fn register(app: &TestApp, token: &str, roles: Value) -> (String, String, String) {
    let reply = app
        .post_json(
            "/v1/apps",
            token,
            &json!({"name": "Enrollment bot", "roles": roles}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    (
        body["app"]["id"].as_str().expect("id").to_owned(),
        body["app"]["client_id"]
            .as_str()
            .expect("client id")
            .to_owned(),
        body["client_secret"].as_str().expect("secret").to_owned(),
    )
}

fn oauth_error(reply: &crate::harness::Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.json()["error"], error, "{}", reply.text);
    assert!(reply.json()["error_description"].as_str().is_some());
}

dual_test! {
    async fn an_app_gets_tokens_and_acts_with_its_roles(app) {
        let (_, owner, account) = app.create_account().await;
        let (_, client_id, secret) = register(&app, &owner, json!(["report_viewer"])).await;
        assert!(secret.len() >= 40, "{secret}");
        // The secret is shown once: listing shows only its hint.
        let list = app.get("/v1/apps", Some(&owner)).await;
        assert!(!list.text.contains(&secret));
        assert_eq!(list.json()["items"][0]["secret_hint"], secret[secret.len() - 4..]);

        let token = app_token(&app, &client_id, &secret).await;
        let read = app.get("/v1/account", Some(&token)).await;
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.json()["id"], account["id"]);
        let me = app.get("/v1/me", Some(&token)).await.json();
        assert_eq!(me["kind"], "app");
        assert_eq!(me["subject"], client_id.as_str());
        assert_eq!(me["account"]["id"], account["id"]);
        assert_eq!(me["roles"], json!(["report_viewer"]));
        assert_eq!(me["user_id"], Value::Null);
        // Its role decides what it may do; person-only routes refuse apps.
        app.post_json("/v1/users", &token, &json!({"email": "x@contoso.com", "roles": []})).await
            .assert_problem(403, "insufficient_role");
        app.get("/v1/me/access", Some(&token)).await.assert_problem(403, "principal_not_allowed");
        app.get("/v1/action-center/items", Some(&token)).await.assert_problem(403, "principal_not_allowed");

        // HTTP Basic client authentication works too.
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
        let reply = app.send(app.request(Method::POST, "/v1/oauth2/token")
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials")])).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    async fn the_token_endpoint_answers_rfc_6749_errors(app) {
        let (_, owner, _) = app.create_account().await;
        let (_, client_id, secret) = register(&app, &owner, json!([])).await;
        let wrong = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", "pcs_wrong")]).await;
        oauth_error(&wrong, 401, "invalid_client");
        assert!(wrong.header("www-authenticate").is_some());
        let unknown = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", &secret)]).await;
        oauth_error(&unknown, 401, "invalid_client");
        let grant = token_request(&app, &[("grant_type", "password"), ("client_id", &client_id), ("client_secret", &secret)]).await;
        oauth_error(&grant, 400, "unsupported_grant_type");
        let missing = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id)]).await;
        oauth_error(&missing, 400, "invalid_request");
        let repeated = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_id", &client_id), ("client_secret", &secret)]).await;
        oauth_error(&repeated, 400, "invalid_request");
        let json_body = app.send(app.request(Method::POST, "/v1/oauth2/token").json(&json!({"grant_type": "client_credentials"}))).await;
        oauth_error(&json_body, 400, "invalid_request");
        let no_grant = token_request(&app, &[("client_id", &client_id), ("client_secret", &secret)]).await;
        oauth_error(&no_grant, 400, "invalid_request");
    }

    async fn rotation_retires_the_old_secret_and_deletion_stops_tokens(app) {
        let (_, owner, _) = app.create_account().await;
        let (id, client_id, old_secret) = register(&app, &owner, json!(["account_admin"])).await;
        let token = app_token(&app, &client_id, &old_secret).await;
        let rotated = app.post_json(&format!("/v1/apps/{id}/secret"), &owner, &json!({})).await;
        assert_eq!(rotated.status, 200, "{}", rotated.text);
        let new_secret = rotated.json()["client_secret"].as_str().expect("secret").to_owned();
        assert_ne!(new_secret, old_secret);
        let old = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &old_secret)]).await;
        oauth_error(&old, 401, "invalid_client");
        let fresh = app_token(&app, &client_id, &new_secret).await;
        assert_eq!(app.get("/v1/account", Some(&token)).await.status, 200);

        let deleted = app.delete(&format!("/v1/apps/{id}"), &owner, None).await;
        assert_eq!(deleted.status, 204, "{}", deleted.text);
        // Tokens already issued stop working at once, and no new ones are issued.
        app.get("/v1/account", Some(&fresh)).await.assert_problem(401, "invalid_token");
        app.get("/v1/account", Some(&token)).await.assert_problem(401, "invalid_token");
        app.get("/v1/me", Some(&fresh)).await.assert_problem(401, "invalid_token");
        let after = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &new_secret)]).await;
        oauth_error(&after, 401, "invalid_client");
        app.delete(&format!("/v1/apps/{id}"), &owner, None).await.assert_problem(404, "not_found");
    }

    async fn secrets_are_stored_only_as_password_hashes(app) {
        let (_, owner, _) = app.create_account().await;
        let (_, client_id, secret) = register(&app, &owner, json!([])).await;
        let pool = persistence::DbPool::build(&app.db.database_url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        use diesel::prelude::*;
        use persistence::schema::apps;
        let hash: String = apps::table
            .filter(apps::client_id.eq(&client_id))
            .select(apps::secret_hash)
            .first(&mut *conn)
            .expect("stored app");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(&secret[4..]));
    }

    async fn only_app_managers_register_apps_and_within_their_grants(app) {
        let (directory, owner, _) = app.create_account().await;
        let (_, uma) = app.add_user(directory, &owner, "uma@contoso.com", &["user_management_admin"]).await;
        app.post_json("/v1/apps", &uma, &json!({"name": "bot", "roles": []})).await.assert_problem(403, "insufficient_role");
        let (_, aa) = app.add_user(directory, &owner, "aa@contoso.com", &["account_admin"]).await;
        app.post_json("/v1/apps", &aa, &json!({"name": "bot", "roles": ["global_admin"]})).await.assert_problem(403, "role_not_grantable");
        app.post_json("/v1/apps", &aa, &json!({"name": "", "roles": []})).await.assert_problem(400, "validation_failed");
    }
}

dual_test! {
    async fn a_replayed_registration_does_not_repeat_the_secret(app) {
        let (_, owner, _) = app.create_account().await;
        let send = || app.send(app.request(Method::POST, "/v1/apps").bearer_auth(&owner)
            .header("idempotency-key", "register-bot-1")
            .json(&json!({"name": "bot", "roles": []})));
        let first = send().await;
        assert_eq!(first.status, 201, "{}", first.text);
        let secret = first.json()["client_secret"].as_str().expect("secret").to_owned();
        let replay = send().await;
        assert_eq!(replay.status, 201, "{}", replay.text);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.json()["app"], first.json()["app"]);
        assert_eq!(replay.json()["client_secret"], Value::Null);
        // Nothing stored holds the secret.
        let pool = persistence::DbPool::build(&app.db.database_url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        use diesel::prelude::*;
        use persistence::schema::idempotency_keys;
        let bodies: Vec<Option<String>> = idempotency_keys::table
            .select(idempotency_keys::response_body)
            .load(&mut *conn)
            .expect("stored responses");
        assert_eq!(bodies.len(), 1);
        assert!(bodies.iter().flatten().all(|body| !body.contains(&secret)));
    }
}

dual_test! {
    async fn a_manager_cannot_rotate_or_delete_an_app_stronger_than_they_may_grant(app) {
        let (directory, owner, _) = app.create_account().await;
        let (_, aa) = app.add_user(directory, &owner, "aa@contoso.com", &["account_admin"]).await;
        let (strong, _, _) = register(&app, &owner, json!(["global_admin"])).await;
        // A new secret would hand the account admin the app's global admin role.
        app.post_json(&format!("/v1/apps/{strong}/secret"), &aa, &json!({})).await
            .assert_problem(403, "role_not_grantable");
        app.delete(&format!("/v1/apps/{strong}"), &aa, None).await
            .assert_problem(403, "role_not_grantable");
        let (weak, _, _) = register(&app, &owner, json!(["report_viewer"])).await;
        let rotated = app.post_json(&format!("/v1/apps/{weak}/secret"), &aa, &json!({})).await;
        assert_eq!(rotated.status, 200, "{}", rotated.text);
        assert_eq!(app.delete(&format!("/v1/apps/{weak}"), &aa, None).await.status, 204);
        let list = app.get("/v1/apps", Some(&owner)).await.json();
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    }
}
