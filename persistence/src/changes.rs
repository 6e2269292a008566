//! Whether a SQLite database may have changed since a moment this process noted: what lets the
//! service keep an answer between requests and know when it may no longer be the database's.
//!
//! Each SQLite file has one counter in the process, shared by every pool on it. A pool raises it
//! after any work that may have written (a write transaction, a statement outside one, a
//! connection handed out for arbitrary use) has ended, so after its commit; read snapshots do
//! not raise it. An answer read in a snapshot that began after [`Changes::current`] returned
//! `g` is the database's for as long as the counter is still `g`: a commit that the snapshot
//! did not see raises it afterwards, and one it did see either raised it before `g` was taken
//! or raises it later, which only makes the answer look older than it is.
//!
//! The counter sees this process only. `partner-center serve` therefore holds the file's
//! exclusive lock ([`crate::connection::exclusive_use`]) for as long as it runs, and so do the
//! other commands that write the file. PostgreSQL has no counter: other replicas write it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// The count at one moment; equal counts mean no work that may write ended in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

/// The counter of one SQLite file (see the module documentation).
#[derive(Debug, Clone)]
pub struct Changes(Arc<AtomicU64>);

/// The counters of the files this process has opened, by canonical path, so that two pools on
/// one file (a command-line tool's next to the server's, a test's) raise the same counter.
static BY_FILE: LazyLock<Mutex<HashMap<PathBuf, Changes>>> = LazyLock::new(Default::default);

impl Changes {
    /// The counter of the SQLite file at `path`, which must exist (the pool has connected).
    pub(crate) fn of_file(path: &Path) -> Self {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        // A poisoned registry only means a panic mid-insert; its map is still whole.
        let mut files = BY_FILE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        files
            .entry(key)
            .or_insert_with(|| Changes(Arc::new(AtomicU64::new(0))))
            .clone()
    }

    /// Read before the snapshot whose answer is to be kept begins.
    pub fn current(&self) -> Generation {
        Generation(self.0.load(Ordering::SeqCst))
    }

    /// Called after work that may have written has ended (committed or not).
    pub(crate) fn raise(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_paths_to_one_file_share_a_counter_and_other_files_do_not() {
        let dir = std::env::temp_dir().join(format!("changes-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).expect("dir");
        let file = dir.join("one.db");
        std::fs::write(&file, b"").expect("file");
        std::fs::write(dir.join("two.db"), b"").expect("file");

        let first = Changes::of_file(&file);
        let second = Changes::of_file(&dir.join("sub/../one.db"));
        let other = Changes::of_file(&dir.join("two.db"));
        let before = first.current();
        let other_before = other.current();
        second.raise();
        assert_ne!(first.current(), before);
        assert_eq!(first.current(), second.current());
        assert_eq!(other.current(), other_before);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
