//! The SQLite layer: connections, migrations, identifiers and stored time.
//!
//! # Why one writer thread plus a reader pool
//! SQLite allows one writer at a time per database file whatever we do, so every write of this
//! process goes to ONE thread that owns the writer connection ([`writer`]): writes queue on a
//! channel in call order instead of spinning in SQLite's busy handler, which sleeps in growing
//! steps and would turn a burst of 500 joins into a burst of sleeps. The thread commits the writes
//! it finds queued together, each in its own savepoint (group commit: one commit for many joins,
//! and one join's failure never undoes another's). Reads use a small pool of extra connections on
//! tokio's blocking pool: in WAL mode they run beside the writer and see committed data. Other
//! processes (or other [`Db`] values) on the same file are still safe: every batch is an
//! IMMEDIATE transaction and the busy timeout makes them wait for each other; correctness never
//! depends on the queue (the concurrency tests open several `Lab`s on one file to prove it).
//!
//! The async runtime is never blocked: a write is a message to the writer thread and an await on
//! its answer, a read runs on the blocking pool (`spawn_blocking`) after an async permit (one per
//! core, at most four, first come first served, so a burst of reads queues as cheap futures
//! rather than parked threads), and no mutex guard lives across an `.await`. An in-memory database is a single
//! connection (each `:memory:` connection would be a separate database), used for reads and
//! writes alike: reads lock it between the writer's batches.

mod connection;
pub(crate) mod migrate;
pub(crate) mod schema;
pub(crate) mod time;
mod writer;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

use self::connection::Conn;
use self::writer::Writer;

use crate::clock::Clock;
use crate::error::{DbResultExt, Error, Result};

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most reader connections, whatever the machine: reads are short, and a school's lab server
/// has few cores.
const MAX_READERS: usize = 4;
/// Each reader connection's page cache, in KiB (SQLite's default is 2 MiB). Readers make short
/// indexed lookups whose pages the operating system caches anyway; a smaller cache per reader
/// keeps a burst of reads over a large inventory from holding megabytes per connection.
const READER_CACHE_KIB: i64 = 1024;

/// How many reads run at once, each on its own connection: one per core, at most
/// [`MAX_READERS`]. A read is CPU work on cached pages, so more readers than cores only queue,
/// and each would hold its own page cache (and, with glibc, a thread's allocation arena): a
/// class typing `/myvm` at once cost megabytes more with four readers on two cores than with two,
/// for no more answers per second.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_READERS))
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// The writer thread's queue.
    writer: Writer,
    /// As many permits as reads may run at once ([`reader_count`]).
    read_gate: Semaphore,
    /// The writer connection; only the writer thread and, for an in-memory database, reads use
    /// it.
    connection: Arc<Mutex<Conn>>,
    /// "Now" of every transaction.
    clock: Clock,
    /// `None` for an in-memory database: everything uses the writer connection.
    readers: Option<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Conn>>,
    /// Idle connections kept open: as many as reads may run at once.
    keep: usize,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field(
                "path",
                &self
                    .inner
                    .readers
                    .as_ref()
                    .map(|r| r.path.display().to_string()),
            )
            .finish_non_exhaustive()
    }
}

