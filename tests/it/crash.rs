//! The crash and replica suite (issue 7): twenty SIGKILLs of the real binary under a mixed
//! write load lose no acknowledged write and duplicate nothing; two replicas on one PostgreSQL,
//! with requests alternating between them, keep `Idempotency-Key`s and refund an order once.

use crate::dual_db_test;
use crate::harness::{TEST_SECRET, TestDb, account_body};
use crate::process::{ServerProcess, get_json, user_token};
use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CYCLES: usize = 20;
const WRITERS: usize = 6;

/// Rate limits off (one owner writes hundreds of times a second) and a short claim lease, so a
/// retry after a crash takes over the key of a request that died with the process within
/// seconds instead of the default minute.
const ENV: [(&str, &str); 5] = [
    ("PC_JWT_SECRET", TEST_SECRET),
    ("PC_IDEMPOTENCY_LEASE", "2s"),
    ("PC_RATE_LIMIT_PRINCIPAL", "off"),
    ("PC_RATE_LIMIT_ACCOUNT", "off"),
    ("PC_RATE_LIMIT_ADDRESS", "off"),
];

/// The kinds of write the load mixes: a new account in a directory of its own, a user and a
/// support request in one shared account (the last has no natural key: only the
/// `Idempotency-Key` keeps a retry from making a second one).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Account,
    User,
    SupportRequest,
}

/// One logical write: every attempt of it carries the same key and body.
#[derive(Clone, Debug)]
struct Write {
    kind: Kind,
    key: String,
    /// What finds it again: the directory, the user's email or the request's title.
    marker: String,
}

impl Write {
    fn nth(n: usize) -> Self {
        let kind = [Kind::Account, Kind::User, Kind::SupportRequest][n % 3];
        let marker = match kind {
            Kind::Account => Uuid::now_v7().to_string(),
            Kind::User => format!("writer{n}@contoso.com"),
            Kind::SupportRequest => format!("Crash suite request {n}"),
        };
        Write {
            kind,
            key: format!("write-{n}"),
            marker,
        }
    }

    /// The request of this write to the server at `base` (`http://127.0.0.1:<port>`).
    fn request(
        &self,
        client: &reqwest::Client,
        base: &str,
        owner: &str,
    ) -> reqwest::RequestBuilder {
        let (path, token, body) = match self.kind {
            Kind::Account => (
                "/v1/accounts",
                user_token(self.marker.parse().expect("directory")),
                account_body(),
            ),
            Kind::User => (
                "/v1/users",
                owner.to_owned(),
                json!({"email": self.marker, "first_name": "Crash", "last_name": "Suite", "roles": ["report_viewer"]}),
            ),
            Kind::SupportRequest => (
                "/v1/support/requests",
                owner.to_owned(),
                json!({"category": "technical", "title": self.marker}),
            ),
        };
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .header("idempotency-key", &self.key)
            .json(&body)
    }
}

/// What the writers know: the id each acknowledged write was answered with, and the writes
/// whose answer the kill swallowed.
#[derive(Default)]
struct Ledger {
    acknowledged: HashMap<String, (Write, String)>,
    unsettled: Vec<Write>,
    /// Answers to retries of unsettled writes: replayed (the write had committed) or fresh.
    replayed: usize,
    fresh_after_crash: usize,
}

async fn answer(response: reqwest::Response) -> (u16, bool, Value) {
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, replayed, body)
}

fn id_of(body: &Value) -> String {
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {body}"))
        .to_owned()
}

/// Writes until the server dies under it; only the kill may end it.
async fn writer(
    client: reqwest::Client,
    base: String,
    owner: String,
    next: Arc<AtomicUsize>,
    killed: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) -> Result<(), String> {
    loop {
        let write = Write::nth(next.fetch_add(1, Ordering::SeqCst));
        match write.request(&client, &base, &owner).send().await {
            Ok(response) => {
                let (status, _, body) = answer(response).await;
                if status != 201 {
                    return Err(format!("{write:?} answered {status}: {body}"));
                }
                let id = id_of(&body);
                let mut ledger = ledger.lock().expect("ledger");
                ledger
                    .acknowledged
                    .insert(write.marker.clone(), (write, id));
            }
            Err(_) if killed.load(Ordering::SeqCst) => {
                ledger.lock().expect("ledger").unsettled.push(write);
                return Ok(());
            }
            Err(error) => return Err(format!("{write:?} failed before the kill: {error}")),
        }
    }
}

