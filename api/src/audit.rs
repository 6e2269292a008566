//! Writing audit records from handlers: the actor comes from the principal and the request id
//! from the request context, so a handler names only what changed.

use chrono::{DateTime, Utc};
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::repos::audit::{self, AuditActor, Entry};
use persistence::tenant::AccountScope;

use crate::error::ApiError;
use crate::events;
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
    write(conn, scope, actor, action, target, details, None, now)
}

/// Records a change that must be announced only once (what time decided, found by a sweep
/// that may pass twice): its event carries `dedupe_key`.
#[allow(clippy::too_many_arguments)]
pub fn record_once(
    conn: &mut DbConnection,
    scope: &AccountScope,
    actor: &AuditActor,
    action: &str,
    target: (&str, String),
    details: serde_json::Value,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    write(
        conn,
        scope,
        actor,
        action,
        target,
        details,
        Some(dedupe_key),
        now,
    )
}

/// The audit record and, in the same transaction, the webhook events the change stands for.
#[allow(clippy::too_many_arguments)]
fn write(
    conn: &mut DbConnection,
    scope: &AccountScope,
    actor: &AuditActor,
    action: &str,
    target: (&str, String),
    details: serde_json::Value,
    dedupe_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    events::publish_change(
        conn, scope, actor, action, &target, &details, dedupe_key, now,
    )?;
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
