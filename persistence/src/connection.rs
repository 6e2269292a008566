//! One connection type over SQLite and PostgreSQL, chosen by the URL scheme, and the pool.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{
    self, CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection,
};
use diesel::{PgConnection, SqliteConnection};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::changes::{Changes, Generation};
use crate::error::{DbError, DbResult, is_locked};
use crate::write_gate::{self, WriteGate};

/// Both backends behind one diesel connection. Queries written once run on either; where SQL
/// must differ, a repository matches on the variant, and nowhere else does.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A parsed `DATABASE_URL`. Only the two supported schemes parse; anything else is refused
/// here, before diesel could fall back from one backend to the other and hide the real error.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let scheme = raw
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") if raw.contains("://") => {
                Ok(DatabaseUrl::Postgres(raw.to_owned()))
            }
            Some("sqlite") => {
                let path = raw
                    .split_once(':')
                    .map(|(_, rest)| rest.strip_prefix("//").unwrap_or(rest))
                    .unwrap_or_default();
                if path.is_empty() {
                    return Err("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://partner-center.db".into());
                }
                if path == ":memory:" || path.contains("mode=memory") {
                    return Err("DATABASE_URL: in-memory SQLite is not supported (every pooled connection would see its own empty database); use a file".into());
                }
                Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
            }
            Some(other) => Err(format!(
                "DATABASE_URL scheme {other:?} is not supported; use sqlite://<file> or postgres://<user>@<host>/<database>"
            )),
            None => Err(
                "DATABASE_URL has no scheme; use sqlite://<file> or postgres://<user>@<host>/<database>".into(),
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }
}

/// The lock a process holds while it writes a SQLite file: an exclusive advisory lock on
/// `<file>.lock` beside it, released when the returned file is dropped or the process ends
/// (also by a kill). `None` for PostgreSQL, which any number of replicas share.
///
/// One process writes a SQLite file at a time: SQLite has one writer anyway, and the server
/// keeps answers between requests for as long as the file's change counter, which sees this
/// process only, says they hold ([`crate::changes`]). A second server, or `migrate` or `seed`
/// while a server runs, is refused with a message saying so rather than left to make the first
/// server's answers stale.
pub fn exclusive_use(url: &DatabaseUrl) -> Result<Option<std::fs::File>, String> {
    let Some(path) = url.sqlite_path() else {
        return Ok(None);
    };
    // Opening the database first reports a file that cannot be opened as such, not as a lock.
    drop(establish(url)?);
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| format!("cannot open {}: {error}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{url} is in use by another partner-center process (it holds {}): one process \
             writes a SQLite file at a time; stop it first, or use PostgreSQL for several \
             replicas",
            lock_path.display()
        )),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(format!("cannot lock {}: {error}", lock_path.display()))
        }
    }
}

/// Never prints a password: the URL appears in logs and error lines.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Masks the password of a PostgreSQL URL, whether in the userinfo (`user:secret@host`) or in
/// the query string (`?password=secret`), as libpq accepts both.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Applied to every SQLite connection, in this order: wait for locks before anything else
/// (switching to WAL itself needs one), then WAL, then NORMAL sync (durable across a process
/// crash in WAL mode, fsync only at checkpoints), then foreign keys (off by default in SQLite),
/// then a 1 MiB page cache instead of the default 2 MiB: each pooled connection keeps its own,
/// a connection drops its cache whenever another one has written, and the file's pages stay
/// in the operating system's cache anyway (resident memory, not speed, is what it changes);
/// last, a writer checkpoints the WAL itself only once it holds 30,000 pages (about 120 MB)
/// instead of 1,000, because the server checkpoints it in the background (see [`checkpoint`]).
pub const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -1024;
PRAGMA wal_autocheckpoint = 30000;";

