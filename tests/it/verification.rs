//! The legal profile and verification (DESIGN §4): ETag/If-Match, the state machine, the
//! fields under review, evidence upload, and the operator's decision.

use crate::dual_test;
use crate::harness::{TestApp, account_body};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn profile(app: &TestApp, token: &str) -> (Value, String) {
    let reply = app.get("/v1/account/legal-profile", Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let etag = reply.header("etag").expect("etag").to_owned();
    (reply.json(), etag)
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, name: &str) -> crate::harness::Reply {
    let form = Form::new()
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
        .text("comment", "Certificate of incorporation");
    app.send(
        app.request(Method::POST, "/v1/account/verification/evidence")
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

/// An account in `action_required`, with its id and owner token.
async fn awaiting_evidence(app: &TestApp) -> (String, String) {
    let (_, token, account) = app.create_account().await;
    let id = account["id"].as_str().expect("id").to_owned();
    let reply = app
        .decide(
            &id,
            "action_required",
            Some("The registration document is illegible."),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    (id, token)
}

dual_test! {
    async fn the_legal_profile_is_guarded_by_if_match(app) {
        let (_, token, _) = app.create_account().await;
        let (current, etag) = profile(&app, &token).await;
        assert_eq!(current["legal_name"], "Contoso Ltd.");
        assert_eq!(current["verification"]["status"], "pending");

        let mut body = account_body();
        body["legal_name"] = "Contoso Holdings Ltd.".into();
        let without = app.send(app.request(Method::PUT, "/v1/account/legal-profile").bearer_auth(&token).json(&body)).await;
        without.assert_problem(428, "precondition_required");

        let changed = app.put_json("/v1/account/legal-profile", &token, &etag, &body).await;
        assert_eq!(changed.status, 200, "{}", changed.text);
        let new_etag = changed.header("etag").expect("etag").to_owned();
        assert_ne!(new_etag, etag);
        assert_eq!(changed.json()["legal_name"], "Contoso Holdings Ltd.");

        // The old tag no longer matches: 412 with the current tag, and nothing changes.
        body["legal_name"] = "Someone Else Ltd.".into();
        let stale = app.put_json("/v1/account/legal-profile", &token, &etag, &body).await;
        stale.assert_problem(412, "precondition_failed");
        assert_eq!(stale.header("etag"), Some(new_etag.as_str()));
        assert_eq!(profile(&app, &token).await.0["legal_name"], "Contoso Holdings Ltd.");

        // Invalid details: field errors, nothing changes.
        body["primary_contact"]["email"] = "jane@gmail.com".into();
        let invalid = app.put_json("/v1/account/legal-profile", &token, &new_etag, &body).await;
        invalid.assert_problem(400, "validation_failed");
        assert_eq!(invalid.field_errors(), vec![("primary_contact.email".to_owned(), "free_mail_domain".to_owned())]);
        assert_eq!(profile(&app, &token).await.1, new_etag);

        // Conditional GET.
        let cached = app.send(app.request(Method::GET, "/v1/account/legal-profile").bearer_auth(&token).header("if-none-match", &new_etag)).await;
        assert_eq!(cached.status, 304);
    }

    async fn a_change_to_a_verified_account_reviews_only_the_changed_fields(app) {
        let (_, token, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id");
        let (initial, _) = profile(&app, &token).await;
        // A new account's whole profile is under review.
        assert_eq!(initial["verification"]["under_review"].as_array().map(Vec::len), Some(12));
        let decided = app.decide(id, "verified", None).await;
        assert_eq!(decided.status, 200, "{}", decided.text);
        let (verified, etag) = profile(&app, &token).await;
        assert_eq!(verified["verification"]["status"], "verified");
        assert_eq!(verified["verification"]["under_review"], json!([]));

        // The same details again: no change, still verified, same tag.
        let same = app.put_json("/v1/account/legal-profile", &token, &etag, &account_body()).await;
        assert_eq!(same.status, 200, "{}", same.text);
        assert_eq!(same.header("etag"), Some(etag.as_str()));
        assert_eq!(same.json()["verification"]["status"], "verified");

        let mut body = account_body();
        body["legal_name"] = "Contoso Holdings Ltd.".into();
        body["address"]["city"] = "Bellevue".into();
        let changed = app.put_json("/v1/account/legal-profile", &token, &etag, &body).await;
        assert_eq!(changed.status, 200, "{}", changed.text);
        let verification = &changed.json()["verification"];
        assert_eq!(verification["status"], "pending");
        assert_eq!(verification["under_review"], json!(["address.city", "legal_name"]));
        // The account is waiting for a decision again.
        let pending = app.get("/v1/operator/accounts?verification_status=pending", Some(&app.operator_token())).await;
        assert!(pending.json()["items"].as_array().expect("items").iter().any(|a| a["id"] == id));
    }

    async fn the_operator_decides_only_pending_verifications(app) {
        let (_, token, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id");
        // Rejections and requests for action need a reason.
        for outcome in ["rejected", "action_required"] {
            let reply = app.decide(id, outcome, None).await;
            reply.assert_problem(400, "validation_failed");
            assert_eq!(reply.field_errors(), vec![("reason".to_owned(), "required".to_owned())]);
        }
        let bad = app.decide(id, "approved", None).await;
        bad.assert_problem(400, "validation_failed");
        // A partner cannot decide.
        let partner = app.post_json(&format!("/v1/operator/accounts/{id}/verification"), &token, &json!({"outcome": "verified"})).await;
        partner.assert_problem(403, "operator_only");
        let unknown = app.decide(&uuid::Uuid::now_v7().to_string(), "verified", None).await;
        unknown.assert_problem(404, "not_found");

        let rejected = app.decide(id, "rejected", Some("Not a registered company.")).await;
        assert_eq!(rejected.status, 200, "{}", rejected.text);
        assert_eq!(rejected.json()["verification"]["status"], "rejected");
        assert_eq!(rejected.json()["verification"]["reason"], "Not a registered company.");
        let again = app.decide(id, "verified", None).await;
        again.assert_problem(409, "verification_not_pending");

        // A rejected account still reads its data, but its details are final.
        let (read, etag) = profile(&app, &token).await;
        assert_eq!(read["verification"]["status"], "rejected");
        assert_eq!(app.get("/v1/account", Some(&token)).await.status, 200);
        let mut body = account_body();
        body["legal_name"] = "Contoso Again Ltd.".into();
        app.put_json("/v1/account/legal-profile", &token, &etag, &body).await.assert_problem(409, "verification_rejected");
    }

    async fn evidence_answers_action_required_and_is_stored(app) {
        let (_, token, account) = app.create_account().await;
        let id = account["id"].as_str().expect("id").to_owned();
        // Not awaiting evidence yet.
        upload(&app, &token, PDF.to_vec(), "incorporation.pdf").await.assert_problem(409, "verification_not_awaiting_evidence");
        let decided = app.decide(&id, "action_required", Some("The registration document is illegible.")).await;
        assert_eq!(decided.json()["verification"]["status"], "action_required");
        let details = app.get("/v1/account/verification", Some(&token)).await.json();
        assert_eq!(details["reason"], "The registration document is illegible.");

        let reply = upload(&app, &token, PDF.to_vec(), "incorporation.pdf").await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let receipt = reply.json();
        assert_eq!(receipt["verification"]["status"], "pending");
        assert_eq!(receipt["evidence"]["media_type"], "application/pdf");
        assert_eq!(receipt["evidence"]["size_bytes"], PDF.len());
        assert_eq!(receipt["evidence"]["file_name"], "incorporation.pdf");
        assert_eq!(receipt["evidence"]["comment"], "Certificate of incorporation");
        let evidence_id = receipt["evidence"]["id"].as_str().expect("id");
        let stored = app.send(app.request(Method::GET, &format!("/v1/account/verification/evidence/{evidence_id}/content")).bearer_auth(&token)).await;
        assert_eq!(stored.status, 200);
        assert_eq!(stored.header("content-type"), Some("application/pdf"));
        assert_eq!(stored.text.as_bytes(), PDF);
        let details = app.get("/v1/account/verification", Some(&token)).await.json();
        assert_eq!(details["status"], "pending");
        assert_eq!(details["evidence"].as_array().map(Vec::len), Some(1));
        // Pending again: a second upload is not awaited.
        upload(&app, &token, PDF.to_vec(), "again.pdf").await.assert_problem(409, "verification_not_awaiting_evidence");
    }

    async fn documents_are_recognised_by_content_not_by_name(app) {
        let (_, token) = awaiting_evidence(&app).await;
        let disguised = upload(&app, &token, b"MZ\x90\0this is an executable".to_vec(), "passport.pdf").await;
        disguised.assert_problem(415, "unsupported_document");
        let png = upload(&app, &token, PNG.to_vec(), "scan.txt").await;
        assert_eq!(png.status, 201, "{}", png.text);
        assert_eq!(png.json()["evidence"]["media_type"], "image/png");
    }

    async fn uploads_are_limited_to_ten_mebibytes(app) {
        let (_, token) = awaiting_evidence(&app).await;
        let limit = 10 * 1024 * 1024;
        let mut too_big = PDF.to_vec();
        too_big.resize(limit + 1, b' ');
        upload(&app, &token, too_big, "big.pdf").await.assert_problem(413, "payload_too_large");
        let status = app.get("/v1/account/verification", Some(&token)).await.json();
        assert_eq!(status["status"], "action_required");
        assert_eq!(status["evidence"], json!([]));
        let mut largest = PDF.to_vec();
        largest.resize(limit, b' ');
        let accepted = upload(&app, &token, largest, "largest.pdf").await;
        assert_eq!(accepted.status, 201, "{}", accepted.text);
        assert_eq!(accepted.json()["evidence"]["size_bytes"], limit);
    }

    async fn malformed_uploads_are_refused(app) {
        let (_, token) = awaiting_evidence(&app).await;
        let json = app.post_json("/v1/account/verification/evidence", &token, &json!({"file": "x"})).await;
        json.assert_problem(415, "unsupported_media_type");
        let no_file = app.send(app.request(Method::POST, "/v1/account/verification/evidence").bearer_auth(&token).multipart(Form::new().text("comment", "hi"))).await;
        no_file.assert_problem(400, "validation_failed");
        assert_eq!(no_file.field_errors(), vec![("file".to_owned(), "required".to_owned())]);
        let empty = upload(&app, &token, Vec::new(), "empty.pdf").await;
        assert_eq!(empty.field_errors(), vec![("file".to_owned(), "empty".to_owned())]);
        let status = app.get("/v1/account/verification", Some(&token)).await.json();
        assert_eq!(status["status"], "action_required");
    }
}
