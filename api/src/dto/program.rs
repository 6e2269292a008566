//! The program catalog's shapes. They are the JSON shapes of `catalog/programs.json`
//! (`domain::catalog`), so a program converts through its JSON form; a test keeps the two in
//! step.

use chrono::{DateTime, Utc};
use persistence::repos::programs::StoredProgram;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// An amount of money in integer minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(example = 473000)]
    pub amount_minor: i64,
    /// ISO 4217 code.
    #[schema(example = "USD", min_length = 3, max_length = 3)]
    pub currency: String,
}

impl From<&domain::money::Money> for Money {
    fn from(money: &domain::money::Money) -> Self {
        Money {
            amount_minor: money.amount_minor,
            currency: money.currency.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Base,
    Services,
    Isv,
    Training,
    Surface,
}

/// `ga`: open to every account meeting the prerequisites; `preview`: allow-listed accounts only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Ga,
    Preview,
}

/// How an account joins: `automatic` (the base program, at account creation), `self_service`
/// (free, `POST /v1/memberships`), `purchase` (paid, through an order), `application`
/// (`POST /v1/program-applications`, approved by the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Enrollment {
    Automatic,
    SelfService,
    Purchase,
    Application,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    AzureCredit,
    CloudServices,
    Software,
    DeveloperTools,
    TechnicalConsultation,
    Marketing,
    LogoBuilder,
}

/// A benefit the membership grants.
// Named apart from the granted `Benefit` of /v1/benefits: under one name, the second schema
// overwrote the first in the document and the catalog's benefits failed their own schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = ProgramBenefit)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    #[schema(max_length = 64)]
    pub id: String,
    pub kind: BenefitKind,
    #[schema(max_length = 200)]
    pub name: String,
    pub quantity: u32,
}

/// A set of benefits chosen when joining (Action Pack: `maps`, or `laps` for training
/// partners), fixed until renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BenefitPack {
    #[schema(max_length = 64)]
    pub id: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// Programs the account must hold (active or renewal due) to choose this pack.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub requires_programs: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub benefits: Vec<Benefit>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prerequisites {
    /// Programs the account must hold (active or renewal due).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub programs: Vec<String>,
    /// The account must have published a transactable marketplace offer.
    #[serde(default)]
    pub published_transactable_offer: bool,
}

/// Performance points: per net customer add (a linked customer whose monthly revenue reached
/// `min_monthly_revenue_minor` within the window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRule {
    #[schema(example = 30)]
    pub max: u32,
    #[schema(example = 10)]
    pub points_per_customer_add: u32,
    #[schema(example = 100000)]
    pub min_monthly_revenue_minor: i64,
}

/// Skilling points: per person holding a counted credential of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillingRule {
    #[schema(example = 40)]
    pub max: u32,
    #[schema(example = 4)]
    pub points_per_holder: u32,
    #[schema(max_items = 50)]
    pub credentials: Vec<String>,
}

/// Customer-success points: usage growth (per percent of each linked customer's best growth in
/// the window, capped) plus deployments (per distinct customer workload, capped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerSuccessRule {
    #[schema(example = 30)]
    pub max: u32,
    pub points_per_growth_percent: u32,
    pub usage_growth_max: u32,
    pub points_per_deployment: u32,
    pub deployments_max: u32,
}

/// The capability-score rules of a Solutions Partner area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    #[schema(example = "data_ai_azure")]
    pub area: String,
    /// Qualified at this total or more, with every metric above zero.
    #[schema(example = 70)]
    pub qualifying_total: u32,
    /// Performance and customer-success records older than this many days do not count.
    #[schema(example = 180)]
    pub window_days: u32,
    pub performance: PerformanceRule,
    pub skilling: SkillingRule,
    pub customer_success: CustomerSuccessRule,
}

