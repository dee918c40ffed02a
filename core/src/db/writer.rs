//! Group commit: one thread owns the writer connection and commits queued writes together.
//!
//! # Why
//! A SQLite commit costs far more than the few statements of a typical write (a join is about a
//! dozen indexed statements), and one commit can carry many writes. So the writer thread takes
//! every write that is queued when it becomes free (up to [`MAX_BATCH`]) and runs them in ONE
//! IMMEDIATE transaction, each inside its own SAVEPOINT:
//! - a write that returns `Err` (or panics) rolls back to its savepoint only, so one join's
//!   failure never undoes another's;
//! - each write sees the ones before it in the batch, exactly as if they had committed one after
//!   the other, so every check-then-change inside a write stays as sound as in its own
//!   transaction;
//! - answers go back only AFTER the commit: no caller hears "done" for something that is not
//!   stored, and if the commit fails, every write of the batch gets the error.
//!
//! Nobody waits for a batch to fill: a write that finds the thread idle runs at once, alone.
//! Batches form only under load, which is exactly when they help.
//!
//! A write ending the transaction itself (a stray `COMMIT` or `ROLLBACK`, or an SQLite error that
//! rolls back the whole transaction such as a full disk) breaks the batch: the writes that already
//! ran get an error, the transaction is rolled back if still open, and the writes not yet run go
//! into the next transaction. Other processes on the same file are unaffected by all of this:
//! the batch is an ordinary IMMEDIATE transaction under the busy timeout.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::connection::Conn;
use super::{lock, time};
use crate::clock::Clock;
use crate::error::{db_error, Error, Result};

/// Most writes committed together: enough to spread a commit over many writes, few enough that a
/// batch holds the file's write lock only for milliseconds (other processes wait for it).
pub(super) const MAX_BATCH: usize = 64;

const SAVEPOINT: &str = "SAVEPOINT pvelab_write";
const RELEASE: &str = "RELEASE pvelab_write";
const ROLLBACK_TO: &str = "ROLLBACK TO pvelab_write";

/// The queue in front of the writer thread. Dropping it closes the queue and waits for the thread
/// to finish the writes already queued, so the database's connections are closed afterwards on
/// the dropping thread, one after another (see `db::connection`).
pub(super) struct Writer {
    queue: Sender<Box<dyn Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.queue, closed));
        if let Some(thread) = self.thread.take() {
            // A write's closure may hold the last handle on the database: then this runs on the
            // writer thread itself, which ends by itself once this write returns.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

impl Writer {
    /// Starts the writer thread on `conn` (shared only with in-memory reads, which lock it too).
    ///
    /// # Errors
    /// [`Error::Internal`] when the thread cannot be started.
    pub(super) fn start(conn: Arc<Mutex<Conn>>, clock: Clock) -> Result<Self> {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("pvelab-db-writer".into())
            .spawn(move || serve(&conn, &clock, &jobs))
            .map_err(|e| Error::internal(format!("cannot start the database writer: {e}")))?;
        Ok(Self {
            queue,
            thread: Some(thread),
        })
    }

    /// Queues `work` at once (in call order) and returns the receiver of its answer.
    pub(super) fn submit<T, F>(&self, work: F) -> oneshot::Receiver<Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        // The thread only stops when every sender is gone, so sending cannot fail while `self`
        // exists; if it ever did, `reply` is dropped with the job and the caller hears so.
        let _ = self.queue.send(Box::new(Pending { work, reply }));
        answer
    }
}

/// One queued write, with its answer channel.
trait Job: Send {
    /// The caller stopped waiting (its future was dropped) before the write ran.
    fn abandoned(&self) -> bool;
    /// Runs the write inside the current savepoint (catching a panic) and says whether to keep
    /// its changes; the answer is sent later, by [`Ran::deliver`].
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> Ran;
    /// Answers with `error` without running.
    fn fail(self: Box<Self>, error: Error);
}

