//! An append-only log that tests can wait on.
//!
//! Requests and gateway frames are pushed as they happen; a test waits for an entry matching a
//! predicate instead of sleeping. A watch channel carries the entry count, so a waiter that
//! checks the log and then awaits a change can never miss an entry pushed in between.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

/// What a wait that ran out of time saw: every entry, in order, one per line.
pub(crate) struct Missed {
    pub(crate) seen: Vec<String>,
}

/// The log itself: entries behind a mutex, their count on a watch channel.
pub(crate) struct Journal<T> {
    entries: Mutex<Vec<T>>,
    count: watch::Sender<usize>,
}

impl<T: Clone> Journal<T> {
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
        }
    }

    /// Appends an entry and wakes every waiter.
    pub(crate) fn push(&self, entry: T) {
        let len = {
            let mut entries = self.entries.lock().expect("journal lock poisoned");
            entries.push(entry);
            entries.len()
        };
        self.count.send_replace(len);
    }

    /// A copy of every entry so far.
    pub(crate) fn snapshot(&self) -> Vec<T> {
        self.entries.lock().expect("journal lock poisoned").clone()
    }

    /// The first entry (oldest first) that `matches`, waiting up to `timeout` for it to arrive.
    /// On timeout, returns every entry seen, rendered with `describe`.
    pub(crate) async fn wait_for(
        &self,
        timeout: Duration,
        matches: impl Fn(&T) -> bool,
        describe: impl Fn(&T) -> String,
    ) -> Result<T, Missed> {
        self.wait_until(
            timeout,
            |entries| entries.iter().find(|e| matches(e)).cloned(),
            describe,
        )
        .await
    }

    /// The first `count` entries that `matches`, once there are that many.
    pub(crate) async fn wait_for_count(
        &self,
        timeout: Duration,
        count: usize,
        matches: impl Fn(&T) -> bool,
        describe: impl Fn(&T) -> String,
    ) -> Result<Vec<T>, Missed> {
        self.wait_until(
            timeout,
            |entries| {
                let found: Vec<T> = entries
                    .iter()
                    .filter(|e| matches(e))
                    .take(count)
                    .cloned()
                    .collect();
                (found.len() == count).then_some(found)
            },
            describe,
        )
        .await
    }

    /// Waits until `check` finds what it looks for in the entries so far. `check` runs on a
    /// copy, outside the lock, so it may itself read the fake (and this journal).
    async fn wait_until<R>(
        &self,
        timeout: Duration,
        check: impl Fn(&[T]) -> Option<R>,
        describe: impl Fn(&T) -> String,
    ) -> Result<R, Missed> {
        let mut changes = self.count.subscribe();
        let search = async {
            loop {
                // Mark the current count as seen before searching, so a push after the search
                // makes `changed` return at once.
                changes.borrow_and_update();
                if let Some(found) = check(&self.snapshot()) {
                    return found;
                }
                if changes.changed().await.is_err() {
                    // The sender lives in `self`, so this cannot happen while we borrow it.
                    std::future::pending::<()>().await;
                }
            }
        };
        match tokio::time::timeout(timeout, search).await {
            Ok(found) => Ok(found),
            Err(_) => Err(Missed {
                seen: self.snapshot().iter().map(describe).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_waiter_sees_an_entry_pushed_after_it_started_waiting() {
        let journal = Arc::new(Journal::new());
        let pusher = Arc::clone(&journal);
        let waiter = tokio::spawn(async move {
            journal
                .wait_for(Duration::from_secs(5), |n: &u32| *n == 2, |n| n.to_string())
                .await
                .ok()
        });
        pusher.push(1);
        pusher.push(2);
        assert_eq!(waiter.await.unwrap(), Some(2));
    }

    #[tokio::test]
    async fn a_count_wait_returns_once_enough_entries_match() {
        let journal = Arc::new(Journal::new());
        let pusher = Arc::clone(&journal);
        let waiter = tokio::spawn(async move {
            journal
                .wait_for_count(
                    Duration::from_secs(5),
                    2,
                    |n: &u32| n % 2 == 0,
                    |n| n.to_string(),
                )
                .await
                .ok()
        });
        for n in 1..=5 {
            pusher.push(n);
        }
        assert_eq!(waiter.await.unwrap(), Some(vec![2, 4]));
    }

    #[tokio::test]
    async fn a_predicate_may_read_the_journal_it_waits_on() {
        let journal = Journal::new();
        journal.push(1u32);
        let found = journal
            .wait_for(
                Duration::from_secs(5),
                |_| journal.snapshot().len() == 1,
                |n| n.to_string(),
            )
            .await
            .ok();
        assert_eq!(found, Some(1));
    }

    #[tokio::test]
    async fn a_wait_that_times_out_lists_what_was_seen() {
        let journal = Journal::new();
        journal.push(7u32);
        let missed = journal
            .wait_for(Duration::from_millis(20), |n| *n == 8, |n| format!("n={n}"))
            .await
            .expect_err("8 never arrives");
        assert_eq!(missed.seen, vec!["n=7".to_string()]);
    }
}
