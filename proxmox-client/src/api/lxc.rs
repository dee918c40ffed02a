use reqwest::Method;

use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{GuestConfig, GuestSummary, LxcInterface, ShutdownParams};
use crate::upid::Upid;

/// Calls under `/nodes/{node}/lxc/{vmid}`. Get one with [`crate::Node::lxc`].
#[derive(Debug, Clone)]
pub struct Lxc {
    pub(crate) client: Client,
    pub(crate) node: String,
    pub(crate) vmid: u32,
}

impl Lxc {
    /// The VMID.
    pub fn vmid(&self) -> u32 {
        self.vmid
    }

    fn at(&self, method: Method, tail: &[&str]) -> ApiRequest {
        ApiRequest::guest(method, &self.node, "lxc", self.vmid, tail)
    }

    /// `GET .../status/current`.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the container does not exist; any other error.
    pub async fn status(&self) -> Result<GuestSummary> {
        self.client
            .call(self.at(Method::GET, &["status", "current"]))
            .await
    }

    /// `GET .../config` (same flat map as for VMs; `rootfs`, `mp0`, `net0` parse too).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn config(&self) -> Result<GuestConfig> {
        self.client.call(self.at(Method::GET, &["config"])).await
    }

    /// `GET .../interfaces`: the container's interfaces and addresses.
    ///
    /// # Errors
    /// [`crate::Error::GuestNotRunning`] for a stopped container; any other [`crate::Error`].
    pub async fn interfaces(&self) -> Result<Vec<LxcInterface>> {
        self.client
            .call(self.at(Method::GET, &["interfaces"]))
            .await
    }

    /// `POST .../status/start`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn start(&self) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["status", "start"]))
            .await
    }

    /// `POST .../status/stop`: hard stop.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn stop(&self) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["status", "stop"]))
            .await
    }

    /// `POST .../status/shutdown`: clean shutdown.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn shutdown(&self, params: &ShutdownParams) -> Result<Upid> {
        self.client
            .call(
                self.at(Method::POST, &["status", "shutdown"])
                    .params(params)?,
            )
            .await
    }
}
