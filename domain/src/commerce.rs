//! Orders, payment, tax, refunds and benefit redemption (DESIGN §7, §8): the rules that guard
//! money, as functions of their inputs and `now`, with the catalog's numbers (wire deadline,
//! refund window, reassignments, tax rates) as parameters. Amounts are integer minor units;
//! every operation that could overflow is checked and says so instead of wrapping.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $id:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn id(self) -> &'static str {
                match self { $($name::$variant => $id),+ }
            }

            pub fn parse(id: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.id() == id)
            }
        }
    };
}

vocabulary!(
    /// A first purchase, or the renewal of a membership in its renewal window.
    OrderKind { Purchase => "purchase", Renewal => "renewal" }
);

vocabulary!(
    PaymentMethod { CreditCard => "credit_card", WireTransfer => "wire_transfer" }
);

vocabulary!(
    /// What events decided about an order. `expired` is not stored: an unpaid wire order is
    /// expired once the clock passes its deadline, whether or not anything noticed.
    OrderStanding {
        AwaitingPayment => "awaiting_payment",
        Paid => "paid",
        Failed => "failed",
        Cancelled => "cancelled",
        Refunded => "refunded",
    }
);

vocabulary!(
    /// The status served to clients.
    OrderStatus {
        AwaitingPayment => "awaiting_payment",
        Paid => "paid",
        Failed => "failed",
        Cancelled => "cancelled",
        Expired => "expired",
        Refunded => "refunded",
    }
);

vocabulary!(
    InvoiceKind { Invoice => "invoice", CreditNote => "credit_note" }
);

vocabulary!(
    SupportStatus { Open => "open", AttentionNeeded => "attention_needed", Closed => "closed" }
);

vocabulary!(
    /// The portal's severities (`unknown` is what the portal shows for none chosen).
    Severity { Critical => "critical", Moderate => "moderate", Minimal => "minimal" }
);

vocabulary!(
    SupportCategory {
        MembershipCancellation => "membership_cancellation",
        Billing => "billing",
        Benefits => "benefits",
        Account => "account",
        Technical => "technical",
        Other => "other",
    }
);

vocabulary!(
    /// Where a benefit stands; `ended` is computed from its membership and dates.
    BenefitStatus { Available => "available", Activated => "activated", Ended => "ended" }
);

/// The last instant an unpaid wire order can be paid: `payment_days` after it was placed.
pub fn wire_deadline(placed_at: DateTime<Utc>, payment_days: u32) -> DateTime<Utc> {
    placed_at + Duration::days(i64::from(payment_days))
}

/// An order's status at `now`: an unpaid order past its deadline is expired.
pub fn order_status(
    standing: OrderStanding,
    pay_by: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> OrderStatus {
    match standing {
        OrderStanding::AwaitingPayment if pay_by.is_some_and(|deadline| now > deadline) => {
            OrderStatus::Expired
        }
        OrderStanding::AwaitingPayment => OrderStatus::AwaitingPayment,
        OrderStanding::Paid => OrderStatus::Paid,
        OrderStanding::Failed => OrderStatus::Failed,
        OrderStanding::Cancelled => OrderStatus::Cancelled,
        OrderStanding::Refunded => OrderStatus::Refunded,
    }
}

/// Why an order cannot move as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRefused {
    /// Only an unpaid order can be cancelled or paid; this one is closed (paid, failed,
    /// cancelled or refunded).
    Closed(OrderStatus),
    /// The unpaid order's payment deadline has passed.
    Expired,
    /// A card order is not paid by wire transfer.
    NotWire,
}

/// Cancelling an order: an unpaid one becomes `cancelled`; a cancelled one stays as it is
/// (`Ok(None)`); any other is refused.
pub fn cancel(status: OrderStatus) -> Result<Option<OrderStanding>, OrderRefused> {
    match status {
        OrderStatus::AwaitingPayment => Ok(Some(OrderStanding::Cancelled)),
        OrderStatus::Cancelled => Ok(None),
        OrderStatus::Expired => Err(OrderRefused::Expired),
        closed => Err(OrderRefused::Closed(closed)),
    }
}