/// Opens one connection of the kind the URL names, with the backend's own error message.
pub fn establish(url: &DatabaseUrl) -> Result<DbConnection, String> {
    match url {
        DatabaseUrl::Postgres(raw) => {
            PgConnection::establish(raw)
                .map(DbConnection::Pg)
                .map_err(|error| {
                    format!(
                        "cannot connect to PostgreSQL at {url}: {}",
                        error.to_string().trim()
                    )
                })
        }
        DatabaseUrl::Sqlite(path) => {
            let mut conn =
                SqliteConnection::establish(&path.to_string_lossy()).map_err(|error| {
                    format!(
                        "cannot open SQLite database {}: {}",
                        path.display(),
                        error.to_string().trim()
                    )
                })?;
            apply_pragmas(&mut conn).map_err(|error| {
                format!("cannot use SQLite database {}: {error}", path.display())
            })?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Sets [`SQLITE_PRAGMAS`] on a new connection. Connections opening a new database at once
/// (replicas, or the migration runner's threads starting together) can each hold a shared lock
/// while switching it to WAL, which needs an exclusive one; SQLite then answers one of them
/// "database is locked" at once, without waiting in its busy handler, to break the deadlock. The
/// switch happens once per file, so that connection tries again shortly, for as long as
/// `busy_timeout` would have waited.
fn apply_pragmas(conn: &mut SqliteConnection) -> Result<(), diesel::result::Error> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match conn.batch_execute(SQLITE_PRAGMAS) {
            Err(error) if is_locked(&error) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            outcome => return outcome,
        }
    }
}

/// Builds pool connections of exactly the backend the URL names.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        establish(&self.url).map_err(|message| {
            r2d2::Error::ConnectionError(ConnectionError::BadConnection(message))
        })
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Re-applies the SQLite pragmas whenever the pool hands out a fresh connection, so every
/// connection is configured even if one was opened by r2d2's background replenishment.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(inner) = conn {
            apply_pragmas(inner).map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A connection handed out for arbitrary use ([`DbPool::get`]): when it goes back to the pool,
/// the database is taken to have changed (see [`crate::changes`]).
pub struct PooledDb {
    conn: PooledConnection<DbManager>,
    changes: Option<Changes>,
}

impl std::ops::Deref for PooledDb {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledDb {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl Drop for PooledDb {
    fn drop(&mut self) {
        if let Some(changes) = &self.changes {
            changes.raise();
        }
    }
}

/// The connection pool, built once at start-up and shared by every worker.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<DbManager>,
    backend: Backend,
    /// SQLite only: this process's writers queue here (see [`write_gate`]).
    writers: Option<WriteGate>,
    /// SQLite only: the file's change counter (see [`crate::changes`]).
    changes: Option<Changes>,
}

impl DbPool {
    /// Connects once first, so a wrong URL or an unreachable server fails start-up with the
    /// backend's real error instead of a pool timeout.
    pub fn build(url: &DatabaseUrl, max_size: u32) -> Result<Self, String> {
        drop(establish(url)?);
        let backend = url.backend();
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            // A local SQLite file cannot go stale; a PostgreSQL connection can (server restart).
            .test_on_check_out(backend == Backend::Postgres)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(DbManager { url: url.clone() })
            .map_err(|error| format!("cannot build the connection pool for {url}: {error}"))?;
        let writers = (backend == Backend::Sqlite).then(WriteGate::default);
        Ok(Self {
            pool,
            backend,
            writers,
            changes: url.sqlite_path().map(Changes::of_file),
        })
    }

    /// A connection for any use, reads and writes; waits for one up to the pool's timeout.
    pub fn get(&self) -> DbResult<PooledDb> {
        Ok(PooledDb {
            conn: self.pool.get().map_err(DbError::from)?,
            changes: self.changes.clone(),
        })
    }

    /// Runs `work` with a pooled connection, its write transactions queued behind this
    /// process's other writers of the same database (SQLite; see [`write_gate`]).
    pub fn with_connection<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.get()?;
        match &self.writers {
            Some(gate) => gate.admit(|| work(&mut conn)),
            None => work(&mut conn),
        }
    }

