//! Orders: buying and renewing paid programs by card or wire transfer, cancelling unpaid wire
//! orders, recording wire receipts (operators, and a sandbox stand-in), refund eligibility.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::catalog::{Enrollment, Program, Rules};
use domain::commerce::{self, OrderKind, OrderRefused, OrderStanding, OrderStatus, PaymentMethod};
use domain::ids::OrderId;
use domain::money::Money;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::accounts::{self, Account};
use persistence::repos::orders::{self, Failure, NewOrder, Order as OrderRecord};
use persistence::repos::programs;
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
    CreateOrderRequest, Order, OrderList, PageQuery, RefundCheck, RefundEligibility,
    SandboxWireRequest, WireReceivedRequest,
};
use crate::dto::program::Money as MoneyDto;
use crate::enrollment::{Context, check_pack, not_eligible, program_not_found};
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::handlers::sandbox::sandbox_member;
use crate::payments::{Charge, GatewayError};
use crate::request_context;
use crate::state::AppState;

fn order_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No order of the account has this id.")
}

/// A yearly fee already paid for the fee group of an order's program.
#[derive(Debug, Clone, Copy)]
struct SharedFee {
    /// The order that paid it (none when an operator granted the designation).
    payer: Option<OrderId>,
    /// The anniversary the new designation shares.
    anniversary: DateTime<Utc>,
}

/// The fee a new order of `program` shares, when the program is in a fee group whose fee is
/// paid for the term the order is for.
fn shared_fee(
    context: &Context,
    program: &Program,
    kind: OrderKind,
    window_days: u32,
    placed: &[OrderRecord],
) -> Option<SharedFee> {
    program.fee_group.as_ref()?;
    let in_group = |program_id: &str| same_fee_group(context, program, program_id);
    // A purchase shares the running term of any designation; a renewal, the next term of a
    // designation already renewed to the anniversary this renewal would reach.
    let target = match kind {
        OrderKind::Purchase => None,
        OrderKind::Renewal => context
            .memberships
            .iter()
            .filter(|m| m.program_id == program.id)
            .filter_map(|m| m.anniversary_at)
            .max()
            .zip(program.term_days)
            .map(|(at, days)| domain::membership::anniversary(at, days)),
    };
    let covering = context.memberships.iter().find(|m| {
        m.program_id != program.id
            && in_group(&m.program_id)
            && m.status(window_days, context.now) == domain::membership::Status::Active
            && m.anniversary_at.is_some()
            && (kind == OrderKind::Purchase || m.anniversary_at == target)
    })?;
    // The order that paid the current term: the latest paid order of the covering membership
    // (a renewal, after one), or the order whose fee that one shares.
    let payer = placed
        .iter()
        .filter(|o| o.membership_id == Some(covering.id) && o.standing == OrderStanding::Paid)
        .max_by_key(|o| o.paid_at)
        .map(|o| o.covered_by.unwrap_or(o.id));
    covering
        .anniversary_at
        .map(|anniversary| SharedFee { payer, anniversary })
}

/// Whether `other` shares `program`'s fee group (a program without one shares none).
fn same_fee_group(context: &Context, program: &Program, other: &str) -> bool {
    program.fee_group.is_some()
        && context
            .program(other)
            .is_ok_and(|other| other.fee_group == program.fee_group)
}

/// The last instant a wire order can be paid: placed + the catalog's days, and for a renewal no
/// later than the last second of the renewal window (a renewal paid after it would revive an
/// expired membership).
fn pay_by(
    context: &Context,
    program: &Program,
    kind: OrderKind,
    now: DateTime<Utc>,
    rules: &Rules,
) -> DateTime<Utc> {
    let deadline = commerce::wire_deadline(now, rules.wire_payment_days);
    let window_end = context
        .memberships
        .iter()
        .filter(|m| m.program_id == program.id)
        .filter_map(|m| m.term()?.renewal_window(rules.renewal_window_days))
        .map(|window| window.ends_at - chrono::Duration::seconds(1))
        .max();
    match (kind, window_end) {
        (OrderKind::Renewal, Some(end)) => deadline.min(end),
        _ => deadline,
    }
}

