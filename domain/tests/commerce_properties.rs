//! Property tests of money: integer minor units never overflow silently, and refunds never
//! exceed what was paid.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::commerce::{
    OrderStatus, Overflow, RefundFacts, format_amount, price_with_tax, refund_decision, refundable,
};
use proptest::prelude::*;

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
}

proptest! {
    #[test]
    fn tax_either_fits_exactly_or_reports_overflow(net in any::<i64>(), rate in 0u32..100_000) {
        match price_with_tax(net, rate) {
            Ok(amounts) => {
                // Exact in 128 bits: what was computed in 64 is the true value, never wrapped.
                let tax = (i128::from(net) * i128::from(rate) + 5_000) / 10_000;
                prop_assert_eq!(i128::from(amounts.tax_minor), tax);
                prop_assert_eq!(i128::from(amounts.total_minor), i128::from(net) + tax);
                prop_assert!(amounts.total_minor >= amounts.subtotal_minor);
                prop_assert!(amounts.tax_minor >= 0);
            }
            Err(Overflow) => {
                let total = i128::from(net) + (i128::from(net) * i128::from(rate) + 5_000) / 10_000;
                prop_assert!(net < 0 || total > i128::from(i64::MAX));
            }
        }
    }

    #[test]
    fn every_amount_prints(amount in any::<i64>(), currency in prop::sample::select(vec!["USD", "EUR", "JPY", "KWD"])) {
        let text = format_amount(amount, currency);
        prop_assert!(text.starts_with(currency));
    }

    #[test]
    fn a_refund_never_exceeds_what_was_paid(
        paid in any::<i64>(),
        already in any::<i64>(),
        days in 0i64..60,
        activated in 0u32..3,
        revealed in 0u32..3,
    ) {
        let left = refundable(paid, already);
        prop_assert!(left >= 0);
        prop_assert!(left <= paid.max(0));
        if (0..=paid).contains(&already) {
            // Whatever was refunded plus what is left is exactly what was paid.
            prop_assert_eq!(left, paid - already);
        }
        let decision = refund_decision(&RefundFacts {
            status: OrderStatus::Paid,
            paid_at: Some(epoch()),
            total_minor: paid,
            refunded_minor: already,
            benefits_activated: activated,
            keys_revealed: revealed,
            window_days: 30,
            now: epoch() + Duration::days(days),
        });
        prop_assert!(decision.refundable_minor <= paid.max(0));
        prop_assert_eq!(decision.eligible, (0..=30).contains(&days) && activated == 0 && revealed == 0);
    }

    #[test]
    fn successive_refunds_sum_to_at_most_the_payment(paid in 0i64..=i64::MAX, asks in prop::collection::vec(any::<i64>(), 0..10)) {
        let mut refunded: i64 = 0;
        for ask in asks {
            let granted = ask.clamp(0, refundable(paid, refunded));
            refunded += granted;
            prop_assert!(refunded <= paid);
        }
    }
}
