//! Account verification status (DESIGN §4). Transitions arrive with the verification issue; the
//! foundation only starts every new account as `pending`.

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

impl fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for status in VerificationStatus::ALL {
            assert_eq!(VerificationStatus::parse(status.id()), Some(status));
        }
        assert_eq!(VerificationStatus::parse("approved"), None);
    }
}
