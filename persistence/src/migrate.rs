//! Embedded migrations, one set per backend (same version names, SQL that may differ).

use diesel::connection::SimpleConnection;
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
pub fn has_pending(conn: &mut DbConnection) -> DbResult<bool> {
    let pending = match conn {
        DbConnection::Pg(pg) => pg.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(sqlite) => sqlite.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map_err(|e| crate::error::DbError::Migrations(e.to_string()))
}
