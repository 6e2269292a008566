//! Storage set-up as replicas meet it: concurrent migrations, and the same schema on both
//! backends.

use crate::dual_db_test;
use crate::harness::TestDb;

dual_db_test! {
    async fn replicas_migrating_at_once_apply_each_migration_once(db) {
        let db = TestDb::create(db);
        let url = db.database_url();
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || persistence::migrate::run_pending(&url))
            })
            .collect();
        let results: Vec<Result<Vec<String>, String>> =
            runs.into_iter().map(|run| run.join().expect("thread")).collect();
        for result in &results {
            assert!(result.is_ok(), "a concurrent migration failed: {result:?}");
        }
        let applied: Vec<String> = results.into_iter().flat_map(|r| r.unwrap_or_default()).collect();
        let mut applied = applied;
        applied.sort();
        assert_eq!(
            applied,
            vec!["20261121000001".to_owned(), "20261121000002".to_owned(), "20261121000003".to_owned(), "20261121000004".to_owned(), "20261121000006".to_owned()],
            "each migration applied exactly once"
        );
        let pool = persistence::DbPool::build(&url, 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        assert!(!persistence::migrate::has_pending(&mut conn).expect("state"));
    }
}
