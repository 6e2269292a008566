//! Action Center (DESIGN §8): actions (mandatory or recommended, with a due date) and
//! notifications (transactional or promotional), raised by domain events; who may archive what;
//! which emails a person's preferences let through; the contact-email verification code.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::role::Role;
use crate::verification::VerificationStatus;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Action,
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Mandatory,
    Recommended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Transactional,
    Promotional,
}

/// The email categories of a person's preferences. Action emails cannot be opted out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailCategory {
    Mandatory,
    Recommended,
    Transactional,
    Promotional,
}

impl EmailCategory {
    pub fn can_opt_out(self) -> bool {
        matches!(
            self,
            EmailCategory::Transactional | EmailCategory::Promotional
        )
    }
}

/// What an item is: an action with its priority, or a notification with its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Action(Priority),
    Notification(Category),
}

impl Class {
    pub fn kind(self) -> Kind {
        match self {
            Class::Action(_) => Kind::Action,
            Class::Notification(_) => Kind::Notification,
        }
    }

    pub fn email_category(self) -> EmailCategory {
        match self {
            Class::Action(Priority::Mandatory) => EmailCategory::Mandatory,
            Class::Action(Priority::Recommended) => EmailCategory::Recommended,
            Class::Notification(Category::Transactional) => EmailCategory::Transactional,
            Class::Notification(Category::Promotional) => EmailCategory::Promotional,
        }
    }

    /// Mandatory actions stay until done; everything else can be archived.
    pub fn can_archive(self) -> bool {
        self != Class::Action(Priority::Mandatory)
    }
}

/// Who sees an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience<U> {
    /// One person (for example, the user who was added).
    User(U),
    /// Everyone whose roles reach the workspace.
    Workspace,
}

/// An item to raise, decided by the domain from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem<U> {
    pub class: Class,
    /// The event that raised it, e.g. `verification.action_required`.
    pub event: &'static str,
    pub workspace: Workspace,
    pub audience: Audience<U>,
    pub title: String,
    pub message: String,
    pub due_at: Option<DateTime<Utc>>,
}

/// How long a partner has to answer a request for verification evidence.
pub const EVIDENCE_DUE_DAYS: i64 = 14;

/// The item raised when verification changes to `status`.
pub fn verification_item<U>(
    status: VerificationStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> NewItem<U> {
    let reason = reason.map(|r| format!(" Reason: {r}")).unwrap_or_default();
    let (class, event, title, message, due_at) = match status {
        VerificationStatus::ActionRequired => (
            Class::Action(Priority::Mandatory),
            "verification.action_required",
            "Verification needs your action",
            format!("Upload a document that supports your company's legal details.{reason}"),
            Some(now + Duration::days(EVIDENCE_DUE_DAYS)),
        ),
        VerificationStatus::Verified => (
            Class::Notification(Category::Transactional),
            "verification.verified",
            "Your account is verified",
            "Your company's legal details were verified.".to_owned(),
            None,
        ),
        VerificationStatus::Rejected => (
            Class::Notification(Category::Transactional),
            "verification.rejected",
            "Verification was rejected",
            format!("Your company's verification was rejected.{reason}"),
            None,
        ),
        VerificationStatus::Pending => (
            Class::Notification(Category::Transactional),
            "verification.pending",
            "Verification is under review",
            "Your company's legal details are being reviewed.".to_owned(),
            None,
        ),
    };
    NewItem {
        class,
        event,
        workspace: Workspace::AccountSettings,
        audience: Audience::Workspace,
        title: title.to_owned(),
        message,
        due_at,
    }
}

fn role_list(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "no roles".to_owned();
    }
    roles
        .iter()
        .map(|role| role.id())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The item telling a person they were added to the account.
pub fn user_added_item<U>(user: U, account_name: &str, roles: &[Role]) -> NewItem<U> {
    NewItem {
        class: Class::Notification(Category::Transactional),
        event: "user.added",
        workspace: Workspace::ActionCenter,
        audience: Audience::User(user),
        title: format!("You were added to {account_name}"),
        message: format!("Your roles: {}.", role_list(roles)),
        due_at: None,
    }
}

/// The item telling a person their roles changed.
pub fn roles_changed_item<U>(user: U, roles: &[Role]) -> NewItem<U> {
    NewItem {
        class: Class::Notification(Category::Transactional),
        event: "user.roles_changed",
        workspace: Workspace::ActionCenter,
        audience: Audience::User(user),
        title: "Your roles changed".to_owned(),
        message: format!("Your roles are now: {}.", role_list(roles)),
        due_at: None,
    }
}

/// The item telling account admins an integration app was registered.
pub fn app_registered_item<U>(name: &str) -> NewItem<U> {
    NewItem {
        class: Class::Notification(Category::Transactional),
        event: "app.registered",
        workspace: Workspace::AccountSettings,
        audience: Audience::Workspace,
        title: "An app was registered".to_owned(),
        message: format!("The app \"{name}\" can now obtain tokens for this account."),
        due_at: None,
    }
}

/// Whether a person who opted out of `opted_out` gets email of `category`.
pub fn email_allowed(category: EmailCategory, opted_out: &[EmailCategory]) -> bool {
    !category.can_opt_out() || !opted_out.contains(&category)
}

/// The contact-email verification code: six digits, valid for 30 minutes, five wrong guesses.
pub mod code {
    use super::*;

    pub const DIGITS: usize = 6;
    pub const VALID_MINUTES: i64 = 30;
    pub const MAX_ATTEMPTS: i32 = 5;

    /// Why a code was not accepted.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Refused {
        /// No code is outstanding (never sent, or already used).
        NoneSent,
        Expired,
        /// Too many wrong guesses: a new code must be sent.
        Exhausted,
        Wrong,
    }

    /// A code drawn by the caller (the domain draws no randomness), folded into six digits.
    pub fn from_number(number: u32) -> String {
        format!("{:06}", number % 1_000_000)
    }

    pub fn expires_at(sent_at: DateTime<Utc>) -> DateTime<Utc> {
        sent_at + Duration::minutes(VALID_MINUTES)
    }

    /// Checks a guess given whether it matched, the code's expiry and the failed attempts.
    pub fn check(
        outstanding: Option<DateTime<Utc>>,
        attempts: i32,
        matches: bool,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        let expires_at = outstanding.ok_or(Refused::NoneSent)?;
        if attempts >= MAX_ATTEMPTS {
            return Err(Refused::Exhausted);
        }
        if now >= expires_at {
            return Err(Refused::Expired);
        }
        if !matches {
            return Err(Refused::Wrong);
        }
        Ok(())
    }
}

