//! What every request handler shares: the pool and the token service.

use persistence::DbPool;
use std::sync::Arc;

use crate::auth::TokenService;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub tokens: Arc<TokenService>,
}
