use chrono::{DateTime, Utc};
use domain::webhooks::{ALL_EVENTS, EventType};
use persistence::repos::webhooks::{
    Attempt as AttemptRecord, Delivery as DeliveryRecord, Endpoint,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// An event type (`order.paid`, ...) or `*` for every type, present and future.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventName(pub String);

impl PartialSchema for EventName {
    fn schema() -> RefOr<Schema> {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|event| event.id()).collect();
        names.push(ALL_EVENTS);
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "An event type, or `*` for every type (including types added later).",
            ))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for EventName {}

/// Why an endpoint receives nothing.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Switched off with `enabled: false`.
    Manual,
    /// Switched off by the service: every delivery failed for the disable period (3 days by
    /// default). An Action Center item says so.
    Failing,
}

impl From<domain::webhooks::DisabledReason> for DisabledReason {
    fn from(reason: domain::webhooks::DisabledReason) -> Self {
        match reason {
            domain::webhooks::DisabledReason::Manual => DisabledReason::Manual,
            domain::webhooks::DisabledReason::Failing => DisabledReason::Failing,
        }
    }
}

/// A webhook endpoint: where the account's events are posted. The signing secret is shown
/// only when the endpoint is created and when the secret is rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    #[schema(example = "https://hooks.contoso.com/partner-center")]
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The event types posted to the endpoint (`["*"]`: all).
    pub events: Vec<EventName>,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<DisabledReason>,
    /// Until when the previous secret still signs deliveries beside the current one, after a
    /// rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The first failed attempt since the last successful one, while the endpoint fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn new(endpoint: &Endpoint, now: DateTime<Utc>) -> Self {
        Webhook {
            id: endpoint.id.as_uuid(),
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            events: endpoint
                .subscription
                .names()
                .into_iter()
                .map(EventName)
                .collect(),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.map(Into::into),
            previous_secret_expires_at: endpoint
                .previous_secret_expires_at
                .filter(|until| *until > now),
            failing_since: endpoint.failing_since,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// A webhook endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The Standard Webhooks signing secret (`whsec_` + base64 key): verify each delivery's
    /// `webhook-signature` with it. Not retrievable later; an idempotent replay of the
    /// creation answers `null` (rotate the secret if the first response was lost).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

/// One page of webhook endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Registers a webhook endpoint.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An `https` URL outside loopback and private networks (unless the operator allows
    /// otherwise with `PC_WEBHOOK_ALLOW_INSECURE_URLS`).
    #[validate(length(
        min = 1,
        max = 2048,
        code = "length",
        message = "must be 1 to 2048 characters"
    ))]
    #[schema(
        min_length = 1,
        example = "https://hooks.contoso.com/partner-center",
        max_length = 2048
    )]
    pub url: String,
    #[validate(length(max = 200, code = "length", message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// The event types to receive, or `["*"]` for all.
    #[validate(length(
        min = 1,
        max = 64,
        code = "length",
        message = "must list 1 to 64 event types"
    ))]
    #[schema(min_items = 1, max_items = 64)]
    pub events: Vec<EventName>,
}

/// Changes a webhook endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[validate(length(
        min = 1,
        max = 2048,
        code = "length",
        message = "must be 1 to 2048 characters"
    ))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// A new description; `""` removes it.
    #[validate(length(max = 200, code = "length", message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    #[validate(length(
        min = 1,
        max = 64,
        code = "length",
        message = "must list 1 to 64 event types"
    ))]
    #[schema(min_items = 1, max_items = 64)]
    pub events: Option<Vec<EventName>>,
    /// `false` stops deliveries (pending ones fail and can be redelivered later); `true`
    /// resumes them, also after the service disabled a failing endpoint.
    pub enabled: Option<bool>,
}

/// How long the previous secret keeps signing after a rotation.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RotateQuery {
    /// Seconds, 0 to 604800 (7 days); default 86400. During the overlap every delivery
    /// carries two signatures, so receivers can switch secrets without losing one.
    #[param(minimum = 0, maximum = 604800)]
    pub overlap_seconds: Option<u32>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Retries ran out (3 days by default) or the endpoint was disabled; can be redelivered.
    Failed,
}

impl From<domain::webhooks::DeliveryStatus> for DeliveryStatus {
    fn from(status: domain::webhooks::DeliveryStatus) -> Self {
        match status {
            domain::webhooks::DeliveryStatus::Pending => DeliveryStatus::Pending,
            domain::webhooks::DeliveryStatus::Succeeded => DeliveryStatus::Succeeded,
            domain::webhooks::DeliveryStatus::Failed => DeliveryStatus::Failed,
        }
    }
}

impl From<DeliveryStatus> for domain::webhooks::DeliveryStatus {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => domain::webhooks::DeliveryStatus::Pending,
            DeliveryStatus::Succeeded => domain::webhooks::DeliveryStatus::Succeeded,
            DeliveryStatus::Failed => domain::webhooks::DeliveryStatus::Failed,
        }
    }
}

/// One attempt to post a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The endpoint's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    /// Why the attempt failed (timeout, connection refused, non-2xx status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<&AttemptRecord> for DeliveryAttempt {
    fn from(attempt: &AttemptRecord) -> Self {
        DeliveryAttempt {
            attempted_at: attempt.attempted_at,
            status_code: attempt.status_code,
            error: attempt.error.clone(),
            duration_ms: attempt.duration_ms,
        }
    }
}

/// One event's delivery to one endpoint, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The event's id: the `webhook-id` header of every attempt, the same on retries.
    pub event_id: Uuid,
    #[schema(example = "order.paid")]
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts since the delivery was queued or last redelivered (the log keeps them all).
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The event's instant on the account's clock.
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<DeliveryAttempt>,
}

impl From<&DeliveryRecord> for WebhookDelivery {
    fn from(delivery: &DeliveryRecord) -> Self {
        WebhookDelivery {
            id: delivery.id.as_uuid(),
            event_id: delivery.event_id.as_uuid(),
            event_type: delivery.event_type.clone(),
            status: delivery.status.into(),
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            last_attempt_at: delivery.last_attempt_at,
            last_status_code: delivery.last_status_code,
            last_error: delivery.last_error.clone(),
            delivered_at: delivery.delivered_at,
            created_at: delivery.created_at,
            attempt_log: delivery.attempt_log.iter().map(Into::into).collect(),
        }
    }
}

/// One page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryList {
    pub items: Vec<WebhookDelivery>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of an endpoint's deliveries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
