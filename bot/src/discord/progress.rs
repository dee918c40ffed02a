//! Progress of long work on Discord: one message (the deferred response) edited as the work
//! goes ("VMs ready: 17/40"), at most once per interval so a pool of 40 VMs does not spend 40
//! requests of the bot's rate limit. The newest update wins; updates in between are skipped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::respond::Responder;
use crate::commands::{Progress, ProgressSink};

/// The default interval between two edits.
pub const EDIT_EVERY: Duration = Duration::from_secs(1);

/// Hands updates to the task that edits the message; never blocks the work.
#[derive(Debug, Clone)]
struct Sender(mpsc::UnboundedSender<Progress>);

impl ProgressSink for Sender {
    fn report(&self, update: Progress) {
        // The editing task ends only when every sender is gone; a send cannot fail before.
        let _ = self.0.send(update);
    }
}

/// A sink whose updates edit the original response of `responder`, at most once per `every`,
/// and the task doing it. The task ends once every clone of the sink is dropped (the command
/// finished); await it before the final answer, so no late progress edit overwrites it.
pub fn progress_editor(
    responder: Responder,
    every: Duration,
) -> (Arc<dyn ProgressSink>, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(throttled(rx, every, move |text| {
        let responder = responder.clone();
        async move {
            if let Err(e) = responder.edit_text(&text).await {
                tracing::debug!("a progress edit failed (the work goes on): {e}");
            }
        }
    }));
    (Arc::new(Sender(tx)), task)
}

/// Calls `edit` with the newest update's text: at once for the first, then no sooner than
/// `every` after the previous edit. Returns when the channel closes; an update still waiting
/// then is dropped, since the command's answer replaces it.
pub async fn throttled<F, Fut>(
    mut updates: mpsc::UnboundedReceiver<Progress>,
    every: Duration,
    mut edit: F,
) where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut pending: Option<Progress> = None;
    let mut last_edit: Option<Instant> = None;
    loop {
        let due = pending
            .as_ref()
            .map(|_| last_edit.map_or_else(Instant::now, |at| at + every));
        tokio::select! {
            biased;
            update = updates.recv() => match update {
                Some(update) => pending = Some(update),
                None => return,
            },
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                if let Some(update) = pending.take() {
                    edit(update.to_string()).await;
                    last_edit = Some(Instant::now());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn edits_come_at_most_once_per_interval_with_the_newest_update() {
        let (tx, rx) = mpsc::unbounded_channel();
        let start = Instant::now();
        let edits: Arc<Mutex<Vec<(u128, String)>>> = Arc::default();
        let seen = Arc::clone(&edits);
        let task = tokio::spawn(throttled(rx, Duration::from_secs(1), move |text| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock()
                    .unwrap()
                    .push((start.elapsed().as_millis(), text));
            }
        }));
        for done in 1..=3 {
            tx.send(Progress::counted("VMs ready", done, 40)).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx.send(Progress::counted("VMs ready", 4, 40)).unwrap();
        tx.send(Progress::counted("VMs ready", 17, 40)).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tx.send(Progress::counted("VMs ready", 39, 40)).unwrap();
        drop(tx);
        task.await.unwrap();

        let edits = edits.lock().unwrap().clone();
        assert_eq!(
            edits,
            [
                (0, "VMs ready: 3/40".to_owned()),
                (1000, "VMs ready: 17/40".to_owned()),
            ],
            "the first edit at once, then one a second; 39/40 is still waiting when the work \
             ends and gives way to the answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_task_ends_when_the_work_ends() {
        let (tx, rx) = mpsc::unbounded_channel::<Progress>();
        let task = tokio::spawn(throttled(rx, EDIT_EVERY, |_| async {}));
        drop(tx);
        task.await.unwrap();
    }
}
