//! Webhook endpoints and their delivery log (DESIGN §9). Events are published by the changes
//! themselves (`crate::events`) and posted by the delivery worker (`crate::webhooks`).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::ids::{DeliveryId, WebhookId};
use domain::principal::Principal;
use domain::webhooks::{DisabledReason, Subscription};
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::webhooks::{self, Endpoint, NewEndpoint};
use persistence::tenant::Membership;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::me::ListQuery;
use crate::dto::webhook::{
    CreateWebhookRequest, DeliveryQuery, EventName, RotateQuery, UpdateWebhookRequest, Webhook,
    WebhookDelivery, WebhookDeliveryList, WebhookList, WebhookWithSecret,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::{IfMatch, changed_meanwhile, conditional_read, etag};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;
use crate::webhooks::{new_secret, url_refusal};

/// Endpoints one account may register.
pub const MAX_ENDPOINTS: i64 = 16;
/// How long a rotated-out secret keeps signing, unless the rotation says otherwise.
const DEFAULT_OVERLAP_SECONDS: u32 = 86_400;
const MAX_OVERLAP_SECONDS: u32 = 604_800;

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No webhook endpoint of your account has this id.",
    )
}

fn tag(endpoint: &Endpoint) -> String {
    etag(&format!("webhook:{}", endpoint.id), endpoint.version)
}

fn subscription(field: &str, events: &[EventName]) -> Result<Subscription, FieldError> {
    Subscription::parse(&events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>()).map_err(
        |(index, name)| {
            FieldError::new(
                format!("{field}[{index}]"),
                "unknown_event",
                format!("{name:?} is not an event type (see the spec's EventName, or use \"*\")"),
            )
        },
    )
}

fn checked_url(state: &AppState, url: &str) -> Result<String, FieldError> {
    let url = url.trim();
    match url_refusal(url, state.webhooks.settings.allow_insecure_urls) {
        Some(refusal) => Err(FieldError::new(
            "url",
            "url_not_allowed",
            format!("the URL {refusal}"),
        )),
        None => Ok(url.to_owned()),
    }
}

fn description(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn endpoint_of(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
) -> Result<(Membership, Endpoint), ApiError> {
    let membership = access::authorize(conn, principal, Permission::WebhooksManage)?;
    let endpoint = webhooks::get(conn, &membership.scope, id)?.ok_or_else(not_found)?;
    Ok((membership, endpoint))
}

/// List webhook endpoints.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "list_webhooks",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of endpoints, oldest first.", body = WebhookList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let wall = clock::now();
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::WebhooksManage)?;
        Ok(webhooks::list(conn, &membership.scope, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| WebhookList {
            items: page.items.iter().map(|e| Webhook::new(e, wall)).collect(),
            next_cursor,
        },
    ))
}

