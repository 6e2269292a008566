//! `partner-center seed`: the dataset it writes is one the API reads back as it would read
//! data its own requests wrote (accounts, the long skilling list, orders with invoices), the
//! same seed gives the same content, and a database that has accounts is refused.

use crate::dual_db_test;
use crate::harness::{
    AUDIENCE, ISSUER, TEST_SECRET, TestDb, binary, issue_operator_token, issue_user_token,
};
use crate::process::ServerProcess;
use api::auth::TokenService;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use uuid::Uuid;

const ACCOUNTS: u32 = 20;
const COMPLETIONS: u64 = 450;
const ORDERS: u64 = 120;

fn seed(db: &TestDb, seed: u64) -> std::process::Output {
    Command::new(binary())
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("PC_JWT_SECRET", TEST_SECRET)
        .env("PC_DATA_DIR", db.dir.path())
        .args(["seed", "--accounts", &ACCOUNTS.to_string()])
        .args(["--completions", &COMPLETIONS.to_string()])
        .args(["--orders", &ORDERS.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("seed ran")
}

fn summary_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the seed prints a JSON summary")
}

async fn get(client: &reqwest::Client, server: &ServerProcess, path: &str, token: &str) -> Value {
    let response = client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON body")
}

/// Every item of a cursor-paginated list, page by page.
async fn all_pages(
    client: &reqwest::Client,
    server: &ServerProcess,
    path: &str,
    token: &str,
) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut url = format!("{path}?limit=200");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(client, server, &url, token).await;
        pages += 1;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (items, pages),
        }
    }
}

/// Legal name and verification status of every account, as the operator lists them.
async fn accounts_as_listed(
    client: &reqwest::Client,
    server: &ServerProcess,
    operator: &str,
) -> Vec<(String, String)> {
    let (accounts, _) = all_pages(client, server, "/v1/operator/accounts", operator).await;
    let mut listed: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            (
                a["legal_name"].as_str().expect("legal_name").to_owned(),
                a["verification"]["status"]
                    .as_str()
                    .expect("status")
                    .to_owned(),
            )
        })
        .collect();
    listed.sort();
    listed
}

fn tokens() -> TokenService {
    TokenService::new(TEST_SECRET.as_bytes(), ISSUER.into(), AUDIENCE.into(), None)
}

fn token_for(account: &Value) -> String {
    let directory: Uuid = account["directory_id"]
        .as_str()
        .expect("directory_id")
        .parse()
        .expect("uuid");
    issue_user_token(
        &tokens(),
        directory,
        account["owner_email"].as_str().expect("owner_email"),
    )
}

dual_db_test! {
    async fn a_seeded_dataset_reads_back_through_the_api(kind) {
        let db = TestDb::create(kind);
        let summary = summary_of(&seed(&db, 11));
        assert_eq!(summary["accounts"], ACCOUNTS);
        assert_eq!(summary["orders"], ORDERS);
        assert_eq!(summary["large_account"]["skilling_credits"], COMPLETIONS);

        let server = ServerProcess::start(&db.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
        let client = reqwest::Client::new();
        let large = token_for(&summary["large_account"]);
        let typical = token_for(&summary["typical_account"]);

        let account = get(&client, &server, "/v1/account", &large).await;
        assert_eq!(account["id"], summary["large_account"]["account_id"]);
        assert_eq!(account["partner_id"], summary["large_account"]["partner_id"]);
        assert_eq!(account["verification"]["status"], "verified");

        // The large account's list: every credit once, in keyset order, 200 to a page.
        let (credits, pages) = all_pages(&client, &server, "/v1/skilling", &large).await;
        assert_eq!(credits.len() as u64, COMPLETIONS);
        assert_eq!(pages, 3);
        let ids: Vec<&str> = credits.iter().map(|c| c["id"].as_str().expect("id")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "credits come in id order, without repeats");
        assert!(credits.iter().all(|c| c["status"] == "counted" || c["status"] == "pending"));

        // Orders: the typical account bought Action Pack and renewed it; every paid order has
        // exactly one invoice, and the membership is active now.
        let (orders, _) = all_pages(&client, &server, "/v1/orders", &typical).await;
        assert_eq!(orders.len() as u64, summary["typical_account"]["orders"].as_u64().expect("orders"));
        let paid: BTreeSet<&str> = orders
            .iter()
            .filter(|o| o["status"] == "paid")
            .map(|o| o["id"].as_str().expect("id"))
            .collect();
        assert!(paid.len() >= 2, "a purchase and at least one renewal: {orders:?}");
        assert!(orders.iter().all(|o| o["status"] == "paid" || o["status"] == "failed"));
        assert!(orders.iter().any(|o| o["kind"] == "renewal"));
        let (invoices, _) = all_pages(&client, &server, "/v1/invoices", &typical).await;
        let invoiced: BTreeSet<&str> = invoices.iter().map(|i| i["order_id"].as_str().expect("order_id")).collect();
        assert_eq!(invoices.len(), paid.len());
        assert_eq!(invoiced, paid);
        let memberships = get(&client, &server, "/v1/memberships", &typical).await;
        let action_pack: Vec<&Value> = memberships["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|m| m["program_id"] == "action_pack")
            .collect();
        assert_eq!(action_pack.len(), 1);
        assert_eq!(action_pack[0]["status"], "active");

        // The eligibility the benchmark reads evaluates for a seeded account.
        let program = summary["eligibility_program"].as_str().expect("program");
        let eligibility = get(&client, &server, &format!("/v1/programs/{program}/eligibility"), &typical).await;
        assert!(eligibility["checks"].as_array().is_some_and(|c| !c.is_empty()));

        // Every account, in a mix of verification states.
        let operator = issue_operator_token(&tokens());
        let listed = accounts_as_listed(&client, &server, &operator).await;
        assert_eq!(listed.len() as u32, ACCOUNTS);
        assert!(listed.iter().filter(|(_, status)| status == "verified").count() >= 2);

        // A second seed of a database with accounts is refused and changes nothing (with the
        // server stopped: while one runs, the file is its alone).
        drop(server);
        let again = seed(&db, 11);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already has"));
        let server = ServerProcess::start(&db.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
        assert_eq!(accounts_as_listed(&client, &server, &operator).await, listed);

        // The same seed on a fresh database gives the same accounts.
        let twin = TestDb::create(kind);
        summary_of(&seed(&twin, 11));
        let twin_server = ServerProcess::start(&twin.url, &[("PC_JWT_SECRET", TEST_SECRET)]);
        assert_eq!(accounts_as_listed(&client, &twin_server, &operator).await, listed);
    }
}