    /// Runs `work`, which only reads, in one [`read_snapshot`] with a pooled connection.
    /// Unlike [`DbPool::with_connection`] it leaves the change counter alone.
    pub fn with_reader<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.pool.get().map_err(DbError::from)?;
        read_snapshot(&mut conn, work)
    }

    /// [`DbPool::with_reader`] with a connection idle at this moment; gives `work` back
    /// untouched when there is none (it never waits, and never opens a connection).
    pub fn try_reader<T, E, F>(&self, work: F) -> Result<Result<T, E>, F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        match self.pool.try_get() {
            Some(mut conn) => Ok(read_snapshot(&mut conn, work)),
            None => Err(work),
        }
    }

    /// The change counter now, to be read before the snapshot of an answer that is to be kept;
    /// `None` on PostgreSQL, where nothing is kept (see [`crate::changes`]).
    pub fn generation(&self) -> Option<Generation> {
        self.changes.as_ref().map(Changes::current)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections in use and idle, for operations visibility.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.connections - state.idle_connections,
            state.idle_connections,
        )
    }
}

/// Runs `f` in a transaction that holds the write lock from its first statement.
///
/// On SQLite this is `BEGIN IMMEDIATE`: a deferred transaction that reads and then writes can
/// fail with SQLITE_BUSY at the write without waiting, whatever the busy_timeout. On PostgreSQL
/// it is an ordinary READ COMMITTED transaction; repositories guard read-then-write with row
/// locks or conditional updates and their row counts.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    match conn {
        DbConnection::Sqlite(_) => write_gate::in_turn(|| run_write_transaction(conn, f)),
        DbConnection::Pg(_) => run_write_transaction(conn, f),
    }
}

fn run_write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let begun = match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(inner) => {
            <AnsiTransactionManager as TransactionManager<PgConnection>>::begin_transaction(inner)
        }
    };
    begun.map_err(DbError::from)?;
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(DbError::from)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                // The connection is now marked broken and the pool will discard it.
                log::error!("rollback failed: {rollback}");
            }
            Err(error)
        }
    }
}

/// Runs one statement whose failure (a constraint violation, say) the caller handles, leaving
/// the enclosing transaction usable. PostgreSQL aborts a transaction at its first failed
/// statement, so there the statement runs under a savepoint. SQLite backs out only the failed
/// statement and the transaction goes on, so it runs as it is: a savepoint there costs two
/// more statements, each parsed anew.
pub fn recoverable<T>(
    conn: &mut DbConnection,
    statement: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Sqlite(_) => statement(conn),
        DbConnection::Pg(_) => conn.transaction(statement),
    }
}

/// Runs a query on the backend's own connection instead of through the [`DbConnection`]
/// multi-connection, for the statements that run on most requests (the caller's standing, the
/// account) and on every eligibility check. Through the multi-connection, diesel renders a
/// statement's SQL text twice on every execution (to ask whether it may be cached and to
/// collect its binds), even when the prepared statement is found by the query's type; that was
/// about a fifth of the CPU of `GET /v1/account`. On the backend's own connection a cached
/// statement is found by its type and only its binds are walked. The query must be one both
/// backends run as written, which the bounds check.
pub fn load_native<'q, Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<Vec<U>>
where
    Q: RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>
        + diesel::query_dsl::LoadQuery<'q, SqliteConnection, U>
        + diesel::query_dsl::LoadQuery<'q, PgConnection, U>,
{
    match conn {
        DbConnection::Sqlite(inner) => query.load(inner),
        DbConnection::Pg(inner) => query.load(inner),
    }
}

/// The columns of row type `R`, for a query given to [`load_native`]: the type of
/// `R::as_select()` names one backend, these columns do not.
pub fn row_columns<R: Selectable<diesel::sqlite::Sqlite>>()
-> <R as Selectable<diesel::sqlite::Sqlite>>::SelectExpression {
    R::construct_selection()
}

/// [`load_native`] for exactly one row: `NotFound` when there is none.
pub fn first_native<'q, Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<U>
where
    Q: RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>
        + diesel::query_dsl::LoadQuery<'q, SqliteConnection, U>
        + diesel::query_dsl::LoadQuery<'q, PgConnection, U>,
{
    load_native(conn, query)?
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)
}

