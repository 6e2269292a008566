//! The append-only audit log (DESIGN §2): one record per state change, written in the
//! transaction of the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::AuditRecordId;

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::audit_records;
use crate::tenant::{AccountScope, parse_id};

/// Who made a change: `kind` is `user`, `app` or `operator`; `id` their email or client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    pub kind: String,
    pub id: String,
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a AuditActor,
    /// `user.created`, `legal_profile.updated`, ...
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub request_id: &'a str,
    /// What changed, as a JSON object.
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: AuditRecordId,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub request_id: String,
    pub details: serde_json::Value,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_records)]
struct Row {
    id: String,
    at: chrono::NaiveDateTime,
    actor_kind: String,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    request_id: String,
    details: String,
}

pub fn record(
    conn: &mut DbConnection,
    scope: &AccountScope,
    entry: Entry<'_>,
    now: DateTime<Utc>,
) -> DbResult<AuditRecordId> {
    let id = AuditRecordId::generate();
    diesel::insert_into(audit_records::table)
        .values((
            audit_records::account_id.eq(scope.key()),
            audit_records::id.eq(id.to_string()),
            audit_records::at.eq(to_db_time(now)),
            audit_records::actor_kind.eq(&entry.actor.kind),
            audit_records::actor.eq(&entry.actor.id),
            audit_records::action.eq(entry.action),
            audit_records::target_type.eq(entry.target_type),
            audit_records::target_id.eq(&entry.target_id),
            audit_records::request_id.eq(entry.request_id),
            audit_records::details.eq(entry.details.to_string()),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The account's records, newest first, one keyset page at a time.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    filter: &Filter,
    page: &PageRequest,
) -> DbResult<Page<AuditRecord>> {
    let mut query = audit_records::table
        .filter(audit_records::account_id.eq(scope.key()))
        .select(Row::as_select())
        .order(audit_records::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_records::actor.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_records::action.eq(action.clone()));
    }
    if let Some(target) = &filter.target {
        query = query.filter(audit_records::target_id.eq(target.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_records::at.ge(to_db_time(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_records::at.lt(to_db_time(to)));
    }
    if let Some(after) = &page.after {
        query = query.filter(audit_records::id.lt(after.clone()));
    }
    let rows = query
        .load::<Row>(conn)?
        .into_iter()
        .map(|row| {
            Ok(AuditRecord {
                id: parse_id("audit_records", &row.id)?,
                at: from_db_time(row.at),
                actor: AuditActor {
                    kind: row.actor_kind,
                    id: row.actor,
                },
                details: serde_json::from_str(&row.details)
                    .map_err(|_| DbError::corrupt("audit_records", "details are not JSON"))?,
                action: row.action,
                target_type: row.target_type,
                target_id: row.target_id,
                request_id: row.request_id,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |record| record.id.to_string()))
}
