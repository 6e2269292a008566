//! The Insights workspace's membership view, as JSON and as CSV rows.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::catalog::{Program, Scoring};
use domain::insights::{self, Period};
use domain::scoring::Score;
use persistence::repos::memberships::MembershipRecord;
use persistence::repos::skilling::CreditSummary;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::commerce::benefit_kind;
use crate::dto::membership::{Membership, MembershipStatus};
use crate::dto::program::BenefitKind;

/// An area's capability score at one instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorePoint {
    /// `YYYY-MM` for the end of that month (its last microsecond, UTC), `now` for the account's
    /// now.
    #[schema(example = "2026-01")]
    pub period: String,
    pub as_of: DateTime<Utc>,
    pub performance: u32,
    pub skilling: u32,
    pub customer_success: u32,
    pub total: u32,
    pub qualified: bool,
}

impl ScorePoint {
    fn new(period: Period, score: &Score) -> Self {
        ScorePoint {
            period: period.label(),
            as_of: score.as_of,
            performance: score.performance.points,
            skilling: score.skilling.points,
            customer_success: score.customer_success.points,
            total: score.total,
            qualified: score.qualified,
        }
    }
}

/// A Solutions Partner area's score at each of the last 12 month-ends and now.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaScoreHistory {
    #[schema(example = "solutions_partner_security")]
    pub program_id: String,
    pub program_name: String,
    #[schema(example = "security")]
    pub area: String,
    pub qualifying_total: u32,
    /// Oldest first; the last point is now.
    pub history: Vec<ScorePoint>,
}

impl AreaScoreHistory {
    pub fn new(program: &Program, scoring: &Scoring, history: &[(Period, Score)]) -> Self {
        AreaScoreHistory {
            program_id: program.id.clone(),
            program_name: program.name.clone(),
            area: scoring.area.clone(),
            qualifying_total: scoring.qualifying_total,
            history: history
                .iter()
                .map(|(period, score)| ScorePoint::new(*period, score))
                .collect(),
        }
    }
}

/// Skilling credits of the account at its now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillingSummary {
    /// Completions counting towards the scores.
    pub counted: u64,
    /// Completions within the 10-day skilling lag.
    pub pending: u64,
    /// When the next pending completion counts; `null` when none is pending.
    pub next_counts_from: Option<DateTime<Utc>>,
}

impl From<CreditSummary> for SkillingSummary {
    fn from(summary: CreditSummary) -> Self {
        SkillingSummary {
            counted: summary.counted,
            pending: summary.pending,
            next_counts_from: summary.next_counts_from,
        }
    }
}

/// A membership and its renewal dates.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipRenewal {
    pub membership_id: Uuid,
    pub program_id: String,
    pub program_name: String,
    pub status: MembershipStatus,
    pub activated_at: Option<DateTime<Utc>>,
    /// Activation + the program's term; `null` for a membership without term.
    pub anniversary_at: Option<DateTime<Utc>>,
    /// The first instant of `renewal_due` (the anniversary); `null` when it cannot be renewed.
    pub renewal_window_starts_at: Option<DateTime<Utc>>,
    /// The first instant of `expired` if not renewed.
    pub renewal_window_ends_at: Option<DateTime<Utc>>,
    /// The first instant the membership is expired; `null` if it never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub renewable: bool,
}

impl MembershipRenewal {
    pub fn new(
        record: &MembershipRecord,
        program_name: &str,
        window_days: u32,
        now: DateTime<Utc>,
    ) -> Self {
        let membership = Membership::new(record, window_days, now);
        MembershipRenewal {
            membership_id: membership.id,
            program_id: membership.program_id,
            program_name: program_name.to_owned(),
            status: membership.status,
            activated_at: membership.activated_at,
            anniversary_at: membership.anniversary_at,
            renewal_window_starts_at: membership.renewal_window.as_ref().map(|w| w.starts_at),
            renewal_window_ends_at: membership.renewal_window.as_ref().map(|w| w.ends_at),
            expires_at: membership.expires_at,
            renewable: membership.renewable,
        }
    }
}

/// How one kind of benefit is used.
#[derive(Debug, Serialize, ToSchema)]
pub struct BenefitUsage {
    pub kind: BenefitKind,
    /// Every benefit of this kind granted: `available + activated + ended`.
    pub granted: u32,
    pub available: u32,
    pub activated: u32,
    pub ended: u32,
    /// Software benefits whose product key was revealed.
    pub keys_revealed: u32,
    /// Azure credits: times they changed hands; `null` for kinds that cannot.
    pub reassignments_used: Option<u32>,
    /// Azure credits: the most they allow (5 per credit granted); `null` for other kinds.
    pub reassignments_max: Option<u32>,
}

