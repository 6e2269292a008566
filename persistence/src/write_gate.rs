//! One SQLite writer at a time within this process, queued on a mutex.
//!
//! SQLite admits one writer per database file. Without a queue, the pool's connections race
//! for it with `BEGIN IMMEDIATE`, and the losers wait in SQLite's busy handler, which sleeps
//! 1, 2, 5, 10, ... up to 100 ms between attempts: a writer sleeps on long after the lock is
//! free, so under load most of the time goes to sleeping (the benchmark's writes: 844/s, p99
//! 41 ms at half of that rate). Writers of one process queue on the pool's gate instead and
//! each starts as soon as the one before it ends. `busy_timeout` still covers other processes
//! on the same file (the command-line tools).
//!
//! The gate is found through the thread: [`WriteGate::admit`] makes it current while a pooled
//! connection's work runs (`DbPool::with_connection`), and `write_transaction` takes a turn at
//! it. Repositories keep taking a plain `&mut DbConnection`.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, PoisonError};

/// The queue of one database's writers (one per SQLite pool; PostgreSQL needs none).
#[derive(Clone, Default)]
pub struct WriteGate(Arc<Mutex<()>>);

thread_local! {
    /// The gate of the pool whose connection this thread is working with.
    static CURRENT: RefCell<Option<WriteGate>> = const { RefCell::new(None) };
    /// Whether this thread is inside its turn already (a nested call must not queue behind
    /// itself; it reaches SQLite as it did before the gate existed).
    static IN_TURN: Cell<bool> = const { Cell::new(false) };
}

impl WriteGate {
    /// Runs `work` with this gate as the one this thread's write transactions queue on.
    pub fn admit<T>(&self, work: impl FnOnce() -> T) -> T {
        /// Puts the previous gate back even if `work` panics: pool threads are reused.
        struct Restore(Option<WriteGate>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|current| *current.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous);
        work()
    }
}

/// Runs `work` (one write transaction) in this thread's turn at the current gate, if any.
pub(crate) fn in_turn<T>(work: impl FnOnce() -> T) -> T {
    let gate = if IN_TURN.get() {
        None
    } else {
        CURRENT.with(|current| current.borrow().clone())
    };
    let Some(gate) = gate else {
        return work();
    };
    // Not a fair (first come, first served) handoff: measured, a fair unlock cost a quarter of
    // the write throughput (2,700 -> 2,000/s) for a shorter tail at saturation (p99 140 ->
    // 40 ms), while below saturation both kept p99 under 10 ms.
    // A writer that panicked holding the gate left nothing behind that needs repair: its
    // transaction was rolled back with its connection.
    let _turn = gate.0.lock().unwrap_or_else(PoisonError::into_inner);
    /// Ends the turn even if `work` panics; declared after the guard, so dropped before it.
    struct EndTurn;
    impl Drop for EndTurn {
        fn drop(&mut self) {
            IN_TURN.set(false);
        }
    }
    IN_TURN.set(true);
    let _end = EndTurn;
    work()
}
