//! Orders, invoices, refunds, benefits and support requests.

use chrono::{DateTime, Utc};
use domain::commerce::{self as rules, BenefitStatus as DomainBenefitStatus};
use persistence::repos::benefits::Benefit as BenefitRecord;
use persistence::repos::orders::{Invoice as InvoiceRecord, Order as OrderRecord};
use persistence::repos::support::{Note as NoteRecord, SupportRequest as RequestRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::program::{BenefitKind, Money};

/// A schema enum mirroring a domain vocabulary, converted both ways.
macro_rules! mirror {
    ($(#[$doc:meta])* $name:ident = $domain:path { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                use $domain as D;
                match value { $(D::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                use $domain as D;
                match value { $($name::$variant => D::$variant),+ }
            }
        }
    };
}

mirror!(
    /// `purchase`: a first purchase. `renewal`: extends a membership in its renewal window by
    /// one term from its anniversary.
    OrderKind = rules::OrderKind { Purchase, Renewal }
);
mirror!(
    /// `credit_card`: charged at once. `wire_transfer`: paid by bank transfer within 30 days.
    PaymentMethod = rules::PaymentMethod { CreditCard, WireTransfer }
);
mirror!(
    /// `awaiting_payment` (a wire order), `paid`, `failed` (card declined), `cancelled`,
    /// `expired` (a wire order unpaid 30 days after it was placed), `refunded`.
    OrderStatus = rules::OrderStatus { AwaitingPayment, Paid, Failed, Cancelled, Expired, Refunded }
);
mirror!(
    /// `invoice`, or `credit_note` (a refund, referencing its invoice).
    InvoiceKind = rules::InvoiceKind { Invoice, CreditNote }
);
mirror!(
    /// `available` (granted, not yet activated), `activated`, `ended` (its membership or term
    /// ended, or a refund revoked it).
    BenefitStatus = rules::BenefitStatus { Available, Activated, Ended }
);
mirror!(
    SupportStatus = rules::SupportStatus {
        Open,
        AttentionNeeded,
        Closed
    }
);
mirror!(
    Severity = rules::Severity {
        Critical,
        Moderate,
        Minimal
    }
);
mirror!(
    /// `membership_cancellation` (with `order_id`) is decided at once; the others are answered
    /// by support.
    SupportCategory = rules::SupportCategory {
        MembershipCancellation,
        Billing,
        Benefits,
        Account,
        Technical,
        Other,
    }
);
mirror!(
    /// `order_paid`: paid and not refunded or cancelled since. `refund_window`: at most 30
    /// days after payment. `no_benefit_activated`, `no_product_key_revealed`: of the
    /// membership (and of the designations its fee covered).
    RefundCheckCode = rules::RefundCheckCode {
        OrderPaid,
        RefundWindow,
        NoBenefitActivated,
        NoProductKeyRevealed,
    }
);

fn money(amount_minor: i64, currency: &str) -> Money {
    Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

/// Buys or renews a paid program.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, example = "action_pack", max_length = 64)]
    pub program_id: String,
    pub kind: OrderKind,
    pub payment_method: PaymentMethod,
    /// The card token for `credit_card` (required then, refused for `wire_transfer`). The
    /// built-in test gateway approves `tok_test_approve`, declines `tok_test_decline`, and
    /// answers `tok_test_gateway_error` with an outage (a retryable 503).
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(min_length = 1, example = "tok_test_approve", max_length = 200)]
    pub card_token: Option<String>,
    /// Action Pack: `maps`, or `laps` for training partners; fixed until renewal. A renewal
    /// keeps the current pack unless another is named.
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, example = "maps", max_length = 64)]
    pub benefit_pack: Option<String>,
}

/// How to pay a wire-transfer order.
#[derive(Debug, Serialize, ToSchema)]
pub struct WireInstructions {
    /// Put this in the transfer's reference: the order number and the PartnerID.
    #[schema(example = "PC-000001-1234567")]
    pub reference: String,
    pub amount: Money,
    /// The last instant the transfer can arrive (placed + 30 days); later, the order expires.
    pub pay_by: DateTime<Utc>,
}

