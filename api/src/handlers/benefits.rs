//! Benefits of the account's memberships: listing, activation (assigning a user), and
//! revealing software product keys.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::access::Permission;
use domain::catalog::BenefitKind;
use domain::commerce::{self, Activation, ActivationRefused, BenefitStatus};
use domain::ids::{BenefitId, UserId};
use persistence::DbConnection;
use persistence::repos::benefits::{self, Benefit as BenefitRecord};
use persistence::repos::{accounts, memberships, users};
use persistence::tenant::AccountScope;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::billing;
use crate::clock;
use crate::db;
use crate::dto::commerce::{
    ActivateBenefitRequest, Benefit, BenefitList, BenefitQuery, RevealedKey,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, request_fingerprint, validate};
use crate::extract::pagination::{page_of, page_request, page_response};
use crate::state::AppState;

const KEY_DOC: &str =
    "Required: a retry with the same key gets the first answer instead of redeeming again.";

fn benefit_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No benefit of the account has this id.",
    )
}

/// The status of each benefit at `now`: a benefit ends with its membership.
pub(crate) fn with_status(
    conn: &mut DbConnection,
    scope: &AccountScope,
    found: Vec<BenefitRecord>,
    window_days: u32,
    now: DateTime<Utc>,
) -> Result<Vec<(BenefitRecord, BenefitStatus)>, ApiError> {
    let held = memberships::all(conn, scope)?;
    Ok(found
        .into_iter()
        .map(|benefit| {
            let in_force = held
                .iter()
                .find(|m| m.id == benefit.membership_id)
                .is_some_and(|m| m.status(window_days, now).is_in_force());
            let status = benefit.status(in_force, now);
            (benefit, status)
        })
        .collect())
}

fn one(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: BenefitId,
    window_days: u32,
    now: DateTime<Utc>,
) -> Result<(BenefitRecord, BenefitStatus), ApiError> {
    let benefit = benefits::get(conn, scope, id)?.ok_or_else(benefit_not_found)?;
    with_status(conn, scope, vec![benefit], window_days, now)?
        .pop()
        .ok_or_else(benefit_not_found)
}

/// List benefits.
///
/// The benefits granted by the account's memberships, oldest first, with their status at the
/// account's now: `available`, `activated`, or `ended` (the membership expired unrenewed, was
/// cancelled, or the term the benefit was granted for ended).
#[utoipa::path(
    tag = "Benefits",
    operation_id = "list_benefits",
    params(BenefitQuery),
    responses(
        (status = 200, description = "One page of benefits.", body = BenefitList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[get("/v1/benefits")]
pub async fn list_benefits(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<BenefitQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let window = state.rules.renewal_window_days;
    let max_moves = state.rules.max_credit_reassignments;
    let wall = clock::now();
    let items = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        let scope = &membership.scope;
        let now = membership.now(wall);
        let found = benefits::all(conn, scope)?;
        Ok(with_status(conn, scope, found, window, now)?
            .iter()
            .map(|(benefit, status)| Benefit::new(benefit, *status, max_moves))
            .filter(|b| query.status.is_none_or(|status| b.status == status))
            .filter(|b| query.membership_id.is_none_or(|id| b.membership_id == id))
            .collect::<Vec<_>>())
    })
    .await?;
    let page = page_of(items, &page, |b| b.id.to_string());
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| BenefitList {
            items: page.items,
            next_cursor,
        },
    ))
}

/// Read a benefit.
#[utoipa::path(
    tag = "Benefits",
    operation_id = "get_benefit",
    params(("benefit_id" = Uuid, Path, description = "The benefit's id.")),
    responses(
        (status = 200, description = "The benefit.", body = Benefit),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No benefit of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/benefits/{benefit_id}")]
pub async fn get_benefit(
    state: web::Data<AppState>,
    caller: Authenticated,
    benefit_id: web::Path<Uuid>,
) -> Result<web::Json<Benefit>, ApiError> {
    let principal = caller.0;
    let id = BenefitId::from_uuid(benefit_id.into_inner());
    let window = state.rules.renewal_window_days;
    let max_moves = state.rules.max_credit_reassignments;
    let wall = clock::now();
    let benefit = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        let (benefit, status) = one(conn, &membership.scope, id, window, membership.now(wall))?;
        Ok(Benefit::new(&benefit, status, max_moves))
    })
    .await?;
    Ok(web::Json(benefit))
}

/// Activate a benefit.
///
/// Assigns the benefit to a user of the account. Activating it again for the same user
/// changes nothing. A monthly Azure credit can then move to another user at most 5 times
/// (`reassignments_remaining`); other benefits stay with their first user. An activated
/// benefit blocks refunds of the order that granted it.
#[utoipa::path(
    tag = "Benefits",
    operation_id = "activate_benefit",
    params(
        ("benefit_id" = Uuid, Path, description = "The benefit's id."),
        ("Idempotency-Key" = String, Header, max_length = 255, description = KEY_DOC),
    ),
    request_body(content = ActivateBenefitRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The benefit, activated for the user.", body = Benefit),
        (status = 400, description = "`idempotency_key_required`, or `assignee_user_id` is not a user of the account (`validation_failed`)."),
        (status = 403, description = "`insufficient_role` (needs `global_admin` or `mpn_partner_admin`), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No benefit of the caller's account has this id (`not_found`)."),
        (status = 409, description = "`benefit_ended`, `benefit_not_reassignable`, `reassignment_limit_reached` or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/benefits/{benefit_id}/activate")]
