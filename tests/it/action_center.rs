//! Action Center (DESIGN §8): items raised by events, per-person archiving, preferences with
//! a verified contact email, and the mail that items send (file drop and SMTP).

use crate::dual_db_test;
use crate::dual_test;
use crate::harness::{Options, TestApp, account_body, verification_code};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn items(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/v1/action-center/items{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"].as_array().expect("items").clone()
}

fn events(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|item| item["event"].as_str())
        .collect()
}

async fn set_preferences(app: &TestApp, token: &str, body: Value) -> crate::harness::Reply {
    let current = app.get("/v1/action-center/preferences", Some(token)).await;
    let etag = current.header("etag").expect("etag").to_owned();
    app.put_json("/v1/action-center/preferences", token, &etag, &body)
        .await
}

/// Sets and verifies `address` as the caller's contact email.
async fn verify_contact(app: &TestApp, token: &str, address: &str) {
    let set = set_preferences(
        app,
        token,
        json!({"contact_email": address, "language": "en", "email_opt_outs": []}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let code = app.code_sent_to(address, &[]).await;
    let verified = app
        .post_json(
            "/v1/action-center/preferences/contact-email/verify",
            token,
            &json!({"code": code}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
}

dual_test! {
    async fn verification_raises_a_mandatory_action_that_cannot_be_archived(app) {
        let (directory, owner, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id");
        let (_, viewer) = app.add_user(directory, &owner, "viewer@contoso.com", &["report_viewer"]).await;
        app.decide(id, "action_required", Some("Blurry scan.")).await;
        let actions = items(&app, &owner, "?kind=action").await;
        assert_eq!(events(&actions), vec!["verification.action_required"]);
        let action = &actions[0];
        assert_eq!(action["priority"], "mandatory");
        assert_eq!(action["workspace"], "account_settings");
        assert_eq!(action["status"], "active");
        assert!(action["message"].as_str().unwrap_or_default().contains("Blurry scan."));
        let created = chrono::DateTime::parse_from_rfc3339(action["created_at"].as_str().expect("at")).expect("time");
        let due = chrono::DateTime::parse_from_rfc3339(action["due_at"].as_str().expect("due")).expect("time");
        assert_eq!(due - created, chrono::Duration::days(14));
        let item_id = action["id"].as_str().expect("id");
        let archive = format!("/v1/action-center/items/{item_id}/archive");
        app.post_json(&archive, &owner, &json!({})).await.assert_problem(409, "mandatory_action");
        // A role without Account settings does not see it at all.
        assert!(items(&app, &viewer, "?kind=action").await.is_empty());
        app.post_json(&archive, &viewer, &json!({})).await.assert_problem(404, "not_found");

        // Evidence completes the action and raises a notification.
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4\n".to_vec()).file_name("a.pdf"));
        let uploaded = app.send(app.request(Method::POST, "/v1/account/verification/evidence").bearer_auth(&owner).multipart(form)).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.text);
        let completed = items(&app, &owner, "?status=completed").await;
        assert_eq!(events(&completed), vec!["verification.action_required"]);
        assert!(completed[0]["completed_at"].is_string());
        assert!(items(&app, &owner, "?kind=action&status=active").await.is_empty());
        let notes = items(&app, &owner, "?kind=notification").await;
        assert_eq!(events(&notes)[0], "verification.pending");
        assert!(items(&app, &owner, "?priority=recommended").await.is_empty());
        assert_eq!(items(&app, &owner, "?priority=mandatory").await.len(), 1);
    }

    async fn notifications_are_archived_per_person(app) {
        let (directory, owner, _) = app.create_account().await;
        let (sam_id, sam) = app.add_user(directory, &owner, "sam@contoso.com", &["report_viewer"]).await;
        let mine = items(&app, &sam, "").await;
        assert_eq!(events(&mine), vec!["user.added"]);
        assert_eq!(mine[0]["personal"], true);
        assert_eq!(mine[0]["target_id"], sam_id.as_str());
        assert!(mine[0]["message"].as_str().unwrap_or_default().contains("report_viewer"));
        // Personal: the owner does not see Sam's item.
        assert!(!events(&items(&app, &owner, "").await).contains(&"user.added"));

        let id = mine[0]["id"].as_str().expect("id");
        let archived = app.post_json(&format!("/v1/action-center/items/{id}/archive"), &sam, &json!({})).await;
        assert_eq!(archived.status, 200, "{}", archived.text);
        assert_eq!(archived.json()["status"], "archived");
        let again = app.post_json(&format!("/v1/action-center/items/{id}/archive"), &sam, &json!({})).await;
        assert_eq!(again.json()["archived_at"], archived.json()["archived_at"]);
        assert!(items(&app, &sam, "?status=active").await.is_empty());
        assert_eq!(items(&app, &sam, "?status=archived").await.len(), 1);
        app.get("/v1/action-center/items?status=done", Some(&sam)).await.assert_problem(400, "invalid_query_parameter");

        // Workspace items: one admin archiving does not hide them from another.
        let (_, second) = app.add_user(directory, &owner, "admin2@contoso.com", &["account_admin"]).await;
        app.post_json("/v1/apps", &owner, &json!({"name": "bot", "roles": []})).await;
        let owner_items = items(&app, &owner, "").await;
        let app_item = owner_items.iter().find(|i| i["event"] == "app.registered").expect("app item");
        let path = format!("/v1/action-center/items/{}/archive", app_item["id"].as_str().expect("id"));
        assert_eq!(app.post_json(&path, &owner, &json!({})).await.status, 200);
        let others = items(&app, &second, "").await;
        let seen = others.iter().find(|i| i["id"] == app_item["id"]).expect("still visible");
        assert_eq!(seen["status"], "active");

        // Role changes notify the person.
        let reply = app.get(&format!("/v1/users/{sam_id}"), Some(&owner)).await;
        let etag = reply.header("etag").expect("etag").to_owned();
        app.put_json(&format!("/v1/users/{sam_id}/roles"), &owner, &etag, &json!({"roles": ["referrals_user"]})).await;
        assert_eq!(events(&items(&app, &sam, "?status=active").await), vec!["user.roles_changed"]);
    }

    async fn preferences_need_if_match_and_refuse_mandatory_opt_outs(app) {
        let (_, owner, _) = app.create_account().await;
        let defaults = app.get("/v1/action-center/preferences", Some(&owner)).await;
        assert_eq!(defaults.json(), json!({"contact_email": null, "contact_email_status": "none", "language": "en", "email_opt_outs": []}));
        let etag = defaults.header("etag").expect("etag").to_owned();
        let body = json!({"contact_email": null, "language": "fr-CA", "email_opt_outs": ["promotional"]});
        app.send(app.request(Method::PUT, "/v1/action-center/preferences").bearer_auth(&owner).json(&body)).await
            .assert_problem(428, "precondition_required");
        let refused = app.put_json("/v1/action-center/preferences", &owner, &etag, &json!({
            "contact_email": null, "language": "en", "email_opt_outs": ["transactional", "mandatory", "recommended"]
        })).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.field_errors(), vec![
            ("email_opt_outs[1]".to_owned(), "not_optional".to_owned()),
            ("email_opt_outs[2]".to_owned(), "not_optional".to_owned()),
        ]);
        let saved = app.put_json("/v1/action-center/preferences", &owner, &etag, &body).await;
        assert_eq!(saved.status, 200, "{}", saved.text);
        assert_eq!(saved.json()["language"], "fr-CA");
        assert_eq!(saved.json()["email_opt_outs"], json!(["promotional"]));
        app.put_json("/v1/action-center/preferences", &owner, &etag, &body).await.assert_problem(412, "precondition_failed");
    }

    async fn a_code_is_good_for_thirty_minutes_on_the_accounts_clock(app) {
        let (_, owner, _) = app.create_sandbox_account().await;
        let set = set_preferences(&app, &owner, json!({"contact_email": "alerts@contoso.com", "language": "en", "email_opt_outs": []})).await;
        assert_eq!(set.status, 200, "{}", set.text);
        let code = app.code_sent_to("alerts@contoso.com", &[]).await;
        app.advance(&owner, 0, 30 * 60 - 1).await;
        let verified = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await;
        assert_eq!(verified.status, 200, "{}", verified.text);

        let set = set_preferences(&app, &owner, json!({"contact_email": "ops@contoso.com", "language": "en", "email_opt_outs": []})).await;
        assert_eq!(set.status, 200, "{}", set.text);
        let code = app.code_sent_to("ops@contoso.com", &[]).await;
        app.advance(&owner, 0, 30 * 60).await;
        let reply = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("code".to_owned(), "expired".to_owned())]);
    }

    async fn the_contact_email_is_verified_by_a_code(app) {
        let (_, owner, _) = app.create_account().await;
        app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": "123456"})).await
            .assert_problem(409, "no_pending_verification");
        let set = set_preferences(&app, &owner, json!({"contact_email": "alerts@contoso.com", "language": "en", "email_opt_outs": []})).await;
        assert_eq!(set.json()["contact_email_status"], "unverified");
        let code = app.code_sent_to("alerts@contoso.com", &[]).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let reply = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": wrong})).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("code".to_owned(), "wrong".to_owned())]);
        let verified = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await;
        assert_eq!(verified.status, 200, "{}", verified.text);
        assert_eq!(verified.json()["contact_email_status"], "verified");
        app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await
            .assert_problem(409, "no_pending_verification");
    }

    async fn five_wrong_codes_exhaust_the_code(app) {
        let (_, owner, _) = app.create_account().await;
        set_preferences(&app, &owner, json!({"contact_email": "alerts@contoso.com", "language": "en", "email_opt_outs": []})).await;
        let code = app.code_sent_to("alerts@contoso.com", &[]).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let reply = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": wrong})).await;
            assert_eq!(reply.field_errors(), vec![("code".to_owned(), "wrong".to_owned())]);
        }
        let sixth = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await;
        assert_eq!(sixth.field_errors(), vec![("code".to_owned(), "attempts_exhausted".to_owned())]);
        // A new code starts over; the old one no longer works.
        let resent = app.send(app.request(Method::POST, "/v1/action-center/preferences/contact-email/resend").bearer_auth(&owner)).await;
        assert_eq!(resent.status, 202, "{}", resent.text);
        let fresh = app.code_sent_to("alerts@contoso.com", std::slice::from_ref(&code)).await;
        let verified = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": fresh})).await;
        assert_eq!(verified.status, 200, "{}", verified.text);
    }

    async fn items_are_emailed_as_the_preferences_allow(app) {
        let (_, owner, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id");
        verify_contact(&app, &owner, "alerts@contoso.com").await;
        app.decide(id, "verified", None).await;
        app.wait_for_mail("alerts@contoso.com", "Your account is verified").await;

        // Opted out of transactional mail: the review notification is not sent, the
        // mandatory action still is.
        set_preferences(&app, &owner, json!({"contact_email": "alerts@contoso.com", "language": "en", "email_opt_outs": ["transactional"]})).await;
        let profile = app.get("/v1/account/legal-profile", Some(&owner)).await;
        let mut body = account_body();
        body["legal_name"] = "Contoso Holdings Ltd.".into();
        let changed = app.put_json("/v1/account/legal-profile", &owner, profile.header("etag").expect("etag"), &body).await;
        assert_eq!(changed.json()["verification"]["status"], "pending");
        app.decide(id, "action_required", Some("Show the renaming certificate.")).await;
        app.wait_for_mail("alerts@contoso.com", "renaming certificate").await;
        assert!(!app.dropped_mail().iter().any(|mail| mail.contains("being reviewed")), "an opted-out notification was mailed");
    }
}

/// A minimal SMTP server on loopback that keeps what it receives.
async fn smtp_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("smtp://{}", listener.local_addr().expect("addr"));
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    actix_rt::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            actix_rt::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 loopback ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(message) = data.as_mut() {
                        if line == "." {
                            if let Ok(mut store) = store.lock() {
                                store.push(std::mem::take(message));
                            }
                            data = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-loopback\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (url, received)
}

dual_db_test! {
    async fn codes_are_sent_through_smtp_when_configured(db) {
        let (url, received) = smtp_server().await;
        let app = TestApp::spawn_with(db, Options { migrate: true, smtp_url: Some(url), ..Options::default() }).await;
        let (_, owner, _) = app.create_account().await;
        let set = set_preferences(&app, &owner, json!({"contact_email": "alerts@contoso.com", "language": "en", "email_opt_outs": []})).await;
        assert_eq!(set.status, 200, "{}", set.text);
        let mut message = None;
        for _ in 0..100 {
            message = received.lock().ok().and_then(|store| store.first().cloned());
            if message.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let message = message.expect("the SMTP server received the code");
        assert!(message.contains("To: alerts@contoso.com"), "{message}");
        let code = verification_code(&message).expect("code");
        // Nothing was dropped on disk: SMTP replaced the file drop.
        assert!(!app.mail_dir().exists() || std::fs::read_dir(app.mail_dir()).map(|d| d.count()).unwrap_or(0) == 0);
        let verified = app.post_json("/v1/action-center/preferences/contact-email/verify", &owner, &json!({"code": code})).await;
        assert_eq!(verified.status, 200, "{}", verified.text);
    }
}