/// Why a card payment failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderFailure {
    #[schema(example = "card_declined")]
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    pub id: Uuid,
    /// The account's order number, from 1.
    pub number: i64,
    pub program_id: String,
    pub kind: OrderKind,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub benefit_pack: Option<String>,
    /// Net price.
    pub subtotal: Money,
    pub tax: Money,
    /// Tax rate in basis points (1900 = 19 %), by the buyer's country.
    pub tax_rate_bps: u32,
    /// What is paid: subtotal + tax.
    pub total: Money,
    /// What was refunded (never more than `total`).
    pub refunded: Money,
    /// The membership the order activated or renewed, once paid.
    pub membership_id: Option<Uuid>,
    /// A Solutions Partner designation added within a paid year: the order whose yearly fee
    /// covers it (this order is free and shares that membership's anniversary).
    pub covered_by_order_id: Option<Uuid>,
    /// Wire-transfer orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire: Option<WireInstructions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<OrderFailure>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled, refunded or failed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Order {
    /// The order as of the account's `now` (an unpaid wire order past its deadline is expired).
    pub fn new(order: &OrderRecord, now: DateTime<Utc>) -> Self {
        let currency = &order.currency;
        Order {
            id: order.id.as_uuid(),
            number: order.number,
            program_id: order.program_id.clone(),
            kind: order.kind.into(),
            status: order.status(now).into(),
            payment_method: order.payment_method.into(),
            benefit_pack: order.benefit_pack.clone(),
            subtotal: money(order.amounts.subtotal_minor, currency),
            tax: money(order.amounts.tax_minor, currency),
            tax_rate_bps: order.amounts.tax_rate_bps,
            total: money(order.amounts.total_minor, currency),
            refunded: money(order.refunded_minor, currency),
            membership_id: order.membership_id.map(|id| id.as_uuid()),
            covered_by_order_id: order.covered_by.map(|id| id.as_uuid()),
            wire: order
                .wire_reference
                .clone()
                .zip(order.pay_by)
                .map(|(reference, pay_by)| WireInstructions {
                    reference,
                    amount: money(order.amounts.total_minor, currency),
                    pay_by,
                }),
            failure: order.failure.as_ref().map(|f| OrderFailure {
                code: f.code.clone(),
                message: f.message.clone(),
            }),
            placed_at: order.placed_at,
            paid_at: order.paid_at,
            closed_at: order.closed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<Order>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One refund condition, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundCheck {
    pub code: RefundCheckCode,
    pub satisfied: bool,
    pub detail: String,
}

impl From<&rules::RefundCheck> for RefundCheck {
    fn from(check: &rules::RefundCheck) -> Self {
        RefundCheck {
            code: check.code.into(),
            satisfied: check.satisfied,
            detail: check.detail.clone(),
        }
    }
}

/// Whether a `membership_cancellation` support request for the order would be granted now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundEligibility {
    pub order_id: Uuid,
    pub eligible: bool,
    /// What a granted refund pays back: what was paid and not yet refunded.
    pub refundable: Money,
    /// The last instant a refund can be granted (paid + 30 days), once paid.
    pub window_ends_at: Option<DateTime<Utc>>,
    pub checks: Vec<RefundCheck>,
    pub as_of: DateTime<Utc>,
}

/// Records a wire transfer the operator received.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireReceivedRequest {
    /// Must equal the order's total, currency included.
    pub amount: Money,
    /// When the funds arrived: not before the order, not after its deadline, not in the future.
    pub received_at: DateTime<Utc>,
    /// The transfer's reference; must be the order's (case and surrounding spaces ignored).
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(min_length = 1, example = "PC-000001-1234567", max_length = 200)]
    pub reference: String,
}

/// A sandbox's stand-in for the operator recording a wire transfer. Every field defaults to
/// what the order expects (its total, the account's now, its reference).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxWireRequest {
    pub amount: Option<Money>,
    pub received_at: Option<DateTime<Utc>>,
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub reference: Option<String>,
}

/// The buyer as printed on the document.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceBuyer {
    pub legal_name: String,
    pub address: Vec<String>,
    pub country: String,
    pub partner_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLine {
    pub description: String,
    pub amount: Money,
}

/// An invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    /// `INV-000001` or `CN-000002`: invoices and credit notes share one gap-free numbering
    /// per account.
    #[schema(example = "INV-000001")]
    pub number: String,
    /// The document's place in that numbering.
    pub sequence: i64,
    pub kind: InvoiceKind,
    pub order_id: Uuid,
    /// A credit note: the invoice it credits.
    pub credits_invoice_id: Option<Uuid>,
    pub issued_at: DateTime<Utc>,
    pub seller: Vec<String>,
    pub buyer: InvoiceBuyer,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: Money,
    pub tax: Money,
    pub tax_rate_bps: u32,
    pub total: Money,
    pub payment_method: PaymentMethod,
    /// The wire reference, or the card charge's id.
    pub payment_reference: Option<String>,
    /// `/v1/invoices/{id}/pdf`.
    pub pdf_url: String,
}

