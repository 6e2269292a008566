//! Card payments go through a [`PaymentGateway`]. The built-in [`TestGateway`] decides by the
//! card token alone, so integrations can exercise approval, decline and a gateway outage
//! deterministically; a production deployment plugs a real processor in behind the same trait.

use domain::money::Money;
use uuid::Uuid;

/// Card token the test gateway approves.
pub const TEST_CARD_APPROVE: &str = "tok_test_approve";
/// Card token the test gateway declines (`card_declined`).
pub const TEST_CARD_DECLINE: &str = "tok_test_decline";
/// Card token for which the test gateway is unreachable: a retryable failure.
pub const TEST_CARD_GATEWAY_ERROR: &str = "tok_test_gateway_error";

/// A charge to make. `reference` is the order's id: a gateway must treat a second charge with
/// the same reference as the first (no double charge on retry).
#[derive(Debug, Clone)]
pub struct Charge<'a> {
    pub card_token: &'a str,
    pub amount: &'a Money,
    pub reference: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The card was refused: final for this order.
    Declined { code: String, message: String },
    /// The gateway could not be reached or failed: nothing was charged; retry later.
    Unavailable(String),
}

pub trait PaymentGateway: Send + Sync {
    /// Charges the card; the gateway's charge id on success.
    fn charge(&self, charge: &Charge<'_>) -> Result<String, GatewayError>;
    /// Refunds `amount` of a charge; the gateway's refund id.
    fn refund(
        &self,
        charge_id: &str,
        amount: &Money,
        reference: &str,
    ) -> Result<String, GatewayError>;
}

/// The built-in gateway. It moves no money: it answers by the test card tokens above, and any
/// other token is declined as `invalid_card_token`.
#[derive(Debug, Default)]
pub struct TestGateway;

impl PaymentGateway for TestGateway {
    fn charge(&self, charge: &Charge<'_>) -> Result<String, GatewayError> {
        match charge.card_token {
            TEST_CARD_APPROVE => Ok(format!("ch_test_{}", Uuid::now_v7().simple())),
            TEST_CARD_DECLINE => Err(GatewayError::Declined {
                code: "card_declined".into(),
                message: "The card was declined by its issuer.".into(),
            }),
            TEST_CARD_GATEWAY_ERROR => Err(GatewayError::Unavailable(
                "the test gateway simulates an outage for this token".into(),
            )),
            _ => Err(GatewayError::Declined {
                code: "invalid_card_token".into(),
                message: format!(
                    "The test gateway knows only the tokens {TEST_CARD_APPROVE}, {TEST_CARD_DECLINE} and {TEST_CARD_GATEWAY_ERROR}."
                ),
            }),
        }
    }

    fn refund(
        &self,
        charge_id: &str,
        _amount: &Money,
        _reference: &str,
    ) -> Result<String, GatewayError> {
        if charge_id.starts_with("ch_test_") {
            Ok(format!("re_test_{}", Uuid::now_v7().simple()))
        } else {
            Err(GatewayError::Declined {
                code: "unknown_charge".into(),
                message: "The test gateway did not make this charge.".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_tokens_approve_decline_and_fail() {
        let amount = Money::new(100, "USD");
        let charge = |card_token| {
            TestGateway.charge(&Charge {
                card_token,
                amount: &amount,
                reference: "order",
            })
        };
        let approved = charge(TEST_CARD_APPROVE).expect("approved");
        assert!(TestGateway.refund(&approved, &amount, "order").is_ok());
        assert!(
            matches!(charge(TEST_CARD_DECLINE), Err(GatewayError::Declined { code, .. }) if code == "card_declined")
        );
        assert!(matches!(
            charge(TEST_CARD_GATEWAY_ERROR),
            Err(GatewayError::Unavailable(_))
        ));
        assert!(
            matches!(charge("4242"), Err(GatewayError::Declined { code, .. }) if code == "invalid_card_token")
        );
    }
}
