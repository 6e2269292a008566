use chrono::{DateTime, Utc};
use persistence::repos::apps::App as AppRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::role::Role;

/// An integration app: a client-credentials identity of the account, with roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct App {
    pub id: Uuid,
    /// The app's public identifier at `POST /v1/oauth2/token`.
    pub client_id: String,
    #[schema(example = "Enrollment automation")]
    pub name: String,
    pub roles: Vec<Role>,
    /// The last four characters of the current secret, to tell secrets apart.
    #[schema(example = "x7Qa")]
    pub secret_hint: String,
    pub secret_created_at: DateTime<Utc>,
    /// Who registered the app.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<&AppRecord> for App {
    fn from(record: &AppRecord) -> Self {
        App {
            id: record.id.as_uuid(),
            client_id: record.client_id.clone(),
            name: record.name.clone(),
            roles: record.roles.iter().map(|role| (*role).into()).collect(),
            secret_hint: record.secret_hint.clone(),
            secret_created_at: record.secret_created_at,
            created_by: record.created_by.clone(),
            created_at: record.created_at,
        }
    }
}

/// An app with its secret, shown this once: only a hash of it is stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppWithSecret {
    pub app: App,
    /// Send with `client_id` to `POST /v1/oauth2/token`. Not retrievable later: an idempotent
    /// replay of the registration answers `null` here (the secret is not kept to replay it);
    /// rotate the secret if the first response was lost.
    pub client_secret: Option<String>,
}

/// One page of apps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppList {
    pub items: Vec<App>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Registers an app.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    #[validate(length(
        min = 1,
        max = 100,
        code = "length",
        message = "must be 1 to 100 characters"
    ))]
    #[schema(example = "Enrollment automation", min_length = 1, max_length = 100)]
    pub name: String,
    /// The app's roles; each must be one the caller may grant.
    #[validate(length(max = 16, code = "too_long", message = "must list at most 16 roles"))]
    #[schema(max_items = 16)]
    pub roles: Vec<Role>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
}

/// An error response of the token endpoint (RFC 6749 §5.2), not a problem document: OAuth
/// clients expect this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_grant`,
    /// `invalid_scope` or `unauthorized_client`.
    #[schema(example = "invalid_client")]
    pub error: String,
    pub error_description: String,
}

/// The token request (RFC 6749 §4.4), form-encoded. Client credentials may come in the body
/// or as HTTP Basic authentication.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}