/// Checks the request's shape against its payment method.
fn check_payment_fields(request: &CreateOrderRequest) -> Result<(), FieldError> {
    match (request.payment_method.into(), request.card_token.as_deref()) {
        (PaymentMethod::CreditCard, None) => Err(FieldError::new(
            "card_token",
            "required",
            "a credit-card order needs the card token",
        )),
        (PaymentMethod::WireTransfer, Some(_)) => Err(FieldError::new(
            "card_token",
            "not_allowed",
            "a wire-transfer order takes no card",
        )),
        _ => Ok(()),
    }
}

/// Place an order.
///
/// Buys (`purchase`) or renews (`renewal`) a paid program: Action Pack (choose the benefit
/// pack, `maps` or `laps`, fixed until renewal) or a Solutions Partner designation. Eligibility
/// is checked first, with the checks and problem body of `POST /v1/memberships` (409
/// `not_eligible`); a renewal needs the membership in its renewal window (check
/// `renewal_window`) and extends it by one term from its anniversary, not from the payment.
/// Solutions Partner: one yearly fee covers every designation; a designation bought while
/// another is active is free, shares that one's anniversary (`covered_by_order_id`), and is
/// paid at once.
///
/// `credit_card`: charged at once through the payment gateway. Approved: the order is `paid`,
/// the membership active, its benefits granted and the invoice issued, all in one transaction
/// (201). Declined: 402 `payment_declined` with `order_id`; the order is stored as `failed` and
/// nothing is activated. Gateway outage: 503 `payment_gateway_unavailable` with `Retry-After`;
/// nothing is stored, retry with the same key. The test gateway's tokens:
/// `tok_test_approve`, `tok_test_decline`, `tok_test_gateway_error`.
///
/// `wire_transfer`: the order is `awaiting_payment` with `wire.reference` (order number +
/// PartnerID) and `wire.pay_by` (placed + 30 days); it is paid when the operator records the
/// transfer, `expired` after `pay_by`, and can be cancelled until then.
///
/// The `Idempotency-Key` header is required: an order moves money.
#[utoipa::path(
    tag = "Billing",
    operation_id = "create_order",
    params(("Idempotency-Key" = String, Header, max_length = 255, description = "Required: a retry with the same key and body returns the first answer instead of placing a second order.")),
    request_body(content = CreateOrderRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Paid (card, or a designation covered by the yearly fee) or awaiting a wire transfer.", body = Order, headers(
            ("Location" = String, description = "`/v1/orders/{id}`."),
        )),
        (status = 400, description = "`idempotency_key_required`, `invalid_idempotency_key`, or `validation_failed` (a card token with the wrong method; a benefit pack missing, or given for a program without packs)."),
        (status = 402, description = "The card was declined (`payment_declined`, with `order_id` of the `failed` order)."),
        (status = 403, description = "`insufficient_role` (ordering needs `global_admin` or `mpn_partner_admin`), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No program has this id (`not_found`)."),
        (status = 409, description = "`not_eligible` (with `checks`; a pack the program does not offer fails `benefit_pack`), `enrollment_not_applicable` (a free or application program), or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
        (status = 503, description = "`payment_gateway_unavailable`: nothing was charged; retry after `Retry-After`."),
    ),
)]
#[post("/v1/orders")]
pub async fn create_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    key.require("POST /v1/orders moves money")?;
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    let gateway = state.gateway.clone();
    let request_id = request_context::current_request_id().unwrap_or_default();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&request, |r| check_payment_fields(r).map_err(Into::into))?;
        let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
        let scope = &membership.scope;
        // One order at a time per account: the checks, the number and the charge are one unit.
        accounts::lock(conn, scope)?;
        let mut context = Context::load(conn, &catalog_cache, scope, membership.now(wall))?;
        let now = context.now;
        let program = context.program(&request.program_id)?.clone();
        let Some(fee) = program.fee.clone().filter(|_| program.enrollment == Enrollment::Purchase)
        else {
            return Err(ApiError::new(
                ErrorCode::EnrollmentNotApplicable,
                format!(
                    "{} is not sold: join free programs with POST /v1/memberships and apply for the others with POST /v1/program-applications.",
                    program.id
                ),
            ));
        };
        let kind: OrderKind = request.kind.into();
        let current_pack = context
            .memberships
            .iter()
            .filter(|m| m.program_id == program.id)
            .max_by_key(|m| m.anniversary_at)
            .and_then(|m| m.benefit_pack.clone());
        let pack = match kind {
            OrderKind::Purchase => request.benefit_pack.clone(),
            OrderKind::Renewal => request.benefit_pack.clone().or(current_pack),
        };
        check_pack(&program, pack.as_deref())?;
        context.renewal = kind == OrderKind::Renewal;
        // An unpaid order of the program, or of its fee group (whose fee it would pay), blocks
        // another until it is paid, cancelled or expired.
        let placed_orders = orders::all(conn, scope)?;
        context.open_order_until = placed_orders
            .iter()
            .filter(|o| {
                (o.program_id == program.id || same_fee_group(&context, &program, &o.program_id))
                    && o.status(now) == OrderStatus::AwaitingPayment
            })
            .filter_map(|o| o.pay_by)
            .max();
        let evaluated = context.evaluate(conn, scope, &program, &membership.roles, pack.as_deref(), &rules)?;
        if !evaluated.eligible {
            return Err(not_eligible(&evaluated));
        }
        let account = &context.account;
        let shared = shared_fee(&context, &program, kind, rules.renewal_window_days, &placed_orders);
        let net = if shared.is_some() { 0 } else { fee.amount_minor };
        let amounts = billing::price(net, &account.country, &rules)?;
        let method: PaymentMethod = request.payment_method.into();
        let id = OrderId::generate();
        let number = orders::next_number(conn, scope)?;
        let wire = method == PaymentMethod::WireTransfer && amounts.total_minor > 0;
        let mut new = NewOrder {
            program_id: &program.id,
            kind,
            payment_method: method,
            standing: OrderStanding::AwaitingPayment,
            benefit_pack: pack.as_deref(),
            currency: &fee.currency,
            amounts,
            covered_by: shared.and_then(|fee| fee.payer),
            placed_by: principal.subject(),
            placed_at: now,
            pay_by: wire.then(|| pay_by(&context, &program, kind, now, &rules)),
            failure: None,
        };
        let charge = match (method, request.card_token.as_deref()) {
            (PaymentMethod::CreditCard, Some(token)) if amounts.total_minor > 0 => {
                match gateway.charge(&Charge {
                    card_token: token,
                    amount: &Money::new(amounts.total_minor, &fee.currency),
                    reference: &id.to_string(),
                }) {
                    Ok(charge) => Some(charge),
                    Err(GatewayError::Declined { code, message }) => {
                        new.standing = OrderStanding::Failed;
                        new.failure = Some(Failure { code, message });
                        let failed = orders::insert(conn, scope, id, number, &new, None)?;
                        return declined(conn, scope, &principal, &failed, &request_id);
                    }
                    Err(outage) => return Err(billing::gateway_failure(outage)),
                }
            }
            _ => None,
        };
        let reference = wire.then(|| billing::wire_reference(number, &account.partner_id));
        // Everything recorded after the charge is one unit: if any of it fails, the charge is
        // refunded before the error is returned (the transaction rolls the rest back).
        let mut record = || -> Result<OrderRecord, ApiError> {
            let placed = orders::insert(conn, scope, id, number, &new, reference.as_deref())?;
            audit::record(
                conn,
                scope,
                &principal,
                "order.placed",
                ("order", placed.id.to_string()),
                json!({
                    "program_id": placed.program_id,
                    "kind": kind.id(),
                    "payment_method": method.id(),
                    "total_minor": placed.amounts.total_minor,
                    "currency": placed.currency,
                    "covered_by_order_id": placed.covered_by,
                }),
                now,
            )?;
            if wire {
                billing::ask_for_wire(conn, scope, &placed, &program, now)?;
                return Ok(placed);
            }
            let (paid, _) = billing::pay(
                conn,
                scope,
                &principal,
                account,
                &program,
                &placed,
                shared.map(|fee| fee.anniversary),
                &rules,
                now,
                charge.as_deref(),
            )?;
            Ok(paid)
        };
        let result = match (record(), &charge) {
            (Ok(order), _) => order,
            (Err(error), Some(charge)) => {
                let amount = Money::new(amounts.total_minor, &fee.currency);
                if let Err(undo) = gateway.refund(charge, &amount, &id.to_string()) {
                    log::error!("order {id}: charge {charge} could not be refunded after a failure: {undo:?}");
                }
                return Err(error);
            }
            (Err(error), None) => return Err(error),
        };
        Ok(Reply::json(StatusCode::CREATED, &Order::new(&result, now))?
            .with_header(LOCATION, format!("/v1/orders/{}", result.id)))
    })
    .await
}

