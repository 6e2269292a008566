//! Route handlers: extract, validate, one call into storage off the worker, answer.

pub mod accounts;
pub mod health;
pub mod me;
pub mod operator;
