//! Publishing domain events to the webhook outbox.
//!
//! Every audited change is a candidate: [`publish_change`] runs inside `audit::record_as`, in
//! the change's transaction, and publishes the change under its audit action when the catalog
//! (`domain::webhooks::EventType`) names it, plus `verification.status_changed` whenever the
//! change moved the verification status. What time alone changes (a renewal window opening, a
//! membership expiring, a skilling credit starting to count) has no request to hang on: the
//! sweep here announces it once the account's clock passes the instant, at once for a sandbox
//! clock that is moved, and within a minute for live accounts (one replica at a time).

use chrono::{DateTime, Duration, Utc};
use domain::action_center::{Audience, Category, Class, NewItem, Priority};
use domain::membership::{Status, Term, transitions_between};
use domain::webhooks::EventType;
use domain::workspace::Workspace;
use persistence::DbConnection;
use persistence::connection::{savepoint, write_transaction};
use persistence::repos::action_center::{self, Target};
use persistence::repos::audit::AuditActor;
use persistence::repos::webhooks::{self, Anniversary, CountedCredit, LIVE_SWEEP, Sweep};
use persistence::tenant::AccountScope;
use serde_json::{Value, json};

use crate::audit;
use crate::billing::{self, system_actor};
use crate::error::ApiError;
use crate::state::AppState;

/// The `data` of an event that reports an audited change: what changed, who changed it, and
/// the facts the audit record holds.
fn change_data(actor: &AuditActor, target: &(&str, String), details: &Value) -> Value {
    json!({
        "object": target.0,
        "id": target.1,
        "actor": {"kind": actor.kind, "id": actor.id},
        "details": details,
    })
}

/// Whether the audited details record a verification status that moved.
fn moves_verification(details: &Value) -> bool {
    let status = &details["verification_status"];
    status["from"].is_string() && status["from"] != status["to"]
}

/// Publishes the events an audited change stands for (none, one or two), in its transaction.
#[allow(clippy::too_many_arguments)]
pub fn publish_change(
    conn: &mut DbConnection,
    scope: &AccountScope,
    actor: &AuditActor,
    action: &str,
    target: &(&str, String),
    details: &Value,
    dedupe_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut events: Vec<EventType> = EventType::for_audit_action(action).into_iter().collect();
    if moves_verification(details) {
        events.push(EventType::VerificationStatusChanged);
    }
    for event in events {
        webhooks::publish(
            conn,
            scope,
            event,
            change_data(actor, target, details),
            dedupe_key,
            now,
        )?;
    }
    Ok(())
}

/// Announces what the account's clock passing from `from` to `to` changed. Each change is
/// announced once: its event carries a key naming it, and a second sweep finds it published.
pub fn announce_time(
    conn: &mut DbConnection,
    sweep: Sweep<'_>,
    window_days: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let window = Duration::days(i64::from(window_days));
    // The live sweep covers every account in one pass: one account's failure is logged and
    // skipped (under a savepoint) rather than holding back everyone's announcements.
    let isolate = matches!(sweep, Sweep::Live);
    let mut announced = 0;
    let mut count = |conn: &mut DbConnection,
                     what: &str,
                     announce: &dyn Fn(&mut DbConnection) -> Result<bool, ApiError>|
     -> Result<(), ApiError> {
        let outcome = if isolate {
            savepoint(conn, |conn| announce(conn))
        } else {
            announce(conn)
        };
        match outcome {
            Ok(true) => announced += 1,
            Ok(false) => {}
            Err(error) if isolate => log::error!("could not announce {what}: {error}"),
            Err(error) => return Err(error),
        }
        Ok(())
    };
    for anniversary in webhooks::anniversaries_between(conn, sweep, from - window, to)? {
        let term = Term {
            activated_at: anniversary
                .activated_at
                .unwrap_or(anniversary.anniversary_at),
            anniversary: Some(anniversary.anniversary_at),
            renewable: anniversary.renewable,
        };
        for (status, at) in transitions_between(&term, window_days, from, to) {
            count(conn, &anniversary.membership_id, &|conn| {
                announce_membership(conn, &anniversary, status, at, window)
            })?;
        }
    }
    for credit in webhooks::credits_counting_between(conn, sweep, from, to)? {
        count(conn, &credit.credit_id, &|conn| {
            announce_credit(conn, &credit)
        })?;
    }
    Ok(announced)
}

/// Records a change time made (audit + event, once under `key`); `false` if already announced.
fn record_once(
    conn: &mut DbConnection,
    scope: &AccountScope,
    action: &str,
    target: (&str, String),
    details: Value,
    key: &str,
    at: DateTime<Utc>,
) -> Result<bool, ApiError> {
    if webhooks::is_published(conn, scope, key)? {
        return Ok(false);
    }
    audit::record_once(
        conn,
        scope,
        &system_actor(),
        action,
        target,
        details,
        key,
        at,
    )?;
    Ok(true)
}

