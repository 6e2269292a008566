//! Search (DESIGN §8): typo tolerance, ranking, permission filtering, tenant isolation,
//! pagination, and an index that follows every change.

use crate::dual_test;
use crate::harness::{Reply, TestApp};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Adds a person with these names and roles; returns (id, token).
async fn person(
    app: &TestApp,
    directory: Uuid,
    admin: &str,
    email: &str,
    first: &str,
    last: Option<&str>,
    roles: &[&str],
) -> (String, String) {
    let reply = app
        .post_json(
            "/v1/users",
            admin,
            &json!({"email": email, "first_name": first, "last_name": last, "roles": roles}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    (id, app.user_token(directory, email))
}

async fn search(app: &TestApp, token: &str, query: &str) -> Reply {
    app.get(&format!("/v1/search?{query}"), Some(token)).await
}

/// Every result of a query (one page of up to 200).
async fn results(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = search(app, token, &format!("{query}&limit=200")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert!(body.get("next_cursor").is_none(), "more than one page");
    body["items"].as_array().expect("items").clone()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

fn of_type<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|item| item["type"] == kind).collect()
}

async fn open_request(app: &TestApp, token: &str, title: &str) -> String {
    let reply = app
        .post_json(
            "/v1/support/requests",
            token,
            &json!({"category": "technical", "title": title, "description": "It stopped working."}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().expect("id").to_owned()
}

dual_test! {
    async fn a_misspelt_first_name_finds_the_person_and_never_another_accounts(app) {
        let (a_dir, a_owner, _) = app.create_account().await;
        let (john, _) = person(&app, a_dir, &a_owner, "john.smith@contoso.com", "John", Some("Smith"), &["report_viewer"]).await;
        let (katherine, _) = person(&app, a_dir, &a_owner, "k.jones@contoso.com", "Katherine", Some("Jones"), &[]).await;

        // Account B has a John Smith too, an order, an invoice and a support request.
        let (b_dir, b_owner, _) = app.create_account_as("owner@fabrikam.com").await;
        let (b_john, b_john_token) = person(&app, b_dir, &b_owner, "john.smith@fabrikam.com", "John", Some("Smith"), &[]).await;
        let b_order = app.bought(&b_owner, "probe_paid").await["id"].as_str().expect("order").to_owned();
        let b_invoice = app.get("/v1/invoices", Some(&b_owner)).await.json()["items"][0]["id"].as_str().expect("invoice").to_owned();
        let b_request = open_request(&app, &b_john_token, "John Smith cannot sign in").await;
        let b_ids: BTreeSet<String> = [b_john.clone(), b_order, b_invoice, b_request].into_iter().collect();

        // A transposition is one edit of a four-letter word.
        let found = results(&app, &a_owner, "q=Jhon").await;
        let users = of_type(&found, "user");
        assert_eq!(users.len(), 1, "{found:?}");
        assert_eq!(users[0]["id"], john.as_str());
        assert_eq!(users[0]["title"], "John Smith");
        assert_eq!(users[0]["path"], format!("/v1/users/{john}"));
        assert_eq!(users[0]["matched"], json!(["john"]));
        // A substitution in a nine-letter word.
        let found = results(&app, &a_owner, "q=Katharine").await;
        assert_eq!(ids_of(&of_type(&found, "user").into_iter().cloned().collect::<Vec<_>>()), [katherine]);
        // The full name, case and accents aside.
        let found = results(&app, &a_owner, "q=JOHN%20SMÍTH&types=user").await;
        assert_eq!(ids_of(&found), std::slice::from_ref(&john));

        // Nothing of B, whatever A asks for.
        for query in ["q=John", "q=Jhon%20Smith", "q=probe", "q=INV", "q=cannot%20sign", "q=order", "q=fabrikam"] {
            let found = results(&app, &a_owner, query).await;
            let leaked: Vec<String> = ids_of(&found).into_iter().filter(|id| b_ids.contains(id)).collect();
            assert!(leaked.is_empty(), "{query} found B's {leaked:?}");
            assert!(of_type(&found, "invoice").is_empty() && of_type(&found, "order").is_empty() && of_type(&found, "support_request").is_empty(), "{query}: {found:?}");
        }
        // And B finds its own John, not A's.
        let found = results(&app, &b_owner, "q=Jhon&types=user").await;
        assert_eq!(ids_of(&found), [b_john]);
    }

    async fn permissions_decide_what_is_found(app) {
        let (dir, owner, _) = app.create_account().await;
        let (_, viewer) = person(&app, dir, &owner, "rita@contoso.com", "Rita", None, &["report_viewer"]).await;
        let (_, billing) = person(&app, dir, &owner, "bill@contoso.com", "Bill", None, &["billing_admin"]).await;
        let order = app.bought(&owner, "probe_paid").await["id"].as_str().expect("order").to_owned();
        let invoice = app.get("/v1/invoices", Some(&owner)).await.json()["items"][0]["id"].as_str().expect("invoice").to_owned();

        // Orders and invoices need billing.read: the owner and the billing admin have it.
        for token in [&owner, &billing] {
            let found = results(&app, token, "q=probe%20program&types=order,invoice").await;
            let mut ids = ids_of(&found);
            ids.sort();
            let mut expected = vec![order.clone(), invoice.clone()];
            expected.sort();
            assert_eq!(ids, expected, "{found:?}");
            let invoice_hit = of_type(&found, "invoice")[0];
            assert_eq!(invoice_hit["title"], "Invoice INV-000001");
            assert_eq!(invoice_hit["path"], format!("/v1/invoices/{invoice}"));
        }
        let found = results(&app, &owner, "q=INV-000001").await;
        assert_eq!(ids_of(&found), std::slice::from_ref(&invoice));
        // A report viewer finds neither, even by number, but does find the program.
        let found = results(&app, &viewer, "q=probe%20program").await;
        assert!(of_type(&found, "order").is_empty() && of_type(&found, "invoice").is_empty(), "{found:?}");
        assert_eq!(of_type(&found, "program").len(), 1, "{found:?}");
        assert!(results(&app, &viewer, "q=INV-000001").await.is_empty());

        // Support requests: people see their own; global and account admins see all.
        let (_, sam) = person(&app, dir, &owner, "sam@contoso.com", "Sam", None, &["referrals_user"]).await;
        let (_, kim) = person(&app, dir, &owner, "kim@contoso.com", "Kim", None, &["referrals_user"]).await;
        let sams = open_request(&app, &sam, "Printer on fire").await;
        let kims = open_request(&app, &kim, "Printer jammed").await;
        assert_eq!(ids_of(&results(&app, &sam, "q=printer").await), std::slice::from_ref(&sams));
        assert_eq!(ids_of(&results(&app, &kim, "q=printer").await), std::slice::from_ref(&kims));
        let mut all = ids_of(&results(&app, &owner, "q=printer").await);
        all.sort();
        let mut expected = vec![sams, kims];
        expected.sort();
        assert_eq!(all, expected);

        // Workspaces: only those the caller's roles reach.
        let found = results(&app, &viewer, "q=billing&types=workspace").await;
        assert!(found.is_empty(), "{found:?}");
        let found = results(&app, &viewer, "q=insights&types=workspace").await;
        assert_eq!(ids_of(&found), ["insights"]);
        assert_eq!(found[0]["path"], "/v1/me/access");
        let found = results(&app, &billing, "q=billing&types=workspace").await;
        assert_eq!(ids_of(&found), ["billing"]);

        // Apps have no person to see support requests for: refused.
        search(&app, &app.operator_token(), "q=billing").await.assert_problem(403, "principal_not_allowed");
    }

    async fn types_filter_and_bad_input_is_refused(app) {
        let (dir, owner, _) = app.create_account().await;
        person(&app, dir, &owner, "bill@contoso.com", "Billing", Some("Person"), &[]).await;
        let everything = results(&app, &owner, "q=billing").await;
        let kinds: BTreeSet<&str> = everything.iter().filter_map(|item| item["type"].as_str()).collect();
        assert!(kinds.contains("user") && kinds.contains("workspace") && kinds.contains("help_topic"), "{kinds:?}");
        let users = results(&app, &owner, "q=billing&types=user").await;
        assert_eq!(users.len(), 1);
        let two = results(&app, &owner, "q=billing&types=user,%20workspace,user").await;
        assert!(two.iter().all(|item| item["type"] == "user" || item["type"] == "workspace"));
        assert_eq!(two.len(), 2, "{two:?}");

        for (query, field) in [
            ("types=user", "q"),
            ("q=", "q"),
            ("q=%20%20%20", "q"),
            (&format!("q={}", "a".repeat(201)) as &str, "q"),
            ("q=%3F%21", "q"),
            ("q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k", "q"),
            ("q=john&types=user,people", "types"),
            ("q=john&types=", "types"),
            ("q=john&limit=0", "limit"),
            ("q=john&limit=201", "limit"),
        ] {
            let reply = search(&app, &owner, query).await;
            reply.assert_problem(400, "invalid_query_parameter");
            assert_eq!(reply.field_errors()[0].0, field, "{query}");
        }
        // 200 characters after trimming are accepted.
        let long = format!("q=%20{}%20", "a".repeat(200));
        assert_eq!(search(&app, &owner, &long).await.status, 200);
        search(&app, &owner, "q=john&cursor=bogus").await.assert_problem(400, "invalid_cursor");
        search(&app, &owner, "q=john&sort=score").await.assert_problem(400, "invalid_query_parameter");
        search(&app, &owner, "q=john&limit=ten").await.assert_problem(400, "invalid_query_parameter");
    }

    async fn exact_matches_rank_above_prefixes_and_typos(app) {
        let (dir, owner, _) = app.create_account().await;
        let (typo, _) = person(&app, dir, &owner, "jon@contoso.com", "Jon", Some("Snow"), &[]).await;
        let (prefix, _) = person(&app, dir, &owner, "johnny@contoso.com", "Johnny", Some("Walker"), &[]).await;
        let (longer, _) = person(&app, dir, &owner, "js@contoso.com", "John", Some("Smith"), &[]).await;
        let (exact, _) = person(&app, dir, &owner, "j@contoso.com", "John", None, &[]).await;
        let found = results(&app, &owner, "q=john&types=user").await;
        assert_eq!(ids_of(&found), [exact, longer, prefix, typo], "{found:?}");
        let scores: Vec<u64> = found.iter().map(|item| item["score"].as_u64().expect("score")).collect();
        assert!(scores.windows(2).all(|pair| pair[0] > pair[1]), "{scores:?}");
    }

    async fn pages_walk_every_result_once(app) {
        let (dir, owner, _) = app.create_account().await;
        for n in 0..7 {
            person(&app, dir, &owner, &format!("p{n}@contoso.com"), "Pat", Some("Pager"), &[]).await;
        }
        let all = ids_of(&results(&app, &owner, "q=pager&types=user").await);
        assert_eq!(all.len(), 7);
        let mut walked = Vec::new();
        let mut query = "q=pager&types=user&limit=3".to_owned();
        loop {
            let reply = search(&app, &owner, &query).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            let body = reply.json();
            walked.extend(ids_of(body["items"].as_array().expect("items")));
            match body["next_cursor"].as_str() {
                Some(cursor) => {
                    let link = reply.header("link").expect("link");
                    assert!(link.contains(&format!("cursor={cursor}")) && link.contains("q=pager"), "{link}");
                    query = format!("q=pager&types=user&limit=3&cursor={cursor}");
                }
                None => {
                    assert!(reply.header("link").is_none());
                    break;
                }
            }
        }
        // Equal scores, so the order is by id, the same on every page.
        assert_eq!(walked, all);
        let unique: BTreeSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), 7);
    }

    async fn help_topics_programs_and_workspaces_are_found_by_a_title_word(app) {
        let (_, owner, _) = app.create_account().await;
        let found = results(&app, &owner, "q=admins&types=help_topic").await;
        let topic = found.iter().find(|item| item["id"] == "find-your-admins").unwrap_or_else(|| panic!("{found:?}"));
        assert_eq!(topic["title"], "Find your admins");
        assert_eq!(topic["path"], "/v1/help-topics/find-your-admins");
        let read = app.get("/v1/help-topics/find-your-admins", Some(&owner)).await;
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.json()["workspace"], "account_settings");
        app.get("/v1/help-topics/no-such-topic", Some(&owner)).await.assert_problem(404, "not_found");

        let found = results(&app, &owner, "q=action%20pack&types=program").await;
        assert_eq!(found[0]["id"], "action_pack", "{found:?}");
        assert_eq!(found[0]["path"], "/v1/programs/action_pack");
        // A program edited by the operator is found by its new name.
        app.put_program("probe_renamed", &crate::harness::program_definition("self_service")).await;
        let mut renamed = crate::harness::program_definition("self_service");
        renamed["name"] = json!("Quasar accelerator");
        let put = app.put_program("probe_renamed", &renamed).await;
        assert!(put.status.is_success(), "{}", put.text);
        assert_eq!(ids_of(&results(&app, &owner, "q=quasar").await), ["probe_renamed"]);

        // A misspelt help word, prefix of the last word.
        let found = results(&app, &owner, "q=refnd&types=help_topic").await;
        assert!(found.iter().any(|item| item["id"] == "cancel-and-refund"), "{found:?}");
        let found = results(&app, &owner, "q=verif&types=help_topic").await;
        assert!(found.iter().any(|item| item["id"] == "verification-status"), "{found:?}");
    }

    async fn a_renamed_user_is_found_by_the_new_name_and_not_the_old(app) {
        let (dir, owner, _) = app.create_account().await;
        let (id, _) = person(&app, dir, &owner, "gus@contoso.com", "Gustavo", Some("Fring"), &[]).await;
        assert_eq!(ids_of(&results(&app, &owner, "q=gustavo&types=user").await), std::slice::from_ref(&id));
        let path = format!("/v1/users/{id}");
        let etag = app.get(&path, Some(&owner)).await.header("etag").expect("etag").to_owned();
        let patched = app.patch_json(&path, &owner, &etag, &json!({"first_name": "Bartholomew"})).await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert_eq!(ids_of(&results(&app, &owner, "q=bartholomew&types=user").await), std::slice::from_ref(&id));
        assert!(results(&app, &owner, "q=gustavo&types=user").await.is_empty());

        // Removed: found no more.
        let etag = app.get(&path, Some(&owner)).await.header("etag").expect("etag").to_owned();
        let deleted = app.delete(&path, &owner, Some(&etag)).await;
        assert!(deleted.status.is_success(), "{}", deleted.text);
        assert!(results(&app, &owner, "q=bartholomew&types=user").await.is_empty());

        // A support request follows its notes and its closing.
        let request = open_request(&app, &owner, "Cannot upload evidence").await;
        let noted = app.send(app.request(reqwest::Method::PATCH, &format!("/v1/support/requests/{request}"))
            .bearer_auth(&owner).json(&json!({"note": "The zeppelin file is a PDF."}))).await;
        assert_eq!(noted.status, 200, "{}", noted.text);
        assert_eq!(ids_of(&results(&app, &owner, "q=zeppelin").await), std::slice::from_ref(&request));
        let closed = app.send(app.request(reqwest::Method::PATCH, &format!("/v1/support/requests/{request}"))
            .bearer_auth(&owner).json(&json!({"status": "closed"}))).await;
        assert_eq!(closed.status, 200, "{}", closed.text);
        let found = results(&app, &owner, "q=zeppelin").await;
        assert!(found[0]["summary"].as_str().expect("summary").contains("closed"), "{found:?}");
    }
}

dual_test! {
    async fn objects_indexed_before_search_existed_are_found_after_the_start_up_backfill(app) {
        let (dir, owner, account) = app.create_account().await;
        let account_id = account["id"].as_str().expect("id").to_owned();
        let (john, _) = person(&app, dir, &owner, "john@contoso.com", "John", Some("Older"), &[]).await;
        let order = app.bought(&owner, "probe_paid").await["id"].as_str().expect("order").to_owned();
        let request = open_request(&app, &owner, "Quokka sightings").await;

        // The account as a database from before the index has it: no documents, no vocabulary,
        // queued for indexing (as the migration queues every existing account).
        let pool = persistence::DbPool::build(&app.db.database_url(), 1).expect("pool");
        {
            use diesel::prelude::*;
            use persistence::schema::{search_documents, search_reindex, search_terms};
            let mut conn = pool.get().expect("connection");
            diesel::delete(search_documents::table.filter(search_documents::account_id.eq(&account_id)))
                .execute(&mut *conn).expect("documents removed");
            diesel::delete(search_terms::table.filter(search_terms::account_id.eq(&account_id)))
                .execute(&mut *conn).expect("terms removed");
            diesel::insert_into(search_reindex::table).values(search_reindex::account_id.eq(&account_id))
                .execute(&mut *conn).expect("queued");
        }
        assert!(results(&app, &owner, "q=Jhon&types=user").await.is_empty());
        assert!(results(&app, &owner, "q=quokka").await.is_empty());

        // What every start (and `partner-center migrate`) runs.
        api::startup::load_catalog(&pool).expect("catalog and backfill");

        assert_eq!(ids_of(&results(&app, &owner, "q=Jhon&types=user").await), std::slice::from_ref(&john));
        assert_eq!(ids_of(&results(&app, &owner, "q=quokka").await), std::slice::from_ref(&request));
        assert_eq!(ids_of(&results(&app, &owner, "q=probe%20program&types=order").await), std::slice::from_ref(&order));
        use diesel::prelude::*;
        let queued: i64 = persistence::schema::search_reindex::table.count()
            .get_result(&mut *pool.get().expect("connection")).expect("count");
        assert_eq!(queued, 0);
    }
}