/// Takes a mutex even if a panicking thread poisoned it: the protected value is a connection
/// whose open transaction was rolled back when the panic dropped it, so it is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.pragma_update(None, "foreign_keys", true).db()?;
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL; only an
    // OS crash or power loss may lose the last commits (never corrupt the file).
    conn.pragma_update(None, "synchronous", "NORMAL").db()?;
    conn.set_prepared_statement_cache_capacity(64);
    // Query plans never depend on bound values. Otherwise SQLite prepares a cached statement
    // again whenever a value it peeked at is bound anew: every `LIMIT ?` (the query builder binds
    // limits) and every comparison it matched against a partial index's WHERE. That was half
    // the time of a join. Queries that need a partial index spell its constants as literals.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .db()?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    ///
    /// Blocking: call from a blocking thread.
    ///
    /// # Errors
    /// [`Error::Internal`] when the file cannot be opened or migrated, [`Error::SchemaTooNew`]
    /// when a newer pvelab wrote it.
    pub(crate) fn open_file_blocking(path: &Path, clock: Clock) -> Result<Self> {
        let mut writer = Conn::open(|| Connection::open(path)).map_err(|e| {
            Error::internal(format!("cannot open the database {}: {e}", path.display()))
        })?;
        configure(&writer)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .db()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::internal(format!(
                "the database {} cannot use write-ahead logging (journal mode is {mode})",
                path.display()
            )));
        }
        time::with_now(clock.now(), || migrate::run(&mut writer))?;
        Self::start(
            writer,
            clock,
            Some(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                keep: reader_count(),
            }),
        )
    }

    /// A fresh, migrated in-memory database (for tests and demos).
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub(crate) fn open_memory_blocking(clock: Clock) -> Result<Self> {
        let mut conn = Conn::open(Connection::open_in_memory).db()?;
        configure(&conn)?;
        time::with_now(clock.now(), || migrate::run(&mut conn))?;
        Self::start(conn, clock, None)
    }

    /// Hands the migrated writer connection to a new writer thread.
    fn start(conn: Conn, clock: Clock, readers: Option<Readers>) -> Result<Self> {
        let connection = Arc::new(Mutex::new(conn));
        let readers_allowed = reader_count();
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Writer::start(Arc::clone(&connection), clock.clone())?,
                read_gate: Semaphore::new(readers_allowed),
                connection,
                clock,
                readers,
            }),
        })
    }

    /// Runs `work` on the writer thread inside an IMMEDIATE transaction, possibly shared with
    /// other writes queued at the same time ([`writer`]), and answers once that transaction
    /// committed. `work` returning `Err` (or panicking) undoes its own changes only; if the commit
    /// fails, the answer is that error.
    ///
    /// The write is queued when this is CALLED (writes run in call order), not when the future
    /// is first polled; dropping the future before the write ran withdraws it.
    ///
    /// IMMEDIATE takes the write lock at BEGIN, so a read-then-write inside `work` can never be
    /// invalidated by another writer in between (no "deferred upgrade" deadlocks either), and the
    /// writes before it in the same transaction are exactly those that came before it.
    ///
    /// # Errors
    /// Whatever `work` returns, or [`Error::Internal`].
    pub(crate) fn write<T, F>(&self, work: F) -> impl Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let answer = self.inner.writer.submit(work);
        async move {
            answer
                .await
                .map_err(|_| Error::internal("the database writer stopped"))?
        }
    }

    /// Runs `work` in a read transaction (one consistent snapshot) on a blocking thread.
    ///
    /// # Errors
    /// Whatever `work` returns, or [`Error::Internal`].
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let _turn = self.inner.read_gate.acquire().await.map_err(closed)?;
        let inner = Arc::clone(&self.inner);
        let now = inner.clock.now();
        run_blocking(move || match &inner.readers {
            None => {
                let mut conn = lock(&inner.connection);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Deferred)
                    .db()?;
                time::with_now(now, || work(&tx))
            }
            Some(readers) => {
                let mut conn = match lock(&readers.idle).pop() {
                    Some(conn) => conn,
                    None => open_reader(&readers.path)?,
                };
                let result = {
                    let tx = conn
                        .transaction_with_behavior(TransactionBehavior::Deferred)
                        .db()?;
                    time::with_now(now, || work(&tx))
                };
                let mut idle = lock(&readers.idle);
                if idle.len() < readers.keep {
                    idle.push(conn);
                }
                result
            }
        })
        .await
    }
}

/// The read gate is never closed; this only turns the impossible case into an error.
fn closed(_: tokio::sync::AcquireError) -> Error {
    Error::internal("the database is shutting down")
}

fn open_reader(path: &Path) -> Result<Conn> {
    let conn = Conn::open(|| {
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
    })
    .db()?;
    configure(&conn)?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)
        .db()?;
    Ok(conn)
}

/// Runs blocking work on tokio's blocking pool and turns a panic in it into an error instead of
/// taking the caller down.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("a database task failed: {e}")))?
}
