//! Cursor pagination (DESIGN §2), on the operator's account list.

use crate::dual_test;
use serde_json::Value;

dual_test! {
    async fn pages_follow_the_cursor_and_the_link_to_the_end(app) {
        let mut created = Vec::new();
        for _ in 0..5 {
            let (_, _, account) = app.create_account().await;
            created.push(account["id"].as_str().expect("id").to_owned());
        }
        let operator = app.operator_token();
        let mut seen: Vec<String> = Vec::new();
        let mut path = "/v1/operator/accounts?limit=2".to_owned();
        let mut pages = 0;
        loop {
            pages += 1;
            let reply = app.get(&path, Some(&operator)).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            let body = reply.json();
            let items = body["items"].as_array().expect("items");
            seen.extend(items.iter().map(|a| a["id"].as_str().expect("id").to_owned()));
            match body.get("next_cursor").and_then(Value::as_str) {
                Some(cursor) => {
                    assert_eq!(items.len(), 2);
                    let link = reply.header("link").expect("Link header with a next page");
                    let expected = format!("</v1/operator/accounts?limit=2&cursor={cursor}>; rel=\"next\"");
                    assert_eq!(link, expected);
                    path = link.trim_start_matches('<').split('>').next().expect("uri").to_owned();
                }
                None => {
                    assert_eq!(reply.header("link"), None);
                    assert!(body.get("next_cursor").is_none(), "absent, not null: {body}");
                    break;
                }
            }
        }
        assert_eq!(pages, 3);
        // Oldest first, each exactly once.
        assert_eq!(seen, created);
    }

    async fn filters_apply_across_pages(app) {
        for _ in 0..3 {
            app.create_account().await;
        }
        let operator = app.operator_token();
        let pending = app.get("/v1/operator/accounts?verification_status=pending&limit=2", Some(&operator)).await;
        let body = pending.json();
        assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
        let link = pending.header("link").expect("next page");
        assert!(link.contains("verification_status=pending"), "{link}");
        let verified = app.get("/v1/operator/accounts?verification_status=verified", Some(&operator)).await;
        assert_eq!(verified.json()["items"], serde_json::json!([]));
    }

    async fn a_foreign_cursor_is_400(app) {
        let operator = app.operator_token();
        for cursor in ["garbage", "djE6bm90LWEtdXVpZA"] {
            app.get(&format!("/v1/operator/accounts?cursor={cursor}"), Some(&operator))
                .await
                .assert_problem(400, "invalid_cursor");
        }
    }

    async fn an_empty_list_is_one_empty_page(app) {
        let reply = app.get("/v1/operator/accounts", Some(&app.operator_token())).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), serde_json::json!({"items": []}));
        assert_eq!(reply.header("link"), None);
    }
}
