use chrono::{DateTime, Utc};
use persistence::repos::audit::AuditRecord as Record;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The kind of actor: a caller's kind, or `system` for what time alone decides (a wire order
/// expiring unpaid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    App,
    Operator,
    System,
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub kind: ActorKind,
    /// Email for users and operators, client id for apps, `partner-center` for the system.
    #[schema(example = "jane.doe@contoso.com")]
    pub id: String,
}

/// One change, as recorded in the transaction that made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// What happened: `account.created`, `legal_profile.updated`, `verification.decided`,
    /// `verification.evidence_uploaded`, `user.created`, `user.updated`, `user.deleted`,
    /// `user.roles_changed`, `app.created`, `app.secret_rotated`, `app.deleted`,
    /// `action_center.item_archived`, `preferences.updated`,
    /// `preferences.verification_code_sent`, `preferences.contact_email_verified`,
    /// `membership.activated`, `membership.renewed`, `order.placed`, `order.failed`,
    /// `order.paid`, `order.cancelled`, `order.expired`, `refund.completed`,
    /// `benefit.activated`, `benefit.reassigned`, `benefit.key_revealed`,
    /// `support_request.opened`, `support_request.updated`.
    #[schema(example = "user.roles_changed")]
    pub action: String,
    /// `account`, `user`, `app`, `evidence`, `action_center_item`.
    pub target_type: String,
    pub target_id: String,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: String,
    /// What changed.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<&Record> for AuditRecord {
    fn from(record: &Record) -> Self {
        AuditRecord {
            id: record.id.as_uuid(),
            at: record.at,
            actor: AuditActor {
                kind: match record.actor.kind.as_str() {
                    "app" => ActorKind::App,
                    "operator" => ActorKind::Operator,
                    "system" => ActorKind::System,
                    _ => ActorKind::User,
                },
                id: record.actor.id.clone(),
            },
            action: record.action.clone(),
            target_type: record.target_type.clone(),
            target_id: record.target_id.clone(),
            request_id: record.request_id.clone(),
            details: record.details.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecordList {
    pub items: Vec<AuditRecord>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only changes by this actor (email or client id, exact).
    pub actor: Option<String>,
    /// Only this action, e.g. `user.roles_changed`.
    pub action: Option<String>,
    /// Only changes to this target id.
    pub target: Option<String>,
    /// Only changes at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only changes before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}
