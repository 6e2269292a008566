//! Money as integer minor units and an ISO 4217 currency (DESIGN §2): never floating point.

use serde::{Deserialize, Serialize};

use crate::field::FieldError;

/// The largest price: with any tax rate up to 100 %, totals stay far inside `i64`.
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

impl Money {
    pub fn new(amount_minor: i64, currency: &str) -> Self {
        Self {
            amount_minor,
            currency: currency.to_owned(),
        }
    }

    /// A price: positive, at most [`MAX_PRICE_MINOR`], in a three-letter upper-case currency
    /// code.
    pub fn check_price(&self) -> Result<(), FieldError> {
        if self.amount_minor <= 0 {
            return Err(FieldError::new(
                "amount_minor",
                "not_positive",
                "a price is a positive number of minor units",
            ));
        }
        if self.amount_minor > MAX_PRICE_MINOR {
            return Err(FieldError::new(
                "amount_minor",
                "too_large",
                "a price is at most 1000000000000 minor units",
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "currency",
                "invalid_currency",
                "an ISO 4217 code such as USD",
            ));
        }
        Ok(())
    }
}
