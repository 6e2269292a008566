//! Test harness: every test gets its own database (a temporary SQLite file, or a fresh
//! PostgreSQL database when TEST_DATABASE_URL is set) and its own server on an ephemeral port.

use api::auth::TokenService;
use api::config::{
    AuthSettings, MailSettings, RateLimitSettings, ServeSettings, Settings, WebhookSettings,
};
use api::server::{Application, ExtraRoutes};
use diesel::{Connection, PgConnection, RunQueryDsl};
use domain::email::EmailAddress;
use domain::principal::Principal;
use domain::webhooks::RetryPolicy;
use persistence::DatabaseUrl;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use uuid::Uuid;

pub const ISSUER: &str = "partner-center";
pub const AUDIENCE: &str = "partner-center-api";
pub const EXTERNAL_ISSUER: &str = "https://login.example.test/";
/// 48 bytes: above the 32-byte minimum.
pub const TEST_SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    #[cfg_attr(not(pg_tests), allow(dead_code))]
    Postgres,
}

/// A database of the test's own, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// The PostgreSQL database's name and the administrative URL it was created with.
    #[cfg(pg_tests)]
    pub fn postgres(&self) -> Option<(&str, &str)> {
        self.postgres
            .as_ref()
            .map(|(admin, name)| (name.as_str(), admin.as_str()))
    }

    pub fn create(db: Db) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        match db {
            Db::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                dir,
                postgres: None,
            },
            Db::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL")
                    .expect("these tests were built with TEST_DATABASE_URL set; set it when running them too");
                let name = format!("pc_test_{}", Uuid::now_v7().simple());
                let mut conn =
                    PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create the test database");
                TestDb {
                    url: with_database(&admin, &name),
                    dir,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("valid test database url")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// `postgres://user@host:port/old?params` with the database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url with scheme");
    let (authority, tail) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|index| &tail[index..]).unwrap_or("");
    format!("{scheme}://{authority}/{name}{query}")
}

pub fn settings_for(db: &TestDb) -> Settings {
    Settings {
        database_url: db.database_url(),
        auth: AuthSettings {
            jwt_secret: Some(TEST_SECRET.to_owned()),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            jwks_file: None,
            jwks_issuer: None,
        },
        data_dir: db.dir.path().to_path_buf(),
        mail: MailSettings {
            smtp_url: None,
            from: "Partner Center <partner-center@test.example>".to_owned(),
            drop_dir: db.dir.path().join("mail"),
        },
        webhooks: test_webhook_settings(),
        idempotency_lease: api::extract::idempotency::KEY_TIMES.lease,
    }
}

/// Webhooks as tests need them: receivers on loopback, quick polling and short retries.
pub fn test_webhook_settings() -> WebhookSettings {
    WebhookSettings {
        allow_insecure_urls: true,
        retry: RetryPolicy {
            base: chrono::Duration::milliseconds(300),
            cap: chrono::Duration::seconds(5),
            give_up_after: chrono::Duration::days(3),
        },
        disable_after: chrono::Duration::days(3),
        lease: chrono::Duration::seconds(30),
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(100),
    }
}

/// How a test server is set up beyond the defaults.
#[derive(Default)]
pub struct Options {
    pub migrate: bool,
    pub jwks_file: Option<PathBuf>,
    /// Connect the server with this URL instead of the test database's own (another role).
    pub database_url: Option<String>,
    /// Send mail through this SMTP server instead of the file drop.
    pub smtp_url: Option<String>,
    /// Webhook delivery settings other than `test_webhook_settings()`.
    pub webhooks: Option<WebhookSettings>,
    /// Rate limits; off unless set, so tests that hammer one account are not throttled.
    pub rate_limits: Option<RateLimitSettings>,
    /// The eligibility check's bound for reading on an actix worker, other than the default.
    pub inline_evidence: Option<usize>,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: Arc<TokenService>,
    handle: actix_web::dev::ServerHandle,
    // Dropped after the server is told to stop (fields drop in declaration order).
    pub db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the workers wind down on their own.
        drop(self.handle.stop(false));
    }
}

/// Routes mounted only in tests, to drive shared mechanisms through a real server.
fn test_routes() -> ExtraRoutes {
    Arc::new(|cfg: &mut actix_web::web::ServiceConfig| {
        cfg.route("/__test/panic", actix_web::web::get().to(panicking_handler));
    })
}

async fn panicking_handler() -> actix_web::HttpResponse {
    panic!("the panic message must not reach the client")
}