pub async fn activate_benefit(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    benefit_id: web::Path<Uuid>,
    body: JsonBody<ActivateBenefitRequest>,
) -> Result<HttpResponse, ApiError> {
    key.require("Activating a benefit redeems it")?;
    let principal = caller.0.clone();
    let id = BenefitId::from_uuid(benefit_id.into_inner());
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let window = state.rules.renewal_window_days;
    let max_moves = state.rules.max_credit_reassignments;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&request, |_| Ok(()))?;
        let benefit = {
            let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
            let scope = &membership.scope;
            let now = membership.now(wall);
            // Activations of one account are serialized, so the reassignment count is exact.
            accounts::lock(conn, scope)?;
            let (benefit, status) = one(conn, scope, id, window, now)?;
            let assignee = UserId::from_uuid(request.assignee_user_id);
            if users::get(conn, scope, assignee)?.is_none() {
                return Err(ApiError::validation([domain::FieldError::new(
                    "assignee_user_id",
                    "unknown_user",
                    "not a user of this account",
                )]));
            }
            let current = benefit.assignee.map(|user| user.to_string());
            let outcome = commerce::activate(
                status,
                current.as_deref(),
                &assignee.to_string(),
                benefit.kind == BenefitKind::AzureCredit,
                (benefit.reassignments, max_moves),
            )
            .map_err(|refused| refusal(refused, &benefit))?;
            let (count, action) = match outcome {
                Activation::Unchanged => {
                    return Reply::json(StatusCode::OK, &Benefit::new(&benefit, status, max_moves));
                }
                Activation::Activated => (benefit.reassignments, "benefit.activated"),
                Activation::Reassigned(count) => (count, "benefit.reassigned"),
            };
            if !benefits::assign(conn, scope, &benefit, assignee, count, now)? {
                return Err(ApiError::internal(
                    "a benefit changed under the account lock",
                ));
            }
            billing::notify(
                conn,
                scope,
                "benefit.activated",
                domain::workspace::Workspace::Benefits,
                (
                    format!("{} is activated", benefit.name),
                    format!("{} is assigned to a user of the account.", benefit.name),
                ),
                ("benefit", benefit.id.to_string()),
                now,
            )?;
            audit::record(
                conn,
                scope,
                &principal,
                action,
                ("benefit", benefit.id.to_string()),
                json!({
                    "assignee_user_id": assignee,
                    "previous_assignee_user_id": benefit.assignee,
                    "reassignments": count,
                    "membership_id": benefit.membership_id,
                }),
                now,
            )?;
            let (updated, status) = one(conn, scope, id, window, now)?;
            Benefit::new(&updated, status, max_moves)
        };
        Reply::json(StatusCode::OK, &benefit)
    })
    .await
}

fn refusal(refused: ActivationRefused, benefit: &BenefitRecord) -> ApiError {
    match refused {
        ActivationRefused::Ended => ApiError::new(
            ErrorCode::BenefitEnded,
            format!("{} has ended with its membership or term.", benefit.name),
        ),
        ActivationRefused::NotReassignable => ApiError::new(
            ErrorCode::BenefitNotReassignable,
            format!(
                "{} is activated for another user; only a monthly Azure credit can change hands.",
                benefit.name
            ),
        ),
        ActivationRefused::ReassignmentLimit => ApiError::new(
            ErrorCode::ReassignmentLimitReached,
            format!(
                "{} was already reassigned {} times, the most allowed.",
                benefit.name, benefit.reassignments
            ),
        ),
    }
}

/// Reveal a product key.
///
/// Shows a software benefit's product key. Every reveal is recorded in the audit log, and a
/// revealed key blocks refunds of the order that granted it, even if the key is never used.
#[utoipa::path(
    tag = "Benefits",
    operation_id = "reveal_benefit_key",
    params(
        ("benefit_id" = Uuid, Path, description = "The benefit's id."),
        ("Idempotency-Key" = String, Header, max_length = 255, description = KEY_DOC),
    ),
    responses(
        (status = 200, description = "The key.", body = RevealedKey),
        (status = 400, description = "`idempotency_key_required`."),
        (status = 403, description = "`insufficient_role` (needs `global_admin` or `mpn_partner_admin`), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No benefit of the caller's account has this id (`not_found`)."),
        (status = 409, description = "`no_product_key` (not a software benefit), `benefit_ended` or `idempotency_key_in_use`."),
    ),
)]
#[post("/v1/benefits/{benefit_id}/reveal-key")]
pub async fn reveal_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    benefit_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    key.require("Revealing a product key redeems it")?;
    let principal = caller.0.clone();
    let id = BenefitId::from_uuid(benefit_id.into_inner());
    let window = state.rules.renewal_window_days;
    idempotency::execute(&state, &caller.0, key, request_fingerprint(&req, ""), move |conn, wall| {
        let revealed = {
            let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
            let scope = &membership.scope;
            let now = membership.now(wall);
            // Serialized with refunds, so a refund never grants while a key is being shown.
            accounts::lock(conn, scope)?;
            let (benefit, status) = one(conn, scope, id, window, now)?;
            let Some(key) = benefit.product_key.clone() else {
                return Err(ApiError::new(
                    ErrorCode::NoProductKey,
                    format!("{} is not a software benefit and has no product key.", benefit.name),
                ));
            };
            if status == BenefitStatus::Ended {
                return Err(refusal(ActivationRefused::Ended, &benefit));
            }
            benefits::mark_key_revealed(conn, scope, id, now)?;
            audit::record(
                conn,
                scope,
                &principal,
                "benefit.key_revealed",
                ("benefit", benefit.id.to_string()),
                json!({ "membership_id": benefit.membership_id, "first": benefit.key_revealed_at.is_none() }),
                now,
            )?;
            RevealedKey {
                benefit_id: benefit.id.as_uuid(),
                product_key: key,
                revealed_at: benefit.key_revealed_at.unwrap_or(now),
            }
        };
        Reply::json(StatusCode::OK, &revealed)
    })
    .await
}