/// Sends every write whose answer was lost again, with its key, until it is answered: a
/// replay if it had committed, a fresh 201 if it had not (after the dead claim's lease).
async fn settle(
    client: &reqwest::Client,
    server: &ServerProcess,
    owner: &str,
    ledger: &Mutex<Ledger>,
) {
    let unsettled = std::mem::take(&mut ledger.lock().expect("ledger").unsettled);
    for write in unsettled {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let response = write
                .request(client, &server.url(""), owner)
                .send()
                .await
                .expect("the restarted server answers");
            let (status, replayed, body) = answer(response).await;
            match status {
                201 => {
                    let mut ledger = ledger.lock().expect("ledger");
                    if replayed {
                        ledger.replayed += 1;
                    } else {
                        ledger.fresh_after_crash += 1;
                    }
                    let id = id_of(&body);
                    ledger
                        .acknowledged
                        .insert(write.marker.clone(), (write, id));
                    break;
                }
                409 if body["code"] == "idempotency_key_in_use" => {
                    assert!(
                        Instant::now() < deadline,
                        "{write:?} still in use: {}",
                        server.log()
                    );
                    actix_rt::time::sleep(Duration::from_millis(200)).await;
                }
                _ => panic!("retry of {write:?} answered {status}: {body}"),
            }
        }
    }
}

/// Every item of a paged list.
async fn every_item(
    client: &reqwest::Client,
    server: &ServerProcess,
    path: &str,
    token: &str,
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = format!("{path}?limit=200");
    loop {
        let page = get_json(client, server, &next, token).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=200&cursor={cursor}"),
            None => return items,
        }
    }
}

/// `(marker, id)` of every stored object of a kind, read through the API.
async fn stored(
    client: &reqwest::Client,
    server: &ServerProcess,
    owner: &str,
    kind: Kind,
) -> Vec<(String, String)> {
    let operator = crate::process::operator_token();
    let (path, token, marker) = match kind {
        Kind::Account => ("/v1/operator/accounts", operator.as_str(), "directory_id"),
        Kind::User => ("/v1/users", owner, "email"),
        Kind::SupportRequest => ("/v1/support/requests", owner, "title"),
    };
    every_item(client, server, path, token)
        .await
        .iter()
        .map(|item| {
            (
                item[marker].as_str().unwrap_or_default().to_owned(),
                id_of(item),
            )
        })
        .collect()
}

