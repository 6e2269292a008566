//! The program catalog (DESIGN §5): programs, their fees, terms, availability, sales windows,
//! prerequisites, benefits and scoring parameters are data, read through these types. The
//! seeded catalog is `catalog/programs.json`; operators edit programs through the API. Rules
//! take these values as parameters and never hard-code a number of the catalog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};
use crate::money::Money;

/// The program every account joins at enrollment.
pub const BASE_PROGRAM: &str = "ai_cloud_partner_program";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Base,
    Services,
    Isv,
    Training,
    Surface,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Anyone who meets the prerequisites.
    Ga,
    /// Only accounts on the program's allow-list.
    Preview,
}

/// How an account joins the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrollment {
    /// Joined when the account is created (the base program).
    Automatic,
    /// Free: `POST /v1/memberships`.
    SelfService,
    /// Paid: through an order.
    Purchase,
    /// An application the operator approves.
    Application,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    pub id: String,
    pub kind: BenefitKind,
    pub name: String,
    pub quantity: u32,
}

/// A choice of benefits made when joining (Action Pack: `maps` or `laps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitPack {
    pub id: String,
    pub name: String,
    /// Programs the account must be an active member of to choose this pack.
    #[serde(default)]
    pub requires_programs: Vec<String>,
    #[serde(default)]
    pub benefits: Vec<Benefit>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prerequisites {
    /// Programs the account must be an active member of.
    #[serde(default)]
    pub programs: Vec<String>,
    /// The account must have published a transactable marketplace offer.
    #[serde(default)]
    pub published_transactable_offer: bool,
}

/// Performance: points per net customer add (a linked customer whose monthly revenue reached
/// the threshold within the window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRule {
    pub max: u32,
    pub points_per_customer_add: u32,
    pub min_monthly_revenue_minor: i64,
}

/// Skilling: points per person holding a counted credential of the area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillingRule {
    pub max: u32,
    pub points_per_holder: u32,
    pub credentials: Vec<String>,
}

/// Customer success: usage growth (points per percent, per linked customer's best growth in
/// the window) and deployments (points per distinct customer workload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerSuccessRule {
    pub max: u32,
    pub points_per_growth_percent: u32,
    pub usage_growth_max: u32,
    pub points_per_deployment: u32,
    pub deployments_max: u32,
}

/// The capability score of a Solutions Partner area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub area: String,
    /// Qualified at this total or more, with every metric above zero.
    pub qualifying_total: u32,
    /// Performance and customer-success records older than this do not count.
    pub window_days: u32,
    pub performance: PerformanceRule,
    pub skilling: SkillingRule,
    pub customer_success: CustomerSuccessRule,
}

/// A program as the catalog defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    pub id: String,
    pub track: Track,
    pub name: String,
    pub description: String,
    /// `None`: free.
    pub fee: Option<Money>,
    /// `None`: the membership has no anniversary (the base program).
    pub term_days: Option<u32>,
    pub renewable: bool,
    pub availability: Availability,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    pub enrollment: Enrollment,
    pub requires_verification: bool,
    #[serde(default)]
    pub prerequisites: Prerequisites,
    #[serde(default)]
    pub benefits: Vec<Benefit>,
    #[serde(default)]
    pub benefit_packs: Vec<BenefitPack>,
    /// Programs sharing a group are exclusive: one active membership among them per account.
    pub exclusive_group: Option<String>,
    /// Programs sharing a fee group share one yearly fee and one anniversary (the Solutions
    /// Partner designations): a designation added later is not charged again.
    #[serde(default)]
    pub fee_group: Option<String>,
    pub scoring: Option<Scoring>,
}

/// Catalog-wide rule numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A completion counts this many days after `max(linked_at, completed_at)`.
    pub skilling_lag_days: u32,
    /// The renewal window: anniversary to anniversary + this many days.
    pub renewal_window_days: u32,
    /// At most this many Learn-profile associations per person in `association_period_days`.
    pub max_associations: u32,
    pub association_period_days: u32,
    /// Days between two associations of one person.
    pub association_cooling_off_days: u32,
    /// An unpaid wire-transfer order can be paid up to and including this many days after it
    /// was placed.
    pub wire_payment_days: u32,
    /// A purchase can be refunded up to and including this many days after it was paid.
    pub refund_window_days: u32,
    /// How many times an activated Azure credit may change hands.
    pub max_credit_reassignments: u32,
    /// The standard tax rate on memberships by buyer country (ISO 3166-1 alpha-2), in basis
    /// points; countries not listed are invoiced without tax.
    pub tax_rates_bps: std::collections::BTreeMap<String, u32>,
}