/// A write that ran and awaits the fate of its transaction.
struct Ran {
    /// `Ok` from the write: release its savepoint. Otherwise roll back to it.
    kept: bool,
    /// Sends the answer, given how the commit went (a failed write ignores it: its own error is
    /// its answer).
    deliver: Box<dyn FnOnce(Result<()>) + Send>,
}

struct Pending<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run(self: Box<Self>, tx: &Transaction<'_>) -> Ran {
        let Pending { work, reply } = *self;
        // Unwind safety: whatever the write changed in the database is rolled back to its
        // savepoint below, and nothing else it touched outlives it.
        let result = catch_unwind(AssertUnwindSafe(|| work(tx))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            tracing::error!(panic = %what, "a database write panicked");
            Err(Error::internal(format!(
                "a database write panicked: {what}"
            )))
        });
        match result {
            Ok(value) => Ran {
                kept: true,
                deliver: Box::new(move |committed: Result<()>| {
                    let _ = reply.send(committed.map(|()| value));
                }),
            },
            Err(error) => Ran {
                kept: false,
                deliver: Box::new(move |_| {
                    let _ = reply.send(Err(error));
                }),
            },
        }
    }

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }
}

/// The writer thread: batches until the last sender is dropped.
fn serve(conn: &Mutex<Conn>, clock: &Clock, jobs: &Receiver<Box<dyn Job>>) {
    // Writes not yet run, oldest first (including those a broken batch left over).
    let mut waiting: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match jobs.recv() {
                Ok(job) => waiting.push_back(job),
                Err(mpsc::RecvError) => return,
            }
        }
        while waiting.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        let mut batch = Vec::with_capacity(MAX_BATCH.min(waiting.len()));
        while batch.len() < MAX_BATCH {
            match waiting.pop_front() {
                Some(job) if job.abandoned() => {}
                Some(job) => batch.push(job),
                None => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let left = run_batch(&mut lock(conn), clock, batch);
        for job in left.into_iter().rev() {
            waiting.push_front(job);
        }
    }
}

/// Runs `batch` in one IMMEDIATE transaction, one savepoint per write, commits once and answers
/// every write. Returns the writes that did not run because the batch broke.
fn run_batch(conn: &mut Connection, clock: &Clock, batch: Vec<Box<dyn Job>>) -> Vec<Box<dyn Job>> {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let reason = db_error(e).to_string();
            for job in batch {
                job.fail(Error::internal(&reason));
            }
            return Vec::new();
        }
    };
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(e) = statement(&tx, SAVEPOINT) {
            job.fail(db_error(e));
            return broken(tx, ran, jobs);
        }
        let outcome = time::with_now(clock.now(), || job.run(&tx));
        let closed = if outcome.kept {
            statement(&tx, RELEASE)
        } else {
            statement(&tx, ROLLBACK_TO).and_then(|()| statement(&tx, RELEASE))
        };
        ran.push(outcome);
        if closed.is_err() || tx.is_autocommit() {
            return broken(tx, ran, jobs);
        }
    }
    let committed = tx.commit().map_err(|e| db_error(e).to_string());
    for outcome in ran {
        (outcome.deliver)(committed.clone().map_err(Error::internal));
    }
    Vec::new()
}

/// The transaction ended inside a write, or a savepoint could not be set or closed: the writes
/// that ran cannot be told apart any more, so they all get an error and the transaction is rolled
/// back (if still open) when `tx` drops; the rest run in the next transaction.
fn broken(
    tx: Transaction<'_>,
    ran: Vec<Ran>,
    rest: impl Iterator<Item = Box<dyn Job>>,
) -> Vec<Box<dyn Job>> {
    drop(tx);
    tracing::error!(writes = ran.len(), "a database write batch broke off");
    for outcome in ran {
        (outcome.deliver)(Err(Error::internal(
            "the database transaction ended early, inside a write of its batch",
        )));
    }
    rest.collect()
}

fn statement(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
