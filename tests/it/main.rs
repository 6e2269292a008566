//! Black-box HTTP tests of the partner-center service. One binary; every HTTP test runs on
//! SQLite and, when built and run with TEST_DATABASE_URL, on PostgreSQL too.

mod harness;

mod access;
mod accounts;
mod action_center;
mod apps;
mod audit;
mod auth;
mod commerce;
mod conventions;
mod crash;
mod idempotency;
mod insights;
mod isolation;
mod membership;
mod openapi;
mod operations;
mod pagination;
mod process;
mod rate_limits;
mod search;
mod seed;
mod storage;
mod users;
mod verification;
mod webhooks;