impl Rules {
    /// The tax rate for a buyer in `country`, in basis points.
    pub fn tax_rate_bps(&self, country: &str) -> u32 {
        self.tax_rates_bps.get(country).copied().unwrap_or(0)
    }
}

/// The catalog file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Raised whenever the file changes; programs loaded from an older version are refreshed
    /// unless an operator has edited them.
    pub catalog_version: u32,
    pub rules: Rules,
    pub programs: Vec<Program>,
}

fn is_identifier(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

fn check_identifier(field: &str, value: &str) -> Result<(), FieldError> {
    if is_identifier(value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid_identifier",
            "1 to 64 characters: lower-case letters, digits and underscores, starting with a letter",
        ))
    }
}

impl Program {
    /// Checks the program's own consistency and that every program it names is in `known`.
    pub fn validate(&self, known: &[&str]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut push = |result: Result<(), FieldError>| {
            if let Err(error) = result {
                errors.push(error);
            }
        };
        push(check_identifier("id", &self.id));
        push(check_text("name", &self.name, 200));
        push(check_text("description", &self.description, 2000));
        if let Some(fee) = &self.fee {
            push(fee.check_price().map_err(|e| e.under("fee")));
        }
        match (self.enrollment, &self.fee) {
            (Enrollment::Purchase, None) => push(Err(FieldError::new(
                "fee",
                "required",
                "a program joined by purchase has a fee",
            ))),
            (Enrollment::SelfService | Enrollment::Automatic, Some(_)) => {
                push(Err(FieldError::new(
                    "fee",
                    "not_allowed",
                    "only programs joined by purchase have a fee",
                )))
            }
            _ => {}
        }
        if (self.enrollment == Enrollment::Automatic) != (self.track == Track::Base) {
            push(Err(FieldError::new(
                "enrollment",
                "invalid",
                "the base track, and only it, is joined automatically",
            )));
        }
        match self.term_days {
            Some(days) if !(1..=3650).contains(&days) => push(Err(FieldError::new(
                "term_days",
                "out_of_range",
                "1 to 3650 days",
            ))),
            None if self.renewable => push(Err(FieldError::new(
                "renewable",
                "invalid",
                "a program without a term has nothing to renew",
            ))),
            _ => {}
        }
        if let (Some(start), Some(end)) = (self.sales_start, self.sales_end)
            && end <= start
        {
            push(Err(FieldError::new(
                "sales_end",
                "before_start",
                "the sales window must end after it starts",
            )));
        }
        let mut check_reference = |field: String, program: &str| {
            if program == self.id {
                push(Err(FieldError::new(
                    field,
                    "self_reference",
                    "a program cannot require itself",
                )));
            } else if !known.contains(&program) {
                push(Err(FieldError::new(
                    field,
                    "unknown_program",
                    format!("no program {program:?} in the catalog"),
                )));
            }
        };
        for (i, program) in self.prerequisites.programs.iter().enumerate() {
            check_reference(format!("prerequisites.programs[{i}]"), program);
        }
        for (p, pack) in self.benefit_packs.iter().enumerate() {
            for (i, program) in pack.requires_programs.iter().enumerate() {
                check_reference(
                    format!("benefit_packs[{p}].requires_programs[{i}]"),
                    program,
                );
            }
        }
        for (p, pack) in self.benefit_packs.iter().enumerate() {
            push(check_identifier(
                &format!("benefit_packs[{p}].id"),
                &pack.id,
            ));
            if self.benefit_packs[..p]
                .iter()
                .any(|other| other.id == pack.id)
            {
                push(Err(FieldError::new(
                    format!("benefit_packs[{p}].id"),
                    "duplicate",
                    "benefit pack ids are unique within a program",
                )));
            }
        }
        let benefits = self
            .benefits
            .iter()
            .map(|b| ("benefits".to_owned(), b))
            .chain(self.benefit_packs.iter().enumerate().flat_map(|(p, pack)| {
                pack.benefits
                    .iter()
                    .map(move |b| (format!("benefit_packs[{p}].benefits"), b))
            }));
        for (i, (list, benefit)) in benefits.enumerate() {
            push(check_identifier(&format!("{list}[{i}].id"), &benefit.id));
            push(check_text(&format!("{list}[{i}].name"), &benefit.name, 200));
        }
        if let Some(group) = &self.fee_group {
            push(check_identifier("fee_group", group));
        }
        if let Some(group) = &self.exclusive_group {
            push(check_identifier("exclusive_group", group));
        }
        if let Some(scoring) = &self.scoring {
            push(check_identifier("scoring.area", &scoring.area));
            let most =
                scoring.performance.max + scoring.skilling.max + scoring.customer_success.max;
            if scoring.qualifying_total == 0 || scoring.qualifying_total > most {
                push(Err(FieldError::new(
                    "scoring.qualifying_total",
                    "out_of_range",
                    format!("1 to the sum of the metric maxima ({most})"),
                )));
            }
            if scoring.window_days == 0 {
                push(Err(FieldError::new(
                    "scoring.window_days",
                    "out_of_range",
                    "at least one day",
                )));
            }
            if scoring.performance.min_monthly_revenue_minor < 0 {
                push(Err(FieldError::new(
                    "scoring.performance.min_monthly_revenue_minor",
                    "negative",
                    "zero or more minor units",
                )));
            }
        }
        errors.finish(|| Some(()))
    }

