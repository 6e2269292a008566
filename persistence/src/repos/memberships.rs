//! An account's program memberships. Only the standing decided by events is stored; the
//! clock-driven statuses (`renewal_due`, `expired`) are computed when read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::catalog::Program;
use domain::ids::MembershipId;
use domain::membership::{self, Source, Standing, Status, Term};

use crate::connection::{DbConnection, load_native, row_columns};
use crate::error::{DbError, DbResult};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::memberships;
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct MembershipRow {
    account_id: String,
    id: String,
    program_id: String,
    standing: String,
    source: String,
    benefit_pack: Option<String>,
    activated_at: Option<chrono::NaiveDateTime>,
    anniversary_at: Option<chrono::NaiveDateTime>,
    renewable: i32,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub id: MembershipId,
    pub program_id: String,
    pub standing: Standing,
    pub source: Source,
    pub benefit_pack: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub anniversary_at: Option<DateTime<Utc>>,
    pub renewable: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl MembershipRecord {
    pub fn term(&self) -> Option<Term> {
        self.activated_at.map(|activated_at| Term {
            activated_at,
            anniversary: self.anniversary_at,
            renewable: self.renewable,
        })
    }

    pub fn status(&self, window_days: u32, now: DateTime<Utc>) -> Status {
        membership::status(self.standing, self.term().as_ref(), window_days, now)
    }
}

impl TryFrom<MembershipRow> for MembershipRecord {
    type Error = DbError;

    fn try_from(row: MembershipRow) -> DbResult<Self> {
        Ok(Self {
            id: parse_id("memberships", &row.id)?,
            standing: Standing::parse(&row.standing).ok_or_else(|| {
                DbError::corrupt("memberships", format!("standing {:?}", row.standing))
            })?,
            source: Source::parse(&row.source).ok_or_else(|| {
                DbError::corrupt("memberships", format!("source {:?}", row.source))
            })?,
            program_id: row.program_id,
            benefit_pack: row.benefit_pack,
            activated_at: row.activated_at.map(from_db_time),
            anniversary_at: row.anniversary_at.map(from_db_time),
            renewable: row.renewable != 0,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

/// A membership activated at `activated_at` with the program's term.
pub fn activate(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program: &Program,
    source: Source,
    benefit_pack: Option<&str>,
    activated_at: DateTime<Utc>,
) -> DbResult<MembershipRecord> {
    let term = Term::new(activated_at, program.term_days, program.renewable);
    activate_for_term(conn, scope, program, source, benefit_pack, term)
}

/// A membership with the given term: a designation of a fee group shares the anniversary of
/// the one whose fee was paid.
pub fn activate_for_term(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program: &Program,
    source: Source,
    benefit_pack: Option<&str>,
    term: Term,
) -> DbResult<MembershipRecord> {
    let activated_at = term.activated_at;
    let row = MembershipRow {
        account_id: scope.key(),
        id: MembershipId::generate().to_string(),
        program_id: program.id.clone(),
        standing: Standing::Active.id().to_owned(),
        source: source.id().to_owned(),
        benefit_pack: benefit_pack.map(str::to_owned),
        activated_at: Some(to_db_time(activated_at)),
        anniversary_at: term.anniversary.map(to_db_time),
        renewable: i32::from(program.renewable),
        created_at: to_db_time(activated_at),
        updated_at: to_db_time(activated_at),
        version: 1,
    };
    diesel::insert_into(memberships::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

/// Every membership of the account, oldest first. An account holds a handful at most (one per
/// program and term), so callers filter by computed status in memory.
pub fn all(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<MembershipRecord>> {
    let query = memberships::table
        .filter(memberships::account_id.eq(scope.key()))
        .select(row_columns::<MembershipRow>())
        .order(memberships::id.asc());
    load_native::<_, MembershipRow>(conn, query)?
        .into_iter()
        .map(MembershipRecord::try_from)
        .collect()
}

pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: MembershipId,
) -> DbResult<Option<MembershipRecord>> {
    memberships::table
        .find((scope.key(), id.to_string()))
        .select(MembershipRow::as_select())
        .first::<MembershipRow>(conn)
        .optional()?
        .map(MembershipRecord::try_from)
        .transpose()
}

/// Extends a membership to `anniversary` (a renewal), with the benefit pack chosen for the new
/// term, if it is still at its version.
pub fn renew(
    conn: &mut DbConnection,
    scope: &AccountScope,
    membership: &MembershipRecord,
    anniversary: DateTime<Utc>,
    benefit_pack: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let changed = diesel::update(
        memberships::table
            .find((scope.key(), membership.id.to_string()))
            .filter(memberships::version.eq(membership.version)),
    )
    .set((
        memberships::anniversary_at.eq(Some(to_db_time(anniversary))),
        memberships::benefit_pack.eq(benefit_pack),
        memberships::updated_at.eq(to_db_time(now)),
        memberships::version.eq(membership.version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Cancels memberships (a granted refund).
pub fn cancel(
    conn: &mut DbConnection,
    scope: &AccountScope,
    ids: &[MembershipId],
    now: DateTime<Utc>,
) -> DbResult<usize> {
    Ok(diesel::update(
        memberships::table
            .filter(memberships::account_id.eq(scope.key()))
            .filter(memberships::id.eq_any(ids.iter().map(|id| id.to_string())))
            .filter(memberships::standing.ne(Standing::Cancelled.id())),
    )
    .set((
        memberships::standing.eq(Standing::Cancelled.id()),
        memberships::updated_at.eq(to_db_time(now)),
        memberships::version.eq(memberships::version + 1),
    ))
    .execute(conn)?)
}