/// Receiving a wire transfer that arrived at `received_at`: an unpaid wire order becomes
/// `paid` if the funds arrived by its deadline.
pub fn receive_wire(
    standing: OrderStanding,
    method: PaymentMethod,
    pay_by: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
) -> Result<OrderStanding, OrderRefused> {
    if method != PaymentMethod::WireTransfer {
        return Err(OrderRefused::NotWire);
    }
    if standing != OrderStanding::AwaitingPayment {
        return Err(OrderRefused::Closed(order_status(
            standing,
            pay_by,
            received_at,
        )));
    }
    match pay_by {
        Some(deadline) if received_at <= deadline => Ok(OrderStanding::Paid),
        _ => Err(OrderRefused::Expired),
    }
}

/// Arithmetic on minor units that would not fit in an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// Net, tax and gross of one priced line, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// Basis points: 1900 is 19 %.
    pub tax_rate_bps: u32,
}

/// Tax on a net amount at `rate_bps`, rounded half up to the minor unit.
pub fn price_with_tax(subtotal_minor: i64, rate_bps: u32) -> Result<Amounts, Overflow> {
    if subtotal_minor < 0 {
        return Err(Overflow);
    }
    let tax = (i128::from(subtotal_minor) * i128::from(rate_bps) + 5_000) / 10_000;
    let tax_minor = i64::try_from(tax).map_err(|_| Overflow)?;
    let total_minor = subtotal_minor.checked_add(tax_minor).ok_or(Overflow)?;
    Ok(Amounts {
        subtotal_minor,
        tax_minor,
        total_minor,
        tax_rate_bps: rate_bps,
    })
}

/// Digits after the decimal point of a currency's minor unit.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// `INV-000001` / `CN-000002`: one numbering for both kinds of document.
pub fn document_number(kind: InvoiceKind, number: i64) -> String {
    let prefix = match kind {
        InvoiceKind::Invoice => "INV",
        InvoiceKind::CreditNote => "CN",
    };
    format!("{prefix}-{number:06}")
}

/// `USD 1,234.50`-style text for documents (without thousands separators: `USD 1234.50`).
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let magnitude = amount_minor.unsigned_abs();
    if digits == 0 {
        return format!("{currency} {sign}{magnitude}");
    }
    let scale = 10u64.pow(digits);
    format!(
        "{currency} {sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = digits as usize
    )
}

/// Why a refund is or is not granted: each condition of DESIGN §7, evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundCheckCode {
    /// The order was paid and not refunded or cancelled since.
    OrderPaid,
    /// Now is at most 30 days after payment.
    RefundWindow,
    /// No benefit of the membership was activated.
    NoBenefitActivated,
    /// No product key of the membership was revealed.
    NoProductKeyRevealed,
}

