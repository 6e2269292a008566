//! The HTTP contract's shapes. Input DTOs reject unknown fields and carry no server-owned
//! fields; output DTOs are built from stored records, never from rows or domain internals.

pub mod account;
pub mod action_center;
pub mod app;
pub mod audit;
pub mod commerce;
pub mod health;
pub mod insights;
pub mod marketplace;
pub mod me;
pub mod membership;
pub mod performance;
pub mod program;
pub mod role;
pub mod sandbox;
pub mod search;
pub mod skilling;
pub mod user;
pub mod webhook;