/// Runs the reads of `f` on one snapshot of the database.
///
/// On SQLite this is a deferred transaction: its first read takes the WAL read lock and holds
/// it to the end. Without it each statement is its own transaction, and taking and releasing
/// that lock (`fcntl` calls on the `-shm` file) was a fifth of the CPU of a read request. On
/// PostgreSQL `f` runs as it is (every statement sees what was committed before it, READ
/// COMMITTED): a transaction there would cost two more round trips per request.
///
/// `f` must not write: SQLite refuses a write transaction inside it.
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let DbConnection::Sqlite(inner) = conn else {
        return f(conn);
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN DEFERRED")
        .map_err(DbError::from)?;
    let outcome = f(conn);
    // Nothing was written: ending the transaction either way only releases the read lock.
    let ended = match outcome {
        Ok(_) => <DbConnection as Connection>::TransactionManager::commit_transaction(conn),
        Err(_) => <DbConnection as Connection>::TransactionManager::rollback_transaction(conn),
    };
    if let Err(error) = ended {
        log::error!("ending a read transaction failed: {error}");
        return outcome.and(Err(DbError::from(error).into()));
    }
    outcome
}

/// Runs `f` inside the caller's transaction under a savepoint: when it fails, only its own
/// writes are undone and the caller's transaction goes on (on PostgreSQL a failed statement
/// would otherwise abort the whole transaction).
pub fn savepoint<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let mut failure = None;
    let outcome = conn.transaction::<T, diesel::result::Error, _>(|conn| {
        f(conn).map_err(|error| {
            failure = Some(error);
            diesel::result::Error::RollbackTransaction
        })
    });
    match (outcome, failure) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(error)) => Err(error),
        (Err(error), None) => Err(DbError::from(error).into()),
    }
}

/// Copies what the SQLite WAL holds into the database file as far as readers allow, without
/// waiting for or blocking anyone (`PRAGMA wal_checkpoint(PASSIVE)`); nothing on PostgreSQL.
///
/// SQLite otherwise checkpoints inside the commit that takes the WAL past 1,000 pages: that
/// writer copies the pages and syncs both files while every other writer waits at the gate,
/// which with some thirty pages per support request was every few dozen writes and the top of
/// the write latency's tail. The server calls this ten times a second from a task of its own
/// (`server.rs`), so the pages are copied and synced before a writer has to. Under continuous
/// writes the WAL still does not start over, though: a passive checkpoint never catches up
/// with writers that append while it copies, and SQLite restarts the WAL only after one has.
/// So the automatic checkpoint, now at 30,000 pages, still runs in the commit that reaches
/// them (with little left to copy, but the syncs to wait for); it is what lets the WAL start
/// over, and it is the command-line tools' only checkpoint.
pub fn checkpoint(conn: &mut DbConnection) -> DbResult<()> {
    if let DbConnection::Sqlite(inner) = conn {
        inner.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
    }
    Ok(())
}

