// Every HTTP test also runs on PostgreSQL when TEST_DATABASE_URL is set at build time: the
// PostgreSQL variants exist only then, so no test silently passes without a database.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    let configured = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty());
    if configured {
        println!("cargo::rustc-cfg=pg_tests");
    }
}
