use thiserror::Error;

/// A storage failure the caller cannot fix by changing its request.
#[derive(Debug, Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("database busy: {0}")]
    Busy(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("cannot read the migration state: {0}")]
    Migrations(String),
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

impl DbError {
    /// Worth retrying: the database is momentarily saturated or locked, not broken.
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Pool(_) | DbError::Busy(_))
    }

    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> Self {
        DbError::Corrupt {
            table,
            detail: detail.into(),
        }
    }
}

/// Whether SQLite refused for lock contention, which it reports as a plain error message.
pub(crate) fn is_locked(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info)
        if info.message().contains("database is locked"))
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        if is_locked(&error) {
            return DbError::Busy(error.to_string());
        }
        DbError::Query(error)
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        DbError::Pool(error.to_string())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Whether `error` is a unique-constraint violation whose constraint or message names `needle`.
pub(crate) fn is_unique_violation_on(error: &diesel::result::Error, needle: &str) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name()
                .is_some_and(|name| name.contains(needle))
                || info.message().contains(needle)
        }
        _ => false,
    }
}