/// A program's definition: what an operator writes with `PUT /v1/operator/programs/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramDefinition {
    pub track: Track,
    #[schema(example = "Solutions Partner for Security", max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: String,
    /// `null`: free.
    pub fee: Option<Money>,
    /// The membership's term; `null`: no anniversary (the base program).
    #[schema(example = 365, minimum = 1, maximum = 3650)]
    pub term_days: Option<u32>,
    /// Whether a membership can be renewed in its renewal window.
    pub renewable: bool,
    pub availability: Availability,
    /// Joining is possible from this instant (inclusive); `null`: no start.
    pub sales_start: Option<DateTime<Utc>>,
    /// Joining is possible until this instant (exclusive); `null`: no end.
    pub sales_end: Option<DateTime<Utc>>,
    pub enrollment: Enrollment,
    /// Joining needs a verified account.
    pub requires_verification: bool,
    #[serde(default)]
    pub prerequisites: Prerequisites,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub benefits: Vec<Benefit>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub benefit_packs: Vec<BenefitPack>,
    /// Programs sharing a group are exclusive: one membership among them per account (the
    /// Action Pack rule).
    pub exclusive_group: Option<String>,
    /// Programs sharing a fee group share one yearly fee and one anniversary: a Solutions
    /// Partner designation added later shares the first one's anniversary and is not charged
    /// again.
    #[serde(default)]
    pub fee_group: Option<String>,
    /// The capability-score rules, for Solutions Partner designations.
    pub scoring: Option<Scoring>,
}

/// A program of the catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Program {
    #[schema(example = "solutions_partner_security")]
    pub id: String,
    #[serde(flatten)]
    pub definition: ProgramDefinition,
    /// Bumped by every edit; the ETag of the program.
    pub version: i64,
    /// `true` once an operator has edited the program (a newer catalog file no longer
    /// replaces it).
    pub edited: bool,
    pub updated_at: DateTime<Utc>,
}

impl ProgramDefinition {
    /// The domain program this definition describes, named `id`.
    pub fn into_program(self, id: &str) -> Result<domain::catalog::Program, ApiError> {
        let mut json = serde_json::to_value(&self).map_err(ApiError::internal)?;
        if let Some(object) = json.as_object_mut() {
            object.insert("id".into(), serde_json::Value::String(id.to_owned()));
        }
        serde_json::from_value(json).map_err(|e| {
            ApiError::new(
                ErrorCode::ValidationFailed,
                format!("The program definition is invalid: {e}."),
            )
        })
    }
}

impl TryFrom<&StoredProgram> for Program {
    type Error = ApiError;

    fn try_from(stored: &StoredProgram) -> Result<Self, ApiError> {
        let mut json = serde_json::to_value(&stored.program).map_err(ApiError::internal)?;
        if let Some(object) = json.as_object_mut() {
            object.remove("id");
        }
        Ok(Program {
            id: stored.program.id.clone(),
            definition: serde_json::from_value(json).map_err(ApiError::internal)?,
            version: stored.version,
            edited: stored.edited_by.is_some(),
            updated_at: stored.updated_at,
        })
    }
}

/// One page of programs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramList {
    pub items: Vec<Program>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgramQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only programs of this track.
    pub track: Option<Track>,
}

/// The price of a program.
#[derive(Debug, Serialize, ToSchema)]
pub struct Price {
    pub program_id: String,
    pub name: String,
    /// `null`: free.
    pub fee: Option<Money>,
    pub term_days: Option<u32>,
    pub renewable: bool,
    pub enrollment: Enrollment,
    pub availability: Availability,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

/// One page of prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceList {
    pub items: Vec<Price>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Replaces a preview program's allow-list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowListInput {
    /// The accounts allowed in; every id must name an account.
    #[schema(max_items = 1000)]
    pub account_ids: Vec<Uuid>,
}

/// An account on an allow-list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowListEntry {
    pub account_id: Uuid,
    pub added_at: DateTime<Utc>,
}

/// A preview program's allow-list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowList {
    pub program_id: String,
    pub items: Vec<AllowListEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_program_round_trips_through_its_http_shape() {
        let catalog = persistence::repos::programs::seeded().expect("the seeded catalog is valid");
        for program in catalog.programs {
            let stored = StoredProgram {
                program: program.clone(),
                catalog_version: 1,
                edited_by: None,
                version: 1,
                updated_at: chrono::Utc::now(),
            };
            let dto = Program::try_from(&stored).expect("converts");
            let back = dto
                .definition
                .into_program(&program.id)
                .expect("converts back");
            assert_eq!(back, program);
        }
    }
}
