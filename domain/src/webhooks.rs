//! Webhook rules: the catalog of published events, which endpoint wants which event, when a
//! failed delivery is tried again, and when an endpoint that keeps failing is switched off.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

vocabulary!(
    /// Every event a webhook endpoint can subscribe to. Most report one audited change under
    /// the audit record's own action name; `verification.status_changed` accompanies any
    /// change that moves the verification status, `action_center.item_created` any new item,
    /// and `membership.renewal_due`, `membership.expired` and `skilling.credit_counted` are
    /// announced when the account's clock passes the instant that decides them.
    EventType {
        VerificationStatusChanged => "verification.status_changed",
        VerificationEvidenceUploaded => "verification.evidence_uploaded",
        LegalProfileUpdated => "legal_profile.updated",
        UserCreated => "user.created",
        UserUpdated => "user.updated",
        UserDeleted => "user.deleted",
        UserRolesChanged => "user.roles_changed",
        AppCreated => "app.created",
        AppSecretRotated => "app.secret_rotated",
        AppDeleted => "app.deleted",
        MembershipActivated => "membership.activated",
        MembershipRenewalDue => "membership.renewal_due",
        MembershipRenewed => "membership.renewed",
        MembershipExpired => "membership.expired",
        ProgramApplicationSubmitted => "program_application.submitted",
        ProgramApplicationDecided => "program_application.decided",
        SkillingProfileLinked => "skilling.profile_linked",
        SkillingCompletionCredited => "skilling.completion_credited",
        SkillingCreditCounted => "skilling.credit_counted",
        PerformanceRecorded => "performance.recorded",
        PartnerLinkCreated => "partner_link.created",
        PartnerLinkDeleted => "partner_link.deleted",
        MarketplaceOfferCreated => "marketplace_offer.created",
        MarketplaceOfferPublished => "marketplace_offer.published",
        OrderPlaced => "order.placed",
        OrderAwaitingPayment => "order.awaiting_payment",
        OrderPaid => "order.paid",
        OrderFailed => "order.failed",
        OrderCancelled => "order.cancelled",
        OrderExpired => "order.expired",
        RefundCompleted => "refund.completed",
        BenefitActivated => "benefit.activated",
        BenefitReassigned => "benefit.reassigned",
        BenefitKeyRevealed => "benefit.key_revealed",
        SupportRequestOpened => "support_request.opened",
        SupportRequestUpdated => "support_request.updated",
        SupportRequestDecided => "support_request.decided",
        ActionCenterItemCreated => "action_center.item_created",
    }
);

impl EventType {
    /// The event an audited change publishes under its own name, if it is published at all
    /// (preference changes, archives and sandbox clock moves are not; the two derived events
    /// are never an audit action of their own).
    pub fn for_audit_action(action: &str) -> Option<EventType> {
        Self::parse(action).filter(|event| {
            !matches!(
                event,
                EventType::VerificationStatusChanged | EventType::ActionCenterItemCreated
            )
        })
    }
}

/// What an endpoint subscribes to: every event, or the listed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    All,
    Only(Vec<EventType>),
}

/// The wildcard that subscribes to every event, present and future.
pub const ALL_EVENTS: &str = "*";

impl Subscription {
    /// Parses the requested names; returns the position and name of the first unknown one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Subscription, (usize, String)> {
        if names.iter().any(|name| name.as_ref() == ALL_EVENTS) {
            return Ok(Subscription::All);
        }
        let mut events = Vec::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            let event = EventType::parse(name.as_ref()).ok_or((index, name.as_ref().to_owned()))?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        Ok(Subscription::Only(events))
    }

    pub fn wants(&self, event: EventType) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(events) => events.contains(&event),
        }
    }

    pub fn names(&self) -> Vec<String> {
        match self {
            Subscription::All => vec![ALL_EVENTS.to_owned()],
            Subscription::Only(events) => events.iter().map(|e| e.id().to_owned()).collect(),
        }
    }
}

