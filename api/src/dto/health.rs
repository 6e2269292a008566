use serde::Serialize;
use utoipa::ToSchema;

/// The process is up and serving.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The running version of the service.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// The service can serve requests: its database answers and its schema is current.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: String,
    #[schema(example = "applied")]
    pub migrations: &'static str,
}
