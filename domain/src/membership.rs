//! A membership's lifecycle (DESIGN §5), computed from the clock rather than moved by a job
//! that may not have run: anniversary = activation + term; the renewal window runs from the
//! anniversary to anniversary + the window length (`renewal_due`, benefits continue); after
//! it, or at the anniversary of a program that cannot be renewed, the membership is `expired`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The stored part of the state: what events decided. Expiry is not stored; it is a function
/// of the dates and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    PendingPayment,
    Active,
    Cancelled,
}

impl Standing {
    pub const fn id(self) -> &'static str {
        match self {
            Standing::PendingPayment => "pending_payment",
            Standing::Active => "active",
            Standing::Cancelled => "cancelled",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [Self::PendingPayment, Self::Active, Self::Cancelled]
            .into_iter()
            .find(|standing| standing.id() == id)
    }
}

/// How the membership came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The base program, joined with the account.
    Automatic,
    /// Joined by the partner (`POST /v1/memberships`).
    Enrollment,
    /// An application the operator approved.
    Application,
    /// Granted by an operator.
    OperatorGrant,
    /// Bought with an order.
    Purchase,
}

impl Source {
    pub const fn id(self) -> &'static str {
        match self {
            Source::Automatic => "automatic",
            Source::Enrollment => "enrollment",
            Source::Application => "application",
            Source::OperatorGrant => "operator_grant",
            Source::Purchase => "purchase",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [
            Self::Automatic,
            Self::Enrollment,
            Self::Application,
            Self::OperatorGrant,
            Self::Purchase,
        ]
        .into_iter()
        .find(|source| source.id() == id)
    }
}

/// Where an application for a program the operator approves stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub const fn id(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [Self::Submitted, Self::Approved, Self::Rejected]
            .into_iter()
            .find(|status| status.id() == id)
    }
}

/// The status served to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    PendingPayment,
    Active,
    RenewalDue,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::PendingPayment,
        Status::Active,
        Status::RenewalDue,
        Status::Expired,
        Status::Cancelled,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            Status::PendingPayment => "pending_payment",
            Status::Active => "active",
            Status::RenewalDue => "renewal_due",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether the membership counts as held (prerequisites, benefits, workspaces).
    pub const fn is_in_force(self) -> bool {
        matches!(self, Status::Active | Status::RenewalDue)
    }
}

/// The dates of an activated membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub activated_at: DateTime<Utc>,
    /// `None`: the membership has no anniversary and never expires (the base program).
    pub anniversary: Option<DateTime<Utc>>,
    pub renewable: bool,
}

/// The renewal window `[starts_at, ends_at)`: `starts_at` is the first instant of
/// `renewal_due`, `ends_at` the first instant of `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalWindow {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Activation + term.
pub fn anniversary(activated_at: DateTime<Utc>, term_days: u32) -> DateTime<Utc> {
    activated_at + Duration::days(i64::from(term_days))
}

impl Term {
    pub fn new(activated_at: DateTime<Utc>, term_days: Option<u32>, renewable: bool) -> Self {
        Self {
            activated_at,
            anniversary: term_days.map(|days| anniversary(activated_at, days)),
            renewable,
        }
    }

    pub fn renewal_window(&self, window_days: u32) -> Option<RenewalWindow> {
        let starts_at = self.anniversary.filter(|_| self.renewable)?;
        Some(RenewalWindow {
            starts_at,
            ends_at: starts_at + Duration::days(i64::from(window_days)),
        })
    }

    /// The first instant at which the membership is expired, if it ever is.
    pub fn expires_at(&self, window_days: u32) -> Option<DateTime<Utc>> {
        match self.renewal_window(window_days) {
            Some(window) => Some(window.ends_at),
            None => self.anniversary,
        }
    }

