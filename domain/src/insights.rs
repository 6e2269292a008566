//! The Insights workspace's membership view: how the capability scores moved, and how the
//! benefits are used. Everything is computed from the state known now, at chosen instants, by
//! the same rules that answer the live questions (a score's history is the score function
//! evaluated at each month's end), so no history is stored.

use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};

use crate::catalog::{BenefitKind, Scoring};
use crate::commerce::BenefitStatus;
use crate::scoring::{self, Evidence, Score};

/// When a point of a history was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The last instant (microsecond) of a calendar month, UTC.
    MonthEnd { year: i32, month: u32 },
    /// The account's now.
    Now,
}

impl Period {
    /// `2026-01` for a month's end, `now` for now.
    pub fn label(self) -> String {
        match self {
            Period::MonthEnd { year, month } => format!("{year:04}-{month:02}"),
            Period::Now => "now".to_owned(),
        }
    }
}

/// The last microsecond of each of the `count` calendar months that ended before `now`
/// (UTC), oldest first. Instants are stored to the microsecond, so evidence dated within a
/// month is counted at its end and evidence dated from the next month's first instant is not.
pub fn month_ends(now: DateTime<Utc>, count: u32) -> Vec<(Period, DateTime<Utc>)> {
    let Some(this_month) = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
    else {
        return Vec::new();
    };
    (1..=count)
        .rev()
        .filter_map(|back| {
            let next_month = this_month.checked_sub_months(Months::new(back - 1))?;
            let end = next_month - Duration::microseconds(1);
            Some((
                Period::MonthEnd {
                    year: end.year(),
                    month: end.month(),
                },
                end,
            ))
        })
        .collect()
}

/// An area's score at each of the last `months` month-ends and now, oldest first.
pub fn score_history(
    rule: &Scoring,
    evidence: &Evidence,
    now: DateTime<Utc>,
    months: u32,
) -> Vec<(Period, Score)> {
    month_ends(now, months)
        .into_iter()
        .chain([(Period::Now, now)])
        .map(|(period, at)| (period, scoring::score(rule, evidence, at)))
        .collect()
}

/// What usage counts of one benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenefitFacts {
    pub kind: BenefitKind,
    /// Its status now.
    pub status: BenefitStatus,
    pub key_revealed: bool,
    pub reassignments: u32,
}

/// The usage of one kind of benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenefitUsage {
    pub kind: BenefitKind,
    /// Every benefit of the kind ever granted: `available + activated + ended`.
    pub granted: u32,
    pub available: u32,
    pub activated: u32,
    pub ended: u32,
    pub keys_revealed: u32,
    /// Times Azure credits changed hands; `None` for kinds that cannot.
    pub reassignments_used: Option<u32>,
    /// The most the granted credits allow (each may change hands the catalog's maximum).
    pub reassignments_max: Option<u32>,
}

/// Every benefit kind, in the catalog's order.
pub const BENEFIT_KINDS: [BenefitKind; 7] = [
    BenefitKind::AzureCredit,
    BenefitKind::CloudServices,
    BenefitKind::Software,
    BenefitKind::DeveloperTools,
    BenefitKind::TechnicalConsultation,
    BenefitKind::Marketing,
    BenefitKind::LogoBuilder,
];

/// Whether benefits of the kind can change hands after activation (only Azure credits).
pub const fn is_reassignable(kind: BenefitKind) -> bool {
    match kind {
        BenefitKind::AzureCredit => true,
        BenefitKind::CloudServices
        | BenefitKind::Software
        | BenefitKind::DeveloperTools
        | BenefitKind::TechnicalConsultation
        | BenefitKind::Marketing
        | BenefitKind::LogoBuilder => false,
    }
}

