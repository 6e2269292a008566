//! The `partner-center` binary as operators run it: commands, configuration errors, crash
//! durability, graceful shutdown and what its logs contain.

use crate::dual_db_test;
use crate::harness::{
    AUDIENCE, Db, ISSUER, TEST_SECRET, TestDb, account_body, binary, issue_operator_token,
    issue_user_token,
};
use crate::webhooks::{Answer, Received, Receiver, verifies};
use api::auth::TokenService;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A server process and everything it wrote to stderr.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    pub(crate) fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("PC_BIND", "127.0.0.1:0")
            .env("PC_WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("server started");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split("listening on 127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
                sink.lock().expect("log").push(line);
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().expect("log")));
        ServerProcess { child, port, log }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid"))
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    pub(crate) fn wait_for_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn user_token(directory: Uuid) -> String {
    issue_user_token(&tokens(), directory, "jane.doe@contoso.com")
}

pub(crate) fn operator_token() -> String {
    issue_operator_token(&tokens())
}

fn tokens() -> TokenService {
    TokenService::new(TEST_SECRET.as_bytes(), ISSUER.into(), AUDIENCE.into(), None)
}

pub(crate) async fn get_json(
    client: &reqwest::Client,
    server: &ServerProcess,
    path: &str,
    token: &str,
) -> serde_json::Value {
    client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

dual_db_test! {
    async fn logs_carry_the_request_id_and_never_the_token(db) {
        let db = TestDb::create(db);
        let server = ServerProcess::start(&db.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
        let token = user_token(Uuid::now_v7());
        let client = reqwest::Client::new();
        let response = client
            .post(server.url("/v1/accounts?note=x"))
            .bearer_auth(&token)
            .header("x-request-id", "log-check-7")
            .json(&account_body())
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 201);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.log().contains("log-check-7") {
            assert!(Instant::now() < deadline, "no log line with the request id: {}", server.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = server.log();
        let line = log.lines().find(|l| l.contains("log-check-7")).expect("line");
        assert!(line.contains("POST /v1/accounts") && line.contains(" 201 "), "{line}");
        assert!(!log.contains(&token), "a token reached the log");
        assert!(!log.contains(TEST_SECRET), "the secret reached the log");
        assert!(!log.contains("note=x"), "query strings are not logged");
    }
}

#[actix_rt::test]
async fn sigterm_lets_the_request_in_flight_finish() {
    let db = TestDb::create(Db::Sqlite);
    let mut server = ServerProcess::start(&db.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
    let body = account_body().to_string();
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        user_token(Uuid::now_v7()),
        body.len()
    )
    .expect("headers sent");
    // The interim 100 proves the server has taken the request in: it is in flight.
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("interim response");
        interim.push(byte[0]);
    }
    let interim = String::from_utf8_lossy(&interim);
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    stream
        .write_all(first_half.as_bytes())
        .expect("first half sent");

    kill(server.pid(), Signal::SIGTERM).expect("SIGTERM");
    // The listener closes: no new work is accepted...
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...but the request in flight completes.
    stream
        .write_all(second_half.as_bytes())
        .expect("second half sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let status = server.wait_for_exit(Duration::from_secs(15));
    assert!(status.success(), "exit {status:?}: {}", server.log());
}

/// Runs the binary with `args` and `env` only; returns (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("ran");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_stops_start_up_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("pc.db").display());
    let missing_dir = format!("sqlite://{}", dir.path().join("missing/pc.db").display());
    let jwks = dir.path().join("absent-jwks.json").display().to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("DATABASE_URL", "mysql://root@localhost/pc")],
            "scheme \"mysql\" is not supported",
        ),
        (vec![("DATABASE_URL", "partner-center.db")], "has no scheme"),
        (
            vec![("DATABASE_URL", &sqlite), ("PC_IDEMPOTENCY_LEASE", "0s")],
            "PC_IDEMPOTENCY_LEASE \"0s\" must be between 1s and 24h",
        ),
        (
            vec![
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/pc"),
                ("PC_JWT_SECRET", TEST_SECRET),
            ],
            "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/pc: connection to server at \"127.0.0.1\", port 1 failed: Connection refused",
        ),
        (
            vec![
                (
                    "DATABASE_URL",
                    "postgres://postgres@127.0.0.1:1/pc?password=hunter2",
                ),
                ("PC_JWT_SECRET", TEST_SECRET),
            ],
            "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/pc?password=***",
        ),
        (
            vec![
                ("DATABASE_URL", &missing_dir),
                ("PC_JWT_SECRET", TEST_SECRET),
            ],
            "cannot open SQLite database",
        ),
        (
            vec![("DATABASE_URL", &sqlite), ("PC_JWT_SECRET", "too-short")],
            "PC_JWT_SECRET must be at least 32 bytes",
        ),
        (
            vec![("DATABASE_URL", &sqlite), ("PC_BIND", "nonsense")],
            "PC_BIND \"nonsense\" is not a host:port address",
        ),
        (
            vec![
                ("DATABASE_URL", &sqlite),
                ("PC_JWT_SECRET", TEST_SECRET),
                ("PC_JWKS_FILE", &jwks),
            ],
            "PC_JWKS_FILE is set but PC_JWKS_ISSUER is not",
        ),
        (
            vec![
                ("DATABASE_URL", &sqlite),
                ("PC_JWT_SECRET", TEST_SECRET),
                ("PC_JWKS_FILE", &jwks),
                ("PC_JWKS_ISSUER", "https://login.example.test/"),
            ],
            "cannot read PC_JWKS_FILE",
        ),
        (
            vec![
                ("DATABASE_URL", &sqlite),
                ("PC_RATE_LIMIT_PRINCIPAL", "600"),
            ],
            "PC_RATE_LIMIT_PRINCIPAL \"600\" is not a rate: write <requests>/<window>, e.g. 600/60s",
        ),
        (
            vec![
                ("DATABASE_URL", &sqlite),
                ("PC_RATE_LIMIT_ACCOUNT", "3000/2d"),
            ],
            "PC_RATE_LIMIT_ACCOUNT \"3000/2d\" has no window unit (s, m or h)",
        ),
    ];
    for (env, expected) in cases {
        let (code, _, stderr) = run(&["serve"], &env);
        assert_eq!(code, Some(2), "{env:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{env:?} printed {stderr}");
        assert!(lines[0].starts_with("partner-center: "), "{}", lines[0]);
        assert!(
            lines[0].contains(expected),
            "{env:?}: expected {expected:?} in {}",
            lines[0]
        );
        assert!(!lines[0].contains("Invalid connection url"), "{}", lines[0]);
        assert!(
            !lines[0].contains("hunter2"),
            "a password reached the output: {}",
            lines[0]
        );
    }
}

