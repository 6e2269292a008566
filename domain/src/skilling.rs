//! Skilling credit (DESIGN §6): when a completion starts to count, and when a person may
//! associate their Learn profile with an account again.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::Rules;

/// A completion counts from `max(linked_at, completed_at) + lag` (the skilling lag).
pub fn counts_from(
    linked_at: DateTime<Utc>,
    completed_at: DateTime<Utc>,
    lag_days: u32,
) -> DateTime<Utc> {
    linked_at.max(completed_at) + Duration::days(i64::from(lag_days))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// Waiting for the skilling lag to pass.
    Pending,
    Counted,
}

impl CreditStatus {
    pub fn at(counts_from: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if now >= counts_from {
            CreditStatus::Counted
        } else {
            CreditStatus::Pending
        }
    }

    pub const fn id(self) -> &'static str {
        match self {
            CreditStatus::Pending => "pending",
            CreditStatus::Counted => "counted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionKind {
    Certification,
    Training,
    Assessment,
}

impl CompletionKind {
    pub const fn id(self) -> &'static str {
        match self {
            CompletionKind::Certification => "certification",
            CompletionKind::Training => "training",
            CompletionKind::Assessment => "assessment",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [Self::Certification, Self::Training, Self::Assessment]
            .into_iter()
            .find(|kind| kind.id() == id)
    }
}

/// Why a new association is refused, and when it will be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationRefused {
    /// The previous association is less than the cooling-off period old.
    CoolingOff { allowed_from: DateTime<Utc> },
    /// The person already made the maximum number of associations in the period.
    TooMany { allowed_from: DateTime<Utc> },
}

impl AssociationRefused {
    pub fn allowed_from(self) -> DateTime<Utc> {
        match self {
            AssociationRefused::CoolingOff { allowed_from }
            | AssociationRefused::TooMany { allowed_from } => allowed_from,
        }
    }
}

/// Whether a person whose earlier associations happened at `history` may associate at `now`:
/// at most `max_associations` in any `association_period_days`, and at least
/// `association_cooling_off_days` since the previous one.
pub fn may_associate(
    history: &[DateTime<Utc>],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<(), AssociationRefused> {
    let mut earlier: Vec<DateTime<Utc>> = history.iter().copied().filter(|t| *t <= now).collect();
    earlier.sort();
    let cooling_off = Duration::days(i64::from(rules.association_cooling_off_days));
    let period = Duration::days(i64::from(rules.association_period_days));
    let cooled_at = earlier.last().map(|last| *last + cooling_off);
    // Associations within (now - period, now]: an association exactly one period old no longer
    // counts.
    let in_period: Vec<DateTime<Utc>> = earlier
        .iter()
        .copied()
        .filter(|t| *t + period > now)
        .collect();
    let limit = usize::try_from(rules.max_associations).unwrap_or(usize::MAX);
    if limit == 0 {
        return Err(AssociationRefused::TooMany {
            allowed_from: DateTime::<Utc>::MAX_UTC,
        });
    }
    if in_period.len() >= limit {
        // Allowed again when enough of the oldest ones have left the period.
        let leaving = in_period[in_period.len() - limit];
        let allowed_from = (leaving + period).max(cooled_at.unwrap_or(leaving + period));
        return Err(AssociationRefused::TooMany { allowed_from });
    }
    if let Some(cooled_at) = cooled_at
        && now < cooled_at
    {
        return Err(AssociationRefused::CoolingOff {
            allowed_from: cooled_at,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn rules() -> Rules {
        Rules {
            skilling_lag_days: 10,
            renewal_window_days: 30,
            max_associations: 3,
            association_period_days: 365,
            association_cooling_off_days: 30,
            wire_payment_days: 30,
            refund_window_days: 30,
            max_credit_reassignments: 5,
            tax_rates_bps: Default::default(),
        }
    }

    fn day(days: i64, seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::days(days)
            + Duration::seconds(seconds)
    }

    #[test]
    fn completion_counts_ten_days_after_the_later_of_link_and_completion() {
        assert_eq!(counts_from(day(0, 0), day(5, 0), 10), day(15, 0));
        assert_eq!(counts_from(day(5, 0), day(0, 0), 10), day(15, 0));
        assert_eq!(
            CreditStatus::at(day(15, 0), day(15, -1)),
            CreditStatus::Pending
        );
        assert_eq!(
            CreditStatus::at(day(15, 0), day(15, 0)),
            CreditStatus::Counted
        );
    }

    #[test]
    fn association_after_29_days_is_refused_and_after_30_allowed() {
        let history = [day(0, 0)];
        assert_eq!(
            may_associate(&history, &rules(), day(29, 0)),
            Err(AssociationRefused::CoolingOff {
                allowed_from: day(30, 0)
            })
        );
        assert_eq!(may_associate(&history, &rules(), day(30, 0)), Ok(()));
    }

    #[test]
    fn fourth_association_within_365_days_is_refused() {
        let history = [day(0, 0), day(30, 0), day(60, 0)];
        assert_eq!(
            may_associate(&history, &rules(), day(90, 0)),
            Err(AssociationRefused::TooMany {
                allowed_from: day(365, 0)
            })
        );
        assert!(may_associate(&history, &rules(), day(365, -1)).is_err());
        assert_eq!(may_associate(&history, &rules(), day(365, 0)), Ok(()));
        assert_eq!(may_associate(&history[..2], &rules(), day(90, 0)), Ok(()));
    }
}