/// The 402 of a declined card, stored with the failed order so a retry gets it again.
fn declined(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    order: &OrderRecord,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let failure = order.failure.clone().unwrap_or(Failure {
        code: "card_declined".into(),
        message: String::new(),
    });
    audit::record(
        conn,
        scope,
        principal,
        "order.failed",
        ("order", order.id.to_string()),
        json!({ "program_id": order.program_id, "failure_code": failure.code }),
        order.placed_at,
    )?;
    let error = ApiError::new(
        ErrorCode::PaymentDeclined,
        format!(
            "The card was declined ({}): {} Order {} is failed and nothing was activated; place a new order to try another card.",
            failure.code, failure.message, order.number
        ),
    )
    .with_order(order.id);
    Ok(Reply::problem(&error, request_id.to_owned())
        .with_header(LOCATION, format!("/v1/orders/{}", order.id)))
}

/// List orders.
///
/// The account's orders, oldest first, with statuses at the account's now.
#[utoipa::path(
    tag = "Billing",
    operation_id = "list_orders",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of orders.", body = OrderList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[get("/v1/orders")]
pub async fn list_orders(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let wall = clock::now();
    let (page, now) = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::BillingRead)?;
        Ok((
            orders::list(conn, &membership.scope, &page)?,
            membership.now(wall),
        ))
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| OrderList {
            items: page.items.iter().map(|o| Order::new(o, now)).collect(),
            next_cursor,
        },
    ))
}