impl Invoice {
    pub fn new(invoice: &InvoiceRecord, number: String, seller: &[&str]) -> Self {
        let currency = &invoice.currency;
        Invoice {
            id: invoice.id.as_uuid(),
            number,
            sequence: invoice.number,
            kind: invoice.kind.into(),
            order_id: invoice.order_id.as_uuid(),
            credits_invoice_id: invoice.credits_invoice_id.map(|id| id.as_uuid()),
            issued_at: invoice.issued_at,
            seller: seller.iter().map(|line| (*line).to_owned()).collect(),
            buyer: InvoiceBuyer {
                legal_name: invoice.buyer.legal_name.clone(),
                address: invoice.buyer.address.clone(),
                country: invoice.buyer.country.clone(),
                partner_id: invoice.buyer.partner_id.clone(),
            },
            lines: invoice
                .lines
                .iter()
                .map(|line| InvoiceLine {
                    description: line.description.clone(),
                    amount: money(line.amount_minor, currency),
                })
                .collect(),
            subtotal: money(invoice.amounts.subtotal_minor, currency),
            tax: money(invoice.amounts.tax_minor, currency),
            tax_rate_bps: invoice.amounts.tax_rate_bps,
            total: money(invoice.amounts.total_minor, currency),
            payment_method: invoice.payment_method.into(),
            payment_reference: invoice.payment_reference.clone(),
            pdf_url: format!("/v1/invoices/{}/pdf", invoice.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub items: Vec<Invoice>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A benefit granted by a membership.
#[derive(Debug, Serialize, ToSchema)]
pub struct Benefit {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub program_id: String,
    /// The order whose payment granted it; absent for free memberships.
    pub order_id: Option<Uuid>,
    /// The catalog's id of the benefit.
    pub catalog_benefit_id: String,
    pub kind: BenefitKind,
    pub name: String,
    pub quantity: u32,
    pub status: BenefitStatus,
    pub granted_at: DateTime<Utc>,
    /// The end of the term it was granted for (it ends earlier if the membership does).
    pub ends_at: Option<DateTime<Utc>>,
    pub assignee_user_id: Option<Uuid>,
    pub activated_at: Option<DateTime<Utc>>,
    /// Times an Azure credit changed hands.
    pub reassignments: u32,
    /// Azure credits: how many more times it may change hands (at most 5 in all).
    pub reassignments_remaining: Option<u32>,
    /// Software benefits carry a product key (`POST .../reveal-key`).
    pub has_product_key: bool,
    pub key_revealed_at: Option<DateTime<Utc>>,
}

impl Benefit {
    /// The benefit with its status; an Azure credit may change hands `max_reassignments` times.
    pub fn new(
        benefit: &BenefitRecord,
        status: DomainBenefitStatus,
        max_reassignments: u32,
    ) -> Self {
        let azure = benefit.kind == domain::catalog::BenefitKind::AzureCredit;
        Benefit {
            id: benefit.id.as_uuid(),
            membership_id: benefit.membership_id.as_uuid(),
            program_id: benefit.program_id.clone(),
            order_id: benefit.order_id.map(|id| id.as_uuid()),
            catalog_benefit_id: benefit.catalog_benefit.clone(),
            kind: benefit_kind(benefit.kind),
            name: benefit.name.clone(),
            quantity: benefit.quantity,
            status: status.into(),
            granted_at: benefit.granted_at,
            ends_at: benefit.valid_until,
            assignee_user_id: benefit.assignee.map(|id| id.as_uuid()),
            activated_at: benefit.activated_at,
            reassignments: benefit.reassignments,
            reassignments_remaining: azure
                .then(|| max_reassignments.saturating_sub(benefit.reassignments)),
            has_product_key: benefit.product_key.is_some(),
            key_revealed_at: benefit.key_revealed_at,
        }
    }
}

pub(crate) fn benefit_kind(kind: domain::catalog::BenefitKind) -> BenefitKind {
    use domain::catalog::BenefitKind as K;
    match kind {
        K::AzureCredit => BenefitKind::AzureCredit,
        K::CloudServices => BenefitKind::CloudServices,
        K::Software => BenefitKind::Software,
        K::DeveloperTools => BenefitKind::DeveloperTools,
        K::TechnicalConsultation => BenefitKind::TechnicalConsultation,
        K::Marketing => BenefitKind::Marketing,
        K::LogoBuilder => BenefitKind::LogoBuilder,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BenefitList {
    pub items: Vec<Benefit>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BenefitQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub status: Option<BenefitStatus>,
    pub membership_id: Option<Uuid>,
}

/// Assigns a benefit to a user of the account (an Azure credit may later move to another).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateBenefitRequest {
    pub assignee_user_id: Uuid,
}

/// A software benefit's product key. Revealing it is recorded, and blocks refunds of the order
/// that granted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedKey {
    pub benefit_id: Uuid,
    #[schema(example = "BCDFG-HJKMP-QRTVW-XY234-6789B")]
    pub product_key: String,
    /// The first reveal.
    pub revealed_at: DateTime<Utc>,
}

/// Opens a support request. With `category: membership_cancellation` and an `order_id` it asks
/// to cancel and refund that order and is decided at once.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupportRequest {
    pub category: SupportCategory,
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(min_length = 1, example = "Cancel our Action Pack", max_length = 200)]
    pub title: String,
    #[validate(length(max = 5000, code = "too_long", message = "at most 5000 characters"))]
    #[schema(max_length = 5000)]
    #[serde(default)]
    pub description: String,
    /// Defaults to `minimal`.
    pub severity: Option<Severity>,
    /// Required for `membership_cancellation`.
    pub order_id: Option<Uuid>,
}

/// Adds a note, closes the request, or changes its severity.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSupportRequest {
    #[validate(length(
        min = 1,
        max = 5000,
        code = "invalid_length",
        message = "1 to 5000 characters"
    ))]
    #[schema(min_length = 1, max_length = 5000)]
    pub note: Option<String>,
    /// Only `closed`: a partner closes a request; support moves it to `attention_needed`.
    pub status: Option<SupportStatus>,
    pub severity: Option<Severity>,
}

