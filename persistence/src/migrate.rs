//! Embedded migrations, one set per backend (same version names, SQL that may differ).

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::{DatabaseUrl, DbConnection, establish};
use crate::error::DbResult;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// An arbitrary constant naming "partner-center schema migrations" among advisory locks.
const MIGRATION_LOCK_KEY: i64 = 0x7063_6d69_6772_6174; // "pcmigrat"

/// Applies every pending migration and returns the versions applied.
///
/// Several replicas may start at once: on PostgreSQL the run holds a session advisory lock, on
/// SQLite an immediate (write-locked) transaction, so exactly one applies each migration and
/// the others then find nothing pending.
pub fn run_pending(url: &DatabaseUrl) -> Result<Vec<String>, String> {
    let mut conn = establish(url)?;
    let applied = match &mut conn {
        DbConnection::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|e| format!("migration failed: {e}"));
            // Released with the session too, but a long-lived caller should not keep it.
            let unlock =
                pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
            let applied = result?;
            unlock.map_err(|e| format!("cannot release the migration lock: {e}"))?;
            applied
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .immediate_transaction(|sqlite| {
                sqlite
                    .run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .map_err(|e| MigrationError(format!("migration failed: {e}")))
            })
            .map_err(|MigrationError(message)| message)?,
    };
    Ok(applied)
}

struct MigrationError(String);

impl From<diesel::result::Error> for MigrationError {
    fn from(error: diesel::result::Error) -> Self {
        MigrationError(format!("migration transaction failed: {error}"))
    }
}

/// Whether migrations remain to be applied (readiness: a server on an old schema is not ready).
///
/// Read-only: diesel's own check creates its bookkeeping table first, which a least-privilege
/// runtime role (migrations applied separately by the owner) is not allowed to do.
pub fn has_pending(conn: &mut DbConnection) -> DbResult<bool> {
    let (expected, table_exists) = match conn {
        DbConnection::Pg(pg) => (
            embedded_versions::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS)?,
            diesel::select(diesel::dsl::sql::<Bool>(
                "EXISTS (SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '__diesel_schema_migrations')",
            ))
            .get_result::<bool>(pg)?,
        ),
        DbConnection::Sqlite(sqlite) => (
            embedded_versions::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS)?,
            diesel::select(diesel::dsl::sql::<Bool>(
                "EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = '__diesel_schema_migrations')",
            ))
            .get_result::<bool>(sqlite)?,
        ),
    };
    if !table_exists {
        return Ok(!expected.is_empty());
    }
    let applied: Vec<String> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load::<AppliedVersion>(conn)?
        .into_iter()
        .map(|row| row.version)
        .collect();
    Ok(expected.iter().any(|version| !applied.contains(version)))
}

#[derive(diesel::QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

fn embedded_versions<DB: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
) -> DbResult<Vec<String>> {
    let migrations = MigrationSource::<DB>::migrations(source)
        .map_err(|e| crate::error::DbError::Migrations(e.to_string()))?;
    Ok(migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect())
}
