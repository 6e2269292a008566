//! The partner-center HTTP service: routes, extractors, problem responses, authentication and
//! the `partner-center` binary's commands.

pub mod access;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv;
pub mod db;
pub mod dto;
pub mod enrollment;
pub mod error;
pub mod events;
pub mod extract;
pub mod handlers;
pub mod invoice_pdf;
pub mod logging;
pub mod mailer;
pub mod openapi;
pub mod payments;
pub mod rate_limit;
pub mod request_context;
pub mod routes;
pub mod seed;
pub mod server;
pub mod startup;
pub mod state;
pub mod views;
pub mod webhooks;