dual_db_test! {
    async fn twenty_kills_under_mixed_writes_lose_nothing_and_duplicate_nothing(db) {
        let db = TestDb::create(db);
        let client = reqwest::Client::new();
        let mut server = ServerProcess::start(&db.url, &ENV);
        let owner_directory = Uuid::now_v7();
        let owner = user_token(owner_directory);
        let created = client.post(server.url("/v1/accounts")).bearer_auth(&owner).json(&account_body()).send().await.expect("sent");
        assert_eq!(created.status(), 201);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let next = Arc::new(AtomicUsize::new(0));
        for cycle in 0..CYCLES {
            settle(&client, &server, &owner, &ledger).await;
            let killed = Arc::new(AtomicBool::new(false));
            let writers: Vec<_> = (0..WRITERS)
                .map(|_| {
                    actix_rt::spawn(writer(
                        client.clone(), server.url(""), owner.clone(),
                        next.clone(), killed.clone(), ledger.clone(),
                    ))
                })
                .collect();
            // Kill at a different depth each cycle, mid-stream, without warning.
            let before = ledger.lock().expect("ledger").acknowledged.len();
            let wanted = before + 10 + (cycle * 13) % 40;
            let deadline = Instant::now() + Duration::from_secs(30);
            while ledger.lock().expect("ledger").acknowledged.len() < wanted {
                assert!(Instant::now() < deadline, "writes too slow: {}", server.log());
                actix_rt::time::sleep(Duration::from_millis(2)).await;
            }
            killed.store(true, Ordering::SeqCst);
            kill(server.pid(), Signal::SIGKILL).expect("SIGKILL");
            server.wait_for_exit(Duration::from_secs(10));
            for writer in writers {
                let outcome = writer.await.expect("writer task");
                assert_eq!(outcome, Ok(()), "cycle {cycle}: {}", server.log());
            }
            server = ServerProcess::start(&db.url, &ENV);
        }
        settle(&client, &server, &owner, &ledger).await;

        let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
        let writes = next.load(Ordering::SeqCst);
        assert_eq!(ledger.acknowledged.len(), writes, "every write is answered in the end");
        for kind in [Kind::Account, Kind::User, Kind::SupportRequest] {
            let mut found: HashMap<String, Vec<String>> = HashMap::new();
            for (marker, id) in stored(&client, &server, &owner, kind).await {
                found.entry(marker).or_default().push(id);
            }
            for (write, id) in ledger.acknowledged.values().filter(|(w, _)| w.kind == kind) {
                match found.remove(&write.marker).as_deref() {
                    Some([stored]) => assert_eq!(stored, id, "{write:?} is another object than the one acknowledged"),
                    Some(many) => panic!("{write:?} stored {} times", many.len()),
                    None => panic!("{write:?} was acknowledged and is lost"),
                }
            }
            // What remains is what existed before the load: the owner's account and user.
            let rest: Vec<&String> = found.keys().collect();
            let expected_rest = match kind {
                Kind::Account => vec![owner_directory.to_string()],
                Kind::User => vec!["jane.doe@contoso.com".to_owned()],
                Kind::SupportRequest => vec![],
            };
            assert_eq!(rest, expected_rest.iter().collect::<Vec<_>>(), "{kind:?}: objects nobody wrote");
        }
        // A late retry of any acknowledged write is its first answer again, on the last server.
        for (write, id) in ledger.acknowledged.values().step_by(25) {
            let (status, replayed, body) = answer(write.request(&client, &server.url(""), &owner).send().await.expect("sent")).await;
            assert_eq!((status, replayed), (201, true), "{write:?}: {body}");
            assert_eq!(&id_of(&body), id);
        }
        eprintln!(
            "{CYCLES} kills: {writes} writes, {} answered after a crash by replay, {} fresh",
            ledger.replayed, ledger.fresh_after_crash
        );
    }
}

/// Two replicas of the service on one PostgreSQL; each request goes to the next one in turn.
#[cfg(pg_tests)]
struct Replicas {
    servers: [ServerProcess; 2],
    client: reqwest::Client,
    turn: AtomicUsize,
}

#[cfg(pg_tests)]
impl Replicas {
    fn start(db: &TestDb) -> Self {
        Replicas {
            servers: [
                ServerProcess::start(&db.url, &ENV),
                ServerProcess::start(&db.url, &ENV),
            ],
            client: reqwest::Client::new(),
            turn: AtomicUsize::new(0),
        }
    }

    /// The request to the next replica.
    fn request(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        let server = &self.servers[self.turn.fetch_add(1, Ordering::SeqCst) % 2];
        self.client
            .request(method, server.url(path))
            .bearer_auth(token)
    }