/// The item raised when a membership becomes active.
pub fn membership_activated_item<U>(
    program_name: &str,
    anniversary: Option<DateTime<Utc>>,
) -> NewItem<U> {
    let until = anniversary
        .map(|at| format!(" Its anniversary is {}.", at.format("%Y-%m-%d")))
        .unwrap_or_default();
    NewItem {
        class: Class::Notification(Category::Transactional),
        event: "membership.activated",
        workspace: Workspace::Membership,
        audience: Audience::Workspace,
        title: format!("{program_name} is active"),
        message: format!("The account's membership of {program_name} is active.{until}"),
        due_at: None,
    }
}

/// The item raised when the operator decides a program application.
pub fn application_decided_item<U>(
    program_name: &str,
    approved: bool,
    reason: Option<&str>,
) -> NewItem<U> {
    let (event, title, message) = if approved {
        (
            "program_application.approved",
            format!("Your application for {program_name} was approved"),
            format!("The membership of {program_name} is active."),
        )
    } else {
        (
            "program_application.rejected",
            format!("Your application for {program_name} was rejected"),
            format!(
                "The application was rejected.{}",
                reason.map(|r| format!(" Reason: {r}")).unwrap_or_default()
            ),
        )
    };
    NewItem {
        class: Class::Notification(Category::Transactional),
        event,
        workspace: Workspace::Membership,
        audience: Audience::Workspace,
        title,
        message,
        due_at: None,
    }
}

/// The item raised for a person whose Learn profile was linked to another account.
pub fn learning_profile_moved_item<U>(user: U, learn_id: &str) -> NewItem<U> {
    NewItem {
        class: Class::Notification(Category::Transactional),
        event: "skilling.profile_unlinked",
        workspace: Workspace::Membership,
        audience: Audience::User(user),
        title: "Your Learn profile left this account".to_owned(),
        message: format!(
            "The Learn profile {learn_id} was linked to another partner account; its completions no longer count here."
        ),
        due_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandatory_actions_cannot_be_archived() {
        assert!(!Class::Action(Priority::Mandatory).can_archive());
        assert!(Class::Action(Priority::Recommended).can_archive());
        assert!(Class::Notification(Category::Promotional).can_archive());
    }

    #[test]
    fn only_notifications_can_be_opted_out_of() {
        let all = [
            EmailCategory::Mandatory,
            EmailCategory::Recommended,
            EmailCategory::Transactional,
            EmailCategory::Promotional,
        ];
        assert!(email_allowed(EmailCategory::Mandatory, &all));
        assert!(email_allowed(EmailCategory::Recommended, &all));
        assert!(!email_allowed(EmailCategory::Promotional, &all));
        assert!(email_allowed(EmailCategory::Promotional, &[]));
    }

    #[test]
    fn evidence_requests_are_mandatory_and_due_in_fourteen_days() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
        let item: NewItem<()> =
            verification_item(VerificationStatus::ActionRequired, Some("blurry scan"), now);
        assert_eq!(item.class, Class::Action(Priority::Mandatory));
        assert_eq!(item.due_at, Some(now + Duration::days(14)));
        assert!(item.message.contains("blurry scan"));
    }

    #[test]
    fn codes_expire_at_thirty_minutes_and_after_five_wrong_guesses() {
        let sent = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
        let expiry = code::expires_at(sent);
        let just_before = expiry - Duration::microseconds(1);
        assert_eq!(code::check(Some(expiry), 0, true, just_before), Ok(()));
        assert_eq!(
            code::check(Some(expiry), 0, true, expiry),
            Err(code::Refused::Expired)
        );
        assert_eq!(
            code::check(Some(expiry), 4, false, sent),
            Err(code::Refused::Wrong)
        );
        assert_eq!(
            code::check(Some(expiry), 5, true, sent),
            Err(code::Refused::Exhausted)
        );
        assert_eq!(
            code::check(None, 0, true, sent),
            Err(code::Refused::NoneSent)
        );
        assert_eq!(code::from_number(42), "000042");
        assert_eq!(code::from_number(1_234_567), "234567");
    }
}
