//! Property tests of the scoring and time-window arithmetic.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::catalog::{CustomerSuccessRule, PerformanceRule, Rules, Scoring, SkillingRule};
use domain::membership::{Status, Term};
use domain::scoring::{CustomerRevenue, Deployment, Evidence, HeldCredential, UsageGrowth, score};
use domain::skilling::{counts_from, may_associate};
use proptest::prelude::*;

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
}

fn at(seconds: i64) -> DateTime<Utc> {
    epoch() + Duration::seconds(seconds)
}

const YEAR: i64 = 365 * 86_400;

fn rule(max: (u32, u32, u32), threshold: u32) -> Scoring {
    Scoring {
        area: "security".into(),
        qualifying_total: threshold,
        window_days: 180,
        performance: PerformanceRule {
            max: max.0,
            points_per_customer_add: 10,
            min_monthly_revenue_minor: 100_000,
        },
        skilling: SkillingRule {
            max: max.1,
            points_per_holder: 4,
            credentials: vec!["a".into(), "b".into()],
        },
        customer_success: CustomerSuccessRule {
            max: max.2,
            points_per_growth_percent: 1,
            usage_growth_max: 20,
            points_per_deployment: 2,
            deployments_max: 10,
        },
    }
}

fn evidence() -> impl Strategy<Value = Evidence> {
    let customer = 0u8..6;
    let when = -400 * 86_400i64..400 * 86_400;
    (
        prop::collection::vec((customer.clone(), 0i64..300_000, when.clone()), 0..12),
        prop::collection::vec((customer.clone(), 0u32..u32::MAX, when.clone()), 0..12),
        prop::collection::vec((customer, 0u8..8, when.clone()), 0..12),
        prop::collection::vec((0u8..20, prop::bool::ANY, when), 0..30),
    )
        .prop_map(|(revenue, growth, deployments, credentials)| Evidence {
            revenue: revenue
                .into_iter()
                .map(|(c, amount, t)| CustomerRevenue {
                    customer: format!("c{c}"),
                    monthly_revenue_minor: amount,
                    occurred_at: at(t),
                })
                .collect(),
            usage_growth: growth
                .into_iter()
                .map(|(c, percent, t)| UsageGrowth {
                    customer: format!("c{c}"),
                    percent,
                    occurred_at: at(t),
                })
                .collect(),
            deployments: deployments
                .into_iter()
                .map(|(c, w, t)| Deployment {
                    customer: format!("c{c}"),
                    workload: format!("w{w}"),
                    occurred_at: at(t),
                })
                .collect(),
            credentials: credentials
                .into_iter()
                .map(|(h, first, t)| HeldCredential {
                    holder: format!("learn{h}"),
                    credential: if first { "a" } else { "b" }.into(),
                    counts_from: at(t),
                })
                .collect(),
        })
}

proptest! {
    #[test]
    fn metrics_stay_within_their_maxima_and_qualification_follows_the_rule(
        e in evidence(), now in -400 * 86_400i64..400 * 86_400,
        max in (0u32..60, 0u32..60, 0u32..60), threshold in 1u32..100,
    ) {
        let rule = rule(max, threshold);
        let s = score(&rule, &e, at(now));
        prop_assert!(s.performance.points <= rule.performance.max);
        prop_assert!(s.skilling.points <= rule.skilling.max);
        prop_assert!(s.customer_success.points <= rule.customer_success.max);
        prop_assert_eq!(s.total, s.performance.points + s.skilling.points + s.customer_success.points);
        let expected = s.total >= threshold
            && s.performance.points > 0 && s.skilling.points > 0 && s.customer_success.points > 0;
        prop_assert_eq!(s.qualified, expected);
    }

    #[test]
    fn skilling_points_never_fall_as_time_passes(
        e in evidence(), now in -400 * 86_400i64..400 * 86_400, later in 0i64..YEAR,
    ) {
        let rule = rule((30, 40, 30), 70);
        let before = score(&rule, &e, at(now)).skilling.points;
        let after = score(&rule, &e, at(now + later)).skilling.points;
        prop_assert!(after >= before);
    }

    #[test]
    fn a_completion_counts_exactly_the_lag_after_the_later_date(
        linked in -YEAR..YEAR, completed in -YEAR..YEAR, lag in 0u32..60,
    ) {
        let from = counts_from(at(linked), at(completed), lag);
        prop_assert_eq!(from - at(linked.max(completed)), Duration::days(i64::from(lag)));
    }

    #[test]
    fn membership_status_moves_forward_only_and_the_window_lasts_its_length(
        activated in -YEAR..YEAR, term in 1u32..800, window in 1u32..90, renewable in prop::bool::ANY,
        a in 0i64..3 * YEAR, b in 0i64..3 * YEAR,
    ) {
        let term = Term::new(at(activated), Some(term), renewable);
        let (early, late) = (at(activated + a.min(b)), at(activated + a.max(b)));
        let rank = |s: Status| match s { Status::Active => 0, Status::RenewalDue => 1, _ => 2 };
        prop_assert!(rank(term.status(window, early)) <= rank(term.status(window, late)));
        if let Some(w) = term.renewal_window(window) {
            prop_assert_eq!(w.ends_at - w.starts_at, Duration::days(i64::from(window)));
            prop_assert_eq!(term.status(window, w.starts_at - Duration::seconds(1)), Status::Active);
            prop_assert_eq!(term.status(window, w.starts_at), Status::RenewalDue);
            prop_assert_eq!(term.status(window, w.ends_at - Duration::seconds(1)), Status::RenewalDue);
            prop_assert_eq!(term.status(window, w.ends_at), Status::Expired);
        }
    }

    #[test]
    fn associations_never_exceed_the_limit_in_any_period(
        attempts in prop::collection::vec(0i64..3 * YEAR, 1..40),
    ) {
        let rules = Rules {
            skilling_lag_days: 10,
            renewal_window_days: 30,
            max_associations: 3,
            association_period_days: 365,
            association_cooling_off_days: 30,
            wire_payment_days: 30,
            refund_window_days: 30,
            max_credit_reassignments: 5,
            tax_rates_bps: Default::default(),
        };
        let mut sorted = attempts;
        sorted.sort();
        let mut accepted: Vec<DateTime<Utc>> = Vec::new();
        for t in sorted {
            let now = at(t);
            match may_associate(&accepted, &rules, now) {
                Ok(()) => accepted.push(now),
                Err(refused) => prop_assert!(refused.allowed_from() > now),
            }
        }
        for (i, first) in accepted.iter().enumerate() {
            let within = accepted[i..].iter().filter(|t| **t < *first + Duration::days(365)).count();
            prop_assert!(within <= 3);
        }
        for pair in accepted.windows(2) {
            prop_assert!(pair[1] - pair[0] >= Duration::days(30));
        }
    }
}
