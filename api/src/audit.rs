//! Writing audit records from handlers: the actor comes from the principal and the request id
//! from the request context, so a handler names only what changed.

use chrono::{DateTime, Utc};
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::repos::audit::{self, AuditActor, Entry};
use persistence::tenant::AccountScope;

use crate::error::ApiError;
use crate::request_context;

pub fn actor(principal: &Principal) -> AuditActor {
    AuditActor {
        kind: principal.kind().id().to_owned(),
        id: principal.subject().to_owned(),
    }
}

/// Records one change, in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    action: &str,
    target: (&str, String),
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    record_as(conn, scope, &actor(principal), action, target, details, now)
}

/// Records one change made by `actor` (the system, for what time alone decides).
pub fn record_as(
    conn: &mut DbConnection,
    scope: &AccountScope,
    actor: &AuditActor,
    action: &str,
    target: (&str, String),
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let request_id = request_context::current_request_id().unwrap_or_default();
    audit::record(
        conn,
        scope,
        Entry {
            actor,
            action,
            target_type: target.0,
            target_id: target.1,
            request_id: &request_id,
            details,
        },
        now,
    )?;
    Ok(())
}
