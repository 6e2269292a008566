//! Eligibility, memberships and program applications.

use chrono::{DateTime, Utc};
use domain::eligibility::{Check, Eligibility as Evaluated};
use domain::membership::Status;
use persistence::repos::applications::Application as ApplicationRecord;
use persistence::repos::memberships::MembershipRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// What an eligibility check verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    /// The account holds the base AI Cloud Partner Program membership.
    BaseProgramJoined,
    /// The account is verified (a rejected account can never join).
    AccountVerified,
    /// The caller holds a role that may enroll (`global_admin`, `mpn_partner_admin`).
    CallerRole,
    /// A preview program: the account is on its allow-list.
    PreviewAllowList,
    /// Now is within the program's sales window.
    SalesWindow,
    /// The account holds the program named by `program_id`.
    PrerequisiteProgram,
    /// The benefit pack asked about exists and its required programs are held.
    BenefitPack,
    /// The account has a published transactable marketplace offer.
    PublishedTransactableOffer,
    /// The area's capability score qualifies.
    CapabilityScore,
    /// No other membership of the program's exclusive group (one Action Pack per account).
    ExclusiveGroup,
    /// No membership of this program is pending payment, active or renewal due.
    NoDuplicateMembership,
    /// Renewal orders: the program's membership is in its renewal window (from the
    /// anniversary for 30 days); `satisfied_from` says when it opens.
    RenewalWindow,
    /// Orders: no unpaid wire order for the program can still be paid.
    NoOpenOrder,
}

impl From<domain::eligibility::CheckCode> for CheckCode {
    fn from(code: domain::eligibility::CheckCode) -> Self {
        use domain::eligibility::CheckCode as C;
        match code {
            C::BaseProgramJoined => CheckCode::BaseProgramJoined,
            C::AccountVerified => CheckCode::AccountVerified,
            C::CallerRole => CheckCode::CallerRole,
            C::PreviewAllowList => CheckCode::PreviewAllowList,
            C::SalesWindow => CheckCode::SalesWindow,
            C::PrerequisiteProgram => CheckCode::PrerequisiteProgram,
            C::BenefitPack => CheckCode::BenefitPack,
            C::PublishedTransactableOffer => CheckCode::PublishedTransactableOffer,
            C::CapabilityScore => CheckCode::CapabilityScore,
            C::ExclusiveGroup => CheckCode::ExclusiveGroup,
            C::NoDuplicateMembership => CheckCode::NoDuplicateMembership,
            C::RenewalWindow => CheckCode::RenewalWindow,
            C::NoOpenOrder => CheckCode::NoOpenOrder,
        }
    }
}

/// One eligibility check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EligibilityCheck {
    pub code: CheckCode,
    pub satisfied: bool,
    pub detail: String,
    /// When an unsatisfied check will become satisfied by time alone (skilling credit
    /// landing, a sales window opening, a membership expiring); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_from: Option<DateTime<Utc>>,
    /// The program the check is about (`prerequisite_program`, `benefit_pack`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
}

impl From<&Check> for EligibilityCheck {
    fn from(check: &Check) -> Self {
        EligibilityCheck {
            code: check.code.into(),
            satisfied: check.satisfied,
            detail: check.detail.clone(),
            satisfied_from: check.satisfied_from,
            program_id: check.program_id.clone(),
        }
    }
}

/// Whether the account may join a program now, and every check behind the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Eligibility {
    pub program_id: String,
    pub eligible: bool,
    pub checks: Vec<EligibilityCheck>,
    /// The instant the checks were evaluated at (the account's clock).
    pub as_of: DateTime<Utc>,
}

impl Eligibility {
    pub fn new(evaluated: &Evaluated, as_of: DateTime<Utc>) -> Self {
        Eligibility {
            program_id: evaluated.program_id.clone(),
            eligible: evaluated.eligible,
            checks: evaluated.checks.iter().map(Into::into).collect(),
            as_of,
        }
    }
}

/// Eligibility for every program.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityList {
    pub items: Vec<Eligibility>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EligibilityQuery {
    /// Ask about this benefit pack too (Action Pack: `maps` or `laps`).
    #[param(max_length = 64)]
    pub benefit_pack: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    PendingPayment,
    Active,
    /// In the renewal window (anniversary to anniversary + 30 days); benefits continue.
    RenewalDue,
    Expired,
    Cancelled,
}

impl From<Status> for MembershipStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::PendingPayment => MembershipStatus::PendingPayment,
            Status::Active => MembershipStatus::Active,
            Status::RenewalDue => MembershipStatus::RenewalDue,
            Status::Expired => MembershipStatus::Expired,
            Status::Cancelled => MembershipStatus::Cancelled,
        }
    }
}

impl From<MembershipStatus> for Status {
    fn from(status: MembershipStatus) -> Self {
        match status {
            MembershipStatus::PendingPayment => Status::PendingPayment,
            MembershipStatus::Active => Status::Active,
            MembershipStatus::RenewalDue => Status::RenewalDue,
            MembershipStatus::Expired => Status::Expired,
            MembershipStatus::Cancelled => Status::Cancelled,
        }
    }
}

/// How the membership came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipSource {
    Automatic,
    Enrollment,
    Application,
    OperatorGrant,
    /// Bought with an order (`POST /v1/orders`).
    Purchase,
}

impl From<domain::membership::Source> for MembershipSource {
    fn from(source: domain::membership::Source) -> Self {
        use domain::membership::Source as S;
        match source {
            S::Automatic => MembershipSource::Automatic,
            S::Enrollment => MembershipSource::Enrollment,
            S::Application => MembershipSource::Application,
            S::OperatorGrant => MembershipSource::OperatorGrant,
            S::Purchase => MembershipSource::Purchase,
        }
    }
}

