//! DESIGN §2 conventions that every route shares: problem+json for every error, request ids,
//! body limits, strict input.

use crate::dual_test;
use crate::harness::account_body;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

dual_test! {
    async fn unknown_route_is_a_problem_404(app) {
        let reply = app.get("/v1/nothing-here", None).await;
        reply.assert_problem(404, "route_not_found");
    }

    async fn wrong_method_is_405_with_allow(app) {
        let token = app.operator_token();
        for (method, path, allow) in [
            (Method::DELETE, "/v1/account", "GET, HEAD"),
            (Method::POST, "/v1/me", "GET, HEAD"),
            (Method::GET, "/v1/accounts", "POST"),
            (Method::HEAD, "/v1/accounts", "POST"),
            (Method::PUT, "/healthz", "GET, HEAD"),
            (Method::PATCH, "/v1/operator/accounts/0190f5a4-1b2c-7d3e-8f40-123456789abc", "GET, HEAD"),
        ] {
            let reply = app.send(
app.request(method.clone(), path).bearer_auth(&token),
).await;
            if method == Method::HEAD {
                // Headers only: the problem body is not sent.
                assert_eq!(reply.status, 405);
            } else {
                reply.assert_problem(405, "method_not_allowed");
            }
            assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        }
    }

    async fn head_is_get_without_the_body(app) {
        let (_, token, _) = app.create_account().await;
        let get = app.get("/v1/account", Some(&token)).await;
        let head = app.send(app.request(Method::HEAD, "/v1/account").bearer_auth(&token)).await;
        assert_eq!(head.status, 200);
        assert!(head.text.is_empty());
        assert_eq!(head.header("etag"), get.header("etag"));
        assert_eq!(head.header("content-length"), Some(get.text.len().to_string().as_str()));
        assert_eq!(app.send(app.request(Method::HEAD, "/healthz")).await.status, 200);
        assert_eq!(app.send(app.request(Method::HEAD, "/v1/account")).await.status, 401);
    }

    async fn malformed_json_is_400_and_changes_nothing(app) {
        let directory = Uuid::now_v7();
        let token = app.user_token(directory, "jane.doe@contoso.com");
        let reply = app.send(
app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(r#"{"legal_name": "Contoso", "#),
).await;
        let body = reply.assert_problem(400, "malformed_json");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("line 1")), "{body}");
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn a_body_that_is_not_json_is_415(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let reply = app.send(
app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body(account_body().to_string()),
).await;
        reply.assert_problem(415, "unsupported_media_type");
        let missing = app.send(
app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .body(account_body().to_string()),
).await;
        missing.assert_problem(415, "unsupported_media_type");
    }

    async fn bodies_over_64_kib_are_413_and_64_kib_is_read(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        // A JSON object of exactly `size` bytes: {"legal_name":"xxx..."}.
        let body_of = |size: usize| {
            let overhead = r#"{"legal_name":""}"#.len();
            format!(r#"{{"legal_name":"{}"}}"#, "x".repeat(size - overhead))
        };
        let send = |body: String| {
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body)
        };
        let at_limit = app.send(send(body_of(64 * 1024))).await;
        // Read and parsed: it fails validation (missing fields), not the size check.
        at_limit.assert_problem(400, "validation_failed");
        let over = app.send(send(body_of(64 * 1024 + 1))).await;
        over.assert_problem(413, "payload_too_large");
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn a_streamed_body_over_the_limit_is_413(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        // Chunked, so no Content-Length announces the size: the limit applies while reading.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let reply = app.send(
app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body),
).await;
        reply.assert_problem(413, "payload_too_large");
    }

    async fn unknown_fields_are_rejected_with_their_path(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let mut body = account_body();
        body["primary_contact"]["nickname"] = json!("JD");
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("primary_contact.nickname".to_owned(), "unknown_field".to_owned())]);

        // Server-owned fields are unknown input too.
        let mut body = account_body();
        body["verification"] = json!({"status": "verified"});
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("verification".to_owned(), "unknown_field".to_owned())]);
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn repeated_keys_are_rejected(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let body = account_body().to_string().replacen(
            r#""legal_name":"Contoso Ltd.""#,
            r#""legal_name":"Evil Corp","legal_name":"Contoso Ltd.""#,
            1,
        );
        assert!(body.contains("Evil Corp"), "{body}");
        let reply = app
            .send(
                app.request(Method::POST, "/v1/accounts")
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("legal_name".to_owned(), "duplicate_field".to_owned())]);
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn missing_and_mistyped_fields_are_named(app) {
        let token = app.user_token(Uuid::now_v7(), "jane.doe@contoso.com");
        let mut body = account_body();
        body.as_object_mut().expect("object").remove("website");
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("website".to_owned(), "required".to_owned())]);

        let mut body = account_body();
        body["address"]["city"] = json!(42);
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        assert_eq!(reply.field_errors(), vec![("address.city".to_owned(), "invalid_type".to_owned())]);

        let reply = app.post_json("/v1/accounts", &token, &json!([account_body()])).await;
        assert_eq!(reply.field_errors(), vec![("body".to_owned(), "invalid_type".to_owned())]);
        // An array in place of an object is not read positionally.
        let mut body = account_body();
        body["address"] = json!(["1 Microsoft Way", null, "Redmond", "WA", "98052"]);
        let reply = app.post_json("/v1/accounts", &token, &body).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.field_errors(), vec![("address".to_owned(), "invalid_type".to_owned())]);
        app.get("/v1/account", Some(&token)).await.assert_problem(404, "account_not_found");
    }

    async fn a_malformed_path_parameter_is_400(app) {
        let reply = app.get("/v1/operator/accounts/not-a-uuid", Some(&app.operator_token())).await;
        reply.assert_problem(400, "invalid_path_parameter");
    }

    async fn malformed_or_unknown_query_parameters_are_400(app) {
        let token = app.operator_token();
        for query in ["limit=abc", "limit=-1", "colour=blue", "verification_status=approved"] {
            let reply = app.get(&format!("/v1/operator/accounts?{query}"), Some(&token)).await;
            reply.assert_problem(400, "invalid_query_parameter");
        }
        for limit in [0, 201] {
            let reply = app.get(&format!("/v1/operator/accounts?limit={limit}"), Some(&token)).await;
            reply.assert_problem(400, "invalid_query_parameter");
            assert_eq!(reply.field_errors(), vec![("limit".to_owned(), "out_of_range".to_owned())]);
        }
        for limit in [1, 200] {
            let reply = app.get(&format!("/v1/operator/accounts?limit={limit}"), Some(&token)).await;
            assert_eq!(reply.status, 200, "limit={limit}: {}", reply.text);
        }
    }

    async fn request_ids_are_echoed_or_generated(app) {
        let sent = app.send(
app.request(Method::GET, "/v1/nowhere")
                .header("x-request-id", "client-id-123"),
).await;
        assert_eq!(sent.header("x-request-id"), Some("client-id-123"));
        assert_eq!(sent.json()["request_id"], "client-id-123");

        let generated = app.get("/healthz", None).await;
        let id = generated.header("x-request-id").expect("generated id");
        assert!(Uuid::parse_str(id).is_ok(), "{id}");

        // An unusable client id (too long, or not printable) is replaced, never echoed.
        for unusable in ["x".repeat(129), "has space".to_owned()] {
            let replaced = app.send(
app.request(Method::GET, "/healthz")
                    .header("x-request-id", unusable.as_str()),
).await;
            let id = replaced.header("x-request-id").expect("id");
            assert!(Uuid::parse_str(id).is_ok(), "{unusable:?} gave {id}");
        }
    }

    async fn a_panic_is_a_500_without_details_and_the_server_keeps_serving(app) {
        for _ in 0..3 {
            let reply = app.get("/__test/panic", None).await;
            let body = reply.assert_problem(500, "internal_error");
            assert!(!reply.text.contains("must not reach"), "{}", reply.text);
            assert!(!reply.text.contains("panicked"), "{}", reply.text);
            assert!(!reply.text.contains(".rs"), "{body}");
        }
        assert_eq!(app.get("/healthz", None).await.status, 200);
        let (_, token, _) = app.create_account().await;
        assert_eq!(app.get("/v1/account", Some(&token)).await.status, 200);
    }
}

