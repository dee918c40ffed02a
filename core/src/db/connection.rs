//! SQLite connections whose closes never run at the same time in this process.
//!
//! SQLite's unix VFS (3.51, as bundled) takes its two mutexes in opposite orders in two places:
//! `unixClose` holds the VFS's global mutex and then waits for the file's lock mutex, while the
//! exclusive lock that a closing WAL connection takes (to checkpoint and remove the WAL) holds
//! the file's lock mutex and then waits for the global one (`unixIsSharingShmNode`). Two
//! connections to one file closing at the same moment on two threads can therefore wait for
//! each other forever. A lab has several connections to its file (the writer thread's and the
//! readers'), closed on different threads when it is dropped, and a process may hold several
//! labs on one file; four threads opening and closing plain connections to one WAL file
//! deadlocked within seconds, every time, in the test of this module.
//!
//! Opening a file has the same inverted pair: it looks for a reusable file descriptor holding
//! the global mutex, then the file's. So every connection the core opens is a [`Conn`], opened
//! and closed while holding one process-wide lock: opens and closes take turns, and neither
//! ever meets a close. Reading and writing take no such lock. A lab also waits for its writer
//! thread when it is dropped (`db::writer`), so its connections close on one thread.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;

/// Held while a connection opens or closes.
static CLOSING: Mutex<()> = Mutex::new(());

/// A SQLite connection closed in turn with every other [`Conn`] of the process.
pub(crate) struct Conn {
    /// `Some` until the connection is closed in `drop`.
    open: Option<Connection>,
}

impl Conn {
    /// Opens a connection with `open`, in turn with every other open and close of the process:
    /// opening a file looks for a reusable descriptor under the same two mutexes, in the order
    /// that waits on a closing connection (`findReusableFd`).
    pub(crate) fn open(
        open: impl FnOnce() -> rusqlite::Result<Connection>,
    ) -> rusqlite::Result<Self> {
        let _turn = CLOSING.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Self {
            open: Some(open()?),
        })
    }
}

impl Deref for Conn {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.open
            .as_ref()
            .expect("a connection is open until dropped")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Connection {
        self.open
            .as_mut()
            .expect("a connection is open until dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(connection) = self.open.take() {
            let _turn = CLOSING.lock().unwrap_or_else(PoisonError::into_inner);
            // An error here means statements were still open; SQLite then closes the
            // connection once they are finalised, which rusqlite does as it drops them.
            let _ = connection.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use rusqlite::Connection;

    use super::Conn;

    const THREADS: usize = 4;
    const ROUNDS: usize = 2000;

    /// With plain `rusqlite::Connection`s in place of `Conn`, this deadlocks within seconds on
    /// every run (all four threads stuck in `unixClose` / `unixIsSharingShmNode`).
    #[test]
    fn connections_to_one_file_closing_on_many_threads_never_deadlock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("close.db");
        {
            let setup = Conn::open(|| Connection::open(&path)).expect("open");
            setup
                .pragma_update(None, "journal_mode", "WAL")
                .expect("WAL");
            setup.execute_batch("CREATE TABLE t (v)").expect("a table");
        }
        let (done, finished) = mpsc::channel();
        for _ in 0..THREADS {
            let path = path.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let conn = Conn::open(|| Connection::open(&path)).expect("open");
                    conn.execute_batch("SELECT * FROM t").expect("a read");
                }
                let _ = done.send(());
            });
        }
        drop(done);
        for finished_threads in 0..THREADS {
            finished
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| {
                    panic!(
                        "only {finished_threads} of {THREADS} threads finished opening and \
                         closing {ROUNDS} connections within 120 s: closes deadlocked"
                    )
                });
        }
    }
}
