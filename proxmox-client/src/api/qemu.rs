use reqwest::Method;

use crate::client::{ApiRequest, Client};
use crate::error::{Error, Result};
use crate::models::{
    CloneParams, ConfigUpdate, DeleteParams, GuestConfig, GuestSummary, RrdCf, RrdPoint,
    RrdTimeframe, ShutdownParams,
};
use crate::upid::Upid;

/// Calls under `/nodes/{node}/qemu/{vmid}`. Get one with [`crate::Node::qemu`].
///
/// Calls that start a task return its [`Upid`]; pass it to [`Client::wait_for_task`]. Errors
/// such as "VM 100 already running" arrive as the task's exit status, not here.
#[derive(Debug, Clone)]
pub struct Qemu {
    pub(crate) client: Client,
    pub(crate) node: String,
    pub(crate) vmid: u32,
}

impl Qemu {
    /// The VMID.
    pub fn vmid(&self) -> u32 {
        self.vmid
    }
    /// The node.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn at(&self, method: Method, tail: &[&str]) -> ApiRequest {
        ApiRequest::guest(method, &self.node, "qemu", self.vmid, tail)
    }

    /// `GET .../status/current`: run state, load, lock, agent flag.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the VM does not exist on this node; any other [`Error`].
    pub async fn status(&self) -> Result<GuestSummary> {
        self.client
            .call(self.at(Method::GET, &["status", "current"]))
            .await
    }

    /// `GET .../config`: the current configuration (with its `digest`).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the VM does not exist; any other [`Error`].
    pub async fn config(&self) -> Result<GuestConfig> {
        self.client.call(self.at(Method::GET, &["config"])).await
    }

    /// `PUT .../config`: change the configuration synchronously.
    ///
    /// # Errors
    /// [`Error::Locked`] while a task holds the VM, [`Error::Api`] for a digest mismatch
    /// ("detected modified configuration"), [`Error::Parameter`] for invalid values.
    pub async fn update_config(&self, update: &ConfigUpdate) -> Result<()> {
        let _: serde_json::Value = self
            .client
            .call(self.at(Method::PUT, &["config"]).params(update)?)
            .await?;
        Ok(())
    }

    /// `POST .../config`: change the configuration in a task when needed (e.g. disk
    /// allocation); returns its UPID, or `None` when the change was applied at once.
    ///
    /// # Errors
    /// As [`Qemu::update_config`].
    pub async fn update_config_async(&self, update: &ConfigUpdate) -> Result<Option<Upid>> {
        self.client
            .call(self.at(Method::POST, &["config"]).params(update)?)
            .await
    }

    /// `POST .../clone`: clone this VM (usually a template) into `params.newid`.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] when the new VMID is taken (pick another, see
    /// [`Client::with_free_vmid`]), [`Error::Locked`], [`Error::LockTimeout`] (after retries),
    /// [`Error::Api`] for "parameter 'storage' not allowed for linked clones" and the like.
    pub async fn clone_vm(&self, params: &CloneParams) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["clone"]).params(params)?)
            .await
    }

    async fn power(&self, action: &str) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["status", action]))
            .await
    }

    /// `POST .../status/start`.
    ///
    /// # Errors
    /// Any [`Error`]; "already running" shows up as the task's exit status.
    pub async fn start(&self) -> Result<Upid> {
        self.power("start").await
    }

    /// `POST .../status/stop`: hard power-off.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn stop(&self) -> Result<Upid> {
        self.power("stop").await
    }

    /// `POST .../status/shutdown`: ask the guest to power off (ACPI or agent).
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn shutdown(&self, params: &ShutdownParams) -> Result<Upid> {
        self.client
            .call(
                self.at(Method::POST, &["status", "shutdown"])
                    .params(params)?,
            )
            .await
    }

    /// `POST .../status/reboot`: ask the guest to reboot.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn reboot(&self) -> Result<Upid> {
        self.power("reboot").await
    }

    /// `POST .../status/reset`: hard reset.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn reset(&self) -> Result<Upid> {
        self.power("reset").await
    }

    /// `DELETE /nodes/{node}/qemu/{vmid}` with the parameters in the query string (PVE answers
    /// 501 to a DELETE with a body).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing VM; [`Error::Api`] for "VM N is running - destroy
    /// failed" or protection mode.
    pub async fn delete(&self, params: &DeleteParams) -> Result<Upid> {
        self.client
            .call(self.at(Method::DELETE, &[]).params(params)?)
            .await
    }

    /// `POST .../template`: turn this stopped VM (without snapshots) into a template.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn convert_to_template(&self) -> Result<Option<Upid>> {
        self.client.call(self.at(Method::POST, &["template"])).await
    }

    /// `PUT .../resize`: grow `disk` (`scsi0`) to `size` (`32G`) or by `+size` (`+8G`).
    /// PVE 9 returns a UPID; older versions resized synchronously (`None`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed size (checked before sending); any [`Error`].
    pub async fn resize_disk(&self, disk: &str, size: &str) -> Result<Option<Upid>> {
        let digits = size.strip_prefix('+').unwrap_or(size);
        let number = digits.trim_end_matches(['K', 'M', 'G', 'T']);
        if number.is_empty() || number.parse::<f64>().is_err() || digits.len() - number.len() > 1 {
            return Err(Error::InvalidInput(format!(
                "disk size {size:?} is not valid; expected e.g. 32G or +8G (units K, M, G, T)"
            )));
        }
        #[derive(serde::Serialize)]
        struct P<'a> {
            disk: &'a str,
            size: &'a str,
        }
        self.client
            .call(
                self.at(Method::PUT, &["resize"])
                    .params(&P { disk, size })?,
            )
            .await
    }

    /// `GET .../rrddata`: load samples over `timeframe` (60-second steps for an hour).
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn rrddata(&self, timeframe: RrdTimeframe, cf: RrdCf) -> Result<Vec<RrdPoint>> {
        #[derive(serde::Serialize)]
        struct Q {
            timeframe: RrdTimeframe,
            cf: RrdCf,
        }
        self.client
            .call(
                self.at(Method::GET, &["rrddata"])
                    .params(&Q { timeframe, cf })?,
            )
            .await
    }
}
