use std::net::IpAddr;

use reqwest::Method;

use crate::api::Qemu;
use crate::error::{Error, Result};
use crate::models::{AgentInterface, AgentResult};
use crate::task::TaskWait;

impl Qemu {
    /// `GET .../agent/network-get-interfaces`: the guest's interfaces and addresses.
    ///
    /// While a VM boots this fails with [`crate::Error::AgentNotRunning`]; it is not retried
    /// here because it is a real answer. [`Qemu::wait_for_addresses`] polls until one comes.
    ///
    /// # Errors
    /// [`crate::Error::AgentNotRunning`] while the agent does not answer (transient);
    /// [`crate::Error::AgentNotConfigured`] when the VM has no agent and
    /// [`crate::Error::GuestNotRunning`] when it is stopped (both final until someone acts).
    pub async fn agent_network_interfaces(&self) -> Result<Vec<AgentInterface>> {
        let reply: AgentResult<Vec<AgentInterface>> = self
            .client
            .call(self.at(Method::GET, &["agent", "network-get-interfaces"]))
            .await?;
        Ok(reply.result)
    }
}

impl Qemu {
    /// Poll the guest agent until the VM reports an address a student can reach (not loopback,
    /// not link-local), backing off as `wait` says. For a VM that was just started.
    ///
    /// ```no_run
    /// # async fn demo(client: pvelab_proxmox::Client) -> pvelab_proxmox::Result<()> {
    /// let vm = client.node("pve1").qemu(101);
    /// let addrs = vm.wait_for_addresses(pvelab_proxmox::TaskWait::default()).await?;
    /// println!("ssh student@{}", addrs[0]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Timeout`] when no address appeared in time; other errors at once, without
    /// another poll: [`Error::AgentNotConfigured`], [`Error::GuestNotRunning`], a missing VM.
    pub async fn wait_for_addresses(&self, wait: TaskWait) -> Result<Vec<IpAddr>> {
        let deadline = tokio::time::Instant::now() + wait.timeout;
        let mut interval = wait.initial_interval;
        loop {
            match self.agent_network_interfaces().await {
                Ok(ifaces) => {
                    let addrs: Vec<IpAddr> =
                        ifaces.iter().flat_map(|i| i.reachable_addrs()).collect();
                    if !addrs.is_empty() {
                        return Ok(addrs);
                    }
                    // The agent runs but DHCP has not finished: keep polling.
                }
                Err(Error::AgentNotRunning { .. }) => {}
                Err(other) => return Err(other),
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    what: format!(
                        "VM {} on {} reported no address within {:?}",
                        self.vmid, self.node, wait.timeout
                    ),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval + interval / 2).min(wait.max_interval);
        }
    }
}
