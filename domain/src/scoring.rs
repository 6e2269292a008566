//! The Solutions Partner capability score (DESIGN §5): three metrics per area, each capped,
//! qualified when the total reaches the area's threshold **and** every metric is above zero.
//! Point rules come from the catalog ([`Scoring`]); the evidence is only what counts (the
//! caller passes records of linked customers and credits of linked profiles).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Scoring;

/// How a customer is linked to the partner: only linked customers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Partner Admin Link, set on the customer's tenant.
    Pal,
    /// Digital Partner of Record, set by the customer on a subscription.
    Dpor,
}

impl LinkKind {
    pub const fn id(self) -> &'static str {
        match self {
            LinkKind::Pal => "pal",
            LinkKind::Dpor => "dpor",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [Self::Pal, Self::Dpor]
            .into_iter()
            .find(|kind| kind.id() == id)
    }
}

/// A customer's monthly revenue attributed to the partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRevenue {
    pub customer: String,
    pub monthly_revenue_minor: i64,
    pub occurred_at: DateTime<Utc>,
}

/// A customer's usage growth, in whole percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageGrowth {
    pub customer: String,
    pub percent: u32,
    pub occurred_at: DateTime<Utc>,
}

/// A workload deployed for a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub customer: String,
    pub workload: String,
    pub occurred_at: DateTime<Utc>,
}

/// A credential held by a person (their Learn profile), counting from `counts_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCredential {
    pub holder: String,
    pub credential: String,
    pub counts_from: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub revenue: Vec<CustomerRevenue>,
    pub usage_growth: Vec<UsageGrowth>,
    pub deployments: Vec<Deployment>,
    pub credentials: Vec<HeldCredential>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub points: u32,
    pub max: u32,
}

