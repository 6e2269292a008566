//! One SQLite writer at a time within this process, queued at a gate of its own.
//!
//! SQLite admits one writer per database file. Without a queue, the pool's connections race
//! for it with `BEGIN IMMEDIATE`, and the losers wait in SQLite's busy handler, which sleeps
//! 1, 2, 5, 10, ... up to 100 ms between attempts: a writer sleeps on long after the lock is
//! free, so under load most of the time goes to sleeping (the benchmark's writes: 844/s, p99
//! 41 ms at half of that rate). Writers of one process queue on the pool's gate instead and
//! each starts as soon as the one before it ends. `busy_timeout` still covers other processes
//! on the same file (the command-line tools).
//!
//! The gate lets a running writer take it when it is free (handing it to a sleeping waiter
//! leaves it idle while that thread wakes, which cost a quarter of the write throughput when
//! every release did so), but bounds how long that can pass a waiter over: a first waiter that
//! has waited `OVERDUE` (2 ms) is handed the gate at the next release, while few others wait.
//!
//! The gate is found through the thread: [`WriteGate::admit`] makes it current while a pooled
//! connection's work runs (`DbPool::with_connection`), and `write_transaction` takes a turn at
//! it. Repositories keep taking a plain `&mut DbConnection`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The queue of one database's writers (one per SQLite pool; PostgreSQL needs none).
#[derive(Clone, Default)]
pub struct WriteGate(Arc<Mutex<Queue>>);

/// How long the first waiter may be passed over by writers that arrive while the gate is free.
const OVERDUE: Duration = Duration::from_millis(2);
/// With more waiters than this the gate is saturated: passing it straight to the first waiter
/// would leave it idle while that thread wakes, at every turn, for no shorter wait overall.
const FAIR_UP_TO: usize = 4;

#[derive(Default)]
struct Queue {
    held: bool,
    waiters: VecDeque<Waiter>,
    /// The waiter the gate was handed to, which holds it from that moment.
    handed_to: Option<u64>,
    next_ticket: u64,
}

struct Waiter {
    ticket: u64,
    since: Instant,
    thread: Thread,
}

impl Queue {
    /// Whether the first waiter is owed the gate: it has waited past [`OVERDUE`] while few
    /// others wait.
    fn owed(&self) -> bool {
        self.waiters.len() <= FAIR_UP_TO
            && self
                .waiters
                .front()
                .is_some_and(|first| first.since.elapsed() >= OVERDUE)
    }
}

impl WriteGate {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while the queue is locked; a poisoned lock holds a consistent queue.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this thread's turn. A writer that finds the gate free takes it (the thread
    /// is running, and waking a sleeping one would leave the gate idle meanwhile), unless the
    /// first waiter is owed it; waiters keep their place, and one owed the gate is handed it
    /// at the next release. Without that, a woken waiter could lose the free gate to newcomers
    /// again and again: at half of the maximum write rate, some waited 50 to 140 ms behind
    /// turns of about a millisecond.
    fn enter(&self) -> Turn<'_> {
        let mut queue = self.queue();
        if !queue.held && !queue.owed() {
            queue.held = true;
            return Turn(self);
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiters.push_back(Waiter {
            ticket,
            since: Instant::now(),
            thread: thread::current(),
        });
        drop(queue);
        loop {
            thread::park();
            let mut queue = self.queue();
            if queue.handed_to == Some(ticket) {
                queue.handed_to = None;
                return Turn(self);
            }
            let first = queue.waiters.front().map(|waiter| waiter.ticket);
            if !queue.held && (first == Some(ticket) || !queue.owed()) {
                queue.held = true;
                queue.waiters.retain(|waiter| waiter.ticket != ticket);
                return Turn(self);
            }
        }
    }

    fn leave(&self) {
        let mut queue = self.queue();
        let woken = if queue.owed() {
            // Held on for the first waiter: no one else can take it in between.
            let first = queue.waiters.pop_front();
            queue.handed_to = first.as_ref().map(|waiter| waiter.ticket);
            first.map(|waiter| waiter.thread)
        } else {
            queue.held = false;
            queue.waiters.front().map(|waiter| waiter.thread.clone())
        };
        drop(queue);
        if let Some(thread) = woken {
            thread.unpark();
        }
    }
}

/// A writer's turn at the gate, given back when dropped (also while unwinding).
struct Turn<'a>(&'a WriteGate);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

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
    // A writer that panicked holding the gate left nothing behind that needs repair: its
    // transaction was rolled back with its connection.
    let _turn = gate.enter();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[test]
    fn a_writer_kept_waiting_past_overdue_goes_before_a_newcomer() {
        let gate = WriteGate::default();
        let order = Arc::new(StdMutex::new(Vec::new()));
        let first = gate.enter();
        let waiter = {
            let (gate, order) = (gate.clone(), order.clone());
            thread::spawn(move || {
                let _turn = gate.enter();
                order
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push("waiter");
            })
        };
        while gate.queue().waiters.is_empty() {
            thread::yield_now();
        }
        thread::sleep(OVERDUE + Duration::from_millis(1));
        // The holder gives the gate back and at once asks again, as a running thread that
        // would otherwise always win: the overdue waiter is served first.
        drop(first);
        {
            let _again = gate.enter();
            order
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push("newcomer");
        }
        waiter
            .join()
            .unwrap_or_else(|_| panic!("the waiter panicked"));
        let order = order.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(order, ["waiter", "newcomer"]);
    }

    #[test]
    fn one_writer_at_a_time_and_the_gate_ends_free() {
        let gate = WriteGate::default();
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside) = (gate.clone(), inside.clone());
                thread::spawn(move || {
                    for turn in 0..200 {
                        let _turn = gate.enter();
                        assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0);
                        if turn % 50 == 0 {
                            // Long enough for the first waiter to become owed the gate.
                            thread::sleep(OVERDUE);
                        }
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread
                .join()
                .unwrap_or_else(|_| panic!("a writer panicked"));
        }
        let queue = gate.queue();
        assert!(!queue.held && queue.waiters.is_empty() && queue.handed_to.is_none());
    }
}
