//! Orders, the invoices and credit notes they produce, and refunds. Numbers (orders,
//! invoices) are taken as `max + 1` inside the transaction that uses them, under the account
//! lock ([`crate::repos::accounts::lock`]), so they are gap-free: a rolled-back order or
//! invoice leaves no hole. The unique indexes back the lock up.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::commerce::{
    Amounts, InvoiceKind, OrderKind, OrderStanding, OrderStatus, PaymentMethod, order_status,
};
use domain::ids::{InvoiceId, MembershipId, OrderId, RefundId, SupportRequestId};
use serde::{Deserialize, Serialize};

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::search::{self, Target};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{accounts, invoices, orders, refunds};
use crate::tenant::{AccountScope, OperatorAccess, parse_id};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct OrderRow {
    account_id: String,
    id: String,
    number: i64,
    program_id: String,
    kind: String,
    payment_method: String,
    standing: String,
    benefit_pack: Option<String>,
    currency: String,
    subtotal_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    tax_rate_bps: i32,
    refunded_minor: i64,
    membership_id: Option<String>,
    covered_by: Option<String>,
    wire_reference: Option<String>,
    gateway_charge: Option<String>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    placed_by: String,
    placed_at: chrono::NaiveDateTime,
    pay_by: Option<chrono::NaiveDateTime>,
    paid_at: Option<chrono::NaiveDateTime>,
    closed_at: Option<chrono::NaiveDateTime>,
    expiry_raised_at: Option<chrono::NaiveDateTime>,
    version: i64,
}

/// Why a card payment failed, as the gateway said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub number: i64,
    pub program_id: String,
    pub kind: OrderKind,
    pub payment_method: PaymentMethod,
    pub standing: OrderStanding,
    pub benefit_pack: Option<String>,
    pub currency: String,
    pub amounts: Amounts,
    pub refunded_minor: i64,
    pub membership_id: Option<MembershipId>,
    pub covered_by: Option<OrderId>,
    pub wire_reference: Option<String>,
    pub gateway_charge: Option<String>,
    pub failure: Option<Failure>,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub pay_by: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Order {
    pub fn status(&self, now: DateTime<Utc>) -> OrderStatus {
        order_status(self.standing, self.pay_by, now)
    }
}

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::corrupt("orders", format!("{what} {value:?}"))
}

impl TryFrom<OrderRow> for Order {
    type Error = DbError;

    fn try_from(row: OrderRow) -> DbResult<Self> {
        Ok(Order {
            id: parse_id("orders", &row.id)?,
            number: row.number,
            kind: OrderKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
            payment_method: PaymentMethod::parse(&row.payment_method)
                .ok_or_else(|| corrupt("payment_method", &row.payment_method))?,
            standing: OrderStanding::parse(&row.standing)
                .ok_or_else(|| corrupt("standing", &row.standing))?,
            program_id: row.program_id,
            benefit_pack: row.benefit_pack,
            currency: row.currency,
            amounts: Amounts {
                subtotal_minor: row.subtotal_minor,
                tax_minor: row.tax_minor,
                total_minor: row.total_minor,
                tax_rate_bps: u32::try_from(row.tax_rate_bps)
                    .map_err(|_| corrupt("tax_rate_bps", &row.tax_rate_bps.to_string()))?,
            },
            refunded_minor: row.refunded_minor,
            membership_id: row
                .membership_id
                .as_deref()
                .map(|id| parse_id("orders", id))
                .transpose()?,
            covered_by: row
                .covered_by
                .as_deref()
                .map(|id| parse_id("orders", id))
                .transpose()?,
            wire_reference: row.wire_reference,
            gateway_charge: row.gateway_charge,
            failure: row.failure_code.map(|code| Failure {
                code,
                message: row.failure_message.unwrap_or_default(),
            }),
            placed_by: row.placed_by,
            placed_at: from_db_time(row.placed_at),
            pay_by: row.pay_by.map(from_db_time),
            paid_at: row.paid_at.map(from_db_time),
            closed_at: row.closed_at.map(from_db_time),
            version: row.version,
        })
    }
}

