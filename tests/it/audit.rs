//! The audit log (DESIGN §2): one record per change, written with the change, filterable and
//! paginated; refused changes leave none.

use crate::dual_test;
use crate::harness::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

async fn records(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/v1/audit-records{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"].as_array().expect("items").clone()
}

fn actions(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect()
}

dual_test! {
    async fn every_change_writes_one_record_naming_its_request(app) {
        let (directory, owner, account) = app.create_account().await;
        let added = app.send(app.request(Method::POST, "/v1/users").bearer_auth(&owner)
            .header("x-request-id", "add-sam-0001")
            .json(&json!({"email": "sam@contoso.com", "roles": ["report_viewer"]}))).await;
        assert_eq!(added.status, 201, "{}", added.text);
        let sam_id = added.json()["id"].as_str().expect("id").to_owned();
        let etag = added.header("etag").expect("etag").to_owned();
        let changed = app.put_json(&format!("/v1/users/{sam_id}/roles"), &owner, &etag, &json!({"roles": ["billing_admin"]})).await;
        assert_eq!(changed.status, 200, "{}", changed.text);
        app.decide(account["id"].as_str().expect("id"), "verified", None).await;
        // Refused and failed requests change nothing and record nothing.
        let owner_id = app.get("/v1/me", Some(&owner)).await.json()["user_id"].as_str().expect("id").to_owned();
        let tag = app.get(&format!("/v1/users/{owner_id}"), Some(&owner)).await.header("etag").expect("etag").to_owned();
        app.delete(&format!("/v1/users/{owner_id}"), &owner, Some(&tag)).await.assert_problem(409, "last_global_admin");
        app.post_json("/v1/users", &owner, &json!({"email": "sam@contoso.com", "roles": []})).await.assert_problem(409, "user_exists");

        let all = records(&app, &owner, "").await;
        assert_eq!(actions(&all), vec!["verification.decided", "user.roles_changed", "user.created", "account.created"]);
        let created = &all[2];
        assert_eq!(created["actor"], json!({"kind": "user", "id": "jane.doe@contoso.com"}));
        assert_eq!(created["target_type"], "user");
        assert_eq!(created["target_id"], sam_id.as_str());
        assert_eq!(created["request_id"], "add-sam-0001");
        assert_eq!(created["details"]["roles"], json!(["report_viewer"]));
        assert_eq!(all[1]["details"], json!({"from": ["report_viewer"], "to": ["billing_admin"]}));
        assert_eq!(all[0]["actor"]["kind"], "operator");
        assert_eq!(all[0]["details"]["verification_status"], json!({"from": "pending", "to": "verified"}));
        assert_eq!(all[3]["target_id"], account["id"]);

        // Filters.
        assert_eq!(actions(&records(&app, &owner, "?action=user.created").await), vec!["user.created"]);
        assert_eq!(records(&app, &owner, &format!("?target={sam_id}")).await.len(), 2);
        assert_eq!(actions(&records(&app, &owner, "?actor=operator@partner-center.example").await), vec!["verification.decided"]);
        let at = all[1]["at"].as_str().expect("at");
        let encoded = at.replace(':', "%3A");
        assert_eq!(actions(&records(&app, &owner, &format!("?from={encoded}")).await), vec!["verification.decided", "user.roles_changed"]);
        assert_eq!(actions(&records(&app, &owner, &format!("?to={encoded}")).await), vec!["user.created", "account.created"]);
        app.get("/v1/audit-records?from=yesterday", Some(&owner)).await.assert_problem(400, "invalid_query_parameter");

        // Pages.
        let first = app.get("/v1/audit-records?limit=3", Some(&owner)).await;
        assert!(first.header("link").is_some_and(|link| link.contains("rel=\"next\"")));
        let cursor = first.json()["next_cursor"].as_str().expect("cursor").to_owned();
        let second = records(&app, &owner, &format!("?limit=3&cursor={cursor}")).await;
        assert_eq!(actions(&second), vec!["account.created"]);

        // Only account and global admins read the log.
        let sam = app.user_token(directory, "sam@contoso.com");
        app.get("/v1/audit-records", Some(&sam)).await.assert_problem(403, "insufficient_role");
    }
}
