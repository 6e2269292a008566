//! Learn-profile links, completions and skilling credit.

use chrono::{DateTime, Utc};
use domain::skilling::{CompletionKind as Kind, CreditStatus as Status};
use persistence::repos::skilling::{Completion as CompletionRecord, Credit, LinkRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// Links the caller's Microsoft Learn profile to the account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkLearningProfileRequest {
    /// The Learn profile (MCID) identifier.
    #[validate(length(
        min = 1,
        max = 128,
        code = "invalid_length",
        message = "1 to 128 characters"
    ))]
    #[schema(min_length = 1, example = "mcid-7781-2210", max_length = 128)]
    pub learn_id: String,
}

/// One association of a Learn profile with the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearningLink {
    pub id: Uuid,
    pub learn_id: String,
    pub linked_at: DateTime<Utc>,
    pub unlinked_at: Option<DateTime<Utc>>,
    /// `relinked` (the person linked another profile) or `moved` (the profile was linked to
    /// another account).
    pub unlinked_reason: Option<String>,
}

impl From<&LinkRecord> for LearningLink {
    fn from(link: &LinkRecord) -> Self {
        LearningLink {
            id: link.id.as_uuid(),
            learn_id: link.learn_id.clone(),
            linked_at: link.linked_at,
            unlinked_at: link.unlinked_at,
            unlinked_reason: link.unlinked_reason.clone(),
        }
    }
}

/// The caller's Learn profile in this account and the association rules' state.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearningProfile {
    /// The profile linked now; `null` if none.
    pub current: Option<LearningLink>,
    /// Every association the caller made in this account, oldest first.
    pub history: Vec<LearningLink>,
    /// The earliest instant a new association is allowed (at most 3 in any 365 days, 30 days
    /// apart); `null` when one is allowed now.
    pub next_association_allowed_from: Option<DateTime<Utc>>,
    /// Completions credited to the account by the current link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credited_completions: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompletionKind {
    Certification,
    Training,
    Assessment,
}

impl From<CompletionKind> for Kind {
    fn from(kind: CompletionKind) -> Self {
        match kind {
            CompletionKind::Certification => Kind::Certification,
            CompletionKind::Training => Kind::Training,
            CompletionKind::Assessment => Kind::Assessment,
        }
    }
}

impl From<Kind> for CompletionKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Certification => CompletionKind::Certification,
            Kind::Training => CompletionKind::Training,
            Kind::Assessment => CompletionKind::Assessment,
        }
    }
}

/// A completion reported by the learning platform.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionInput {
    #[validate(length(
        min = 1,
        max = 128,
        code = "invalid_length",
        message = "1 to 128 characters"
    ))]
    #[schema(min_length = 1, example = "mcid-7781-2210", max_length = 128)]
    pub learn_id: String,
    pub kind: CompletionKind,
    /// The credential's catalog id, as the scoring rules name it.
    #[validate(length(
        min = 1,
        max = 128,
        code = "invalid_length",
        message = "1 to 128 characters"
    ))]
    #[schema(
        min_length = 1,
        example = "azure_data_scientist_associate",
        max_length = 128
    )]
    pub credential: String,
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(
        min_length = 1,
        example = "Microsoft Certified: Azure Data Scientist Associate",
        max_length = 200
    )]
    pub title: String,
    /// When the person completed it; not after the receiving account's now.
    pub completed_at: DateTime<Utc>,
}

/// A recorded completion and whom it credited.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionReceipt {
    pub id: Uuid,
    pub learn_id: String,
    pub kind: CompletionKind,
    pub credential: String,
    pub title: String,
    pub completed_at: DateTime<Utc>,
    /// `false` when the same completion (profile, credential, date) was already recorded.
    pub created: bool,
    /// The account the profile is linked to, if any, credited by this completion.
    pub credited_account_id: Option<Uuid>,
    /// When the credit counts (`max(linked_at, completed_at) + 10 days`).
    pub counts_from: Option<DateTime<Utc>>,
}

impl CompletionReceipt {
    pub fn new(
        completion: &CompletionRecord,
        created: bool,
        credited: Option<(Uuid, DateTime<Utc>)>,
    ) -> Self {
        CompletionReceipt {
            id: completion.id.as_uuid(),
            learn_id: completion.learn_id.clone(),
            kind: completion.kind.into(),
            credential: completion.credential.clone(),
            title: completion.title.clone(),
            completed_at: completion.completed_at,
            created,
            credited_account_id: credited.map(|(account, _)| account),
            counts_from: credited.map(|(_, from)| from),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// Within the skilling lag; counts from `counts_from`.
    Pending,
    Counted,
}

/// A completion credited to the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillingCredit {
    pub id: Uuid,
    pub user_id: Uuid,
    pub learn_id: String,
    pub kind: CompletionKind,
    pub credential: String,
    pub title: String,
    pub completed_at: DateTime<Utc>,
    /// `max(linked_at, completed_at) + 10 days`.
    pub counts_from: DateTime<Utc>,
    pub status: CreditStatus,
}

impl SkillingCredit {
    pub fn new(credit: &Credit, now: DateTime<Utc>) -> Self {
        SkillingCredit {
            id: credit.id.as_uuid(),
            user_id: credit.user_id.as_uuid(),
            learn_id: credit.learn_id.clone(),
            kind: credit.kind.into(),
            credential: credit.credential.clone(),
            title: credit.title.clone(),
            completed_at: credit.completed_at,
            counts_from: credit.counts_from,
            status: match Status::at(credit.counts_from, now) {
                Status::Pending => CreditStatus::Pending,
                Status::Counted => CreditStatus::Counted,
            },
        }
    }
}

/// One page of skilling credits.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillingCreditList {
    pub items: Vec<SkillingCredit>,
    /// The instant statuses were computed at (the account's clock).
    pub as_of: DateTime<Utc>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SkillingQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only credits with this status at the account's now.
    pub status: Option<CreditStatus>,
}