impl From<&insights::BenefitUsage> for BenefitUsage {
    fn from(usage: &insights::BenefitUsage) -> Self {
        BenefitUsage {
            kind: benefit_kind(usage.kind),
            granted: usage.granted,
            available: usage.available,
            activated: usage.activated,
            ended: usage.ended,
            keys_revealed: usage.keys_revealed,
            reassignments_used: usage.reassignments_used,
            reassignments_max: usage.reassignments_max,
        }
    }
}

/// The account's membership insights at its now.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipInsights {
    /// The account's now (a sandbox's clock), read once for the whole view.
    pub as_of: DateTime<Utc>,
    /// Every Solutions Partner area.
    pub capability_scores: Vec<AreaScoreHistory>,
    pub skilling: SkillingSummary,
    /// Every membership of the account, oldest first.
    pub memberships: Vec<MembershipRenewal>,
    /// Every benefit kind, in the catalog's order.
    pub benefit_usage: Vec<BenefitUsage>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The file format: `csv` (the default, and the only one).
    #[param(example = "csv", pattern = "^csv$")]
    pub format: Option<String>,
}

/// The columns of the CSV export.
pub const CSV_COLUMNS: [&str; 7] = [
    "section",
    "subject",
    "subject_name",
    "period",
    "as_of",
    "metric",
    "value",
];

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn optional_instant(at: Option<DateTime<Utc>>) -> String {
    at.map(instant).unwrap_or_default()
}

/// The snake_case id a value serializes to (a status, a kind).
fn id_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl MembershipInsights {
    /// The same data as rows of [`CSV_COLUMNS`]: one fact per row.
    pub fn csv_rows(&self) -> Vec<[String; 7]> {
        let now = instant(self.as_of);
        let mut rows = Vec::new();
        let mut row = |section: &str,
                       subject: &str,
                       subject_name: &str,
                       period: &str,
                       as_of: &str,
                       metric: &str,
                       value: String| {
            rows.push([
                section.to_owned(),
                subject.to_owned(),
                subject_name.to_owned(),
                period.to_owned(),
                as_of.to_owned(),
                metric.to_owned(),
                value,
            ]);
        };
        for area in &self.capability_scores {
            for point in &area.history {
                let as_of = instant(point.as_of);
                for (metric, value) in [
                    ("performance", point.performance.to_string()),
                    ("skilling", point.skilling.to_string()),
                    ("customer_success", point.customer_success.to_string()),
                    ("total", point.total.to_string()),
                    ("qualified", point.qualified.to_string()),
                ] {
                    row(
                        "capability_score",
                        &area.program_id,
                        &area.program_name,
                        &point.period,
                        &as_of,
                        metric,
                        value,
                    );
                }
            }
        }
        for (metric, value) in [
            ("counted", self.skilling.counted.to_string()),
            ("pending", self.skilling.pending.to_string()),
            (
                "next_counts_from",
                optional_instant(self.skilling.next_counts_from),
            ),
        ] {
            row("skilling", "", "", "now", &now, metric, value);
        }
        for membership in &self.memberships {
            let id = membership.membership_id.to_string();
            for (metric, value) in [
                ("program_id", membership.program_id.clone()),
                ("status", id_of(&membership.status)),
                ("activated_at", optional_instant(membership.activated_at)),
                (
                    "anniversary_at",
                    optional_instant(membership.anniversary_at),
                ),
                (
                    "renewal_window_starts_at",
                    optional_instant(membership.renewal_window_starts_at),
                ),
                (
                    "renewal_window_ends_at",
                    optional_instant(membership.renewal_window_ends_at),
                ),
                ("expires_at", optional_instant(membership.expires_at)),
                ("renewable", membership.renewable.to_string()),
            ] {
                row(
                    "membership",
                    &id,
                    &membership.program_name,
                    "now",
                    &now,
                    metric,
                    value,
                );
            }
        }
        let optional = |value: Option<u32>| value.map(|n| n.to_string()).unwrap_or_default();
        for usage in &self.benefit_usage {
            let kind = id_of(&usage.kind);
            for (metric, value) in [
                ("granted", usage.granted.to_string()),
                ("available", usage.available.to_string()),
                ("activated", usage.activated.to_string()),
                ("ended", usage.ended.to_string()),
                ("keys_revealed", usage.keys_revealed.to_string()),
                ("reassignments_used", optional(usage.reassignments_used)),
                ("reassignments_max", optional(usage.reassignments_max)),
            ] {
                row("benefit_usage", &kind, "", "now", &now, metric, value);
            }
        }
        rows
    }
}
