//! Sandbox accounts: their clock and the stand-ins for operator actions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A sandbox account's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxClock {
    /// The account's now: every rule of the account reads this instant.
    pub now: DateTime<Utc>,
    /// The account's creation, where the clock started.
    pub started_at: DateTime<Utc>,
}

/// Moves the clock forward by days plus seconds (at least one second in all).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClockRequest {
    #[serde(default)]
    #[validate(range(max = 3650, code = "out_of_range", message = "0 to 3650"))]
    #[schema(minimum = 0, maximum = 3650, example = 10)]
    pub advance_days: u32,
    #[serde(default)]
    #[validate(range(max = 315_360_000, code = "out_of_range", message = "0 to 315360000"))]
    #[schema(minimum = 0, maximum = 315_360_000, example = 0)]
    pub advance_seconds: u32,
}
