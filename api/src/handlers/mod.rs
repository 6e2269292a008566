//! Route handlers: extract, validate, one call into storage off the worker, answer.

pub mod accounts;
pub mod action_center;
pub mod apps;
pub mod audit;
pub mod health;
pub mod me;
pub mod operator;
pub mod users;
pub mod verification;
