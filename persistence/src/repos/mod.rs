//! One repository per aggregate. Functions that write expect to run inside
//! [`crate::connection::write_transaction`], so a caller can compose them atomically.
//!
//! Every `Insertable` row struct carries `#[diesel(treat_none_as_default_value = false)]`: by
//! default diesel writes `DEFAULT` for a `None` field, so the statement's text depends on which
//! fields are set and diesel never caches it, and SQLite compiled such an insert on every write.
//! No nullable column has a default other than NULL, so binding NULL stores the same row.

pub mod accounts;
pub mod action_center;
pub mod applications;
pub mod apps;
pub mod audit;
pub mod benefits;
pub mod evidence;
pub mod idempotency;
pub mod memberships;
pub mod offers;
pub mod orders;
pub mod outbox;
pub mod performance;
pub mod programs;
pub mod search;
pub mod skilling;
pub mod support;
pub mod users;
pub mod webhooks;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Stored instants are UTC `TIMESTAMP`s at microsecond precision (PostgreSQL's), on both
/// backends, so a value reads back exactly as it was written.
pub fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub fn from_db_time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// The `LIMIT` of a read bounded by `at_most`: one row more, so the caller can tell that there
/// were more; without a bound, no limit that a table could reach (the statement keeps one shape,
/// and so one prepared statement, either way).
pub fn row_limit(at_most: Option<usize>) -> i64 {
    at_most.map_or(i64::MAX, |at_most| {
        i64::try_from(at_most).unwrap_or(i64::MAX).saturating_add(1)
    })
}
