//! Running database work off the actix workers.

use actix_web::web;
use persistence::{Backend, DbConnection, DbPool};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::ApiError;
use crate::request_context;
use crate::state::AppState;

/// Runs `work` on the blocking pool with a pooled connection. The checkout happens inside the
/// closure, so a saturated pool blocks a blocking thread, never an actix worker.
pub async fn run<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    on_blocking_pool(state, move |pool| pool.with_connection(work)).await
}

/// [`run`] for work that only reads: its reads see one snapshot of the database (on SQLite,
/// one read transaction; see [`persistence::connection::read_snapshot`]). It must not write:
/// it does not count as a change of the database ([`persistence::changes`]).
pub async fn read<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    on_blocking_pool(state, move |pool| pool.with_reader(work)).await
}

/// Runs `job` on the blocking pool, with this request's id for its log lines.
async fn on_blocking_pool<T, J>(state: &AppState, job: J) -> Result<T, ApiError>
where
    J: FnOnce(&DbPool) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    let request_id = request_context::current_request_id();
    web::block(move || request_context::on_blocking_thread(request_id, || job(&pool)))
        .await
        .map_err(|_| ApiError::internal("a database task panicked"))?
}

/// [`read`] for work that is a handful of indexed lookups whose cost does not grow with the
/// account's data (the caller's standing and one row by its key, say). On SQLite, when a pooled
/// connection is idle at this moment, the work runs right here on the actix worker: such a read
/// takes microseconds, and the hop to the blocking pool and back was about a fifth of the CPU of
/// `GET /v1/account`. When no connection is idle it goes through [`read`], so the worker never
/// waits for a connection. On PostgreSQL, where every statement is a network round trip, it is
/// [`read`]. Never use it for work that scans (lists, search, exports) or grows with the
/// account's data (eligibility: see [`lookup_bounded`]): a slow read here stalls every
/// connection of its worker.
pub async fn lookup<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    match on_worker(state, work) {
        Ok(answer) => answer,
        Err(work) => read(state, work).await,
    }
}

/// Runs `work` here on the actix worker in one read snapshot, on SQLite with a connection idle
/// at this moment; otherwise gives `work` back untouched, for the blocking pool.
fn on_worker<T, F>(state: &AppState, work: F) -> Result<Result<T, ApiError>, F>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    if state.pool.backend() != Backend::Sqlite {
        return Err(work);
    }
    // As on the blocking pool, a panic becomes a 500 rather than the worker's end; the
    // connection, dropped while unwinding, is discarded by the pool rather than reused.
    catch_unwind(AssertUnwindSafe(|| state.pool.try_reader(work)))
        .unwrap_or_else(|_| Ok(Err(ApiError::internal("a database task panicked"))))
}

/// [`lookup`] for reads whose cost grows with the account's data but is small for almost every
/// account (eligibility, which scores the account's credits and linked records). On SQLite, with
/// an idle connection, `work` runs here on the actix worker with `Some(limit)`: it must read at
/// most `limit` rows of the growing kind and answer `Ok(None)` when there were more, and is then
/// run again on the blocking pool with `None` (no limit), where it must answer `Some`. So a large
/// account costs one bounded attempt more, and never stalls the worker for longer than reading
/// `limit` rows; otherwise (PostgreSQL, no idle connection) it is [`read`] with `None`.
pub async fn lookup_bounded<T, F>(state: &AppState, limit: usize, work: F) -> Result<T, ApiError>
where
    F: Fn(&mut DbConnection, Option<usize>) -> Result<Option<T>, ApiError> + Send + 'static,
    T: Send + 'static,
{
    if let Ok(answer) = on_worker(state, |conn| work(conn, Some(limit)))
        && let Some(answer) = answer?
    {
        return Ok(answer);
    }
    read(state, move |conn| unbounded(work(conn, None)?)).await
}

/// The answer of bounded work run without a bound (`None`), which always has one.
pub fn unbounded<T>(answer: Option<T>) -> Result<T, ApiError> {
    answer.ok_or_else(|| ApiError::internal("work without a bound reported reaching one"))
}