/// Read an order.
#[utoipa::path(
    tag = "Billing",
    operation_id = "get_order",
    params(("order_id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The order.", body = Order),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No order of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/orders/{order_id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    caller: Authenticated,
    order_id: web::Path<Uuid>,
) -> Result<web::Json<Order>, ApiError> {
    let principal = caller.0;
    let id = OrderId::from_uuid(order_id.into_inner());
    let wall = clock::now();
    let order = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::BillingRead)?;
        let order = orders::get(conn, &membership.scope, id)?.ok_or_else(order_not_found)?;
        Ok(Order::new(&order, membership.now(wall)))
    })
    .await?;
    Ok(web::Json(order))
}

/// Cancel an unpaid wire order.
///
/// An `awaiting_payment` wire-transfer order becomes `cancelled` (to switch to a card, cancel
/// and order again). Cancelling a cancelled order changes nothing. A paid order is cancelled
/// and refunded through a `membership_cancellation` support request.
#[utoipa::path(
    tag = "Billing",
    operation_id = "cancel_order",
    params(("order_id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The order, cancelled.", body = Order),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No order of the caller's account has this id (`not_found`)."),
        (status = 409, description = "`order_not_cancellable` (paid, failed, refunded, or a card order) or `order_expired`."),
    ),
)]
#[post("/v1/orders/{order_id}/cancel")]
pub async fn cancel_order(
    state: web::Data<AppState>,
    caller: Authenticated,
    order_id: web::Path<Uuid>,
) -> Result<web::Json<Order>, ApiError> {
    let principal = caller.0;
    let id = OrderId::from_uuid(order_id.into_inner());
    let wall = clock::now();
    let order = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
            let scope = &membership.scope;
            let now = membership.now(wall);
            accounts::lock(conn, scope)?;
            let order = orders::get(conn, scope, id)?.ok_or_else(order_not_found)?;
            let cancelled = match commerce::cancel(order.status(now)) {
                Ok(Some(cancelled)) => cancelled,
                Ok(None) => return Ok(Order::new(&order, now)),
                Err(OrderRefused::Expired) => return Err(expired(&order)),
                Err(OrderRefused::Closed(status)) => {
                    return Err(ApiError::new(
                        ErrorCode::OrderNotCancellable,
                        format!(
                            "Order {} is {}: only an unpaid wire order can be cancelled. A paid order is cancelled and refunded through a membership_cancellation support request.",
                            order.number,
                            status.id()
                        ),
                    ));
                }
                Err(OrderRefused::NotWire) => return Err(ApiError::internal("cancel refused a card order")),
            };
            if !orders::close(conn, scope, &order, cancelled, 0, now)? {
                return Err(ApiError::new(
                    ErrorCode::OrderNotCancellable,
                    "The order changed while it was being cancelled; read it again.",
                ));
            }
            audit::record(
                conn,
                scope,
                &principal,
                "order.cancelled",
                ("order", order.id.to_string()),
                json!({ "program_id": order.program_id }),
                now,
            )?;
            let cancelled = orders::get(conn, scope, id)?.ok_or_else(order_not_found)?;
            Ok(Order::new(&cancelled, now))
        })
    })
    .await?;
    Ok(web::Json(order))
}