impl RefundCheckCode {
    pub const fn id(self) -> &'static str {
        match self {
            RefundCheckCode::OrderPaid => "order_paid",
            RefundCheckCode::RefundWindow => "refund_window",
            RefundCheckCode::NoBenefitActivated => "no_benefit_activated",
            RefundCheckCode::NoProductKeyRevealed => "no_product_key_revealed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCheck {
    pub code: RefundCheckCode,
    pub satisfied: bool,
    pub detail: String,
}

/// What the refund rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundFacts {
    pub status: OrderStatus,
    pub paid_at: Option<DateTime<Utc>>,
    pub total_minor: i64,
    pub refunded_minor: i64,
    pub benefits_activated: u32,
    pub keys_revealed: u32,
    /// The catalog's refund window: days after payment, inclusive.
    pub window_days: u32,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundDecision {
    pub eligible: bool,
    /// What a granted refund pays back: what was paid and not yet refunded, never more.
    pub refundable_minor: i64,
    /// The last instant a refund can be granted, when the order was paid.
    pub window_ends_at: Option<DateTime<Utc>>,
    pub checks: Vec<RefundCheck>,
}

impl RefundDecision {
    pub fn failed(&self) -> impl Iterator<Item = &RefundCheck> {
        self.checks.iter().filter(|check| !check.satisfied)
    }
}

/// Every refund condition at `facts.now`; granted only when all hold.
pub fn refund_decision(facts: &RefundFacts) -> RefundDecision {
    let paid = facts.status == OrderStatus::Paid;
    let window_ends_at = facts
        .paid_at
        .map(|paid_at| paid_at + Duration::days(i64::from(facts.window_days)));
    let days = facts.window_days;
    let in_window = window_ends_at.is_some_and(|end| facts.now <= end);
    let check = |code, satisfied, detail: String| RefundCheck {
        code,
        satisfied,
        detail,
    };
    let checks = vec![
        check(
            RefundCheckCode::OrderPaid,
            paid,
            if paid {
                "The order is paid.".to_owned()
            } else {
                format!(
                    "The order is {}; only a paid order is refunded.",
                    facts.status.id()
                )
            },
        ),
        check(
            RefundCheckCode::RefundWindow,
            in_window,
            match window_ends_at {
                Some(end) if in_window => format!(
                    "Refunds are possible until {} ({days} days after payment).",
                    end.to_rfc3339()
                ),
                Some(end) => format!(
                    "The {days}-day refund window ended at {}.",
                    end.to_rfc3339()
                ),
                None => "The order was never paid.".to_owned(),
            },
        ),
        check(
            RefundCheckCode::NoBenefitActivated,
            facts.benefits_activated == 0,
            match facts.benefits_activated {
                0 => "No benefit of the membership was activated.".to_owned(),
                n => format!("{n} benefit(s) of the membership were activated."),
            },
        ),
        check(
            RefundCheckCode::NoProductKeyRevealed,
            facts.keys_revealed == 0,
            match facts.keys_revealed {
                0 => "No product key of the membership was revealed.".to_owned(),
                n => format!("{n} product key(s) of the membership were revealed."),
            },
        ),
    ];
    let eligible = checks.iter().all(|check| check.satisfied);
    RefundDecision {
        eligible,
        refundable_minor: refundable(facts.total_minor, facts.refunded_minor),
        window_ends_at,
        checks,
    }
}

/// What is left to refund of a payment: never negative, never more than was paid.
pub fn refundable(paid_minor: i64, refunded_minor: i64) -> i64 {
    paid_minor
        .max(0)
        .saturating_sub(refunded_minor.max(0))
        .clamp(0, paid_minor.max(0))
}

/// Why activating a benefit for `assignee` is refused, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationRefused {
    Ended,
    /// Already activated for someone else, and the benefit cannot change hands.
    NotReassignable,
    /// A monthly Azure credit that already changed hands the maximum number of times.
    ReassignmentLimit,
}

/// The outcome of activating a benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// First activation.
    Activated,
    /// Already activated for this assignee: nothing changes.
    Unchanged,
    /// Moved to another assignee; the count after this move.
    Reassigned(u32),
}