impl TestApp {
    pub async fn spawn(db: Db) -> Self {
        Self::spawn_with(
            db,
            Options {
                migrate: true,
                ..Options::default()
            },
        )
        .await
    }

    pub async fn spawn_with(db: Db, options: Options) -> Self {
        Self::spawn_in(TestDb::create(db), options).await
    }

    /// A server on a database the test has already prepared.
    pub async fn spawn_in(db: TestDb, options: Options) -> Self {
        let mut settings = settings_for(&db);
        if let Some(url) = &options.database_url {
            settings.database_url = DatabaseUrl::parse(url).expect("valid database url");
        }
        if let Some(webhooks) = options.webhooks {
            settings.webhooks = webhooks;
        }
        if let Some(smtp) = options.smtp_url {
            settings.mail.smtp_url = Some(smtp);
        }
        if let Some(jwks) = options.jwks_file {
            settings.auth.jwks_file = Some(jwks);
            settings.auth.jwks_issuer = Some(EXTERNAL_ISSUER.to_owned());
        }
        let serve = ServeSettings {
            bind: "127.0.0.1:0".parse().expect("address"),
            workers: 1,
            pool_size: 4,
            shutdown_timeout_seconds: 5,
            migrate_on_start: options.migrate,
            rate_limits: options.rate_limits.unwrap_or_else(RateLimitSettings::off),
        };
        let mut state = api::startup::prepare(&settings, serve.pool_size, serve.migrate_on_start)
            .expect("application state");
        if let Some(inline_evidence) = options.inline_evidence {
            state.inline_evidence = inline_evidence;
        }
        let tokens = state.tokens.clone();
        let app = Application::build(state, &serve, Some(test_routes())).expect("server");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        actix_rt::spawn(app.run());
        TestApp {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            tokens,
            handle,
            db,
        }
    }

    pub fn user_token(&self, directory: Uuid, email: &str) -> String {
        issue_user_token(&self.tokens, directory, email)
    }

    pub fn operator_token(&self) -> String {
        issue_operator_token(&self.tokens)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::from(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.request(Method::GET, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::POST, path)
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    pub async fn put_json(&self, path: &str, token: &str, if_match: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::PUT, path)
                .bearer_auth(token)
                .header("if-match", if_match)
                .json(body),
        )
        .await
    }

    pub async fn patch_json(&self, path: &str, token: &str, if_match: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::PATCH, path)
                .bearer_auth(token)
                .header("if-match", if_match)
                .json(body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str, if_match: Option<&str>) -> Reply {
        let mut request = self.request(Method::DELETE, path).bearer_auth(token);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        self.send(request).await
    }

