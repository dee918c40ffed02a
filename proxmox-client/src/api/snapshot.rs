use reqwest::Method;

use crate::api::Qemu;
use crate::error::Result;
use crate::models::{SnapshotEntry, SnapshotParams};
use crate::upid::Upid;

impl Qemu {
    /// `GET .../snapshot`: the snapshots, ending with the pseudo entry `current`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn snapshots(&self) -> Result<Vec<SnapshotEntry>> {
        self.client.call(self.at(Method::GET, &["snapshot"])).await
    }

    /// `POST .../snapshot`: take a snapshot (templates cannot have any).
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::Locked`] while another task runs.
    pub async fn create_snapshot(&self, params: &SnapshotParams) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["snapshot"]).params(params)?)
            .await
    }

    /// `POST .../snapshot/{name}/rollback`: return to snapshot `name`.
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::NotFound`] for an unknown snapshot.
    pub async fn rollback_snapshot(&self, name: &str) -> Result<Upid> {
        self.client
            .call(self.at(Method::POST, &["snapshot", name, "rollback"]))
            .await
    }

    /// `DELETE .../snapshot/{name}`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn delete_snapshot(&self, name: &str) -> Result<Upid> {
        self.client
            .call(self.at(Method::DELETE, &["snapshot", name]))
            .await
    }
}
