//! Turning settings into a ready application state: migrate, connect, load keys.

use domain::catalog::Catalog;
use persistence::connection::write_transaction;
use persistence::repos::idempotency::KeyTimes;
use persistence::repos::{programs, search};
use persistence::{DbPool, migrate};

use crate::clock;
use std::sync::Arc;

use crate::auth::{TokenService, load_embedded_secret, load_jwks};
use crate::config::{Settings, check_auth};
use crate::extract::idempotency::KEY_TIMES;
use crate::mailer::Mailer;
use crate::payments::TestGateway;
use crate::state::AppState;
use crate::webhooks::Webhooks;

/// The token service for `settings`: the embedded key (configured or from the key file,
/// created on first use) and the external issuer's keys, if configured.
pub fn token_service(settings: &Settings) -> Result<TokenService, String> {
    let auth = &settings.auth;
    check_auth(auth)?;
    let secret = load_embedded_secret(auth.jwt_secret.as_deref(), &settings.key_file())?;
    let external = match (&auth.jwks_file, &auth.jwks_issuer) {
        (Some(file), Some(issuer)) => Some(load_jwks(file, issuer.clone())?),
        _ => None,
    };
    Ok(TokenService::new(
        &secret,
        auth.issuer.clone(),
        auth.audience.clone(),
        external,
    ))
}

/// Applies pending migrations (when asked), builds the pool and the token service.
pub fn prepare(
    settings: &Settings,
    pool_size: u32,
    migrate_first: bool,
) -> Result<AppState, String> {
    let tokens = token_service(settings)?;
    if migrate_first {
        let applied = migrate::run_pending(&settings.database_url)?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
    }
    let mailer = Mailer::from_settings(&settings.mail)?;
    let pool = DbPool::build(&settings.database_url, pool_size)?;
    let catalog = load_catalog(&pool)?;
    let help = search::seeded_help()?;
    Ok(AppState {
        help: Arc::new(help),
        pool,
        tokens: Arc::new(tokens),
        mailer: Arc::new(mailer),
        rules: Arc::new(catalog.rules),
        gateway: Arc::new(TestGateway),
        webhooks: Arc::new(Webhooks::new(settings.webhooks.clone())?),
        idempotency: KeyTimes {
            lease: settings.idempotency_lease,
            ..KEY_TIMES
        },
        programs: Arc::default(),
        inline_evidence: crate::state::INLINE_EVIDENCE,
        views: Default::default(),
    })
}

/// Loads the shipped catalog into the database (new programs, and programs of an older file
/// version that no operator edited) and returns it.
pub fn load_catalog(pool: &DbPool) -> Result<Catalog, String> {
    let catalog = programs::seeded()?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot load the catalog: {e}"))?;
    // A server started on an unmigrated database reports itself not ready; whoever applies
    // the migrations (`partner-center migrate` or a migrating replica) loads the catalog.
    if migrate::has_pending(&mut conn).map_err(|e| format!("cannot read the schema state: {e}"))? {
        log::warn!("the database has pending migrations: the catalog is not loaded");
        return Ok(catalog);
    }
    let help = search::seeded_help()?;
    let changed = write_transaction(&mut conn, |conn| {
        let changed = programs::load(conn, &catalog, clock::now())?;
        search::index_catalog(conn, &help)?;
        Ok(changed)
    })
    .map_err(|e: persistence::DbError| format!("cannot load the catalog: {e}"))?;
    if !changed.is_empty() {
        log::info!(
            "catalog version {} loaded: {}",
            catalog.catalog_version,
            changed.join(", ")
        );
    }
    drain_search_queue(&mut conn)?;
    Ok(catalog)
}

/// Indexes the accounts queued for search (every account of a database that predates the
/// index), one account per transaction so a large backlog neither holds a long lock nor is
/// lost half-way. Several replicas may drain at once: reindexing is idempotent.
fn drain_search_queue(conn: &mut persistence::DbConnection) -> Result<(), String> {
    let failed = |e: persistence::DbError| format!("cannot index accounts for search: {e}");
    loop {
        let queued = search::queued_accounts(conn, 50).map_err(failed)?;
        if queued.is_empty() {
            return Ok(());
        }
        for scope in queued {
            let indexed = write_transaction(conn, |conn| {
                let indexed = search::reindex_account(conn, &scope)?;
                search::dequeue(conn, &scope)?;
                Ok(indexed)
            })
            .map_err(failed)?;
            log::info!(
                "search: indexed {indexed} objects of account {}",
                scope.account_id()
            );
        }
    }
}
