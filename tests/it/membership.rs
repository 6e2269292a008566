//! Membership (DESIGN §5, §6, §9): the catalog, eligibility and its checks, memberships and
//! their clock-computed windows, skilling links and lag, performance linkage, capability
//! scores, applications, and sandbox accounts. Boundaries are reached with the sandbox clock.

use crate::dual_test;
use crate::harness::{Options, Reply, TestApp, program_definition};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

async fn eligibility(app: &TestApp, token: &str, program: &str) -> Value {
    let reply = app
        .get(&format!("/v1/programs/{program}/eligibility"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

/// The check with `code` (and `program_id`, when given).
fn check<'a>(answer: &'a Value, code: &str, program: Option<&str>) -> &'a Value {
    answer["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["code"] == code && program.is_none_or(|p| c["program_id"] == p))
        .unwrap_or_else(|| panic!("no {code} check in {answer}"))
}

fn failed(answer: &Value) -> Vec<String> {
    answer["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["satisfied"] == false)
        .map(|c| c["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn join(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post_json("/v1/memberships", token, &body).await
}

async fn membership(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("/v1/memberships/{id}"), Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

async fn grant(app: &TestApp, account: &str, program: &str) {
    let reply = app
        .post_json(
            &format!("/v1/operator/accounts/{account}/memberships"),
            &app.operator_token(),
            &json!({"program_id": program, "reason": "Migrated designation."}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn link_profile(app: &TestApp, token: &str, learn_id: &str) -> Reply {
    app.post_json(
        "/v1/me/learning-profile",
        token,
        &json!({"learn_id": learn_id}),
    )
    .await
}

async fn link_customer(app: &TestApp, token: &str, customer: Uuid) {
    let reply = app
        .post_json(
            "/v1/partner-links",
            token,
            &json!({"kind": "pal", "customer_tenant_id": customer}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn record(app: &TestApp, token: &str, body: Value) {
    let reply = app
        .post_json("/v1/sandbox/performance-records", token, &body)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn revenue(app: &TestApp, token: &str, area: &str, customer: Uuid, at: DateTime<Utc>) {
    record(
        app,
        token,
        json!({
            "area": area, "customer_tenant_id": customer, "kind": "revenue",
            "monthly_revenue": {"amount_minor": 100_000, "currency": "USD"},
            "occurred_at": at.to_rfc3339(),
        }),
    )
    .await;
}

async fn growth(
    app: &TestApp,
    token: &str,
    area: &str,
    customer: Uuid,
    percent: u32,
    at: DateTime<Utc>,
) {
    record(
        app,
        token,
        json!({
            "area": area, "customer_tenant_id": customer, "kind": "usage_growth",
            "growth_percent": percent, "occurred_at": at.to_rfc3339(),
        }),
    )
    .await;
}

async fn score(app: &TestApp, token: &str, area: &str) -> Value {
    let reply = app.get("/v1/solutions-partner/scores", Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["area"] == area)
        .cloned()
        .unwrap_or_else(|| panic!("no score for {area}"))
}

/// `probe_designation`: a self-service program scored on the Security area, 4 points per
/// holder of `security_operations_analyst_associate`, qualifying at `qualifying_total`.
async fn put_probe_designation(app: &TestApp, qualifying_total: u32) {
    let mut program = program_definition("self_service");
    program["scoring"] = json!({"area": "security", "qualifying_total": qualifying_total, "window_days": 180,
        "performance": {"max": 30, "points_per_customer_add": 10, "min_monthly_revenue_minor": 100000},
        "skilling": {"max": 40, "points_per_holder": 4, "credentials": ["security_operations_analyst_associate"]},
        "customer_success": {"max": 30, "points_per_growth_percent": 1, "usage_growth_max": 20, "points_per_deployment": 2, "deployments_max": 10}});
    assert_eq!(
        app.put_program("probe_designation", &program).await.status,
        201
    );
}

async fn credits(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/v1/skilling{query}"), Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"].as_array().expect("items").clone()
}

dual_test! {
    async fn the_catalog_lists_every_program_and_operators_edit_it(app) {
        let (_, owner, _) = app.create_account().await;
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/programs?limit=7&cursor={c}"),
                None => "/v1/programs?limit=7".to_owned(),
            };
            let page = app.get(&path, Some(&owner)).await.json();
            ids.extend(page["items"].as_array().expect("items").iter().map(|p| p["id"].as_str().expect("id").to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        for id in ["ai_cloud_partner_program", "action_pack", "solutions_partner_data_ai_azure", "solutions_partner_infrastructure_azure",
                   "solutions_partner_digital_app_innovation_azure", "solutions_partner_business_applications", "solutions_partner_modern_work",
                   "solutions_partner_security", "azure_expert_msp", "isv_success", "marketplace_rewards", "training_services_partner",
                   "surface_reseller_alliance", "specialization_identity_and_access_management"] {
            assert!(ids.contains(&id.to_owned()), "{id} missing from {ids:?}");
        }
        let sp = app.get("/v1/programs/solutions_partner_security", Some(&owner)).await;
        assert_eq!(sp.status, 200);
        let body = sp.json();
        assert_eq!(body["fee"], json!({"amount_minor": 473000, "currency": "USD"}));
        assert_eq!(body["scoring"]["qualifying_total"], 70);
        assert_eq!(body["edited"], false);
        let tag = sp.header("etag").expect("etag").to_owned();
        let unchanged = app.send(app.request(reqwest::Method::GET, "/v1/programs/solutions_partner_security").bearer_auth(&owner).header("if-none-match", &tag)).await;
        assert_eq!(unchanged.status, 304);
        let prices = app.get("/v1/pricing?track=isv", Some(&owner)).await.json();
        let priced: Vec<&str> = prices["items"].as_array().expect("items").iter().filter_map(|p| p["program_id"].as_str()).collect();
        assert_eq!(priced, vec!["isv_success", "marketplace_rewards"]);
        app.get("/v1/programs/no_such_program", Some(&owner)).await.assert_problem(404, "not_found");

        // An operator replaces a program only with its current ETag.
        let operator = app.operator_token();
        let mut definition = body.clone();
        for field in ["id", "version", "edited", "updated_at"] {
            definition.as_object_mut().expect("object").remove(field);
        }
        definition["fee"]["amount_minor"] = json!(500000);
        let path = "/v1/operator/programs/solutions_partner_security";
        let missing = app.send(app.request(reqwest::Method::PUT, path).bearer_auth(&operator).json(&definition)).await;
        missing.assert_problem(428, "precondition_required");
        app.put_json(path, &operator, "\"stale\"", &definition).await.assert_problem(412, "precondition_failed");
        let replaced = app.put_json(path, &operator, &tag, &definition).await;
        assert_eq!(replaced.status, 200, "{}", replaced.text);
        assert_eq!(replaced.json()["fee"]["amount_minor"], 500000);
        assert_eq!(replaced.json()["edited"], true);
        // A definition naming an unknown prerequisite changes nothing.
        let mut broken = program_definition("self_service");
        broken["prerequisites"]["programs"] = json!(["no_such_program"]);
        let refused = app.put_program("broken", &broken).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.field_errors(), vec![("prerequisites.programs[0]".to_owned(), "unknown_program".to_owned())]);
        app.get("/v1/programs/broken", Some(&owner)).await.assert_problem(404, "not_found");
    }

    // The service keeps decoded programs between requests (issue 7's performance pass); an
    // operator's edit must still apply to the very next check, and so must its undoing.
    async fn an_edited_program_applies_to_the_next_eligibility_check(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let mut definition = program_definition("self_service");
        let created = app.put_program("edited_between_checks", &definition).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let path = "/v1/programs/edited_between_checks/eligibility";
        let open: Vec<String> = Vec::new();
        assert_eq!(failed(&app.get(path, Some(&owner)).await.json()), open);
        assert_eq!(failed(&app.get(path, Some(&owner)).await.json()), open);

        definition["prerequisites"]["published_transactable_offer"] = json!(true);
        let edited = app.put_program("edited_between_checks", &definition).await;
        assert_eq!(edited.status, 200, "{}", edited.text);
        assert_eq!(failed(&app.get(path, Some(&owner)).await.json()), vec!["published_transactable_offer"]);

        definition["prerequisites"]["published_transactable_offer"] = json!(false);
        assert_eq!(app.put_program("edited_between_checks", &definition).await.status, 200);
        assert_eq!(failed(&app.get(path, Some(&owner)).await.json()), open);
    }

    // What an eligibility check reads is kept between requests (SQLite), but the answer is
    // evaluated at each request's now, and the next write retires what was kept.
    async fn a_kept_eligibility_check_is_evaluated_at_each_requests_now(app) {
        // Not a sandbox: its now is the wall clock's, which moves on between two requests.
        let (_, owner, account) = app.create_account().await;
        let first = eligibility(&app, &owner, "isv_success").await;
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = eligibility(&app, &owner, "isv_success").await;
        assert!(at(&second["as_of"]) > at(&first["as_of"]), "{first} {second}");
        assert_eq!(first["checks"], second["checks"]);
        assert_eq!(failed(&second), vec!["account_verified"]);
        let decided = app.decide(account["id"].as_str().expect("id"), "verified", None).await;
        assert_eq!(decided.status, 200, "{}", decided.text);
        let third = eligibility(&app, &owner, "isv_success").await;
        assert_eq!(third["eligible"], true, "{third}");
    }

    async fn a_new_account_holds_the_base_program_and_a_rejected_one_cannot_enroll(app) {
        let (_, owner, _) = app.create_sandbox_account().await;
        let held = app.get("/v1/memberships", Some(&owner)).await.json();
        assert_eq!(held["items"][0]["program_id"], "ai_cloud_partner_program");
        assert_eq!(held["items"][0]["status"], "active");
        assert_eq!(held["items"][0]["expires_at"], Value::Null);
        // Pending verification: not yet.
        let answer = eligibility(&app, &owner, "isv_success").await;
        assert_eq!(answer["eligible"], false);
        assert_eq!(failed(&answer), vec!["account_verified"]);
        let rejected = app.post_json("/v1/sandbox/verification", &owner, &json!({"outcome": "rejected", "reason": "Not a company."})).await;
        assert_eq!(rejected.status, 200, "{}", rejected.text);
        let answer = eligibility(&app, &owner, "isv_success").await;
        assert!(check(&answer, "account_verified", None)["detail"].as_str().expect("detail").contains("rejected"));
        let refused = join(&app, &owner, json!({"program_id": "isv_success"})).await;
        let problem = refused.assert_problem(409, "not_eligible");
        assert_eq!(problem["checks"].as_array().expect("checks").len(), answer["checks"].as_array().expect("checks").len());
        assert_eq!(app.get("/v1/memberships", Some(&owner)).await.json()["items"].as_array().expect("items").len(), 1);
    }

    async fn renewal_due_from_the_anniversary_to_its_last_second_then_expired(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        // Marketplace Rewards needs a published transactable offer.
        let answer = eligibility(&app, &owner, "marketplace_rewards").await;
        assert_eq!(failed(&answer), vec!["published_transactable_offer"]);
        join(&app, &owner, json!({"program_id": "marketplace_rewards"})).await.assert_problem(409, "not_eligible");
        let draft = app.post_json("/v1/marketplace/offers", &owner, &json!({"name": "Contoso Insights", "transactable": true})).await.json();
        assert_eq!(failed(&eligibility(&app, &owner, "marketplace_rewards").await), vec!["published_transactable_offer"]);
        let published = app.post_json(&format!("/v1/marketplace/offers/{}/publish", draft["id"].as_str().expect("id")), &owner, &json!({})).await;
        assert_eq!(published.json()["status"], "published");

        let start = app.sandbox_now(&owner).await;
        let rewards = join(&app, &owner, json!({"program_id": "marketplace_rewards"})).await;
        assert_eq!(rewards.status, 201, "{}", rewards.text);
        let rewards = rewards.json();
        let isv = join(&app, &owner, json!({"program_id": "isv_success"})).await.json();
        let id = rewards["id"].as_str().expect("id");
        assert_eq!(at(&rewards["anniversary_at"]), start + Duration::days(365));
        assert_eq!(at(&rewards["renewal_window"]["ends_at"]), start + Duration::days(395));
        assert_eq!(isv["renewal_window"], Value::Null);

        app.advance(&owner, 364, 86_399).await;
        assert_eq!(membership(&app, &owner, id).await["status"], "active");
        app.advance(&owner, 0, 1).await;
        assert_eq!(membership(&app, &owner, id).await["status"], "renewal_due");
        // ISV Success cannot be renewed: it ends at its anniversary.
        assert_eq!(membership(&app, &owner, isv["id"].as_str().expect("id")).await["status"], "expired");
        app.advance(&owner, 29, 86_399).await;
        assert_eq!(membership(&app, &owner, id).await["status"], "renewal_due");
        let blocked = eligibility(&app, &owner, "marketplace_rewards").await;
        assert_eq!(at(&check(&blocked, "no_duplicate_membership", None)["satisfied_from"]), start + Duration::days(395));
        app.advance(&owner, 0, 1).await;
        assert_eq!(membership(&app, &owner, id).await["status"], "expired");
        let listed = app.get("/v1/memberships?status=expired", Some(&owner)).await.json();
        assert_eq!(listed["items"].as_array().expect("items").len(), 2);
        // Expired: the account may join afresh.
        assert_eq!(eligibility(&app, &owner, "marketplace_rewards").await["eligible"], true);
    }

    async fn a_preview_program_needs_the_allow_list_and_laps_needs_it_too(app) {
        let (_, owner, account) = app.verified_sandbox().await;
        let answer = eligibility(&app, &owner, "training_services_partner").await;
        assert_eq!(failed(&answer), vec!["preview_allow_list"]);
        let refused = join(&app, &owner, json!({"program_id": "training_services_partner"})).await;
        let problem = refused.assert_problem(409, "not_eligible");
        assert!(problem["checks"].as_array().expect("checks").iter().any(|c| c["code"] == "preview_allow_list" && c["satisfied"] == false));
        let laps = app.get("/v1/programs/action_pack/eligibility?benefit_pack=laps", Some(&owner)).await.json();
        assert_eq!(check(&laps, "benefit_pack", None)["satisfied"], false);
        assert_eq!(check(&laps, "benefit_pack", None)["program_id"], "training_services_partner");

        let listed = app.put_json("/v1/operator/programs/training_services_partner/allow-list", &app.operator_token(), "*", &json!({"account_ids": [account]})).await;
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert_eq!(eligibility(&app, &owner, "training_services_partner").await["eligible"], true);
        let joined = join(&app, &owner, json!({"program_id": "training_services_partner"})).await;
        assert_eq!(joined.status, 201, "{}", joined.text);
        let laps = app.get("/v1/programs/action_pack/eligibility?benefit_pack=laps", Some(&owner)).await.json();
        assert_eq!(laps["eligible"], true, "{laps}");
        // The Action Pack is paid: it is bought, not joined here.
        join(&app, &owner, json!({"program_id": "action_pack", "benefit_pack": "laps"})).await.assert_problem(409, "purchase_required");
        // An unknown account on the allow-list is refused and changes nothing.
        let unknown = app.put_json("/v1/operator/programs/training_services_partner/allow-list", &app.operator_token(), "*", &json!({"account_ids": [Uuid::now_v7()]})).await;
        unknown.assert_problem(400, "validation_failed");
        let kept = app.get("/v1/operator/programs/training_services_partner/allow-list", Some(&app.operator_token())).await.json();
        assert_eq!(kept["items"][0]["account_id"], account.as_str());
    }

    async fn specializations_and_azure_expert_msp_need_their_designations(app) {
        let (_, owner, account) = app.verified_sandbox().await;
        let spec = "specialization_identity_and_access_management";
        let answer = eligibility(&app, &owner, spec).await;
        assert_eq!(check(&answer, "prerequisite_program", Some("solutions_partner_security"))["satisfied"], false);
        let refused = app.post_json("/v1/program-applications", &owner, &json!({"program_id": spec, "evidence": "Audit 2026-11."})).await;
        refused.assert_problem(409, "not_eligible");
        join(&app, &owner, json!({"program_id": spec})).await.assert_problem(409, "application_required");

        grant(&app, &account, "solutions_partner_security").await;
        let applied = app.post_json("/v1/program-applications", &owner, &json!({"program_id": spec, "evidence": "Audit 2026-11."})).await;
        assert_eq!(applied.status, 201, "{}", applied.text);
        let application = applied.json();
        app.post_json("/v1/program-applications", &owner, &json!({"program_id": spec, "evidence": "Again."})).await
            .assert_problem(409, "application_pending");
        let queue = app.get("/v1/operator/program-applications?status=submitted", Some(&app.operator_token())).await.json();
        assert_eq!(queue["items"][0]["id"], application["id"]);
        let decision = format!("/v1/operator/accounts/{account}/program-applications/{}/decision", application["id"].as_str().expect("id"));
        let approved = app.post_json(&decision, &app.operator_token(), &json!({"outcome": "approved"})).await;
        assert_eq!(approved.status, 200, "{}", approved.text);
        assert_eq!(approved.json()["status"], "approved");
        app.post_json(&decision, &app.operator_token(), &json!({"outcome": "rejected", "reason": "Late."})).await
            .assert_problem(409, "application_decided");
        let held = app.get(&format!("/v1/memberships?program_id={spec}"), Some(&owner)).await.json();
        assert_eq!(held["items"][0]["status"], "active");
        assert_eq!(held["items"][0]["source"], "application");
        let items = app.get("/v1/action-center/items", Some(&owner)).await.json();
        assert!(items["items"].as_array().expect("items").iter().any(|i| i["event"] == "program_application.approved"));

        // Azure Expert MSP: all three Azure designations, not two.
        grant(&app, &account, "solutions_partner_data_ai_azure").await;
        grant(&app, &account, "solutions_partner_infrastructure_azure").await;
        let answer = eligibility(&app, &owner, "azure_expert_msp").await;
        assert_eq!(failed(&answer), vec!["prerequisite_program"]);
        assert_eq!(check(&answer, "prerequisite_program", Some("solutions_partner_digital_app_innovation_azure"))["satisfied"], false);
        grant(&app, &account, "solutions_partner_digital_app_innovation_azure").await;
        assert_eq!(eligibility(&app, &owner, "azure_expert_msp").await["eligible"], true);
        let applied = app.post_json("/v1/program-applications", &owner, &json!({"program_id": "azure_expert_msp", "evidence": "MSP audit."})).await.json();
        let rejected = app.post_json(&format!("/v1/operator/accounts/{account}/program-applications/{}/decision", applied["id"].as_str().expect("id")),
            &app.operator_token(), &json!({"outcome": "rejected", "reason": "Audit incomplete."})).await;
        assert_eq!(rejected.json()["reason"], "Audit incomplete.");
        let audit = app.get("/v1/audit-records?action=program_application.decided", Some(&owner)).await.json();
        assert_eq!(audit["items"].as_array().expect("items").len(), 2);
    }

    async fn sales_windows_exclusive_groups_and_duplicates_refuse_with_their_checks(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let now = app.sandbox_now(&owner).await;
        let mut windowed = program_definition("self_service");
        windowed["sales_start"] = json!((now + Duration::days(5)).to_rfc3339());
        windowed["sales_end"] = json!((now + Duration::days(6)).to_rfc3339());
        assert_eq!(app.put_program("launch", &windowed).await.status, 201);
        let answer = eligibility(&app, &owner, "launch").await;
        assert_eq!(failed(&answer), vec!["sales_window"]);
        assert_eq!(at(&check(&answer, "sales_window", None)["satisfied_from"]), now + Duration::days(5));
        app.advance(&owner, 5, 0).await;
        assert_eq!(eligibility(&app, &owner, "launch").await["eligible"], true);
        app.advance(&owner, 1, 0).await;
        let closed = eligibility(&app, &owner, "launch").await;
        assert_eq!(failed(&closed), vec!["sales_window"]);
        assert_eq!(check(&closed, "sales_window", None)["satisfied_from"], Value::Null);

        let mut grouped = program_definition("self_service");
        grouped["exclusive_group"] = json!("starter_pack");
        assert_eq!(app.put_program("starter_a", &grouped).await.status, 201);
        assert_eq!(app.put_program("starter_b", &grouped).await.status, 201);
        assert_eq!(join(&app, &owner, json!({"program_id": "starter_a"})).await.status, 201);
        let second = eligibility(&app, &owner, "starter_b").await;
        assert_eq!(failed(&second), vec!["exclusive_group"]);
        let again = join(&app, &owner, json!({"program_id": "starter_a"})).await;
        let problem = again.assert_problem(409, "not_eligible");
        let codes: Vec<&str> = problem["checks"].as_array().expect("checks").iter().filter(|c| c["satisfied"] == false).filter_map(|c| c["code"].as_str()).collect();
        assert_eq!(codes, vec!["exclusive_group", "no_duplicate_membership"]);
        // Only enrolling roles may join: a report viewer sees why.
        let all = app.get("/v1/eligibility", Some(&owner)).await.json();
        assert!(all["items"].as_array().expect("items").len() >= 20);
    }

    async fn skilling_credit_counts_at_the_lag_and_not_a_second_before(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let t0 = app.sandbox_now(&owner).await;
        let linked = link_profile(&app, &owner, "learn-jane").await;
        assert_eq!(linked.status, 201, "{}", linked.text);
        app.complete_certification(&owner, "learn-jane", "security_operations_analyst_associate", t0 - Duration::days(3)).await;
        let listed = credits(&app, &owner, "").await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["status"], "pending");
        assert_eq!(at(&listed[0]["counts_from"]), t0 + Duration::days(10));

        // A small designation scored on this area: qualifies once the credit counts.
        put_probe_designation(&app, 12).await;
        let customer = Uuid::now_v7();
        link_customer(&app, &owner, customer).await;
        revenue(&app, &owner, "security", customer, t0).await;
        growth(&app, &owner, "security", customer, 1, t0).await;
        let answer = eligibility(&app, &owner, "probe_designation").await;
        assert_eq!(failed(&answer), vec!["capability_score"]);
        assert_eq!(at(&check(&answer, "capability_score", None)["satisfied_from"]), t0 + Duration::days(10));

        app.advance(&owner, 9, 86_399).await;
        assert_eq!(credits(&app, &owner, "?status=pending").await.len(), 1);
        assert_eq!(credits(&app, &owner, "?status=counted").await.len(), 0);
        assert_eq!(score(&app, &owner, "security").await["skilling"]["points"], 0);
        assert_eq!(eligibility(&app, &owner, "probe_designation").await["eligible"], false);
        app.advance(&owner, 0, 1).await;
        let counted = credits(&app, &owner, "?status=counted").await;
        assert_eq!(counted.len(), 1);
        assert_eq!(counted[0]["status"], "counted");
        assert_eq!(score(&app, &owner, "security").await["skilling"]["points"], 4);
        assert_eq!(eligibility(&app, &owner, "probe_designation").await["eligible"], true);
        let joined = join(&app, &owner, json!({"program_id": "probe_designation"})).await;
        assert_eq!(joined.status, 201, "{}", joined.text);
        let audit = app.get("/v1/audit-records?action=membership.activated", Some(&owner)).await.json();
        assert_eq!(audit["items"][0]["details"]["program_id"], "probe_designation");
        let items = app.get("/v1/action-center/items", Some(&owner)).await.json();
        assert!(items["items"].as_array().expect("items").iter().any(|i| i["event"] == "membership.activated"));
    }

    async fn seventy_points_qualify_sixty_nine_do_not_and_a_zero_metric_never_does(app) {
        let (directory, owner, _) = app.verified_sandbox().await;
        let t0 = app.sandbox_now(&owner).await;
        // Ten people: each holds a Data & AI credential; nine also a Security one.
        for i in 0..10 {
            let email = format!("engineer{i}@contoso.com");
            let (_, token) = app.add_user(directory, &owner, &email, &["report_viewer"]).await;
            let learn = format!("learn-{i}");
            assert_eq!(link_profile(&app, &token, &learn).await.status, 201);
            app.complete_certification(&owner, &learn, "azure_data_scientist_associate", t0).await;
            if i < 9 {
                app.complete_certification(&owner, &learn, "security_operations_analyst_associate", t0).await;
            }
        }
        let customers: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        for (i, customer) in customers.iter().enumerate() {
            // Two linked at first; the third counts once linked.
            if i < 2 {
                link_customer(&app, &owner, *customer).await;
            }
            revenue(&app, &owner, "security", *customer, t0).await;
            revenue(&app, &owner, "data_ai_azure", *customer, t0).await;
        }
        growth(&app, &owner, "security", customers[0], 3, t0).await;
        assert_eq!(score(&app, &owner, "security").await["performance"]["points"], 20);
        link_customer(&app, &owner, customers[2]).await;
        assert_eq!(score(&app, &owner, "security").await["performance"]["points"], 30);

        app.advance(&owner, 10, 0).await;
        let security = score(&app, &owner, "security").await;
        assert_eq!((security["skilling"]["points"].clone(), security["customer_success"]["points"].clone()), (json!(36), json!(3)));
        assert_eq!((security["total"].clone(), security["qualified"].clone()), (json!(69), json!(false)));
        let data_ai = score(&app, &owner, "data_ai_azure").await;
        assert_eq!((data_ai["total"].clone(), data_ai["customer_success"]["points"].clone(), data_ai["qualified"].clone()), (json!(70), json!(0), json!(false)));
        assert_eq!(failed(&eligibility(&app, &owner, "solutions_partner_data_ai_azure").await), vec!["capability_score"]);

        let now = app.sandbox_now(&owner).await;
        growth(&app, &owner, "security", customers[1], 1, now).await;
        let security = score(&app, &owner, "security").await;
        assert_eq!((security["total"].clone(), security["qualified"].clone()), (json!(70), json!(true)));
        let answer = eligibility(&app, &owner, "solutions_partner_security").await;
        assert_eq!(answer["eligible"], true, "{answer}");
        // Removing a link takes the customer's records out of the score.
        let links = app.get("/v1/partner-links", Some(&owner)).await.json();
        let first = links["items"][0]["id"].as_str().expect("id").to_owned();
        assert_eq!(app.delete(&format!("/v1/partner-links/{first}"), &owner, None).await.status, 204);
        assert_eq!(score(&app, &owner, "security").await["qualified"], false);
    }

    async fn a_person_links_three_profiles_a_year_thirty_days_apart(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        assert_eq!(link_profile(&app, &owner, "learn-1").await.status, 201);
        assert_eq!(link_profile(&app, &owner, "learn-1").await.status, 200);
        app.advance(&owner, 29, 0).await;
        let early = link_profile(&app, &owner, "learn-2").await;
        early.assert_problem(409, "association_cooling_off");
        app.advance(&owner, 1, 0).await;
        assert_eq!(link_profile(&app, &owner, "learn-2").await.status, 201);
        app.advance(&owner, 30, 0).await;
        assert_eq!(link_profile(&app, &owner, "learn-3").await.status, 201);
        app.advance(&owner, 30, 0).await;
        link_profile(&app, &owner, "learn-4").await.assert_problem(409, "association_limit_reached");
        let profile = app.get("/v1/me/learning-profile", Some(&owner)).await.json();
        assert_eq!(profile["current"]["learn_id"], "learn-3");
        assert_eq!(profile["history"].as_array().expect("history").len(), 3);
        assert_eq!(profile["history"][0]["unlinked_reason"], "relinked");
        // The fourth is allowed when the first is 365 days old, and not a second before.
        app.advance(&owner, 274, 86_399).await;
        link_profile(&app, &owner, "learn-4").await.assert_problem(409, "association_limit_reached");
        app.advance(&owner, 0, 1).await;
        assert_eq!(link_profile(&app, &owner, "learn-4").await.status, 201);
    }

    async fn linking_a_profile_to_another_account_unlinks_it_from_the_first(app) {
        let (a_directory, a_owner, _) = app.create_account().await;
        let (_, a_engineer) = app.add_user(a_directory, &a_owner, "sam@contoso.com", &["report_viewer"]).await;
        let (b_directory, b_owner, _) = app.create_account_as("owner@fabrikam.com").await;
        let (_, b_engineer) = app.add_user(b_directory, &b_owner, "sam@fabrikam.com", &["report_viewer"]).await;
        assert_eq!(link_profile(&app, &a_engineer, "learn-sam").await.status, 201);
        let fed = app.post_json("/v1/operator/skilling/completions", &app.operator_token(), &json!({
            "learn_id": "learn-sam", "kind": "certification", "credential": "azure_administrator_associate",
            "title": "Azure Administrator Associate", "completed_at": "2026-01-05T00:00:00Z"})).await;
        assert_eq!(fed.status, 201, "{}", fed.text);
        let again = app.post_json("/v1/operator/skilling/completions", &app.operator_token(), &json!({
            "learn_id": "learn-sam", "kind": "certification", "credential": "azure_administrator_associate",
            "title": "Azure Administrator Associate", "completed_at": "2026-01-05T00:00:00Z"})).await;
        assert_eq!((again.status.as_u16(), again.json()["created"].clone()), (200, json!(false)));
        assert_eq!(credits(&app, &a_owner, "").await.len(), 1);

        let moved = link_profile(&app, &b_engineer, "learn-sam").await;
        assert_eq!(moved.status, 201, "{}", moved.text);
        assert_eq!(moved.json()["credited_completions"], 1);
        assert!(credits(&app, &a_owner, "").await.is_empty());
        assert_eq!(credits(&app, &b_owner, "").await.len(), 1);
        let left = app.get("/v1/me/learning-profile", Some(&a_engineer)).await.json();
        assert_eq!(left["current"], Value::Null);
        assert_eq!(left["history"][0]["unlinked_reason"], "moved");
        let items = app.get("/v1/action-center/items", Some(&a_engineer)).await.json();
        assert!(items["items"].as_array().expect("items").iter().any(|i| i["event"] == "skilling.profile_unlinked"));
    }

    async fn eight_parallel_joins_of_one_program_make_one_membership(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let attempts = (0..8).map(|_| join(&app, &owner, json!({"program_id": "isv_success"})));
        let replies = futures_util::future::join_all(attempts).await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_problem(409, "not_eligible");
        }
        let held = app.get("/v1/memberships?program_id=isv_success", Some(&owner)).await.json();
        assert_eq!(held["items"].as_array().expect("items").len(), 1);
    }

    async fn sandbox_routes_refuse_live_accounts_and_the_clock_only_moves_forward(app) {
        let (_, live, _) = app.create_account().await;
        app.get("/v1/sandbox/clock", Some(&live)).await.assert_problem(409, "not_a_sandbox");
        app.post_json("/v1/sandbox/clock", &live, &json!({"advance_days": 1})).await.assert_problem(409, "not_a_sandbox");
        app.post_json("/v1/sandbox/verification", &live, &json!({"outcome": "verified"})).await.assert_problem(409, "not_a_sandbox");
        app.post_json("/v1/sandbox/performance-records", &live, &json!({"area": "security", "customer_tenant_id": Uuid::now_v7(),
            "kind": "usage_growth", "growth_percent": 1, "occurred_at": "2026-01-01T00:00:00Z"})).await.assert_problem(409, "not_a_sandbox");

        let (_, owner, account) = app.create_sandbox_account().await;
        assert_eq!(account["sandbox"], true);
        let clock = app.get("/v1/sandbox/clock", Some(&owner)).await.json();
        assert_eq!(clock["now"], clock["started_at"]);
        app.post_json("/v1/sandbox/clock", &owner, &json!({"advance_days": 0})).await.assert_problem(400, "validation_failed");
        app.post_json("/v1/sandbox/clock", &owner, &json!({"advance_days": -1})).await.assert_problem(400, "validation_failed");
        let start = at(&clock["now"]);
        let moved = app.advance(&owner, 2, 5).await;
        assert_eq!(at(&json!(moved)), start + Duration::days(2) + Duration::seconds(5));
        // A completion dated after the sandbox's now is refused.
        let future = app.post_json("/v1/sandbox/skilling/completions", &owner, &json!({
            "learn_id": "learn-x", "kind": "training", "credential": "c", "title": "t",
            "completed_at": (start + Duration::days(3)).to_rfc3339()})).await;
        future.assert_problem(400, "validation_failed");
        let audit = app.get("/v1/audit-records?action=sandbox.clock_advanced", Some(&owner)).await.json();
        assert_eq!(audit["items"].as_array().expect("items").len(), 1);
    }
}

dual_test! {
    // Found by contract fuzzing: the spec bounds these filters at 64 characters, and a longer
    // one used to be answered 200 with an empty list instead of the documented 400.
    async fn query_filters_longer_than_documented_are_refused(app) {
        let (_, owner, _) = app.create_account().await;
        let long = "p".repeat(65);
        let listed = app.get(&format!("/v1/memberships?program_id={long}"), Some(&owner)).await;
        listed.assert_problem(400, "invalid_query_parameter");
        assert!(listed.field_errors().contains(&("program_id".to_owned(), "too_long".to_owned())), "{}", listed.text);
        let at_limit = app.get(&format!("/v1/memberships?program_id={}", "p".repeat(64)), Some(&owner)).await;
        assert_eq!(at_limit.status, 200, "{}", at_limit.text);

        let asked = app.get(&format!("/v1/programs/action_pack/eligibility?benefit_pack={long}"), Some(&owner)).await;
        asked.assert_problem(400, "invalid_query_parameter");
        assert!(asked.field_errors().contains(&("benefit_pack".to_owned(), "too_long".to_owned())), "{}", asked.text);
        let pack = app.get("/v1/programs/action_pack/eligibility?benefit_pack=maps", Some(&owner)).await;
        assert_eq!(pack.status, 200, "{}", pack.text);
    }
}

crate::dual_db_test! {
    async fn eligibility_scores_every_credit_and_record_past_the_inline_bound(db) {
        // Eligibility reads an account's credits and linked records on the actix worker up to a
        // bound, and on the blocking pool past it: here the bound is 3 rows, and the answer on
        // either side of it is the score the scores endpoint computes from every row.
        let options = Options { migrate: true, inline_evidence: Some(3), ..Options::default() };
        let app = TestApp::spawn_with(db, options).await;
        let (directory, owner, _) = app.verified_sandbox().await;
        let t0 = app.sandbox_now(&owner).await;
        put_probe_designation(&app, 100).await;
        let customer = Uuid::now_v7();
        link_customer(&app, &owner, customer).await;
        revenue(&app, &owner, "security", customer, t0).await;
        let mut holders = 0;
        let mut add_holder = async || {
            let email = format!("holder{holders}@contoso.com");
            let (_, token) = app.add_user(directory, &owner, &email, &["report_viewer"]).await;
            let learn = format!("learn-holder-{holders}");
            assert_eq!(link_profile(&app, &token, &learn).await.status, 201);
            app.complete_certification(&owner, &learn, "security_operations_analyst_associate", t0).await;
            holders += 1;
        };
        let reported = async |total: u64| {
            let answer = eligibility(&app, &owner, "probe_designation").await;
            let detail = check(&answer, "capability_score", None)["detail"].as_str().expect("detail").to_owned();
            assert!(detail.starts_with(&format!("The capability score is {total};")), "{detail}");
            assert_eq!(score(&app, &owner, "security").await["total"], total);
        };
        // One record and two credits (counting once the lag has passed): at the bound.
        add_holder().await;
        add_holder().await;
        app.advance(&owner, 10, 0).await;
        reported(18).await;
        // One record and three credits: one past it.
        add_holder().await;
        app.advance(&owner, 10, 0).await;
        reported(22).await;
        // Records alone past it: four growth records of the linked customer (the largest counts).
        for percent in [1, 2, 3, 4] {
            growth(&app, &owner, "security", customer, percent, t0 - Duration::hours(i64::from(percent))).await;
        }
        reported(26).await;
    }
}
