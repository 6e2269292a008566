//! The outermost piece of every request: its id, panic containment, and problem rendering.
//!
//! The id is accepted from `X-Request-Id` (when printable and short) or generated, echoed on
//! every response, and visible to the code handling the request through a task-local, so
//! problem bodies and log lines carry it without threading it through every signature.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, VARY,
};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

use crate::error::{ApiError, ErrorCode};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id kept; longer ones are replaced by a generated id.
const MAX_REQUEST_ID_LENGTH: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

std::thread_local! {
    /// The request id while a blocking-pool thread works for a request (see [`on_blocking_thread`]).
    static BLOCKING_REQUEST_ID: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The id of the request being handled by the current task or blocking thread, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .or_else(|| BLOCKING_REQUEST_ID.with(|id| id.borrow().clone()))
}

/// Runs `work` with `request_id` visible to [`current_request_id`] on this (blocking) thread,
/// so errors logged off the async task still name their request.
pub fn on_blocking_thread<T>(request_id: Option<String>, work: impl FnOnce() -> T) -> T {
    /// Clears the id even if `work` panics, so a reused thread never reports a stale one.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            BLOCKING_REQUEST_ID.with(|id| *id.borrow_mut() = None);
        }
    }
    BLOCKING_REQUEST_ID.with(|id| *id.borrow_mut() = request_id);
    let _reset = Reset;
    work()
}

fn accepted_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let value = value?.to_str().ok()?;
    let acceptable = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LENGTH
        && value.bytes().all(|b| b.is_ascii_graphic());
    acceptable.then(|| value.to_owned())
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let authenticated = req.headers().contains_key(AUTHORIZATION);
    // HEAD is GET without the body (RFC 9110 §9.3.2): route it as GET; the connection layer
    // remembers the request was HEAD and sends headers only.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let request_id = accepted_request_id(req.headers().get(&X_REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    // Not a clone of the request itself: routing needs to own it uniquely.
    let (method, uri) = (req.method().clone(), req.uri().to_string());

    let refused = nul_in_url(req.uri());
    let handled = REQUEST_ID.scope(request_id.clone(), async move {
        if let Some(error) = refused {
            return ServiceResponse::new(detached(method, &uri), error.error_response());
        }
        // A panic in a handler must cost one request, not the connection or the worker.
        match AssertUnwindSafe(next.call(req)).catch_unwind().await {
            Ok(Ok(response)) => problem_for_bare_error(response.map_into_boxed_body()),
            // Errors raised by middleware are rendered here, inside the scope, as problems.
            Ok(Err(error)) => ServiceResponse::new(detached(method, &uri), error.error_response()),
            Err(_panic) => {
                let error = ApiError::internal("handler panicked (see the panic message above)");
                ServiceResponse::new(detached(method, &uri), error.error_response())
            }
        }
    });
    let mut response = handled.await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(X_REQUEST_ID, value);
    }
    // What a caller reads with their token is theirs: shared caches must not keep it, and a
    // client cache must revalidate it (with its ETag) and key it by the token.
    if authenticated && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        headers.append(VARY, HeaderValue::from_static("Authorization"));
    }
    Ok(response)
}

/// A percent-encoded NUL (`%00`) in the path or query: no id, filter or search term of this
/// API contains U+0000, and PostgreSQL text cannot hold it (a lookup by it failed with a 500
/// there while SQLite answered 404), so it is refused before routing, on both backends alike.
fn nul_in_url(uri: &actix_web::http::Uri) -> Option<ApiError> {
    if uri.path().contains("%00") {
        return Some(ApiError::new(
            ErrorCode::InvalidPathParameter,
            "The path contains a NUL character (%00).",
        ));
    }
    if uri.query().is_some_and(|query| query.contains("%00")) {
        return Some(ApiError::new(
            ErrorCode::InvalidQueryParameter,
            "The query string contains a NUL character (%00).",
        ));
    }
    None
}

/// Gives an error response that some component produced without a body (the docs UI's 404 for
/// an unknown asset, say) the problem document every error of this API carries, keeping its
/// status and headers.
fn problem_for_bare_error(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let bare = (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(CONTENT_TYPE)
        && matches!(
            response.response().body().size(),
            BodySize::None | BodySize::Sized(0)
        );
    let code = match ErrorCode::for_status(status) {
        Some(code) if bare => code,
        _ => return response,
    };
    let (request, original) = response.into_parts();
    let detail = format!(
        "{} ({} {}).",
        code.title(),
        request.method(),
        request.path()
    );
    let mut problem = ApiError::new(code, detail).error_response();
    for (name, value) in original.headers() {
        if name != CONTENT_LENGTH && !problem.headers().contains_key(name) {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, problem)
}

/// A stand-in for a request that was consumed by a handler that failed. Only its method and
/// URI are needed: the access log reads everything else before the request is handled.
fn detached(method: Method, uri: &str) -> actix_web::HttpRequest {
    actix_web::test::TestRequest::default()
        .method(method)
        .uri(uri)
        .to_http_request()
}

/// Logs panics through the logger with the request id, instead of the default hook's bare
/// stderr line. The panic message goes to the log only, never to the client.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        log::error!(
            "panic in request {} at {location}: {message}",
            current_request_id().unwrap_or_else(|| "-".into())
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_printable_ids_up_to_the_limit() {
        let ok = HeaderValue::from_static("abc-123_XYZ");
        assert_eq!(
            accepted_request_id(Some(&ok)).as_deref(),
            Some("abc-123_XYZ")
        );
        let long = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LENGTH)).expect("ascii");
        assert!(accepted_request_id(Some(&long)).is_some());
        let too_long =
            HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID_LENGTH + 1)).expect("ascii");
        assert!(accepted_request_id(Some(&too_long)).is_none());
        let spaced = HeaderValue::from_static("has space");
        assert!(accepted_request_id(Some(&spaced)).is_none());
        assert!(accepted_request_id(None).is_none());
    }
}