vocabulary!(
    /// Where one event's delivery to one endpoint stands.
    DeliveryStatus { Pending => "pending", Succeeded => "succeeded", Failed => "failed" }
);

vocabulary!(
    /// Why an endpoint receives nothing: switched off by a person, or by sustained failure.
    DisabledReason { Manual => "manual", Failing => "failing" }
);

/// How failed deliveries are retried: the delay doubles from `base` up to `cap`, and a
/// delivery whose first attempt is older than `give_up_after` is not tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts (1 after the first), the first of
    /// them at `first_attempt_at`; `None` once the retry period is spent.
    pub fn next_attempt(
        &self,
        attempts: u32,
        first_attempt_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let doublings = attempts.saturating_sub(1).min(30);
        let delay = self
            .base
            .checked_mul(1 << doublings)
            .map_or(self.cap, |delay| delay.min(self.cap));
        let next = now + delay;
        (next - first_attempt_at <= self.give_up_after).then_some(next)
    }
}

/// An endpoint that has failed every attempt since `failing_since` is switched off once that
/// has lasted `disable_after`.
pub fn should_disable(
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> bool {
    now - failing_since >= disable_after
}

/// Which endpoint receives `event` now: an enabled one that subscribes to it.
pub fn receives(enabled: bool, subscription: &Subscription, event: EventType) -> bool {
    enabled && subscription.wants(event)
}

/// A request body as the endpoint will see it: the event's id, type, instant, account and data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<D> {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub account_id: String,
    pub data: D,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds)
    }

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::seconds(30),
        cap: Duration::hours(6),
        give_up_after: Duration::days(3),
    };

    #[test]
    fn retry_delays_double_from_the_base_up_to_the_cap() {
        let start = at(0);
        let delays: Vec<i64> = (1..=12)
            .map(|attempts| {
                POLICY
                    .next_attempt(attempts, start, start)
                    .map(|next| (next - start).num_seconds())
                    .expect("within the period")
            })
            .collect();
        assert_eq!(
            delays,
            [
                30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600
            ]
        );
        assert_eq!(
            POLICY.next_attempt(1_000, start, start),
            Some(start + Duration::hours(6))
        );
    }

    #[test]
    fn no_retry_lands_after_three_days_from_the_first_attempt() {
        let first = at(0);
        let last_allowed = first + Duration::days(3) - Duration::hours(6);
        assert_eq!(
            POLICY.next_attempt(20, first, last_allowed),
            Some(first + Duration::days(3))
        );
        assert_eq!(
            POLICY.next_attempt(20, first, last_allowed + Duration::seconds(1)),
            None
        );
    }

    #[test]
    fn an_endpoint_is_disabled_when_failure_has_lasted_the_period() {
        let since = at(0);
        let period = Duration::days(3);
        assert!(!should_disable(
            since,
            since + period - Duration::seconds(1),
            period
        ));
        assert!(should_disable(since, since + period, period));
    }

    #[test]
    fn subscriptions_name_known_events_or_all() {
        assert_eq!(
            Subscription::parse(&["order.paid", "*"]),
            Ok(Subscription::All)
        );
        let only =
            Subscription::parse(&["order.paid", "order.paid", "refund.completed"]).expect("known");
        assert_eq!(only.names(), ["order.paid", "refund.completed"]);
        assert!(only.wants(EventType::OrderPaid));
        assert!(!only.wants(EventType::OrderExpired));
        assert!(!receives(false, &Subscription::All, EventType::OrderPaid));
        assert_eq!(
            Subscription::parse(&["order.paid", "order.payed"]),
            Err((1, "order.payed".to_owned()))
        );
    }

    #[test]
    fn derived_events_are_not_published_under_an_audit_action() {
        assert_eq!(
            EventType::for_audit_action("order.paid"),
            Some(EventType::OrderPaid)
        );
        assert_eq!(EventType::for_audit_action("preferences.updated"), None);
        assert_eq!(
            EventType::for_audit_action("action_center.item_created"),
            None
        );
        assert_eq!(
            EventType::for_audit_action("verification.status_changed"),
            None
        );
    }
}