    async fn post(&self, path: &str, token: &str, key: &str, body: &Value) -> (u16, bool, Value) {
        let request = self
            .request(reqwest::Method::POST, path, token)
            .header("idempotency-key", key)
            .json(body);
        answer(request.send().await.expect("sent")).await
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let response = self
            .request(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("json")
    }
}

#[cfg(pg_tests)]
fn items(list: &Value) -> Vec<Value> {
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no items in {list}"))
}

/// A replay, a body mismatch and a race of one key, each across both replicas.
#[cfg(pg_tests)]
#[actix_rt::test]
async fn two_replicas_keep_one_idempotency_key() {
    let db = TestDb::create(crate::harness::Db::Postgres);
    let replicas = Replicas::start(&db);
    let owner = user_token(Uuid::now_v7());
    let first = replicas
        .post("/v1/accounts", &owner, "enroll-1", &account_body())
        .await;
    assert_eq!((first.0, first.1), (201, false), "{}", first.2);
    let retry = replicas
        .post("/v1/accounts", &owner, "enroll-1", &account_body())
        .await;
    assert_eq!((retry.0, retry.1), (201, true), "{}", retry.2);
    assert_eq!(retry.2, first.2, "the replay is the first answer");
    let mut other = account_body();
    other["legal_name"] = json!("Fabrikam Ltd.");
    let mismatch = replicas
        .post("/v1/accounts", &owner, "enroll-1", &other)
        .await;
    assert_eq!(
        (mismatch.0, mismatch.2["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );

    // Twenty requests with one key race across both replicas: one support request.
    let body = json!({"category": "technical", "title": "Raced"});
    let race = (0..20).map(|_| replicas.post("/v1/support/requests", &owner, "race-1", &body));
    let answers = futures_util::future::join_all(race).await;
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for (status, replayed, body) in &answers {
        match (status, replayed) {
            (201, false) => {
                created += 1;
                ids.insert(id_of(body));
            }
            (201, true) => {
                ids.insert(id_of(body));
            }
            (409, _) => assert_eq!(body["code"], "idempotency_key_in_use", "{body}"),
            _ => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!((created, ids.len()), (1, 1));
    let stored = items(&replicas.get("/v1/support/requests", &owner).await);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(ids.contains(&id_of(&stored[0])));
}

/// Eight cancellations of one paid order, alternating between the replicas, refund it once.
#[cfg(pg_tests)]
#[actix_rt::test]
async fn two_replicas_refund_an_order_once() {
    let db = TestDb::create(crate::harness::Db::Postgres);
    let replicas = Replicas::start(&db);
    let owner = user_token(Uuid::now_v7());
    let mut sandbox = account_body();
    sandbox["sandbox"] = json!(true);
    let key = || Uuid::now_v7().to_string();
    assert_eq!(
        replicas
            .post("/v1/accounts", &owner, &key(), &sandbox)
            .await
            .0,
        201
    );
    let verified = replicas
        .post(
            "/v1/sandbox/verification",
            &owner,
            &key(),
            &json!({"outcome": "verified"}),
        )
        .await;
    assert_eq!(verified.0, 200, "{}", verified.2);
    let program = replicas
        .request(
            reqwest::Method::PUT,
            "/v1/operator/programs/contested",
            &crate::process::operator_token(),
        )
        .header("if-match", "*")
        .json(&crate::harness::paid_program_definition())
        .send()
        .await
        .expect("sent");
    assert!(program.status().is_success(), "{}", program.status());
    let card = json!({"program_id": "contested", "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_approve"});
    let (status, _, order) = replicas.post("/v1/orders", &owner, &key(), &card).await;
    assert_eq!(
        (status, order["status"].as_str()),
        (201, Some("paid")),
        "{order}"
    );
    let order_id = id_of(&order);

    let cancellation = json!({"category": "membership_cancellation", "title": "Cancel, please", "order_id": order_id});
    let keys: Vec<String> = (0..8).map(|_| key()).collect();
    let attempts = keys
        .iter()
        .map(|k| replicas.post("/v1/support/requests", &owner, k, &cancellation));
    let answers = futures_util::future::join_all(attempts).await;
    let mut granted = Vec::new();
    for (status, _, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        if body["decision"]["granted"] == true {
            granted.push(
                body["decision"]["refund"]["amount"]["amount_minor"]
                    .as_i64()
                    .expect("refund"),
            );
        }
    }
    assert_eq!(granted, [10000], "one cancellation refunds the order");
    let documents = items(&replicas.get("/v1/invoices", &owner).await);
    assert_eq!(
        documents
            .iter()
            .filter(|d| d["kind"] == "credit_note")
            .count(),
        1
    );
    let stored = replicas
        .get(&format!("/v1/orders/{order_id}"), &owner)
        .await;
    assert_eq!(stored["refunded"]["amount_minor"], 10000);
    // A retry of the granted cancellation, on either replica, is its first answer.
    for k in &keys[..2] {
        let (status, replayed, _) = replicas
            .post("/v1/support/requests", &owner, k, &cancellation)
            .await;
        assert_eq!((status, replayed), (201, true));
    }
    assert_eq!(
        items(&replicas.get("/v1/invoices", &owner).await).len(),
        documents.len()
    );
}