fn announce_membership(
    conn: &mut DbConnection,
    anniversary: &Anniversary,
    status: Status,
    at: DateTime<Utc>,
    window: Duration,
) -> Result<bool, ApiError> {
    let scope = &anniversary.scope;
    let id = &anniversary.membership_id;
    let program = &anniversary.program_id;
    let (action, details, item) = match status {
        Status::RenewalDue => {
            let renew_by = anniversary.anniversary_at + window;
            (
                "membership.renewal_due",
                json!({
                    "program_id": program,
                    "anniversary_at": anniversary.anniversary_at,
                    "renew_by": renew_by,
                }),
                NewItem {
                    class: Class::Action(Priority::Recommended),
                    event: "membership.renewal_due",
                    workspace: Workspace::Membership,
                    audience: Audience::Workspace,
                    title: format!("Renew {program}"),
                    message: format!(
                        "Your {program} membership reached its anniversary. Renew it before {} \
                         to keep its benefits.",
                        renew_by.to_rfc3339()
                    ),
                    due_at: Some(renew_by),
                },
            )
        }
        _ => (
            "membership.expired",
            json!({
                "program_id": program,
                "anniversary_at": anniversary.anniversary_at,
                "expired_at": at,
            }),
            NewItem {
                class: Class::Notification(Category::Transactional),
                event: "membership.expired",
                workspace: Workspace::Membership,
                audience: Audience::Workspace,
                title: format!("{program} expired"),
                message: format!(
                    "Your {program} membership was not renewed and expired; its benefits ended."
                ),
                due_at: None,
            },
        ),
    };
    let key = format!("{action}:{id}:{}", anniversary.anniversary_at.to_rfc3339());
    if !record_once(
        conn,
        scope,
        action,
        ("membership", id.clone()),
        details,
        &key,
        at,
    )? {
        return Ok(false);
    }
    action_center::raise(
        conn,
        scope,
        &item,
        Some(Target {
            kind: "membership",
            id,
        }),
        at,
    )?;
    Ok(true)
}

fn announce_credit(conn: &mut DbConnection, credit: &CountedCredit) -> Result<bool, ApiError> {
    let key = format!("skilling.credit_counted:{}", credit.credit_id);
    record_once(
        conn,
        &credit.scope,
        "skilling.credit_counted",
        ("skilling_credit", credit.credit_id.clone()),
        json!({
            "user_id": credit.user_id,
            "kind": credit.kind,
            "credential": credit.credential,
            "title": credit.title,
            "counts_from": credit.counts_from,
        }),
        &key,
        credit.counts_from,
    )
}

/// How often live accounts are swept for what time changed.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
/// Long enough for one sweep; a replica that dies holding it delays the next by this much.
const SWEEP_LEASE_SECONDS: i64 = 300;

/// Sweeps live accounts until the server stops: what their clock passed (one replica at a
/// time holds that sweep), and wire orders that expired unpaid.
pub async fn run_sweep(state: AppState) {
    loop {
        let window_days = state.rules.renewal_window_days;
        let swept = crate::db::run(&state, move |conn| sweep_live(conn, window_days)).await;
        match swept {
            Ok(count) if count > 0 => log::info!("announced {count} time-driven events"),
            Ok(_) => {}
            Err(error) => log::warn!("event sweep: {error}"),
        }
        let expired = crate::db::run(&state, |conn| {
            billing::sweep_expiries(conn, crate::clock::now())
        })
        .await;
        if let Err(error) = expired {
            log::warn!("wire-order expiry sweep: {error}");
        }
        actix_web::rt::time::sleep(SWEEP_EVERY).await;
    }
}

fn sweep_live(conn: &mut DbConnection, window_days: u32) -> Result<usize, ApiError> {
    let wall = crate::clock::now();
    let lease = Duration::seconds(SWEEP_LEASE_SECONDS);
    // Claimed outside a transaction: the first claim may insert the row, and a losing insert
    // must not poison a PostgreSQL transaction.
    let Some(from) = webhooks::claim_sweep(conn, LIVE_SWEEP, wall, lease)? else {
        return Ok(0);
    };
    let swept = write_transaction(conn, |conn| {
        let announced = announce_time(conn, Sweep::Live, window_days, from, wall)?;
        webhooks::finish_sweep(conn, LIVE_SWEEP, wall)?;
        Ok(announced)
    });
    if swept.is_err() {
        // Released where it stood, so the next round (on any replica) retries the interval.
        webhooks::finish_sweep(conn, LIVE_SWEEP, from)?;
    }
    swept
}
