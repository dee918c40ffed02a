//! A pool VM's state for the people who use it: what the database recorded, read again from
//! Proxmox first only when the record is older than the cluster's `vm_cache_ttl`, and never
//! waiting on Proxmox longer than a person waits for an answer.

use jiff::{SignedDuration, Timestamp};

use super::{class_for, Lab};
use crate::error::{Entity, Error, Result};
use crate::events::ShutdownReason;
use crate::jobs;
use crate::rules::permissions::{Action, Actor};
use crate::store::cluster_jobs;
use crate::store::inventory::{
    self, GuestCategory, GuestFacts, GuestKind, GuestState, InventoryEntry,
};
use crate::store::pool::{self, PoolVm};
use crate::store::vm_watch::{self, Watch};
use crate::types::{ClusterId, VmId, VmRef};

/// A pool VM's state as the lab knows it, for `/myvm` and pool listings: read from the
/// database, refreshed from Proxmox first only when older than the cluster's `vm_cache_ttl`.
#[derive(Debug, Clone, PartialEq)]
pub struct VmState {
    /// The cluster.
    pub cluster_id: ClusterId,
    /// The VM.
    pub vmid: VmId,
    /// Running, stopped or unknown.
    pub state: GuestState,
    /// Its node.
    pub node: Option<String>,
    /// CPU use in percent (running VMs).
    pub cpu_usage: Option<f64>,
    /// Memory use in percent (running VMs).
    pub memory_usage: Option<f64>,
    /// Seconds since it started (running VMs).
    pub uptime: Option<u64>,
    /// The address to connect to, if one was found.
    pub ip: Option<String>,
    /// Its IPv6 address, if one was found.
    pub ipv6: Option<String>,
    /// Whether it offers remote desktop.
    pub rdp_available: bool,
    /// Whether it offers SSH.
    pub ssh_available: bool,
    /// When its state was last read from Proxmox (`None`: never).
    pub checked_at: Option<Timestamp>,
    /// Why the refresh this read needed failed (the recorded state is returned anyway).
    pub refresh_error: Option<String>,
    /// An automatic shutdown decided for it and why, until it is seen stopped.
    pub shutdown_pending: Option<ShutdownReason>,
    /// When it was warned for being idle (a [`Lab::keep_running`] answer clears it).
    pub idle_warned_at: Option<Timestamp>,
}

/// What the database holds on one pool VM's state: its inventory row and its watch (pending
/// shutdown, idle warning).
pub(crate) struct Recorded {
    pub(crate) entry: Option<InventoryEntry>,
    watch: Watch,
}

impl Recorded {
    pub(crate) fn read(tx: &rusqlite::Connection, vm: &PoolVm) -> Result<Self> {
        Ok(Self {
            entry: inventory::get(tx, &vm.cluster_id, vm.vmid)?,
            watch: vm_watch::get(tx, &vm.cluster_id, vm.vmid)?,
        })
    }

    /// Whether the record is recent enough (within `ttl_secs` of `now`) to answer without
    /// asking Proxmox.
    pub(crate) fn is_fresh(&self, now: Timestamp, ttl_secs: u32) -> bool {
        self.entry
            .as_ref()
            .and_then(|e| e.last_status_check)
            .is_some_and(|at| {
                now.duration_since(at) <= SignedDuration::from_secs(i64::from(ttl_secs))
            })
    }

    /// The state as the record says, with why a refresh it needed failed.
    pub(crate) fn state_of(self, vm: &PoolVm, refresh_error: Option<String>) -> VmState {
        let Self { entry, watch } = self;
        let entry = entry.as_ref();
        VmState {
            cluster_id: vm.cluster_id.clone(),
            vmid: vm.vmid,
            state: entry.map_or(GuestState::Unknown, |e| e.state),
            node: entry
                .and_then(|e| e.node.clone())
                .or_else(|| vm.node.as_ref().map(|n| n.as_str().to_owned())),
            cpu_usage: entry.and_then(|e| e.cpu_usage),
            memory_usage: entry.and_then(|e| e.memory_usage),
            uptime: entry.and_then(|e| e.uptime),
            ip: entry
                .and_then(|e| e.ip.clone())
                .or_else(|| vm.cached_ip.clone()),
            ipv6: entry.and_then(|e| e.ipv6.clone()),
            rdp_available: entry.is_some_and(|e| e.rdp_available),
            ssh_available: entry.is_some_and(|e| e.ssh_available),
            checked_at: entry.and_then(|e| e.last_status_check),
            refresh_error,
            shutdown_pending: watch.shutdown.map(|s| s.reason),
            idle_warned_at: watch.idle_warned_at,
        }
    }
}

