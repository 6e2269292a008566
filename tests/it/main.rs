//! Black-box HTTP tests of the partner-center service. One binary; every HTTP test runs on
//! SQLite and, when built and run with TEST_DATABASE_URL, on PostgreSQL too.

mod harness;

mod accounts;
mod auth;
mod conventions;
mod idempotency;
mod openapi;
mod operations;
mod pagination;
mod process;
mod storage;
