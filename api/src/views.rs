//! Answers kept between requests while the database has not changed (SQLite), for the reads
//! every client repeats: `GET /v1/account` is the caller's standing, the account row, its JSON
//! and its ETag, the same bytes until something is written.
//!
//! An answer is kept with the database's change count taken before the snapshot it was read
//! in, and served only while the count is still that ([`persistence::changes`] says why that is
//! exact, and why the server holds its SQLite file alone). Any write through the pool raises the
//! count, so a kept answer is never older than the last commit; a change of roles or a removal
//! applies to the next request as it always did. On PostgreSQL there is no count (other replicas
//! write), so nothing is kept.

use actix_web::web::Bytes;
use domain::principal::Principal;
use persistence::changes::Generation;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use crate::enrollment::EligibilityInputs;

/// Answers of one kind, by key, each with the change count it was read at; at most `capacity`
/// of them: a full cache drops what is out of date, and if nothing is, starts again empty.
pub struct Kept<K, V> {
    entries: RwLock<HashMap<K, (Generation, Arc<V>)>>,
    capacity: usize,
}

impl<K: Hash + Eq, V> Kept<K, V> {
    pub fn new(capacity: usize) -> Self {
        Kept {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The answer kept for `key`, if it was read at count `now` (`None`: nothing is kept).
    pub fn get(&self, key: &K, now: Option<Generation>) -> Option<Arc<V>> {
        let now = now?;
        // A poisoned lock only means a panic mid-insert elsewhere; the cache is skipped.
        let entries = self.entries.read().ok()?;
        let (read_at, value) = entries.get(key)?;
        (*read_at == now).then(|| Arc::clone(value))
    }

    /// Keeps `value`, read in a snapshot begun after the count was `read_at`.
    pub fn keep(&self, key: K, read_at: Option<Generation>, value: Arc<V>) {
        let Some(read_at) = read_at else {
            return;
        };
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| *at == read_at);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (read_at, value));
    }
}

/// A GET's answer as sent: its entity tag and its JSON body.
pub struct Rendered {
    pub etag: String,
    pub body: Bytes,
}

impl Rendered {
    pub fn json<T: serde::Serialize>(etag: String, body: &T) -> Result<Self, serde_json::Error> {
        Ok(Rendered {
            etag,
            body: Bytes::from(serde_json::to_vec(body)?),
        })
    }
}

/// The answers this server keeps (one per server, in [`crate::state::AppState`]).
pub struct Views {
    /// `GET /v1/account`, by caller: about a kilobyte each.
    pub account: Kept<Principal, Rendered>,
    /// What `GET /v1/programs/{id}/eligibility` reads, by caller and program, for accounts
    /// whose evidence an actix worker may score ([`crate::state::INLINE_EVIDENCE`] rows at
    /// most): evaluated again at each request's now, as the answer depends on it.
    pub eligibility: Kept<(Principal, String), EligibilityInputs>,
}

impl Default for Views {
    fn default() -> Self {
        Views {
            account: Kept::new(4096),
            eligibility: Kept::new(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence::DbPool;
    use persistence::connection::DatabaseUrl;

    /// A pool on a new SQLite file, removed afterwards: change counts come from a real pool (a
    /// [`Generation`] cannot be made otherwise).
    struct TempPool(DbPool, std::path::PathBuf);

    impl TempPool {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("views-{}.db", uuid::Uuid::now_v7()));
            let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
            TempPool(DbPool::build(&url, 1).expect("pool"), path)
        }
    }

    impl Drop for TempPool {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.1.display()));
            }
        }
    }

    #[test]
    fn an_answer_serves_until_the_database_may_have_changed() {
        let TempPool(pool, _) = &TempPool::new();
        let kept = Kept::<&str, u32>::new(8);
        let before = pool.generation();
        kept.keep("a", before, Arc::new(1));
        assert_eq!(kept.get(&"a", pool.generation()).as_deref(), Some(&1));
        assert_eq!(kept.get(&"b", pool.generation()), None);

        // Any use of a connection for more than a read counts as a change.
        drop(pool.get().expect("connection"));
        assert_eq!(kept.get(&"a", pool.generation()), None);
        // A read snapshot does not.
        let now = pool.generation();
        kept.keep("a", now, Arc::new(2));
        pool.with_reader(|_| Ok::<_, persistence::DbError>(()))
            .expect("read");
        assert_eq!(kept.get(&"a", pool.generation()).as_deref(), Some(&2));
    }

    #[test]
    fn nothing_is_kept_without_a_change_count() {
        let kept = Kept::<&str, u32>::new(8);
        kept.keep("a", None, Arc::new(1));
        assert_eq!(kept.get(&"a", None), None);
    }

    #[test]
    fn a_full_cache_drops_what_is_out_of_date_and_stays_bounded() {
        let TempPool(pool, _) = &TempPool::new();
        const CAPACITY: usize = 64;
        let kept = Kept::<usize, usize>::new(CAPACITY);
        let old = pool.generation();
        for key in 0..CAPACITY / 2 {
            kept.keep(key, old, Arc::new(key));
        }
        drop(pool.get().expect("connection"));
        let now = pool.generation();
        for key in CAPACITY / 2..CAPACITY + 1 {
            kept.keep(key, now, Arc::new(key));
        }
        let entries = kept.entries.read().expect("lock").len();
        assert_eq!(entries, CAPACITY / 2 + 1);
        assert_eq!(kept.get(&CAPACITY, now).as_deref(), Some(&CAPACITY));
    }
}