/// An order about to be placed.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub program_id: &'a str,
    pub kind: OrderKind,
    pub payment_method: PaymentMethod,
    pub standing: OrderStanding,
    pub benefit_pack: Option<&'a str>,
    pub currency: &'a str,
    pub amounts: Amounts,
    pub covered_by: Option<OrderId>,
    pub placed_by: &'a str,
    pub placed_at: DateTime<Utc>,
    pub pay_by: Option<DateTime<Utc>>,
    pub failure: Option<Failure>,
}

/// The account's next order number. The caller holds the account lock.
pub fn next_number(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<i64> {
    let last: Option<i64> = orders::table
        .filter(orders::account_id.eq(scope.key()))
        .select(diesel::dsl::max(orders::number))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

/// Places an order with the number `number` (from [`next_number`]).
pub fn insert(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: OrderId,
    number: i64,
    new: &NewOrder<'_>,
    wire_reference: Option<&str>,
) -> DbResult<Order> {
    let row = OrderRow {
        account_id: scope.key(),
        id: id.to_string(),
        number,
        program_id: new.program_id.to_owned(),
        kind: new.kind.id().to_owned(),
        payment_method: new.payment_method.id().to_owned(),
        standing: new.standing.id().to_owned(),
        benefit_pack: new.benefit_pack.map(str::to_owned),
        currency: new.currency.to_owned(),
        subtotal_minor: new.amounts.subtotal_minor,
        tax_minor: new.amounts.tax_minor,
        total_minor: new.amounts.total_minor,
        tax_rate_bps: i32::try_from(new.amounts.tax_rate_bps).unwrap_or(i32::MAX),
        refunded_minor: 0,
        membership_id: None,
        covered_by: new.covered_by.map(|id| id.to_string()),
        wire_reference: wire_reference.map(str::to_owned),
        gateway_charge: None,
        failure_code: new.failure.as_ref().map(|f| f.code.clone()),
        failure_message: new.failure.as_ref().map(|f| f.message.clone()),
        placed_by: new.placed_by.to_owned(),
        placed_at: to_db_time(new.placed_at),
        pay_by: new.pay_by.map(to_db_time),
        paid_at: None,
        closed_at: new.failure.as_ref().map(|_| to_db_time(new.placed_at)),
        expiry_raised_at: None,
        version: 1,
    };
    diesel::insert_into(orders::table)
        .values(&row)
        .execute(conn)?;
    search::reindex(conn, scope, Target::Order(id))?;
    row.try_into()
}

pub fn get(conn: &mut DbConnection, scope: &AccountScope, id: OrderId) -> DbResult<Option<Order>> {
    orders::table
        .find((scope.key(), id.to_string()))
        .select(OrderRow::as_select())
        .first::<OrderRow>(conn)
        .optional()?
        .map(Order::try_from)
        .transpose()
}

/// An order of any account, for operators who know only its id.
pub fn find(
    conn: &mut DbConnection,
    operator: &OperatorAccess,
    id: OrderId,
) -> DbResult<Option<(AccountScope, Order)>> {
    let Some(row) = orders::table
        .filter(orders::id.eq(id.to_string()))
        .select(OrderRow::as_select())
        .first::<OrderRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let account_id = parse_id("orders", &row.account_id)?;
    Ok(Some((operator.scope(account_id), row.try_into()?)))
}

/// The account's orders, oldest first.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<Order>> {
    let mut query = orders::table
        .filter(orders::account_id.eq(scope.key()))
        .select(OrderRow::as_select())
        .order(orders::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(orders::id.gt(after.clone()));
    }
    let rows = query
        .load::<OrderRow>(conn)?
        .into_iter()
        .map(Order::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |order| order.id.to_string()))
}

