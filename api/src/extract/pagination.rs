//! Cursor pagination (DESIGN §2): `?limit=` (default 50, 1 to 200) and an opaque `?cursor=`;
//! responses carry `next_cursor` and a `Link: <...>; rel="next"` header until the last page.

use actix_web::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use persistence::page::{Page, PageRequest};

use crate::error::{ApiError, ErrorCode};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Versioned so the cursor format can change without misreading old cursors.
const CURSOR_PREFIX: &str = "v1:";

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// Decodes a cursor and checks its key with `valid_key` (what this list's keys look like).
fn decode_cursor(cursor: &str, valid_key: impl Fn(&str) -> bool) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX).map(str::to_owned))
        .filter(|key| valid_key(key))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCursor,
                "The cursor is not one this list returned; start again without a cursor.",
            )
        })
}

/// Turns the query's `limit` and `cursor` into a page request for a list whose keys are UUIDs.
pub fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    page_request_keyed(limit, cursor, |key| uuid::Uuid::parse_str(key).is_ok())
}

/// Like [`page_request`], for a list whose keys `valid_key` recognises.
pub fn page_request_keyed(
    limit: Option<u32>,
    cursor: Option<&str>,
    valid_key: impl Fn(&str) -> bool,
) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQueryParameter,
            format!("limit must be between 1 and {MAX_LIMIT}."),
        )
        .with_field_errors(vec![crate::error::ProblemFieldError {
            field: "limit".into(),
            code: "out_of_range".into(),
            message: format!("must be between 1 and {MAX_LIMIT}"),
        }]));
    }
    let after = cursor
        .map(|cursor| decode_cursor(cursor, &valid_key))
        .transpose()?;
    Ok(PageRequest { limit, after })
}

/// The answer for one page: the list built by `list` from the next cursor, with the `Link`
/// header when another page follows.
pub fn page_response<L: serde::Serialize>(
    req: &HttpRequest,
    next_after: Option<&str>,
    list: impl FnOnce(Option<String>) -> L,
) -> actix_web::HttpResponse {
    let next_cursor = next_after.map(encode_cursor);
    let mut response = actix_web::HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        response.insert_header((actix_web::http::header::LINK, next_link(req, cursor)));
    }
    response.json(list(next_cursor))
}

/// The `Link` header for the next page: this request's path and query with the cursor replaced.
pub fn next_link(req: &HttpRequest, next_cursor: &str) -> String {
    let mut query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
        .collect();
    let cursor = format!("cursor={next_cursor}");
    query.push(&cursor);
    format!("<{}?{}>; rel=\"next\"", req.path(), query.join("&"))
}

/// One page of a short list held in memory, sorted by `key` (catalog programs, an account's
/// memberships): the same contract as the keyset pages read from the database.
pub fn page_of<T>(items: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let rows: Vec<T> = items
        .into_iter()
        .filter(|item| page.after.as_ref().is_none_or(|after| key(item) > *after))
        .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
        .collect();
    page.finish(rows, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let key = "0190f5a4-1b2c-7d3e-8f40-123456789abc";
        let page = page_request(Some(10), Some(&encode_cursor(key))).expect("valid");
        assert_eq!(page.after.as_deref(), Some(key));
        for bad in [
            "",
            "not-base64!",
            &URL_SAFE_NO_PAD.encode("v2:x"),
            &encode_cursor("not-a-uuid"),
        ] {
            assert_eq!(
                page_request(None, Some(bad)).map_err(|e| e.code()),
                Err(ErrorCode::InvalidCursor),
                "{bad}"
            );
        }
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(
            page_request(None, None).map(|p| p.limit).ok(),
            Some(DEFAULT_LIMIT)
        );
        assert!(page_request(Some(1), None).is_ok());
        assert!(page_request(Some(MAX_LIMIT), None).is_ok());
        assert!(page_request(Some(0), None).is_err());
        assert!(page_request(Some(MAX_LIMIT + 1), None).is_err());
    }

    #[test]
    fn next_link_keeps_filters_and_replaces_the_cursor() {
        let req = TestRequest::get()
            .uri("/v1/operator/accounts?verification_status=pending&cursor=old&limit=2")
            .to_http_request();
        assert_eq!(
            next_link(&req, "NEW"),
            "</v1/operator/accounts?verification_status=pending&limit=2&cursor=NEW>; rel=\"next\""
        );
    }
}
