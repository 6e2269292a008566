//! Commerce (DESIGN §7, §8): orders by card and wire, invoices and their PDF, renewals,
//! refunds through support requests, benefits. Boundaries are reached with the sandbox clock.

use crate::dual_test;
use crate::harness::{Reply, TestApp, paid_program_definition};
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

fn items(value: &Value) -> Vec<Value> {
    value["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no items in {value}"))
}

fn failed(checks: &Value) -> Vec<String> {
    checks
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["satisfied"] == false)
        .map(|c| c["code"].as_str().expect("code").to_owned())
        .collect()
}

/// Creates paid program `program` (optionally changed by `edit`).
async fn paid_program(app: &TestApp, program: &str, edit: impl FnOnce(&mut Value)) {
    let mut definition = paid_program_definition();
    edit(&mut definition);
    let made = app.put_program(program, &definition).await;
    assert!(made.status.is_success(), "{}", made.text);
}

fn card(program: &str) -> Value {
    json!({"program_id": program, "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_approve"})
}

fn wire(program: &str) -> Value {
    json!({"program_id": program, "kind": "purchase", "payment_method": "wire_transfer"})
}

/// Asks to cancel and refund `order` through a support request.
async fn cancel(app: &TestApp, token: &str, order: &str) -> Reply {
    app.post_keyed(
        "/v1/support/requests",
        token,
        &json!({"category": "membership_cancellation", "title": "Cancel, please", "order_id": order}),
    )
    .await
}

async fn benefit_of(app: &TestApp, token: &str, order: &str, kind: &str) -> Value {
    items(&app.get("/v1/benefits", Some(token)).await.json())
        .into_iter()
        .find(|b| b["order_id"] == order && b["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} benefit of order {order}"))
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let reply = app.get(path, Some(token)).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    reply.json()
}

