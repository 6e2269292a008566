//! Webhooks: endpoints, signed at-least-once delivery from the outbox, retries with backoff,
//! disabling a failing endpoint, secret rotation, the delivery log and redelivery.

use crate::dual_test;
use crate::harness::{Db, Options, TestApp, test_webhook_settings};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Ok,
    Status(u16),
    /// Hold the request this long, then answer 200.
    Hold(Duration),
}

struct ReceiverState {
    received: Mutex<Vec<Received>>,
    answers: Mutex<Vec<Answer>>,
    otherwise: Mutex<Answer>,
}

/// A webhook receiver on loopback: records every request and answers as told (a queue of
/// answers for the next requests, then the standing answer).
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.received.lock().expect("log").push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    let answer = {
        let mut queue = state.answers.lock().expect("answers");
        if queue.is_empty() {
            *state.otherwise.lock().expect("answer")
        } else {
            queue.remove(0)
        }
    };
    match answer {
        Answer::Ok => HttpResponse::Ok().finish(),
        Answer::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
                .finish()
        }
        Answer::Hold(duration) => {
            actix_rt::time::sleep(duration).await;
            HttpResponse::Ok().finish()
        }
    }
}

impl Receiver {
    pub fn start(otherwise: Answer) -> Self {
        let state = Arc::new(ReceiverState {
            received: Mutex::new(Vec::new()),
            answers: Mutex::new(Vec::new()),
            otherwise: Mutex::new(otherwise),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
            handle,
        }
    }

    pub fn answer_next(&self, answers: &[Answer]) {
        self.state
            .answers
            .lock()
            .expect("answers")
            .extend_from_slice(answers);
    }

    pub fn answer_otherwise(&self, answer: Answer) {
        *self.state.otherwise.lock().expect("answer") = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("log").clone()
    }

    /// Waits until `done` holds for what arrived; returns it.
    pub async fn wait_until(
        &self,
        within: Duration,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not seen within {within:?}; received {:?}",
                received
                    .iter()
                    .map(|r| r.json()["type"].clone())
                    .collect::<Vec<_>>()
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The Standard Webhooks signature of a request under `secret`, computed here independently.
pub fn expected_signature(secret: &str, received: &Received) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether one of the request's signatures verifies under `secret`.
pub fn verifies(secret: &str, received: &Received) -> bool {
    let expected = expected_signature(secret, received);
    received.signature.split(' ').any(|sig| sig == expected)
}

fn types(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Registers an endpoint for `events`; returns (id, secret).
pub async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (String, String) {
    let reply = app
        .post_json(
            "/v1/webhooks",
            token,
            &json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    (
        body["id"].as_str().expect("id").to_owned(),
        body["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn deliveries(app: &TestApp, token: &str, webhook: &str) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/v1/webhooks/{webhook}/deliveries?limit=200"),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()["items"].as_array().expect("items").clone()
}

dual_test! {
    async fn a_scenario_arrives_signed_including_what_time_decides(app) {
        let receiver = Receiver::start(Answer::Ok);
        let (directory, owner, account_id) = app.verified_sandbox().await;
        let (webhook, secret) = register(&app, &owner, &receiver.url, &["*"]).await;

        let (user_id, _) = app.add_user(directory, &owner, "sam@contoso.com", &["report_viewer"]).await;
        let order = app.bought(&owner, "webhook_program").await;
        // A year on: the renewal window opens; 30 days on, the membership expires.
        app.advance(&owner, 365, 0).await;
        app.advance(&owner, 30, 0).await;

        let expected = [
            "user.created",
            "order.placed",
            "order.paid",
            "membership.activated",
            "action_center.item_created",
            "membership.renewal_due",
            "membership.expired",
        ];
        let received = receiver
            .wait_until(Duration::from_secs(20), "the scenario's events", |received| {
                let seen = types(received);
                expected.iter().all(|t| seen.iter().any(|s| s == t))
            })
            .await;
        for request in &received {
            assert!(verifies(&secret, request), "bad signature on {}", request.body);
            let event = request.json();
            assert_eq!(event["id"], request.id, "webhook-id is the event id");
            assert_eq!(event["account_id"], account_id.as_str());
            assert!(event["created_at"].is_string() && event["data"].is_object());
            let sent_at: i64 = request.timestamp.parse().expect("unix seconds");
            assert!((sent_at - chrono::Utc::now().timestamp()).abs() < 60);
        }
        let by_type = |t: &str| {
            received
                .iter()
                .map(Received::json)
                .find(|event| event["type"] == t)
                .expect(t)
        };
        let created = by_type("user.created");
        assert_eq!(created["data"]["object"], "user");
        assert_eq!(created["data"]["id"], user_id.as_str());
        assert_eq!(created["data"]["actor"]["kind"], "user");
        let paid = by_type("order.paid");
        assert_eq!(paid["data"]["id"], order["id"]);
        assert_eq!(paid["data"]["details"]["total_minor"], order["total"]["amount_minor"]);
        let due = by_type("membership.renewal_due");
        assert_eq!(due["data"]["actor"]["kind"], "system");
        assert_eq!(due["data"]["details"]["program_id"], "webhook_program");
        // Each event once (nothing failed, so nothing was retried).
        let ids: HashSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), received.len());
        // Moving the clock again announces nothing twice.
        app.advance(&owner, 1, 0).await;
        actix_rt::time::sleep(Duration::from_millis(600)).await;
        let again = types(&receiver.received());
        assert_eq!(again.iter().filter(|t| *t == "membership.expired").count(), 1);

        let log = deliveries(&app, &owner, &webhook).await;
        assert_eq!(log.len(), receiver.received().len());
        assert!(log.iter().all(|d| d["status"] == "succeeded" && d["attempts"] == 1));
        assert_eq!(log[0]["attempt_log"][0]["status_code"], 200);
    }

    async fn a_failing_receiver_sees_retries_with_growing_delays(app) {
        let receiver = Receiver::start(Answer::Ok);
        let (directory, owner, _) = app.create_account().await;
        let (webhook, secret) = register(&app, &owner, &receiver.url, &["user.created"]).await;
        receiver.answer_next(&[Answer::Status(500), Answer::Status(500), Answer::Status(503)]);
        app.add_user(directory, &owner, "sam@contoso.com", &["report_viewer"]).await;

        let received = receiver
            .wait_until(Duration::from_secs(20), "four attempts", |r| r.len() >= 4)
            .await;
        assert_eq!(received.len(), 4, "a delivered event is not sent again");
        let id = &received[0].id;
        assert!(received.iter().all(|r| &r.id == id), "retries carry the same webhook-id");
        assert!(received.iter().all(|r| verifies(&secret, r)));
        let gaps: Vec<Duration> = received.windows(2).map(|w| w[1].at - w[0].at).collect();
        // Base 300 ms, doubling: never sooner than 300, 600 and 1200 ms apart (a busy machine
        // may add to each, so growth is judged by the scheduled floors and the first-to-last).
        for (gap, floor) in gaps.iter().zip([300, 600, 1200]) {
            assert!(*gap >= Duration::from_millis(floor - 30), "{gaps:?}");
        }
        assert!(gaps[2] > gaps[0], "delays must grow: {gaps:?}");

        let log = deliveries(&app, &owner, &webhook).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["status"], "succeeded");
        assert_eq!(log[0]["attempts"], 4);
        let codes: Vec<&Value> = log[0]["attempt_log"].as_array().expect("attempts").iter().map(|a| &a["status_code"]).collect();
        assert_eq!(codes, [&json!(500), &json!(500), &json!(503), &json!(200)]);

        // Redelivery sends the same event again, with the same id.
        let delivery = log[0]["id"].as_str().expect("id");
        let reply = app
            .post_json(&format!("/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver"), &owner, &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        // A fresh retry period: the backoff starts again from the base.
        assert_eq!(reply.json()["attempts"], 0);
        assert_eq!(reply.json()["attempt_log"].as_array().map(Vec::len), Some(4));
        let received = receiver
            .wait_until(Duration::from_secs(10), "the redelivery", |r| r.len() >= 5)
            .await;
        assert_eq!(&received[4].id, id);
    }

    async fn rotation_signs_with_both_secrets_during_the_overlap(app) {
        let receiver = Receiver::start(Answer::Ok);
        let (directory, owner, _) = app.create_account().await;
        let (webhook, old) = register(&app, &owner, &receiver.url, &["user.created"]).await;
        let rotated = app
            .post_json(&format!("/v1/webhooks/{webhook}/secret?overlap_seconds=3600"), &owner, &json!({}))
            .await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
        let new = rotated.json()["secret"].as_str().expect("secret").to_owned();
        assert_ne!(new, old);
        assert!(rotated.json()["previous_secret_expires_at"].is_string());
        app.add_user(directory, &owner, "one@contoso.com", &["report_viewer"]).await;
        let first = receiver.wait_until(Duration::from_secs(10), "a delivery", |r| !r.is_empty()).await;
        assert!(verifies(&old, &first[0]) && verifies(&new, &first[0]), "{}", first[0].signature);

        // Without an overlap the old secret stops signing at once.
        let rotated = app
            .post_json(&format!("/v1/webhooks/{webhook}/secret?overlap_seconds=0"), &owner, &json!({}))
            .await;
        let newest = rotated.json()["secret"].as_str().expect("secret").to_owned();
        app.add_user(directory, &owner, "two@contoso.com", &["report_viewer"]).await;
        let both = receiver.wait_until(Duration::from_secs(10), "a second delivery", |r| r.len() >= 2).await;
        assert!(verifies(&newest, &both[1]));
        assert!(!verifies(&new, &both[1]) && !verifies(&old, &both[1]));
        assert_eq!(both[1].signature.split(' ').count(), 1);
        // The secret is never shown again.
        let shown = app.get(&format!("/v1/webhooks/{webhook}"), Some(&owner)).await;
        assert!(shown.json().get("secret").is_none(), "{}", shown.text);
        let too_long = app
            .post_json(&format!("/v1/webhooks/{webhook}/secret?overlap_seconds=604801"), &owner, &json!({}))
            .await;
        too_long.assert_problem(400, "validation_failed");
    }

    async fn skilling_credit_is_announced_when_it_starts_to_count(app) {
        let receiver = Receiver::start(Answer::Ok);
        let (_, owner, _) = app.verified_sandbox().await;
        register(&app, &owner, &receiver.url, &["skilling.credit_counted"]).await;
        let linked = app.post_json("/v1/me/learning-profile", &owner, &json!({"learn_id": "learn-jane"})).await;
        assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.text);
        let t0 = app.sandbox_now(&owner).await;
        app.complete_certification(&owner, "learn-jane", "azure_administrator_associate", t0 - chrono::Duration::days(1)).await;
        // The lag is 10 days from linking: one second short announces nothing, the lag does.
        app.advance(&owner, 9, 86_399).await;
        actix_rt::time::sleep(Duration::from_millis(500)).await;
        assert!(receiver.received().is_empty(), "announced early");
        app.advance(&owner, 0, 1).await;
        let first = receiver.wait_until(Duration::from_secs(10), "the credit", |r| !r.is_empty()).await;
        let event = first[0].json();
        assert_eq!(event["data"]["details"]["credential"], "azure_administrator_associate");
        assert_eq!(event["created_at"], event["data"]["details"]["counts_from"]);

        // Reported late (completed 12 days ago, linked 10 days ago): it counts from the link's
        // lag, already passed, and is announced at once, since no clock move passes it again.
        let now = app.sandbox_now(&owner).await;
        app.complete_certification(&owner, "learn-jane", "azure_developer_associate", now - chrono::Duration::days(12)).await;
        let both = receiver.wait_until(Duration::from_secs(10), "the late credit", |r| r.len() >= 2).await;
        assert_eq!(both[1].json()["data"]["details"]["credential"], "azure_developer_associate");
        app.advance(&owner, 30, 0).await;
        actix_rt::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), 2, "each credit announced once");
    }

    async fn endpoints_are_validated_and_managed(app) {
        let (_, owner, _) = app.create_account().await;
        let unknown = app
            .post_json("/v1/webhooks", &owner, &json!({"url": "https://hooks.example.com/x", "events": ["order.paid", "order.payed"]}))
            .await;
        unknown.assert_problem(400, "validation_failed");
        assert!(unknown.field_errors().contains(&("events[1]".to_owned(), "unknown_event".to_owned())), "{}", unknown.text);
        let scheme = app
            .post_json("/v1/webhooks", &owner, &json!({"url": "ftp://hooks.example.com/x", "events": ["*"]}))
            .await;
        assert!(scheme.field_errors().contains(&("url".to_owned(), "url_not_allowed".to_owned())), "{}", scheme.text);
        let empty = app
            .post_json("/v1/webhooks", &owner, &json!({"url": "https://hooks.example.com/x", "events": []}))
            .await;
        empty.assert_problem(400, "validation_failed");

        let (webhook, _) = register(&app, &owner, "https://hooks.example.com/x", &["order.paid"]).await;
        let read = app.get(&format!("/v1/webhooks/{webhook}"), Some(&owner)).await;
        let tag = read.header("etag").expect("etag").to_owned();
        let changed = app
            .patch_json(&format!("/v1/webhooks/{webhook}"), &owner, &tag, &json!({"events": ["order.paid", "refund.completed"], "enabled": false}))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
        assert_eq!(changed.json()["events"], json!(["order.paid", "refund.completed"]));
        assert_eq!(changed.json()["disabled_reason"], "manual");
        let stale = app
            .patch_json(&format!("/v1/webhooks/{webhook}"), &owner, &tag, &json!({"enabled": true}))
            .await;
        stale.assert_problem(412, "precondition_failed");

        for n in 1..16 {
            register(&app, &owner, &format!("https://hooks.example.com/{n}"), &["*"]).await;
        }
        let seventeenth = app
            .post_json("/v1/webhooks", &owner, &json!({"url": "https://hooks.example.com/17", "events": ["*"]}))
            .await;
        seventeenth.assert_problem(409, "webhook_limit_reached");
        let deleted = app.delete(&format!("/v1/webhooks/{webhook}"), &owner, None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let gone = app.get(&format!("/v1/webhooks/{webhook}"), Some(&owner)).await;
        gone.assert_problem(404, "not_found");
        let listed = app.get("/v1/webhooks?limit=200", Some(&owner)).await;
        assert_eq!(listed.json()["items"].as_array().expect("items").len(), 15);
    }
}

crate::dual_db_test! {
    async fn an_endpoint_failing_for_the_disable_period_is_disabled(db) {
        let mut webhooks = test_webhook_settings();
        webhooks.disable_after = chrono::Duration::seconds(1);
        let app = TestApp::spawn_with(db, Options { migrate: true, webhooks: Some(webhooks), ..Options::default() }).await;
        let receiver = Receiver::start(Answer::Status(500));
        let (directory, owner, _) = app.create_account().await;
        let (webhook, _) = register(&app, &owner, &receiver.url, &["user.created"]).await;
        app.add_user(directory, &owner, "sam@contoso.com", &["report_viewer"]).await;

        let deadline = Instant::now() + Duration::from_secs(20);
        let disabled = loop {
            let read = app.get(&format!("/v1/webhooks/{webhook}"), Some(&owner)).await.json();
            if read["enabled"] == false {
                break read;
            }
            assert!(Instant::now() < deadline, "never disabled: {read}");
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(disabled["disabled_reason"], "failing");
        assert!(disabled["failing_since"].is_string());
        let items = app.get("/v1/action-center/items?limit=200", Some(&owner)).await.json();
        assert!(
            items["items"].as_array().expect("items").iter().any(|i| i["event"] == "webhook.disabled"),
            "{items}"
        );
        let log = deliveries(&app, &owner, &webhook).await;
        assert_eq!(log[0]["status"], "failed");
        let attempts = receiver.received().len();
        assert!(attempts >= 2, "failure must last the period across attempts");
        let delivery = log[0]["id"].as_str().expect("id").to_owned();
        let path = format!("/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver");
        app.post_json(&path, &owner, &json!({})).await.assert_problem(409, "webhook_disabled");

        // Fixed and enabled again: the redelivery arrives and the endpoint is healthy.
        receiver.answer_otherwise(Answer::Ok);
        let read = app.get(&format!("/v1/webhooks/{webhook}"), Some(&owner)).await;
        let tag = read.header("etag").expect("etag").to_owned();
        let enabled = app.patch_json(&format!("/v1/webhooks/{webhook}"), &owner, &tag, &json!({"enabled": true})).await;
        assert_eq!(enabled.json()["enabled"], true, "{}", enabled.text);
        assert_eq!(app.post_json(&path, &owner, &json!({})).await.status, StatusCode::ACCEPTED);
        receiver
            .wait_until(Duration::from_secs(10), "the redelivery", |r| r.len() > attempts)
            .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while deliveries(&app, &owner, &webhook).await[0]["status"] != "succeeded" {
            assert!(Instant::now() < deadline, "redelivery not recorded");
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[actix_rt::test]
async fn events_of_other_accounts_never_reach_an_endpoint() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let receiver = Receiver::start(Answer::Ok);
    let (_, owner, account) = app.create_account().await;
    register(&app, &owner, &receiver.url, &["*"]).await;
    let (other_directory, other_owner, _) = app.create_account_as("kim@fabrikam.com").await;
    app.add_user(
        other_directory,
        &other_owner,
        "lee@fabrikam.com",
        &["report_viewer"],
    )
    .await;
    actix_rt::time::sleep(Duration::from_millis(800)).await;
    let received = receiver.received();
    assert!(
        received
            .iter()
            .all(|r| r.json()["account_id"] == account["id"]),
        "{:?}",
        types(&received)
    );
}
