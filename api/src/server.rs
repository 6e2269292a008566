//! Assembling and running the HTTP server.

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header::{ALLOW, CONTENT_TYPE, LOCATION};
use actix_web::middleware::{Logger, from_fn};
use actix_web::web::Bytes;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, error, web};
use std::net::TcpListener;
use std::sync::Arc;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::ServeSettings;
use crate::error::{ApiError, ErrorCode};
use crate::events;
use crate::mailer;
use crate::openapi;
use crate::rate_limit::{self, RateLimiter};
use crate::request_context::request_context;
use crate::routes;
use crate::state::AppState;
use crate::webhooks;

/// Extra routes mounted beside the documented ones (tests use this to exercise shared
/// mechanisms, such as panic containment, through a real server).
pub type ExtraRoutes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// The OpenAPI document, rendered once at start-up and shared by every worker. Only the
/// rendered texts are kept: a copy of the document itself in each worker (as the docs UI's own
/// `/openapi.json` route would keep) cost megabytes of resident memory per worker. As `Bytes`,
/// answering a request shares the text instead of copying its ~700 KB.
#[derive(Clone)]
struct Documents {
    json: Bytes,
    yaml: Bytes,
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    limiter: web::Data<RateLimiter>,
}

impl Application {
    /// Binds the listener and prepares the workers; serving starts with [`Application::run`].
    pub fn build(
        state: AppState,
        settings: &ServeSettings,
        extra: Option<ExtraRoutes>,
    ) -> Result<Self, String> {
        let spec = openapi::spec();
        let yaml = spec
            .to_yaml()
            .map_err(|e| format!("cannot render the OpenAPI document: {e}"))?;
        let json = serde_json::to_string(&spec)
            .map_err(|e| format!("cannot render the OpenAPI document: {e}"))?;
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?
            .port();
        let route_table = web::Data::new(routes::RouteTable::from_spec(&spec));
        let limiter = web::Data::new(RateLimiter::new(&settings.rate_limits));
        let worker_limiter = limiter.clone();
        let worker_state = state.clone();
        let state = web::Data::new(state);
        let documents = Documents {
            json: Bytes::from(json),
            yaml: Bytes::from(yaml),
        };
        let server = HttpServer::new(move || {
            let documents = documents.clone();
            let extra = extra.clone();
            App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(route_table.clone())
                .app_data(worker_limiter.clone())
                .app_data(web::PathConfig::default().error_handler(|error, _| {
                    ApiError::new(
                        ErrorCode::InvalidPathParameter,
                        format!(
                            "A path parameter is malformed: {}.",
                            strip_prefix(&error.to_string())
                        ),
                    )
                    .into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    ApiError::new(
                        ErrorCode::InvalidQueryParameter,
                        format!(
                            "The query string is invalid: {}.",
                            strip_prefix(&error.to_string())
                        ),
                    )
                    .into()
                }))
                .app_data(web::JsonConfig::default().error_handler(|error, _| {
                    ApiError::new(ErrorCode::MalformedJson, error.to_string()).into()
                }))
                .configure(routes::configure)
                .into_app()
                .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
                .route("/docs", web::get().to(docs_redirect))
                .route(
                    "/openapi.json",
                    document(documents.json.clone(), "application/json"),
                )
                .route(
                    "/openapi.yaml",
                    document(documents.yaml.clone(), "application/yaml"),
                )
                .configure(|cfg| {
                    if let Some(extra) = &extra {
                        extra(cfg);
                    }
                })
                .default_service(web::to(fallback))
                .wrap(from_fn(rate_limit::limit))
                .wrap(from_fn(request_context))
                .wrap(access_log())
        })
        .workers(settings.workers)
        // Database work runs on each worker's blocking pool and needs a pooled connection:
        // threads beyond the pool's size would only wait for one, each holding its stack and a
        // malloc arena (61 threads and 111 MB resident under the benchmark's 32 connections).
        // Work beyond this queues for a thread instead.
        .worker_max_blocking_threads(
            (settings.pool_size as usize)
                .div_ceil(settings.workers)
                .max(1),
        )
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        .listen(listener)
        .map_err(|e| format!("cannot serve on {}: {e}", settings.bind))?
        .run();
        Ok(Self {
            port,
            server,
            state: worker_state,
            limiter,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped. SIGTERM stops gracefully: the listener closes and in-flight
    /// requests complete (up to the shutdown timeout).
    /// The mail worker, the webhook delivery worker and the sweep of what time changes (renewal
    /// windows, expiries, skilling credit, unpaid wire orders) run beside the server and stop
    /// with it.
    pub async fn run(self) -> std::io::Result<()> {
        let worker = actix_web::rt::spawn(mailer::run_worker(self.state.clone()));
        let deliveries = actix_web::rt::spawn(webhooks::run_worker(self.state.clone()));
        let checkpoints = actix_web::rt::spawn(run_checkpoints(self.state.clone()));
        let events = actix_web::rt::spawn(events::run_sweep(self.state));
        let limits = actix_web::rt::spawn(rate_limit::run_housekeeping(self.limiter));
        let result = self.server.await;
        worker.abort();
        deliveries.abort();
        events.abort();
        limits.abort();
        checkpoints.abort();
        result
    }
}

/// How often the SQLite WAL is checkpointed off the write path (see
/// [`persistence::connection::checkpoint`]): at 2,000 writes/s of some thirty pages each, the
/// WAL gains about 6,000 pages between two checkpoints.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints the SQLite WAL until the server stops; nothing to do on PostgreSQL.
async fn run_checkpoints(state: AppState) {
    if state.pool.backend() != persistence::Backend::Sqlite {
        return;
    }
    loop {
        actix_web::rt::time::sleep(CHECKPOINT_EVERY).await;
        if let Err(error) = crate::db::run(&state, |conn| {
            Ok(persistence::connection::checkpoint(conn)?)
        })
        .await
        {
            log::warn!("WAL checkpoint: {error}");
        }
    }
}

/// One line per request: request id, client, method and path (never the query string or
/// headers, which may carry credentials), status, size, duration. Written in batches (see
/// [`crate::logging`]).
fn access_log() -> Logger {
    Logger::new(r#"%{x-request-id}o %a "%{method}xi %U" %s %b %Dms"#)
        .log_target(crate::logging::ACCESS_LOG_TARGET)
        .custom_request_replace("method", |req| req.method().to_string())
}

/// actix prefixes its extractor errors ("Path deserialize error: ..."); the prefix is noise.
fn strip_prefix(message: &str) -> &str {
    message.split_once(": ").map_or(message, |(_, rest)| rest)
}

/// A route answering GET with `text`, the rendered document, as `content_type`.
fn document(text: Bytes, content_type: &'static str) -> actix_web::Route {
    web::get().to(move || {
        let text = text.clone();
        async move {
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, content_type))
                .body(text)
        }
    })
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((LOCATION, "/docs/"))
        .finish()
}

/// No route matched: 405 with `Allow` when the path exists under other methods, 404 otherwise.
async fn fallback(
    req: HttpRequest,
    routes: web::Data<routes::RouteTable>,
) -> Result<HttpResponse, error::Error> {
    let allowed = routes.allowed_methods(req.path());
    if allowed.is_empty() {
        return Err(ApiError::new(
            ErrorCode::RouteNotFound,
            format!("No route has the path {}.", req.path()),
        )
        .into());
    }
    let allow = allowed
        .iter()
        .map(|method| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} does not accept {}; it accepts {allow}.",
            req.path(),
            req.method()
        ),
    )
    .with_header(ALLOW, allow)
    .into())
}
