//! Webhook endpoints, the event outbox and deliveries.
//!
//! An event is written in the transaction of the change it reports, with one delivery row per
//! endpoint that wants it, so a rolled-back change publishes nothing and a committed one is
//! never lost. Workers claim due deliveries with a row lease (a conditional update that only
//! one replica can win), post them, and record the attempt under the same lease.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::ids::{DeliveryId, EventId, WebhookId};
use domain::webhooks::{
    ALL_EVENTS, DeliveryStatus, DisabledReason, Envelope, EventType, Subscription,
};
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{
    accounts, event_sweeps, memberships, skilling_credits, webhook_attempts, webhook_deliveries,
    webhook_endpoints, webhook_events,
};
use crate::tenant::{AccountScope, parse_id};

/// A webhook endpoint, secrets included (the HTTP layer decides what is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: WebhookId,
    pub url: String,
    pub description: Option<String>,
    pub subscription: Subscription,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    id: String,
    url: String,
    description: Option<String>,
    events: String,
    enabled: i32,
    disabled_reason: Option<String>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Corrupt {
        table: "webhooks",
        detail: format!("unreadable {what} {value:?}"),
    }
}

impl EndpointRow {
    fn into_endpoint(self) -> DbResult<Endpoint> {
        let subscription = stored_subscription(&self.events)?;
        let disabled_reason = match self.disabled_reason {
            Some(reason) => {
                Some(DisabledReason::parse(&reason).ok_or_else(|| corrupt("reason", &reason))?)
            }
            None => None,
        };
        Ok(Endpoint {
            id: parse_id("webhook_endpoints", &self.id)?,
            url: self.url,
            description: self.description,
            subscription,
            enabled: self.enabled != 0,
            disabled_reason,
            secret: self.secret,
            previous_secret: self.previous_secret,
            previous_secret_expires_at: self.previous_secret_expires_at.map(from_db_time),
            failing_since: self.failing_since.map(from_db_time),
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// A stored subscription. Names the catalog no longer has are passed over, so retiring an event
/// type leaves the endpoints that named it readable and receiving the rest.
fn stored_subscription(events: &str) -> DbResult<Subscription> {
    let names: Vec<String> = serde_json::from_str(events).map_err(|_| corrupt("events", events))?;
    let known: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| *name == ALL_EVENTS || EventType::parse(name).is_some())
        .collect();
    Subscription::parse(&known).map_err(|(_, name)| corrupt("event", &name))
}

fn events_column(subscription: &Subscription) -> String {
    serde_json::Value::from(subscription.names()).to_string()
}

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub description: Option<&'a str>,
    pub subscription: &'a Subscription,
    pub secret: &'a str,
    pub created_by: &'a str,
}

pub fn count(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<i64> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(scope.key()))
        .count()
        .get_result(conn)?)
}

pub fn create(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: &NewEndpoint<'_>,
    now: DateTime<Utc>,
) -> DbResult<Endpoint> {
    let id = WebhookId::generate();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::account_id.eq(scope.key()),
            webhook_endpoints::id.eq(id.to_string()),
            webhook_endpoints::url.eq(new.url),
            webhook_endpoints::description.eq(new.description),
            webhook_endpoints::events.eq(events_column(new.subscription)),
            webhook_endpoints::enabled.eq(1),
            webhook_endpoints::secret.eq(new.secret),
            webhook_endpoints::created_by.eq(new.created_by),
            webhook_endpoints::created_at.eq(to_db_time(now)),
            webhook_endpoints::updated_at.eq(to_db_time(now)),
            webhook_endpoints::version.eq(1_i64),
        ))
        .execute(conn)?;
    get(conn, scope, id)?.ok_or_else(|| corrupt("endpoint", "vanished after insert"))
}

pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: WebhookId,
) -> DbResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(scope.key()))
        .filter(webhook_endpoints::id.eq(id.to_string()))
        .select(EndpointRow::as_select())
        .first::<EndpointRow>(conn)
        .optional()?
        .map(EndpointRow::into_endpoint)
        .transpose()
}

pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<Endpoint>> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(scope.key()))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(webhook_endpoints::id.gt(after.clone()));
    }
    let endpoints = query
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(EndpointRow::into_endpoint)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(endpoints, |endpoint| endpoint.id.to_string()))
}

