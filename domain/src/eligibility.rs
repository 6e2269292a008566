//! May this account join this program now, and if not, why not and from when (DESIGN §5)?
//! A pure function of the program's catalog entry and the facts about the account; the same
//! checks answer `GET .../eligibility` and refuse `POST /v1/memberships`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Availability, BASE_PROGRAM, Program};
use crate::membership::Status;
use crate::verification::VerificationStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    BaseProgramJoined,
    AccountVerified,
    CallerRole,
    PreviewAllowList,
    SalesWindow,
    PrerequisiteProgram,
    BenefitPack,
    PublishedTransactableOffer,
    CapabilityScore,
    ExclusiveGroup,
    NoDuplicateMembership,
    /// Renewals only: the membership is in its renewal window.
    RenewalWindow,
    /// Orders only: no unpaid order for the program is still payable.
    NoOpenOrder,
}

impl CheckCode {
    pub const fn id(self) -> &'static str {
        match self {
            CheckCode::BaseProgramJoined => "base_program_joined",
            CheckCode::AccountVerified => "account_verified",
            CheckCode::CallerRole => "caller_role",
            CheckCode::PreviewAllowList => "preview_allow_list",
            CheckCode::SalesWindow => "sales_window",
            CheckCode::PrerequisiteProgram => "prerequisite_program",
            CheckCode::BenefitPack => "benefit_pack",
            CheckCode::PublishedTransactableOffer => "published_transactable_offer",
            CheckCode::CapabilityScore => "capability_score",
            CheckCode::ExclusiveGroup => "exclusive_group",
            CheckCode::NoDuplicateMembership => "no_duplicate_membership",
            CheckCode::RenewalWindow => "renewal_window",
            CheckCode::NoOpenOrder => "no_open_order",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub code: CheckCode,
    pub satisfied: bool,
    pub detail: String,
    /// When an unsatisfied check becomes satisfied by time alone.
    pub satisfied_from: Option<DateTime<Utc>>,
    /// The program a `prerequisite_program` or `benefit_pack` check is about.
    pub program_id: Option<String>,
}

impl Check {
    fn new(code: CheckCode, satisfied: bool, detail: impl Into<String>) -> Self {
        Self {
            code,
            satisfied,
            detail: detail.into(),
            satisfied_from: None,
            program_id: None,
        }
    }

    fn from(mut self, at: Option<DateTime<Utc>>) -> Self {
        if !self.satisfied {
            self.satisfied_from = at;
        }
        self
    }

    fn about(mut self, program: &str) -> Self {
        self.program_id = Some(program.to_owned());
        self
    }
}

/// A membership the account holds, as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub program_id: String,
    pub exclusive_group: Option<String>,
    pub status: Status,
    /// When it stops blocking a new membership (its expiry), if known.
    pub ends_at: Option<DateTime<Utc>>,
    /// When its renewal window opens (its anniversary), for a renewable membership.
    pub renewal_opens_at: Option<DateTime<Utc>>,
}

impl Held {
    fn blocks(&self) -> bool {
        matches!(
            self.status,
            Status::PendingPayment | Status::Active | Status::RenewalDue
        )
    }
}

/// The capability score of the program's area, when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOutlook {
    pub total: u32,
    pub qualifying_total: u32,
    pub qualified: bool,
    pub qualifies_from: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub now: DateTime<Utc>,
    pub verification: VerificationStatus,
    /// The caller holds a role that may enroll the account.
    pub caller_may_enroll: bool,
    pub memberships: &'a [Held],
    pub allow_listed: bool,
    pub published_transactable_offer: bool,
    pub score: Option<ScoreOutlook>,
    /// The benefit pack asked about, if any.
    pub benefit_pack: Option<&'a str>,
    /// The question is about renewing the membership of the program, not joining it.
    pub renewal: bool,
    /// The payment deadline of an unpaid order for the program, while it can still be paid.
    pub open_order_until: Option<DateTime<Utc>>,
}

