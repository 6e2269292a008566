//! Identifier newtypes. A bare `Uuid` says nothing about what it names; these do, and the
//! compiler keeps an account id from being passed where a user id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUID v7) identifier.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lower case: the one textual form stored and served.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A partner account (the Partner Global Account of the portal).
    AccountId
);
uuid_id!(
    /// A directory (tenant). Each directory belongs to at most one partner account.
    DirectoryId
);
uuid_id!(
    /// A person's membership in one account.
    UserId
);
uuid_id!(
    /// An integration app (client credentials) registered in an account.
    AppId
);
uuid_id!(
    /// An Action Center item.
    ItemId
);
uuid_id!(
    /// A verification evidence document.
    EvidenceId
);
uuid_id!(
    /// An audit record.
    AuditRecordId
);
uuid_id!(
    /// A message in the outgoing mail queue.
    EmailId
);
uuid_id!(
    /// An account's membership of one program.
    MembershipId
);
uuid_id!(
    /// One association of a person's Learn profile with an account.
    LearningLinkId
);
uuid_id!(
    /// A certification, training or assessment completed on the learning platform.
    CompletionId
);
uuid_id!(
    /// A completion credited to an account (counting, or pending the skilling lag).
    CreditId
);
uuid_id!(
    /// A PAL or DPOR link between the account and a customer tenant.
    PartnerLinkId
);
uuid_id!(
    /// A usage, revenue or deployment record of a customer.
    PerformanceRecordId
);
uuid_id!(
    /// An application for a program that needs the operator's approval.
    ApplicationId
);
uuid_id!(
    /// A commercial marketplace offer.
    OfferId
);
uuid_id!(
    /// A purchase or renewal of a paid program.
    OrderId
);
uuid_id!(
    /// An invoice or credit note.
    InvoiceId
);
uuid_id!(
    /// Money paid back for an order.
    RefundId
);
uuid_id!(
    /// A benefit granted by a membership.
    BenefitId
);
uuid_id!(
    /// A support request.
    SupportRequestId
);
uuid_id!(
    /// A note on a support request.
    SupportNoteId
);

uuid_id!(
    /// A webhook endpoint of an account.
    WebhookId
);

uuid_id!(
    /// A published event (the `webhook-id` every delivery of it carries).
    EventId
);

uuid_id!(
    /// One event's delivery to one webhook endpoint.
    DeliveryId
);

/// The public, human-facing PartnerID of an account: a seven-digit number, as in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartnerId(String);

impl PartnerId {
    pub const MIN: u32 = 1_000_000;
    pub const MAX: u32 = 9_999_999;

    /// Builds a PartnerID from a number drawn by the caller (the domain draws no randomness).
    /// Numbers outside the seven-digit range are folded into it.
    pub fn from_number(number: u32) -> Self {
        let span = Self::MAX - Self::MIN + 1;
        Self((Self::MIN + number % span).to_string())
    }

    /// Accepts a stored PartnerID; `None` unless it is exactly seven digits.
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == 7 && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0'))
            .then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_id_is_always_seven_digits() {
        for n in [0, 1, 999_999, 1_000_000, 9_999_999, 10_000_000, u32::MAX] {
            let id = PartnerId::from_number(n);
            assert!(PartnerId::parse(id.as_str()).is_some(), "{n} gave {id}");
        }
    }

    #[test]
    fn partner_id_parse_refuses_other_shapes() {
        for bad in ["", "123456", "12345678", "0123456", "12a4567"] {
            assert!(PartnerId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ids_print_hyphenated_lowercase() {
        let id: AccountId = "0190F5A4-1B2C-7D3E-8F40-123456789ABC"
            .parse()
            .expect("valid");
        assert_eq!(id.to_string(), "0190f5a4-1b2c-7d3e-8f40-123456789abc");
    }
}