    /// The status of an active membership at `now`.
    pub fn status(&self, window_days: u32, now: DateTime<Utc>) -> Status {
        if self.expires_at(window_days).is_some_and(|end| now >= end) {
            return Status::Expired;
        }
        match self.renewal_window(window_days) {
            Some(window) if now >= window.starts_at => Status::RenewalDue,
            _ => Status::Active,
        }
    }
}

/// The changes time alone makes to an active term in `(from, to]`, in order: the renewal
/// window opening (`renewal_due`) and the membership expiring.
pub fn transitions_between(
    term: &Term,
    window_days: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(Status, DateTime<Utc>)> {
    let within = |at: DateTime<Utc>| at > from && at <= to;
    let mut changes = Vec::new();
    if let Some(window) = term
        .renewal_window(window_days)
        .filter(|w| within(w.starts_at))
    {
        changes.push((Status::RenewalDue, window.starts_at));
    }
    if let Some(end) = term.expires_at(window_days).filter(|end| within(*end)) {
        changes.push((Status::Expired, end));
    }
    changes
}

/// The status of a membership at `now`.
pub fn status(
    standing: Standing,
    term: Option<&Term>,
    window_days: u32,
    now: DateTime<Utc>,
) -> Status {
    match (standing, term) {
        (Standing::Cancelled, _) => Status::Cancelled,
        (Standing::PendingPayment, _) | (Standing::Active, None) => Status::PendingPayment,
        (Standing::Active, Some(term)) => term.status(window_days, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(days: i64, seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::days(days)
            + Duration::seconds(seconds)
    }

    const WINDOW: u32 = 30;

    #[test]
    fn renewal_due_from_its_first_second_to_its_last() {
        let term = Term::new(at(0, 0), Some(365), true);
        assert_eq!(term.status(WINDOW, at(365, -1)), Status::Active);
        assert_eq!(term.status(WINDOW, at(365, 0)), Status::RenewalDue);
        assert_eq!(term.status(WINDOW, at(395, -1)), Status::RenewalDue);
        assert_eq!(term.status(WINDOW, at(395, 0)), Status::Expired);
    }

    #[test]
    fn a_program_that_cannot_be_renewed_expires_at_its_anniversary() {
        let term = Term::new(at(0, 0), Some(365), false);
        assert_eq!(term.renewal_window(WINDOW), None);
        assert_eq!(term.status(WINDOW, at(365, -1)), Status::Active);
        assert_eq!(term.status(WINDOW, at(365, 0)), Status::Expired);
    }

    #[test]
    fn a_membership_without_term_never_expires() {
        let term = Term::new(at(0, 0), None, false);
        assert_eq!(term.status(WINDOW, at(100_000, 0)), Status::Active);
    }

    #[test]
    fn time_changes_are_reported_once_in_the_interval_that_holds_them() {
        let term = Term::new(at(0, 0), Some(365), true);
        let due = at(365, 0);
        let expires = at(395, 0);
        assert_eq!(
            transitions_between(&term, 30, due - Duration::seconds(1), due),
            vec![(Status::RenewalDue, due)]
        );
        assert!(transitions_between(&term, 30, due, expires - Duration::seconds(1)).is_empty());
        assert_eq!(
            transitions_between(&term, 30, at(0, 0), at(500, 0)),
            vec![(Status::RenewalDue, due), (Status::Expired, expires)]
        );
        let once = Term::new(at(0, 0), Some(365), false);
        assert_eq!(
            transitions_between(&once, 30, at(0, 0), at(500, 0)),
            vec![(Status::Expired, due)]
        );
    }

    #[test]
    fn stored_standing_overrides_the_clock() {
        let term = Term::new(at(0, 0), Some(365), true);
        assert_eq!(
            status(Standing::Cancelled, Some(&term), WINDOW, at(1, 0)),
            Status::Cancelled
        );
        assert_eq!(
            status(Standing::PendingPayment, None, WINDOW, at(1, 0)),
            Status::PendingPayment
        );
    }
}
