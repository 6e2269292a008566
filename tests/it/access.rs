//! Who may do what (DESIGN §3): the route table walked against the role matrix, My access,
//! My roles, and directory switching.

use crate::dual_test;
use crate::harness::{Reply, TestApp, account_body, paid_program_definition, program_definition};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

const ROLES: [&str; 16] = [
    "global_admin",
    "account_admin",
    "user_management_admin",
    "billing_admin",
    "mpn_partner_admin",
    "business_profile_admin",
    "referrals_admin",
    "referrals_user",
    "incentives_admin",
    "incentives_user",
    "report_viewer",
    "executive_report_viewer",
    "admin_agent",
    "sales_agent",
    "helpdesk_agent",
    "marketplace_developer",
];

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// One account with a user per role.
struct Fixture {
    directory: Uuid,
    owner: String,
    owner_id: String,
    account_id: String,
    evidence_id: String,
    tokens: HashMap<&'static str, String>,
    emails: HashMap<&'static str, String>,
    /// An app per role, by its token.
    apps: HashMap<&'static str, String>,
    /// Client credentials of one app, for the token endpoint.
    credentials: (String, String),
    partner_id: String,
    membership_id: String,
    application_id: String,
    /// A paid card order, its invoice, and two of its benefits.
    order_id: String,
    invoice_id: String,
    credit_id: String,
    software_id: String,
    /// The owner's support request.
    request_id: String,
    /// A webhook endpoint and one of its deliveries.
    webhook_id: String,
    delivery_id: String,
    serial: std::cell::Cell<u32>,
}

impl Fixture {
    async fn new(app: &TestApp) -> Self {
        // A sandbox, so the sandbox routes answer too; it is a full account otherwise.
        let (directory, owner, account) = app.create_sandbox_account().await;
        let account_id = account["id"].as_str().expect("id").to_owned();
        let partner_id = account["partner_id"]
            .as_str()
            .expect("partner id")
            .to_owned();
        let owner_id = app.get("/v1/me", Some(&owner)).await.json()["user_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let mut tokens = HashMap::new();
        let mut emails = HashMap::new();
        let mut apps = HashMap::new();
        let mut credentials = (String::new(), String::new());
        for role in ROLES {
            let email = format!("{}@contoso.com", role.replace('_', "."));
            let (_, token) = app.add_user(directory, &owner, &email, &[role]).await;
            tokens.insert(role, token);
            emails.insert(role, email);
            let registered = app
                .post_json("/v1/apps", &owner, &json!({"name": role, "roles": [role]}))
                .await
                .json();
            credentials = (
                registered["app"]["client_id"]
                    .as_str()
                    .expect("client id")
                    .to_owned(),
                registered["client_secret"]
                    .as_str()
                    .expect("secret")
                    .to_owned(),
            );
            let issued = app
                .send(app.request(Method::POST, "/v1/oauth2/token").form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", credentials.0.as_str()),
                    ("client_secret", credentials.1.as_str()),
                ]))
                .await;
            apps.insert(
                role,
                issued.json()["access_token"]
                    .as_str()
                    .expect("token")
                    .to_owned(),
            );
        }
        // One stored document, for the download route.
        app.decide(&account_id, "action_required", Some("Need a document."))
            .await;
        let reply = upload(app, &owner).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let evidence_id = reply.json()["evidence"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let membership_id = app.get("/v1/memberships", Some(&owner)).await.json()["items"][0]["id"]
            .as_str()
            .expect("the base membership")
            .to_owned();
        let application_id = apply(app, &owner, "probe_application").await;
        let webhook_id = app
            .post_json(
                "/v1/webhooks",
                &owner,
                &json!({"url": "https://hooks.example.com/probe", "events": ["order.paid"]}),
            )
            .await
            .json()["id"]
            .as_str()
            .expect("webhook")
            .to_owned();
        let order_id = app.bought(&owner, "probe_paid").await["id"]
            .as_str()
            .expect("order")
            .to_owned();
        let invoice_id = app.get("/v1/invoices", Some(&owner)).await.json()["items"][0]["id"]
            .as_str()
            .expect("invoice")
            .to_owned();
        let benefits = app.get("/v1/benefits", Some(&owner)).await.json();
        let benefit = |kind: &str| {
            benefits["items"]
                .as_array()
                .and_then(|items| items.iter().find(|b| b["kind"] == kind))
                .and_then(|b| b["id"].as_str())
                .expect("benefit")
                .to_owned()
        };
        let (credit_id, software_id) = (benefit("azure_credit"), benefit("software"));
        let request_id = open_request(app, &owner).await;
        let delivery_id = app
            .get(
                &format!("/v1/webhooks/{webhook_id}/deliveries"),
                Some(&owner),
            )
            .await
            .json()["items"][0]["id"]
            .as_str()
            .expect("the order.paid delivery")
            .to_owned();
        Fixture {
            webhook_id,
            delivery_id,
            order_id,
            invoice_id,
            credit_id,
            software_id,
            request_id,
            partner_id,
            membership_id,
            application_id,
            directory,
            owner,
            owner_id,
            account_id,
            evidence_id,
            tokens,
            emails,
            apps,
            credentials,
            serial: std::cell::Cell::new(0),
        }
    }

