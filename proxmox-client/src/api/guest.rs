//! The calls VMs and containers share: same path under `/nodes/{node}/{qemu|lxc}/{vmid}`, same
//! parameters. [`crate::Qemu`] and [`crate::Lxc`] delegate here, so the two kinds cannot drift
//! apart; each handler documents its own quirks.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::{ApiRequest, Client};
use crate::error::{Error, Result};
use crate::models::{
    ConfigUpdate, DeleteParams, GuestConfig, GuestSummary, PendingEntry, RrdCf, RrdPoint,
    RrdTimeframe, ShutdownParams, SnapshotEntry, SnapshotParams,
};
use crate::upid::Upid;

/// One guest's path: the client, its node, its kind (`qemu` or `lxc`) and its VMID.
pub(crate) struct GuestCalls<'a> {
    pub(crate) client: &'a Client,
    pub(crate) node: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) vmid: u32,
}

impl GuestCalls<'_> {
    pub(crate) fn at(&self, method: Method, tail: &[&str]) -> ApiRequest {
        ApiRequest::guest(method, self.node, self.kind, self.vmid, tail)
    }

    async fn send<T: DeserializeOwned>(&self, method: Method, tail: &[&str]) -> Result<T> {
        self.client.call(self.at(method, tail)).await
    }

    async fn send_with<T: DeserializeOwned, P: Serialize + ?Sized>(
        &self,
        method: Method,
        tail: &[&str],
        params: &P,
    ) -> Result<T> {
        self.client
            .call(self.at(method, tail).params(params)?)
            .await
    }

    pub(crate) async fn status(&self) -> Result<GuestSummary> {
        self.send(Method::GET, &["status", "current"]).await
    }

    pub(crate) async fn config(&self) -> Result<GuestConfig> {
        self.send(Method::GET, &["config"]).await
    }

    pub(crate) async fn update_config(&self, update: &ConfigUpdate) -> Result<()> {
        let _: serde_json::Value = self.send_with(Method::PUT, &["config"], update).await?;
        Ok(())
    }

    pub(crate) async fn pending(&self) -> Result<Vec<PendingEntry>> {
        self.send(Method::GET, &["pending"]).await
    }

    pub(crate) async fn delete(&self, params: &DeleteParams) -> Result<Upid> {
        self.send_with(Method::DELETE, &[], params).await
    }

    pub(crate) async fn power(&self, action: &str) -> Result<Upid> {
        self.send(Method::POST, &["status", action]).await
    }

    pub(crate) async fn shutdown(&self, params: &ShutdownParams) -> Result<Upid> {
        self.send_with(Method::POST, &["status", "shutdown"], params)
            .await
    }

    pub(crate) async fn resize(&self, disk: &str, size: &str) -> Result<Option<Upid>> {
        check_size(size)?;
        #[derive(Serialize)]
        struct P<'a> {
            disk: &'a str,
            size: &'a str,
        }
        self.send_with(Method::PUT, &["resize"], &P { disk, size })
            .await
    }

    pub(crate) async fn convert_to_template(&self) -> Result<Option<Upid>> {
        self.send(Method::POST, &["template"]).await
    }

    pub(crate) async fn rrddata(
        &self,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<RrdPoint>> {
        #[derive(Serialize)]
        struct Q {
            timeframe: RrdTimeframe,
            cf: RrdCf,
        }
        self.send_with(Method::GET, &["rrddata"], &Q { timeframe, cf })
            .await
    }

    pub(crate) async fn clone_guest<P: Serialize + ?Sized>(&self, params: &P) -> Result<Upid> {
        self.send_with(Method::POST, &["clone"], params).await
    }

    pub(crate) async fn snapshots(&self) -> Result<Vec<SnapshotEntry>> {
        self.send(Method::GET, &["snapshot"]).await
    }

    pub(crate) async fn create_snapshot(&self, params: &SnapshotParams) -> Result<Upid> {
        self.send_with(Method::POST, &["snapshot"], params).await
    }

    pub(crate) async fn rollback_snapshot(&self, name: &str) -> Result<Upid> {
        self.send(Method::POST, &["snapshot", name, "rollback"])
            .await
    }

    pub(crate) async fn delete_snapshot(&self, name: &str) -> Result<Upid> {
        self.send(Method::DELETE, &["snapshot", name]).await
    }
}

/// PVE's size pattern `\+?\d+(\.\d+)?[KMGT]?`, checked before sending so that a typo is named
/// here rather than as a 400 from the server.
fn check_size(size: &str) -> Result<()> {
    let digits = size.strip_prefix('+').unwrap_or(size);
    let number = digits.strip_suffix(['K', 'M', 'G', 'T']).unwrap_or(digits);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(whole) && all_digits(fraction) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "disk size {size:?} is not valid; expected e.g. 32G or +8G (units K, M, G, T)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::check_size;

    #[test]
    fn sizes_follow_pves_pattern() {
        for ok in ["32G", "+8G", "1.5T", "4096", "+512M"] {
            assert!(check_size(ok).is_ok(), "{ok}");
        }
        for bad in ["", "+", "2 gigs", "8g", "G", "1..5G", "-8G", "8GB"] {
            assert!(check_size(bad).is_err(), "{bad}");
        }
    }
}
