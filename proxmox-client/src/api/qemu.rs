use reqwest::Method;

use crate::api::guest::GuestCalls;
use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{
    CloneParams, ConfigUpdate, DeleteParams, GuestConfig, GuestSummary, PendingEntry, RrdCf,
    RrdPoint, RrdTimeframe, ShutdownParams,
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

    pub(crate) fn calls(&self) -> GuestCalls<'_> {
        GuestCalls {
            client: &self.client,
            node: &self.node,
            kind: "qemu",
            vmid: self.vmid,
        }
    }

    pub(crate) fn at(&self, method: Method, tail: &[&str]) -> ApiRequest {
        self.calls().at(method, tail)
    }

    /// `GET .../status/current`: run state, load, lock, agent flag.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the VM does not exist on this node; any other [`crate::Error`].
    pub async fn status(&self) -> Result<GuestSummary> {
        self.calls().status().await
    }

    /// `GET .../config`: the configuration with pending changes applied (with its `digest`).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the VM does not exist; any other [`crate::Error`].
    pub async fn config(&self) -> Result<GuestConfig> {
        self.calls().config().await
    }

    /// `GET .../pending`: every configuration key with its current value and any change that
    /// waits for the next stop (a running VM without hotplug keeps new `cores` or `memory`
    /// pending). Show these as "pending change at next stop".
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the VM does not exist; any other [`crate::Error`].
    pub async fn pending(&self) -> Result<Vec<PendingEntry>> {
        self.calls().pending().await
    }

    /// `PUT .../config`: change the configuration synchronously. Tags go in `tags`
    /// (`;`-separated); PVE stores them de-duplicated and sorted.
    ///
    /// # Errors
    /// [`crate::Error::Locked`] while a task holds the VM, [`crate::Error::Api`] for a digest mismatch
    /// ("checksum mismatch (file change by other user?)",
    /// [`crate::Error::is_stale_digest`]: read again and retry),
    /// [`crate::Error::Parameter`] for invalid values.
    pub async fn update_config(&self, update: &ConfigUpdate) -> Result<()> {
        self.calls().update_config(update).await
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
    /// [`crate::Error::AlreadyExists`] when the new VMID is taken (pick another, see
    /// [`Client::with_free_vmid`]), [`crate::Error::Locked`], [`crate::Error::LockTimeout`] (after retries),
    /// [`crate::Error::Api`] for "parameter 'storage' not allowed for linked clones" and the like.
    pub async fn clone_vm(&self, params: &CloneParams) -> Result<Upid> {
        self.calls().clone_guest(params).await
    }

    /// `POST .../status/start`.
    ///
    /// # Errors
    /// Any [`crate::Error`]; "already running" shows up as the task's exit status.
    pub async fn start(&self) -> Result<Upid> {
        self.calls().power("start").await
    }

    /// `POST .../status/stop`: hard power-off.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn stop(&self) -> Result<Upid> {
        self.calls().power("stop").await
    }

    /// `POST .../status/shutdown`: ask the guest to power off (ACPI or agent).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn shutdown(&self, params: &ShutdownParams) -> Result<Upid> {
        self.calls().shutdown(params).await
    }

    /// `POST .../status/reboot`: ask the guest to reboot.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn reboot(&self) -> Result<Upid> {
        self.calls().power("reboot").await
    }

    /// `POST .../status/reset`: hard reset.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn reset(&self) -> Result<Upid> {
        self.calls().power("reset").await
    }

    /// `DELETE /nodes/{node}/qemu/{vmid}` with the parameters in the query string (PVE answers
    /// 501 to a DELETE with a body).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] for a missing VM; [`crate::Error::Api`] for "VM N is running - destroy
    /// failed" or protection mode.
    pub async fn delete(&self, params: &DeleteParams) -> Result<Upid> {
        self.calls().delete(params).await
    }

    /// `POST .../template`: turn this stopped VM (without snapshots) into a template, in a
    /// task; "you can't convert a VM to template if VM is running" and "unable to create
    /// template, because VM contains snapshots" arrive here before the task starts.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn convert_to_template(&self) -> Result<Option<Upid>> {
        self.calls().convert_to_template().await
    }

    /// `PUT .../resize`: grow `disk` (`scsi0`) to `size` (`32G`) or by `+size` (`+8G`).
    /// PVE 9 returns a UPID and checks inside the task: a smaller size ends it with "shrinking
    /// disks is not supported" ([`crate::Error::TaskFailed`] when waited for), as does a stale config.
    /// Older versions resized synchronously (`None`).
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] for a malformed size (checked before sending); any [`crate::Error`].
    pub async fn resize_disk(&self, disk: &str, size: &str) -> Result<Option<Upid>> {
        self.calls().resize(disk, size).await
    }

    /// `GET .../rrddata`: load samples over `timeframe` (60-second steps for an hour).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn rrddata(&self, timeframe: RrdTimeframe, cf: RrdCf) -> Result<Vec<RrdPoint>> {
        self.calls().rrddata(timeframe, cf).await
    }
}
