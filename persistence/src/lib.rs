//! Storage for the partner-center service: SQLite (embedded default) and PostgreSQL through one
//! diesel `MultiConnection`, embedded migrations per backend, and repositories.
//!
//! Account-owned rows are reached through [`tenant::AccountScope`], which only this crate can
//! build from a resolved membership: a handler cannot forget a tenant filter because it never
//! writes one.

pub mod changes;
pub mod connection;
pub mod error;
pub mod migrate;
pub mod page;
pub mod repos;
pub mod schema;
pub mod tenant;
pub mod write_gate;

pub use connection::{Backend, DatabaseUrl, DbConnection, DbPool};
pub use error::{DbError, DbResult};
