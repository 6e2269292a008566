//! What orders, refunds, benefits and wire receipts share: paying an order (membership,
//! benefits, invoice and events in the caller's transaction), refund decisions and refunds,
//! and announcing expired wire orders.

use chrono::{DateTime, Utc};
use domain::action_center::{Audience, Category, Class, NewItem, Priority};
use domain::catalog::{BenefitKind, Program, Rules};
use domain::commerce::{
    self, Amounts, InvoiceKind, OrderKind, OrderStanding, PaymentMethod, RefundDecision,
    RefundFacts,
};
use domain::ids::{MembershipId, OrderId, RefundId, SupportRequestId};
use domain::membership::{Source, Term};
use domain::money::Money;
use domain::principal::Principal;
use domain::workspace::Workspace;
use persistence::DbConnection;
use persistence::repos::accounts::Account;
use persistence::repos::action_center::{self, Target};
use persistence::repos::audit::AuditActor;
use persistence::repos::benefits::{self, Grant};
use persistence::repos::memberships::{self, MembershipRecord};
use persistence::repos::orders::{self, Buyer, Invoice, Line, NewInvoice, Order, Refund};
use persistence::tenant::AccountScope;
use rand::Rng;
use serde_json::json;

use crate::audit;
use crate::enrollment;
use crate::error::{ApiError, ErrorCode};
use crate::payments::{GatewayError, PaymentGateway};

/// The seller printed on every invoice: the operator of this deployment.
pub const SELLER: [&str; 4] = [
    "Partner Center Operator",
    "One Partner Way",
    "Redmond, WA 98052",
    "United States",
];

/// Who changes things that time alone decides (expired wire orders).
pub fn system_actor() -> AuditActor {
    AuditActor {
        kind: "system".into(),
        id: "partner-center".into(),
    }
}

/// Net price plus the tax of a buyer in `country`.
pub fn price(net_minor: i64, country: &str, rules: &Rules) -> Result<Amounts, ApiError> {
    commerce::price_with_tax(net_minor, rules.tax_rate_bps(country))
        .map_err(|_| ApiError::internal("an order amount does not fit in 64 bits"))
}