/// Register a webhook endpoint.
///
/// Events of the account are posted to `url` as JSON `{id, type, created_at, account_id,
/// data}` (`data`: `object`, `id`, `actor` and `details` of the change), signed per Standard
/// Webhooks: `webhook-id` (the event id, unchanged on retries: drop duplicates by it),
/// `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "{webhook-id}.{webhook-timestamp}.{body}" keyed with the base64-decoded part of the secret
/// after `whsec_`>` (space-separated, one per live secret). Delivery is at least once, in no
/// guaranteed order; a non-2xx answer or a timeout (10 s) is retried with doubling delays from
/// 30 s up to 6 h for 3 days, and an endpoint failing every attempt for 3 days is disabled
/// (Action Center item). Events published before the endpoint existed are not sent to it.
/// The secret is shown only in this response. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "create_webhook",
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`)."),
    ),
    request_body(content = CreateWebhookRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The endpoint, with its signing secret.", body = WebhookWithSecret, headers(
            ("Location" = String, description = "`/v1/webhooks/{webhook_id}`."),
        )),
        (status = 400, description = "Invalid fields: `url_not_allowed` (not https, or loopback/private), `unknown_event`, lengths."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "`webhook_limit_reached` (16 endpoints) or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/webhooks")]
pub async fn create_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let checks = state.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let membership = access::authorize(conn, &principal, Permission::WebhooksManage)?;
        let now = membership.now(wall);
        let (url, events) = validate(&request, |request| {
            Ok((
                checked_url(&checks, &request.url)?,
                subscription("events", &request.events)?,
            ))
        })?;
        let scope = &membership.scope;
        if webhooks::count(conn, scope)? >= MAX_ENDPOINTS {
            return Err(ApiError::new(
                ErrorCode::WebhookLimitReached,
                format!("An account can have {MAX_ENDPOINTS} webhook endpoints; delete one first."),
            ));
        }
        let secret = new_secret();
        let endpoint = webhooks::create(
            conn,
            scope,
            &NewEndpoint {
                url: &url,
                description: description(request.description.as_deref()).as_deref(),
                subscription: &events,
                secret: &secret,
                created_by: principal.subject(),
            },
            now,
        )?;
        audit::record(
            conn,
            scope,
            &principal,
            "webhook.created",
            ("webhook", endpoint.id.to_string()),
            json!({"url": endpoint.url, "events": events.names()}),
            now,
        )?;
        let shown = WebhookWithSecret {
            webhook: Webhook::new(&endpoint, wall),
            secret: Some(secret),
        };
        let replayed = WebhookWithSecret {
            webhook: Webhook::new(&endpoint, wall),
            secret: None,
        };
        Ok(Reply::json(StatusCode::CREATED, &shown)?
            .replayed_as(&replayed)?
            .with_header(LOCATION, format!("/v1/webhooks/{}", endpoint.id))
            .with_header(CACHE_CONTROL, "no-store"))
    })
    .await
}

/// Get a webhook endpoint.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "get_webhook",
    params(("webhook_id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint (never its secret).", body = Webhook, headers(
            ("ETag" = String, description = "Send as `If-Match` to change or delete only this version."),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No endpoint of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/webhooks/{webhook_id}")]
pub async fn get_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    webhook_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = WebhookId::from_uuid(webhook_id.into_inner());
    let wall = clock::now();
    let (_, endpoint) = db::lookup(&state, move |conn| endpoint_of(conn, &principal, id)).await?;
    Ok(conditional_read(
        &req,
        tag(&endpoint),
        &Webhook::new(&endpoint, wall),
    ))
}

/// Change a webhook endpoint.
///
/// Changes the URL, description or events, or switches the endpoint off (`enabled: false`:
/// its pending deliveries fail and can be redelivered) and on again, also after the service
/// disabled it for failing. `If-Match` is optional; when sent it must name the current ETag.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "update_webhook",
    params(
        ("webhook_id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being changed (optional)."),
    ),
    request_body(content = UpdateWebhookRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The endpoint as changed.", body = Webhook, headers(
            ("ETag" = String, description = "The new version's tag."),
        )),
        (status = 400, description = "Invalid fields (`url_not_allowed`, `unknown_event`, lengths)."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No endpoint of the caller's account has this id (`not_found`)."),
        (status = 412, description = "`If-Match` names another version (`precondition_failed`)."),
    ),
)]
#[patch("/v1/webhooks/{webhook_id}")]
pub async fn update_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    webhook_id: web::Path<Uuid>,
    body: JsonBody<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = WebhookId::from_uuid(webhook_id.into_inner());
    let if_match = IfMatch::optional(&req)?;
    let request = body.value;
    let wall = clock::now();
    let checks = state.clone();
    let endpoint = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = endpoint_of(conn, &principal, id)?;
            if let Some(if_match) = &if_match {
                if_match.check(&tag(&current))?;
            }
            let now = membership.now(wall);
            let mut next = validate(&request, |request| {
                let mut next = current.clone();
                if let Some(url) = &request.url {
                    next.url = checked_url(&checks, url)?;
                }
                if let Some(events) = &request.events {
                    next.subscription = subscription("events", events)?;
                }
                if let Some(text) = &request.description {
                    next.description = description(Some(text));
                }
                Ok(next)
            })?;
            let switched = request.enabled.filter(|on| *on != current.enabled);
            if let Some(on) = switched {
                next.enabled = on;
                next.disabled_reason = (!on).then_some(DisabledReason::Manual);
            }
            let scope = &membership.scope;
            if switched == Some(true) {
                // Enabled again: its failing period starts over.
                webhooks::note_health(conn, scope, id, true, wall)?;
            }
            let saved = webhooks::save(conn, scope, &next, current.version, now)?
                .ok_or_else(|| changed_meanwhile("webhook endpoint"))?;
            if switched == Some(false) {
                webhooks::fail_pending(conn, scope, id, "the endpoint was disabled", wall)?;
            }
            audit::record(
                conn,
                scope,
                &principal,
                "webhook.updated",
                ("webhook", id.to_string()),
                json!({
                    "url": saved.url,
                    "events": saved.subscription.names(),
                    "enabled": saved.enabled,
                }),
                now,
            )?;
            Ok(saved)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, tag(&endpoint)))
        .json(Webhook::new(&endpoint, wall)))
}

/// Delete a webhook endpoint.
///
/// Nothing more is posted to it; its pending deliveries and its delivery log go with it.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "delete_webhook",
    params(
        ("webhook_id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being deleted (optional)."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No endpoint of the caller's account has this id (`not_found`)."),
        (status = 412, description = "`If-Match` names another version (`precondition_failed`)."),
    ),
)]
#[delete("/v1/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    webhook_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = WebhookId::from_uuid(webhook_id.into_inner());
    let if_match = IfMatch::optional(&req)?;
    let wall = clock::now();
    db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = endpoint_of(conn, &principal, id)?;
            if let Some(if_match) = &if_match {
                if_match.check(&tag(&current))?;
            }
            let now = membership.now(wall);
            let scope = &membership.scope;
            if !webhooks::delete(conn, scope, id)? {
                return Err(not_found());
            }
            audit::record(
                conn,
                scope,
                &principal,
                "webhook.deleted",
                ("webhook", id.to_string()),
                json!({"url": current.url}),
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's signing secret.
///
/// Issues a new secret (shown once). The previous one keeps signing beside it for
/// `overlap_seconds` (default a day; 0 retires it at once): during the overlap every delivery
/// carries both signatures, so a receiver can switch to the new secret without refusing one.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "rotate_webhook_secret",
    params(("webhook_id" = Uuid, Path, description = "The endpoint's id."), RotateQuery),
    responses(
        (status = 200, description = "The endpoint with its new secret.", body = WebhookWithSecret),
        (status = 400, description = "`overlap_seconds` out of range."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No endpoint of the caller's account has this id (`not_found`)."),
    ),
)]
#[post("/v1/webhooks/{webhook_id}/secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    caller: Authenticated,
    webhook_id: web::Path<Uuid>,
    query: web::Query<RotateQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = WebhookId::from_uuid(webhook_id.into_inner());
    let overlap = query.overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
    if overlap > MAX_OVERLAP_SECONDS {
        return Err(ApiError::validation([FieldError::new(
            "overlap_seconds",
            "out_of_range",
            format!("must be 0 to {MAX_OVERLAP_SECONDS} seconds"),
        )]));
    }
    let wall = clock::now();
    let secret = new_secret();
    let (endpoint, secret) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = endpoint_of(conn, &principal, id)?;
            let now = membership.now(wall);
            let expires = overlap_end(wall, overlap);
            let next = Endpoint {
                previous_secret: expires.map(|_| current.secret.clone()),
                previous_secret_expires_at: expires,
                secret: secret.clone(),
                ..current.clone()
            };
            let scope = &membership.scope;
            let saved = webhooks::save(conn, scope, &next, current.version, now)?
                .ok_or_else(|| changed_meanwhile("webhook endpoint"))?;
            audit::record(
                conn,
                scope,
                &principal,
                "webhook.secret_rotated",
                ("webhook", id.to_string()),
                json!({"previous_secret_expires_at": expires}),
                now,
            )?;
            Ok((saved, secret))
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(WebhookWithSecret {
            webhook: Webhook::new(&endpoint, wall),
            secret: Some(secret),
        }))
}

/// When a rotated-out secret stops signing (real time: deliveries run on the wall clock).
fn overlap_end(wall: DateTime<Utc>, seconds: u32) -> Option<DateTime<Utc>> {
    (seconds > 0).then(|| wall + Duration::seconds(i64::from(seconds)))
}

/// List a webhook endpoint's deliveries.
///
/// The delivery log: one entry per event posted (or to be posted) to the endpoint, newest
/// first, with every attempt, its status code or error and its duration.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "list_webhook_deliveries",
    params(("webhook_id" = Uuid, Path, description = "The endpoint's id."), DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries.", body = WebhookDeliveryList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No endpoint of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    webhook_id: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = WebhookId::from_uuid(webhook_id.into_inner());
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let status = query.status.map(Into::into);
    let page = db::read(&state, move |conn| {
        let (membership, _) = endpoint_of(conn, &principal, id)?;
        Ok(webhooks::deliveries(
            conn,
            &membership.scope,
            id,
            status,
            &page,
        )?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| WebhookDeliveryList {
            items: page.items.iter().map(WebhookDelivery::from).collect(),
            next_cursor,
        },
    ))
}

/// Redeliver an event to a webhook endpoint.
///
/// Queues the delivery again, due at once, with the same `webhook-id` and a fresh retry
/// period; its attempt log is kept. Works on any delivery (a succeeded one is sent again).
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "redeliver_webhook_delivery",
    params(
        ("webhook_id" = Uuid, Path, description = "The endpoint's id."),
        ("delivery_id" = Uuid, Path, description = "The delivery's id."),
    ),
    responses(
        (status = 202, description = "Queued; the worker posts it within a second or so.", body = WebhookDelivery),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No such endpoint or delivery in the caller's account (`not_found`)."),
        (status = 409, description = "The endpoint is disabled (`webhook_disabled`): enable it first."),
    ),
)]
#[post("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (webhook_id, delivery_id) = path.into_inner();
    let id = WebhookId::from_uuid(webhook_id);
    let delivery = DeliveryId::from_uuid(delivery_id);
    let wall = clock::now();
    let queued = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, endpoint) = endpoint_of(conn, &principal, id)?;
            let scope = &membership.scope;
            webhooks::delivery(conn, scope, id, delivery)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "This endpoint has no delivery with this id.",
                )
            })?;
            if !endpoint.enabled {
                return Err(ApiError::new(
                    ErrorCode::WebhookDisabled,
                    "The endpoint is disabled; enable it (PATCH enabled: true) to redeliver.",
                ));
            }
            let queued = webhooks::redeliver(conn, scope, id, delivery)?
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "The delivery vanished."))?;
            audit::record(
                conn,
                scope,
                &principal,
                "webhook.redelivery_requested",
                ("webhook_delivery", delivery.to_string()),
                json!({"webhook_id": id, "event_id": queued.event_id}),
                membership.now(wall),
            )?;
            Ok(queued)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::from(&queued)))
}