/// Activation rules: a benefit is activated once; an Azure credit may then move to another
/// user at most `max_reassignments` times.
pub fn activate(
    status: BenefitStatus,
    current_assignee: Option<&str>,
    assignee: &str,
    reassignable: bool,
    (reassignments, max_reassignments): (u32, u32),
) -> Result<Activation, ActivationRefused> {
    match (status, current_assignee) {
        (BenefitStatus::Ended, _) => Err(ActivationRefused::Ended),
        (_, None) => Ok(Activation::Activated),
        (_, Some(current)) if current == assignee => Ok(Activation::Unchanged),
        _ if !reassignable => Err(ActivationRefused::NotReassignable),
        _ if reassignments >= max_reassignments => Err(ActivationRefused::ReassignmentLimit),
        _ => Ok(Activation::Reassigned(reassignments + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(days: i64, seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::days(days)
            + Duration::seconds(seconds)
    }

    #[test]
    fn a_wire_order_is_payable_through_its_30th_day_and_expired_after() {
        let deadline = wire_deadline(at(0, 0), 30);
        let status = |now| order_status(OrderStanding::AwaitingPayment, Some(deadline), now);
        assert_eq!(status(at(30, 0)), OrderStatus::AwaitingPayment);
        assert_eq!(status(at(30, 1)), OrderStatus::Expired);
        assert_eq!(
            order_status(OrderStanding::Paid, Some(deadline), at(90, 0)),
            OrderStatus::Paid
        );
    }

    #[test]
    fn only_an_unpaid_order_is_cancelled_and_only_by_its_deadline_paid() {
        assert_eq!(
            cancel(OrderStatus::AwaitingPayment),
            Ok(Some(OrderStanding::Cancelled))
        );
        assert_eq!(cancel(OrderStatus::Cancelled), Ok(None));
        assert_eq!(cancel(OrderStatus::Expired), Err(OrderRefused::Expired));
        assert_eq!(
            cancel(OrderStatus::Paid),
            Err(OrderRefused::Closed(OrderStatus::Paid))
        );
        let deadline = wire_deadline(at(0, 0), 30);
        let wire = PaymentMethod::WireTransfer;
        let unpaid = OrderStanding::AwaitingPayment;
        assert_eq!(
            receive_wire(unpaid, wire, Some(deadline), at(30, 0)),
            Ok(OrderStanding::Paid)
        );
        assert_eq!(
            receive_wire(unpaid, wire, Some(deadline), at(30, 1)),
            Err(OrderRefused::Expired)
        );
        assert_eq!(
            receive_wire(OrderStanding::Paid, wire, Some(deadline), at(1, 0)),
            Err(OrderRefused::Closed(OrderStatus::Paid))
        );
        assert_eq!(
            receive_wire(unpaid, PaymentMethod::CreditCard, None, at(1, 0)),
            Err(OrderRefused::NotWire)
        );
    }

    #[test]
    fn tax_rounds_half_up_and_overflow_is_reported() {
        let amounts = price_with_tax(47_500, 1_900).expect("fits");
        assert_eq!((amounts.tax_minor, amounts.total_minor), (9_025, 56_525));
        assert_eq!(price_with_tax(5, 1_000).map(|a| a.tax_minor), Ok(1));
        assert_eq!(price_with_tax(4, 1_000).map(|a| a.tax_minor), Ok(0));
        assert_eq!(price_with_tax(i64::MAX, 1_900), Err(Overflow));
        assert_eq!(price_with_tax(-1, 0), Err(Overflow));
    }

    #[test]
    fn amounts_print_with_the_currency_minor_unit() {
        assert_eq!(format_amount(56_525, "USD"), "USD 565.25");
        assert_eq!(format_amount(-500, "EUR"), "EUR -5.00");
        assert_eq!(format_amount(1_200, "JPY"), "JPY 1200");
        assert_eq!(format_amount(i64::MIN, "USD"), "USD -92233720368547758.08");
    }

    fn facts(now: DateTime<Utc>) -> RefundFacts {
        RefundFacts {
            status: OrderStatus::Paid,
            paid_at: Some(at(0, 0)),
            total_minor: 56_525,
            refunded_minor: 0,
            benefits_activated: 0,
            keys_revealed: 0,
            window_days: 30,
            now,
        }
    }

    #[test]
    fn refunds_are_granted_through_the_30th_day_only() {
        assert!(refund_decision(&facts(at(30, 0))).eligible);
        let late = refund_decision(&facts(at(30, 1)));
        assert!(!late.eligible);
        let failed: Vec<_> = late.failed().map(|c| c.code).collect();
        assert_eq!(failed, [RefundCheckCode::RefundWindow]);
    }

    #[test]
    fn one_activation_or_one_revealed_key_blocks_the_refund() {
        let activated = RefundFacts {
            benefits_activated: 1,
            ..facts(at(1, 0))
        };
        assert!(!refund_decision(&activated).eligible);
        let revealed = RefundFacts {
            keys_revealed: 1,
            ..facts(at(1, 0))
        };
        assert!(!refund_decision(&revealed).eligible);
        let refunded = RefundFacts {
            status: OrderStatus::Refunded,
            refunded_minor: 56_525,
            ..facts(at(1, 0))
        };
        let decision = refund_decision(&refunded);
        assert!(!decision.eligible);
        assert_eq!(decision.refundable_minor, 0);
    }

    #[test]
    fn a_credit_moves_five_times_and_no_more() {
        let available = BenefitStatus::Available;
        let active = BenefitStatus::Activated;
        assert_eq!(
            activate(available, None, "a", true, (0, 5)),
            Ok(Activation::Activated)
        );
        assert_eq!(
            activate(active, Some("a"), "a", true, (5, 5)),
            Ok(Activation::Unchanged)
        );
        assert_eq!(
            activate(active, Some("a"), "b", true, (4, 5)),
            Ok(Activation::Reassigned(5))
        );
        assert_eq!(
            activate(active, Some("b"), "c", true, (5, 5)),
            Err(ActivationRefused::ReassignmentLimit)
        );
        assert_eq!(
            activate(active, Some("a"), "b", false, (0, 5)),
            Err(ActivationRefused::NotReassignable)
        );
        assert_eq!(
            activate(BenefitStatus::Ended, None, "a", true, (0, 5)),
            Err(ActivationRefused::Ended)
        );
    }
}
