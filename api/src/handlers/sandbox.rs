//! Sandbox accounts (DESIGN §9): the account's own clock and the stand-in for the operator's
//! verification decision. The skilling and performance stand-ins live beside the operator
//! feeds they mirror.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use domain::access::Permission;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::repos::accounts;
use persistence::repos::webhooks::Sweep;
use persistence::tenant::Membership;
use serde_json::json;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::billing;
use crate::db;
use crate::dto::account::{Account, VerificationDecision};
use crate::dto::sandbox::{AdvanceClockRequest, SandboxClock};
use crate::error::{ApiError, ErrorCode};
use crate::events;
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::handlers::verification::apply_decision;
use crate::state::AppState;
use domain::FieldError;

fn not_a_sandbox() -> ApiError {
    ApiError::new(
        ErrorCode::NotASandbox,
        "This account runs on the real clock; sandbox routes work only for accounts created with \"sandbox\": true.",
    )
}

/// The caller as a member allowed to drive the sandbox (`account.write`), and the sandbox's
/// now. 409 `not_a_sandbox` for a live account.
pub fn sandbox_member(
    conn: &mut DbConnection,
    principal: &Principal,
) -> Result<(Membership, DateTime<Utc>), ApiError> {
    let membership = access::authorize(conn, principal, Permission::AccountWrite)?;
    let now = membership.clock.ok_or_else(not_a_sandbox)?;
    Ok((membership, now))
}

/// The latest instant a sandbox clock may show.
fn clock_limit() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(221_845_392_000, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Read the sandbox clock.
///
/// The sandbox account's now. Every rule of the account (skilling lag, renewal windows,
/// verification codes, eligibility) reads this instant instead of the wall clock.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "get_sandbox_clock",
    responses(
        (status = 200, description = "The clock.", body = SandboxClock),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "The account is not a sandbox (`not_a_sandbox`)."),
    ),
)]
#[get("/v1/sandbox/clock")]
pub async fn get_clock(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<SandboxClock>, ApiError> {
    let principal = caller.0;
    let clock = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AccountRead)?;
        let now = membership.clock.ok_or_else(not_a_sandbox)?;
        let account = accounts::get(conn, &membership.scope)?;
        Ok(SandboxClock {
            now,
            started_at: account.created_at,
        })
    })
    .await?;
    Ok(web::Json(clock))
}

/// Advance the sandbox clock.
///
/// Moves the account's clock forward by `advance_days` days plus `advance_seconds` seconds
/// (at least one second in all; it never goes back), so a test reaches exact boundaries: the
/// skilling lag, a renewal window's first and last second, the 30-day refund window.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "advance_sandbox_clock",
    request_body(content = AdvanceClockRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The clock after the move.", body = SandboxClock),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "The account is not a sandbox (`not_a_sandbox`)."),
    ),
)]
#[post("/v1/sandbox/clock")]
pub async fn advance_clock(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<AdvanceClockRequest>,
) -> Result<web::Json<SandboxClock>, ApiError> {
    let principal = caller.0;
    let request = body.value;
    let window_days = state.rules.renewal_window_days;
    let clock = db::run(&state, move |conn| {
        let step = validate(&request, |r| {
            let step = Duration::days(i64::from(r.advance_days))
                + Duration::seconds(i64::from(r.advance_seconds));
            if step <= Duration::zero() {
                return Err(FieldError::new(
                    "advance_seconds",
                    "zero_advance",
                    "advance the clock by at least one second",
                )
                .into());
            }
            Ok(step)
        })?;
        persistence::connection::write_transaction(conn, |conn| {
            let (membership, now) = sandbox_member(conn, &principal)?;
            let scope = &membership.scope;
            // Dates stay far from the calendar's end, so every window computed from the clock
            // (terms, lags, renewal windows) fits.
            let to = now
                .checked_add_signed(step)
                .filter(|to| *to < clock_limit())
                .ok_or_else(|| {
                    ApiError::validation([FieldError::new(
                        "advance_days",
                        "out_of_range",
                        "a sandbox clock stops short of the year 9000",
                    )])
                })?;
            if !accounts::set_sandbox_clock(conn, scope, to)? {
                return Err(not_a_sandbox());
            }
            audit::record(
                conn,
                scope,
                &principal,
                "sandbox.clock_advanced",
                ("account", scope.account_id().to_string()),
                json!({"from": now, "to": to}),
                to,
            )?;
            // What the new time decides is announced at once: wire orders expiring unpaid,
            // renewal windows opening, memberships expiring, skilling credit starting to count.
            billing::announce_expiries(conn, scope, to)?;
            events::announce_time(conn, Sweep::Account(scope), window_days, now, to)?;
            let account = accounts::get(conn, scope)?;
            Ok(SandboxClock {
                now: to,
                started_at: account.created_at,
            })
        })
    })
    .await?;
    Ok(web::Json(clock))
}

/// Decide verification (sandbox).
///
/// The sandbox stand-in for the operator's decision on a `pending` verification: `verified`,
/// `rejected` or `action_required` (the last two need a `reason`), with the same effects
/// (Action Center item, audit record). Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "sandbox_decide_verification",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`).")),
    request_body(content = VerificationDecision, content_type = "application/json"),
    responses(
        (status = 200, description = "The account after the decision.", body = Account),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "`not_a_sandbox`, `verification_not_pending`, or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/sandbox/verification")]
pub async fn decide_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<VerificationDecision>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let decision = body.value;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, _wall| {
        let (membership, now) = sandbox_member(conn, &principal)?;
        let saved = apply_decision(conn, &membership.scope, &principal, &decision, now)?;
        Reply::json(StatusCode::OK, &Account::from(&saved))
    })
    .await
}
