//! Commercial marketplace offers: what Marketplace Rewards requires.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Draft,
    Published,
}

impl OfferStatus {
    pub const fn id(self) -> &'static str {
        match self {
            OfferStatus::Draft => "draft",
            OfferStatus::Published => "published",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [Self::Draft, Self::Published]
            .into_iter()
            .find(|status| status.id() == id)
    }
}