dual_test! {
    async fn a_card_purchase_activates_the_membership_issues_the_invoice_and_grants_benefits(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let body = json!({"program_id": "action_pack", "kind": "purchase", "payment_method": "credit_card",
            "card_token": "tok_test_approve", "benefit_pack": "maps"});
        app.post_json("/v1/orders", &owner, &body).await.assert_problem(400, "idempotency_key_required");
        let key = Uuid::now_v7().to_string();
        let send = || app.send(app.request(Method::POST, "/v1/orders").bearer_auth(&owner)
            .header("idempotency-key", &key).json(&body));
        let placed = send().await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        let order = placed.json();
        assert_eq!(order["status"], "paid");
        assert_eq!(order["number"], 1);
        assert_eq!(order["total"], json!({"amount_minor": 47500, "currency": "USD"}));
        assert_eq!(order["tax"]["amount_minor"], 0, "a US buyer is invoiced without tax");
        assert_eq!(order["benefit_pack"], "maps");
        // A retry with the key is the first answer, not a second order.
        let replayed = send().await;
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(replayed.json()["id"], order["id"]);
        assert_eq!(items(&get(&app, &owner, "/v1/orders").await).len(), 1);

        let membership = get(&app, &owner, &format!("/v1/memberships/{}", order["membership_id"].as_str().expect("membership"))).await;
        assert_eq!((membership["status"].as_str(), membership["source"].as_str()), (Some("active"), Some("purchase")));
        assert_eq!(membership["benefit_pack"], "maps");
        let invoices = items(&get(&app, &owner, "/v1/invoices").await);
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0]["number"], "INV-000001");
        assert_eq!(invoices[0]["order_id"], order["id"]);
        assert_eq!(invoices[0]["total"], order["total"]);
        assert_eq!(invoices[0]["buyer"]["legal_name"], "Contoso Ltd.");
        let granted: Vec<Value> = items(&get(&app, &owner, "/v1/benefits").await)
            .into_iter().filter(|b| b["order_id"] == order["id"]).collect();
        let names: Vec<&str> = granted.iter().filter_map(|b| b["catalog_benefit_id"].as_str()).collect();
        assert_eq!(names, ["maps_azure_credit", "maps_visual_studio", "maps_office_365", "maps_software_keys"]);
        assert!(granted.iter().all(|b| b["status"] == "available"));

        // Events reach the Action Center and the audit log.
        let inbox = get(&app, &owner, "/v1/action-center/items").await;
        assert!(items(&inbox).iter().any(|i| i["event"] == "order.paid"), "{inbox}");
        let audit = get(&app, &owner, "/v1/audit-records?action=order.paid").await;
        assert_eq!(items(&audit).len(), 1);
        // One Action Pack per account: a second purchase is refused with the checks.
        let again = app.order(&owner, &body).await;
        assert!(failed(&again.assert_problem(409, "not_eligible")["checks"]).contains(&"exclusive_group".to_owned()));
    }

    async fn a_declined_card_fails_the_order_and_a_gateway_outage_changes_nothing(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        paid_program(&app, "paid_once", |_| {}).await;
        let key = Uuid::now_v7().to_string();
        let declined_body = json!({"program_id": "paid_once", "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_decline"});
        let send = |body: Value, key: String| app.send(app.request(Method::POST, "/v1/orders").bearer_auth(&owner)
            .header("idempotency-key", key).json(&body));
        let declined = send(declined_body.clone(), key.clone()).await;
        let problem = declined.assert_problem(402, "payment_declined");
        let failed_order = get(&app, &owner, &format!("/v1/orders/{}", problem["order_id"].as_str().expect("order id"))).await;
        assert_eq!(failed_order["status"], "failed");
        assert_eq!(failed_order["failure"]["code"], "card_declined");
        assert_eq!(failed_order["membership_id"], Value::Null);
        // The refusal is replayed to a retry with the same key.
        let replayed = send(declined_body, key).await;
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(replayed.assert_problem(402, "payment_declined")["order_id"], problem["order_id"]);
        assert!(items(&get(&app, &owner, "/v1/memberships?program_id=paid_once").await).is_empty());
        assert!(items(&get(&app, &owner, "/v1/invoices").await).is_empty());
        assert!(items(&get(&app, &owner, "/v1/benefits").await).is_empty());

        let outage_key = Uuid::now_v7().to_string();
        let outage_body = json!({"program_id": "paid_once", "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_gateway_error"});
        let outage = send(outage_body.clone(), outage_key.clone()).await;
        outage.assert_problem(503, "payment_gateway_unavailable");
        assert!(outage.header("retry-after").is_some());
        assert_eq!(items(&get(&app, &owner, "/v1/orders").await).len(), 1, "nothing stored for an outage");
        // The key was released: the same key is tried again (and fails again, retryably).
        send(outage_body, outage_key).await.assert_problem(503, "payment_gateway_unavailable");
        // Card token and method must agree.
        app.order(&owner, &json!({"program_id": "paid_once", "kind": "purchase", "payment_method": "credit_card"}))
            .await.assert_problem(400, "validation_failed");
        app.order(&owner, &json!({"program_id": "paid_once", "kind": "purchase", "payment_method": "wire_transfer", "card_token": "tok_test_approve"}))
            .await.assert_problem(400, "validation_failed");
        app.order(&owner, &card("isv_success")).await.assert_problem(409, "enrollment_not_applicable");
    }

    async fn a_wire_order_is_payable_through_day_30_and_expired_after(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let partner_id = get(&app, &owner, "/v1/account").await["partner_id"].as_str().expect("partner id").to_owned();
        paid_program(&app, "wired_a", |_| {}).await;
        paid_program(&app, "wired_b", |_| {}).await;
        paid_program(&app, "wired_c", |_| {}).await;
        let a = app.order(&owner, &wire("wired_a")).await;
        assert_eq!(a.status, 201, "{}", a.text);
        let a = a.json();
        assert_eq!(a["status"], "awaiting_payment");
        assert_eq!(a["wire"]["reference"], format!("PC-000001-{partner_id}"));
        assert_eq!(at(&a["wire"]["pay_by"]), at(&a["placed_at"]) + Duration::days(30));
        // A second order for the program waits for the first.
        let second = app.order(&owner, &wire("wired_a")).await;
        assert!(failed(&second.assert_problem(409, "not_eligible")["checks"]).contains(&"no_open_order".to_owned()));
        let b = app.order(&owner, &wire("wired_b")).await.json();
        let c = app.order(&owner, &wire("wired_c")).await.json();
        let c_cancelled = app.post_json(&format!("/v1/orders/{}/cancel", id(&c)), &owner, &json!({})).await;
        assert_eq!(c_cancelled.json()["status"], "cancelled");

        app.advance(&owner, 30, 0).await;
        let a_path = format!("/v1/sandbox/orders/{}/wire-received", id(&a));
        // The operator's checks: the amount and the reference must be the order's.
        app.post_json(&a_path, &owner, &json!({"amount": {"amount_minor": 9999, "currency": "USD"}})).await
            .assert_problem(409, "wire_amount_mismatch");
        app.post_json(&a_path, &owner, &json!({"reference": "PC-000009-0000000"})).await
            .assert_problem(409, "wire_reference_mismatch");
        let paid = app.post_json(&a_path, &owner, &json!({})).await;
        assert_eq!(paid.status, 200, "{}", paid.text);
        assert_eq!(paid.json()["status"], "paid");
        assert_eq!(get(&app, &owner, &format!("/v1/orders/{}", id(&b))).await["status"], "awaiting_payment");

        app.advance(&owner, 0, 1).await;
        assert_eq!(get(&app, &owner, &format!("/v1/orders/{}", id(&b))).await["status"], "expired");
        app.post_json(&format!("/v1/sandbox/orders/{}/wire-received", id(&b)), &owner, &json!({})).await
            .assert_problem(409, "order_expired");
        app.post_json(&format!("/v1/orders/{}/cancel", id(&b)), &owner, &json!({})).await
            .assert_problem(409, "order_expired");
        // The operator records the funds of the paid order once only.
        app.post_json(&format!("/v1/operator/orders/{}/wire-received", id(&a)), &app.operator_token(),
            &json!({"amount": a["total"], "received_at": a["placed_at"], "reference": a["wire"]["reference"]})).await
            .assert_problem(409, "order_not_payable");
        // order.expired reached the Action Center and the audit log (by the system), once.
        let inbox = items(&get(&app, &owner, "/v1/action-center/items").await);
        assert_eq!(inbox.iter().filter(|i| i["event"] == "order.expired").count(), 1);
        let audit = items(&get(&app, &owner, "/v1/audit-records?action=order.expired").await);
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0]["actor"]["kind"], "system");
        app.advance(&owner, 1, 0).await;
        assert_eq!(items(&get(&app, &owner, "/v1/audit-records?action=order.expired").await).len(), 1);
        // The wire invoice carries the reference.
        let invoice = &items(&get(&app, &owner, "/v1/invoices").await)[0];
        assert_eq!(invoice["payment_method"], "wire_transfer");
        assert_eq!(invoice["payment_reference"], a["wire"]["reference"]);
    }

    async fn a_refund_is_granted_through_day_30_and_refused_a_second_later(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let first = app.bought(&owner, "refund_first").await;
        let second = app.bought(&owner, "refund_second").await;
        app.advance(&owner, 30, 0).await;
        let eligibility = get(&app, &owner, &format!("/v1/orders/{}/refund-eligibility", id(&first))).await;
        assert_eq!(eligibility["eligible"], true, "{eligibility}");
        assert_eq!(eligibility["refundable"], first["total"]);

        let granted = cancel(&app, &owner, &id(&first)).await;
        assert_eq!(granted.status, 201, "{}", granted.text);
        let granted = granted.json();
        assert_eq!(granted["status"], "closed");
        assert_eq!(granted["decision"]["granted"], true);
        assert_eq!(granted["decision"]["refund"]["amount"], first["total"]);
        let order = get(&app, &owner, &format!("/v1/orders/{}", id(&first))).await;
        assert_eq!((order["status"].as_str(), &order["refunded"]), (Some("refunded"), &first["total"]));
        let membership = get(&app, &owner, &format!("/v1/memberships/{}", first["membership_id"].as_str().expect("membership"))).await;
        assert_eq!(membership["status"], "cancelled");
        assert!(items(&get(&app, &owner, "/v1/benefits").await).iter()
            .filter(|b| b["order_id"] == first["id"]).all(|b| b["status"] == "ended"));
        // The credit note references its invoice and continues the numbering.
        let documents = items(&get(&app, &owner, "/v1/invoices").await);
        let numbers: Vec<&str> = documents.iter().filter_map(|d| d["number"].as_str()).collect();
        assert_eq!(numbers, ["INV-000001", "INV-000002", "CN-000003"]);
        let note = &documents[2];
        assert_eq!(note["kind"], "credit_note");
        assert_eq!(note["credits_invoice_id"], documents[0]["id"]);
        assert_eq!(granted["decision"]["refund"]["credit_note_id"], note["id"]);
        assert!(granted["decision"]["refund"]["gateway_refund_id"].as_str().is_some_and(|r| r.starts_with("re_test_")));
        let inbox = items(&get(&app, &owner, "/v1/action-center/items").await);
        assert!(inbox.iter().any(|i| i["event"] == "refund.completed"));
        assert_eq!(items(&get(&app, &owner, "/v1/audit-records?action=refund.completed").await).len(), 1);
        // Nothing is refunded twice.
        let again = cancel(&app, &owner, &id(&first)).await.json();
        assert_eq!(again["decision"]["granted"], false);
        assert_eq!(failed(&again["decision"]["checks"]), ["order_paid"]);

        app.advance(&owner, 0, 1).await;
        let late = get(&app, &owner, &format!("/v1/orders/{}/refund-eligibility", id(&second))).await;
        assert_eq!((late["eligible"].as_bool(), failed(&late["checks"])), (Some(false), vec!["refund_window".to_owned()]));
        let refused = cancel(&app, &owner, &id(&second)).await.json();
        assert_eq!(refused["status"], "closed");
        assert_eq!(refused["decision"]["granted"], false);
        assert_eq!(failed(&refused["decision"]["checks"]), ["refund_window"]);
        assert_eq!(get(&app, &owner, &format!("/v1/orders/{}", id(&second))).await["status"], "paid");
        let membership = get(&app, &owner, &format!("/v1/memberships/{}", second["membership_id"].as_str().expect("membership"))).await;
        assert_eq!(membership["status"], "active");
    }

    async fn one_activated_benefit_or_one_revealed_key_blocks_the_refund(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let owner_id = get(&app, &owner, "/v1/me").await["user_id"].as_str().expect("user").to_owned();
        let activated = app.bought(&owner, "used_credit").await;
        let revealed = app.bought(&owner, "used_key").await;
        let clean = app.bought(&owner, "unused").await;
        let credit = benefit_of(&app, &owner, &id(&activated), "azure_credit").await;
        let reply = app.post_keyed(&format!("/v1/benefits/{}/activate", id(&credit)), &owner, &json!({"assignee_user_id": owner_id})).await;
        assert_eq!(reply.json()["status"], "activated");
        let key = benefit_of(&app, &owner, &id(&revealed), "software").await;
        let shown = app.post_keyed(&format!("/v1/benefits/{}/reveal-key", id(&key)), &owner, &json!({})).await.json();
        assert_eq!(shown["product_key"].as_str().map(str::len), Some(29), "{shown}");
        assert!(get(&app, &owner, &format!("/v1/benefits/{}", id(&key))).await["key_revealed_at"].is_string());
        app.post_keyed(&format!("/v1/benefits/{}/reveal-key", id(&credit)), &owner, &json!({})).await
            .assert_problem(409, "no_product_key");
        // Redemptions and refunds need an Idempotency-Key (DESIGN §2).
        app.post_json(&format!("/v1/benefits/{}/reveal-key", id(&key)), &owner, &json!({})).await
            .assert_problem(400, "idempotency_key_required");
        app.post_json(&format!("/v1/benefits/{}/activate", id(&key)), &owner, &json!({"assignee_user_id": owner_id})).await
            .assert_problem(400, "idempotency_key_required");
        app.post_json("/v1/support/requests", &owner, &json!({"category": "membership_cancellation", "title": "x", "order_id": id(&clean)})).await
            .assert_problem(400, "idempotency_key_required");

        let one = cancel(&app, &owner, &id(&activated)).await.json();
        assert_eq!(failed(&one["decision"]["checks"]), ["no_benefit_activated"]);
        let two = cancel(&app, &owner, &id(&revealed)).await.json();
        assert_eq!(failed(&two["decision"]["checks"]), ["no_product_key_revealed"]);
        assert_eq!(get(&app, &owner, &format!("/v1/orders/{}/refund-eligibility", id(&clean))).await["eligible"], true);
        assert_eq!(items(&get(&app, &owner, "/v1/audit-records?action=benefit.key_revealed").await).len(), 1);
    }

    async fn an_azure_credit_changes_hands_five_times_and_not_a_sixth(app) {
        let (directory, owner, _) = app.verified_sandbox().await;
        let (first, _) = app.add_user(directory, &owner, "first@contoso.com", &[]).await;
        let (second, _) = app.add_user(directory, &owner, "second@contoso.com", &[]).await;
        let order = app.bought(&owner, "credits").await;
        let credit = id(&benefit_of(&app, &owner, &id(&order), "azure_credit").await);
        let path = format!("/v1/benefits/{credit}/activate");
        let activate = |user: &str| {
            let body = json!({"assignee_user_id": user});
            let (app, path, owner) = (&app, &path, &owner);
            async move { app.post_keyed(path, owner, &body).await }
        };
        let activated = activate(&first).await.json();
        assert_eq!((activated["reassignments"].as_u64(), activated["reassignments_remaining"].as_u64()), (Some(0), Some(5)));
        // The same person again changes nothing.
        assert_eq!(activate(&first).await.json()["reassignments"], 0);
        for move_number in 1..=5u64 {
            let to = if move_number % 2 == 1 { &second } else { &first };
            let moved = activate(to).await;
            assert_eq!(moved.status, 200, "move {move_number}: {}", moved.text);
            assert_eq!(moved.json()["reassignments"], move_number);
        }
        let fifth = get(&app, &owner, &format!("/v1/benefits/{credit}")).await;
        assert_eq!((fifth["assignee_user_id"].as_str(), fifth["reassignments_remaining"].as_u64()), (Some(second.as_str()), Some(0)));
        activate(&first).await.assert_problem(409, "reassignment_limit_reached");
        assert_eq!(get(&app, &owner, &format!("/v1/benefits/{credit}")).await["assignee_user_id"], second.as_str());
        // Other benefits stay with their first user.
        let keys = id(&benefit_of(&app, &owner, &id(&order), "software").await);
        let keys_path = format!("/v1/benefits/{keys}/activate");
        assert_eq!(app.post_keyed(&keys_path, &owner, &json!({"assignee_user_id": first})).await.status, 200);
        app.post_keyed(&keys_path, &owner, &json!({"assignee_user_id": second})).await.assert_problem(409, "benefit_not_reassignable");
        app.post_keyed(&keys_path, &owner, &json!({"assignee_user_id": Uuid::now_v7()})).await.assert_problem(400, "validation_failed");
        assert_eq!(items(&get(&app, &owner, "/v1/audit-records?action=benefit.reassigned").await).len(), 5);
    }

    async fn a_renewal_a_second_before_the_window_is_refused_and_in_it_extends_from_the_anniversary(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let order = app.bought(&owner, "renewed").await;
        let lapsed = app.bought(&owner, "lapsed").await;
        app.bought(&owner, "renewed_by_wire").await;
        let membership_path = format!("/v1/memberships/{}", order["membership_id"].as_str().expect("membership"));
        let anniversary = at(&get(&app, &owner, &membership_path).await["anniversary_at"]);
        let renewal = json!({"program_id": "renewed", "kind": "renewal", "payment_method": "credit_card", "card_token": "tok_test_approve"});

        app.advance(&owner, 364, 86_399).await;
        let early = app.order(&owner, &renewal).await;
        let problem = early.assert_problem(409, "not_eligible");
        assert_eq!(failed(&problem["checks"]), ["renewal_window"]);
        let window = problem["checks"].as_array().expect("checks").iter().find(|c| c["code"] == "renewal_window").expect("check").clone();
        assert_eq!(at(&window["satisfied_from"]), anniversary);

        app.advance(&owner, 0, 1).await;
        assert_eq!(get(&app, &owner, &membership_path).await["status"], "renewal_due");
        // Paid a few days into the window, the new term still runs from the anniversary.
        app.advance(&owner, 3, 0).await;
        // A wire renewal must arrive inside the window: its deadline is the window's last second.
        let wired = app.order(&owner, &json!({"program_id": "renewed_by_wire", "kind": "renewal", "payment_method": "wire_transfer"})).await;
        assert_eq!(wired.status, 201, "{}", wired.text);
        assert_eq!(at(&wired.json()["wire"]["pay_by"]), anniversary + Duration::days(30) - Duration::seconds(1));
        let renewed = app.order(&owner, &renewal).await;
        assert_eq!(renewed.status, 201, "{}", renewed.text);
        assert_eq!(renewed.json()["kind"], "renewal");
        let membership = get(&app, &owner, &membership_path).await;
        assert_eq!(membership["status"], "active");
        assert_eq!(at(&membership["anniversary_at"]), anniversary + Duration::days(365));
        let renewal_order = renewed_id(&app, &owner).await;
        let renewal_benefits = items(&get(&app, &owner, "/v1/benefits").await).into_iter()
            .filter(|b| b["order_id"] == renewal_order).count();
        assert_eq!(renewal_benefits, 3, "the new term's benefits");
        app.order(&owner, &renewal).await.assert_problem(409, "not_eligible");

        // Not renewed by the window's end: expired, and its benefits with it.
        let lapsed_path = format!("/v1/memberships/{}", lapsed["membership_id"].as_str().expect("membership"));
        app.advance(&owner, 26, 86_399).await;
        assert_eq!(get(&app, &owner, &lapsed_path).await["status"], "renewal_due");
        app.advance(&owner, 0, 1).await;
        assert_eq!(get(&app, &owner, &lapsed_path).await["status"], "expired");
        let unpaid = items(&get(&app, &owner, "/v1/orders").await).into_iter()
            .find(|o| o["program_id"] == "renewed_by_wire" && o["kind"] == "renewal").expect("wire renewal");
        assert_eq!(unpaid["status"], "expired");
        let ended: Vec<Value> = items(&get(&app, &owner, "/v1/benefits").await).into_iter()
            .filter(|b| b["order_id"] == lapsed["id"]).collect();
        assert!(ended.iter().all(|b| b["status"] == "ended"), "{ended:?}");
        let late = json!({"program_id": "lapsed", "kind": "renewal", "payment_method": "credit_card", "card_token": "tok_test_approve"});
        assert_eq!(failed(&app.order(&owner, &late).await.assert_problem(409, "not_eligible")["checks"]), ["renewal_window"]);
    }

    async fn one_yearly_fee_covers_every_designation_of_a_fee_group(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        for program in ["designation_a", "designation_b"] {
            paid_program(&app, program, |d| d["fee_group"] = json!("probe_designations")).await;
        }
        let paid = app.order(&owner, &card("designation_a")).await.json();
        assert_eq!(paid["total"]["amount_minor"], 10000);
        app.advance(&owner, 10, 0).await;
        let covered = app.order(&owner, &card("designation_b")).await;
        assert_eq!(covered.status, 201, "{}", covered.text);
        let covered = covered.json();
        assert_eq!((covered["status"].as_str(), covered["total"]["amount_minor"].as_i64()), (Some("paid"), Some(0)));
        assert_eq!(covered["covered_by_order_id"], paid["id"]);
        let anniversary = |order: &Value| format!("/v1/memberships/{}", order["membership_id"].as_str().expect("membership"));
        let a = get(&app, &owner, &anniversary(&paid)).await;
        let b = get(&app, &owner, &anniversary(&covered)).await;
        assert_eq!(a["anniversary_at"], b["anniversary_at"], "the added designation shares the anniversary");
        assert_eq!(items(&get(&app, &owner, "/v1/invoices").await).len(), 1, "charged once");
        // Refunding the fee cancels every designation it paid for.
        let refund = cancel(&app, &owner, &id(&paid)).await.json();
        assert_eq!(refund["decision"]["granted"], true, "{refund}");
        assert_eq!(get(&app, &owner, &anniversary(&paid)).await["status"], "cancelled");
        assert_eq!(get(&app, &owner, &anniversary(&covered)).await["status"], "cancelled");
        assert_eq!(get(&app, &owner, &format!("/v1/orders/{}", id(&covered))).await["status"], "refunded");
    }

    async fn eight_parallel_cancellations_of_one_order_refund_it_once(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let order = app.bought(&owner, "contested").await;
        let order_id = id(&order);
        let attempts = (0..8).map(|_| cancel(&app, &owner, &order_id));
        let replies = futures_util::future::join_all(attempts).await;
        for reply in &replies {
            assert_eq!(reply.status, 201, "{}", reply.text);
        }
        let granted: Vec<Value> = replies.iter().map(Reply::json).filter(|r| r["decision"]["granted"] == true).collect();
        assert_eq!(granted.len(), 1);
        let refunded: i64 = granted.iter().filter_map(|r| r["decision"]["refund"]["amount"]["amount_minor"].as_i64()).sum();
        assert!(refunded <= order["total"]["amount_minor"].as_i64().expect("total"));
        assert_eq!(refunded, 10000);
        let documents = items(&get(&app, &owner, "/v1/invoices").await);
        assert_eq!(documents.iter().filter(|d| d["kind"] == "credit_note").count(), 1);
        let stored = get(&app, &owner, &format!("/v1/orders/{}", id(&order))).await;
        assert_eq!(stored["refunded"]["amount_minor"], 10000);
    }

    async fn eight_parallel_purchases_with_different_keys_make_one_membership(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        paid_program(&app, "once_only", |_| {}).await;
        let body = card("once_only");
        let attempts = (0..8).map(|_| app.order(&owner, &body));
        let replies = futures_util::future::join_all(attempts).await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_problem(409, "not_eligible");
        }
        assert_eq!(items(&get(&app, &owner, "/v1/memberships?program_id=once_only").await).len(), 1);
        assert_eq!(items(&get(&app, &owner, "/v1/orders").await).len(), 1);
        assert_eq!(items(&get(&app, &owner, "/v1/invoices").await).len(), 1);
    }

    async fn the_invoice_pdf_shows_its_number_buyer_and_total(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let order = app.bought(&owner, "printed").await;
        let partner_id = get(&app, &owner, "/v1/account").await["partner_id"].as_str().expect("partner id").to_owned();
        let invoice = &items(&get(&app, &owner, "/v1/invoices").await)[0];
        let response = app.request(Method::GET, &format!("/v1/invoices/{}/pdf", id(invoice)))
            .bearer_auth(&owner).send().await.expect("sent");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
        let pdf = response.bytes().await.expect("body");
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        let text = pdf_text(&pdf);
        for expected in ["INV-000001", "Contoso Ltd.", &partner_id, "USD 100.00", "Credit card"] {
            assert!(text.contains(expected), "{expected:?} not in the PDF text:\n{text}");
        }
        assert!(order["total"]["amount_minor"] == 10000);
        // The credit note names the invoice it credits.
        let refund = cancel(&app, &owner, &id(&order)).await.json();
        let note = refund["decision"]["refund"]["credit_note_id"].as_str().expect("credit note").to_owned();
        let response = app.request(Method::GET, &format!("/v1/invoices/{note}/pdf")).bearer_auth(&owner).send().await.expect("sent");
        let text = pdf_text(&response.bytes().await.expect("body"));
        assert!(text.contains("CN-000002") && text.contains("INV-000001"), "{text}");
    }

    async fn support_requests_are_private_to_their_author_unless_admin(app) {
        let (directory, owner, account) = app.verified_sandbox().await;
        let (_, viewer) = app.add_user(directory, &owner, "viewer@contoso.com", &["report_viewer"]).await;
        let (_, other) = app.add_user(directory, &owner, "other@contoso.com", &[]).await;
        let opened = app.post_json("/v1/support/requests", &viewer, &json!({"category": "billing", "title": "Tax exemption", "severity": "moderate"})).await;
        assert_eq!(opened.status, 201, "{}", opened.text);
        let request = opened.json();
        assert_eq!((request["status"].as_str(), request["severity"].as_str(), request["number"].as_i64()), (Some("open"), Some("moderate"), Some(1)));
        let path = format!("/v1/support/requests/{}", id(&request));
        app.get(&path, Some(&other)).await.assert_problem(404, "not_found");
        assert!(items(&get(&app, &other, "/v1/support/requests").await).is_empty());
        assert_eq!(items(&get(&app, &owner, "/v1/support/requests").await).len(), 1, "an admin sees every request");
        // A viewer may not cancel memberships.
        app.post_keyed("/v1/support/requests", &viewer, &json!({"category": "membership_cancellation", "title": "x", "order_id": Uuid::now_v7()})).await
            .assert_problem(403, "insufficient_role");
        app.post_keyed("/v1/support/requests", &owner, &json!({"category": "membership_cancellation", "title": "x"})).await
            .assert_problem(400, "validation_failed");

        // Support asks for something; the partner's note answers it.
        let replied = app.post_json(&format!("/v1/operator/accounts/{account}/support/requests/{}/replies", id(&request)),
            &app.operator_token(), &json!({"body": "Which country?", "attention_needed": true})).await;
        assert_eq!(replied.json()["status"], "attention_needed");
        let noted = app.send(app.request(Method::PATCH, &path).bearer_auth(&viewer).json(&json!({"note": "Germany."}))).await.json();
        assert_eq!(noted["status"], "open");
        let notes: Vec<&str> = noted["notes"].as_array().expect("notes").iter().filter_map(|n| n["author_kind"].as_str()).collect();
        assert_eq!(notes, ["support", "partner"]);
        let closed = app.send(app.request(Method::PATCH, &path).bearer_auth(&viewer).json(&json!({"status": "closed"}))).await.json();
        assert_eq!(closed["status"], "closed");
        assert!(closed["closed_at"].is_string());
        app.send(app.request(Method::PATCH, &path).bearer_auth(&viewer).json(&json!({"note": "One more thing."}))).await
            .assert_problem(409, "support_request_closed");
        app.send(app.request(Method::PATCH, &path).bearer_auth(&viewer).json(&json!({"status": "open"}))).await
            .assert_problem(400, "validation_failed");
    }
}

/// The id of the account's latest renewal order.
async fn renewed_id(app: &TestApp, token: &str) -> Value {
    items(&get(app, token, "/v1/orders").await)
        .into_iter()
        .rfind(|o| o["kind"] == "renewal")
        .map(|o| o["id"].clone())
        .expect("a renewal order")
}

/// The PDF's text, as `pdftotext` reads it. Without poppler's `pdftotext` the test fails when
/// `REQUIRE_PDFTOTEXT` is set (CI sets it); otherwise it reads the text operators itself.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output()
    {
        Ok(output) => {
            assert!(
                output.status.success(),
                "pdftotext failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        Err(error) => {
            assert!(
                std::env::var_os("REQUIRE_PDFTOTEXT").is_none(),
                "pdftotext is required: {error}"
            );
            String::from_utf8_lossy(pdf).into_owned()
        }
    }
}
