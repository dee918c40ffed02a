//! Choosing a free VMID.
//!
//! `GET /cluster/nextid` reserves nothing and there is no way to lock an id, so two callers may
//! pick the same one. The helpers here probe candidates with `?vmid=` and, when the create call
//! itself reports the id as taken, move on to the next free one.

use std::future::Future;

use crate::api::Cluster;
use crate::client::{ApiRequest, Client};
use crate::error::{Error, Result};

/// Lowest VMID PVE accepts.
pub const MIN_VMID: u32 = 100;
/// Highest VMID PVE accepts.
pub const MAX_VMID: u32 = 999_999_999;
/// How many ids [`Client::free_vmid`] probes before giving up.
const PROBE_LIMIT: u32 = 1000;

impl Cluster {
    /// Whether `vmid` is free now (`GET /cluster/nextid?vmid=N`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 100..=999999999; other errors of the call.
    pub async fn is_vmid_free(&self, vmid: u32) -> Result<bool> {
        check_range(vmid)?;
        #[derive(serde::Serialize)]
        struct Q {
            vmid: u32,
        }
        let reply: Result<serde_json::Value> = self
            .client
            .call(ApiRequest::get(&["cluster", "nextid"]).params(&Q { vmid })?)
            .await;
        match reply {
            Ok(_) => Ok(true),
            Err(e) if is_taken(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn check_range(vmid: u32) -> Result<()> {
    if !(MIN_VMID..=MAX_VMID).contains(&vmid) {
        return Err(Error::InvalidInput(format!(
            "VMID {vmid} is outside {MIN_VMID}..={MAX_VMID}"
        )));
    }
    Ok(())
}

/// Whether an error says a VMID is already used ("VM 218 already exists", "config file
/// already exists").
fn is_taken(e: &Error) -> bool {
    match e {
        Error::AlreadyExists { .. } => true,
        Error::Parameter { errors, .. } => errors.contains_key("vmid"),
        _ => false,
    }
}

impl Client {
    /// A VMID that is free now: the server's `nextid`, or the first free id at or above
    /// `at_least` (for classes that keep their VMs in a range).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `at_least` is out of range, [`Error::AlreadyExists`] when
    /// no free id was found among the next 1000; other errors of the calls.
    pub async fn free_vmid(&self, at_least: Option<u32>) -> Result<u32> {
        let cluster = self.cluster();
        let Some(start) = at_least else {
            return cluster.next_id().await;
        };
        check_range(start)?;
        let end = start.saturating_add(PROBE_LIMIT).min(MAX_VMID);
        for candidate in start..=end {
            if cluster.is_vmid_free(candidate).await? {
                return Ok(candidate);
            }
        }
        Err(Error::AlreadyExists {
            message: format!("no free VMID in {start}..={end}"),
        })
    }

    /// Run `create(vmid)` with a free VMID; if it fails because a racer took the id meanwhile,
    /// pick the next free one and try again, up to `attempts` times.
    ///
    /// ```no_run
    /// # async fn demo(client: pvelab_proxmox::Client) -> pvelab_proxmox::Result<()> {
    /// use pvelab_proxmox::CloneParams;
    /// let template = client.node("pve1").qemu(9000);
    /// let (vmid, upid) = client
    ///     .with_free_vmid(Some(1000), 5, |id| {
    ///         let template = template.clone();
    ///         async move { template.clone_vm(&CloneParams::new(id).name(format!("lab-{id}"))).await }
    ///     })
    ///     .await?;
    /// client.wait_for_task(&upid).await?;
    /// # let _ = vmid; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The last "already exists" error after `attempts` tries; any other error at once.
    pub async fn with_free_vmid<T, F, Fut>(
        &self,
        at_least: Option<u32>,
        attempts: u32,
        mut create: F,
    ) -> Result<(u32, T)>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut floor = at_least;
        let mut last_error = None;
        for _ in 0..attempts.max(1) {
            let vmid = self.free_vmid(floor).await?;
            match create(vmid).await {
                Ok(value) => return Ok((vmid, value)),
                Err(e) if is_taken(&e) => {
                    tracing::debug!(vmid, "VMID taken by a concurrent creator; trying the next");
                    floor = Some(vmid.saturating_add(1).max(MIN_VMID));
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::AlreadyExists {
            message: "no free VMID".into(),
        }))
    }
}
