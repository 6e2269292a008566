//! What every request handler shares: the pool and the token service.

use domain::catalog::Rules;
use domain::help::HelpCatalog;
use persistence::DbPool;
use persistence::repos::idempotency::KeyTimes;
use persistence::repos::programs::ProgramCache;
use std::sync::Arc;

use crate::auth::TokenService;
use crate::mailer::Mailer;
use crate::payments::PaymentGateway;
use crate::views::Views;
use crate::webhooks::Webhooks;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub tokens: Arc<TokenService>,
    pub mailer: Arc<Mailer>,
    /// The catalog-wide rule numbers (skilling lag, renewal window, association limits).
    pub rules: Arc<Rules>,
    /// Where card payments and their refunds go.
    pub gateway: Arc<dyn PaymentGateway>,
    /// Webhook delivery: settings and the HTTP client.
    pub webhooks: Arc<Webhooks>,
    /// The help topics shipped with this build (`catalog/help_topics.json`).
    pub help: Arc<HelpCatalog>,
    /// The claim lease and replay retention of `Idempotency-Key`s.
    pub idempotency: KeyTimes,
    /// The decoded programs of this server's database (see [`ProgramCache`]).
    pub programs: Arc<ProgramCache>,
    /// How many credits and linked performance records together an eligibility check may read
    /// on an actix worker ([`crate::db::lookup_bounded`]); an account with more is checked on
    /// the blocking pool. [`INLINE_EVIDENCE`] unless a test sets it.
    pub inline_evidence: usize,
    /// Answers kept while the database has not changed (see [`crate::views`]).
    pub views: Arc<Views>,
}

/// Scoring this many rows takes well under a millisecond of a worker, and almost every account
/// has far fewer.
pub const INLINE_EVIDENCE: usize = 1_000;
