use reqwest::Method;

use crate::api::guest::GuestCalls;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{
    CloneParams, ConfigUpdate, DeleteParams, GuestConfig, GuestSummary, LxcInterface, PendingEntry,
    RrdCf, RrdPoint, RrdTimeframe, ShutdownParams,
};
use crate::upid::Upid;

/// Calls under `/nodes/{node}/lxc/{vmid}`. Get one with [`crate::Node::lxc`].
///
/// The same calls as [`crate::Qemu`] where PVE has them for containers, with their
/// differences: the name is `hostname`, there is no `reset`, no RAM snapshots, no
/// `POST .../config`, and converting to a template answers `null` while a task does the work.
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
    /// The node.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn calls(&self) -> GuestCalls<'_> {
        GuestCalls {
            client: &self.client,
            node: &self.node,
            kind: "lxc",
            vmid: self.vmid,
        }
    }

    /// `GET .../status/current`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the container does not exist; any other error.
    pub async fn status(&self) -> Result<GuestSummary> {
        self.calls().status().await
    }

    /// `GET .../config` (same flat map as for VMs; `rootfs`, `mp0`, `net0` parse too).
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn config(&self) -> Result<GuestConfig> {
        self.calls().config().await
    }

    /// `GET .../pending`: every key with its current value and any change that waits for the
    /// container's next stop.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn pending(&self) -> Result<Vec<PendingEntry>> {
        self.calls().pending().await
    }

    /// `PUT .../config`: change the configuration (`hostname`, `memory`, `cores`, `tags`, ...).
    ///
    /// # Errors
    /// [`Error::Locked`] while a task holds the container, [`Error::Api`] for a digest
    /// mismatch ("detected modified configuration - file changed by other user? Try again."),
    /// [`Error::Parameter`] for invalid values.
    pub async fn update_config(&self, update: &ConfigUpdate) -> Result<()> {
        self.calls().update_config(update).await
    }

    /// `POST .../clone`: clone this container into `params.newid`. `params.name` is sent as
    /// the new container's `hostname`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `params.format` is set (containers have no such
    /// parameter); otherwise as [`crate::Qemu::clone_vm`].
    pub async fn clone_ct(&self, params: &CloneParams) -> Result<Upid> {
        if let Some(format) = &params.format {
            return Err(Error::InvalidInput(format!(
                "clone of container {} into {}: format {format:?} applies to VM disks only",
                self.vmid, params.newid
            )));
        }
        let pairs: Vec<(String, String)> = crate::form::to_pairs(params)?
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "name" => ("hostname".to_owned(), v),
                _ => (k, v),
            })
            .collect();
        let mut req = self.calls().at(Method::POST, &["clone"]);
        req.form = pairs;
        self.client.call(req).await
    }

    /// `GET .../interfaces`: the container's interfaces and addresses.
    ///
    /// # Errors
    /// [`Error::GuestNotRunning`] for a stopped container; any other [`Error`].
    pub async fn interfaces(&self) -> Result<Vec<LxcInterface>> {
        self.client
            .call(self.calls().at(Method::GET, &["interfaces"]))
            .await
    }

    /// `POST .../status/start`.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn start(&self) -> Result<Upid> {
        self.calls().power("start").await
    }

    /// `POST .../status/stop`: hard stop.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn stop(&self) -> Result<Upid> {
        self.calls().power("stop").await
    }

    /// `POST .../status/shutdown`: clean shutdown.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn shutdown(&self, params: &ShutdownParams) -> Result<Upid> {
        self.calls().shutdown(params).await
    }

    /// `POST .../status/reboot`.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn reboot(&self) -> Result<Upid> {
        self.calls().power("reboot").await
    }

    /// `DELETE /nodes/{node}/lxc/{vmid}` with the parameters in the query string.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing container; [`Error::Api`] for "CT N is running -
    /// destroy failed" or protection mode.
    pub async fn delete(&self, params: &DeleteParams) -> Result<Upid> {
        self.calls().delete(params).await
    }

    /// `PUT .../resize`: grow `disk` (`rootfs`, `mp0`) to `size` or by `+size`. Unlike VMs,
    /// containers check before the task: "unable to shrink disk size" and "disk is already at
    /// specified size" arrive here.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed size (checked before sending); any [`Error`].
    pub async fn resize_disk(&self, disk: &str, size: &str) -> Result<Option<Upid>> {
        self.calls().resize(disk, size).await
    }

    /// `POST .../template`: turn this stopped container (without snapshots) into a template.
    /// PVE answers `null` and converts in a background task it does not name, so this returns
    /// `None`: poll [`Lxc::config`] until it shows `template: 1`.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn convert_to_template(&self) -> Result<Option<Upid>> {
        self.calls().convert_to_template().await
    }

    /// `GET .../rrddata`: load samples over `timeframe`.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn rrddata(&self, timeframe: RrdTimeframe, cf: RrdCf) -> Result<Vec<RrdPoint>> {
        self.calls().rrddata(timeframe, cf).await
    }
}