impl Metric {
    fn capped(points: u64, max: u32) -> Self {
        Self {
            points: u32::try_from(points.min(u64::from(max))).unwrap_or(max),
            max,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub performance: Metric,
    pub skilling: Metric,
    pub customer_success: Metric,
    pub total: u32,
    pub qualified: bool,
    /// What the score counts: customer adds, certified people, deployments and growth points.
    pub customer_adds: u32,
    pub certified_people: u32,
    pub as_of: DateTime<Utc>,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The score at `now`.
pub fn score(rule: &Scoring, evidence: &Evidence, now: DateTime<Utc>) -> Score {
    score_prepared(rule, &Prepared::new(rule, evidence), now)
}

/// The evidence with its credentials reduced to what the skilling metric counts: for each
/// holder of one of the rule's credentials, the first moment one of them counts. A holder counts
/// at `now` exactly when that moment is not after `now`, so the metric is a binary search, not
/// a pass over every credential (an account can hold a million credits, and
/// [`qualifies_from`] evaluates the score at every moment a pending one lands).
struct Prepared<'a> {
    evidence: &'a Evidence,
    /// Ascending.
    holders_counting_from: Vec<DateTime<Utc>>,
}

impl<'a> Prepared<'a> {
    fn new(rule: &Scoring, evidence: &'a Evidence) -> Self {
        let mut first: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
        for credential in evidence
            .credentials
            .iter()
            .filter(|c| rule.skilling.credentials.contains(&c.credential))
        {
            first
                .entry(credential.holder.as_str())
                .and_modify(|at| *at = (*at).min(credential.counts_from))
                .or_insert(credential.counts_from);
        }
        let mut holders_counting_from: Vec<DateTime<Utc>> = first.into_values().collect();
        holders_counting_from.sort_unstable();
        Self {
            evidence,
            holders_counting_from,
        }
    }

    fn holders_at(&self, now: DateTime<Utc>) -> usize {
        self.holders_counting_from.partition_point(|at| *at <= now)
    }
}

fn score_prepared(rule: &Scoring, prepared: &Prepared<'_>, now: DateTime<Utc>) -> Score {
    let evidence = prepared.evidence;
    let window = Duration::days(i64::from(rule.window_days));
    let in_window = |at: DateTime<Utc>| at <= now && at + window > now;

    let customer_adds: BTreeSet<&str> = evidence
        .revenue
        .iter()
        .filter(|r| in_window(r.occurred_at))
        .filter(|r| r.monthly_revenue_minor >= rule.performance.min_monthly_revenue_minor)
        .map(|r| r.customer.as_str())
        .collect();
    let performance = Metric::capped(
        count(customer_adds.len())
            .saturating_mul(u64::from(rule.performance.points_per_customer_add)),
        rule.performance.max,
    );

    let holders = prepared.holders_at(now);
    let skilling = Metric::capped(
        count(holders).saturating_mul(u64::from(rule.skilling.points_per_holder)),
        rule.skilling.max,
    );

    let mut best_growth: BTreeMap<&str, u32> = BTreeMap::new();
    for growth in evidence
        .usage_growth
        .iter()
        .filter(|g| in_window(g.occurred_at))
    {
        let best = best_growth.entry(growth.customer.as_str()).or_default();
        *best = (*best).max(growth.percent);
    }
    let growth_points = best_growth
        .values()
        .map(|percent| u64::from(*percent))
        .fold(0u64, u64::saturating_add)
        .saturating_mul(u64::from(rule.customer_success.points_per_growth_percent))
        .min(u64::from(rule.customer_success.usage_growth_max));
    let deployments: BTreeSet<(&str, &str)> = evidence
        .deployments
        .iter()
        .filter(|d| in_window(d.occurred_at))
        .map(|d| (d.customer.as_str(), d.workload.as_str()))
        .collect();
    let deployment_points = count(deployments.len())
        .saturating_mul(u64::from(rule.customer_success.points_per_deployment))
        .min(u64::from(rule.customer_success.deployments_max));
    let customer_success = Metric::capped(
        growth_points.saturating_add(deployment_points),
        rule.customer_success.max,
    );

    let total = performance.points + skilling.points + customer_success.points;
    Score {
        performance,
        skilling,
        customer_success,
        total,
        qualified: is_qualified(rule, performance, skilling, customer_success),
        customer_adds: u32::try_from(customer_adds.len()).unwrap_or(u32::MAX),
        certified_people: u32::try_from(holders).unwrap_or(u32::MAX),
        as_of: now,
    }
}

/// Total at or above the threshold and every metric above zero.
pub fn is_qualified(
    rule: &Scoring,
    performance: Metric,
    skilling: Metric,
    success: Metric,
) -> bool {
    let total = performance.points + skilling.points + success.points;
    total >= rule.qualifying_total
        && performance.points > 0
        && skilling.points > 0
        && success.points > 0
}

/// When the score qualifies by time alone, with the evidence known today: the first instant
/// after `now` at which pending credentials (or records dated ahead) bring it to qualified.
/// `None` when it already qualifies or time alone will not do it.
pub fn qualifies_from(
    rule: &Scoring,
    evidence: &Evidence,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let prepared = Prepared::new(rule, evidence);
    if score_prepared(rule, &prepared, now).qualified {
        return None;
    }
    // The score rises only when a holder starts counting or a record's moment arrives (a
    // record leaving the window only lowers it), so those are the moments to try.
    let later: BTreeSet<DateTime<Utc>> = prepared
        .holders_counting_from
        .iter()
        .copied()
        .chain(evidence.revenue.iter().map(|r| r.occurred_at))
        .chain(evidence.usage_growth.iter().map(|g| g.occurred_at))
        .chain(evidence.deployments.iter().map(|d| d.occurred_at))
        .filter(|t| *t > now)
        .collect();
    later
        .into_iter()
        .find(|t| score_prepared(rule, &prepared, *t).qualified)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::{CustomerSuccessRule, PerformanceRule, SkillingRule};
    use chrono::TimeZone;

    pub(crate) fn rule() -> Scoring {
        Scoring {
            area: "data_ai_azure".into(),
            qualifying_total: 70,
            window_days: 180,
            performance: PerformanceRule {
                max: 30,
                points_per_customer_add: 10,
                min_monthly_revenue_minor: 100_000,
            },
            skilling: SkillingRule {
                max: 40,
                points_per_holder: 4,
                credentials: vec!["azure_data_scientist_associate".into()],
            },
            customer_success: CustomerSuccessRule {
                max: 30,
                points_per_growth_percent: 1,
                usage_growth_max: 20,
                points_per_deployment: 2,
                deployments_max: 10,
            },
        }
    }

    pub(crate) fn day(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::days(days)
    }

    fn evidence(customers: usize, holders: usize, growth: u32) -> Evidence {
        Evidence {
            revenue: (0..customers)
                .map(|i| CustomerRevenue {
                    customer: format!("c{i}"),
                    monthly_revenue_minor: 100_000,
                    occurred_at: day(0),
                })
                .collect(),
            usage_growth: (growth > 0)
                .then(|| UsageGrowth {
                    customer: "c0".into(),
                    percent: growth,
                    occurred_at: day(0),
                })
                .into_iter()
                .collect(),
            deployments: Vec::new(),
            credentials: (0..holders)
                .map(|i| HeldCredential {
                    holder: format!("learn{i}"),
                    credential: "azure_data_scientist_associate".into(),
                    counts_from: day(0),
                })
                .collect(),
        }
    }

    #[test]
    fn sixty_nine_points_do_not_qualify_and_seventy_do() {
        let s = score(&rule(), &evidence(3, 9, 3), day(1));
        assert_eq!((s.total, s.qualified), (69, false));
        let s = score(&rule(), &evidence(3, 9, 4), day(1));
        assert_eq!((s.total, s.qualified), (70, true));
    }

    #[test]
    fn a_metric_at_zero_does_not_qualify_whatever_the_total() {
        let s = score(&rule(), &evidence(3, 10, 0), day(1));
        assert_eq!(
            (s.total, s.customer_success.points, s.qualified),
            (70, 0, false)
        );
    }

    #[test]
    fn revenue_below_the_threshold_and_old_records_do_not_count() {
        let mut e = evidence(1, 0, 0);
        e.revenue[0].monthly_revenue_minor = 99_999;
        assert_eq!(score(&rule(), &e, day(1)).performance.points, 0);
        let e = evidence(1, 0, 0);
        assert_eq!(score(&rule(), &e, day(179)).performance.points, 10);
        assert_eq!(score(&rule(), &e, day(180)).performance.points, 0);
    }

    #[test]
    fn pending_credentials_tell_when_the_area_qualifies() {
        let mut e = evidence(3, 10, 5);
        for credential in &mut e.credentials {
            credential.counts_from = day(10);
        }
        assert!(!score(&rule(), &e, day(9)).qualified);
        assert_eq!(qualifies_from(&rule(), &e, day(9)), Some(day(10)));
        assert_eq!(qualifies_from(&rule(), &e, day(10)), None);
    }

    #[test]
    fn a_holder_counts_once_from_their_first_credential_of_the_rule() {
        // Ten holders of a credential landing on day 10; one of them also holds it from day 5,
        // and everyone holds another credential, one the rule does not name, from day 1.
        let mut e = evidence(3, 10, 5);
        for credential in &mut e.credentials {
            credential.counts_from = day(10);
        }
        e.credentials.push(HeldCredential {
            holder: "learn0".into(),
            credential: "azure_data_scientist_associate".into(),
            counts_from: day(5),
        });
        for i in 0..10 {
            e.credentials.push(HeldCredential {
                holder: format!("learn{i}"),
                credential: "some_other_credential".into(),
                counts_from: day(1),
            });
        }
        let at = |d| score(&rule(), &e, day(d));
        assert_eq!((at(4).certified_people, at(4).skilling.points), (0, 0));
        assert_eq!((at(5).certified_people, at(5).skilling.points), (1, 4));
        assert_eq!((at(10).certified_people, at(10).skilling.points), (10, 40));
        assert_eq!(qualifies_from(&rule(), &e, day(6)), Some(day(10)));
    }
}
