//! `Idempotency-Key` handling for POSTs that create things or move money (DESIGN §2).
//!
//! The first request with a key claims it; its effects and its final response commit in one
//! transaction; a retry with the same key and body gets the stored response again with
//! `Idempotent-Replayed: true`. Validation failures and server errors release the key, so a
//! corrected or later retry with the same key runs normally.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::idempotency::{
    self, Claim, ClaimLost, KeyTimes, ScopedKey, StoredResponse,
};
use serde::Serialize;
use std::future::{Ready, ready};

use crate::clock;
use crate::db;
use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::request_context;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
pub const MAX_KEY_LENGTH: usize = 255;

/// The defaults: how long a claim blocks retries before a retry may take over a key whose first
/// request died (`PC_IDEMPOTENCY_LEASE` changes it), and how long responses are kept for replay
/// (DESIGN §2: 24 hours).
pub const KEY_TIMES: KeyTimes = KeyTimes {
    lease: chrono::Duration::seconds(60),
    retention: chrono::Duration::hours(24),
};

/// The optional `Idempotency-Key` request header.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_key(req.headers().get(&IDEMPOTENCY_KEY)))
    }
}

fn parse_key(value: Option<&HeaderValue>) -> Result<IdempotencyKey, ApiError> {
    let Some(value) = value else {
        return Ok(IdempotencyKey(None));
    };
    let key = value.to_str().unwrap_or_default();
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_LENGTH
        && key.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !key.trim().is_empty();
    if !valid {
        return Err(ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            format!("Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."),
        ));
    }
    Ok(IdempotencyKey(Some(key.to_owned())))
}

impl IdempotencyKey {
    /// Refuses (400 `idempotency_key_required`) a request that moves money or redeems a benefit
    /// without a key (DESIGN §2): `what` names it.
    pub fn require(&self, what: &str) -> Result<(), ApiError> {
        match self.0 {
            Some(_) => Ok(()),
            None => Err(ApiError::new(
                ErrorCode::IdempotencyKeyRequired,
                format!(
                    "{what}: send an Idempotency-Key header (any unique string, reused only to retry this request)."
                ),
            )),
        }
    }
}

/// A successful response, built inside the transaction so it can be stored with its effects.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: String,
    /// What a replay returns instead of `body`, when the body holds something that must not be
    /// stored (a secret shown once).
    replay_body: Option<String>,
}

impl Reply {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, ApiError> {
        Ok(Self {
            status,
            headers: vec![(CONTENT_TYPE, "application/json".to_owned())],
            body: serde_json::to_string(value).map_err(ApiError::internal)?,
            replay_body: None,
        })
    }

    /// Stores `value` for replays instead of the body sent now.
    pub fn replayed_as<T: Serialize>(mut self, value: &T) -> Result<Self, ApiError> {
        self.replay_body = Some(serde_json::to_string(value).map_err(ApiError::internal)?);
        Ok(self)
    }

    /// A refusal as a reply, so it can be stored and replayed like a success.
    pub fn problem(error: &ApiError, request_id: String) -> Self {
        let mut headers = vec![(CONTENT_TYPE, PROBLEM_JSON.to_owned())];
        headers.extend(error.headers().iter().cloned());
        Self {
            status: error.code().status(),
            headers,
            body: error.problem_json(request_id),
            replay_body: None,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn stored(&self) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect(),
            body: self
                .replay_body
                .clone()
                .unwrap_or_else(|| self.body.clone()),
        }
    }

    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.insert_header((name, value));
            }
        }
        response.body(self.body)
    }
}

enum Outcome {
    Fresh(Reply),
    Replayed(StoredResponse),
}

