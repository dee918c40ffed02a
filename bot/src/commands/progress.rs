//! Progress of long work (a pool growing by 40 VMs), reported while the command runs.
//!
//! The command layer only reports; each front end shows progress its own way: the console
//! prints a line per update, Discord edits one message ("17/40 VMs ready").

use tokio::sync::mpsc;

/// One progress update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What is happening (`cloning VMs`).
    pub message: String,
    /// Steps done and steps in all, when the work is countable.
    pub count: Option<(u32, u32)>,
}

impl Progress {
    /// An update without a count.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            count: None,
        }
    }

    /// An update with `done` of `total` steps.
    pub fn counted(message: impl Into<String>, done: u32, total: u32) -> Self {
        Self {
            message: message.into(),
            count: Some((done, total)),
        }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.count {
            Some((done, total)) => write!(f, "{}: {done}/{total}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Where a command reports progress. Reporting never blocks and never fails: a front end that
/// cannot show an update (a Discord edit that failed) drops it, and the work goes on.
pub trait ProgressSink: Send + Sync {
    /// Shows one update.
    fn report(&self, update: Progress);
}

/// Drops every update (for calls nobody watches).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _update: Progress) {}
}

/// Sends updates over a channel to whoever shows them (the console's printer, a Discord task
/// that edits a message). A closed receiver just drops updates.
#[derive(Debug, Clone)]
pub struct ChannelProgress(mpsc::UnboundedSender<Progress>);

impl ChannelProgress {
    /// A sink and the receiver of its updates.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Progress>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }
}

impl ProgressSink for ChannelProgress {
    fn report(&self, update: Progress) {
        let _ = self.0.send(update);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_update_shows_done_of_total() {
        assert_eq!(
            Progress::counted("VMs ready", 17, 40).to_string(),
            "VMs ready: 17/40"
        );
        assert_eq!(Progress::message("starting").to_string(), "starting");
    }

    #[test]
    fn channel_updates_arrive_in_order_and_a_closed_channel_is_harmless() {
        let (sink, mut rx) = ChannelProgress::new();
        sink.report(Progress::counted("VMs ready", 1, 2));
        sink.report(Progress::counted("VMs ready", 2, 2));
        assert_eq!(rx.try_recv().unwrap().count, Some((1, 2)));
        assert_eq!(rx.try_recv().unwrap().count, Some((2, 2)));
        drop(rx);
        sink.report(Progress::message("nobody listens"));
    }
}
