use actix_web::http::header::RETRY_AFTER;
use actix_web::{get, web};
use persistence::connection::ping;

use crate::db;
use crate::dto::health::{Health, Readiness};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Liveness probe.
///
/// The process is up and serving HTTP; nothing else is checked.
#[utoipa::path(
    tag = "Operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is alive.", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness probe.
///
/// The database answers and every migration is applied. Load balancers should route traffic
/// only to ready replicas.
#[utoipa::path(
    tag = "Operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve.", body = Readiness),
        (status = 503, description = "Not ready: the database is unreachable or migrations are pending (`service_unavailable`)."),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Readiness>, ApiError> {
    let backend = state.pool.backend();
    let pending = db::read(&state, |conn| {
        ping(conn)?;
        Ok(persistence::migrate::has_pending(conn)?)
    })
    .await
    .map_err(|error| {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            format!("The database is not reachable: {}", error.detail()),
        )
        .with_header(RETRY_AFTER, "5")
    })?;
    if pending {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "Database migrations are pending; run `partner-center migrate`.",
        )
        .with_header(RETRY_AFTER, "5"));
    }
    Ok(web::Json(Readiness {
        status: "ready",
        database: backend.to_string(),
        migrations: "applied",
    }))
}
