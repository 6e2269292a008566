use chrono::{DateTime, Utc};
use persistence::repos::action_center::{
    Item as ItemRecord, Preferences as PreferencesRecord, Status,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::role::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Action,
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemPriority {
    Mandatory,
    Recommended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemCategory {
    Transactional,
    Promotional,
}

/// Where an item stands for the caller: archiving is per person; an action completes for
/// everyone when what it asked for is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Active,
    Archived,
    Completed,
}

impl From<ItemStatus> for Status {
    fn from(status: ItemStatus) -> Self {
        match status {
            ItemStatus::Active => Status::Active,
            ItemStatus::Archived => Status::Archived,
            ItemStatus::Completed => Status::Completed,
        }
    }
}

/// An Action Center item.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    pub id: Uuid,
    pub kind: ItemKind,
    /// For actions.
    pub priority: Option<ItemPriority>,
    /// For notifications.
    pub category: Option<ItemCategory>,
    /// The event that raised it, e.g. `verification.action_required`, `user.added`.
    #[schema(example = "verification.action_required")]
    pub event: String,
    pub workspace: Workspace,
    /// Addressed to the caller alone (rather than to everyone with the workspace).
    pub personal: bool,
    pub title: String,
    pub message: String,
    /// What the item is about, e.g. `user` and its id.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// For actions: when it is due.
    pub due_at: Option<DateTime<Utc>>,
    pub status: ItemStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&ItemRecord> for Item {
    fn from(record: &ItemRecord) -> Self {
        use domain::action_center::{Category, Class, Priority};
        let (kind, priority, category) = match record.class {
            Class::Action(priority) => (
                ItemKind::Action,
                Some(match priority {
                    Priority::Mandatory => ItemPriority::Mandatory,
                    Priority::Recommended => ItemPriority::Recommended,
                }),
                None,
            ),
            Class::Notification(category) => (
                ItemKind::Notification,
                None,
                Some(match category {
                    Category::Transactional => ItemCategory::Transactional,
                    Category::Promotional => ItemCategory::Promotional,
                }),
            ),
        };
        Item {
            id: record.id.as_uuid(),
            kind,
            priority,
            category,
            event: record.event.clone(),
            workspace: record.workspace.into(),
            personal: record.personal,
            title: record.title.clone(),
            message: record.message.clone(),
            target_type: record.target_type.clone(),
            target_id: record.target_id.clone(),
            due_at: record.due_at,
            status: match record.status() {
                Status::Active => ItemStatus::Active,
                Status::Archived => ItemStatus::Archived,
                Status::Completed => ItemStatus::Completed,
            },
            completed_at: record.completed_at,
            archived_at: record.archived_at,
            created_at: record.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub kind: Option<ItemKind>,
    /// Actions of this priority.
    pub priority: Option<ItemPriority>,
    pub status: Option<ItemStatus>,
}

/// Email categories of the preferences. Only `transactional` and `promotional` can be opted
/// out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailCategory {
    Mandatory,
    Recommended,
    Transactional,
    Promotional,
}

impl From<EmailCategory> for domain::action_center::EmailCategory {
    fn from(category: EmailCategory) -> Self {
        use domain::action_center::EmailCategory as C;
        match category {
            EmailCategory::Mandatory => C::Mandatory,
            EmailCategory::Recommended => C::Recommended,
            EmailCategory::Transactional => C::Transactional,
            EmailCategory::Promotional => C::Promotional,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactEmailStatus {
    /// No contact email: Action Center sends no email.
    None,
    /// A code was sent; email starts once it is verified.
    Unverified,
    Verified,
}

/// The caller's Action Center preferences.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    /// Where Action Center email goes, once verified.
    pub contact_email: Option<String>,
    pub contact_email_status: ContactEmailStatus,
    /// Email language (BCP 47 tag).
    #[schema(example = "en")]
    pub language: String,
    /// The categories the caller opted out of.
    pub email_opt_outs: Vec<EmailCategory>,
}

impl From<&PreferencesRecord> for Preferences {
    fn from(record: &PreferencesRecord) -> Self {
        let mut email_opt_outs = Vec::new();
        if record.transactional_opt_out {
            email_opt_outs.push(EmailCategory::Transactional);
        }
        if record.promotional_opt_out {
            email_opt_outs.push(EmailCategory::Promotional);
        }
        Preferences {
            contact_email: record.contact_email.clone(),
            contact_email_status: match (&record.contact_email, record.contact_email_verified_at) {
                (None, _) => ContactEmailStatus::None,
                (Some(_), None) => ContactEmailStatus::Unverified,
                (Some(_), Some(_)) => ContactEmailStatus::Verified,
            },
            language: record.language.clone(),
            email_opt_outs,
        }
    }
}

/// Replaces the caller's preferences. A new contact email is sent a verification code.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// `null` stops Action Center email.
    #[validate(length(
        max = 254,
        code = "too_long",
        message = "must be at most 254 characters"
    ))]
    #[schema(example = "jane.doe@contoso.com", max_length = 254)]
    pub contact_email: Option<String>,
    /// A BCP 47 language tag such as `en` or `fr-CA`.
    #[validate(length(
        min = 2,
        max = 35,
        code = "length",
        message = "must be 2 to 35 characters"
    ))]
    #[schema(example = "en", min_length = 2, max_length = 35)]
    pub language: String,
    /// Categories to opt out of: `transactional`, `promotional`. Mandatory and recommended
    /// action email cannot be opted out of (`not_optional`).
    #[validate(length(max = 4, code = "too_long", message = "must list at most 4 categories"))]
    #[schema(max_items = 4)]
    pub email_opt_outs: Vec<EmailCategory>,
}

/// The code sent to the contact email.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyContactEmail {
    #[validate(length(max = 16, code = "too_long", message = "must be at most 16 characters"))]
    #[schema(example = "042517", max_length = 16)]
    pub code: String,
}