impl Lab {
    /// The state of a pool VM for its holder, its class's teachers and adminers. It comes from
    /// the database (the inventory keeps it fresh); only when it is older than the cluster's
    /// `vm_cache_ttl` is it read from Proxmox first (one call).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no pool VM has this VMID on this cluster;
    /// [`Error::NotPermitted`] for others.
    pub async fn vm_state(&self, actor: &Actor, vm: &VmRef) -> Result<VmState> {
        let (who, key) = (*actor, vm.clone());
        let (vm, recorded, ttl) = self
            .db()
            .read(move |tx| {
                let vm =
                    pool::by_ref(tx, &key)?.ok_or_else(|| Error::not_found(Entity::Vm, &key))?;
                if vm.assigned_to.is_none() || vm.assigned_to != who.user_id() {
                    class_for(tx, &who, Action::ListStudents, vm.class_id)?;
                }
                let recorded = Recorded::read(tx, &vm)?;
                let ttl = cluster_jobs::settings(tx, &vm.cluster_id)?.vm_cache_ttl;
                Ok((vm, recorded, ttl))
            })
            .await?;
        if recorded.is_fresh(self.now(), ttl) {
            return Ok(recorded.state_of(&vm, None));
        }
        let refresh_error = self
            .refresh_within_answer_time(&vm, recorded.entry.as_ref())
            .await;
        let key = vm.clone();
        let recorded = self.db().read(move |tx| Recorded::read(tx, &key)).await?;
        Ok(recorded.state_of(&vm, refresh_error))
    }

    /// [`Lab::refresh_vm`] bounded by the time a person waits for an answer: `Some(reason)`
    /// when it failed or Proxmox did not answer in time (the recorded state stands then).
    pub(crate) async fn refresh_within_answer_time(
        &self,
        vm: &PoolVm,
        entry: Option<&InventoryEntry>,
    ) -> Option<String> {
        let within = self.pools().config().answer_within;
        // Boxed: a refresh is the exception, and its client call would otherwise make every
        // read of a state (thousands at once when a class types /myvm) as large as a request.
        match tokio::time::timeout(within, Box::pin(self.refresh_vm(vm, entry))).await {
            Ok(refreshed) => refreshed.err().map(|e| e.to_string()),
            Err(_) => Some(crate::pools::client::unreachable(&vm.cluster_id, within).to_string()),
        }
    }

    /// Reads one pool VM's state from Proxmox and records it.
    pub(crate) async fn refresh_vm(
        &self,
        vm: &PoolVm,
        entry: Option<&InventoryEntry>,
    ) -> Result<()> {
        let node = entry
            .and_then(|e| e.node.clone())
            .or_else(|| vm.node.as_ref().map(|n| n.as_str().to_owned()))
            .ok_or_else(|| {
                Error::not_found(Entity::Vm, format!("{} on any known node", vm.vmid))
            })?;
        let kind = entry.map_or(GuestKind::Qemu, |e| e.kind);
        let client = jobs::client_for(self, &vm.cluster_id).await?;
        let handle = client.node(&node);
        let summary = match kind {
            GuestKind::Qemu => handle.qemu(vm.vmid.get()).status().await,
            GuestKind::Lxc => handle.lxc(vm.vmid.get()).status().await,
        }
        .map_err(|e| jobs::cluster_error(&vm.cluster_id, e))?;
        let state = match summary.status {
            pvelab_proxmox::GuestStatus::Running | pvelab_proxmox::GuestStatus::Paused => {
                GuestState::Running
            }
            pvelab_proxmox::GuestStatus::Stopped => GuestState::Stopped,
            _ => GuestState::Unknown,
        };
        let running = state == GuestState::Running;
        let facts = GuestFacts {
            vmid: vm.vmid,
            name: summary
                .name
                .clone()
                .or_else(|| entry.and_then(|e| e.name.clone())),
            node: Some(node),
            state,
            kind,
            category: GuestCategory::Pool,
            memory: summary.maxmem,
            cores: summary.cpus.map(|c| c.round() as u32),
            disk_size: summary.maxdisk,
            uptime: summary.uptime.filter(|_| running),
            cpu_percent: summary.cpu.filter(|_| running).map(|c| c * 100.0),
            memory_percent: match (summary.mem, summary.maxmem) {
                (Some(m), Some(max)) if running && max > 0 => Some(m as f64 / max as f64 * 100.0),
                _ => None,
            },
            is_template: summary.template,
            tags: summary
                .tags
                .clone()
                .or_else(|| entry.and_then(|e| e.tags.clone())),
        };
        let cluster = vm.cluster_id.clone();
        // The row gets what the direct read saw, ahead of the next tick.
        self.jobs_shared().digests.forget(&cluster);
        self.db()
            .write(move |tx| inventory::refresh_one(tx, &cluster, &facts))
            .await
    }
}
