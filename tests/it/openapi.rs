//! The checked-in contract matches the code, and holds the conventions every operation owes.

use serde_json::Value;

#[test]
fn openapi_yaml_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = api::openapi::spec().to_yaml().expect("yaml");
    assert!(
        checked_in == generated,
        "openapi.yaml is out of date with the code: run `make openapi` and commit the result"
    );
}

#[test]
fn every_operation_documents_problems_and_request_ids() {
    let spec = serde_json::to_value(api::openapi::spec()).expect("json");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("500"), "{method} {path}");
            for (status, response) in responses {
                assert!(
                    response["headers"]["X-Request-Id"]["$ref"]
                        == "#/components/headers/X-Request-Id",
                    "{method} {path} {status} lacks X-Request-Id"
                );
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty())
                );
                let oauth = operation["operationId"] == "issue_token"
                    && (status == "400" || status == "401");
                if oauth {
                    // RFC 6749 §5.2 error bodies, which OAuth clients expect.
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/OAuthError"
                    );
                } else if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
            // Every route but the probes is rate limited, and says so.
            if !["/healthz", "/readyz"].contains(&path.as_str()) {
                assert!(
                    responses["429"]["headers"]["Retry-After"]["$ref"]
                        == "#/components/headers/Retry-After",
                    "{method} {path} lacks a 429"
                );
                for (status, response) in responses {
                    for header in ["RateLimit-Policy", "RateLimit"] {
                        assert!(
                            response["headers"][header]["$ref"]
                                == format!("#/components/headers/{header}").as_str(),
                            "{method} {path} {status} lacks {header}"
                        );
                    }
                }
            }
            // Every route documents who may call it (`access::ROUTE_ACCESS`).
            let access = operation["x-access"]["kind"].as_str();
            assert!(access.is_some(), "{method} {path} has no access rule");
            assert!(
                operation["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("**Access:**")),
                "{method} {path}"
            );
            if access != Some("public") {
                assert!(path.starts_with("/v1/"), "{method} {path}");
                assert_eq!(
                    operation["security"],
                    serde_json::json!([{"bearer": []}]),
                    "{method} {path}"
                );
                assert!(responses.contains_key("401"), "{method} {path}");
            }
            if operation["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "413", "415"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            assert!(
                operation["operationId"].as_str().is_some(),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let codes: Vec<&str> = spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(codes.contains(&"idempotency_key_reused") && codes.contains(&"precondition_required"));
    assert!(codes.contains(&"rate_limited"));
}
