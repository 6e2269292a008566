//! Commercial marketplace offers.

use chrono::{DateTime, Utc};
use domain::marketplace::OfferStatus as Status;
use persistence::repos::offers::Offer as Record;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// Creates a draft offer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOfferRequest {
    #[validate(length(
        min = 1,
        max = 200,
        code = "invalid_length",
        message = "1 to 200 characters"
    ))]
    #[schema(min_length = 1, example = "Contoso Threat Insights", max_length = 200)]
    pub name: String,
    /// Whether customers buy it through the marketplace (what Marketplace Rewards needs).
    pub transactable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Draft,
    Published,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Offer {
    pub id: Uuid,
    pub name: String,
    pub transactable: bool,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&Record> for Offer {
    fn from(offer: &Record) -> Self {
        Offer {
            id: offer.id.as_uuid(),
            name: offer.name.clone(),
            transactable: offer.transactable,
            status: match offer.status {
                Status::Draft => OfferStatus::Draft,
                Status::Published => OfferStatus::Published,
            },
            created_at: offer.created_at,
            published_at: offer.published_at,
        }
    }
}

/// One page of offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    pub items: Vec<Offer>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