impl Facts<'_> {
    fn holds(&self, program: &str) -> bool {
        self.memberships
            .iter()
            .any(|m| m.program_id == program && m.status.is_in_force())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    pub program_id: String,
    pub eligible: bool,
    pub checks: Vec<Check>,
}

impl Eligibility {
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| !check.satisfied)
    }
}

/// Every check that applies to `program`, evaluated against `facts`.
pub fn evaluate(program: &Program, facts: &Facts) -> Eligibility {
    use CheckCode::*;
    let now = facts.now;
    let mut checks = Vec::new();

    if program.id != BASE_PROGRAM {
        let joined = facts.holds(BASE_PROGRAM);
        checks.push(Check::new(
            BaseProgramJoined,
            joined,
            if joined {
                "The account is a member of the AI Cloud Partner Program."
            } else {
                "The account must be a member of the AI Cloud Partner Program."
            },
        ));
    }
    if program.requires_verification {
        let detail = match facts.verification {
            VerificationStatus::Verified => "The account is verified.",
            VerificationStatus::Pending => "The account's verification is pending review.",
            VerificationStatus::ActionRequired => {
                "Verification needs your action: send the evidence asked for."
            }
            VerificationStatus::Rejected => {
                "The account's verification was rejected; it cannot join programs."
            }
        };
        checks.push(Check::new(
            AccountVerified,
            facts.verification == VerificationStatus::Verified,
            detail,
        ));
    }
    checks.push(Check::new(
        CallerRole,
        facts.caller_may_enroll,
        if facts.caller_may_enroll {
            "Your role may enroll the account."
        } else {
            "Enrolling needs the global_admin or mpn_partner_admin role."
        },
    ));
    if program.availability == Availability::Preview {
        checks.push(Check::new(
            PreviewAllowList,
            facts.allow_listed,
            if facts.allow_listed {
                "The account is on the preview's allow-list."
            } else {
                "The program is in preview and the account is not on its allow-list."
            },
        ));
    }
    if program.sales_start.is_some() || program.sales_end.is_some() {
        let started = program.sales_start.is_none_or(|start| now >= start);
        let ended = program.sales_end.is_some_and(|end| now >= end);
        let detail = match (started, ended, program.sales_start, program.sales_end) {
            (_, true, _, Some(end)) => format!("Sales ended at {}.", end.to_rfc3339()),
            (false, _, Some(start), _) => format!("Sales start at {}.", start.to_rfc3339()),
            _ => "The program is on sale.".to_owned(),
        };
        let reopens = program.sales_start.filter(|_| !started && !ended);
        checks.push(Check::new(SalesWindow, started && !ended, detail).from(reopens));
    }
    for required in &program.prerequisites.programs {
        let held = facts.holds(required);
        checks.push(
            Check::new(
                PrerequisiteProgram,
                held,
                if held {
                    format!("The account is a member of {required}.")
                } else {
                    format!("The account must be an active member of {required}.")
                },
            )
            .about(required),
        );
    }
    if let Some(pack_id) = facts.benefit_pack {
        let check = match program.benefit_pack(pack_id) {
            None => Check::new(
                BenefitPack,
                false,
                format!("The program has no benefit pack {pack_id:?}."),
            ),
            Some(pack) => match pack.requires_programs.iter().find(|p| !facts.holds(p)) {
                Some(missing) => Check::new(
                    BenefitPack,
                    false,
                    format!("The {pack_id} pack needs an active membership of {missing}."),
                )
                .about(missing),
                None => Check::new(
                    BenefitPack,
                    true,
                    format!("The {pack_id} pack is available."),
                ),
            },
        };
        checks.push(check);
    }
    if program.prerequisites.published_transactable_offer {
        let published = facts.published_transactable_offer;
        checks.push(Check::new(
            PublishedTransactableOffer,
            published,
            if published {
                "The account has a published transactable marketplace offer."
            } else {
                "The account needs a published transactable marketplace offer."
            },
        ));
    }
    if program.scoring.is_some() {
        let check = match facts.score {
            Some(score) => Check::new(
                CapabilityScore,
                score.qualified,
                if score.qualified {
                    format!(
                        "The capability score qualifies ({} of at least {}, every metric above zero).",
                        score.total, score.qualifying_total
                    )
                } else {
                    format!(
                        "The capability score is {}; qualifying needs at least {} with every metric above zero.",
                        score.total, score.qualifying_total
                    )
                },
            )
            .from(score.qualifies_from),
            None => Check::new(CapabilityScore, false, "No capability score is available."),
        };
        checks.push(check);
    }
    if facts.renewal {
        checks.push(renewal_window(program, facts));
    } else {
        exclusive_and_duplicate(program, facts, &mut checks);
    }
    if let Some(deadline) = facts.open_order_until {
        checks.push(
            Check::new(
                NoOpenOrder,
                false,
                format!(
                    "An unpaid order for this program can be paid until {}; pay or cancel it first.",
                    deadline.to_rfc3339()
                ),
            )
            .from(Some(deadline + chrono::Duration::seconds(1))),
        );
    }

    Eligibility {
        program_id: program.id.clone(),
        eligible: checks.iter().all(|check| check.satisfied),
        checks,
    }
}

