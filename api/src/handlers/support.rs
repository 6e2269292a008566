//! Support requests: opened, answered and closed; `membership_cancellation` requests are
//! decided at once (cancel and refund).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::catalog::Rules;
use domain::commerce::{Severity, SupportCategory, SupportStatus};
use domain::ids::{AccountId, OrderId, SupportRequestId, UserId};
use domain::principal::Principal;
use domain::role::Role;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::support::{self, NewRequest, SupportRequest as RequestRecord};
use persistence::repos::{accounts, orders};
use persistence::tenant::{AccountScope, Membership};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::billing;
use crate::clock;
use crate::db;
use crate::dto::commerce::{
    CancellationDecision, CreateSupportRequest, RefundCheck, RefundSummary, SupportQuery,
    SupportReply, SupportRequest, SupportRequestList, UpdateSupportRequest,
};
use crate::dto::program::Money;
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::payments::PaymentGateway;
use crate::state::AppState;

/// Roles that see every request of the account; everyone else sees their own.
const SUPPORT_ADMINS: [Role; 2] = [Role::GlobalAdmin, Role::AccountAdmin];

fn request_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No support request of the account that you may see has this id.",
    )
}

/// Whose requests the caller sees: `None` for the account's admins (every request), else the
/// caller's own.
pub(crate) fn visible_creator(membership: &Membership, user: UserId) -> Option<UserId> {
    (!membership.has_any_role(&SUPPORT_ADMINS)).then_some(user)
}

/// The request, if the caller may see it: their own, or any as an admin.
fn visible(
    conn: &mut DbConnection,
    membership: &Membership,
    user: UserId,
    id: SupportRequestId,
) -> Result<RequestRecord, ApiError> {
    support::get(conn, &membership.scope, id)?
        .filter(|request| {
            visible_creator(membership, user).is_none_or(|own| own == request.created_by)
        })
        .ok_or_else(request_not_found)
}

fn with_notes(
    conn: &mut DbConnection,
    scope: &AccountScope,
    request: &RequestRecord,
) -> Result<SupportRequest, ApiError> {
    let notes = support::notes(conn, scope, request.id)?;
    Ok(SupportRequest::new(request, Some(&notes)))
}

/// Open a support request.
///
/// Any user of the account may open one. `category: membership_cancellation` with an
/// `order_id` asks to cancel a paid membership and refund its order (it needs `global_admin`
/// or `mpn_partner_admin`) and is decided at once, with the rules of
/// `GET /v1/orders/{id}/refund-eligibility`: granted only if now is at most 30 days after
/// payment, no benefit of the membership was activated and no product key revealed. Granted:
/// the membership is cancelled, its benefits revoked, the payment refunded (to the card through
/// the gateway; a wire payment is recorded for the operator to pay back), a credit note issued
/// and the request closed with the decision. Refused: the request is closed with every check
/// (the failed ones `satisfied: false`). Of concurrent cancellations of one order exactly one
/// refunds it; the others are refused with `order_paid` failed.
#[utoipa::path(
    tag = "Support",
    operation_id = "create_support_request",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`). Required for `membership_cancellation`, which refunds money.")),
    request_body(content = CreateSupportRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The request (a cancellation: closed, with its decision).", body = SupportRequest, headers(
            ("Location" = String, description = "`/v1/support/requests/{id}`."),
        )),
        (status = 403, description = "`principal_not_allowed` (apps cannot open requests), `insufficient_role` (a cancellation needs `global_admin` or `mpn_partner_admin`), or `not_a_member`."),
        (status = 400, description = "`validation_failed` (`order_id` missing for a cancellation or not an order of the account), or `idempotency_key_required` (a cancellation without `Idempotency-Key`)."),
        (status = 409, description = "`idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
        (status = 503, description = "`payment_gateway_unavailable`: the refund could not be made; nothing changed, retry."),
    ),
)]
#[post("/v1/support/requests")]
pub async fn create_support_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateSupportRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.value.category == crate::dto::commerce::SupportCategory::MembershipCancellation {
        key.require("A membership cancellation refunds money")?;
    }
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let gateway = state.gateway.clone();
    let rules = state.rules.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let category: SupportCategory = request.category.into();
        validate(&request, |r| match (category, r.order_id) {
            (SupportCategory::MembershipCancellation, None) => Err(FieldError::new(
                "order_id",
                "required",
                "a membership cancellation names the order to cancel and refund",
            )
            .into()),
            _ => Ok(()),
        })?;
        let (membership, user) = access::account_user(conn, &principal)?;
        let cancellation = category == SupportCategory::MembershipCancellation;
        if cancellation {
            access::authorize(conn, &principal, Permission::MembershipManage)?;
        }
        let scope = &membership.scope;
        let now = membership.now(wall);
        accounts::lock(conn, scope)?;
        let order = match request.order_id.map(OrderId::from_uuid) {
            Some(id) => Some(orders::get(conn, scope, id)?.ok_or_else(|| {
                ApiError::validation([FieldError::new(
                    "order_id",
                    "unknown_order",
                    "not an order of this account",
                )])
            })?),
            None => None,
        };
        let opened = support::open(
            conn,
            scope,
            &NewRequest {
                created_by: user,
                category,
                title: &request.title,
                description: &request.description,
                severity: request.severity.map_or(Severity::Minimal, Into::into),
                order_id: order.as_ref().map(|o| o.id),
                now,
            },
        )?;
        audit::record(
            conn,
            scope,
            &principal,
            "support_request.opened",
            ("support_request", opened.id.to_string()),
            json!({ "category": category.id(), "order_id": opened.order_id }),
            now,
        )?;
        let result = match order.filter(|_| cancellation) {
            Some(order) => decide_cancellation(
                conn,
                scope,
                &principal,
                (gateway.as_ref(), &rules),
                &opened,
                &order,
                now,
            )?,
            None => opened,
        };
        Ok(
            Reply::json(StatusCode::CREATED, &with_notes(conn, scope, &result)?)?
                .with_header(LOCATION, format!("/v1/support/requests/{}", result.id)),
        )
    })
    .await
}