/// Writes an endpoint's changeable fields if it is still at `expected_version`; `None` when it
/// changed or vanished meanwhile.
pub fn save(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: &Endpoint,
    expected_version: i64,
    now: DateTime<Utc>,
) -> DbResult<Option<Endpoint>> {
    let changed = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::account_id.eq(scope.key()))
            .filter(webhook_endpoints::id.eq(endpoint.id.to_string()))
            .filter(webhook_endpoints::version.eq(expected_version)),
    )
    .set((
        webhook_endpoints::url.eq(&endpoint.url),
        webhook_endpoints::description.eq(&endpoint.description),
        webhook_endpoints::events.eq(events_column(&endpoint.subscription)),
        webhook_endpoints::enabled.eq(i32::from(endpoint.enabled)),
        webhook_endpoints::disabled_reason.eq(endpoint.disabled_reason.map(DisabledReason::id)),
        webhook_endpoints::secret.eq(&endpoint.secret),
        webhook_endpoints::previous_secret.eq(&endpoint.previous_secret),
        webhook_endpoints::previous_secret_expires_at
            .eq(endpoint.previous_secret_expires_at.map(to_db_time)),
        webhook_endpoints::updated_at.eq(to_db_time(now)),
        webhook_endpoints::version.eq(expected_version + 1),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    get(conn, scope, endpoint.id)
}

/// Deletes an endpoint with its deliveries and their attempt log.
pub fn delete(conn: &mut DbConnection, scope: &AccountScope, id: WebhookId) -> DbResult<bool> {
    let deliveries: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::account_id.eq(scope.key()))
        .filter(webhook_deliveries::endpoint_id.eq(id.to_string()))
        .select(webhook_deliveries::id)
        .load(conn)?;
    for chunk in deliveries.chunks(500) {
        diesel::delete(
            webhook_attempts::table
                .filter(webhook_attempts::account_id.eq(scope.key()))
                .filter(webhook_attempts::delivery_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(scope.key()))
            .filter(webhook_deliveries::endpoint_id.eq(id.to_string())),
    )
    .execute(conn)?;
    let deleted = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::account_id.eq(scope.key()))
            .filter(webhook_endpoints::id.eq(id.to_string())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Whether an event was published under `dedupe_key`.
pub fn is_published(
    conn: &mut DbConnection,
    scope: &AccountScope,
    dedupe_key: &str,
) -> DbResult<bool> {
    let seen: i64 = webhook_events::table
        .filter(webhook_events::account_id.eq(scope.key()))
        .filter(webhook_events::dedupe_key.eq(dedupe_key))
        .count()
        .get_result(conn)?;
    Ok(seen > 0)
}

/// Writes `event` to the outbox, with a delivery for each enabled endpoint that wants it, in
/// the caller's transaction. With a `dedupe_key`, an event already published under that key
/// is not published again (`None`).
pub fn publish(
    conn: &mut DbConnection,
    scope: &AccountScope,
    event: EventType,
    data: serde_json::Value,
    dedupe_key: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<Option<EventId>> {
    if let Some(key) = dedupe_key
        && is_published(conn, scope, key)?
    {
        return Ok(None);
    }
    let id = EventId::generate();
    let envelope = Envelope {
        id: id.to_string(),
        event_type: event.id().to_owned(),
        created_at: now,
        account_id: scope.key(),
        data,
    };
    let payload =
        serde_json::to_string(&envelope).map_err(|e| corrupt("payload", &e.to_string()))?;
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::account_id.eq(scope.key()),
            webhook_events::id.eq(id.to_string()),
            webhook_events::event_type.eq(event.id()),
            webhook_events::payload.eq(payload),
            webhook_events::dedupe_key.eq(dedupe_key),
            webhook_events::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    let endpoints: Vec<(String, String)> = webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(scope.key()))
        .filter(webhook_endpoints::enabled.eq(1))
        .select((webhook_endpoints::id, webhook_endpoints::events))
        .load(conn)?;
    for (endpoint_id, events) in endpoints {
        if !stored_subscription(&events)?.wants(event) {
            continue;
        }
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::account_id.eq(scope.key()),
                webhook_deliveries::id.eq(DeliveryId::generate().to_string()),
                webhook_deliveries::endpoint_id.eq(endpoint_id),
                webhook_deliveries::event_id.eq(id.to_string()),
                webhook_deliveries::event_type.eq(event.id()),
                webhook_deliveries::status.eq(DeliveryStatus::Pending.id()),
                webhook_deliveries::attempts.eq(0),
                // Due at once: deliveries run on the wall clock, and a sandbox account's `now`
                // may be anywhere on it.
                webhook_deliveries::next_attempt_at.eq(to_db_time(DateTime::<Utc>::UNIX_EPOCH)),
                webhook_deliveries::created_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
    }
    Ok(Some(id))
}

/// A delivery claimed by one worker: everything needed to post it and record the outcome.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub scope: AccountScope,
    pub delivery_id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_id: EventId,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub payload: String,
    pub attempts: i32,
    pub first_attempt_at: Option<DateTime<Utc>>,
    lease_token: String,
}

/// Claims up to `limit` due deliveries of enabled endpoints for `lease`. A delivery another
/// worker holds is skipped; of two workers racing for one, the conditional update lets one win.
pub fn claim_due(
    conn: &mut DbConnection,
    wall: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> DbResult<Vec<Claimed>> {
    let now = to_db_time(wall);
    let candidates: Vec<(String, String)> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.id()))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::locked_until
                .is_null()
                .or(webhook_deliveries::locked_until.le(now)),
        )
        .select((webhook_deliveries::account_id, webhook_deliveries::id))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .load(conn)?;
    let mut claimed = Vec::new();
    for (account_id, id) in candidates {
        let token = Uuid::now_v7().to_string();
        let won = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::account_id.eq(&account_id))
                .filter(webhook_deliveries::id.eq(&id))
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.id()))
                .filter(
                    webhook_deliveries::locked_until
                        .is_null()
                        .or(webhook_deliveries::locked_until.le(now)),
                ),
        )
        .set((
            webhook_deliveries::lease_token.eq(Some(&token)),
            webhook_deliveries::locked_until.eq(Some(to_db_time(wall + lease))),
        ))
        .execute(conn)?;
        if won != 1 {
            continue;
        }
        let row: Option<DeliveryJoin> = webhook_deliveries::table
            .inner_join(
                webhook_endpoints::table.on(webhook_endpoints::account_id
                    .eq(webhook_deliveries::account_id)
                    .and(webhook_endpoints::id.eq(webhook_deliveries::endpoint_id))),
            )
            .inner_join(
                webhook_events::table.on(webhook_events::account_id
                    .eq(webhook_deliveries::account_id)
                    .and(webhook_events::id.eq(webhook_deliveries::event_id))),
            )
            .filter(webhook_deliveries::account_id.eq(&account_id))
            .filter(webhook_deliveries::id.eq(&id))
            .filter(webhook_endpoints::enabled.eq(1))
            .select((
                webhook_deliveries::endpoint_id,
                webhook_deliveries::event_id,
                webhook_deliveries::attempts,
                webhook_deliveries::first_attempt_at,
                webhook_endpoints::url,
                webhook_endpoints::secret,
                webhook_endpoints::previous_secret,
                webhook_endpoints::previous_secret_expires_at,
                webhook_events::payload,
            ))
            .first(conn)
            .optional()?;
        let Some((endpoint_id, event_id, attempts, first, url, secret, previous, expires, body)) =
            row
        else {
            // Its endpoint was switched off (or its event purged) after the delivery was
            // queued, in a transaction that could not see it: it fails rather than posts.
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::account_id.eq(&account_id))
                    .filter(webhook_deliveries::id.eq(&id))
                    .filter(webhook_deliveries::lease_token.eq(&token)),
            )
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Failed.id()),
                webhook_deliveries::last_error.eq(Some("the endpoint is disabled")),
                webhook_deliveries::lease_token.eq(None::<String>),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
            continue;
        };
        claimed.push(Claimed {
            scope: AccountScope::new(parse_id("webhook_deliveries", &account_id)?),
            delivery_id: parse_id("webhook_deliveries", &id)?,
            endpoint_id: parse_id("webhook_deliveries", &endpoint_id)?,
            event_id: parse_id("webhook_deliveries", &event_id)?,
            url,
            secret,
            previous_secret: previous,
            previous_secret_expires_at: expires.map(from_db_time),
            payload: body,
            attempts,
            first_attempt_at: first.map(from_db_time),
            lease_token: token,
        });
    }
    Ok(claimed)
}