/// `[starts_at, ends_at)`: `renewal_due` from `starts_at` (the anniversary), `expired` from
/// `ends_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalWindow {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// An account's membership of a program. The status is computed from the account's clock
/// when read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Membership {
    pub id: Uuid,
    #[schema(example = "isv_success")]
    pub program_id: String,
    pub status: MembershipStatus,
    pub source: MembershipSource,
    /// The benefit pack chosen when joining, for programs that offer packs.
    pub benefit_pack: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    /// Activation + the program's term; `null` for a membership without term.
    pub anniversary_at: Option<DateTime<Utc>>,
    /// `null` when the membership cannot be renewed.
    pub renewal_window: Option<RenewalWindow>,
    /// The first instant the membership is expired; `null` if it never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub renewable: bool,
    pub created_at: DateTime<Utc>,
}

impl Membership {
    pub fn new(record: &MembershipRecord, window_days: u32, now: DateTime<Utc>) -> Self {
        let term = record.term();
        Membership {
            id: record.id.as_uuid(),
            program_id: record.program_id.clone(),
            status: record.status(window_days, now).into(),
            source: record.source.into(),
            benefit_pack: record.benefit_pack.clone(),
            activated_at: record.activated_at,
            anniversary_at: record.anniversary_at,
            renewal_window: term.and_then(|t| t.renewal_window(window_days)).map(|w| {
                RenewalWindow {
                    starts_at: w.starts_at,
                    ends_at: w.ends_at,
                }
            }),
            expires_at: term.and_then(|t| t.expires_at(window_days)),
            renewable: record.renewable,
            created_at: record.created_at,
        }
    }
}

/// One page of memberships.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipList {
    pub items: Vec<Membership>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only memberships with this status (at the account's now).
    pub status: Option<MembershipStatus>,
    /// Only memberships of this program.
    #[param(max_length = 64)]
    pub program_id: Option<String>,
}

/// Joins a free program.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMembershipRequest {
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, example = "isv_success", max_length = 64)]
    pub program_id: String,
    /// For programs with benefit packs: the pack chosen, fixed until renewal.
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, max_length = 64)]
    pub benefit_pack: Option<String>,
}

/// An operator's grant of a membership (complimentary or migrated), without payment.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantMembershipRequest {
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(
        min_length = 1,
        example = "solutions_partner_security",
        max_length = 64
    )]
    pub program_id: String,
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(min_length = 1, max_length = 64)]
    pub benefit_pack: Option<String>,
    /// Why the membership is granted (recorded in the audit log).
    #[validate(length(
        min = 1,
        max = 1000,
        code = "invalid_length",
        message = "1 to 1000 characters"
    ))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Applies for a program that needs the operator's approval.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplicationRequest {
    #[validate(length(
        min = 1,
        max = 64,
        code = "invalid_length",
        message = "1 to 64 characters"
    ))]
    #[schema(
        min_length = 1,
        example = "specialization_identity_and_access_management",
        max_length = 64
    )]
    pub program_id: String,
    /// The audit report reference or customer references backing the application.
    #[validate(length(
        min = 1,
        max = 10000,
        code = "invalid_length",
        message = "1 to 10000 characters"
    ))]
    #[schema(min_length = 1, max_length = 10000)]
    pub evidence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    Approved,
    Rejected,
}

impl From<domain::membership::ApplicationStatus> for ApplicationStatus {
    fn from(status: domain::membership::ApplicationStatus) -> Self {
        use domain::membership::ApplicationStatus as S;
        match status {
            S::Submitted => ApplicationStatus::Submitted,
            S::Approved => ApplicationStatus::Approved,
            S::Rejected => ApplicationStatus::Rejected,
        }
    }
}

impl From<ApplicationStatus> for domain::membership::ApplicationStatus {
    fn from(status: ApplicationStatus) -> Self {
        use domain::membership::ApplicationStatus as S;
        match status {
            ApplicationStatus::Submitted => S::Submitted,
            ApplicationStatus::Approved => S::Approved,
            ApplicationStatus::Rejected => S::Rejected,
        }
    }
}

/// An application for a program.
#[derive(Debug, Serialize, ToSchema)]
pub struct Application {
    pub id: Uuid,
    pub account_id: Uuid,
    pub program_id: String,
    pub evidence: String,
    pub status: ApplicationStatus,
    /// The operator's reason, for a rejection.
    pub reason: Option<String>,
    pub submitted_by: String,
    /// The membership the approval activated.
    pub membership_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<&ApplicationRecord> for Application {
    fn from(record: &ApplicationRecord) -> Self {
        Application {
            id: record.id.as_uuid(),
            account_id: record.account_id.as_uuid(),
            program_id: record.program_id.clone(),
            evidence: record.evidence.clone(),
            status: record.status.into(),
            reason: record.reason.clone(),
            submitted_by: record.submitted_by.clone(),
            membership_id: record.membership_id.map(|m| m.as_uuid()),
            created_at: record.created_at,
            decided_at: record.decided_at,
        }
    }
}

/// One page of applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<Application>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only applications with this status.
    pub status: Option<ApplicationStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationOutcome {
    Approved,
    Rejected,
}

/// The operator's decision on an application.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDecision {
    pub outcome: ApplicationOutcome,
    /// Required for a rejection.
    #[validate(length(max = 1000, code = "too_long", message = "at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}
