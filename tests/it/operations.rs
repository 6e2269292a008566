//! Probes, the served OpenAPI document and the offline docs UI.

use crate::harness::{Options, TestApp};
use crate::{dual_db_test, dual_test};

dual_test! {
    async fn liveness_and_readiness(app) {
        let health = app.get("/healthz", None).await;
        assert_eq!(health.status, 200);
        assert_eq!(health.json()["status"], "ok");
        let ready = app.get("/readyz", None).await;
        assert_eq!(ready.status, 200, "{}", ready.text);
        let body = ready.json();
        assert_eq!(body["status"], "ready");
        assert_eq!(body["migrations"], "applied");
        let expected = if app.db.url.starts_with("postgres") { "postgres" } else { "sqlite" };
        assert_eq!(body["database"], expected);
    }

    async fn the_document_is_served_as_json_and_yaml(app) {
        let json = app.get("/openapi.json", None).await;
        assert_eq!(json.status, 200);
        let served: serde_json::Value = json.json();
        assert_eq!(served["openapi"], "3.1.0");
        assert_eq!(served, serde_json::to_value(api::openapi::spec()).expect("json"));
        let yaml = app.get("/openapi.yaml", None).await;
        assert_eq!(yaml.status, 200);
        assert_eq!(yaml.header("content-type"), Some("application/yaml"));
        assert_eq!(yaml.text, api::openapi::spec().to_yaml().expect("yaml"));
    }

    async fn the_docs_ui_is_served_without_any_cdn(app) {
        let redirect = app.get("/docs", None).await;
        assert_eq!(redirect.status, 308);
        assert_eq!(redirect.header("location"), Some("/docs/"));
        let page = app.get("/docs/", None).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("swagger-ui"), "{}", page.text);
        // Every script and stylesheet is a relative asset served by us.
        for line in page.text.lines() {
            for attribute in ["src=\"", "href=\""] {
                if let Some(start) = line.find(attribute) {
                    let value = &line[start + attribute.len()..];
                    let value = &value[..value.find('"').expect("closing quote")];
                    assert!(!value.contains("://"), "external asset {value}");
                    let asset = app.get(&format!("/docs/{}", value.trim_start_matches("./")), None).await;
                    assert_eq!(asset.status, 200, "{value}");
                }
            }
        }
        // An unknown asset is a problem like any other error.
        app.get("/docs/no-such-asset.js", None).await.assert_problem(404, "not_found");
        let initializer = app.get("/docs/swagger-initializer.js", None).await;
        assert!(initializer.text.contains("\"/openapi.json\""), "{}", initializer.text);
    }
}

dual_db_test! {
    async fn a_server_on_an_unmigrated_database_is_not_ready(db) {
        let app = TestApp::spawn_with(db, Options::default()).await;
        assert_eq!(app.get("/healthz", None).await.status, 200);
        let ready = app.get("/readyz", None).await;
        let body = ready.assert_problem(503, "service_unavailable");
        assert_eq!(ready.header("retry-after"), Some("5"));
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("migrat")), "{body}");
    }
}

/// The deployment where the owner migrates and the service runs as a role that may only read
/// and write rows: readiness must not need more than that.
#[cfg(pg_tests)]
#[actix_rt::test]
async fn a_least_privilege_role_serves_and_is_ready() {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    let db = crate::harness::TestDb::create(crate::harness::Db::Postgres);
    persistence::migrate::run_pending(&db.database_url()).expect("migrated by the owner");
    let (name, admin) = db
        .postgres()
        .map(|(n, a)| (n.to_owned(), a.to_owned()))
        .expect("postgres");
    let role = format!("pc_runtime_{}", uuid::Uuid::now_v7().simple());
    let mut owner = PgConnection::establish(&db.url).expect("owner connection");
    for statement in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("REVOKE CREATE ON SCHEMA public FROM {role}"),
    ] {
        diesel::sql_query(statement)
            .execute(&mut owner)
            .expect("grant");
    }
    let (scheme, rest) = admin.split_once("://").expect("url");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let runtime_url = crate::harness::with_database(&format!("{scheme}://{role}@{host}"), &name);
    let app = TestApp::spawn_in(
        db,
        Options {
            database_url: Some(runtime_url),
            ..Options::default()
        },
    )
    .await;

    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    app.create_account().await;

    drop(app);
    let mut admin = PgConnection::establish(&admin).expect("admin connection");
    diesel::sql_query(format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut admin)
        .expect("role dropped");
}
