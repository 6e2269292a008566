//! Entity tags and conditional requests (DESIGN §2). A resource's ETag is derived from its
//! identity and its version counter, which every change bumps: two resources served at the same
//! URL to different callers (`/v1/account`) never share a tag.

use actix_web::HttpRequest;
use actix_web::http::header::{IF_MATCH, IF_NONE_MATCH};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::views::Rendered;

/// The strong ETag of version `version` of the resource identified by `resource`.
pub fn etag(resource: &str, version: i64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(format!("{resource}:{version}").as_bytes());
    // Every GET of a versioned resource computes one: written out by hand, not a `format!`
    // per byte.
    let mut tag = String::with_capacity(22);
    tag.push('"');
    for byte in &digest[..10] {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    tag.push('"');
    tag
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

/// [`conditional_read`] of an answer already rendered (kept between requests).
pub fn conditional_rendered(req: &HttpRequest, view: &Rendered) -> actix_web::HttpResponse {
    conditional(req, view.etag.clone(), |response| {
        response
            .content_type(actix_web::http::header::ContentType::json())
            .body(view.body.clone())
    })
}

/// A read of a resource with entity tag `tag`: 304 without a body when the client's
/// `If-None-Match` already names it, 200 with `body` otherwise; the tag goes on both.
pub fn conditional_read<T: serde::Serialize>(
    req: &HttpRequest,
    tag: String,
    body: &T,
) -> actix_web::HttpResponse {
    conditional(req, tag, |response| response.json(body))
}

/// 304 with `tag` when the client's `If-None-Match` names it; otherwise 200 with `tag`, its
/// body written by `answer` (only then, so a 304 renders nothing).
fn conditional(
    req: &HttpRequest,
    tag: String,
    answer: impl FnOnce(&mut actix_web::HttpResponseBuilder) -> actix_web::HttpResponse,
) -> actix_web::HttpResponse {
    let hit = if_none_match_hits(req, &tag);
    let mut response = if hit {
        actix_web::HttpResponse::NotModified()
    } else {
        actix_web::HttpResponse::Ok()
    };
    response.insert_header((actix_web::http::header::ETAG, tag));
    if hit {
        response.finish()
    } else {
        answer(&mut response)
    }
}

/// 412 for a write whose version check lost to a concurrent change after `If-Match` passed.
pub fn changed_meanwhile(resource: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PreconditionFailed,
        format!(
            "The {resource} changed while this request was processed; read it again and retry."
        ),
    )
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

    /// Reads `If-Match` where it is optional: checked when sent (malformed as with
    /// [`IfMatch::required`]), `None` when absent.
    pub fn optional(req: &HttpRequest) -> Result<Option<IfMatch>, ApiError> {
        if req.headers().contains_key(IF_MATCH) {
            Self::required(req).map(Some)
        } else {
            Ok(None)
        }
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

    fn with(name: actix_web::http::header::HeaderName, value: &str) -> HttpRequest {
        TestRequest::get()
            .insert_header((name, value))
            .to_http_request()
    }

    #[test]
    fn a_tag_is_the_first_ten_bytes_of_the_digest_in_lower_hex_quoted() {
        let digest = Sha256::digest(b"account:3");
        let expected: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(etag("account", 3), format!("\"{expected}\""));
    }

    #[test]
    fn tags_differ_by_resource_and_by_version() {
        assert_eq!(etag("a", 1), etag("a", 1));
        assert_ne!(etag("a", 1), etag("b", 1));
        assert_ne!(etag("a", 1), etag("a", 2));
        assert!(etag("a", 1).starts_with('"') && etag("a", 1).ends_with('"'));
    }

    #[test]
    fn if_match_is_required_and_compared_strongly() {
        let current = etag("account", 3);
        let stale = etag("account", 2);
        let none = TestRequest::put().to_http_request();
        assert_eq!(
            IfMatch::required(&none).map_err(|e| e.code()),
            Err(ErrorCode::PreconditionRequired)
        );
        let check = |value: &str| {
            IfMatch::required(&with(IF_MATCH, value))
                .expect("present")
                .check(&current)
                .map_err(|e| e.code())
        };
        assert_eq!(check(&stale), Err(ErrorCode::PreconditionFailed));
        assert_eq!(check(&format!("{stale}, {current}")), Ok(()));
        assert_eq!(
            check(&format!("W/{current}")),
            Err(ErrorCode::PreconditionFailed)
        );
        assert_eq!(check("*"), Ok(()));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let current = etag("account", 7);
        assert!(if_none_match_hits(
            &with(IF_NONE_MATCH, &format!("W/{current}")),
            &current
        ));
        assert!(if_none_match_hits(&with(IF_NONE_MATCH, "*"), &current));
        let older = etag("account", 6);
        assert!(!if_none_match_hits(&with(IF_NONE_MATCH, &older), &current));
        assert!(!if_none_match_hits(
            &TestRequest::get().to_http_request(),
            &current
        ));
    }
}