/// Decides a cancellation at once and closes the request with the decision.
fn decide_cancellation(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    (gateway, rules): (&dyn PaymentGateway, &Rules),
    request: &RequestRecord,
    order: &orders::Order,
    now: DateTime<Utc>,
) -> Result<RequestRecord, ApiError> {
    let decision = billing::refund_decision(conn, scope, order, rules, now)?;
    let refund = if decision.eligible {
        Some(billing::refund(
            conn,
            scope,
            principal,
            gateway,
            order,
            &decision,
            Some(request.id),
            now,
        )?)
    } else {
        None
    };
    let recorded = CancellationDecision {
        granted: decision.eligible,
        checks: decision.checks.iter().map(RefundCheck::from).collect(),
        refund: refund.as_ref().map(|refund| RefundSummary {
            id: refund.id.as_uuid(),
            amount: Money {
                amount_minor: refund.amount_minor,
                currency: refund.currency.clone(),
            },
            credit_note_id: refund.credit_note_id.map(|id| id.as_uuid()),
            gateway_refund_id: refund.gateway_refund.clone(),
        }),
        decided_at: now,
    };
    let value = serde_json::to_value(&recorded).map_err(ApiError::internal)?;
    if !support::set_status(
        conn,
        scope,
        request,
        SupportStatus::Closed,
        Some(&value),
        now,
    )? {
        return Err(ApiError::internal(
            "a support request changed under the account lock",
        ));
    }
    let failed: Vec<&str> = decision.failed().map(|check| check.code.id()).collect();
    billing::notify(
        conn,
        scope,
        "support_request.decided",
        domain::workspace::Workspace::HelpSupport,
        if decision.eligible {
            (
                format!("Cancellation of order {} granted", order.number),
                "The membership is cancelled and the payment refunded; see the credit note."
                    .to_owned(),
            )
        } else {
            (
                format!("Cancellation of order {} refused", order.number),
                format!(
                    "The request is closed; failed checks: {}.",
                    failed.join(", ")
                ),
            )
        },
        ("support_request", request.id.to_string()),
        now,
    )?;
    audit::record(
        conn,
        scope,
        principal,
        "support_request.decided",
        ("support_request", request.id.to_string()),
        json!({ "order_id": order.id, "granted": decision.eligible, "failed_checks": failed }),
        now,
    )?;
    support::get(conn, scope, request.id)?.ok_or_else(request_not_found)
}

