//! Group commit on a real database file. Each test first occupies the writer thread with a write
//! that waits for the test's signal, queues the writes under test behind it, then lets it go: the
//! queued writes are then certain to run as one batch, with no timing involved.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Waker};

use rusqlite::{Connection, Transaction};
use tempfile::TempDir;
use tokio::sync::oneshot;

use super::MAX_BATCH;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{DbResultExt, Error, Result};

struct Fixture {
    _dir: TempDir,
    path: PathBuf,
    db: Db,
}

/// A fresh database file with a table `t (v)`.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("writer.db");
    let db = Db::open_file_blocking(&path, Clock::system()).expect("open");
    db.write(|tx| {
        tx.execute_batch(
            "CREATE TABLE t (v INTEGER NOT NULL);
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id));",
        )
        .db()
    })
    .await
    .expect("tables");
    Fixture {
        _dir: dir,
        path,
        db,
    }
}

/// The writer thread is busy until the returned sender sends (or drops); returns once the
/// occupying write runs, with its answer.
async fn occupy(db: &Db) -> (mpsc::Sender<()>, impl Future<Output = Result<()>>) {
    let (started, running) = oneshot::channel();
    let (release, released) = mpsc::channel::<()>();
    let answer = db.write(move |_| {
        let _ = started.send(());
        let _ = released.recv();
        Ok(())
    });
    running.await.expect("the occupying write runs");
    (release, answer)
}

fn insert(tx: &Transaction<'_>, v: i64) -> Result<()> {
    tx.execute("INSERT INTO t (v) VALUES (?1)", [v])
        .db()
        .map(drop)
}

/// The values of `t` as another connection sees them: committed data only.
fn committed(path: &Path) -> Vec<i64> {
    let conn =
        crate::db::connection::Conn::open(|| Connection::open(path)).expect("another connection");
    let mut select = conn.prepare("SELECT v FROM t ORDER BY v").expect("prepare");
    let rows = select.query_map([], |row| row.get(0)).expect("query");
    rows.collect::<rusqlite::Result<_>>().expect("rows")
}

/// Whether a future has an answer right now, without waiting.
fn answered<F: Future>(future: std::pin::Pin<&mut F>) -> bool {
    future
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready()
}

#[tokio::test]
async fn a_failing_write_undoes_only_itself_and_the_batch_commits_the_others() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let first = f.db.write(|tx| insert(tx, 1));
    let failing = f.db.write(|tx| {
        insert(tx, 2)?;
        Err::<(), _>(Error::NoFreeVm)
    });
    let path = f.path.clone();
    let third = f.db.write(move |tx| {
        insert(tx, 3)?;
        let inside: i64 = tx
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .db()?;
        // Nothing of this batch is committed yet: the three writes share one transaction.
        Ok((inside, committed(&path).len()))
    });
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    first.await.expect("the write before the failing one");
    assert!(matches!(failing.await, Err(Error::NoFreeVm)));
    let (inside, outside) = third.await.expect("the write after the failing one");
    assert_eq!(
        inside, 2,
        "the failing write's row is gone inside the batch"
    );
    assert_eq!(outside, 0, "the batch was one transaction");
    assert_eq!(committed(&f.path), [1, 3]);
}

#[tokio::test]
async fn a_panicking_write_gets_an_internal_error_and_the_writer_goes_on() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let first = f.db.write(|tx| insert(tx, 1));
    let panicking = f.db.write(|tx| -> Result<()> {
        insert(tx, 2)?;
        panic!("a bug in a write");
    });
    let third = f.db.write(|tx| insert(tx, 3));
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    first.await.expect("the write before the panicking one");
    match panicking.await {
        Err(Error::Internal { reason }) => assert!(reason.contains("a bug in a write"), "{reason}"),
        other => panic!("expected an internal error, got {other:?}"),
    }
    third.await.expect("the write after the panicking one");
    f.db.write(|tx| insert(tx, 4)).await.expect("a later write");
    assert_eq!(committed(&f.path), [1, 3, 4]);
}