/// One round trip to the database.
pub fn ping(conn: &mut DbConnection) -> DbResult<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName)]
    struct TextValue {
        #[diesel(sql_type = Text)]
        value: String,
    }

    #[derive(QueryableByName)]
    struct NumberValue {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }

    /// `pragma` read through its table-valued function, whose one column is `column`.
    fn pragma_query(pragma: &str, column: &str) -> diesel::query_builder::SqlQuery {
        diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}"))
    }

    fn pragma_text(conn: &mut DbConnection, pragma: &str, column: &str) -> String {
        pragma_query(pragma, column)
            .get_result::<TextValue>(conn)
            .expect("pragma")
            .value
    }

    fn pragma_number(conn: &mut DbConnection, pragma: &str, column: &str) -> i64 {
        pragma_query(pragma, column)
            .get_result::<NumberValue>(conn)
            .expect("pragma")
            .value
    }

    #[test]
    fn pooled_sqlite_connections_carry_the_pragmas() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = DatabaseUrl::Sqlite(dir.path().join("pragmas.db"));
        let pool = DbPool::build(&url, 2).expect("pool");
        // Every connection the pool hands out, not only the first.
        let mut first = pool.get().expect("connection");
        let mut second = pool.get().expect("connection");
        for conn in [&mut *first, &mut *second] {
            assert_eq!(pragma_number(conn, "busy_timeout", "timeout"), 5000);
            assert_eq!(pragma_text(conn, "journal_mode", "journal_mode"), "wal");
            assert_eq!(
                pragma_number(conn, "synchronous", "synchronous"),
                1,
                "NORMAL"
            );
            assert_eq!(pragma_number(conn, "foreign_keys", "foreign_keys"), 1);
            assert_eq!(pragma_number(conn, "cache_size", "cache_size"), -1024);
            // A pragma with side effects has no table-valued form: asked directly.
            #[derive(QueryableByName)]
            struct Threshold {
                #[diesel(sql_type = BigInt)]
                wal_autocheckpoint: i64,
            }
            let threshold = diesel::sql_query("PRAGMA wal_autocheckpoint")
                .get_result::<Threshold>(conn)
                .expect("pragma");
            assert_eq!(threshold.wal_autocheckpoint, 30000);
        }
    }

    /// With SQLite's own wait switched off (busy_timeout 0), concurrent writers of one pool
    /// succeed only because they queue at the pool's write gate: without it, `BEGIN IMMEDIATE`
    /// of all but one would fail with "database is locked" at once.
    #[test]
    fn writers_of_one_sqlite_pool_queue_instead_of_meeting_a_locked_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = DatabaseUrl::Sqlite(dir.path().join("writers.db"));
        let pool = DbPool::build(&url, 8).expect("pool");
        pool.with_connection(|conn| {
            conn.batch_execute("CREATE TABLE tally (n INTEGER NOT NULL)")
                .map_err(DbError::from)
        })
        .expect("table");
        let (threads, writes) = (8, 40);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..writes {
                        pool.with_connection(|conn| {
                            conn.batch_execute("PRAGMA busy_timeout = 0")
                                .map_err(DbError::from)?;
                            write_transaction(conn, |conn| {
                                // A read, then a write, in one transaction, as handlers do.
                                let before: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
                                    "(SELECT count(*) FROM tally)",
                                ))
                                .get_result(conn)?;
                                diesel::sql_query(format!("INSERT INTO tally VALUES ({before})"))
                                    .execute(conn)?;
                                Ok::<_, DbError>(())
                            })
                        })
                        .expect("a queued write never meets a locked database");
                    }
                });
            }
        });
        let count: i64 = pool
            .with_connection(|conn| {
                diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM tally)"))
                    .get_result(conn)
                    .map_err(DbError::from)
            })
            .expect("count");
        assert_eq!(count, threads * writes);
    }

    #[test]
    fn busy_timeout_is_set_before_the_journal_mode_switch() {
        let position = |pragma: &str| SQLITE_PRAGMAS.find(pragma).expect("listed");
        assert!(position("busy_timeout") < position("journal_mode"));
        assert!(position("journal_mode") < position("synchronous"));
        assert!(position("synchronous") < position("foreign_keys"));
    }

    #[test]
    fn parses_supported_schemes_only() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://partner-center.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("partner-center.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/pc/pc.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/pc/pc.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:data.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("data.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/test").map(|u| u.backend()),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/d").map(|u| u.backend()),
            Ok(Backend::Postgres)
        );
        for bad in [
            "mysql://root@localhost/x",
            "partner-center.db",
            "sqlite://",
            "sqlite://:memory:",
            "http://x",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_hides_the_password() {
        let shown = |raw: &str| DatabaseUrl::parse(raw).expect("valid").to_string();
        assert_eq!(
            shown("postgres://pc:s3cret@db.internal:5432/pc?sslmode=require"),
            "postgres://pc:***@db.internal:5432/pc?sslmode=require"
        );
        assert_eq!(shown("postgres://pc@db/pc"), "postgres://pc@db/pc");
        assert_eq!(
            shown("postgres://pc@db/pc?sslmode=require&password=hunter2&application_name=x"),
            "postgres://pc@db/pc?sslmode=require&password=***&application_name=x"
        );
        assert_eq!(
            shown("postgresql://db?user=pc&PASSWORD=hunter2"),
            "postgresql://db?user=pc&PASSWORD=***"
        );
    }
}
