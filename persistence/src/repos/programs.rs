//! The program catalog: loaded from the versioned file `catalog/programs.json`, edited by
//! operators, and the preview allow-lists.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::catalog::{Catalog, Program};
use domain::ids::AccountId;

use crate::connection::{DbConnection, load_native, recoverable};
use crate::error::{DbError, DbResult, is_unique_violation_on};
use crate::repos::search;
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{accounts, program_allow_list, programs};
use crate::tenant::{AccountScope, OperatorAccess, parse_id};

/// The catalog file shipped with this build.
pub const SEEDED_CATALOG: &str = include_str!("../../../catalog/programs.json");

/// The shipped catalog, parsed and checked.
pub fn seeded() -> Result<Catalog, String> {
    let catalog: Catalog = serde_json::from_str(SEEDED_CATALOG)
        .map_err(|e| format!("catalog/programs.json does not parse: {e}"))?;
    catalog.validate().map_err(|errors| {
        let listed: Vec<String> = errors
            .into_vec()
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        format!("catalog/programs.json is invalid: {}", listed.join("; "))
    })?;
    Ok(catalog)
}

/// A program as stored, with its edit history markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProgram {
    pub program: Program,
    pub catalog_version: i32,
    /// The operator who last edited it; `None` while it is as the catalog file has it.
    pub edited_by: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

type ProgramRow = (
    String,
    String,
    i32,
    Option<String>,
    i64,
    chrono::NaiveDateTime,
);

fn from_row(row: ProgramRow) -> DbResult<StoredProgram> {
    let (id, definition, catalog_version, edited_by, version, updated_at) = row;
    let program: Program = serde_json::from_str(&definition)
        .map_err(|e| DbError::corrupt("programs", format!("program {id}: {e}")))?;
    Ok(StoredProgram {
        program,
        catalog_version,
        edited_by,
        version,
        updated_at: from_db_time(updated_at),
    })
}

fn encode(program: &Program) -> DbResult<String> {
    serde_json::to_string(program)
        .map_err(|e| DbError::corrupt("programs", format!("cannot encode {}: {e}", program.id)))
}

const COLUMNS: (
    programs::id,
    programs::definition,
    programs::catalog_version,
    programs::edited_by,
    programs::version,
    programs::updated_at,
) = (
    programs::id,
    programs::definition,
    programs::catalog_version,
    programs::edited_by,
    programs::version,
    programs::updated_at,
);

/// Brings the stored catalog up to `catalog`: adds programs it lacks and refreshes programs
/// loaded from an older file version, except those an operator has edited (their edit wins).
/// Safe to run from several replicas at once. Returns the ids added or refreshed.
pub fn load(
    conn: &mut DbConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let file_version = i32::try_from(catalog.catalog_version).unwrap_or(i32::MAX);
    let mut changed = Vec::new();
    for program in &catalog.programs {
        let definition = encode(program)?;
        let stored: Option<(i32, Option<String>)> = programs::table
            .find(&program.id)
            .select((programs::catalog_version, programs::edited_by))
            .first(conn)
            .optional()?;
        match stored {
            None => {
                let inserted = recoverable(conn, |conn| {
                    diesel::insert_into(programs::table)
                        .values((
                            programs::id.eq(&program.id),
                            programs::definition.eq(&definition),
                            programs::catalog_version.eq(file_version),
                            programs::edited_by.eq(None::<String>),
                            programs::version.eq(1i64),
                            programs::updated_at.eq(to_db_time(now)),
                        ))
                        .execute(conn)
                });
                match inserted {
                    Ok(_) => changed.push(program.id.clone()),
                    // Another replica loaded it first.
                    Err(error) if is_unique_violation_on(&error, "programs") => {}
                    Err(error) => return Err(error.into()),
                }
            }
            Some((version, None)) if version < file_version => {
                diesel::update(
                    programs::table
                        .find(&program.id)
                        .filter(programs::edited_by.is_null())
                        .filter(programs::catalog_version.lt(file_version)),
                )
                .set((
                    programs::definition.eq(&definition),
                    programs::catalog_version.eq(file_version),
                    programs::version.eq(programs::version + 1),
                    programs::updated_at.eq(to_db_time(now)),
                ))
                .execute(conn)?;
                changed.push(program.id.clone());
            }
            Some(_) => {}
        }
    }
    Ok(changed)
}

/// The programs as last read from one database, to be shared by the requests that read them.
///
/// Every eligibility check reads the whole catalog, and decoding each program's stored JSON
/// definition was a quarter of such a request's CPU. A program's `version` grows with every
/// change of its definition (created at 1, raised by each operator edit and catalog refresh;
/// programs are never deleted), so the list of `(id, version)` pairs, a small read of two
/// columns, tells whether the cached programs are still the stored ones, whichever replica
/// changed them. One cache per database: keep it beside the pool.
#[derive(Default)]
pub struct ProgramCache(std::sync::Mutex<Option<CachedPrograms>>);

struct CachedPrograms {
    versions: Vec<(String, i64)>,
    programs: std::sync::Arc<Vec<StoredProgram>>,
}

