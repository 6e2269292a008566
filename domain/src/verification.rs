//! Account verification (DESIGN §4): `pending → verified | rejected | action_required`,
//! `action_required → pending` on evidence, `verified → pending` when legal details change.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Pending,
    ActionRequired,
    Verified,
    Rejected,
}

impl VerificationStatus {
    pub const ALL: [VerificationStatus; 4] = [
        VerificationStatus::Pending,
        VerificationStatus::ActionRequired,
        VerificationStatus::Verified,
        VerificationStatus::Rejected,
    ];

    /// Every new account enters verification.
    pub const INITIAL: VerificationStatus = VerificationStatus::Pending;

    pub const fn id(self) -> &'static str {
        match self {
            VerificationStatus::Pending => "pending",
            VerificationStatus::ActionRequired => "action_required",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.id() == id)
    }
}

/// An operator's verification decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Verified,
    Rejected,
    ActionRequired,
}

impl Outcome {
    /// Rejections and requests for evidence must tell the partner why.
    pub fn needs_reason(self) -> bool {
        !matches!(self, Outcome::Verified)
    }
}

/// A transition the state machine refuses, with the status that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Only a `pending` account can be decided.
    NotPending(VerificationStatus),
    /// Evidence answers `action_required` only.
    NotAwaitingEvidence(VerificationStatus),
    /// A rejected account's legal details are final.
    Rejected,
}

impl VerificationStatus {
    /// The operator decides a pending verification.
    pub fn decide(self, outcome: Outcome) -> Result<VerificationStatus, Refused> {
        match self {
            VerificationStatus::Pending => Ok(match outcome {
                Outcome::Verified => VerificationStatus::Verified,
                Outcome::Rejected => VerificationStatus::Rejected,
                Outcome::ActionRequired => VerificationStatus::ActionRequired,
            }),
            other => Err(Refused::NotPending(other)),
        }
    }

    /// The partner answers `action_required` with evidence.
    pub fn evidence_received(self) -> Result<VerificationStatus, Refused> {
        match self {
            VerificationStatus::ActionRequired => Ok(VerificationStatus::Pending),
            other => Err(Refused::NotAwaitingEvidence(other)),
        }
    }

    /// The legal details changed: a verified account is verified again; a pending or
    /// action-required one stays where it is, with the changes added to the review.
    pub fn after_legal_change(self) -> Result<VerificationStatus, Refused> {
        match self {
            VerificationStatus::Verified => Ok(VerificationStatus::Pending),
            VerificationStatus::Rejected => Err(Refused::Rejected),
            other => Ok(other),
        }
    }
}

/// The fields under review after `changed` fields changed while in `before`: a verified
/// account reviews only what changed; an open review adds the changes to what it had.
pub fn under_review_after_change(
    before: VerificationStatus,
    reviewing: &[String],
    changed: &[String],
) -> Vec<String> {
    let mut fields: Vec<String> = match before {
        VerificationStatus::Verified => Vec::new(),
        _ => reviewing.to_vec(),
    };
    fields.extend(changed.iter().cloned());
    fields.sort();
    fields.dedup();
    fields
}

impl fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use VerificationStatus::*;

    #[test]
    fn only_pending_is_decided() {
        assert_eq!(Pending.decide(Outcome::Verified), Ok(Verified));
        assert_eq!(Pending.decide(Outcome::Rejected), Ok(Rejected));
        assert_eq!(Pending.decide(Outcome::ActionRequired), Ok(ActionRequired));
        for status in [ActionRequired, Verified, Rejected] {
            assert_eq!(
                status.decide(Outcome::Verified),
                Err(Refused::NotPending(status))
            );
        }
    }

    #[test]
    fn evidence_answers_action_required_only() {
        assert_eq!(ActionRequired.evidence_received(), Ok(Pending));
        for status in [Pending, Verified, Rejected] {
            assert_eq!(
                status.evidence_received(),
                Err(Refused::NotAwaitingEvidence(status))
            );
        }
    }

    #[test]
    fn a_legal_change_reopens_verified_and_reviews_only_what_changed() {
        assert_eq!(Verified.after_legal_change(), Ok(Pending));
        assert_eq!(Pending.after_legal_change(), Ok(Pending));
        assert_eq!(ActionRequired.after_legal_change(), Ok(ActionRequired));
        assert_eq!(Rejected.after_legal_change(), Err(Refused::Rejected));
        let name = vec!["legal_name".to_owned()];
        let city = vec!["address.city".to_owned()];
        assert_eq!(under_review_after_change(Verified, &city, &name), name);
        assert_eq!(
            under_review_after_change(Pending, &name, &city),
            vec!["address.city".to_owned(), "legal_name".to_owned()]
        );
    }

    #[test]
    fn ids_round_trip() {
        for status in VerificationStatus::ALL {
            assert_eq!(VerificationStatus::parse(status.id()), Some(status));
        }
        assert_eq!(VerificationStatus::parse("approved"), None);
    }
}