type DeliveryJoin = (
    String,
    String,
    i32,
    Option<NaiveDateTime>,
    String,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    String,
);

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What happens to the delivery after the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// Records an attempt and the delivery's next step, if the worker still holds its lease
/// (`false`: the lease passed to another worker, whose outcome counts instead).
pub fn record_attempt(
    conn: &mut DbConnection,
    claimed: &Claimed,
    outcome: &AttemptOutcome,
    next: Next,
) -> DbResult<bool> {
    let at = to_db_time(outcome.attempted_at);
    let (status, next_attempt_at, delivered_at) = match next {
        Next::Delivered => (DeliveryStatus::Succeeded, at, Some(at)),
        Next::RetryAt(when) => (DeliveryStatus::Pending, to_db_time(when), None),
        Next::GiveUp => (DeliveryStatus::Failed, at, None),
    };
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(claimed.scope.key()))
            .filter(webhook_deliveries::id.eq(claimed.delivery_id.to_string()))
            .filter(webhook_deliveries::lease_token.eq(&claimed.lease_token)),
    )
    .set((
        webhook_deliveries::status.eq(status.id()),
        webhook_deliveries::attempts.eq(claimed.attempts + 1),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        webhook_deliveries::first_attempt_at
            .eq(Some(claimed.first_attempt_at.map_or(at, to_db_time))),
        webhook_deliveries::last_attempt_at.eq(Some(at)),
        webhook_deliveries::last_status_code.eq(outcome.status_code.map(i32::from)),
        webhook_deliveries::last_error.eq(&outcome.error),
        webhook_deliveries::delivered_at.eq(delivered_at),
        webhook_deliveries::lease_token.eq(None::<String>),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::account_id.eq(claimed.scope.key()),
            webhook_attempts::id.eq(Uuid::now_v7().to_string()),
            webhook_attempts::delivery_id.eq(claimed.delivery_id.to_string()),
            webhook_attempts::attempted_at.eq(at),
            webhook_attempts::status_code.eq(outcome.status_code.map(i32::from)),
            webhook_attempts::error.eq(&outcome.error),
            webhook_attempts::duration_ms.eq(outcome.duration_ms),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Notes a success (the endpoint is healthy again) or a failure (the first failure since the
/// last success starts its failing period); returns when the endpoint started failing.
pub fn note_health(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    succeeded: bool,
    wall: DateTime<Utc>,
) -> DbResult<Option<DateTime<Utc>>> {
    let target = || {
        webhook_endpoints::table
            .filter(webhook_endpoints::account_id.eq(scope.key()))
            .filter(webhook_endpoints::id.eq(endpoint.to_string()))
    };
    if succeeded {
        diesel::update(target().filter(webhook_endpoints::failing_since.is_not_null()))
            .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
            .execute(conn)?;
        return Ok(None);
    }
    diesel::update(target().filter(webhook_endpoints::failing_since.is_null()))
        .set(webhook_endpoints::failing_since.eq(Some(to_db_time(wall))))
        .execute(conn)?;
    Ok(target()
        .select(webhook_endpoints::failing_since)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten()
        .map(from_db_time))
}

/// Switches off an endpoint that kept failing and fails its pending deliveries (they can be
/// redelivered once it is enabled again). `false` if it was already off.
pub fn disable_failing(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let changed = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::account_id.eq(scope.key()))
            .filter(webhook_endpoints::id.eq(endpoint.to_string()))
            .filter(webhook_endpoints::enabled.eq(1)),
    )
    .set((
        webhook_endpoints::enabled.eq(0),
        webhook_endpoints::disabled_reason.eq(Some(DisabledReason::Failing.id())),
        webhook_endpoints::updated_at.eq(to_db_time(now)),
        webhook_endpoints::version.eq(webhook_endpoints::version + 1),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    fail_pending(conn, scope, endpoint, "the endpoint was disabled", now)?;
    Ok(true)
}

/// Fails the pending deliveries of an endpoint that receives nothing any more. Those a worker
/// holds are left to it (it records its attempt, and the next claim fails them): taking their
/// rows here would lock them in the opposite order to the worker and could deadlock.
pub fn fail_pending(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    reason: &str,
    wall: DateTime<Utc>,
) -> DbResult<usize> {
    Ok(diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(scope.key()))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_string()))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.id()))
            .filter(
                webhook_deliveries::locked_until
                    .is_null()
                    .or(webhook_deliveries::locked_until.le(to_db_time(wall))),
            ),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Failed.id()),
        webhook_deliveries::last_error.eq(Some(reason)),
        webhook_deliveries::lease_token.eq(None::<String>),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?)
}