    /// The benefit pack with this id.
    pub fn benefit_pack(&self, id: &str) -> Option<&BenefitPack> {
        self.benefit_packs.iter().find(|pack| pack.id == id)
    }
}

impl Catalog {
    /// Checks every program against the others: ids unique, references resolvable.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let ids: Vec<&str> = self.programs.iter().map(|p| p.id.as_str()).collect();
        let mut errors = FieldErrors::new();
        for (i, program) in self.programs.iter().enumerate() {
            if ids[..i].contains(&program.id.as_str()) {
                errors.push(FieldError::new(
                    format!("programs[{i}].id"),
                    "duplicate",
                    "program ids are unique",
                ));
            }
            if let Err(found) = program.validate(&ids) {
                for error in found.into_vec() {
                    errors.push(error.under(&format!("programs[{i}]")));
                }
            }
        }
        if !ids.contains(&BASE_PROGRAM) {
            errors.push(FieldError::new(
                "programs",
                "missing_base_program",
                format!("the catalog must define {BASE_PROGRAM}"),
            ));
        }
        errors.finish(|| Some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDED: &str = include_str!("../../catalog/programs.json");

    fn seeded() -> Catalog {
        serde_json::from_str(SEEDED).expect("the seeded catalog parses")
    }

    #[test]
    fn the_seeded_catalog_is_valid_and_has_every_program_of_the_design() {
        let catalog = seeded();
        assert_eq!(catalog.validate(), Ok(()));
        let ids: Vec<&str> = catalog.programs.iter().map(|p| p.id.as_str()).collect();
        for id in [
            BASE_PROGRAM,
            "action_pack",
            "solutions_partner_data_ai_azure",
            "solutions_partner_infrastructure_azure",
            "solutions_partner_digital_app_innovation_azure",
            "solutions_partner_business_applications",
            "solutions_partner_modern_work",
            "solutions_partner_security",
            "azure_expert_msp",
            "isv_success",
            "marketplace_rewards",
            "training_services_partner",
            "surface_reseller_alliance",
        ] {
            assert!(ids.contains(&id), "{id} is not seeded");
        }
        assert!(ids.iter().any(|id| id.starts_with("specialization_")));
        assert_eq!(catalog.rules.skilling_lag_days, 10);
    }

    #[test]
    fn references_to_unknown_programs_and_free_purchases_are_refused() {
        let mut program = seeded()
            .programs
            .into_iter()
            .find(|p| p.id == "azure_expert_msp")
            .expect("seeded");
        assert!(program.validate(&["ai_cloud_partner_program"]).is_err());
        program.prerequisites.programs.clear();
        assert_eq!(program.validate(&[]), Ok(()));
        program.enrollment = Enrollment::Purchase;
        let errors = program.validate(&[]).expect_err("a purchase needs a fee");
        assert_eq!(errors.as_slice()[0].field, "fee");
    }
}