#[test]
fn version_openapi_and_migrate_commands() {
    let (code, stdout, _) = run(&["--version"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.trim(),
        format!("partner-center {}", env!("CARGO_PKG_VERSION"))
    );

    let (code, stdout, _) = run(&["openapi"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, api::openapi::spec().to_yaml().expect("yaml"));

    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("pc.db").display());
    let (code, stdout, stderr) = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("applied 20261121000001"), "{stdout}");
    let (code, stdout, _) = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("no pending migrations"), "{stdout}");
}

#[actix_rt::test]
async fn tokens_from_the_token_command_work_against_the_server_on_a_generated_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_file = dir.path().join("pc.db");
    let url = format!("sqlite://{}", db_file.display());
    // No PC_JWT_SECRET: the server generates its key beside the database.
    let server = ServerProcess::start(&url, &[]);
    let key_file = dir.path().join("pc.db.jwt-secret");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file)
            .expect("key file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    let directory = Uuid::now_v7();
    let (code, user, stderr) = run(
        &[
            "token",
            "--directory",
            &directory.to_string(),
            "--email",
            "jane.doe@contoso.com",
        ],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, operator, stderr) = run(
        &[
            "token",
            "--operator",
            "--email",
            "ops@partner-center.example",
        ],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(code, Some(0), "{stderr}");

    let client = reqwest::Client::new();
    let me = get_json(&client, &server, "/v1/me", user.trim()).await;
    assert_eq!(me["kind"], "user");
    assert_eq!(me["directory_id"], directory.to_string());
    let me = get_json(&client, &server, "/v1/me", operator.trim()).await;
    assert_eq!(me["kind"], "operator");

    // Neither or both of --directory and --operator is a usage error.
    let (code, _, _) = run(
        &["token", "--email", "jane.doe@contoso.com"],
        &[("DATABASE_URL", &url)],
    );
    assert_ne!(code, Some(0));
    let (code, _, stderr) = run(
        &[
            "token",
            "--directory",
            "not-a-uuid",
            "--email",
            "jane.doe@contoso.com",
        ],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not a UUID"), "{stderr}");
}

#[test]
fn the_binary_needs_no_system_database_or_tls_library() {
    let output = Command::new("ldd").arg(binary()).output().expect("ldd ran");
    let libraries = String::from_utf8_lossy(&output.stdout);
    for library in ["libpq", "libsqlite3", "libssl", "libcrypto"] {
        assert!(
            !libraries.contains(library),
            "links {library} dynamically:\n{libraries}"
        );
    }
}

/// Settings of a server process whose webhook receivers run on loopback and whose leases are
/// short enough for a test to outlive.
const WEBHOOK_ENV: [(&str, &str); 6] = [
    ("PC_JWT_SECRET", TEST_SECRET),
    ("PC_WEBHOOK_ALLOW_INSECURE_URLS", "true"),
    ("PC_WEBHOOK_LEASE", "3s"),
    ("PC_WEBHOOK_TIMEOUT", "2s"),
    ("PC_WEBHOOK_POLL", "50ms"),
    ("PC_WEBHOOK_RETRY_BASE", "200ms"),
];

async fn post(
    client: &reqwest::Client,
    server: &ServerProcess,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("json")
}

/// An account with an endpoint for `events`; returns (owner token, secret, endpoint id).
async fn account_with_webhook(
    client: &reqwest::Client,
    server: &ServerProcess,
    url: &str,
    events: &[&str],
) -> (String, String, String) {
    let token = user_token(Uuid::now_v7());
    post(client, server, "/v1/accounts", &token, account_body()).await;
    let webhook = post(
        client,
        server,
        "/v1/webhooks",
        &token,
        serde_json::json!({"url": url, "events": events}),
    )
    .await;
    (
        token,
        webhook["secret"].as_str().expect("secret").to_owned(),
        webhook["id"].as_str().expect("id").to_owned(),
    )
}

async fn add_user(
    client: &reqwest::Client,
    server: &ServerProcess,
    token: &str,
    n: usize,
) -> String {
    let user = post(
        client,
        server,
        "/v1/users",
        token,
        serde_json::json!({"email": format!("user{n}@contoso.com"), "first_name": "Test", "last_name": "User", "roles": ["report_viewer"]}),
    )
    .await;
    user["id"].as_str().expect("id").to_owned()
}

/// The users whose `user.created` event arrived.
fn created_users(received: &[Received]) -> std::collections::HashSet<String> {
    received
        .iter()
        .map(Received::json)
        .filter(|event| event["type"] == "user.created")
        .filter_map(|event| event["data"]["id"].as_str().map(str::to_owned))
        .collect()
}

dual_db_test! {
    async fn webhook_events_survive_a_kill_mid_delivery(db) {
        let db = TestDb::create(db);
        let mut server = ServerProcess::start(&db.url, &WEBHOOK_ENV);
        let receiver = Receiver::start(Answer::Ok);
        // The first delivery is held open past the kill: the server dies mid-delivery.
        receiver.answer_next(&[Answer::Hold(Duration::from_secs(30))]);
        let client = reqwest::Client::new();
        let (token, secret, webhook) = account_with_webhook(&client, &server, &receiver.url, &["*"]).await;
        // The scenario: people added, a support request opened (with its Action Center items).
        let mut users = Vec::new();
        for n in 0..3 {
            users.push(add_user(&client, &server, &token, n).await);
        }
        post(&client, &server, "/v1/support/requests", &token, serde_json::json!({"category": "technical", "title": "Before the crash"})).await;
        receiver
            .wait_until(Duration::from_secs(10), "the first delivery", |r| !r.is_empty())
            .await;
        kill(server.pid(), Signal::SIGKILL).expect("SIGKILL");
        server.wait_for_exit(Duration::from_secs(10));

        let restarted = ServerProcess::start(&db.url, &WEBHOOK_ENV);
        users.push(add_user(&client, &restarted, &token, 3).await);
        post(&client, &restarted, "/v1/support/requests", &token, serde_json::json!({"category": "billing", "title": "After the crash"})).await;
        // Every event the service published for the scenario, as its own log lists them.
        let log = get_json(&client, &restarted, &format!("/v1/webhooks/{webhook}/deliveries?limit=200"), &token).await;
        let published: std::collections::HashSet<String> = log["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["event_id"].as_str().expect("event id").to_owned())
            .collect();
        assert!(published.len() >= 6, "{log}");
        let received = receiver
            .wait_until(Duration::from_secs(30), "every event of the scenario", |r| {
                let seen: std::collections::HashSet<&str> = r.iter().map(|x| x.id.as_str()).collect();
                let users_seen = created_users(r);
                published.iter().all(|id| seen.contains(id.as_str()))
                    && users.iter().all(|user| users_seen.contains(user))
            })
            .await;
        assert!(received.iter().all(|r| verifies(&secret, r)), "a bad signature");
        let types: std::collections::HashSet<String> = received.iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned()).collect();
        for expected in ["user.created", "support_request.opened", "action_center.item_created"] {
            assert!(types.contains(expected), "{expected} missing: {types:?}");
        }
    }
}

/// Two replicas on one PostgreSQL share the outbox; the row lease lets each delivery be
/// posted by one of them only.
#[cfg(pg_tests)]
#[actix_rt::test]
async fn two_replicas_deliver_each_event_once() {
    let db = TestDb::create(Db::Postgres);
    let first = ServerProcess::start(&db.url, &WEBHOOK_ENV);
    let second = ServerProcess::start(&db.url, &WEBHOOK_ENV);
    let receiver = Receiver::start(Answer::Ok);
    let client = reqwest::Client::new();
    let (token, _, _) =
        account_with_webhook(&client, &first, &receiver.url, &["user.created"]).await;
    let mut users = Vec::new();
    for n in 0..30 {
        let server = if n % 2 == 0 { &first } else { &second };
        users.push(add_user(&client, server, &token, n).await);
    }
    receiver
        .wait_until(Duration::from_secs(30), "all 30 events", |r| {
            created_users(r).len() == users.len()
        })
        .await;
    // Give a double delivery time to show itself.
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    let received = receiver.received();
    let ids: std::collections::HashSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), users.len());
    assert_eq!(received.len(), users.len(), "an event was delivered twice");
}

