//! Route handlers: extract, validate, one call into storage off the worker, answer.

pub mod accounts;
pub mod action_center;
pub mod apps;
pub mod audit;
pub mod benefits;
pub mod health;
pub mod insights;
pub mod invoices;
pub mod marketplace;
pub mod me;
pub mod memberships;
pub mod operator;
pub mod orders;
pub mod performance;
pub mod programs;
pub mod sandbox;
pub mod search;
pub mod skilling;
pub mod support;
pub mod users;
pub mod verification;
pub mod webhooks;