fn expired(order: &OrderRecord) -> ApiError {
    ApiError::new(
        ErrorCode::OrderExpired,
        format!(
            "Order {} expired unpaid at {}; place a new order.",
            order.number,
            order.pay_by.map(|at| at.to_rfc3339()).unwrap_or_default()
        ),
    )
}

/// Ask whether an order can be refunded.
///
/// The answer a `membership_cancellation` support request for this order would get now, with
/// every check: paid and not refunded; at most 30 days after payment (the 30th day's last
/// second included); no benefit of the membership activated; no product key revealed.
#[utoipa::path(
    tag = "Billing",
    operation_id = "get_refund_eligibility",
    params(("order_id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The answer and its checks.", body = RefundEligibility),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No order of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/orders/{order_id}/refund-eligibility")]
pub async fn get_refund_eligibility(
    state: web::Data<AppState>,
    caller: Authenticated,
    order_id: web::Path<Uuid>,
) -> Result<web::Json<RefundEligibility>, ApiError> {
    let principal = caller.0;
    let id = OrderId::from_uuid(order_id.into_inner());
    let rules = state.rules.clone();
    let wall = clock::now();
    let answer = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::BillingRead)?;
        let scope = &membership.scope;
        let now = membership.now(wall);
        let order = orders::get(conn, scope, id)?.ok_or_else(order_not_found)?;
        let decision = billing::refund_decision(conn, scope, &order, &rules, now)?;
        Ok(RefundEligibility {
            order_id: order.id.as_uuid(),
            eligible: decision.eligible,
            refundable: MoneyDto {
                amount_minor: decision.refundable_minor,
                currency: order.currency.clone(),
            },
            window_ends_at: decision.window_ends_at,
            checks: decision.checks.iter().map(RefundCheck::from).collect(),
            as_of: now,
        })
    })
    .await?;
    Ok(web::Json(answer))
}

/// A wire transfer as received.
struct Receipt {
    amount: MoneyDto,
    received_at: DateTime<Utc>,
    reference: String,
}

/// Records a received wire transfer and pays the order, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn receive_wire(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    account: &Account,
    order: &OrderRecord,
    receipt: &Receipt,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Order, ApiError> {
    if receipt.received_at > now || receipt.received_at < order.placed_at {
        return Err(ApiError::validation([FieldError::new(
            "received_at",
            "out_of_range",
            "funds arrive after the order was placed and not in the future",
        )]));
    }
    match commerce::receive_wire(
        order.standing,
        order.payment_method,
        order.pay_by,
        receipt.received_at,
    ) {
        Ok(_) => {}
        Err(OrderRefused::Expired) => return Err(expired(order)),
        Err(OrderRefused::NotWire) => {
            return Err(ApiError::new(
                ErrorCode::OrderNotPayable,
                format!(
                    "Order {} is paid by card, not by wire transfer.",
                    order.number
                ),
            ));
        }
        Err(OrderRefused::Closed(status)) => {
            return Err(ApiError::new(
                ErrorCode::OrderNotPayable,
                format!(
                    "Order {} is {}, not awaiting payment.",
                    order.number,
                    status.id()
                ),
            ));
        }
    }
    if receipt.amount.amount_minor != order.amounts.total_minor
        || receipt.amount.currency != order.currency
    {
        return Err(ApiError::new(
            ErrorCode::WireAmountMismatch,
            format!(
                "Received {}, but order {} is for {}; nothing was recorded.",
                commerce::format_amount(receipt.amount.amount_minor, &receipt.amount.currency),
                order.number,
                commerce::format_amount(order.amounts.total_minor, &order.currency)
            ),
        ));
    }
    let expected = order.wire_reference.clone().unwrap_or_default();
    if !receipt.reference.trim().eq_ignore_ascii_case(&expected) {
        return Err(ApiError::new(
            ErrorCode::WireReferenceMismatch,
            format!("The transfer's reference is not {expected}; nothing was recorded."),
        ));
    }
    let program = programs::get(conn, &order.program_id)?
        .ok_or_else(program_not_found)?
        .program;
    // A wire order was priced at the full fee (a covered designation is paid at once), so it
    // starts its own term.
    let (paid, _) = billing::pay(
        conn,
        scope,
        principal,
        account,
        &program,
        order,
        None,
        rules,
        receipt.received_at,
        None,
    )?;
    Ok(Order::new(&paid, now))
}