dual_test! {
    // Found by contract fuzzing on PostgreSQL, whose text cannot hold U+0000: a NUL in a JSON
    // string or in a path id failed there with a 500 (SQLite stored it, or answered 404).
    // Both backends now refuse it with the same 400 and store nothing.
    async fn nul_characters_are_refused_in_bodies_paths_and_queries(app) {
        let (_, owner, _) = app.create_account().await;
        let offer = app
            .post_json("/v1/marketplace/offers", &owner, &json!({"name": "Contoso\u{0}Insights", "transactable": false}))
            .await;
        offer.assert_problem(400, "validation_failed");
        assert!(offer.field_errors().contains(&("name".to_owned(), "invalid_characters".to_owned())), "{}", offer.text);
        let offers = app.get("/v1/marketplace/offers", Some(&owner)).await.json();
        assert_eq!(offers["items"], json!([]));

        app.get("/v1/programs/action%00pack", Some(&owner)).await.assert_problem(400, "invalid_path_parameter");
        app.get("/v1/help-topics/a%00b", Some(&owner)).await.assert_problem(400, "invalid_path_parameter");
        app.get("/v1/memberships?program_id=isv%00", Some(&owner)).await.assert_problem(400, "invalid_query_parameter");
        app.get("/v1/search?q=contoso%00", Some(&owner)).await.assert_problem(400, "invalid_query_parameter");
        // Other control characters are ordinary (absent) ids, not malformed URLs.
        app.get("/v1/programs/action%01pack", Some(&owner)).await.assert_problem(404, "not_found");
    }
}
