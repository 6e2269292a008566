//! Accounts (DESIGN §4): enrollment, the work-email rule, membership and tenant isolation.

use crate::dual_test;
use crate::harness::account_body;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

dual_test! {
    async fn enrollment_creates_the_account_and_makes_the_caller_owner(app) {
        let directory = Uuid::now_v7();
        let token = app.user_token(directory, "Jane.Doe@Contoso.com");
        let reply = app.post_json("/v1/accounts", &token, &account_body()).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.header("location"), Some("/v1/account"));
        let etag = reply.header("etag").expect("etag").to_owned();
        let created = reply.json();
        assert_eq!(created["directory_id"], directory.to_string());
        assert_eq!(created["legal_name"], "Contoso Ltd.");
        assert_eq!(created["country"], "US");
        assert_eq!(created["verification"]["status"], "pending");
        assert_eq!(created["primary_contact"]["email"], "jane.doe@contoso.com");
        assert_eq!(created["address"]["line2"], serde_json::Value::Null);
        let partner_id = created["partner_id"].as_str().expect("partner id");
        assert!(partner_id.len() == 7 && partner_id.bytes().all(|b| b.is_ascii_digit()), "{partner_id}");

        let read = app.get("/v1/account", Some(&token)).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.header("etag"), Some(etag.as_str()));
        assert_eq!(read.json(), created);

        let me = app.get("/v1/me", Some(&token)).await.json();
        assert_eq!(me["kind"], "user");
        assert_eq!(me["subject"], "Jane.Doe@contoso.com");
        assert_eq!(me["directory_id"], directory.to_string());
        assert_eq!(me["account"]["id"], created["id"]);
        assert_eq!(me["account"]["partner_id"], partner_id);
        assert_eq!(me["roles"], json!(["global_admin"]));
        assert_eq!(me["is_owner"], true);
        assert!(me["user_id"].as_str().is_some_and(|id| Uuid::parse_str(id).is_ok()));
    }

    async fn a_directory_gets_one_account(app) {
        let (directory, _, _) = app.create_account().await;
        // Another person of the same directory cannot enroll it again.
        let colleague = app.user_token(directory, "sam.lee@contoso.com");
        let reply = app.post_json("/v1/accounts", &colleague, &account_body()).await;
        reply.assert_problem(409, "account_exists");
        // Another directory can.
        let (other, _, _) = app.create_account().await;
        assert_ne!(directory, other);
    }

    async fn the_primary_contact_must_be_a_work_address(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        for (email, code) in [
            ("jane@gmail.com", "free_mail_domain"),
            ("jane@outlook.com", "free_mail_domain"),
            ("jane@hotmail.co.uk", "free_mail_domain"),
            ("jane@live.com", "free_mail_domain"),
            ("jane@yahoo.com", "free_mail_domain"),
            ("info@contoso.com", "role_mailbox"),
            ("Admin@contoso.com", "role_mailbox"),
            ("email@contoso.com", "role_mailbox"),
            ("marketing@contoso.com", "role_mailbox"),
            ("not-an-address", "invalid_email"),
        ] {
            let mut body = account_body();
            body["primary_contact"]["email"] = json!(email);
            let reply = app.post_json("/v1/accounts", &token, &body).await;
            reply.assert_problem(400, "validation_failed");
            assert_eq!(
                reply.field_errors(),
                vec![("primary_contact.email".to_owned(), code.to_owned())],
                "{email}"
            );
        }
        // Near misses are work addresses.
        let mut body = account_body();
        body["primary_contact"]["email"] = json!("information@contoso.com");
        assert_eq!(app.post_json("/v1/accounts", &token, &body).await.status, 201);
    }

    async fn every_invalid_field_is_reported_at_once_and_nothing_is_created(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let body = json!({
            "legal_name": "  ",
            "address": {"line1": "1 Way", "city": "東京", "postal_code": "98052#"},
            "country": "XX",
            "website": "contoso",
            "primary_contact": {
                "first_name": "Jane",
                "last_name": "x".repeat(101),
                "email": "jane@gmail.com",
                "phone": "12"
            }
        });
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(
            reply.field_errors(),
            [
                ("address.city", "unsupported_characters"),
                ("address.postal_code", "invalid_postal_code"),
                ("country", "unknown_country"),
                ("legal_name", "required"),
                ("primary_contact.email", "free_mail_domain"),
                ("primary_contact.last_name", "too_long"),
                ("primary_contact.phone", "invalid_phone"),
                ("website", "invalid_url"),
            ]
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect::<Vec<_>>()
        );
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn length_limits_hold_at_their_boundaries(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let mut body = account_body();
        body["legal_name"] = json!("x".repeat(201));
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        assert_eq!(reply.field_errors(), vec![("legal_name".to_owned(), "too_long".to_owned())]);
        body["legal_name"] = json!("x".repeat(200));
        assert_eq!(app.post_json("/v1/accounts", &token, &body).await.status, 201);
    }

    async fn a_conditional_get_answers_304_while_unchanged(app) {
        let (_, token, _) = app.create_account().await;
        let first = app.get("/v1/account", Some(&token)).await;
        let etag = first.header("etag").expect("etag").to_owned();
        let again = app.send(
app.request(Method::GET, "/v1/account")
                .bearer_auth(&token)
                .header("if-none-match", etag.as_str()),
).await;
        assert_eq!(again.status, 304);
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert!(again.text.is_empty());
        assert_eq!(first.header("cache-control"), Some("private, no-cache"));
        assert_eq!(first.header("vary"), Some("Authorization"));
        // Another account at the same URL never matches this account's tag.
        let (_, other, _) = app.create_account().await;
        let elsewhere = app
            .send(app.request(Method::GET, "/v1/account").bearer_auth(&other).header("if-none-match", etag.as_str()))
            .await;
        assert_eq!(elsewhere.status, 200);
        assert_ne!(elsewhere.header("etag"), Some(etag.as_str()));
    }

    // The answer to `GET /v1/account` is kept between requests (SQLite); any write retires it,
    // whichever route made it: an operator's decision, a colleague's removal.
    async fn a_kept_account_answer_gives_way_to_the_next_write(app) {
        let (directory, owner, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id");
        let (user_id, colleague) = app.add_user(directory, &owner, "kim.ito@contoso.com", &["report_viewer"]).await;
        let first = app.get("/v1/account", Some(&colleague)).await;
        let again = app.get("/v1/account", Some(&colleague)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(first.text, again.text);
        assert_eq!(first.header("etag"), again.header("etag"));
        assert_eq!(again.json()["verification"]["status"], "pending");

        let decided = app.decide(id, "action_required", Some("Need a document.")).await;
        assert_eq!(decided.status, 200, "{}", decided.text);
        let after = app.get("/v1/account", Some(&colleague)).await;
        assert_eq!(after.json()["verification"]["status"], "action_required");
        assert_ne!(after.header("etag"), first.header("etag"));

        let user = app.get(&format!("/v1/users/{user_id}"), Some(&owner)).await;
        let tag = user.header("etag").expect("etag").to_owned();
        let removed = app.delete(&format!("/v1/users/{user_id}"), &owner, Some(&tag)).await;
        assert_eq!(removed.status, 204, "{}", removed.text);
        app.get("/v1/account", Some(&colleague)).await.assert_problem(403, "not_a_member");
    }

    async fn who_may_read_the_account(app) {
        let (directory, _, _) = app.create_account().await;
        // In the directory but not a user of the account.
        let outsider = app.user_token(directory, "sam.lee@contoso.com");
        app.get("/v1/account", Some(&outsider)).await.assert_problem(403, "not_a_member");
        let me = app.get("/v1/me", Some(&outsider)).await.json();
        assert_eq!(me["account"], serde_json::Value::Null);
        assert_eq!(me["roles"], json!([]));
        // A directory without an account.
        let newcomer = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        app.get("/v1/account", Some(&newcomer)).await.assert_problem(404, "account_not_found");
        // Operators use operator routes.
        let operator = app.operator_token();
        app.get("/v1/account", Some(&operator)).await.assert_problem(403, "principal_not_allowed");
        app.post_json("/v1/accounts", &operator, &account_body())
            .await
            .assert_problem(403, "principal_not_allowed");
        let me = app.get("/v1/me", Some(&operator)).await.json();
        assert_eq!(me["kind"], "operator");
        assert_eq!(me["directory_id"], serde_json::Value::Null);
    }

    async fn partners_never_reach_operator_routes(app) {
        let (_, token, account) = app.create_account().await;
        app.get("/v1/operator/accounts", Some(&token)).await.assert_problem(403, "operator_only");
        let id = account["id"].as_str().expect("id");
        app.get(&format!("/v1/operator/accounts/{id}"), Some(&token))
            .await
            .assert_problem(403, "operator_only");
    }

    async fn each_caller_sees_only_their_own_account(app) {
        let (_, token_a, account_a) = app.create_account().await;
        let (_, token_b, account_b) = app.create_account().await;
        assert_ne!(account_a["id"], account_b["id"]);
        assert_ne!(account_a["partner_id"], account_b["partner_id"]);
        assert_eq!(app.get("/v1/account", Some(&token_a)).await.json()["id"], account_a["id"]);
        assert_eq!(app.get("/v1/account", Some(&token_b)).await.json()["id"], account_b["id"]);
        // The same email in another directory is another person's membership.
        let me_b = app.get("/v1/me", Some(&token_b)).await.json();
        assert_eq!(me_b["account"]["id"], account_b["id"]);
    }

    async fn operators_read_any_account_by_id(app) {
        let (_, _, account) = app.create_account().await;
        let operator = app.operator_token();
        let id = account["id"].as_str().expect("id");
        let read = app.get(&format!("/v1/operator/accounts/{id}"), Some(&operator)).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.json(), account);
        let missing = app
            .get(&format!("/v1/operator/accounts/{}", Uuid::now_v7()), Some(&operator))
            .await;
        missing.assert_problem(404, "not_found");
    }
}