/// Support answers a request (operators).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportReply {
    #[validate(length(
        min = 1,
        max = 5000,
        code = "invalid_length",
        message = "1 to 5000 characters"
    ))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// The partner must act: the request becomes `attention_needed` until they add a note.
    #[serde(default)]
    pub attention_needed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupportNote {
    pub id: Uuid,
    /// `partner` or `support`.
    pub author_kind: String,
    /// The partner user's email, or the operator's.
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<&NoteRecord> for SupportNote {
    fn from(note: &NoteRecord) -> Self {
        SupportNote {
            id: note.id.as_uuid(),
            author_kind: note.author_kind.clone(),
            author: note.author.clone(),
            body: note.body.clone(),
            created_at: note.created_at,
        }
    }
}

/// The refund a granted cancellation made.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundSummary {
    pub id: Uuid,
    pub amount: Money,
    pub credit_note_id: Option<Uuid>,
    /// The gateway's refund id (card payments); absent for wire transfers, paid back by the
    /// operator.
    pub gateway_refund_id: Option<String>,
}

/// How a `membership_cancellation` request was decided.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancellationDecision {
    pub granted: bool,
    /// Every condition; a refused request lists the failed ones with `satisfied: false`.
    pub checks: Vec<RefundCheck>,
    pub refund: Option<RefundSummary>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupportRequest {
    pub id: Uuid,
    /// The account's request number, from 1.
    pub number: i64,
    pub category: SupportCategory,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: SupportStatus,
    pub order_id: Option<Uuid>,
    /// The user who opened it.
    pub created_by: Uuid,
    /// `membership_cancellation`: the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<CancellationDecision>,
    /// The conversation, oldest first (on `GET /v1/support/requests/{id}` and changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<SupportNote>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl SupportRequest {
    pub fn new(request: &RequestRecord, notes: Option<&[NoteRecord]>) -> Self {
        SupportRequest {
            id: request.id.as_uuid(),
            number: request.number,
            category: request.category.into(),
            title: request.title.clone(),
            description: request.description.clone(),
            severity: request.severity.into(),
            status: request.status.into(),
            order_id: request.order_id.map(|id| id.as_uuid()),
            created_by: request.created_by.as_uuid(),
            decision: request
                .decision
                .clone()
                .and_then(|value| serde_json::from_value(value).ok()),
            notes: notes.map(|notes| notes.iter().map(SupportNote::from).collect()),
            created_at: request.created_at,
            updated_at: request.updated_at,
            closed_at: request.closed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupportRequestList {
    pub items: Vec<SupportRequest>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SupportQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub status: Option<SupportStatus>,
}
