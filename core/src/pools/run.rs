//! One class's work in progress: the lab, the cluster's client, the intent, the progress
//! reporter, and the helpers every step uses (retried calls, task waits, step records).

use std::future::Future;

use pvelab_proxmox::{Client, Qemu, Upid};

use super::config::PoolsConfig;
use super::facts::{Intent, SourceFacts};
use super::progress::Reporter;
use super::retry::{describe, is_transient, StepError};
use crate::error::Result;
use crate::lab::Lab;
use crate::store::pool::steps::{self, PoolVmState, StepChange};
use crate::store::pool::VmStep;
use crate::types::VmId;

/// The context of one class's work.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) lab: Lab,
    pub(crate) client: Client,
    pub(crate) intent: Intent,
    /// Where VMs are cloned from, or why they cannot be now.
    pub(crate) source: std::result::Result<SourceFacts, String>,
    pub(crate) report: Reporter,
}

impl Run {
    pub(crate) fn config(&self) -> &PoolsConfig {
        self.lab.pools().config()
    }

    /// The handler of VM `vmid` on `node`.
    pub(crate) fn qemu(&self, node: &str, vmid: u32) -> Qemu {
        self.client.node(node).qemu(vmid)
    }

    /// Runs a Proxmox call, trying again after transient failures (with growing, jittered
    /// pauses, each reported) up to `step_retries` times. The last error is returned as it is,
    /// so the caller can tell "exists" or "missing" apart.
    pub(crate) async fn call<T, F, Fut>(&self, vmid: VmId, mut call: F) -> pvelab_proxmox::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = pvelab_proxmox::Result<T>>,
    {
        let mut tries = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if is_transient(&e) && tries < self.config().step_retries => {
                    self.report.retrying(vmid, &describe(&e));
                    tokio::time::sleep(self.config().retry_delay(tries)).await;
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for a task to stop: `Ok` when it succeeded, the task's failure otherwise. Polls
    /// that fail transiently (an unreachable node) are retried like any call.
    pub(crate) async fn wait(&self, vmid: VmId, upid: &Upid) -> pvelab_proxmox::Result<()> {
        let mut tries = 0;
        loop {
            match self
                .client
                .wait_for_task_with(upid, super::client::task_wait(self.config()))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e @ pvelab_proxmox::Error::TaskFailed { .. }) => return Err(e),
                Err(e) if is_transient(&e) && tries < self.config().step_retries => {
                    self.report.retrying(vmid, &describe(&e));
                    tokio::time::sleep(self.config().retry_delay(tries)).await;
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Records VM `vmid` at `step` (one transaction).
    pub(crate) async fn record(
        &self,
        vmid: VmId,
        step: VmStep,
        task: Option<&str>,
        node: Option<&str>,
        mac: Option<&str>,
    ) -> Result<PoolVmState, StepError> {
        let class = self.intent.class;
        let (task, node, mac) = (
            task.map(str::to_owned),
            node.map(str::to_owned),
            mac.map(str::to_owned),
        );
        Ok(self
            .lab
            .db()
            .write(move |tx| {
                steps::set_step(
                    tx,
                    class,
                    vmid,
                    step,
                    &StepChange {
                        task: task.as_deref(),
                        node: node.as_deref(),
                        mac: mac.as_deref(),
                        keep_attempts: true,
                    },
                )
            })
            .await?)
    }

    /// The VM's record now.
    pub(crate) async fn state(&self, vmid: VmId) -> Result<PoolVmState, StepError> {
        let class = self.intent.class;
        Ok(self
            .lab
            .db()
            .read(move |tx| steps::state(tx, class, vmid))
            .await?)
    }
}

/// A Proxmox task id from the text the database keeps (`None` when it is not one).
pub(crate) fn upid(text: &str) -> Option<Upid> {
    text.parse().ok()
}