/// List support requests.
///
/// The caller's own requests, oldest first; `global_admin` and `account_admin` see every
/// request of the account.
#[utoipa::path(
    tag = "Support",
    operation_id = "list_support_requests",
    params(SupportQuery),
    responses(
        (status = 200, description = "One page of requests (without their notes).", body = SupportRequestList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`principal_not_allowed` or `not_a_member`."),
    ),
)]
#[get("/v1/support/requests")]
pub async fn list_support_requests(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SupportQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let page = db::read(&state, move |conn| {
        let (membership, user) = access::account_user(conn, &principal)?;
        let creator = visible_creator(&membership, user);
        Ok(support::list(
            conn,
            &membership.scope,
            creator,
            query.status.map(Into::into),
            &page,
        )?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| SupportRequestList {
            items: page
                .items
                .iter()
                .map(|r| SupportRequest::new(r, None))
                .collect(),
            next_cursor,
        },
    ))
}

/// Read a support request.
///
/// With its notes. Only its author and the account's admins may see it.
#[utoipa::path(
    tag = "Support",
    operation_id = "get_support_request",
    params(("request_id" = Uuid, Path, description = "The request's id.")),
    responses(
        (status = 200, description = "The request and its notes.", body = SupportRequest),
        (status = 403, description = "`principal_not_allowed` or `not_a_member`."),
        (status = 404, description = "No request of the account that the caller may see has this id (`not_found`)."),
    ),
)]
#[get("/v1/support/requests/{request_id}")]
pub async fn get_support_request(
    state: web::Data<AppState>,
    caller: Authenticated,
    request_id: web::Path<Uuid>,
) -> Result<web::Json<SupportRequest>, ApiError> {
    let principal = caller.0;
    let id = SupportRequestId::from_uuid(request_id.into_inner());
    let found = db::read(&state, move |conn| {
        let (membership, user) = access::account_user(conn, &principal)?;
        let request = visible(conn, &membership, user, id)?;
        with_notes(conn, &membership.scope, &request)
    })
    .await?;
    Ok(web::Json(found))
}

/// Update a support request.
///
/// Adds a note, changes the severity, or closes the request (`status: closed`, the only status
/// a partner sets). A note on an `attention_needed` request moves it back to `open`. A closed
/// request takes no more notes.
#[utoipa::path(
    tag = "Support",
    operation_id = "update_support_request",
    params(("request_id" = Uuid, Path, description = "The request's id.")),
    request_body(content = UpdateSupportRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The request and its notes.", body = SupportRequest),
        (status = 403, description = "`principal_not_allowed` or `not_a_member`."),
        (status = 404, description = "No request of the account that the caller may see has this id (`not_found`)."),
        (status = 409, description = "`support_request_closed`."),
        (status = 400, description = "`validation_failed`: nothing to change, or a status other than `closed`."),
    ),
)]
#[patch("/v1/support/requests/{request_id}")]
pub async fn update_support_request(
    state: web::Data<AppState>,
    caller: Authenticated,
    request_id: web::Path<Uuid>,
    body: JsonBody<UpdateSupportRequest>,
) -> Result<web::Json<SupportRequest>, ApiError> {
    let principal = caller.0;
    let id = SupportRequestId::from_uuid(request_id.into_inner());
    let request = body.value;
    let wall = clock::now();
    let updated = db::run(&state, move |conn| {
        validate(&request, |r| {
            if r.note.is_none() && r.status.is_none() && r.severity.is_none() {
                return Err(FieldError::new(
                    "note",
                    "required",
                    "send a note, a status or a severity",
                )
                .into());
            }
            match r.status.map(SupportStatus::from) {
                None | Some(SupportStatus::Closed) => Ok(()),
                Some(_) => Err(FieldError::new(
                    "status",
                    "not_allowed",
                    "a partner can only close a request",
                )
                .into()),
            }
        })?;
        write_transaction(conn, |conn| {
            let (membership, user) = access::account_user(conn, &principal)?;
            let scope = &membership.scope;
            let now = membership.now(wall);
            accounts::lock(conn, scope)?;
            let current = visible(conn, &membership, user, id)?;
            if current.status == SupportStatus::Closed {
                if request.note.is_none() && request.severity.is_none() {
                    return with_notes(conn, scope, &current);
                }
                return Err(ApiError::new(
                    ErrorCode::SupportRequestClosed,
                    format!(
                        "Support request {} is closed; open a new one.",
                        current.number
                    ),
                ));
            }
            if let Some(note) = &request.note {
                support::add_note(conn, scope, id, "partner", principal.subject(), note, now)?;
            }
            let status = match (
                request.status.map(SupportStatus::from),
                &request.note,
                current.status,
            ) {
                (Some(SupportStatus::Closed), _, _) => SupportStatus::Closed,
                (_, Some(_), SupportStatus::AttentionNeeded) => SupportStatus::Open,
                (_, _, status) => status,
            };
            if let Some(severity) = request.severity {
                support::set_severity(conn, scope, id, severity.into())?;
            }
            let current = support::get(conn, scope, id)?.ok_or_else(request_not_found)?;
            support::set_status(
                conn,
                scope,
                &current,
                status,
                current.decision.as_ref(),
                now,
            )?;
            audit::record(
                conn,
                scope,
                &principal,
                "support_request.updated",
                ("support_request", id.to_string()),
                json!({
                    "note_added": request.note.is_some(),
                    "status": status.id(),
                    "severity": request.severity.map(|s| Severity::from(s).id()),
                }),
                now,
            )?;
            let updated = support::get(conn, scope, id)?.ok_or_else(request_not_found)?;
            with_notes(conn, scope, &updated)
        })
    })
    .await?;
    Ok(web::Json(updated))
}