    /// Adds a user with `roles` to the account of `admin_token`'s directory; returns the
    /// user's id and a token for them.
    pub async fn add_user(
        &self,
        directory: Uuid,
        admin_token: &str,
        email: &str,
        roles: &[&str],
    ) -> (String, String) {
        let reply = self
            .post_json(
                "/v1/users",
                admin_token,
                &json!({"email": email, "first_name": "Test", "last_name": "User", "roles": roles}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let id = reply.json()["id"].as_str().expect("user id").to_owned();
        (id, self.user_token(directory, email))
    }

    /// The operator decides the account's pending verification.
    pub async fn decide(&self, account_id: &str, outcome: &str, reason: Option<&str>) -> Reply {
        let mut body = json!({"outcome": outcome});
        if let Some(reason) = reason {
            body["reason"] = reason.into();
        }
        self.post_json(
            &format!("/v1/operator/accounts/{account_id}/verification"),
            &self.operator_token(),
            &body,
        )
        .await
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.db.dir.path().join("mail")
    }

    /// The text of every mail dropped so far.
    pub fn dropped_mail(&self) -> Vec<String> {
        std::fs::read_dir(self.mail_dir())
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits (up to 10 s) for a dropped mail from which `find` takes something.
    async fn wait_for<T>(&self, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
        for _ in 0..100 {
            if let Some(found) = self.dropped_mail().iter().find_map(|text| find(text)) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {what} arrived");
    }

    /// Waits for a dropped mail to `recipient` whose text contains `needle`; returns it.
    pub async fn wait_for_mail(&self, recipient: &str, needle: &str) -> String {
        self.wait_for(
            &format!("mail to {recipient} containing {needle:?}"),
            |text| (text.contains(recipient) && text.contains(needle)).then(|| text.to_owned()),
        )
        .await
    }

    /// Waits for a verification code mailed to `address`, other than those in `skip`.
    pub async fn code_sent_to(&self, address: &str, skip: &[String]) -> String {
        self.wait_for(&format!("code for {address}"), |text| {
            verification_code(text).filter(|code| text.contains(address) && !skip.contains(code))
        })
        .await
    }

    /// Creates an account for a fresh directory; returns (directory, owner token, account).
    pub async fn create_account(&self) -> (Uuid, String, Value) {
        self.create_account_as("jane.doe@contoso.com").await
    }

    /// Like [`TestApp::create_account`], enrolled by `email`.
    pub async fn create_account_as(&self, email: &str) -> (Uuid, String, Value) {
        self.enroll(email, account_body()).await
    }

    /// A sandbox account (its own clock) for a fresh directory.
    pub async fn create_sandbox_account(&self) -> (Uuid, String, Value) {
        let mut body = account_body();
        body["sandbox"] = json!(true);
        self.enroll("jane.doe@contoso.com", body).await
    }

    async fn enroll(&self, email: &str, body: Value) -> (Uuid, String, Value) {
        let directory = Uuid::now_v7();
        let token = self.user_token(directory, email);
        let reply = self.post_json("/v1/accounts", &token, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        (directory, token, reply.json())
    }

    /// The clock of `token`'s sandbox account.
    pub async fn sandbox_now(&self, token: &str) -> chrono::DateTime<chrono::Utc> {
        let reply = self.get("/v1/sandbox/clock", Some(token)).await;
        let now = reply.json()["now"].clone();
        now.as_str()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.to_utc())
            .unwrap_or_else(|| panic!("no sandbox clock: {}", reply.text))
    }

    /// Records, through the sandbox stand-in, that `learn_id` earned the certification
    /// `credential` at `at`.
    pub async fn complete_certification(
        &self,
        token: &str,
        learn_id: &str,
        credential: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let reply = self
            .post_json(
                "/v1/sandbox/skilling/completions",
                token,
                &json!({
                    "learn_id": learn_id,
                    "kind": "certification",
                    "credential": credential,
                    "title": credential,
                    "completed_at": at.to_rfc3339(),
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }

    /// A verified sandbox account: (directory, owner token, account id).
    pub async fn verified_sandbox(&self) -> (Uuid, String, String) {
        let (directory, owner, account) = self.create_sandbox_account().await;
        let decided = self
            .post_json(
                "/v1/sandbox/verification",
                &owner,
                &json!({"outcome": "verified"}),
            )
            .await;
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
        let id = account["id"].as_str().expect("id").to_owned();
        (directory, owner, id)
    }

    /// Moves a sandbox's clock forward; returns its new now.
    pub async fn advance(&self, token: &str, days: u32, seconds: u32) -> String {
        let reply = self
            .post_json(
                "/v1/sandbox/clock",
                token,
                &json!({"advance_days": days, "advance_seconds": seconds}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()["now"].as_str().expect("now").to_owned()
    }

    /// A POST with a JSON body and a fresh `Idempotency-Key` (routes that redeem or move money
    /// require one).
    pub async fn post_keyed(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::POST, path)
                .bearer_auth(token)
                .header("idempotency-key", Uuid::now_v7().to_string())
                .json(body),
        )
        .await
    }

    /// Places an order with a fresh `Idempotency-Key`.
    pub async fn order(&self, token: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::POST, "/v1/orders")
                .bearer_auth(token)
                .header("idempotency-key", Uuid::now_v7().to_string())
                .json(body),
        )
        .await
    }

    /// Creates a paid program `id` (USD 100.00 a year, with an Azure credit, a software key and
    /// a marketing benefit) and buys it by card for `token`'s account; returns the paid order.
    pub async fn bought(&self, token: &str, id: &str) -> Value {
        let made = self.put_program(id, &paid_program_definition()).await;
        assert!(made.status.is_success(), "{}", made.text);
        let reply = self
            .order(
                token,
                &json!({"program_id": id, "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_approve"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()
    }

    /// Creates (or replaces, as `*`) a program as the operator.
    pub async fn put_program(&self, id: &str, definition: &Value) -> Reply {
        self.put_json(
            &format!("/v1/operator/programs/{id}"),
            &self.operator_token(),
            "*",
            definition,
        )
        .await
    }
}

/// A paid program (USD 100.00 a year, bought by order) with an Azure credit, a software key
/// and a marketing benefit, without verification or other prerequisites.
pub fn paid_program_definition() -> Value {
    let mut definition = program_definition("purchase");
    definition["fee"] = json!({"amount_minor": 10000, "currency": "USD"});
    definition["benefits"] = json!([
        {"id": "credit", "kind": "azure_credit", "name": "Azure monthly credit", "quantity": 1},
        {"id": "keys", "kind": "software", "name": "Software keys", "quantity": 1},
        {"id": "gtm", "kind": "marketing", "name": "Go-to-market", "quantity": 1}
    ]);
    definition
}

/// A free program definition, joined as `enrollment` says, without verification or other
/// prerequisites; tests adjust fields from it.
pub fn program_definition(enrollment: &str) -> Value {
    json!({
        "track": "services",
        "name": "Probe program",
        "description": "A program made by a test.",
        "fee": null,
        "term_days": 365,
        "renewable": true,
        "availability": "ga",
        "sales_start": null,
        "sales_end": null,
        "enrollment": enrollment,
        "requires_verification": false,
        "prerequisites": {"programs": [], "published_transactable_offer": false},
        "benefits": [],
        "benefit_packs": [],
        "exclusive_group": null,
        "scoring": null
    })
}

/// A ten-minute user token for `email` in `directory`.
pub fn issue_user_token(tokens: &TokenService, directory: Uuid, email: &str) -> String {
    issue(
        tokens,
        Principal::User {
            email: EmailAddress::parse(email).expect("valid email"),
            directory: directory.to_string().parse().expect("uuid"),
        },
    )
}

/// A ten-minute operator token.
pub fn issue_operator_token(tokens: &TokenService) -> String {
    issue(
        tokens,
        Principal::Operator {
            email: EmailAddress::parse("operator@partner-center.example").expect("valid email"),
        },
    )
}

fn issue(tokens: &TokenService, principal: Principal) -> String {
    tokens
        .issue(
            &principal,
            chrono::Utc::now(),
            chrono::Duration::minutes(10),
        )
        .expect("token")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and code, whose `request_id` is the
    /// response's `X-Request-Id`; returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{}", self.text);
        assert_eq!(body["status"], status, "{}", self.text);
        assert_eq!(body["type"], format!("urn:partner-center:problem:{code}"));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        let request_id = self.header("x-request-id").expect("x-request-id header");
        assert_eq!(body["request_id"], request_id);
        body
    }

    /// The `(field, code)` pairs of a validation problem.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or_default().to_owned(),
                            e["code"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The verification code in a mail's text.
pub fn verification_code(text: &str) -> Option<String> {
    text.split("verification code is ")
        .nth(1)
        .and_then(|rest| rest.get(..6))
        .map(str::to_owned)
}

/// A valid enrollment body.
pub fn account_body() -> Value {
    json!({
        "legal_name": "Contoso Ltd.",
        "address": {
            "line1": "1 Microsoft Way",
            "city": "Redmond",
            "state_or_province": "WA",
            "postal_code": "98052"
        },
        "country": "US",
        "website": "https://www.contoso.com",
        "primary_contact": {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane.doe@contoso.com",
            "phone": "+1 425 555 0100"
        }
    })
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The `partner-center` binary of this build (`make test` builds it first).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("partner-center");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build -p api --bin partner-center` (`make test` does)",
        binary.display()
    );
    binary
}

/// Runs each listed test on SQLite, and on PostgreSQL when the suite was built with
/// TEST_DATABASE_URL. The body receives a running `TestApp` named as in the signature.
#[macro_export]
macro_rules! dual_test {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($app: $crate::harness::TestApp) $body

            #[actix_rt::test]
            async fn sqlite() {
                case($crate::harness::TestApp::spawn($crate::harness::Db::Sqlite).await).await
            }

            #[cfg(pg_tests)]
            #[actix_rt::test]
            async fn postgres() {
                case($crate::harness::TestApp::spawn($crate::harness::Db::Postgres).await).await
            }
        }
    )*};
}

/// Like [`dual_test!`], for tests that take the database kind and set up their own server.
#[macro_export]
macro_rules! dual_db_test {
    ($(async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: $crate::harness::Db) $body

            #[actix_rt::test]
            async fn sqlite() {
                case($crate::harness::Db::Sqlite).await
            }

            #[cfg(pg_tests)]
            #[actix_rt::test]
            async fn postgres() {
                case($crate::harness::Db::Postgres).await
            }
        }
    )*};
}

#[test]
fn database_names_are_replaced_in_postgres_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
