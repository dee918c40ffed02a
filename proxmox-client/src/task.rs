//! Waiting for a task: poll the node named in the UPID with backoff until it stops.

use std::time::Duration;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{ExitStatus, TaskStatus};
use crate::upid::Upid;

/// Number of log lines kept in [`Error::TaskFailed`].
const LOG_TAIL_LINES: u64 = 20;

/// How [`Client::wait_for_task`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskWait {
    /// First delay between polls.
    pub initial_interval: Duration,
    /// Longest delay between polls (the delay grows by half each poll up to this).
    pub max_interval: Duration,
    /// Give up after this long with [`Error::Timeout`] (the task keeps running on the server).
    pub timeout: Duration,
}

impl Default for TaskWait {
    fn default() -> Self {
        TaskWait {
            initial_interval: Duration::from_millis(500),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl Client {
    /// Wait until the task stops, with the client's default [`TaskWait`].
    ///
    /// Returns the final status; "OK" and "WARNINGS: N" are success.
    ///
    /// ```no_run
    /// # async fn demo(client: pvelab_proxmox::Client) -> pvelab_proxmox::Result<()> {
    /// let upid = client.node("pve1").qemu(101).start().await?;
    /// let done = client.wait_for_task(&upid).await?;
    /// println!("{}", done.exitstatus.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::TaskFailed`] with the exit status and the log's last lines when the task failed;
    /// [`Error::Timeout`] when it still runs after the timeout; errors of the status call.
    pub async fn wait_for_task(&self, upid: &Upid) -> Result<TaskStatus> {
        self.wait_for_task_with(upid, self.inner.task_wait).await
    }

    /// Wait until the task stops, polling as `wait` says.
    ///
    /// # Errors
    /// As [`Client::wait_for_task`].
    pub async fn wait_for_task_with(&self, upid: &Upid, wait: TaskWait) -> Result<TaskStatus> {
        let task = self.task(upid);
        let deadline = tokio::time::Instant::now() + wait.timeout;
        let mut interval = wait.initial_interval;
        loop {
            let status = task.status().await?;
            match status.exit() {
                Some(ExitStatus::Ok) | Some(ExitStatus::Warnings(_)) => return Ok(status),
                Some(ExitStatus::Failed(exit_status)) => {
                    let log_tail = self.log_tail(upid).await;
                    return Err(Error::TaskFailed {
                        upid: Box::new(upid.clone()),
                        exit_status,
                        log_tail,
                    });
                }
                None => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    what: format!("task {upid} still running after {:?}", wait.timeout),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval + interval / 2).min(wait.max_interval);
        }
    }

    /// The last lines of a task log; empty when the log cannot be read (the exit status
    /// already says what failed, so a log error must not hide it).
    async fn log_tail(&self, upid: &Upid) -> Vec<String> {
        let task = self.task(upid);
        let Ok((first, total)) = task.log(0, 50).await else {
            return Vec::new();
        };
        let lines = match total {
            Some(total) if total > 50 => {
                match task.log(total - LOG_TAIL_LINES, LOG_TAIL_LINES).await {
                    Ok((tail, _)) => tail,
                    Err(_) => first,
                }
            }
            _ => first,
        };
        let skip = lines.len().saturating_sub(LOG_TAIL_LINES as usize);
        lines.into_iter().skip(skip).map(|l| l.t).collect()
    }
}
