//! The `Idempotency-Key` store (DESIGN §2): the first request with a key claims it; its final
//! response is stored in the same transaction as its effects; a retry with the same key and
//! body gets that response again; the same key with another body is refused; a retry while the
//! first is still running is told so.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::connection::{DbConnection, write_transaction};
use crate::error::{DbError, DbResult};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::idempotency_keys as keys;

/// A key in its scope: the caller's tenant, the principal within it, and the client's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedKey {
    pub scope: String,
    pub principal: String,
    pub key: String,
}

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How long a claim is held before a retry may take over a key whose first request died, and
/// how long a completed response is kept for replay.
#[derive(Debug, Clone, Copy)]
pub struct KeyTimes {
    pub lease: Duration,
    pub retention: Duration,
}

/// A claimed key; only its holder can complete or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then `complete` or `release`.
    Acquired(ClaimToken),
    /// A request with this key and body already finished: answer with its response.
    Replay(StoredResponse),
    /// The key was used with a different request body.
    BodyMismatch,
    /// A request with this key is still running.
    InFlight,
}

const IN_FLIGHT: &str = "in_flight";
const COMPLETED: &str = "completed";

type KeyRow = (
    String,                // request_hash
    String,                // state
    chrono::NaiveDateTime, // locked_until
    Option<i32>,           // response_status
    Option<String>,        // response_headers
    Option<String>,        // response_body
    chrono::NaiveDateTime, // expires_at
);

/// Claims `key` for a request whose body hashes to `request_hash`.
pub fn claim(
    conn: &mut DbConnection,
    key: &ScopedKey,
    request_hash: &str,
    now: DateTime<Utc>,
    times: KeyTimes,
) -> DbResult<Claim> {
    // On PostgreSQL two first requests can both find no row and race to insert; the loser's
    // transaction is aborted by the unique violation and it looks again, finding the winner's.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match write_transaction(conn, |conn| claim_once(conn, key, request_hash, now, times)) {
            Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) if attempts < 3 => continue,
            other => return other,
        }
    }
}

fn claim_once(
    conn: &mut DbConnection,
    key: &ScopedKey,
    request_hash: &str,
    now: DateTime<Utc>,
    times: KeyTimes,
) -> DbResult<Claim> {
    let row: Option<KeyRow> = find(key)
        .select((
            keys::request_hash,
            keys::state,
            keys::locked_until,
            keys::response_status,
            keys::response_headers,
            keys::response_body,
            keys::expires_at,
        ))
        .first(conn)
        .optional()?;
    let token = ClaimToken(uuid::Uuid::now_v7().to_string());
    let Some((hash, state, locked_until, status, headers, body, expires_at)) = row else {
        insert(conn, key, request_hash, &token, now, times)?;
        return Ok(Claim::Acquired(token));
    };
    if from_db_time(expires_at) <= now {
        // Past retention the key is free again, as if never used.
        diesel::delete(find(key).filter(keys::expires_at.le(to_db_time(now)))).execute(conn)?;
        insert(conn, key, request_hash, &token, now, times)?;
        return Ok(Claim::Acquired(token));
    }
    if hash != request_hash {
        return Ok(Claim::BodyMismatch);
    }
    if state == COMPLETED {
        return stored(status, headers, body).map(Claim::Replay);
    }
    if from_db_time(locked_until) > now {
        return Ok(Claim::InFlight);
    }
    // The first request's lease ran out (its process died): take the key over, unless another
    // retry just did.
    let taken = diesel::update(
        find(key)
            .filter(keys::state.eq(IN_FLIGHT))
            .filter(keys::locked_until.eq(locked_until)),
    )
    .set((
        keys::claim_token.eq(&token.0),
        keys::locked_until.eq(to_db_time(now + times.lease)),
    ))
    .execute(conn)?;
    Ok(if taken == 1 {
        Claim::Acquired(token)
    } else {
        Claim::InFlight
    })
}

fn find(key: &ScopedKey) -> diesel::dsl::Find<keys::table, (&str, &str, &str)> {
    keys::table.find((key.scope.as_str(), key.principal.as_str(), key.key.as_str()))
}

fn insert(
    conn: &mut DbConnection,
    key: &ScopedKey,
    request_hash: &str,
    token: &ClaimToken,
    now: DateTime<Utc>,
    times: KeyTimes,
) -> QueryResult<usize> {
    diesel::insert_into(keys::table)
        .values((
            keys::scope.eq(&key.scope),
            keys::principal.eq(&key.principal),
            keys::idempotency_key.eq(&key.key),
            keys::request_hash.eq(request_hash),
            keys::state.eq(IN_FLIGHT),
            keys::claim_token.eq(&token.0),
            keys::locked_until.eq(to_db_time(now + times.lease)),
            keys::created_at.eq(to_db_time(now)),
            keys::expires_at.eq(to_db_time(now + times.retention)),
        ))
        .execute(conn)
}

fn stored(
    status: Option<i32>,
    headers: Option<String>,
    body: Option<String>,
) -> DbResult<StoredResponse> {
    let corrupt = |what: &str| DbError::corrupt("idempotency_keys", what.to_owned());
    let status = status
        .and_then(|status| u16::try_from(status).ok())
        .ok_or_else(|| corrupt("completed key without a status"))?;
    let headers = serde_json::from_str(headers.as_deref().unwrap_or("[]"))
        .map_err(|_| corrupt("unreadable stored headers"))?;
    Ok(StoredResponse {
        status,
        headers,
        body: body.unwrap_or_default(),
    })
}

/// The claim no longer holds the key (its lease ran out and a retry took it over). The work
/// done under it must be rolled back: the retry will do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLost;

/// Stores the final response. Call inside the transaction that made the request's changes, so
/// the changes and the stored response commit together or not at all.
pub fn complete(
    conn: &mut DbConnection,
    key: &ScopedKey,
    token: &ClaimToken,
    response: &StoredResponse,
) -> DbResult<Result<(), ClaimLost>> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| DbError::corrupt("idempotency_keys", e.to_string()))?;
    let updated = diesel::update(
        find(key)
            .filter(keys::state.eq(IN_FLIGHT))
            .filter(keys::claim_token.eq(&token.0)),
    )
    .set((
        keys::state.eq(COMPLETED),
        keys::response_status.eq(i32::from(response.status)),
        keys::response_headers.eq(headers),
        keys::response_body.eq(&response.body),
    ))
    .execute(conn)?;
    Ok(if updated == 1 { Ok(()) } else { Err(ClaimLost) })
}

/// Gives the key back unused (the request failed in a way a retry may fix).
pub fn release(conn: &mut DbConnection, key: &ScopedKey, token: &ClaimToken) -> DbResult<()> {
    diesel::delete(
        find(key)
            .filter(keys::state.eq(IN_FLIGHT))
            .filter(keys::claim_token.eq(&token.0)),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes keys past their retention. Safe to run from several replicas at once.
pub fn purge_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> DbResult<usize> {
    Ok(diesel::delete(keys::table.filter(keys::expires_at.le(to_db_time(now)))).execute(conn)?)
}
