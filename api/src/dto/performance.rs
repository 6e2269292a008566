//! PAL/DPOR links, performance records and capability scores.

use chrono::{DateTime, Utc};
use domain::scoring::{LinkKind, Metric as ScoredMetric, Score};
use persistence::repos::performance::{
    Measure, PartnerLink as LinkRecord, PerformanceRecord as Record,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::program::Money;

/// `pal`: Partner Admin Link, set on the customer's tenant; `dpor`: Digital Partner of
/// Record, set by the customer on a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerLinkKind {
    Pal,
    Dpor,
}

impl From<PartnerLinkKind> for LinkKind {
    fn from(kind: PartnerLinkKind) -> Self {
        match kind {
            PartnerLinkKind::Pal => LinkKind::Pal,
            PartnerLinkKind::Dpor => LinkKind::Dpor,
        }
    }
}

impl From<LinkKind> for PartnerLinkKind {
    fn from(kind: LinkKind) -> Self {
        match kind {
            LinkKind::Pal => PartnerLinkKind::Pal,
            LinkKind::Dpor => PartnerLinkKind::Dpor,
        }
    }
}

/// Links the account's PartnerID to a customer tenant.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePartnerLinkRequest {
    pub kind: PartnerLinkKind,
    pub customer_tenant_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerLink {
    pub id: Uuid,
    pub kind: PartnerLinkKind,
    pub customer_tenant_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<&LinkRecord> for PartnerLink {
    fn from(link: &LinkRecord) -> Self {
        PartnerLink {
            id: link.id.as_uuid(),
            kind: link.kind.into(),
            customer_tenant_id: link.customer_tenant_id.clone(),
            created_at: link.created_at,
        }
    }
}

/// One page of partner links.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerLinkList {
    pub items: Vec<PartnerLink>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// What a performance record measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceKind {
    /// The customer's monthly revenue (`monthly_revenue`): a net customer add when it reaches
    /// the area's threshold.
    Revenue,
    /// The customer's usage growth in whole percent (`growth_percent`).
    UsageGrowth,
    /// A workload deployed for the customer (`workload`).
    Deployment,
}

/// A record the platform reports about a customer of the account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRecordInput {
    /// The Solutions Partner area, e.g. `security`.
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, example = "data_ai_azure", max_length = 64)]
    pub area: String,
    pub customer_tenant_id: Uuid,
    pub kind: PerformanceKind,
    /// For `revenue`.
    pub monthly_revenue: Option<Money>,
    /// For `usage_growth`: 0 to 1000.
    #[validate(range(max = 1000, code = "out_of_range", message = "0 to 1000"))]
    #[schema(minimum = 0, maximum = 1000)]
    pub growth_percent: Option<u32>,
    /// For `deployment`.
    #[validate(length(
        min = 1,
        max = 128,
        code = "invalid_length",
        message = "1 to 128 characters"
    ))]
    #[schema(min_length = 1, max_length = 128)]
    pub workload: Option<String>,
    /// When it happened; not after the account's now.
    pub occurred_at: DateTime<Utc>,
}

/// The operator's feed names the account by PartnerID.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorPerformanceRecordInput {
    #[validate(length(
        min = 1,
        max = 16,
        code = "invalid_length",
        message = "1 to 16 characters"
    ))]
    #[schema(min_length = 1, example = "4471023", max_length = 16)]
    pub partner_id: String,
    #[validate(nested)]
    pub record: PerformanceRecordInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub area: String,
    pub customer_tenant_id: String,
    pub kind: PerformanceKind,
    pub monthly_revenue: Option<Money>,
    pub growth_percent: Option<u32>,
    pub workload: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Whether a PAL or DPOR link to the customer exists now (only linked customers count).
    pub customer_linked: bool,
}

impl PerformanceRecord {
    pub fn new(record: &Record, account_id: Uuid, customer_linked: bool) -> Self {
        let (kind, monthly_revenue, growth_percent, workload) = match &record.measure {
            Measure::Revenue {
                amount_minor,
                currency,
            } => (
                PerformanceKind::Revenue,
                Some(Money {
                    amount_minor: *amount_minor,
                    currency: currency.clone(),
                }),
                None,
                None,
            ),
            Measure::UsageGrowth { percent } => {
                (PerformanceKind::UsageGrowth, None, Some(*percent), None)
            }
            Measure::Deployment { workload } => (
                PerformanceKind::Deployment,
                None,
                None,
                Some(workload.clone()),
            ),
        };
        PerformanceRecord {
            id: record.id.as_uuid(),
            account_id,
            area: record.area.clone(),
            customer_tenant_id: record.customer_tenant_id.clone(),
            kind,
            monthly_revenue,
            growth_percent,
            workload,
            occurred_at: record.occurred_at,
            received_at: record.received_at,
            customer_linked,
        }
    }
}

/// Points of one metric.
#[derive(Debug, Serialize, ToSchema)]
pub struct Metric {
    pub points: u32,
    pub max: u32,
}

impl From<ScoredMetric> for Metric {
    fn from(metric: ScoredMetric) -> Self {
        Metric {
            points: metric.points,
            max: metric.max,
        }
    }
}

/// The capability score of one Solutions Partner area.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaScore {
    #[schema(example = "security")]
    pub area: String,
    /// The designation this score qualifies for.
    #[schema(example = "solutions_partner_security")]
    pub program_id: String,
    pub performance: Metric,
    pub skilling: Metric,
    pub customer_success: Metric,
    pub total: u32,
    pub qualifying_total: u32,
    /// `total >= qualifying_total` and every metric above zero.
    pub qualified: bool,
    /// If not qualified: when pending skilling credit alone makes it qualify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualifies_from: Option<DateTime<Utc>>,
    /// Linked customers counted as net customer adds.
    pub customer_adds: u32,
    /// People holding a counted credential of the area.
    pub certified_people: u32,
    /// The instant the score was computed at (the account's clock).
    pub as_of: DateTime<Utc>,
}

impl AreaScore {
    pub fn new(
        program_id: &str,
        area: &str,
        qualifying_total: u32,
        score: &Score,
        qualifies_from: Option<DateTime<Utc>>,
    ) -> Self {
        AreaScore {
            area: area.to_owned(),
            program_id: program_id.to_owned(),
            performance: score.performance.into(),
            skilling: score.skilling.into(),
            customer_success: score.customer_success.into(),
            total: score.total,
            qualifying_total,
            qualified: score.qualified,
            qualifies_from,
            customer_adds: score.customer_adds,
            certified_people: score.certified_people,
            as_of: score.as_of,
        }
    }
}

/// Capability scores of every area.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreList {
    pub items: Vec<AreaScore>,
}
