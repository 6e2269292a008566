//! Running database work off the actix workers.

use actix_web::web;
use persistence::DbConnection;
use persistence::connection::read_snapshot;

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
    let pool = state.pool.clone();
    let request_id = request_context::current_request_id();
    web::block(move || {
        request_context::on_blocking_thread(request_id, || pool.with_connection(work))
    })
    .await
    .map_err(|_| ApiError::internal("a database task panicked"))?
}

/// [`run`] for work that only reads: its reads see one snapshot of the database (on SQLite,
/// one read transaction; see [`read_snapshot`]). Writing inside fails.
pub async fn read<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(state, move |conn| read_snapshot(conn, work)).await
}