#[tokio::test]
async fn a_failed_commit_fails_every_write_of_the_batch() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let innocent = f.db.write(|tx| insert(tx, 1));
    // A deferred foreign key violation passes every statement and fails only at COMMIT.
    let dangling = f.db.write(|tx| {
        tx.execute_batch(
            "PRAGMA defer_foreign_keys = ON; INSERT INTO child (parent_id) VALUES (99);",
        )
        .db()
    });
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    for answer in [innocent.await, dangling.await] {
        assert!(
            matches!(answer, Err(Error::Internal { ref reason }) if reason.contains("FOREIGN KEY")),
            "{answer:?}"
        );
    }
    assert_eq!(committed(&f.path), Vec::<i64>::new());
    f.db.write(|tx| insert(tx, 2)).await.expect("a later write");
    assert_eq!(committed(&f.path), [2]);
}

#[tokio::test]
async fn an_answer_arrives_only_after_its_batch_committed() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let mut first = pin!(f.db.write(|tx| insert(tx, 1)));
    let (second_started, second_running) = oneshot::channel();
    let (release_second, second_released) = mpsc::channel::<()>();
    let second = f.db.write(move |tx| {
        insert(tx, 2)?;
        let _ = second_started.send(());
        let _ = second_released.recv();
        Ok(())
    });
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    second_running.await.expect("the second write runs");
    assert!(
        !answered(first.as_mut()),
        "the first write ran, but its batch has not committed"
    );
    release_second.send(()).expect("release the second write");
    first.await.expect("the first write");
    assert_eq!(committed(&f.path), [1, 2], "answered means committed");
    second.await.expect("the second write");
}

#[tokio::test]
async fn a_write_ending_the_transaction_breaks_the_batch_and_the_rest_runs_after() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let before = f.db.write(|tx| insert(tx, 1));
    let rogue = f.db.write(|tx| tx.execute_batch("ROLLBACK").db());
    let after = f.db.write(|tx| insert(tx, 3));
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    assert!(matches!(before.await, Err(Error::Internal { .. })));
    assert!(matches!(rogue.await, Err(Error::Internal { .. })));
    after.await.expect("the write after the broken batch");
    assert_eq!(committed(&f.path), [3]);
}

#[tokio::test]
async fn a_write_withdrawn_before_it_ran_never_runs() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    drop(f.db.write(|tx| insert(tx, 1)));
    let kept = f.db.write(|tx| insert(tx, 2));
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");
    kept.await.expect("the kept write");
    assert_eq!(committed(&f.path), [2]);
}

#[tokio::test]
async fn queued_writes_beyond_one_batch_run_in_order_in_bounded_batches() {
    let f = fixture().await;
    let (release, occupied) = occupy(&f.db).await;
    let total = 2 * MAX_BATCH + 10;
    let path = f.path.clone();
    let writes: Vec<_> = (0..total)
        .map(|i| {
            let path = path.clone();
            f.db.write(move |tx| {
                let v = i64::try_from(i).expect("small");
                insert(tx, v)?;
                // What is committed when this write runs tells its batch apart.
                Ok(committed(&path).len())
            })
        })
        .collect();
    release.send(()).expect("release");
    occupied.await.expect("the occupying write");

    let mut batches: Vec<(usize, usize)> = Vec::new();
    for write in writes {
        let seen = write.await.expect("write");
        match batches.last_mut() {
            Some((last, size)) if *last == seen => *size += 1,
            _ => batches.push((seen, 1)),
        }
    }
    let sizes: Vec<usize> = batches.iter().map(|(_, size)| *size).collect();
    assert_eq!(sizes, [MAX_BATCH, MAX_BATCH, 10], "batches {batches:?}");
    let expected: Vec<i64> = (0..i64::try_from(total).expect("small")).collect();
    assert_eq!(committed(&f.path), expected);
}