/// Usage per kind, one entry for every kind (zeros where none was granted), in the catalog's
/// order; an Azure credit may change hands `max_reassignments` times.
pub fn benefit_usage(benefits: &[BenefitFacts], max_reassignments: u32) -> Vec<BenefitUsage> {
    BENEFIT_KINDS
        .iter()
        .map(|&kind| {
            let of_kind: Vec<&BenefitFacts> = benefits.iter().filter(|b| b.kind == kind).collect();
            let count = |keep: &dyn Fn(&BenefitFacts) -> bool| {
                u32::try_from(of_kind.iter().filter(|b| keep(b)).count()).unwrap_or(u32::MAX)
            };
            let granted = count(&|_| true);
            let reassignable = is_reassignable(kind);
            BenefitUsage {
                kind,
                granted,
                available: count(&|b| b.status == BenefitStatus::Available),
                activated: count(&|b| b.status == BenefitStatus::Activated),
                ended: count(&|b| b.status == BenefitStatus::Ended),
                keys_revealed: count(&|b| b.key_revealed),
                reassignments_used: reassignable.then(|| {
                    of_kind
                        .iter()
                        .fold(0u32, |sum, b| sum.saturating_add(b.reassignments))
                }),
                reassignments_max: reassignable.then(|| granted.saturating_mul(max_reassignments)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::CustomerRevenue;
    use crate::scoring::tests::rule;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn month_ends_are_the_last_microsecond_of_the_months_before_now() {
        let ends = month_ends(at("2026-03-15T10:00:00Z"), 13);
        assert_eq!(ends.len(), 13);
        assert_eq!(
            ends[0],
            (
                Period::MonthEnd {
                    year: 2025,
                    month: 2
                },
                at("2025-02-28T23:59:59.999999Z")
            )
        );
        assert_eq!(ends[10].1, at("2025-12-31T23:59:59.999999Z"));
        assert_eq!(ends[11].1, at("2026-01-31T23:59:59.999999Z"));
        assert_eq!(ends[12].1, at("2026-02-28T23:59:59.999999Z"));
        assert_eq!(ends[12].0.label(), "2026-02");
        // At the first instant of a month, the month before has just ended.
        let ends = month_ends(at("2024-03-01T00:00:00Z"), 1);
        assert_eq!(ends[0].1, at("2024-02-29T23:59:59.999999Z"));
    }

    #[test]
    fn history_counts_a_record_from_the_month_it_is_dated_in() {
        let revenue = |when: &str| CustomerRevenue {
            customer: "c1".into(),
            monthly_revenue_minor: 100_000,
            occurred_at: at(when),
        };
        let now = at("2026-03-15T10:00:00Z");
        let history = |when: &str| {
            let evidence = Evidence {
                revenue: vec![revenue(when)],
                ..Evidence::default()
            };
            score_history(&rule(), &evidence, now, 12)
                .iter()
                .map(|(period, score)| (period.label(), score.performance.points))
                .collect::<Vec<_>>()
        };
        // Dated on January's first instant: counted at January's end, not December's.
        let points = history("2026-01-01T00:00:00Z");
        assert_eq!(points.len(), 13);
        assert_eq!(points[9], ("2025-12".to_owned(), 0));
        assert_eq!(points[10], ("2026-01".to_owned(), 10));
        assert_eq!(points[12], ("now".to_owned(), 10));
        // Dated on December's last microsecond: counted at December's end.
        let points = history("2025-12-31T23:59:59.999999Z");
        assert_eq!(points[8], ("2025-11".to_owned(), 0));
        assert_eq!(points[9], ("2025-12".to_owned(), 10));
    }

    #[test]
    fn usage_is_reported_for_every_kind() {
        let facts = |kind, status, key_revealed, reassignments| BenefitFacts {
            kind,
            status,
            key_revealed,
            reassignments,
        };
        let usage = benefit_usage(
            &[
                facts(BenefitKind::AzureCredit, BenefitStatus::Activated, false, 2),
                facts(BenefitKind::AzureCredit, BenefitStatus::Ended, false, 5),
                facts(BenefitKind::Software, BenefitStatus::Available, true, 0),
            ],
            5,
        );
        assert_eq!(usage.len(), BENEFIT_KINDS.len());
        assert_eq!(
            usage[0],
            BenefitUsage {
                kind: BenefitKind::AzureCredit,
                granted: 2,
                available: 0,
                activated: 1,
                ended: 1,
                keys_revealed: 0,
                reassignments_used: Some(7),
                reassignments_max: Some(10),
            }
        );
        let software = usage
            .iter()
            .find(|u| u.kind == BenefitKind::Software)
            .expect("software");
        assert_eq!(
            (software.granted, software.available, software.keys_revealed),
            (1, 1, 1)
        );
        assert_eq!(software.reassignments_max, None);
        let marketing = usage
            .iter()
            .find(|u| u.kind == BenefitKind::Marketing)
            .expect("marketing");
        assert_eq!((marketing.granted, marketing.reassignments_used), (0, None));
    }
}
