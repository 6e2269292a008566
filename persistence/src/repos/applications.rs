//! Applications for programs the operator approves (specializations, Azure Expert MSP).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::{AccountId, ApplicationId, MembershipId};
use domain::membership::ApplicationStatus;

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::program_applications;
use crate::tenant::{AccountScope, OperatorAccess, parse_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub account_id: AccountId,
    pub id: ApplicationId,
    pub program_id: String,
    pub evidence: String,
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub submitted_by: String,
    pub membership_id: Option<MembershipId>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
);

const COLUMNS: (
    program_applications::account_id,
    program_applications::id,
    program_applications::program_id,
    program_applications::evidence,
    program_applications::status,
    program_applications::reason,
    program_applications::submitted_by,
    program_applications::membership_id,
    program_applications::created_at,
    program_applications::decided_at,
) = (
    program_applications::account_id,
    program_applications::id,
    program_applications::program_id,
    program_applications::evidence,
    program_applications::status,
    program_applications::reason,
    program_applications::submitted_by,
    program_applications::membership_id,
    program_applications::created_at,
    program_applications::decided_at,
);

fn from_row(row: Row) -> DbResult<Application> {
    let (
        account_id,
        id,
        program_id,
        evidence,
        status,
        reason,
        submitted_by,
        membership,
        created,
        decided,
    ) = row;
    Ok(Application {
        account_id: parse_id("program_applications", &account_id)?,
        id: parse_id("program_applications", &id)?,
        membership_id: membership
            .map(|m| parse_id("program_applications", &m))
            .transpose()?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| {
            DbError::corrupt("program_applications", format!("status {status:?}"))
        })?,
        program_id,
        evidence,
        reason,
        submitted_by,
        created_at: from_db_time(created),
        decided_at: decided.map(from_db_time),
    })
}

pub fn submit(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program_id: &str,
    evidence: &str,
    submitted_by: &str,
    now: DateTime<Utc>,
) -> DbResult<Application> {
    let id = ApplicationId::generate();
    diesel::insert_into(program_applications::table)
        .values((
            program_applications::account_id.eq(scope.key()),
            program_applications::id.eq(id.to_string()),
            program_applications::program_id.eq(program_id),
            program_applications::evidence.eq(evidence),
            program_applications::status.eq(ApplicationStatus::Submitted.id()),
            program_applications::submitted_by.eq(submitted_by),
            program_applications::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(Application {
        account_id: scope.account_id(),
        id,
        program_id: program_id.to_owned(),
        evidence: evidence.to_owned(),
        status: ApplicationStatus::Submitted,
        reason: None,
        submitted_by: submitted_by.to_owned(),
        membership_id: None,
        created_at: now,
        decided_at: None,
    })
}

/// The account's open application for the program, if any.
pub fn open_for(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program_id: &str,
) -> DbResult<Option<Application>> {
    program_applications::table
        .filter(program_applications::account_id.eq(scope.key()))
        .filter(program_applications::program_id.eq(program_id))
        .filter(program_applications::status.eq(ApplicationStatus::Submitted.id()))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: ApplicationId,
) -> DbResult<Option<Application>> {
    program_applications::table
        .find((scope.key(), id.to_string()))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// The account's applications, optionally only those with `status`.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    status: Option<ApplicationStatus>,
    page: &PageRequest,
) -> DbResult<Page<Application>> {
    load_page(conn, Some(scope.key()), status, page)
}

/// Every account's applications (the operator's queue), optionally only those with `status`.
pub fn list_all(
    conn: &mut DbConnection,
    _access: &OperatorAccess,
    status: Option<ApplicationStatus>,
    page: &PageRequest,
) -> DbResult<Page<Application>> {
    load_page(conn, None, status, page)
}

fn load_page(
    conn: &mut DbConnection,
    account: Option<String>,
    status: Option<ApplicationStatus>,
    page: &PageRequest,
) -> DbResult<Page<Application>> {
    let mut query = program_applications::table
        .select(COLUMNS)
        .order(program_applications::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(program_applications::account_id.eq(account));
    }
    if let Some(status) = status {
        query = query.filter(program_applications::status.eq(status.id()));
    }
    if let Some(after) = &page.after {
        query = query.filter(program_applications::id.gt(after.clone()));
    }
    let rows = query
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |application| application.id.to_string()))
}

/// Records the decision if the application is still submitted; `None` if it was decided
/// meanwhile.
pub fn decide(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: ApplicationId,
    status: ApplicationStatus,
    reason: Option<&str>,
    membership_id: Option<MembershipId>,
    now: DateTime<Utc>,
) -> DbResult<Option<Application>> {
    let updated = diesel::update(
        program_applications::table
            .find((scope.key(), id.to_string()))
            .filter(program_applications::status.eq(ApplicationStatus::Submitted.id())),
    )
    .set((
        program_applications::status.eq(status.id()),
        program_applications::reason.eq(reason),
        program_applications::membership_id.eq(membership_id.map(|m| m.to_string())),
        program_applications::decided_at.eq(Some(to_db_time(now))),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    get(conn, scope, id)
}
