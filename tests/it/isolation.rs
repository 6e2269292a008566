//! Tenant isolation (DESIGN §2): every id-bearing route of account A called with account B's
//! token answers 404, and A's rows stay as they were.

use crate::dual_test;
use crate::harness::{TestApp, paid_program_definition, program_definition};
use reqwest::Method;
use serde_json::{Value, json};

/// What account A looks like to its owner: the state B must not change.
async fn snapshot(app: &TestApp, owner: &str, user: &str) -> Vec<Value> {
    let mut state = Vec::new();
    for path in [
        "/v1/users",
        "/v1/apps",
        "/v1/audit-records",
        "/v1/account/verification",
        "/v1/action-center/items",
        "/v1/memberships",
        "/v1/program-applications",
        "/v1/partner-links",
        "/v1/marketplace/offers",
        "/v1/orders",
        "/v1/invoices",
        "/v1/benefits",
        "/v1/support/requests",
    ] {
        state.push(app.get(path, Some(owner)).await.json());
    }
    state.push(app.get("/v1/action-center/items", Some(user)).await.json());
    state
}

dual_test! {
    async fn another_account_reaches_none_of_this_accounts_ids(app) {
        let (a_directory, a_owner, a_account) = app.create_account().await;
        let (a_user_id, a_user) = app.add_user(a_directory, &a_owner, "sam@contoso.com", &["report_viewer"]).await;
        let a_app = app.post_json("/v1/apps", &a_owner, &json!({"name": "bot", "roles": []})).await.json()["app"]["id"]
            .as_str().expect("id").to_owned();
        app.decide(a_account["id"].as_str().expect("id"), "action_required", Some("Need a document.")).await;
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4\n".to_vec()).file_name("a.pdf"));
        let uploaded = app.send(app.request(Method::POST, "/v1/account/verification/evidence").bearer_auth(&a_owner).multipart(form)).await;
        let a_evidence = uploaded.json()["evidence"]["id"].as_str().expect("id").to_owned();
        let a_item = app.get("/v1/action-center/items", Some(&a_user)).await.json()["items"][0]["id"]
            .as_str().expect("item").to_owned();

        let a_membership = app.get("/v1/memberships", Some(&a_owner)).await.json()["items"][0]["id"]
            .as_str().expect("membership").to_owned();
        let made = app.put_program("probe_wired", &paid_program_definition()).await;
        assert_eq!(made.status, 201, "{}", made.text);
        let made = app.put_program("probe_application", &program_definition("application")).await;
        assert_eq!(made.status, 201, "{}", made.text);
        let a_application = app.post_json("/v1/program-applications", &a_owner, &json!({"program_id": "probe_application", "evidence": "Audit 1."})).await.json()["id"]
            .as_str().expect("application").to_owned();
        let a_link = app.post_json("/v1/partner-links", &a_owner, &json!({"kind": "pal", "customer_tenant_id": uuid::Uuid::now_v7()})).await.json()["id"]
            .as_str().expect("link").to_owned();
        let a_offer = app.post_json("/v1/marketplace/offers", &a_owner, &json!({"name": "Offer", "transactable": true})).await.json()["id"]
            .as_str().expect("offer").to_owned();

        let a_webhook = app.post_json("/v1/webhooks", &a_owner, &json!({"url": "https://hooks.example.com/a", "events": ["order.paid"]})).await.json()["id"]
            .as_str().expect("webhook").to_owned();
        let a_order = app.bought(&a_owner, "probe_paid").await["id"].as_str().expect("order").to_owned();
        let a_delivery = app.get(&format!("/v1/webhooks/{a_webhook}/deliveries"), Some(&a_owner)).await.json()["items"][0]["id"]
            .as_str().expect("delivery").to_owned();
        let a_wire = app.order(&a_owner, &json!({"program_id": "probe_wired", "kind": "purchase", "payment_method": "wire_transfer"})).await;
        let a_wire = a_wire.json()["id"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("wire order: {}", a_wire.text));
        let a_invoice = app.get("/v1/invoices", Some(&a_owner)).await.json()["items"][0]["id"].as_str().expect("invoice").to_owned();
        let a_benefit = app.get("/v1/benefits", Some(&a_owner)).await.json()["items"][0]["id"].as_str().expect("benefit").to_owned();
        let a_request = app.post_json("/v1/support/requests", &a_owner, &json!({"category": "billing", "title": "Invoice address"})).await.json()["id"]
            .as_str().expect("request").to_owned();

        // B is a global admin of its own account, with every permission there.
        let (_, b_owner, _) = app.create_account_as("owner@fabrikam.com").await;
        let before = snapshot(&app, &a_owner, &a_user).await;

        let cases: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/v1/users/{a_user_id}"), None),
            (Method::PATCH, format!("/v1/users/{a_user_id}"), Some(json!({"first_name": "Mallory"}))),
            (Method::DELETE, format!("/v1/users/{a_user_id}"), None),
            (Method::PUT, format!("/v1/users/{a_user_id}/roles"), Some(json!({"roles": ["global_admin"]}))),
            (Method::POST, format!("/v1/apps/{a_app}/secret"), None),
            (Method::DELETE, format!("/v1/apps/{a_app}"), None),
            (Method::POST, format!("/v1/action-center/items/{a_item}/archive"), None),
            (Method::GET, format!("/v1/account/verification/evidence/{a_evidence}/content"), None),
            (Method::POST, format!("/v1/me/directories/{a_directory}/switch"), None),
            (Method::GET, format!("/v1/memberships/{a_membership}"), None),
            (Method::GET, format!("/v1/program-applications/{a_application}"), None),
            (Method::DELETE, format!("/v1/partner-links/{a_link}"), None),
            (Method::POST, format!("/v1/marketplace/offers/{a_offer}/publish"), None),
            (Method::GET, format!("/v1/orders/{a_order}"), None),
            (Method::GET, format!("/v1/orders/{a_order}/refund-eligibility"), None),
            (Method::POST, format!("/v1/orders/{a_wire}/cancel"), None),
            (Method::POST, format!("/v1/sandbox/orders/{a_wire}/wire-received"), Some(json!({}))),
            (Method::GET, format!("/v1/invoices/{a_invoice}"), None),
            (Method::GET, format!("/v1/invoices/{a_invoice}/pdf"), None),
            (Method::GET, format!("/v1/benefits/{a_benefit}"), None),
            (Method::POST, format!("/v1/benefits/{a_benefit}/activate"), Some(json!({"assignee_user_id": a_user_id}))),
            (Method::POST, format!("/v1/benefits/{a_benefit}/reveal-key"), None),
            (Method::GET, format!("/v1/support/requests/{a_request}"), None),
            (Method::PATCH, format!("/v1/support/requests/{a_request}"), Some(json!({"note": "Mallory was here."}))),
            (Method::GET, format!("/v1/webhooks/{a_webhook}"), None),
            (Method::PATCH, format!("/v1/webhooks/{a_webhook}"), Some(json!({"url": "https://mallory.example.com/x"}))),
            (Method::DELETE, format!("/v1/webhooks/{a_webhook}"), None),
            (Method::POST, format!("/v1/webhooks/{a_webhook}/secret"), None),
            (Method::GET, format!("/v1/webhooks/{a_webhook}/deliveries"), None),
            (Method::POST, format!("/v1/webhooks/{a_webhook}/deliveries/{a_delivery}/redeliver"), None),
        ];
        // Every id-bearing partner route is in the matrix.
        let spec = app.get("/openapi.json", None).await.json();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("item") {
                // Operator routes, and routes keyed by a catalog program or help topic (not
                // account data).
                if !path.contains('{') || operation["x-access"]["kind"] == "operator" || path.contains("{program_id}") || path.contains("{topic_id}") {
                    continue;
                }
                let method = method.to_uppercase();
                let template = regex_free_match(path);
                assert!(
                    cases.iter().any(|(m, p, _)| m.as_str() == method && template(p)),
                    "{method} {path} is not in the isolation matrix"
                );
            }
        }
        // B's global-admin app, too.
        let registered = app.post_json("/v1/apps", &b_owner, &json!({"name": "b-bot", "roles": ["global_admin"]})).await.json();
        let issued = app.send(app.request(Method::POST, "/v1/oauth2/token").form(&[
            ("grant_type", "client_credentials"),
            ("client_id", registered["app"]["client_id"].as_str().expect("client id")),
            ("client_secret", registered["client_secret"].as_str().expect("secret")),
        ])).await;
        let b_app = issued.json()["access_token"].as_str().expect("token").to_owned();
        for token in [&b_owner, &b_app] {
            for (method, path, body) in &cases {
                let mut request = app.request(method.clone(), path).bearer_auth(token).header("if-match", "*")
                    .header("idempotency-key", uuid::Uuid::now_v7().to_string());
                if let Some(body) = body {
                    request = request.json(body);
                }
                let reply = app.send(request).await;
                // Switching and the Action Center are for people: B's app is refused before
                // any lookup.
                let person_only = path.ends_with("/switch") || path.contains("/action-center/") || path.contains("/support/");
                if token == &b_app && person_only {
                    reply.assert_problem(403, "principal_not_allowed");
                } else if path.starts_with("/v1/sandbox/") {
                    // B is a live account: sandbox routes refuse it before any lookup.
                    reply.assert_problem(409, "not_a_sandbox");
                } else {
                    reply.assert_problem(404, "not_found");
                }
            }
        }
        assert_eq!(snapshot(&app, &a_owner, &a_user).await, before, "account A changed");
    }
}

/// A matcher for concrete paths of an OpenAPI path template (`/v1/users/{user_id}`).
fn regex_free_match(template: &str) -> impl Fn(&str) -> bool + '_ {
    move |path: &str| {
        let expected: Vec<&str> = template.split('/').collect();
        let actual: Vec<&str> = path.split('/').collect();
        expected.len() == actual.len()
            && expected
                .iter()
                .zip(&actual)
                .all(|(e, a)| e.starts_with('{') || e == a)
    }
}