/// Renewing needs the program's membership in its renewal window (anniversary to its end).
fn renewal_window(program: &Program, facts: &Facts) -> Check {
    let held = facts
        .memberships
        .iter()
        .filter(|m| m.program_id == program.id)
        .max_by_key(|m| m.ends_at);
    match held {
        Some(m) if m.status == Status::RenewalDue => Check::new(
            CheckCode::RenewalWindow,
            true,
            format!(
                "The renewal window is open{}.",
                m.ends_at
                    .map(|end| format!(" until {}", end.to_rfc3339()))
                    .unwrap_or_default()
            ),
        ),
        Some(m) if m.status == Status::Active && m.renewal_opens_at.is_some() => Check::new(
            CheckCode::RenewalWindow,
            false,
            format!(
                "The renewal window opens at the anniversary, {}.",
                m.renewal_opens_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default()
            ),
        )
        .from(m.renewal_opens_at),
        Some(m) if m.status == Status::Expired => Check::new(
            CheckCode::RenewalWindow,
            false,
            "The renewal window has closed and the membership expired; purchase it afresh.",
        ),
        Some(m) if m.status.is_in_force() => Check::new(
            CheckCode::RenewalWindow,
            false,
            "This membership cannot be renewed.",
        ),
        _ => Check::new(
            CheckCode::RenewalWindow,
            false,
            "The account holds no membership of this program to renew.",
        ),
    }
}

/// One membership per exclusive group, and no second membership of a program in force.
fn exclusive_and_duplicate(program: &Program, facts: &Facts, checks: &mut Vec<Check>) {
    use CheckCode::*;
    if let Some(group) = &program.exclusive_group {
        let blocking = facts
            .memberships
            .iter()
            .find(|m| m.exclusive_group.as_ref() == Some(group) && m.blocks());
        checks.push(match blocking {
            Some(held) => Check::new(
                ExclusiveGroup,
                false,
                format!(
                    "The account already holds {}; one membership of the {group} group per account.",
                    held.program_id
                ),
            )
            .from(held.ends_at),
            None => Check::new(
                ExclusiveGroup,
                true,
                format!("The account holds no other membership of the {group} group."),
            ),
        });
    }
    let duplicate = facts
        .memberships
        .iter()
        .find(|m| m.program_id == program.id && m.blocks());
    checks.push(match duplicate {
        Some(held) => Check::new(
            NoDuplicateMembership,
            false,
            format!(
                "The account already has a membership of this program ({}).",
                held.status.id()
            ),
        )
        .from(held.ends_at),
        None => Check::new(
            NoDuplicateMembership,
            true,
            "The account has no membership of this program in force.",
        ),
    });
}