/// Every order of the account; an account places a handful a year.
pub fn all(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<Order>> {
    orders::table
        .filter(orders::account_id.eq(scope.key()))
        .select(OrderRow::as_select())
        .order(orders::id.asc())
        .load::<OrderRow>(conn)?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

/// Records payment of an unpaid order, if it is still at `version` and unpaid.
pub fn mark_paid(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &Order,
    paid_at: DateTime<Utc>,
    membership: MembershipId,
    gateway_charge: Option<&str>,
) -> DbResult<bool> {
    let changed = diesel::update(
        orders::table
            .find((scope.key(), order.id.to_string()))
            .filter(orders::version.eq(order.version))
            .filter(orders::standing.eq(OrderStanding::AwaitingPayment.id())),
    )
    .set((
        orders::standing.eq(OrderStanding::Paid.id()),
        orders::paid_at.eq(Some(to_db_time(paid_at))),
        orders::membership_id.eq(Some(membership.to_string())),
        orders::gateway_charge.eq(gateway_charge),
        orders::version.eq(order.version + 1),
    ))
    .execute(conn)?;
    search::reindex(conn, scope, Target::Order(order.id))?;
    Ok(changed == 1)
}

/// Closes an order as cancelled or refunded, if it is still at `version`. The refunded
/// amount can only grow up to the total (the table's check refuses more).
pub fn close(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &Order,
    standing: OrderStanding,
    refunded_minor: i64,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let changed = diesel::update(
        orders::table
            .find((scope.key(), order.id.to_string()))
            .filter(orders::version.eq(order.version)),
    )
    .set((
        orders::standing.eq(standing.id()),
        orders::refunded_minor.eq(refunded_minor),
        orders::closed_at.eq(Some(to_db_time(at))),
        orders::version.eq(order.version + 1),
    ))
    .execute(conn)?;
    search::reindex(conn, scope, Target::Order(order.id))?;
    Ok(changed == 1)
}

/// The orders whose fee `payer` paid (designations of its fee group added later).
pub fn covered_by(
    conn: &mut DbConnection,
    scope: &AccountScope,
    payer: OrderId,
) -> DbResult<Vec<Order>> {
    orders::table
        .filter(orders::account_id.eq(scope.key()))
        .filter(orders::covered_by.eq(payer.to_string()))
        .select(OrderRow::as_select())
        .load::<OrderRow>(conn)?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

/// Unpaid wire orders of the account past their deadline at `now` whose expiry was not yet
/// announced.
pub fn expired_unannounced(
    conn: &mut DbConnection,
    scope: &AccountScope,
    now: DateTime<Utc>,
) -> DbResult<Vec<Order>> {
    orders::table
        .filter(orders::account_id.eq(scope.key()))
        .filter(orders::standing.eq(OrderStanding::AwaitingPayment.id()))
        .filter(orders::pay_by.lt(to_db_time(now)))
        .filter(orders::expiry_raised_at.is_null())
        .select(OrderRow::as_select())
        .load::<OrderRow>(conn)?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

/// Live accounts (on the wall clock) with an unpaid wire order past its deadline at `wall`
/// whose expiry was not yet announced: the expiry sweep's work list. Sandboxes are swept when
/// their clock moves.
pub fn accounts_with_unannounced_expiry(
    conn: &mut DbConnection,
    wall: DateTime<Utc>,
    limit: i64,
) -> DbResult<Vec<AccountScope>> {
    let ids: Vec<String> = orders::table
        .inner_join(accounts::table.on(accounts::id.eq(orders::account_id)))
        .filter(accounts::sandbox_clock.is_null())
        .filter(orders::standing.eq(OrderStanding::AwaitingPayment.id()))
        .filter(orders::pay_by.lt(to_db_time(wall)))
        .filter(orders::expiry_raised_at.is_null())
        .select(orders::account_id)
        .distinct()
        .limit(limit)
        .load(conn)?;
    ids.iter()
        .map(|id| parse_id("orders", id).map(AccountScope::new))
        .collect()
}

pub fn mark_expiry_announced(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: OrderId,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let changed = diesel::update(
        orders::table
            .find((scope.key(), id.to_string()))
            .filter(orders::expiry_raised_at.is_null()),
    )
    .set(orders::expiry_raised_at.eq(Some(to_db_time(at))))
    .execute(conn)?;
    Ok(changed == 1)
}

// ---------------------------------------------------------------------------------------------
// Invoices and credit notes

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub description: String,
    pub amount_minor: i64,
}

/// The buyer as printed, captured when the document was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub legal_name: String,
    pub address: Vec<String>,
    pub country: String,
    pub partner_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct InvoiceRow {
    account_id: String,
    id: String,
    number: i64,
    kind: String,
    order_id: String,
    credits_invoice_id: Option<String>,
    currency: String,
    subtotal_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    tax_rate_bps: i32,
    lines: String,
    buyer: String,
    payment_method: String,
    payment_reference: Option<String>,
    issued_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: InvoiceId,
    pub number: i64,
    pub kind: InvoiceKind,
    pub order_id: OrderId,
    pub credits_invoice_id: Option<InvoiceId>,
    pub currency: String,
    pub amounts: Amounts,
    pub lines: Vec<Line>,
    pub buyer: Buyer,
    pub payment_method: PaymentMethod,
    pub payment_reference: Option<String>,
    pub issued_at: DateTime<Utc>,
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = DbError;

    fn try_from(row: InvoiceRow) -> DbResult<Self> {
        let bad =
            |what: &str, value: &str| DbError::corrupt("invoices", format!("{what} {value:?}"));
        Ok(Invoice {
            id: parse_id("invoices", &row.id)?,
            number: row.number,
            kind: InvoiceKind::parse(&row.kind).ok_or_else(|| bad("kind", &row.kind))?,
            order_id: parse_id("invoices", &row.order_id)?,
            credits_invoice_id: row
                .credits_invoice_id
                .as_deref()
                .map(|id| parse_id("invoices", id))
                .transpose()?,
            currency: row.currency,
            amounts: Amounts {
                subtotal_minor: row.subtotal_minor,
                tax_minor: row.tax_minor,
                total_minor: row.total_minor,
                tax_rate_bps: u32::try_from(row.tax_rate_bps)
                    .map_err(|_| bad("tax_rate_bps", &row.tax_rate_bps.to_string()))?,
            },
            lines: serde_json::from_str(&row.lines).map_err(|e| bad("lines", &e.to_string()))?,
            buyer: serde_json::from_str(&row.buyer).map_err(|e| bad("buyer", &e.to_string()))?,
            payment_method: PaymentMethod::parse(&row.payment_method)
                .ok_or_else(|| bad("payment_method", &row.payment_method))?,
            payment_reference: row.payment_reference,
            issued_at: from_db_time(row.issued_at),
        })
    }
}

/// A document about to be issued.
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    pub kind: InvoiceKind,
    pub order_id: OrderId,
    pub credits_invoice_id: Option<InvoiceId>,
    pub currency: &'a str,
    pub amounts: Amounts,
    pub lines: Vec<Line>,
    pub buyer: Buyer,
    pub payment_method: PaymentMethod,
    pub payment_reference: Option<&'a str>,
    pub issued_at: DateTime<Utc>,
}

/// Issues the account's next document number to `new`. The caller holds the account lock.
pub fn issue(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: NewInvoice<'_>,
) -> DbResult<Invoice> {
    let last: Option<i64> = invoices::table
        .filter(invoices::account_id.eq(scope.key()))
        .select(diesel::dsl::max(invoices::number))
        .first(conn)?;
    let encode = |value: serde_json::Result<String>| {
        value.map_err(|e| DbError::corrupt("invoices", e.to_string()))
    };
    let row = InvoiceRow {
        account_id: scope.key(),
        id: InvoiceId::generate().to_string(),
        number: last.unwrap_or(0) + 1,
        kind: new.kind.id().to_owned(),
        order_id: new.order_id.to_string(),
        credits_invoice_id: new.credits_invoice_id.map(|id| id.to_string()),
        currency: new.currency.to_owned(),
        subtotal_minor: new.amounts.subtotal_minor,
        tax_minor: new.amounts.tax_minor,
        total_minor: new.amounts.total_minor,
        tax_rate_bps: i32::try_from(new.amounts.tax_rate_bps).unwrap_or(i32::MAX),
        lines: encode(serde_json::to_string(&new.lines))?,
        buyer: encode(serde_json::to_string(&new.buyer))?,
        payment_method: new.payment_method.id().to_owned(),
        payment_reference: new.payment_reference.map(str::to_owned),
        issued_at: to_db_time(new.issued_at),
    };
    diesel::insert_into(invoices::table)
        .values(&row)
        .execute(conn)?;
    let invoice: Invoice = row.try_into()?;
    search::reindex(conn, scope, Target::Invoice(invoice.id))?;
    Ok(invoice)
}

pub fn invoice(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: InvoiceId,
) -> DbResult<Option<Invoice>> {
    invoices::table
        .find((scope.key(), id.to_string()))
        .select(InvoiceRow::as_select())
        .first::<InvoiceRow>(conn)
        .optional()?
        .map(Invoice::try_from)
        .transpose()
}

/// The invoice (not credit note) of an order, if one was issued.
pub fn invoice_of(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: OrderId,
) -> DbResult<Option<Invoice>> {
    invoices::table
        .filter(invoices::account_id.eq(scope.key()))
        .filter(invoices::order_id.eq(order.to_string()))
        .filter(invoices::kind.eq(InvoiceKind::Invoice.id()))
        .select(InvoiceRow::as_select())
        .first::<InvoiceRow>(conn)
        .optional()?
        .map(Invoice::try_from)
        .transpose()
}

/// The account's invoices and credit notes, by number.
pub fn invoices(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<Invoice>> {
    let after: Option<i64> = page
        .after
        .as_deref()
        .map(|raw| {
            raw.parse()
                .map_err(|_| DbError::corrupt("invoices", "cursor"))
        })
        .transpose()?;
    let mut query = invoices::table
        .filter(invoices::account_id.eq(scope.key()))
        .select(InvoiceRow::as_select())
        .order(invoices::number.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(invoices::number.gt(after));
    }
    let rows = query
        .load::<InvoiceRow>(conn)?
        .into_iter()
        .map(Invoice::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |invoice| invoice.number.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Refunds

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub amount_minor: i64,
    pub currency: String,
    pub gateway_refund: Option<String>,
    pub credit_note_id: Option<InvoiceId>,
    pub support_request_id: Option<SupportRequestId>,
    pub created_at: DateTime<Utc>,
}

/// Records a refund. The unique index on the order makes a second refund of one order fail
/// even if two transactions got past every other guard.
pub fn record_refund(
    conn: &mut DbConnection,
    scope: &AccountScope,
    refund: &Refund,
) -> DbResult<()> {
    diesel::insert_into(refunds::table)
        .values((
            refunds::account_id.eq(scope.key()),
            refunds::id.eq(refund.id.to_string()),
            refunds::order_id.eq(refund.order_id.to_string()),
            refunds::amount_minor.eq(refund.amount_minor),
            refunds::currency.eq(&refund.currency),
            refunds::gateway_refund.eq(refund.gateway_refund.as_deref()),
            refunds::credit_note_id.eq(refund.credit_note_id.map(|id| id.to_string())),
            refunds::support_request_id.eq(refund.support_request_id.map(|id| id.to_string())),
            refunds::created_at.eq(to_db_time(refund.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The sum of refunds recorded for an order.
pub fn refunded_total(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: OrderId,
) -> DbResult<i64> {
    let amounts: Vec<i64> = refunds::table
        .filter(refunds::account_id.eq(scope.key()))
        .filter(refunds::order_id.eq(order.to_string()))
        .select(refunds::amount_minor)
        .load(conn)?;
    Ok(amounts
        .iter()
        .fold(0i64, |sum, amount| sum.saturating_add(*amount)))
}