/// One delivery as its log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_id: EventId,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_attempt_at: Option<NaiveDateTime>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    delivered_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// delivery id, attempted at, status code, error, duration (ms)
type AttemptRow = (String, NaiveDateTime, Option<i32>, Option<String>, i64);

fn assemble(
    conn: &mut DbConnection,
    scope: &AccountScope,
    rows: Vec<DeliveryRow>,
) -> DbResult<Vec<Delivery>> {
    let ids: Vec<&String> = rows.iter().map(|row| &row.id).collect();
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::account_id.eq(scope.key()))
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .select((
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
            webhook_attempts::status_code,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
        ))
        .order(webhook_attempts::id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let status =
                DeliveryStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
            let attempt_log = attempts
                .iter()
                .filter(|attempt| attempt.0 == row.id)
                .map(|(_, at, code, error, ms)| Attempt {
                    attempted_at: from_db_time(*at),
                    status_code: *code,
                    error: error.clone(),
                    duration_ms: *ms,
                })
                .collect();
            Ok(Delivery {
                id: parse_id("webhook_deliveries", &row.id)?,
                endpoint_id: parse_id("webhook_deliveries", &row.endpoint_id)?,
                event_id: parse_id("webhook_deliveries", &row.event_id)?,
                event_type: row.event_type,
                status,
                attempts: row.attempts,
                next_attempt_at: (status == DeliveryStatus::Pending)
                    .then(|| from_db_time(row.next_attempt_at)),
                last_attempt_at: row.last_attempt_at.map(from_db_time),
                last_status_code: row.last_status_code,
                last_error: row.last_error,
                delivered_at: row.delivered_at.map(from_db_time),
                created_at: from_db_time(row.created_at),
                attempt_log,
            })
        })
        .collect()
}

