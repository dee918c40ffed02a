//! Commands inside a VM through the QEMU guest agent: start one, poll it, run one to its end,
//! and list who is logged in. The agent errors of `network-get-interfaces` apply here too.

use reqwest::Method;

use crate::api::Qemu;
use crate::error::{Error, Result};
use crate::models::{AgentExecStatus, AgentResult, AgentUser, ExecParams, ExecStarted};
use crate::task::TaskWait;

impl Qemu {
    /// `POST .../agent/exec`: start `params.command` in the guest (as the agent's user, root
    /// on Linux) and return the guest's process id. Not retried: a second start would run the
    /// command twice.
    ///
    /// ```no_run
    /// # async fn demo(client: pvelab_proxmox::Client) -> pvelab_proxmox::Result<()> {
    /// use pvelab_proxmox::ExecParams;
    /// let vm = client.node("pve1").qemu(101);
    /// let pid = vm.agent_exec(&ExecParams::new(["systemctl", "is-active", "nginx"])).await?;
    /// let status = vm.agent_exec_status(pid).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty command or too much input data (before sending);
    /// [`Error::AgentNotRunning`] while the VM boots; [`Error::AgentNotConfigured`];
    /// [`Error::GuestNotRunning`]; [`Error::AgentCommand`] when the agent cannot start the
    /// program (e.g. it does not exist in the guest).
    pub async fn agent_exec(&self, params: &ExecParams) -> Result<u64> {
        params.validate()?;
        let started: ExecStarted = self
            .client
            .call(self.at(Method::POST, &["agent", "exec"]).params(params)?)
            .await?;
        Ok(started.pid)
    }

    /// `GET .../agent/exec-status?pid=N`: whether process `pid` has ended, its exit code and
    /// output. Once it has reported the end, the agent forgets the process.
    ///
    /// # Errors
    /// [`Error::NotFound`] ("Agent error: Invalid parameter 'pid'") for a process the agent
    /// does not know (never started, already reported, or the VM restarted); the agent errors
    /// of [`Qemu::agent_exec`].
    pub async fn agent_exec_status(&self, pid: u64) -> Result<AgentExecStatus> {
        #[derive(serde::Serialize)]
        struct Q {
            pid: u64,
        }
        self.client
            .call(
                self.at(Method::GET, &["agent", "exec-status"])
                    .params(&Q { pid })?,
            )
            .await
    }

    /// Start `params.command` and poll until it has ended, backing off as `wait` says; the
    /// answer has its exit code and output (check [`AgentExecStatus::succeeded`]). A
    /// command that fails in the guest is a normal answer, not an error.
    ///
    /// ```no_run
    /// # async fn demo(client: pvelab_proxmox::Client) -> pvelab_proxmox::Result<()> {
    /// use pvelab_proxmox::{ExecParams, TaskWait};
    /// let vm = client.node("pve1").qemu(101);
    /// let done = vm
    ///     .agent_run(&ExecParams::new(["systemctl", "is-active", "nginx"]), TaskWait::default())
    ///     .await?;
    /// let nginx_up = done.succeeded() && done.stdout().trim() == "active";
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Timeout`] naming the command and its pid when it is still running at the
    /// deadline (the process keeps running in the guest); the errors of
    /// [`Qemu::agent_exec`] and [`Qemu::agent_exec_status`], at once.
    pub async fn agent_run(&self, params: &ExecParams, wait: TaskWait) -> Result<AgentExecStatus> {
        let deadline = tokio::time::Instant::now() + wait.timeout;
        let pid = self.agent_exec(params).await?;
        let mut interval = wait.initial_interval;
        loop {
            let status = self.agent_exec_status(pid).await?;
            if status.exited {
                return Ok(status);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    what: format!(
                        "command {:?} (pid {pid}) in VM {} on {} still running after {:?}",
                        params.command, self.vmid, self.node, wait.timeout
                    ),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval + interval / 2).min(wait.max_interval);
        }
    }

    /// `GET .../agent/get-users`: the users logged in to the guest.
    ///
    /// # Errors
    /// The agent errors of [`Qemu::agent_exec`].
    pub async fn agent_get_users(&self) -> Result<Vec<AgentUser>> {
        let reply: AgentResult<Vec<AgentUser>> = self
            .client
            .call(self.at(Method::GET, &["agent", "get-users"]))
            .await?;
        Ok(reply.result)
    }
}