/// Every program, by id, decoded again only when one changed since `cache` last read them.
pub fn all_shared(
    conn: &mut DbConnection,
    cache: &ProgramCache,
) -> DbResult<std::sync::Arc<Vec<StoredProgram>>> {
    let versions: Vec<(String, i64)> = load_native(
        conn,
        programs::table
            .select((programs::id, programs::version))
            .order(programs::id.asc()),
    )?;
    let cached = |slot: &Option<CachedPrograms>| {
        slot.as_ref()
            .filter(|cached| cached.versions == versions)
            .map(|cached| cached.programs.clone())
    };
    // A poisoned lock only means a reader panicked; the slot is replaced or compared, never
    // left half-written.
    let lock = || {
        cache
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(programs) = cached(&lock()) {
        return Ok(programs);
    }
    let programs = std::sync::Arc::new(all(conn)?);
    // Kept only when it is what the versions read above describe: a change committed between
    // the two reads makes the next request read again.
    let read: Vec<(String, i64)> = programs
        .iter()
        .map(|stored| (stored.program.id.clone(), stored.version))
        .collect();
    if read == versions {
        *lock() = Some(CachedPrograms {
            versions,
            programs: programs.clone(),
        });
    }
    Ok(programs)
}

/// Every program, by id.
pub fn all(conn: &mut DbConnection) -> DbResult<Vec<StoredProgram>> {
    programs::table
        .select(COLUMNS)
        .order(programs::id.asc())
        .load::<ProgramRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

pub fn get(conn: &mut DbConnection, id: &str) -> DbResult<Option<StoredProgram>> {
    programs::table
        .find(id)
        .select(COLUMNS)
        .first::<ProgramRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// The outcome of an operator's write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Created(StoredProgram),
    Updated(StoredProgram),
    /// The stored version is not the one the operator read.
    Stale,
}

/// Creates the program, or replaces it if its stored version is still `expected_version`.
pub fn save(
    conn: &mut DbConnection,
    _access: &OperatorAccess,
    program: &Program,
    expected_version: Option<i64>,
    editor: &str,
    now: DateTime<Utc>,
) -> DbResult<Saved> {
    let definition = encode(program)?;
    let Some(expected) = expected_version else {
        let inserted = recoverable(conn, |conn| {
            diesel::insert_into(programs::table)
                .values((
                    programs::id.eq(&program.id),
                    programs::definition.eq(&definition),
                    programs::catalog_version.eq(0),
                    programs::edited_by.eq(editor),
                    programs::version.eq(1i64),
                    programs::updated_at.eq(to_db_time(now)),
                ))
                .execute(conn)
        });
        return match inserted {
            Ok(_) => {
                search::reindex_program(conn, program)?;
                Ok(get(conn, &program.id)?.map_or(Saved::Stale, Saved::Created))
            }
            Err(error) if is_unique_violation_on(&error, "programs") => Ok(Saved::Stale),
            Err(error) => Err(error.into()),
        };
    };
    let updated = diesel::update(
        programs::table
            .find(&program.id)
            .filter(programs::version.eq(expected)),
    )
    .set((
        programs::definition.eq(&definition),
        programs::edited_by.eq(editor),
        programs::version.eq(expected + 1),
        programs::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(Saved::Stale);
    }
    search::reindex_program(conn, program)?;
    Ok(get(conn, &program.id)?.map_or(Saved::Stale, Saved::Updated))
}

/// Accounts on an allow-list, with when each was added.
pub type AllowList = Vec<(AccountId, DateTime<Utc>)>;

/// The accounts allowed into a preview program, oldest first.
pub fn allow_list(
    conn: &mut DbConnection,
    _access: &OperatorAccess,
    program_id: &str,
) -> DbResult<AllowList> {
    program_allow_list::table
        .filter(program_allow_list::program_id.eq(program_id))
        .select((program_allow_list::account_id, program_allow_list::added_at))
        .order((
            program_allow_list::added_at.asc(),
            program_allow_list::account_id.asc(),
        ))
        .load::<(String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, at)| Ok((parse_id("program_allow_list", &id)?, from_db_time(at))))
        .collect()
}

/// Replaces the allow-list. Returns the ids that name no account (nothing is written then).
pub fn set_allow_list(
    conn: &mut DbConnection,
    access: &OperatorAccess,
    program_id: &str,
    account_ids: &[AccountId],
    now: DateTime<Utc>,
) -> DbResult<Result<AllowList, Vec<AccountId>>> {
    let keys: Vec<String> = account_ids.iter().map(ToString::to_string).collect();
    let existing: Vec<String> = accounts::table
        .filter(accounts::id.eq_any(&keys))
        .select(accounts::id)
        .load(conn)?;
    let unknown: Vec<AccountId> = account_ids
        .iter()
        .filter(|id| !existing.contains(&id.to_string()))
        .copied()
        .collect();
    if !unknown.is_empty() {
        return Ok(Err(unknown));
    }
    let kept: Vec<String> = program_allow_list::table
        .filter(program_allow_list::program_id.eq(program_id))
        .select(program_allow_list::account_id)
        .load(conn)?;
    diesel::delete(
        program_allow_list::table
            .filter(program_allow_list::program_id.eq(program_id))
            .filter(program_allow_list::account_id.ne_all(&keys)),
    )
    .execute(conn)?;
    for key in keys.iter().filter(|key| !kept.contains(key)) {
        diesel::insert_into(program_allow_list::table)
            .values((
                program_allow_list::account_id.eq(key),
                program_allow_list::program_id.eq(program_id),
                program_allow_list::added_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
    }
    allow_list(conn, access, program_id).map(Ok)
}

/// The preview programs the account is allowed into.
pub fn allowed_programs(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<String>> {
    Ok(load_native(
        conn,
        program_allow_list::table
            .filter(program_allow_list::account_id.eq(scope.key()))
            .select(program_allow_list::program_id),
    )?)
}