pub fn buyer(account: &Account) -> Buyer {
    let mut address = vec![account.address_line1.clone()];
    address.extend(account.address_line2.clone());
    address.push(
        [
            Some(account.city.as_str()),
            account.state_or_province.as_deref(),
            account.postal_code.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
    );
    address.push(account.country.clone());
    Buyer {
        legal_name: account.legal_name.clone(),
        address,
        country: account.country.clone(),
        partner_id: account.partner_id.clone(),
    }
}

/// A wire transfer's reference: the order number and the PartnerID.
pub fn wire_reference(number: i64, partner_id: &str) -> String {
    format!("PC-{number:06}-{partner_id}")
}

/// A product key in the portal's 5×5 format, from an alphabet without look-alikes.
fn product_key() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKMPQRTVWXY2346789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| {
            (0..5)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Grants the program's benefits (and the chosen pack's) for one term.
pub fn grant_benefits(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program: &Program,
    membership: &MembershipRecord,
    order: Option<OrderId>,
    valid_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let pack = membership
        .benefit_pack
        .as_deref()
        .and_then(|id| program.benefit_pack(id));
    for catalog in program
        .benefits
        .iter()
        .chain(pack.iter().flat_map(|pack| pack.benefits.iter()))
    {
        benefits::grant(
            conn,
            scope,
            &Grant {
                membership_id: membership.id,
                order_id: order,
                program_id: &program.id,
                catalog,
                valid_until,
                product_key: (catalog.kind == BenefitKind::Software).then(product_key),
                granted_at: now,
            },
        )?;
    }
    Ok(())
}

/// Raises a transactional notification in a workspace, about a target.
pub fn notify(
    conn: &mut DbConnection,
    scope: &AccountScope,
    event: &'static str,
    workspace: Workspace,
    (title, message): (String, String),
    target: (&'static str, String),
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    action_center::raise(
        conn,
        scope,
        &NewItem {
            class: Class::Notification(Category::Transactional),
            event,
            workspace,
            audience: Audience::Workspace,
            title,
            message,
            due_at: None,
        },
        Some(Target {
            kind: target.0,
            id: &target.1,
        }),
        now,
    )?;
    Ok(())
}

/// The recommended action of paying a wire order by its deadline.
pub fn ask_for_wire(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &Order,
    program: &Program,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let reference = order.wire_reference.clone().unwrap_or_default();
    action_center::raise(
        conn,
        scope,
        &NewItem {
            class: Class::Action(Priority::Recommended),
            event: "order.awaiting_payment",
            workspace: Workspace::Billing,
            audience: Audience::Workspace,
            title: format!("Pay order {} by wire transfer", order.number),
            message: format!(
                "Transfer {} for {} with the reference {reference}. Unpaid, the order expires after {}.",
                commerce::format_amount(order.amounts.total_minor, &order.currency),
                program.name,
                order.pay_by.map(|at| at.to_rfc3339()).unwrap_or_default()
            ),
            due_at: order.pay_by,
        },
        Some(Target {
            kind: "order",
            id: &order.id.to_string(),
        }),
        now,
    )?;
    Ok(())
}

/// Pays `order` at `paid_at`: activates (purchase) or extends (renewal) the membership, grants
/// the term's benefits, issues the invoice when there is something to pay, and records
/// `order.paid`. Runs in the caller's transaction, under the account lock.
#[allow(clippy::too_many_arguments)]
pub fn pay(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    account: &Account,
    program: &Program,
    order: &Order,
    shared_anniversary: Option<DateTime<Utc>>,
    rules: &Rules,
    paid_at: DateTime<Utc>,
    gateway_charge: Option<&str>,
) -> Result<(Order, MembershipRecord), ApiError> {
    let window = rules.renewal_window_days;
    let membership = match order.kind {
        OrderKind::Purchase => {
            let term = match shared_anniversary {
                Some(anniversary) => Term {
                    activated_at: paid_at,
                    anniversary: Some(anniversary),
                    renewable: program.renewable,
                },
                None => Term::new(paid_at, program.term_days, program.renewable),
            };
            enrollment::activate_with(
                conn,
                scope,
                principal,
                program,
                enrollment::Activation {
                    source: Source::Purchase,
                    benefit_pack: order.benefit_pack.as_deref(),
                    term,
                    order: Some(order.id),
                    details: json!({ "order_id": order.id }),
                },
                paid_at,
                window,
            )?
        }
        OrderKind::Renewal => renew(conn, scope, principal, program, order, rules, paid_at)?,
    };
    if !orders::mark_paid(conn, scope, order, paid_at, membership.id, gateway_charge)? {
        return Err(ApiError::new(
            ErrorCode::OrderNotPayable,
            "The order changed while it was being paid; read it again.",
        ));
    }
    let paid = orders::get(conn, scope, order.id)?
        .ok_or_else(|| ApiError::internal("a paid order vanished"))?;
    let invoice = if paid.amounts.total_minor > 0 {
        Some(issue_invoice(
            conn, scope, account, program, &paid, paid_at,
        )?)
    } else {
        None
    };
    let amount = commerce::format_amount(paid.amounts.total_minor, &paid.currency);
    notify(
        conn,
        scope,
        "order.paid",
        Workspace::Billing,
        (
            format!("Order {} is paid", paid.number),
            format!(
                "{amount} received for {}{}.",
                program.name,
                invoice
                    .as_ref()
                    .map(|inv| format!("; invoice {}", document_number(inv)))
                    .unwrap_or_default()
            ),
        ),
        ("order", paid.id.to_string()),
        paid_at,
    )?;
    audit::record(
        conn,
        scope,
        principal,
        "order.paid",
        ("order", paid.id.to_string()),
        json!({
            "program_id": paid.program_id,
            "kind": paid.kind.id(),
            "payment_method": paid.payment_method.id(),
            "total_minor": paid.amounts.total_minor,
            "currency": paid.currency,
            "membership_id": membership.id,
            "invoice_id": invoice.as_ref().map(|inv| inv.id),
        }),
        paid_at,
    )?;
    Ok((paid, membership))
}

/// A renewal: the membership's anniversary moves one term on from the old anniversary (not
/// from the payment), and the new term's benefits are granted.
fn renew(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    program: &Program,
    order: &Order,
    rules: &Rules,
    paid_at: DateTime<Utc>,
) -> Result<MembershipRecord, ApiError> {
    let window = rules.renewal_window_days;
    let held = memberships::all(conn, scope)?
        .into_iter()
        .filter(|m| {
            m.program_id == program.id && m.standing == domain::membership::Standing::Active
        })
        .max_by_key(|m| m.anniversary_at)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::OrderNotPayable,
                "The membership this order renews no longer exists.",
            )
        })?;
    if held.status(window, paid_at) != domain::membership::Status::RenewalDue {
        return Err(ApiError::new(
            ErrorCode::OrderExpired,
            "The renewal window is not open at the time of payment; nothing was charged for a renewal.",
        ));
    }
    let (Some(old), Some(days)) = (held.anniversary_at, program.term_days) else {
        return Err(ApiError::new(
            ErrorCode::OrderNotPayable,
            "This membership has no anniversary to renew from.",
        ));
    };
    let anniversary = domain::membership::anniversary(old, days);
    let pack = order
        .benefit_pack
        .as_deref()
        .or(held.benefit_pack.as_deref());
    if !memberships::renew(conn, scope, &held, anniversary, pack, paid_at)? {
        return Err(ApiError::new(
            ErrorCode::OrderNotPayable,
            "The membership changed while it was being renewed; retry.",
        ));
    }
    let renewed = memberships::get(conn, scope, held.id)?
        .ok_or_else(|| ApiError::internal("a renewed membership vanished"))?;
    let valid_until = renewed.term().and_then(|term| term.expires_at(window));
    grant_benefits(
        conn,
        scope,
        program,
        &renewed,
        Some(order.id),
        valid_until,
        paid_at,
    )?;
    notify(
        conn,
        scope,
        "membership.renewed",
        Workspace::Membership,
        (
            format!("{} is renewed", program.name),
            format!(
                "The membership runs to its next anniversary, {}.",
                anniversary.format("%Y-%m-%d")
            ),
        ),
        ("membership", renewed.id.to_string()),
        paid_at,
    )?;
    audit::record(
        conn,
        scope,
        principal,
        "membership.renewed",
        ("membership", renewed.id.to_string()),
        json!({ "order_id": order.id, "previous_anniversary_at": old, "anniversary_at": anniversary }),
        paid_at,
    )?;
    Ok(renewed)
}

