use chrono::{DateTime, Utc};
use persistence::repos::users::User as UserRecord;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::role::Role;

/// A user of the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    #[schema(example = "sam.lee@contoso.com")]
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Sorted.
    pub roles: Vec<Role>,
    /// Whether this user enrolled the account.
    pub is_owner: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&UserRecord> for User {
    fn from(record: &UserRecord) -> Self {
        User {
            id: record.id.as_uuid(),
            email: record.email.clone(),
            first_name: record.first_name.clone(),
            last_name: record.last_name.clone(),
            roles: record.roles.iter().map(|role| (*role).into()).collect(),
            is_owner: record.is_owner,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only holders of this role (e.g. `global_admin` to find the global admins).
    pub role: Option<Role>,
}

/// Adds a person to the account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[validate(length(
        max = 254,
        code = "too_long",
        message = "must be at most 254 characters"
    ))]
    #[schema(example = "sam.lee@contoso.com", format = Email, max_length = 254)]
    pub email: String,
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "Sam", max_length = 100, pattern = r"\S")]
    pub first_name: Option<String>,
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "Lee", max_length = 100, pattern = r"\S")]
    pub last_name: Option<String>,
    /// The roles to grant; each must be one the caller may grant.
    #[validate(length(max = 16, code = "too_long", message = "must list at most 16 roles"))]
    #[schema(max_items = 16)]
    pub roles: Vec<Role>,
}

/// Reads a present field (even `null`) as `Some`, so PATCH can tell "clear" from "keep".
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Changes a user's names. An absent field is kept; `null` clears it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "present")]
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(value_type = Option<String>, max_length = 100, pattern = r"\S")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(value_type = Option<String>, max_length = 100, pattern = r"\S")]
    pub last_name: Option<Option<String>>,
}

/// Replaces a user's roles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRolesRequest {
    #[validate(length(max = 16, code = "too_long", message = "must list at most 16 roles"))]
    #[schema(max_items = 16)]
    pub roles: Vec<Role>,
}