/// Runs `work` once per idempotency key (or plainly, without a key) in a write transaction.
///
/// `fingerprint` identifies the request (see `JsonBody::fingerprint`). Business refusals
/// (409s other than the key being in use) are stored and replayed like successes: the retry of
/// a refused request is refused the same way.
pub async fn execute<F>(
    state: &AppState,
    principal: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConnection, DateTime<Utc>) -> Result<Reply, ApiError> + Send + 'static,
{
    let now = clock::now();
    let times = state.idempotency;
    let request_id = request_context::current_request_id().unwrap_or_default();
    let replaying_request_id = request_id.clone();
    let scoped = key.0.map(|key| ScopedKey {
        scope: principal.tenant_scope(),
        principal: principal.principal_key(),
        key,
    });
    let outcome = db::run(state, move |conn| {
        let Some(scoped) = scoped else {
            return write_transaction(conn, |conn| work(conn, now)).map(Outcome::Fresh);
        };
        let token = match idempotency::claim(conn, &scoped, &fingerprint, now, times)? {
            Claim::Acquired(token) => token,
            Claim::Replay(stored) => return Ok(Outcome::Replayed(stored)),
            Claim::BodyMismatch => {
                return Err(ApiError::new(
                    ErrorCode::IdempotencyKeyReused,
                    "This Idempotency-Key was already used with a different request; use a new key for a new request.",
                ));
            }
            Claim::InFlight => return Err(in_use()),
        };
        let result: Result<Reply, ApiError> = write_transaction(conn, |conn| {
            let reply = work(conn, now)?;
            idempotency::complete(conn, &scoped, &token, &reply.stored())?
                .map_err(|ClaimLost| in_use())?;
            Ok(reply)
        });
        match result {
            Ok(reply) => Ok(Outcome::Fresh(reply)),
            Err(error) if error.is_decision() => {
                let stored = Reply::problem(&error, request_id).stored();
                write_transaction(conn, |conn| idempotency::complete(conn, &scoped, &token, &stored))?
                    .map_err(|ClaimLost| in_use())?;
                Err(error)
            }
            Err(error) => {
                if let Err(release) = idempotency::release(conn, &scoped, &token) {
                    // The lease will expire and free the key anyway.
                    log::warn!("could not release an idempotency key: {release}");
                }
                Err(error)
            }
        }
    })
    .await?;
    Ok(match outcome {
        Outcome::Fresh(reply) => reply.into_response(),
        Outcome::Replayed(stored) => replay(stored, &replaying_request_id),
    })
}

fn in_use() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyKeyInUse,
        "A request with this Idempotency-Key is still being processed; retry after it completes.",
    )
    .with_header(RETRY_AFTER, "1")
}

/// The stored response again. A stored problem names this request in its `request_id`, as every
/// problem does; everything else is returned as it was first sent.
fn replay(stored: StoredResponse, request_id: &str) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let is_problem = stored
        .headers
        .iter()
        .any(|(name, value)| name == CONTENT_TYPE.as_str() && value == PROBLEM_JSON);
    let body = match serde_json::from_str::<serde_json::Value>(&stored.body) {
        Ok(mut problem) if is_problem => {
            problem["request_id"] = request_id.into();
            problem.to_string()
        }
        _ => stored.body,
    };
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    response.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(parse_key(None).is_ok_and(|k| k.0.is_none()));
        let ok = HeaderValue::from_static("order-2026-11-21-0001");
        assert_eq!(
            parse_key(Some(&ok)).ok().and_then(|k| k.0).as_deref(),
            Some("order-2026-11-21-0001")
        );
        let longest = HeaderValue::from_str(&"k".repeat(MAX_KEY_LENGTH)).expect("ascii");
        assert!(parse_key(Some(&longest)).is_ok());
        let too_long = HeaderValue::from_str(&"k".repeat(MAX_KEY_LENGTH + 1)).expect("ascii");
        assert!(parse_key(Some(&too_long)).is_err());
        let blank = HeaderValue::from_static("   ");
        assert!(parse_key(Some(&blank)).is_err());
        let empty = HeaderValue::from_static("");
        assert!(parse_key(Some(&empty)).is_err());
    }
}