#[actix_rt::test]
async fn serve_limits_requests_unless_told_otherwise() {
    let db = TestDb::create(Db::Sqlite);
    let server = ServerProcess::start(&db.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
    let client = reqwest::Client::new();
    let response = client
        .get(server.url("/v1/me"))
        .bearer_auth(user_token(Uuid::now_v7()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("ratelimit-policy").as_deref(),
        Some("\"principal\";q=600;w=60, \"account\";q=3000;w=60")
    );
    assert_eq!(
        header("ratelimit").as_deref(),
        Some("\"principal\";r=599;t=1")
    );
    drop(server);

    let server = ServerProcess::start(
        &db.url,
        &[
            ("PC_JWT_SECRET", TEST_SECRET),
            ("PC_RATE_LIMIT_PRINCIPAL", "off"),
            ("PC_RATE_LIMIT_ACCOUNT", "off"),
        ],
    );
    let response = client
        .get(server.url("/v1/me"))
        .bearer_auth(user_token(Uuid::now_v7()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("ratelimit-policy").is_none());
    assert!(response.headers().get("ratelimit").is_none());
}

/// A server keeps answers for as long as no write of its own says they changed, so it must be
/// the only process writing its SQLite file: a second server, `migrate` or `seed` is refused
/// while it runs, and each works again once it has stopped.
#[test]
fn one_process_at_a_time_writes_a_sqlite_file() {
    const IN_USE: &str = "is in use by another partner-center process";
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("pc.db").display());
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("PC_JWT_SECRET", TEST_SECRET),
    ];
    let server = ServerProcess::start(&url, &env);

    // Spawned, not run to completion: were the lock not enforced, it would serve on.
    let mut second = Command::new(binary())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_clear()
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawned");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("a second server started on the file");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr read");
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains(IN_USE), "{stderr}");
    for args in [vec!["migrate"], vec!["seed", "--accounts", "1"]] {
        let (code, _, stderr) = run(&args, &env);
        assert_ne!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.contains(IN_USE), "{args:?}: {stderr}");
    }

    drop(server);
    let (code, stdout, stderr) = run(&["migrate"], &env);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}