/// Record a wire transfer (operators).
///
/// The funds for a wire-transfer order arrived: the amount must equal the order's total (in its
/// currency) and the reference must be the order's; funds that arrived after the order's
/// deadline are refused (`order_expired`). The order is paid at `received_at`: membership
/// active, benefits granted, invoice issued.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_record_wire",
    params(("order_id" = Uuid, Path, description = "The order's id.")),
    request_body(content = WireReceivedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The order, paid.", body = Order),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No order has this id (`not_found`)."),
        (status = 409, description = "`wire_amount_mismatch`, `wire_reference_mismatch`, `order_expired` or `order_not_payable`."),
        (status = 400, description = "`validation_failed` (`received_at` before the order or in the future)."),
    ),
)]
#[post("/v1/operator/orders/{order_id}/wire-received")]
pub async fn operator_record_wire(
    state: web::Data<AppState>,
    caller: Authenticated,
    order_id: web::Path<Uuid>,
    body: JsonBody<WireReceivedRequest>,
) -> Result<web::Json<Order>, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0;
    let id = OrderId::from_uuid(order_id.into_inner());
    let request = body.value;
    let rules = state.rules.clone();
    let wall = clock::now();
    let order = db::run(&state, move |conn| {
        validate(&request, |_| Ok(()))?;
        write_transaction(conn, |conn| {
            let (scope, _) = orders::find(conn, &operator, id)?
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No order has this id."))?;
            accounts::lock(conn, &scope)?;
            let order = orders::get(conn, &scope, id)?.ok_or_else(order_not_found)?;
            let account = accounts::get(conn, &scope)?;
            let receipt = Receipt {
                amount: request.amount.clone(),
                received_at: request.received_at,
                reference: request.reference.clone(),
            };
            receive_wire(
                conn,
                &scope,
                &principal,
                &account,
                &order,
                &receipt,
                &rules,
                account.now(wall),
            )
        })
    })
    .await?;
    Ok(web::Json(order))
}

/// Receive a wire transfer (sandbox).
///
/// The sandbox's stand-in for the operator recording a wire transfer, with the same rules.
/// Every field defaults to what the order expects: its total, the sandbox's now, its reference.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "sandbox_record_wire",
    params(("order_id" = Uuid, Path, description = "The order's id.")),
    request_body(content = SandboxWireRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The order, paid.", body = Order),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No order of the caller's account has this id (`not_found`)."),
        (status = 409, description = "`not_a_sandbox`, `wire_amount_mismatch`, `wire_reference_mismatch`, `order_expired` or `order_not_payable`."),
    ),
)]
#[post("/v1/sandbox/orders/{order_id}/wire-received")]
pub async fn sandbox_record_wire(
    state: web::Data<AppState>,
    caller: Authenticated,
    order_id: web::Path<Uuid>,
    body: JsonBody<SandboxWireRequest>,
) -> Result<web::Json<Order>, ApiError> {
    let principal = caller.0;
    let id = OrderId::from_uuid(order_id.into_inner());
    let request = body.value;
    let rules = state.rules.clone();
    let order = db::run(&state, move |conn| {
        validate(&request, |_| Ok(()))?;
        write_transaction(conn, |conn| {
            let (membership, now) = sandbox_member(conn, &principal)?;
            let scope = &membership.scope;
            accounts::lock(conn, scope)?;
            let order = orders::get(conn, scope, id)?.ok_or_else(order_not_found)?;
            let account = accounts::get(conn, scope)?;
            let receipt = Receipt {
                amount: request.amount.clone().unwrap_or(MoneyDto {
                    amount_minor: order.amounts.total_minor,
                    currency: order.currency.clone(),
                }),
                received_at: request.received_at.unwrap_or(now),
                reference: request
                    .reference
                    .clone()
                    .or_else(|| order.wire_reference.clone())
                    .unwrap_or_default(),
            };
            receive_wire(
                conn, scope, &principal, &account, &order, &receipt, &rules, now,
            )
        })
    })
    .await?;
    Ok(web::Json(order))
}