/// An endpoint's deliveries, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    status: Option<DeliveryStatus>,
    page: &PageRequest,
) -> DbResult<Page<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::account_id.eq(scope.key()))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_string()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.id()));
    }
    if let Some(before) = &page.after {
        query = query.filter(webhook_deliveries::id.lt(before.clone()));
    }
    let rows = query.load::<DeliveryRow>(conn)?;
    let deliveries = assemble(conn, scope, rows)?;
    Ok(page.finish(deliveries, |delivery| delivery.id.to_string()))
}

pub fn delivery(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    id: DeliveryId,
) -> DbResult<Option<Delivery>> {
    let rows = webhook_deliveries::table
        .filter(webhook_deliveries::account_id.eq(scope.key()))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_string()))
        .filter(webhook_deliveries::id.eq(id.to_string()))
        .select(DeliveryRow::as_select())
        .load::<DeliveryRow>(conn)?;
    Ok(assemble(conn, scope, rows)?.pop())
}

/// Queues a delivery again, due at once, with a fresh retry period; its attempt log stays. A
/// worker's live claim is left alone: its attempt in flight is the redelivery.
pub fn redeliver(
    conn: &mut DbConnection,
    scope: &AccountScope,
    endpoint: WebhookId,
    id: DeliveryId,
) -> DbResult<Option<Delivery>> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(scope.key()))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_string()))
            .filter(webhook_deliveries::id.eq(id.to_string())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Pending.id()),
        webhook_deliveries::next_attempt_at.eq(to_db_time(DateTime::<Utc>::UNIX_EPOCH)),
        webhook_deliveries::first_attempt_at.eq(None::<NaiveDateTime>),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::delivered_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    delivery(conn, scope, endpoint, id)
}