    fn fresh_email(&self) -> String {
        self.serial.set(self.serial.get() + 1);
        format!("probe{}@contoso.com", self.serial.get())
    }

    async fn fresh_user(&self, app: &TestApp) -> (String, String) {
        let reply = app
            .post_json(
                "/v1/users",
                &self.owner,
                &json!({"email": self.fresh_email(), "roles": []}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let etag = reply.header("etag").expect("etag").to_owned();
        (reply.json()["id"].as_str().expect("id").to_owned(), etag)
    }

    /// A new program joined as `enrollment` says, without prerequisites.
    async fn fresh_program(&self, app: &TestApp, enrollment: &str) -> String {
        self.serial.set(self.serial.get() + 1);
        let id = format!("probe_{}", self.serial.get());
        let reply = app.put_program(&id, &program_definition(enrollment)).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        id
    }

    async fn fresh_link(&self, app: &TestApp) -> String {
        let reply = app
            .post_json(
                "/v1/partner-links",
                &self.owner,
                &json!({"kind": "pal", "customer_tenant_id": Uuid::now_v7()}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    async fn fresh_offer(&self, app: &TestApp) -> String {
        let reply = app
            .post_json(
                "/v1/marketplace/offers",
                &self.owner,
                &json!({"name": "Probe offer", "transactable": true}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// A wire order of a fresh paid program, awaiting payment.
    async fn fresh_wire_order(&self, app: &TestApp) -> Value {
        self.serial.set(self.serial.get() + 1);
        let program = format!("wired_{}", self.serial.get());
        let made = app.put_program(&program, &paid_program_definition()).await;
        assert!(made.status.is_success(), "{}", made.text);
        let reply = app
            .order(
                &self.owner,
                &json!({"program_id": program, "kind": "purchase", "payment_method": "wire_transfer"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    async fn fresh_app(&self, app: &TestApp) -> String {
        let reply = app
            .post_json(
                "/v1/apps",
                &self.owner,
                &json!({"name": "probe", "roles": []}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["app"]["id"].as_str().expect("id").to_owned()
    }
}

/// Opens a technical support request as `token`; returns its id.
async fn open_request(app: &TestApp, token: &str) -> String {
    let reply = app
        .post_json(
            "/v1/support/requests",
            token,
            &json!({"category": "technical", "title": "Probe request"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().expect("id").to_owned()
}

/// Creates an application-only program `program` and applies for it; returns the application.
async fn apply(app: &TestApp, owner: &str, program: &str) -> String {
    let made = app
        .put_program(program, &program_definition("application"))
        .await;
    assert!(made.status.is_success(), "{}", made.text);
    let reply = app
        .post_json(
            "/v1/program-applications",
            owner,
            &json!({"program_id": program, "evidence": "Audit report 42."}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().expect("id").to_owned()
}

fn completion(learn_id: &str) -> Value {
    json!({
        "learn_id": learn_id,
        "kind": "certification",
        "credential": "azure_administrator_associate",
        "title": "Azure Administrator Associate",
        "completed_at": "2020-01-01T00:00:00Z"
    })
}

fn performance_record() -> Value {
    json!({
        "area": "security",
        "customer_tenant_id": Uuid::now_v7(),
        "kind": "usage_growth",
        "growth_percent": 5,
        "occurred_at": "2020-01-01T00:00:00Z"
    })
}

/// Brings the account's verification back to `pending` (answering `action_required` with a
/// document), so a decision can be probed again.
async fn reopen_verification(app: &TestApp, fx: &Fixture) {
    let account = app
        .get(
            &format!("/v1/operator/accounts/{}", fx.account_id),
            Some(&app.operator_token()),
        )
        .await
        .json();
    if account["verification"]["status"] != "pending" {
        upload(app, &fx.owner).await;
    }
}

async fn upload(app: &TestApp, token: &str) -> Reply {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("doc.pdf"),
    );
    app.send(
        app.request(Method::POST, "/v1/account/verification/evidence")
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

/// The reply's ETag; `*` when the caller could not read the resource (the write will be
/// refused for the same reason).
fn etag(reply: &Reply) -> String {
    reply.header("etag").unwrap_or("*").to_owned()
}

/// Sets the caller's contact email (a code is mailed to it).
async fn set_contact_email(app: &TestApp, token: &str, address: &str) -> Reply {
    let tag = etag(&app.get("/v1/action-center/preferences", Some(token)).await);
    app.put_json(
        "/v1/action-center/preferences",
        token,
        &tag,
        &json!({"contact_email": address, "language": "en", "email_opt_outs": []}),
    )
    .await
}

/// A valid request to `method path` by `token`: a caller allowed to make it gets a 2xx.
async fn probe(
    app: &TestApp,
    fx: &Fixture,
    method: &str,
    path: &str,
    token: &str,
    role_email: &str,
) -> Reply {
    let request = |m: Method, p: &str| app.request(m, p).bearer_auth(token);
    match (method, path) {
        ("GET", "/v1/search") => app.get("/v1/search?q=admin", Some(token)).await,
        ("GET", "/v1/help-topics/{topic_id}") => {
            app.get("/v1/help-topics/find-your-admins", Some(token))
                .await
        }
        ("GET", "/v1/users/{user_id}") => {
            app.get(&format!("/v1/users/{}", fx.owner_id), Some(token))
                .await
        }
        ("GET", "/v1/account/verification/evidence/{evidence_id}/content") => {
            app.get(
                &format!(
                    "/v1/account/verification/evidence/{}/content",
                    fx.evidence_id
                ),
                Some(token),
            )
            .await
        }
        ("GET", "/v1/operator/accounts/{account_id}") => {
            app.get(
                &format!("/v1/operator/accounts/{}", fx.account_id),
                Some(token),
            )
            .await
        }
        ("GET", "/v1/programs/{program_id}") => {
            app.get("/v1/programs/isv_success", Some(token)).await
        }
        ("GET", "/v1/programs/{program_id}/eligibility") => {
            app.get("/v1/programs/isv_success/eligibility", Some(token))
                .await
        }
        ("GET", "/v1/operator/programs/{program_id}/allow-list") => {
            app.get(
                "/v1/operator/programs/training_services_partner/allow-list",
                Some(token),
            )
            .await
        }
        ("GET", "/v1/memberships/{membership_id}") => {
            app.get(
                &format!("/v1/memberships/{}", fx.membership_id),
                Some(token),
            )
            .await
        }
        ("GET", "/v1/program-applications/{application_id}") => {
            app.get(
                &format!("/v1/program-applications/{}", fx.application_id),
                Some(token),
            )
            .await
        }
        ("GET", "/v1/orders/{order_id}" | "/v1/orders/{order_id}/refund-eligibility") => {
            app.get(&path.replace("{order_id}", &fx.order_id), Some(token))
                .await
        }
        ("GET", "/v1/invoices/{invoice_id}" | "/v1/invoices/{invoice_id}/pdf") => {
            app.get(&path.replace("{invoice_id}", &fx.invoice_id), Some(token))
                .await
        }
        ("GET", "/v1/benefits/{benefit_id}") => {
            app.get(&format!("/v1/benefits/{}", fx.credit_id), Some(token))
                .await
        }
        ("GET", "/v1/support/requests/{request_id}") => {
            // A person sees their own requests; an app cannot open one.
            let id = match token_is_user(app, token).await {
                true => open_request(app, token).await,
                false => fx.request_id.clone(),
            };
            app.get(&format!("/v1/support/requests/{id}"), Some(token))
                .await
        }
        ("GET", "/v1/webhooks/{webhook_id}" | "/v1/webhooks/{webhook_id}/deliveries") => {
            app.get(&path.replace("{webhook_id}", &fx.webhook_id), Some(token))
                .await
        }
        ("GET", "/v1/insights/membership") => app.get(path, Some(token)).await,
        ("GET", "/v1/insights/export") => {
            app.get("/v1/insights/export?format=csv", Some(token)).await
        }
        ("GET", _) => app.get(path, Some(token)).await,
        ("POST", "/v1/accounts") => app.post_json(path, token, &account_body()).await,
        ("POST", "/v1/oauth2/token") => {
            let (id, secret) = &fx.credentials;
            app.send(app.request(Method::POST, path).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]))
            .await
        }
        ("PUT", "/v1/account/legal-profile") => {
            let tag = etag(&app.get("/v1/account/legal-profile", Some(&fx.owner)).await);
            app.put_json(path, token, &tag, &account_body()).await
        }
        ("POST", "/v1/account/verification/evidence") => {
            let account = app
                .get(
                    &format!("/v1/operator/accounts/{}", fx.account_id),
                    Some(&app.operator_token()),
                )
                .await
                .json();
            if account["verification"]["status"] == "pending" {
                app.decide(&fx.account_id, "action_required", Some("Need a document."))
                    .await;
            }
            upload(app, token).await
        }
        ("POST", "/v1/operator/accounts/{account_id}/verification") => {
            let body = json!({"outcome": "action_required", "reason": "Need a document."});
            reopen_verification(app, fx).await;
            app.post_json(
                &format!("/v1/operator/accounts/{}/verification", fx.account_id),
                token,
                &body,
            )
            .await
        }
        ("POST", "/v1/users") => {
            app.post_json(
                path,
                token,
                &json!({"email": fx.fresh_email(), "roles": []}),
            )
            .await
        }
        ("PATCH", "/v1/users/{user_id}") => {
            let (id, tag) = fx.fresh_user(app).await;
            app.patch_json(
                &format!("/v1/users/{id}"),
                token,
                &tag,
                &json!({"first_name": "Probe"}),
            )
            .await
        }
        ("DELETE", "/v1/users/{user_id}") => {
            let (id, tag) = fx.fresh_user(app).await;
            app.delete(&format!("/v1/users/{id}"), token, Some(&tag))
                .await
        }
        ("PUT", "/v1/users/{user_id}/roles") => {
            let (id, tag) = fx.fresh_user(app).await;
            app.put_json(
                &format!("/v1/users/{id}/roles"),
                token,
                &tag,
                &json!({"roles": ["report_viewer"]}),
            )
            .await
        }
        ("POST", "/v1/apps") => {
            app.post_json(path, token, &json!({"name": "probe", "roles": []}))
                .await
        }
        ("POST", "/v1/apps/{app_id}/secret") => {
            let id = fx.fresh_app(app).await;
            app.send(request(Method::POST, &format!("/v1/apps/{id}/secret")))
                .await
        }
        ("DELETE", "/v1/apps/{app_id}") => {
            let id = fx.fresh_app(app).await;
            app.delete(&format!("/v1/apps/{id}"), token, None).await
        }
        ("POST", "/v1/me/directories/{directory_id}/switch") => {
            app.send(request(
                Method::POST,
                &format!("/v1/me/directories/{}/switch", fx.directory),
            ))
            .await
        }
        ("POST", "/v1/action-center/items/{item_id}/archive") => {
            let items = app
                .get("/v1/action-center/items?kind=notification", Some(token))
                .await
                .json();
            let id = items["items"]
                .as_array()
                .and_then(|items| items.first())
                .map(|item| item["id"].clone());
            let id = id
                .and_then(|id| id.as_str().map(str::to_owned))
                .unwrap_or_else(|| Uuid::now_v7().to_string());
            app.send(request(
                Method::POST,
                &format!("/v1/action-center/items/{id}/archive"),
            ))
            .await
        }
        ("PUT", "/v1/action-center/preferences") => {
            let tag = etag(&app.get(path, Some(token)).await);
            app.put_json(
                path,
                token,
                &tag,
                &json!({"contact_email": null, "language": "en", "email_opt_outs": []}),
            )
            .await
        }
        ("POST", "/v1/action-center/preferences/contact-email/resend") => {
            let set = set_contact_email(app, token, &format!("resend.{role_email}")).await;
            if !set.status.is_success() {
                return set;
            }
            app.send(request(Method::POST, path)).await
        }
        ("POST", "/v1/action-center/preferences/contact-email/verify") => {
            let address = format!("verify.{role_email}");
            let set = set_contact_email(app, token, &address).await;
            if !set.status.is_success() {
                return set;
            }
            let code = app.code_sent_to(&address, &[]).await;
            app.post_json(path, token, &json!({"code": code})).await
        }
        ("POST", "/v1/sandbox/verification") => {
            reopen_verification(app, fx).await;
            app.post_json(
                path,
                token,
                &json!({"outcome": "action_required", "reason": "Need a document."}),
            )
            .await
        }
        ("PUT", "/v1/operator/programs/{program_id}") => {
            fx.serial.set(fx.serial.get() + 1);
            app.put_json(
                &format!("/v1/operator/programs/made_{}", fx.serial.get()),
                token,
                "*",
                &program_definition("self_service"),
            )
            .await
        }
        ("PUT", "/v1/operator/programs/{program_id}/allow-list") => {
            app.send(
                request(
                    Method::PUT,
                    "/v1/operator/programs/training_services_partner/allow-list",
                )
                .json(&json!({"account_ids": [fx.account_id]})),
            )
            .await
        }
        ("POST", "/v1/memberships") => {
            let program = fx.fresh_program(app, "self_service").await;
            app.post_json(path, token, &json!({"program_id": program}))
                .await
        }
        ("POST", "/v1/operator/accounts/{account_id}/memberships") => {
            let program = fx.fresh_program(app, "self_service").await;
            app.post_json(
                &format!("/v1/operator/accounts/{}/memberships", fx.account_id),
                token,
                &json!({"program_id": program, "reason": "Complimentary."}),
            )
            .await
        }
        ("POST", "/v1/program-applications") => {
            let program = fx.fresh_program(app, "application").await;
            app.post_json(
                path,
                token,
                &json!({"program_id": program, "evidence": "Audit report 42."}),
            )
            .await
        }
        (
            "POST",
            "/v1/operator/accounts/{account_id}/program-applications/{application_id}/decision",
        ) => {
            fx.serial.set(fx.serial.get() + 1);
            let id = apply(app, &fx.owner, &format!("applied_{}", fx.serial.get())).await;
            app.post_json(
                &format!(
                    "/v1/operator/accounts/{}/program-applications/{id}/decision",
                    fx.account_id
                ),
                token,
                &json!({"outcome": "approved"}),
            )
            .await
        }
        ("POST", "/v1/me/learning-profile") => {
            app.post_json(
                path,
                token,
                &json!({"learn_id": format!("learn-{role_email}")}),
            )
            .await
        }
        ("POST", "/v1/operator/skilling/completions" | "/v1/sandbox/skilling/completions") => {
            fx.serial.set(fx.serial.get() + 1);
            app.post_json(
                path,
                token,
                &completion(&format!("learn-{}", fx.serial.get())),
            )
            .await
        }
        ("POST", "/v1/partner-links") => {
            app.post_json(
                path,
                token,
                &json!({"kind": "dpor", "customer_tenant_id": Uuid::now_v7()}),
            )
            .await
        }
        ("DELETE", "/v1/partner-links/{link_id}") => {
            let id = fx.fresh_link(app).await;
            app.delete(&format!("/v1/partner-links/{id}"), token, None)
                .await
        }
        ("POST", "/v1/operator/performance-records") => {
            app.post_json(
                path,
                token,
                &json!({"partner_id": fx.partner_id, "record": performance_record()}),
            )
            .await
        }
        ("POST", "/v1/sandbox/performance-records") => {
            app.post_json(path, token, &performance_record()).await
        }
        ("POST", "/v1/marketplace/offers") => {
            app.post_json(
                path,
                token,
                &json!({"name": "Probe offer", "transactable": false}),
            )
            .await
        }
        ("POST", "/v1/marketplace/offers/{offer_id}/publish") => {
            let id = fx.fresh_offer(app).await;
            app.send(request(
                Method::POST,
                &format!("/v1/marketplace/offers/{id}/publish"),
            ))
            .await
        }
        ("POST", "/v1/orders") => {
            fx.serial.set(fx.serial.get() + 1);
            let program = format!("bought_{}", fx.serial.get());
            let made = app.put_program(&program, &paid_program_definition()).await;
            assert!(made.status.is_success(), "{}", made.text);
            app.send(
                request(Method::POST, path)
                    .header("idempotency-key", Uuid::now_v7().to_string())
                    .json(&json!({"program_id": program, "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_approve"})),
            )
            .await
        }
        ("POST", "/v1/orders/{order_id}/cancel") => {
            let order = fx.fresh_wire_order(app).await;
            app.send(request(
                Method::POST,
                &format!("/v1/orders/{}/cancel", order["id"].as_str().expect("id")),
            ))
            .await
        }
        ("POST", "/v1/operator/orders/{order_id}/wire-received") => {
            let order = fx.fresh_wire_order(app).await;
            app.post_json(
                &format!(
                    "/v1/operator/orders/{}/wire-received",
                    order["id"].as_str().expect("id")
                ),
                token,
                &json!({"amount": order["total"], "received_at": order["placed_at"], "reference": order["wire"]["reference"]}),
            )
            .await
        }
        ("POST", "/v1/sandbox/orders/{order_id}/wire-received") => {
            let order = fx.fresh_wire_order(app).await;
            app.post_json(
                &format!(
                    "/v1/sandbox/orders/{}/wire-received",
                    order["id"].as_str().expect("id")
                ),
                token,
                &json!({}),
            )
            .await
        }
        ("POST", "/v1/benefits/{benefit_id}/activate") => {
            // Activating for the same person again changes nothing, so every probe succeeds.
            app.post_keyed(
                &format!("/v1/benefits/{}/activate", fx.credit_id),
                token,
                &json!({"assignee_user_id": fx.owner_id}),
            )
            .await
        }
        ("POST", "/v1/benefits/{benefit_id}/reveal-key") => {
            app.send(
                request(
                    Method::POST,
                    &format!("/v1/benefits/{}/reveal-key", fx.software_id),
                )
                .header("idempotency-key", Uuid::now_v7().to_string()),
            )
            .await
        }
        ("POST", "/v1/webhooks") => {
            app.post_json(
                path,
                token,
                &json!({"url": "https://hooks.example.com/probe", "events": ["*"]}),
            )
            .await
        }
        ("PATCH", "/v1/webhooks/{webhook_id}") => {
            app.send(
                request(Method::PATCH, &format!("/v1/webhooks/{}", fx.webhook_id))
                    .json(&json!({"description": "Probe"})),
            )
            .await
        }
        ("DELETE", "/v1/webhooks/{webhook_id}") => {
            let fresh = app
                .post_json(
                    "/v1/webhooks",
                    &fx.owner,
                    &json!({"url": "https://hooks.example.com/gone", "events": ["*"]}),
                )
                .await
                .json()["id"]
                .as_str()
                .expect("webhook")
                .to_owned();
            let reply = app
                .send(request(Method::DELETE, &format!("/v1/webhooks/{fresh}")))
                .await;
            // A refused caller leaves it behind; the owner removes it so the account stays
            // under its endpoint limit across all the probes.
            app.delete(&format!("/v1/webhooks/{fresh}"), &fx.owner, None)
                .await;
            reply
        }
        ("POST", "/v1/webhooks/{webhook_id}/secret") => {
            app.send(request(
                Method::POST,
                &format!("/v1/webhooks/{}/secret", fx.webhook_id),
            ))
            .await
        }
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver") => {
            app.send(request(
                Method::POST,
                &format!(
                    "/v1/webhooks/{}/deliveries/{}/redeliver",
                    fx.webhook_id, fx.delivery_id
                ),
            ))
            .await
        }
        ("POST", "/v1/support/requests") => {
            app.post_json(
                path,
                token,
                &json!({"category": "technical", "title": "Probe request"}),
            )
            .await
        }
        ("PATCH", "/v1/support/requests/{request_id}") => {
            let id = match token_is_user(app, token).await {
                true => open_request(app, token).await,
                false => fx.request_id.clone(),
            };
            app.send(
                request(Method::PATCH, &format!("/v1/support/requests/{id}"))
                    .json(&json!({"note": "More detail."})),
            )
            .await
        }
        ("POST", "/v1/operator/accounts/{account_id}/support/requests/{request_id}/replies") => {
            app.post_json(
                &format!(
                    "/v1/operator/accounts/{}/support/requests/{}/replies",
                    fx.account_id, fx.request_id
                ),
                token,
                &json!({"body": "We are looking into it."}),
            )
            .await
        }
        ("POST", "/v1/sandbox/clock") => {
            app.post_json(path, token, &json!({"advance_seconds": 1}))
                .await
        }
        _ => panic!("no probe for {method} {path}: add one when adding a route"),
    }
}

fn assert_allowed(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_success(),
        "{what} should be allowed: {} {}",
        reply.status,
        reply.text
    );
}

dual_test! {
    async fn every_route_answers_each_role_as_the_matrix_says(app) {
        let fx = Fixture::new(&app).await;
        let spec = app.get("/openapi.json", None).await.json();
        let mut checked = 0;
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let method = method.to_uppercase();
                let access = &operation["x-access"];
                let kind = access["kind"].as_str().unwrap_or_else(|| panic!("{method} {path} has no access rule"));
                let what = |who: &str| format!("{method} {path} by {who}");
                match kind {
                    "public" => {
                        let reply = if method == "GET" {
                            app.get(path, None).await
                        } else {
                            probe(&app, &fx, &method, path, "", "").await
                        };
                        assert_allowed(&reply, &what("anyone"));
                    }
                    "any_principal" | "directory_user" => {
                        let reply = if path == "/v1/accounts" {
                            let fresh = app.user_token(Uuid::now_v7(), "new.partner@fabrikam.com");
                            probe(&app, &fx, &method, path, &fresh, "new.partner@fabrikam.com").await
                        } else {
                            probe(&app, &fx, &method, path, &fx.tokens["report_viewer"], &fx.emails["report_viewer"]).await
                        };
                        assert_allowed(&reply, &what("a user"));
                        // Only a person belongs to directories; any valid token reads /v1/me.
                        let app_token = &fx.apps["global_admin"];
                        let operator = app.operator_token();
                        for (who, token) in [("an app", app_token), ("an operator", &operator)] {
                            let reply = probe(&app, &fx, &method, path, token, "").await;
                            if kind == "any_principal" {
                                assert_allowed(&reply, &what(who));
                            } else {
                                reply.assert_problem(403, "principal_not_allowed");
                            }
                        }
                    }
                    "operator" => {
                        for role in ROLES {
                            probe(&app, &fx, &method, path, &fx.tokens[role], &fx.emails[role]).await
                                .assert_problem(403, "operator_only");
                            probe(&app, &fx, &method, path, &fx.apps[role], "").await
                                .assert_problem(403, "operator_only");
                        }
                        let operator = app.operator_token();
                        assert_allowed(&probe(&app, &fx, &method, path, &operator, "operator@partner-center.example").await, &what("an operator"));
                    }
                    "account_user" | "permission" => {
                        let holders: Vec<&str> = access["roles"].as_array().expect("roles").iter().filter_map(Value::as_str).collect();
                        for role in ROLES {
                            let reply = probe(&app, &fx, &method, path, &fx.tokens[role], &fx.emails[role]).await;
                            if holders.contains(&role) {
                                assert_allowed(&reply, &what(role));
                            } else {
                                reply.assert_problem(403, "insufficient_role");
                            }
                            // Apps are held to their roles the same way; person-only routes
                            // refuse them whatever their roles.
                            let reply = probe(&app, &fx, &method, path, &fx.apps[role], "").await;
                            if kind == "account_user" {
                                reply.assert_problem(403, "principal_not_allowed");
                            } else if holders.contains(&role) {
                                assert_allowed(&reply, &what(&format!("an app with {role}")));
                            } else {
                                reply.assert_problem(403, "insufficient_role");
                            }
                        }
                        // Operators never reach partner routes.
                        let operator = probe(&app, &fx, &method, path, &app.operator_token(), "operator@partner-center.example").await;
                        operator.assert_problem(403, "principal_not_allowed");
                    }
                    other => panic!("{method} {path}: unknown access kind {other}"),
                }
                checked += 1;
            }
        }
        assert!(checked >= 36, "only {checked} routes were walked");
    }

    async fn my_access_lists_the_workspaces_and_whom_to_ask(app) {
        let (directory, owner, _) = app.create_account().await;
        let (_, billing) = app.add_user(directory, &owner, "billing@contoso.com", &["billing_admin"]).await;
        let (_, mpn) = app.add_user(directory, &owner, "mpn@contoso.com", &["mpn_partner_admin"]).await;
        let access = app.get("/v1/me/access", Some(&billing)).await;
        assert_eq!(access.status, 200, "{}", access.text);
        let items = access.json()["items"].as_array().expect("items").clone();
        let by_id: HashMap<String, Value> = items.iter().map(|item| (item["workspace"].as_str().expect("ws").to_owned(), item.clone())).collect();
        // Marketplace offers needs a program the account is not enrolled in: absent.
        assert!(!by_id.contains_key("marketplace_offers"));
        assert_eq!(by_id.len(), 12);
        assert_eq!(by_id["billing"]["has_access"], true);
        assert_eq!(by_id["billing"]["admins"], json!([]));
        assert_eq!(by_id["help_support"]["has_access"], true);
        let membership = &by_id["membership"];
        assert_eq!(membership["has_access"], false);
        assert_eq!(membership["name"], "Membership");
        let admins = membership["admins"].as_array().expect("admins");
        let emails: Vec<&str> = admins.iter().filter_map(|a| a["email"].as_str()).collect();
        assert_eq!(emails, vec!["jane.doe@contoso.com", "mpn@contoso.com"]);
        assert_eq!(admins[0]["roles"], json!(["global_admin"]));
        assert_eq!(admins[1]["roles"], json!(["mpn_partner_admin"]));
        assert_eq!(admins[1]["name"], "Test User");
        assert_eq!(admins[0]["name"], "Jane Doe");

        let roles = app.get("/v1/me/roles", Some(&mpn)).await.json();
        assert_eq!(roles["roles"], json!(["mpn_partner_admin"]));
        assert_eq!(roles["workspaces"], json!(["account_settings", "action_center", "benefits", "insights", "membership", "help_support"]));
        assert_eq!(roles["permissions"], json!(["account.read", "users.read", "membership.read", "membership.manage", "billing.read"]));
        assert_eq!(roles["grants"], json!([]));
        // Only people have an access view.
        app.get("/v1/me/access", Some(&app.operator_token())).await.assert_problem(403, "principal_not_allowed");
    }

    async fn a_person_switches_between_the_directories_they_belong_to(app) {
        let (contoso, contoso_owner, contoso_account) = app.create_account().await;
        // Jane of Contoso is also a user of Fabrikam's account.
        let fabrikam = Uuid::now_v7();
        let fabrikam_owner = app.user_token(fabrikam, "ops@fabrikam.com");
        let mut body = account_body();
        body["legal_name"] = "Fabrikam Inc.".into();
        body["primary_contact"]["email"] = "ops@fabrikam.com".into();
        let created = app.post_json("/v1/accounts", &fabrikam_owner, &body).await;
        assert_eq!(created.status, 201, "{}", created.text);
        app.add_user(fabrikam, &fabrikam_owner, "Jane.Doe@contoso.com", &["report_viewer"]).await;
        // A third directory Jane does not belong to.
        let (stranger, _, _) = app.create_account_as("someone@northwind.com").await;

        let list = app.get("/v1/me/directories", Some(&contoso_owner)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let items = list.json()["items"].as_array().expect("items").clone();
        assert_eq!(items.len(), 2);
        let current: Vec<&Value> = items.iter().filter(|item| item["current"] == true).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0]["account_id"], contoso_account["id"]);
        let other = items.iter().find(|item| item["current"] == false).expect("fabrikam");
        assert_eq!(other["legal_name"], "Fabrikam Inc.");
        assert_eq!(other["roles"], json!(["report_viewer"]));

        let switched = app.send(app.request(Method::POST, &format!("/v1/me/directories/{fabrikam}/switch")).bearer_auth(&contoso_owner)).await;
        assert_eq!(switched.status, 200, "{}", switched.text);
        let token = switched.json()["access_token"].as_str().expect("token").to_owned();
        assert_eq!(switched.json()["directory_id"], fabrikam.to_string());
        // Switching never outlives the presented token (the harness issues ten-minute tokens).
        let lifetime = switched.json()["expires_in"].as_i64().expect("expires_in");
        assert!((1..=600).contains(&lifetime), "{lifetime}");
        let me = app.get("/v1/me", Some(&token)).await.json();
        assert_eq!(me["directory_id"], fabrikam.to_string());
        assert_eq!(me["account"]["legal_name"], "Fabrikam Inc.");
        assert_eq!(me["roles"], json!(["report_viewer"]));
        // And back.
        let back = app.send(app.request(Method::POST, &format!("/v1/me/directories/{contoso}/switch")).bearer_auth(&token)).await;
        assert_eq!(back.status, 200);
        assert!(back.json()["expires_in"].as_i64().expect("expires_in") <= lifetime);

        for directory in [stranger, Uuid::now_v7()] {
            app.send(app.request(Method::POST, &format!("/v1/me/directories/{directory}/switch")).bearer_auth(&contoso_owner)).await
                .assert_problem(404, "not_found");
        }
    }
}

/// Whether `token` is a person's (people may open support requests; apps and operators not).
async fn token_is_user(app: &TestApp, token: &str) -> bool {
    app.get("/v1/me", Some(token)).await.json()["kind"] == "user"
}
