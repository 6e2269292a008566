//! Support requests and their notes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::commerce::{Severity, SupportCategory, SupportStatus};
use domain::ids::{OrderId, SupportNoteId, SupportRequestId, UserId};

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::search::{self, Target};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{support_notes, support_requests};
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_requests)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct RequestRow {
    account_id: String,
    id: String,
    number: i64,
    created_by: String,
    category: String,
    title: String,
    description: String,
    severity: String,
    status: String,
    order_id: Option<String>,
    decision: Option<String>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    closed_at: Option<chrono::NaiveDateTime>,
    version: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SupportRequest {
    pub id: SupportRequestId,
    pub number: i64,
    pub created_by: UserId,
    pub category: SupportCategory,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: SupportStatus,
    pub order_id: Option<OrderId>,
    /// A cancellation's decision, as served (JSON).
    pub decision: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl TryFrom<RequestRow> for SupportRequest {
    type Error = DbError;

    fn try_from(row: RequestRow) -> DbResult<Self> {
        let bad = |what: &str, value: &str| {
            DbError::corrupt("support_requests", format!("{what} {value:?}"))
        };
        Ok(SupportRequest {
            id: parse_id("support_requests", &row.id)?,
            number: row.number,
            created_by: parse_id("support_requests", &row.created_by)?,
            category: SupportCategory::parse(&row.category)
                .ok_or_else(|| bad("category", &row.category))?,
            severity: Severity::parse(&row.severity)
                .ok_or_else(|| bad("severity", &row.severity))?,
            status: SupportStatus::parse(&row.status).ok_or_else(|| bad("status", &row.status))?,
            order_id: row
                .order_id
                .as_deref()
                .map(|id| parse_id("support_requests", id))
                .transpose()?,
            decision: row
                .decision
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| bad("decision", &e.to_string()))?,
            title: row.title,
            description: row.description,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            closed_at: row.closed_at.map(from_db_time),
            version: row.version,
        })
    }
}

/// A request about to be opened.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub created_by: UserId,
    pub category: SupportCategory,
    pub title: &'a str,
    pub description: &'a str,
    pub severity: Severity,
    pub order_id: Option<OrderId>,
    pub now: DateTime<Utc>,
}

/// Opens a request with the account's next number. The caller holds the account lock.
pub fn open(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: &NewRequest<'_>,
) -> DbResult<SupportRequest> {
    let last: Option<i64> = support_requests::table
        .filter(support_requests::account_id.eq(scope.key()))
        .select(diesel::dsl::max(support_requests::number))
        .first(conn)?;
    let row = RequestRow {
        account_id: scope.key(),
        id: SupportRequestId::generate().to_string(),
        number: last.unwrap_or(0) + 1,
        created_by: new.created_by.to_string(),
        category: new.category.id().to_owned(),
        title: new.title.to_owned(),
        description: new.description.to_owned(),
        severity: new.severity.id().to_owned(),
        status: SupportStatus::Open.id().to_owned(),
        order_id: new.order_id.map(|id| id.to_string()),
        decision: None,
        created_at: to_db_time(new.now),
        updated_at: to_db_time(new.now),
        closed_at: None,
        version: 1,
    };
    diesel::insert_into(support_requests::table)
        .values(&row)
        .execute(conn)?;
    let opened: SupportRequest = row.try_into()?;
    search::reindex(conn, scope, Target::SupportRequest(opened.id))?;
    Ok(opened)
}

pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: SupportRequestId,
) -> DbResult<Option<SupportRequest>> {
    support_requests::table
        .find((scope.key(), id.to_string()))
        .select(RequestRow::as_select())
        .first::<RequestRow>(conn)
        .optional()?
        .map(SupportRequest::try_from)
        .transpose()
}

/// The account's requests, oldest first; only `creator`'s when given.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    creator: Option<UserId>,
    status: Option<SupportStatus>,
    page: &PageRequest,
) -> DbResult<Page<SupportRequest>> {
    let mut query = support_requests::table
        .filter(support_requests::account_id.eq(scope.key()))
        .select(RequestRow::as_select())
        .order(support_requests::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(creator) = creator {
        query = query.filter(support_requests::created_by.eq(creator.to_string()));
    }
    if let Some(status) = status {
        query = query.filter(support_requests::status.eq(status.id()));
    }
    if let Some(after) = &page.after {
        query = query.filter(support_requests::id.gt(after.clone()));
    }
    let rows = query
        .load::<RequestRow>(conn)?
        .into_iter()
        .map(SupportRequest::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |request| request.id.to_string()))
}

/// Moves the request to `status` (recording a decision, when given), if it is still at its
/// version.
pub fn set_status(
    conn: &mut DbConnection,
    scope: &AccountScope,
    request: &SupportRequest,
    status: SupportStatus,
    decision: Option<&serde_json::Value>,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let closed_at = (status == SupportStatus::Closed).then(|| to_db_time(now));
    let changed = diesel::update(
        support_requests::table
            .find((scope.key(), request.id.to_string()))
            .filter(support_requests::version.eq(request.version)),
    )
    .set((
        support_requests::status.eq(status.id()),
        support_requests::decision.eq(decision.map(serde_json::Value::to_string)),
        support_requests::closed_at.eq(closed_at),
        support_requests::updated_at.eq(to_db_time(now)),
        support_requests::version.eq(request.version + 1),
    ))
    .execute(conn)?;
    search::reindex(conn, scope, Target::SupportRequest(request.id))?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: SupportNoteId,
    /// `partner` or `support`.
    pub author_kind: String,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub fn add_note(
    conn: &mut DbConnection,
    scope: &AccountScope,
    request: SupportRequestId,
    author_kind: &str,
    author: &str,
    body: &str,
    now: DateTime<Utc>,
) -> DbResult<Note> {
    let note = Note {
        id: SupportNoteId::generate(),
        author_kind: author_kind.to_owned(),
        author: author.to_owned(),
        body: body.to_owned(),
        created_at: now,
    };
    diesel::insert_into(support_notes::table)
        .values((
            support_notes::account_id.eq(scope.key()),
            support_notes::request_id.eq(request.to_string()),
            support_notes::id.eq(note.id.to_string()),
            support_notes::author_kind.eq(author_kind),
            support_notes::author.eq(author),
            support_notes::body.eq(body),
            support_notes::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    search::reindex(conn, scope, Target::SupportRequest(request))?;
    Ok(note)
}

pub fn notes(
    conn: &mut DbConnection,
    scope: &AccountScope,
    request: SupportRequestId,
) -> DbResult<Vec<Note>> {
    let rows: Vec<(String, String, String, String, chrono::NaiveDateTime)> = support_notes::table
        .filter(support_notes::account_id.eq(scope.key()))
        .filter(support_notes::request_id.eq(request.to_string()))
        .select((
            support_notes::id,
            support_notes::author_kind,
            support_notes::author,
            support_notes::body,
            support_notes::created_at,
        ))
        .order(support_notes::id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|(id, author_kind, author, body, created_at)| {
            Ok(Note {
                id: parse_id("support_notes", &id)?,
                author_kind,
                author,
                body,
                created_at: from_db_time(created_at),
            })
        })
        .collect()
}

pub fn set_severity(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: SupportRequestId,
    severity: Severity,
) -> DbResult<()> {
    diesel::update(support_requests::table.find((scope.key(), id.to_string())))
        .set(support_requests::severity.eq(severity.id()))
        .execute(conn)?;
    search::reindex(conn, scope, Target::SupportRequest(id))
}