/// The smallest time-ordered (v7) id generated at or after `at`: ids compare as their
/// generation instants, whatever clock the row's own timestamps follow.
fn first_id_at(at: DateTime<Utc>) -> String {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    let millis = u64::from(at.timestamp_subsec_millis());
    let stamp = (seconds * 1_000 + millis) & 0xffff_ffff_ffff;
    Uuid::from_u128(u128::from(stamp) << 80 | 0x7000_u128 << 64).to_string()
}

/// Deletes finished deliveries (with their attempts) and unreferenced events created before
/// `before` on the wall clock. Their ids tell when: `created_at` is on the account's clock,
/// which for a sandbox may be anywhere.
pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> DbResult<usize> {
    let cutoff = first_id_at(before);
    let finished = webhook_deliveries::status.ne(DeliveryStatus::Pending.id());
    let old: Vec<(String, String)> = webhook_deliveries::table
        .filter(finished)
        .filter(webhook_deliveries::id.lt(&cutoff))
        .select((webhook_deliveries::account_id, webhook_deliveries::id))
        .limit(5_000)
        .load(conn)?;
    for (account, id) in &old {
        diesel::delete(
            webhook_attempts::table
                .filter(webhook_attempts::account_id.eq(account))
                .filter(webhook_attempts::delivery_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::account_id.eq(account))
                .filter(webhook_deliveries::id.eq(id)),
        )
        .execute(conn)?;
    }
    // An event stays while a delivery of it is kept (it may be redelivered).
    let delivered = webhook_deliveries::table.select(webhook_deliveries::event_id);
    let events = diesel::delete(
        webhook_events::table
            .filter(webhook_events::id.lt(&cutoff))
            .filter(webhook_events::id.ne_all(delivered)),
    )
    .execute(conn)?;
    Ok(old.len() + events)
}

/// The sweep of live accounts (those on the real clock).
pub const LIVE_SWEEP: &str = "live";

/// Takes the named sweep for `lease` if no other replica holds it; returns where the last
/// sweep stopped (`None`: another replica holds it). The row is created on first use.
pub fn claim_sweep(
    conn: &mut DbConnection,
    name: &str,
    wall: DateTime<Utc>,
    lease: Duration,
) -> DbResult<Option<DateTime<Utc>>> {
    let exists: i64 = event_sweeps::table
        .filter(event_sweeps::name.eq(name))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        // Announcements start now: what time changed before webhooks existed is not replayed.
        // Two replicas may race here; the primary key lets one insert win and the other's
        // claim below then fails cleanly on the lease.
        let inserted = diesel::insert_into(event_sweeps::table)
            .values((
                event_sweeps::name.eq(name),
                event_sweeps::swept_until.eq(to_db_time(wall)),
            ))
            .execute(conn);
        if inserted.is_err() {
            return Ok(None);
        }
    }
    let now = to_db_time(wall);
    let won = diesel::update(
        event_sweeps::table
            .filter(event_sweeps::name.eq(name))
            .filter(
                event_sweeps::locked_until
                    .is_null()
                    .or(event_sweeps::locked_until.le(now)),
            ),
    )
    .set(event_sweeps::locked_until.eq(Some(to_db_time(wall + lease))))
    .execute(conn)?;
    if won != 1 {
        return Ok(None);
    }
    Ok(Some(from_db_time(
        event_sweeps::table
            .filter(event_sweeps::name.eq(name))
            .select(event_sweeps::swept_until)
            .first(conn)?,
    )))
}