/// Answer a support request (operators).
///
/// Adds support's note; with `attention_needed: true` the request waits for the partner
/// (`attention_needed`) until they add a note.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_reply_support_request",
    params(
        ("account_id" = Uuid, Path, description = "The account's id."),
        ("request_id" = Uuid, Path, description = "The request's id."),
    ),
    request_body(content = SupportReply, content_type = "application/json"),
    responses(
        (status = 200, description = "The request and its notes.", body = SupportRequest),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No such account or request (`not_found`)."),
        (status = 409, description = "`support_request_closed`."),
    ),
)]
#[post("/v1/operator/accounts/{account_id}/support/requests/{request_id}/replies")]
pub async fn operator_reply(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<SupportReply>,
) -> Result<web::Json<SupportRequest>, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0;
    let (account_id, request_id) = path.into_inner();
    let account_id = AccountId::from_uuid(account_id);
    let id = SupportRequestId::from_uuid(request_id);
    let request = body.value;
    let wall = clock::now();
    let updated = db::run(&state, move |conn| {
        validate(&request, |_| Ok(()))?;
        write_transaction(conn, |conn| {
            let account =
                accounts::get_for_operator(conn, &operator, account_id)?.ok_or_else(|| {
                    ApiError::new(ErrorCode::NotFound, "No partner account has this id.")
                })?;
            let scope = operator.scope(account_id);
            let now = account.now(wall);
            accounts::lock(conn, &scope)?;
            let current = support::get(conn, &scope, id)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "The account has no support request with this id.",
                )
            })?;
            if current.status == SupportStatus::Closed {
                return Err(ApiError::new(
                    ErrorCode::SupportRequestClosed,
                    format!("Support request {} is closed.", current.number),
                ));
            }
            support::add_note(
                conn,
                &scope,
                id,
                "support",
                principal.subject(),
                &request.body,
                now,
            )?;
            let status = if request.attention_needed {
                SupportStatus::AttentionNeeded
            } else {
                SupportStatus::Open
            };
            support::set_status(
                conn,
                &scope,
                &current,
                status,
                current.decision.as_ref(),
                now,
            )?;
            if request.attention_needed {
                billing::notify(
                    conn,
                    &scope,
                    "support_request.attention_needed",
                    domain::workspace::Workspace::HelpSupport,
                    (
                        format!("Support request {} needs your answer", current.number),
                        format!(
                            "Support replied to \"{}\" and waits for you.",
                            current.title
                        ),
                    ),
                    ("support_request", id.to_string()),
                    now,
                )?;
            }
            audit::record(
                conn,
                &scope,
                &principal,
                "support_request.updated",
                ("support_request", id.to_string()),
                json!({ "note_added": true, "status": status.id(), "by": "support" }),
                now,
            )?;
            let updated = support::get(conn, &scope, id)?.ok_or_else(request_not_found)?;
            with_notes(conn, &scope, &updated)
        })
    })
    .await?;
    Ok(web::Json(updated))
}