/// `INV-000001` / `CN-000002`: one numbering for both kinds of document.
pub fn document_number(invoice: &Invoice) -> String {
    domain::commerce::document_number(invoice.kind, invoice.number)
}

fn payment_reference(order: &Order) -> Option<String> {
    match order.payment_method {
        PaymentMethod::WireTransfer => order.wire_reference.clone(),
        PaymentMethod::CreditCard => order.gateway_charge.clone(),
    }
}

fn issue_invoice(
    conn: &mut DbConnection,
    scope: &AccountScope,
    account: &Account,
    program: &Program,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<Invoice, ApiError> {
    let what = match order.kind {
        OrderKind::Purchase => "membership, one year",
        OrderKind::Renewal => "membership renewal, one year",
    };
    let pack = order
        .benefit_pack
        .as_deref()
        .map(|pack| format!(" ({pack} benefits)"))
        .unwrap_or_default();
    Ok(orders::issue(
        conn,
        scope,
        NewInvoice {
            kind: InvoiceKind::Invoice,
            order_id: order.id,
            credits_invoice_id: None,
            currency: &order.currency,
            amounts: order.amounts,
            lines: vec![Line {
                description: format!("{}: {what}{pack}, order {}", program.name, order.number),
                amount_minor: order.amounts.subtotal_minor,
            }],
            buyer: buyer(account),
            payment_method: order.payment_method,
            payment_reference: payment_reference(order).as_deref(),
            issued_at: now,
        },
    )?)
}

/// The orders a refund of `order` covers: the order and the designations whose fee it paid.
pub fn refund_scope(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &Order,
) -> Result<Vec<Order>, ApiError> {
    let mut covered = vec![order.clone()];
    covered.extend(orders::covered_by(conn, scope, order.id)?);
    Ok(covered)
}

/// Whether `order` would be refunded now, with every check.
pub fn refund_decision(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &Order,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<RefundDecision, ApiError> {
    let ids: Vec<OrderId> = refund_scope(conn, scope, order)?
        .iter()
        .map(|o| o.id)
        .collect();
    let granted = benefits::of_orders(conn, scope, &ids)?;
    let count = |pred: &dyn Fn(&benefits::Benefit) -> bool| {
        u32::try_from(granted.iter().filter(|b| pred(b)).count()).unwrap_or(u32::MAX)
    };
    Ok(commerce::refund_decision(&RefundFacts {
        status: order.status(now),
        paid_at: order.paid_at,
        total_minor: order.amounts.total_minor,
        refunded_minor: order.refunded_minor,
        benefits_activated: count(&|b| b.activated_at.is_some()),
        keys_revealed: count(&|b| b.key_revealed_at.is_some()),
        window_days: rules.refund_window_days,
        now,
    }))
}

/// Refunds a paid order whose decision was granted: cancels its memberships (and the
/// designations its fee covered), revokes their benefits, pays back through the gateway (a wire
/// payment is recorded for the operator to send back), issues the credit note and records
/// `refund.completed`. The caller holds the account lock.
#[allow(clippy::too_many_arguments)]
pub fn refund(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    gateway: &dyn PaymentGateway,
    order: &Order,
    decision: &RefundDecision,
    support_request: Option<SupportRequestId>,
    now: DateTime<Utc>,
) -> Result<Refund, ApiError> {
    let amount_minor = decision.refundable_minor;
    let refund_id = RefundId::generate();
    let covered = refund_scope(conn, scope, order)?;
    let membership_ids: Vec<MembershipId> =
        covered.iter().filter_map(|o| o.membership_id).collect();
    memberships::cancel(conn, scope, &membership_ids, now)?;
    benefits::revoke(conn, scope, &membership_ids, now)?;
    for closed in &covered {
        let refunded = if closed.id == order.id {
            closed.refunded_minor.saturating_add(amount_minor)
        } else {
            closed.refunded_minor
        };
        if !orders::close(conn, scope, closed, OrderStanding::Refunded, refunded, now)? {
            return Err(ApiError::new(
                ErrorCode::OrderNotPayable,
                "The order changed while it was being refunded; read it again.",
            ));
        }
    }
    let credit_note = match orders::invoice_of(conn, scope, order.id)? {
        Some(invoice) if amount_minor > 0 => {
            Some(issue_credit_note(conn, scope, &invoice, amount_minor, now)?)
        }
        _ => None,
    };
    // The gateway is asked after every check and change that can refuse the refund.
    let gateway_refund = match (order.payment_method, order.gateway_charge.as_deref()) {
        (PaymentMethod::CreditCard, Some(charge)) if amount_minor > 0 => Some(
            // The order is the reference: one refund per order, so a gateway drops a repeat.
            gateway
                .refund(
                    charge,
                    &Money::new(amount_minor, &order.currency),
                    &order.id.to_string(),
                )
                .map_err(|error| match error {
                    GatewayError::Declined { code, message } => ApiError::new(
                        ErrorCode::PaymentGatewayUnavailable,
                        format!("The payment gateway refused the refund ({code}): {message} Nothing changed; retry later."),
                    ),
                    outage => gateway_failure(outage),
                })?,
        ),
        _ => None,
    };
    let refund = Refund {
        id: refund_id,
        order_id: order.id,
        amount_minor,
        currency: order.currency.clone(),
        gateway_refund,
        credit_note_id: credit_note.as_ref().map(|note| note.id),
        support_request_id: support_request,
        created_at: now,
    };
    orders::record_refund(conn, scope, &refund)?;
    let amount = commerce::format_amount(amount_minor, &order.currency);
    notify(
        conn,
        scope,
        "refund.completed",
        Workspace::Billing,
        (
            format!("Order {} is refunded", order.number),
            format!(
                "{amount} is refunded{}; the membership and its benefits are cancelled.",
                match order.payment_method {
                    PaymentMethod::CreditCard => " to the card",
                    PaymentMethod::WireTransfer => " by bank transfer",
                }
            ),
        ),
        ("order", order.id.to_string()),
        now,
    )?;
    audit::record(
        conn,
        scope,
        principal,
        "refund.completed",
        ("order", order.id.to_string()),
        json!({
            "refund_id": refund.id,
            "amount_minor": amount_minor,
            "currency": order.currency,
            "credit_note_id": refund.credit_note_id,
            "cancelled_memberships": membership_ids,
            "support_request_id": support_request,
        }),
        now,
    )?;
    Ok(refund)
}

fn issue_credit_note(
    conn: &mut DbConnection,
    scope: &AccountScope,
    invoice: &Invoice,
    amount_minor: i64,
    now: DateTime<Utc>,
) -> Result<Invoice, ApiError> {
    // Whole refunds credit the invoice line for line; the amounts are the invoice's.
    let amounts = if amount_minor == invoice.amounts.total_minor {
        invoice.amounts
    } else {
        Amounts {
            subtotal_minor: amount_minor,
            tax_minor: 0,
            total_minor: amount_minor,
            tax_rate_bps: 0,
        }
    };
    Ok(orders::issue(
        conn,
        scope,
        NewInvoice {
            kind: InvoiceKind::CreditNote,
            order_id: invoice.order_id,
            credits_invoice_id: Some(invoice.id),
            currency: &invoice.currency,
            amounts,
            lines: invoice
                .lines
                .iter()
                .map(|line| Line {
                    description: format!("Refund: {}", line.description),
                    amount_minor: line.amount_minor,
                })
                .collect(),
            buyer: invoice.buyer.clone(),
            payment_method: invoice.payment_method,
            payment_reference: invoice.payment_reference.as_deref(),
            issued_at: now,
        },
    )?)
}

/// A gateway failure as a problem: a decline is final, an outage is worth retrying.
pub fn gateway_failure(error: GatewayError) -> ApiError {
    match error {
        GatewayError::Declined { code, message } => ApiError::new(
            ErrorCode::PaymentDeclined,
            format!("The payment gateway refused ({code}): {message}"),
        ),
        GatewayError::Unavailable(cause) => {
            log::warn!("payment gateway unavailable: {cause}");
            ApiError::new(
                ErrorCode::PaymentGatewayUnavailable,
                "The payment gateway did not answer; nothing was charged. Retry with the same Idempotency-Key.",
            )
            .with_header(actix_web::http::header::RETRY_AFTER, "30")
        }
    }
}

/// Announces (Action Center and audit, once each) the account's unpaid wire orders whose
/// deadline passed by `now`. Their status is `expired` from that instant whether or not this
/// has run; this only tells people.
pub fn announce_expiries(
    conn: &mut DbConnection,
    scope: &AccountScope,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let expired = orders::expired_unannounced(conn, scope, now)?;
    for order in &expired {
        if !orders::mark_expiry_announced(conn, scope, order.id, now)? {
            continue;
        }
        notify(
            conn,
            scope,
            "order.expired",
            Workspace::Billing,
            (
                format!("Order {} expired unpaid", order.number),
                format!(
                    "No wire transfer arrived by {}. Place a new order to buy {}.",
                    order.pay_by.map(|at| at.to_rfc3339()).unwrap_or_default(),
                    order.program_id
                ),
            ),
            ("order", order.id.to_string()),
            now,
        )?;
        audit::record_as(
            conn,
            scope,
            &system_actor(),
            "order.expired",
            ("order", order.id.to_string()),
            json!({ "pay_by": order.pay_by, "program_id": order.program_id }),
            now,
        )?;
    }
    Ok(expired.len())
}

/// Announces the wire orders of live accounts that expired unpaid by `wall` (the event sweep
/// runs it). Safe on every replica: each order is announced once (`mark_expiry_announced` only
/// succeeds once).
pub fn sweep_expiries(conn: &mut DbConnection, wall: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut announced = 0;
    for scope in orders::accounts_with_unannounced_expiry(conn, wall, 100)? {
        announced += persistence::connection::write_transaction(conn, |conn| {
            announce_expiries(conn, &scope, wall)
        })?;
    }
    Ok(announced)
}
