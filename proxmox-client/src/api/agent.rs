use reqwest::Method;

use crate::api::Qemu;
use crate::error::Result;
use crate::models::{AgentInterface, AgentResult};

impl Qemu {
    /// `GET .../agent/network-get-interfaces`: the guest's interfaces and addresses.
    ///
    /// While a VM boots this fails with [`crate::Error::Api`] "QEMU guest agent is not running";
    /// callers poll with backoff. It is not retried here because it is a real answer.
    ///
    /// # Errors
    /// [`crate::Error::Api`] when the agent is missing or not running, or the VM is stopped.
    pub async fn agent_network_interfaces(&self) -> Result<Vec<AgentInterface>> {
        let reply: AgentResult<Vec<AgentInterface>> = self
            .client
            .call(self.at(Method::GET, &["agent", "network-get-interfaces"]))
            .await?;
        Ok(reply.result)
    }
}
