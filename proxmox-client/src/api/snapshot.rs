//! Snapshots of VMs and containers: the same calls for both kinds; containers cannot save RAM.

use crate::api::{Lxc, Qemu};
use crate::error::{Error, Result};
use crate::models::{SnapshotEntry, SnapshotParams};
use crate::upid::Upid;

impl Qemu {
    /// `GET .../snapshot`: the snapshots, ending with the pseudo entry `current`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn snapshots(&self) -> Result<Vec<SnapshotEntry>> {
        self.calls().snapshots().await
    }

    /// `POST .../snapshot`: take a snapshot (templates cannot have any).
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::Locked`] while another task runs.
    pub async fn create_snapshot(&self, params: &SnapshotParams) -> Result<Upid> {
        self.calls().create_snapshot(params).await
    }

    /// `POST .../snapshot/{name}/rollback`: return to snapshot `name`. Without saved RAM the VM
    /// is stopped afterwards.
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::NotFound`] for an unknown snapshot.
    pub async fn rollback_snapshot(&self, name: &str) -> Result<Upid> {
        self.calls().rollback_snapshot(name).await
    }

    /// `DELETE .../snapshot/{name}`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn delete_snapshot(&self, name: &str) -> Result<Upid> {
        self.calls().delete_snapshot(name).await
    }
}

impl Lxc {
    /// `GET .../snapshot`: the snapshots, ending with the pseudo entry `current`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn snapshots(&self) -> Result<Vec<SnapshotEntry>> {
        self.calls().snapshots().await
    }

    /// `POST .../snapshot`: take a snapshot. Containers have no RAM state to save.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `params.vmstate` is set (checked before sending);
    /// [`crate::Error::Locked`] while another task runs; any other [`crate::Error`].
    pub async fn create_snapshot(&self, params: &SnapshotParams) -> Result<Upid> {
        if params.vmstate.is_some() {
            return Err(Error::InvalidInput(format!(
                "snapshot {:?} of container {}: containers have no RAM state (vmstate) to save",
                params.snapname, self.vmid
            )));
        }
        self.calls().create_snapshot(params).await
    }

    /// `POST .../snapshot/{name}/rollback`: return to snapshot `name`.
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::NotFound`] for an unknown snapshot.
    pub async fn rollback_snapshot(&self, name: &str) -> Result<Upid> {
        self.calls().rollback_snapshot(name).await
    }

    /// `DELETE .../snapshot/{name}`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn delete_snapshot(&self, name: &str) -> Result<Upid> {
        self.calls().delete_snapshot(name).await
    }
}
