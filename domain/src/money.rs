//! Money as integer minor units and an ISO 4217 currency (DESIGN §2): never floating point.

use serde::{Deserialize, Serialize};

use crate::field::FieldError;

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

    /// A price: positive, in a three-letter upper-case currency code.
    pub fn check_price(&self) -> Result<(), FieldError> {
        if self.amount_minor <= 0 {
            return Err(FieldError::new(
                "amount_minor",
                "not_positive",
                "a price is a positive number of minor units",
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
