//! Entity tags and conditional requests (DESIGN §2). A resource's ETag is derived from its
//! version counter, which every change bumps.

use actix_web::HttpRequest;
use actix_web::http::header::{IF_MATCH, IF_NONE_MATCH};

use crate::error::{ApiError, ErrorCode};

/// The strong ETag of a resource version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// Whether a conditional GET's `If-None-Match` already names the current ETag (answer 304).
pub fn if_none_match_hits(req: &HttpRequest, current: &str) -> bool {
    req.headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        // If-None-Match uses the weak comparison: W/"v1" matches "v1".
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
}

/// What the client's `If-Match` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    /// Reads `If-Match`, which writes to concurrency-guarded resources require (428 without).
    pub fn required(req: &HttpRequest) -> Result<IfMatch, ApiError> {
        let values: Vec<&str> = req
            .headers()
            .get_all(IF_MATCH)
            .filter_map(|value| value.to_str().ok())
            .collect();
        if values.is_empty() {
            return Err(ApiError::new(
                ErrorCode::PreconditionRequired,
                "Send If-Match with the resource's current ETag (from a GET) to change it.",
            ));
        }
        let tags: Vec<String> = values
            .iter()
            .flat_map(|value| value.split(','))
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
            .collect();
        Ok(if tags.iter().any(|tag| tag == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        })
    }

    /// Checks the current ETag with the strong comparison (a weak tag never matches): 412 when
    /// the resource changed since the client read it.
    pub fn check(&self, current: &str) -> Result<(), ApiError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Tags(tags) if tags.iter().any(|tag| tag == current) => Ok(()),
            IfMatch::Tags(_) => Err(ApiError::new(
                ErrorCode::PreconditionFailed,
                format!("The resource has changed; its current ETag is {current}. Read it again and retry."),
            )
            .with_header(actix_web::http::header::ETAG, current)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_is_required_and_compared_strongly() {
        let current = etag(3);
        let none = TestRequest::put().to_http_request();
        assert_eq!(
            IfMatch::required(&none).map_err(|e| e.code()),
            Err(ErrorCode::PreconditionRequired)
        );

        let stale = TestRequest::put()
            .insert_header((IF_MATCH, "\"v2\""))
            .to_http_request();
        let if_match = IfMatch::required(&stale).expect("present");
        assert_eq!(
            if_match.check(&current).map_err(|e| e.code()),
            Err(ErrorCode::PreconditionFailed)
        );

        let fresh = TestRequest::put()
            .insert_header((IF_MATCH, "\"v2\", \"v3\""))
            .to_http_request();
        assert!(
            IfMatch::required(&fresh)
                .expect("present")
                .check(&current)
                .is_ok()
        );

        let weak = TestRequest::put()
            .insert_header((IF_MATCH, "W/\"v3\""))
            .to_http_request();
        assert!(
            IfMatch::required(&weak)
                .expect("present")
                .check(&current)
                .is_err()
        );

        let any = TestRequest::put()
            .insert_header((IF_MATCH, "*"))
            .to_http_request();
        assert!(
            IfMatch::required(&any)
                .expect("present")
                .check(&current)
                .is_ok()
        );
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let current = etag(7);
        let hit = TestRequest::get()
            .insert_header((IF_NONE_MATCH, "W/\"v7\""))
            .to_http_request();
        assert!(if_none_match_hits(&hit, &current));
        let miss = TestRequest::get()
            .insert_header((IF_NONE_MATCH, "\"v6\""))
            .to_http_request();
        assert!(!if_none_match_hits(&miss, &current));
        assert!(!if_none_match_hits(
            &TestRequest::get().to_http_request(),
            &current
        ));
    }
}