/// Records how far the sweep got and releases it.
pub fn finish_sweep(
    conn: &mut DbConnection,
    name: &str,
    swept_until: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(event_sweeps::table.filter(event_sweeps::name.eq(name)))
        .set((
            event_sweeps::swept_until.eq(to_db_time(swept_until)),
            event_sweeps::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A membership whose anniversary falls in a swept interval.
#[derive(Debug, Clone)]
pub struct Anniversary {
    pub scope: AccountScope,
    pub membership_id: String,
    pub program_id: String,
    pub activated_at: Option<DateTime<Utc>>,
    pub anniversary_at: DateTime<Utc>,
    pub renewable: bool,
}

/// Which accounts a sweep covers: one sandbox account on its own clock, or every live one.
#[derive(Debug, Clone, Copy)]
pub enum Sweep<'a> {
    Account(&'a AccountScope),
    Live,
}

/// Active memberships whose anniversary lies in `(from, to]`.
pub fn anniversaries_between(
    conn: &mut DbConnection,
    sweep: Sweep<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DbResult<Vec<Anniversary>> {
    let mut query = memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
        .filter(memberships::standing.eq("active"))
        .filter(memberships::anniversary_at.gt(to_db_time(from)))
        .filter(memberships::anniversary_at.le(to_db_time(to)))
        .select((
            memberships::account_id,
            memberships::id,
            memberships::program_id,
            memberships::activated_at,
            memberships::anniversary_at,
            memberships::renewable,
        ))
        .order((memberships::anniversary_at.asc(), memberships::id.asc()))
        .into_boxed();
    query = match sweep {
        Sweep::Account(scope) => query.filter(memberships::account_id.eq(scope.key())),
        Sweep::Live => query.filter(accounts::sandbox_clock.is_null()),
    };
    type Row = (
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        i32,
    );
    let rows: Vec<Row> = query.load(conn)?;
    rows.into_iter()
        .filter_map(
            |(account, id, program, activated, anniversary, renewable)| {
                anniversary.map(|at| (account, id, program, activated, at, renewable))
            },
        )
        .map(|(account, id, program, activated, at, renewable)| {
            Ok(Anniversary {
                scope: AccountScope::new(parse_id("memberships", &account)?),
                membership_id: id,
                program_id: program,
                activated_at: activated.map(from_db_time),
                anniversary_at: from_db_time(at),
                renewable: renewable != 0,
            })
        })
        .collect()
}

/// A skilling credit whose counting instant lies in a swept interval.
#[derive(Debug, Clone)]
pub struct CountedCredit {
    pub scope: AccountScope,
    pub credit_id: String,
    pub user_id: String,
    pub kind: String,
    pub credential: String,
    pub title: String,
    pub counts_from: DateTime<Utc>,
}

/// Skilling credits that start counting in `(from, to]`.
pub fn credits_counting_between(
    conn: &mut DbConnection,
    sweep: Sweep<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DbResult<Vec<CountedCredit>> {
    let mut query = skilling_credits::table
        .inner_join(accounts::table.on(accounts::id.eq(skilling_credits::account_id)))
        .filter(skilling_credits::counts_from.gt(to_db_time(from)))
        .filter(skilling_credits::counts_from.le(to_db_time(to)))
        .select((
            skilling_credits::account_id,
            skilling_credits::id,
            skilling_credits::user_id,
            skilling_credits::kind,
            skilling_credits::credential,
            skilling_credits::title,
            skilling_credits::counts_from,
        ))
        .order((
            skilling_credits::counts_from.asc(),
            skilling_credits::id.asc(),
        ))
        .into_boxed();
    query = match sweep {
        Sweep::Account(scope) => query.filter(skilling_credits::account_id.eq(scope.key())),
        Sweep::Live => query.filter(accounts::sandbox_clock.is_null()),
    };
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        NaiveDateTime,
    );
    let rows: Vec<Row> = query.load(conn)?;
    rows.into_iter()
        .map(|(account, id, user, kind, credential, title, at)| {
            Ok(CountedCredit {
                scope: AccountScope::new(parse_id("skilling_credits", &account)?),
                credit_id: id,
                user_id: user,
                kind,
                credential,
                title,
                counts_from: from_db_time(at),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_subscriptions_pass_over_retired_event_types() {
        let stored = stored_subscription(r#"["order.paid","support_request.attention_needed"]"#)
            .expect("readable");
        assert_eq!(stored, Subscription::Only(vec![EventType::OrderPaid]));
        assert_eq!(
            stored_subscription(r#"["*"]"#).ok(),
            Some(Subscription::All)
        );
        assert!(stored_subscription("not json").is_err());
    }

    #[test]
    fn ids_generated_after_an_instant_sort_after_its_first_id() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 500_000_000).expect("instant");
        let cutoff = first_id_at(at);
        let later = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_800_000_000,
            501_000_000,
        ));
        let earlier = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_800_000_000,
            499_000_000,
        ));
        assert!(later.to_string() > cutoff, "{later} {cutoff}");
        assert!(earlier.to_string() < cutoff, "{earlier} {cutoff}");
        assert_eq!(Uuid::parse_str(&cutoff).map(|u| u.get_version_num()), Ok(7));
    }
}
