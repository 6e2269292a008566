//! Pure Partner Center rules. Nothing here performs I/O or reads the clock: every rule is a
//! function of its inputs (and of `now` where time matters), so it can be tested at its
//! boundaries without a database or a server.

pub mod access;
pub mod account;
pub mod action_center;
pub mod catalog;
#[macro_use]
pub mod commerce;
pub mod country;
pub mod eligibility;
pub mod email;
pub mod field;
pub mod help;
pub mod ids;
pub mod insights;
pub mod marketplace;
pub mod membership;
pub mod money;
pub mod principal;
pub mod role;
pub mod scoring;
pub mod search;
pub mod skilling;
pub mod text;
pub mod verification;
pub mod webhooks;
pub mod workspace;

pub use field::{FieldError, FieldErrors};
