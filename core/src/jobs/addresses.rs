//! The address job: where each running pool VM can be reached, and whether it offers SSH or RDP.
//!
//! For every running pool VM of a cluster, in this order: the guest agent (the first
//! non-loopback IPv4 address; an IPv6 one is kept too), a container's own interfaces, then the
//! host's neighbour table filtered to the cluster's `arp_subnets` and matched by the VM's MAC.
//! An agent that does not answer yet is normal while a VM boots: the VM simply has no address
//! this time. The VM's MAC and OS type come from its configuration the first time (one call),
//! and are kept in the inventory afterwards.
//!
//! Remote logins are probed (a short TCP connect) only at addresses the cluster's `arp_subnets`
//! contain, or that the agent or the container reported and that are not loopback, link-local,
//! multicast or unspecified: a guest cannot make pvelab knock on the host's own ports. Other
//! addresses get the OS type's usual service (RDP for Windows, SSH otherwise).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::client::{client_for, cluster_error};
use super::config::Subnet;
use super::neighbours::MacAddress;
use super::probe::{PortProbe, RemoteService};
use super::report::JobStats;
use super::run::{unless_cancelled, JobError, JobResult};
use crate::error::Error;
use crate::lab::Lab;
use crate::store::inventory::{self, AddressFacts, GuestKind, GuestState};
use crate::store::ips::{self, FoundAddress};
use crate::store::{cluster_jobs, vm_watch};
use crate::types::{ClusterId, VmId};

/// Lookups of one cluster at once (each is one to three API calls).
const LOOKUPS_AT_ONCE: usize = 4;

/// A pool VM whose address is wanted.
#[derive(Debug, Clone)]
struct Target {
    vmid: VmId,
    node: String,
    kind: GuestKind,
    running: bool,
    mac: Option<MacAddress>,
    os_type: Option<String>,
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The guest agent or the container's interfaces: Proxmox reported it.
    Guest,
    /// The host's neighbour table.
    Neighbours,
}

/// Runs one address lookup of `cluster`.
pub(crate) async fn run(lab: &Lab, cluster: &ClusterId, cancel: &CancellationToken) -> JobResult {
    let id = cluster.clone();
    let (settings, targets) = lab
        .db()
        .read(move |tx| {
            let settings = cluster_jobs::settings(tx, &id)?;
            let mut targets = Vec::new();
            for vm in vm_watch::pool_vms_on(tx, &id)? {
                let Some(entry) = inventory::get(tx, &id, vm.vmid)? else {
                    continue;
                };
                targets.push(Target {
                    vmid: vm.vmid,
                    node: entry.node.clone().unwrap_or_default(),
                    kind: entry.kind,
                    running: entry.state == GuestState::Running,
                    mac: entry
                        .mac_address
                        .as_deref()
                        .or(vm.mac_address.as_deref())
                        .and_then(|m| MacAddress::parse(m).ok()),
                    os_type: entry.os_type,
                });
            }
            Ok((settings, targets))
        })
        .await?;
    let subnets = Arc::new(settings.arp_subnets);
    let table = Arc::new(neighbour_table(lab, &subnets).await);
    let client = client_for(lab, cluster).await?;
    let probe = lab.jobs_shared().config.probe.clone();
    let slots = Arc::new(Semaphore::new(LOOKUPS_AT_ONCE));
    let mut lookups = JoinSet::new();
    for target in targets {
        let (client, cluster, slots) = (client.clone(), cluster.clone(), slots.clone());
        let (table, subnets, probe, cancel) = (
            table.clone(),
            subnets.clone(),
            probe.clone(),
            cancel.clone(),
        );
        lookups.spawn(async move {
            let _slot = slots.acquire_owned().await;
            if cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            look_up(
                &client,
                &cluster,
                target,
                &table,
                &subnets,
                probe.as_ref(),
                &cancel,
            )
            .await
        });
    }
    let mut found = Vec::new();
    while let Some(joined) = lookups.join_next().await {
        match joined {
            Ok(Ok(facts)) => found.push(facts),
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(Error::internal(format!("an address lookup failed: {e}")).into()),
        }
    }
    let id = cluster.clone();
    let written = lab
        .db()
        .write(move |tx| {
            let mut written = 0;
            for (facts, source) in &found {
                inventory::set_addresses(tx, &id, facts)?;
                if let (Some(ip), Some(_)) = (&facts.ip, source) {
                    ips::remember(
                        tx,
                        &id,
                        &FoundAddress {
                            vmid: facts.vmid,
                            ip: ip.clone(),
                            ipv6: facts.ipv6.clone(),
                            mac: facts.mac.clone(),
                        },
                    )?;
                    written += 1;
                }
            }
            Ok(written)
        })
        .await?;
    Ok(JobStats {
        written,
        ..JobStats::default()
    })
}

/// The neighbour table as MAC -> address, only entries inside `subnets` (none without subnets).
async fn neighbour_table(lab: &Lab, subnets: &[Subnet]) -> HashMap<MacAddress, IpAddr> {
    if subnets.is_empty() {
        return HashMap::new();
    }
    let source = lab.jobs_shared().config.neighbours.clone();
    let read = tokio::task::spawn_blocking(move || source.neighbours()).await;
    let entries = match read {
        Ok(Ok(entries)) => entries,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the neighbour table cannot be read");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the neighbour table failed");
            Vec::new()
        }
    };
    entries
        .into_iter()
        .filter(|n| subnets.iter().any(|s| s.contains(n.ip)))
        .map(|n| (n.mac, n.ip))
        .collect()
}

/// Whether a failure concerns this one VM (it has no agent, is stopped, its node is down) rather
/// than the cluster (unreachable, credentials refused), which fails the whole run.
fn only_this_vm(e: &pvelab_proxmox::Error) -> bool {
    use pvelab_proxmox::Error as E;
    !matches!(
        e,
        E::Transport { .. }
            | E::Timeout { .. }
            | E::Authentication { .. }
            | E::PermissionDenied { .. }
            | E::FingerprintMismatch { .. }
            | E::Config(_)
    )
}

/// Looks one VM up; returns what to record and where its address came from.
async fn look_up(
    client: &pvelab_proxmox::Client,
    cluster: &ClusterId,
    mut target: Target,
    table: &HashMap<MacAddress, IpAddr>,
    subnets: &[Subnet],
    probe: &dyn PortProbe,
    cancel: &CancellationToken,
) -> std::result::Result<(AddressFacts, Option<Source>), JobError> {
    let mut facts = AddressFacts {
        vmid: target.vmid,
        ip: None,
        ipv6: None,
        mac: None,
        os_type: None,
        rdp: false,
        ssh: false,
    };
    if !target.running {
        return Ok((facts, None));
    }
    let fail = |e: pvelab_proxmox::Error| JobError::Failed(cluster_error(cluster, e));
    let node = client.node(&target.node);
    let vmid = target.vmid.get();
    if target.mac.is_none() || target.os_type.is_none() {
        let config = match target.kind {
            GuestKind::Qemu => unless_cancelled(cancel, node.qemu(vmid).config()).await?,
            GuestKind::Lxc => unless_cancelled(cancel, node.lxc(vmid).config()).await?,
        };
        match config {
            Ok(config) => {
                target.os_type = target.os_type.or_else(|| config.get("ostype"));
                let first_mac = config.nets().ok().and_then(|nets| {
                    nets.into_iter()
                        .find_map(|(_, n)| n.mac().map(str::to_owned))
                });
                target.mac = target
                    .mac
                    .or_else(|| first_mac.and_then(|m| MacAddress::parse(&m).ok()));
                facts.os_type = target.os_type.clone();
                facts.mac = target.mac.as_ref().map(|m| m.to_string());
            }
            Err(e) if only_this_vm(&e) => {}
            Err(e) => return Err(fail(e)),
        }
    }

    let mut addresses: Vec<IpAddr> = Vec::new();
    match target.kind {
        GuestKind::Qemu => {
            match unless_cancelled(cancel, node.qemu(vmid).agent_network_interfaces()).await? {
                Ok(interfaces) => {
                    addresses.extend(interfaces.iter().flat_map(|i| i.reachable_addrs()));
                }
                // Booting (agent not up yet), no agent, stopped meanwhile: no address this time.
                Err(e) if only_this_vm(&e) => {
                    tracing::debug!(%cluster, vmid, reason = %e, "no address from the guest agent");
                }
                Err(e) => return Err(fail(e)),
            }
        }
        GuestKind::Lxc => match unless_cancelled(cancel, node.lxc(vmid).interfaces()).await? {
            Ok(interfaces) => {
                for interface in interfaces.iter().filter(|i| i.name != "lo") {
                    addresses.extend(interface.ipv4());
                    addresses.extend(
                        interface
                            .inet6
                            .as_deref()
                            .and_then(|t| t.split('/').next())
                            .and_then(|t| t.parse::<IpAddr>().ok()),
                    );
                }
            }
            Err(e) if only_this_vm(&e) => {}
            Err(e) => return Err(fail(e)),
        },
    }
    addresses.retain(|ip| is_routable(*ip));
    let mut source = (!addresses.is_empty()).then_some(Source::Guest);
    if addresses.is_empty() {
        if let Some(ip) = target.mac.as_ref().and_then(|mac| table.get(mac)) {
            addresses.push(*ip);
            source = Some(Source::Neighbours);
        }
    }
    let v4 = addresses.iter().copied().find(IpAddr::is_ipv4);
    let v6 = addresses.iter().copied().find(IpAddr::is_ipv6);
    let Some(ip) = v4.or(v6) else {
        return Ok((facts, None));
    };
    facts.ip = Some(ip.to_string());
    facts.ipv6 = v6.map(|v| v.to_string());
    let windows = target
        .os_type
        .as_deref()
        .is_some_and(|os| os.starts_with("win"));
    if may_probe(ip, source, subnets) {
        facts.ssh = unless_cancelled(cancel, probe.is_open(ip, RemoteService::Ssh)).await?;
        facts.rdp = unless_cancelled(cancel, probe.is_open(ip, RemoteService::Rdp)).await?;
    } else {
        facts.rdp = windows;
        facts.ssh = !windows;
    }
    Ok((facts, source))
}

/// Whether an address a guest reported can be somebody's: not loopback, link-local, multicast
/// or unspecified.
fn is_routable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_link_local() || v4.is_multicast() || v4.is_unspecified())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether pvelab may knock at `ip`: inside the cluster's subnets, or reported by Proxmox for
/// the guest and routable.
fn may_probe(ip: IpAddr, source: Option<Source>, subnets: &[Subnet]) -> bool {
    subnets.iter().any(|s| s.contains(ip)) || (source == Some(Source::Guest) && is_routable(ip))
}

/// Clears the addresses of every cluster whose `enable_ip_persistence` is off: they must not
/// outlive a restart. Called when the jobs start.
pub(crate) async fn forget_unkept(lab: &Lab) {
    let forgotten = lab
        .db()
        .write(|tx| {
            let mut forgotten = 0;
            for (cluster, settings) in cluster_jobs::all(tx)? {
                if !settings.enable_ip_persistence {
                    forgotten += ips::forget(tx, &cluster)?;
                }
            }
            Ok::<_, Error>(forgotten)
        })
        .await;
    match forgotten {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            addresses = n,
            "addresses not kept across restarts were cleared"
        ),
        Err(e) => {
            tracing::error!(error = %e, "addresses not kept across restarts could not be cleared")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_guest_cannot_make_pvelab_probe_loopback_or_link_local_addresses() {
        let none: [Subnet; 0] = [];
        assert!(may_probe(ip("10.1.2.3"), Some(Source::Guest), &none));
        assert!(!may_probe(ip("127.0.0.1"), Some(Source::Guest), &none));
        assert!(!may_probe(ip("169.254.1.1"), Some(Source::Guest), &none));
        assert!(!may_probe(ip("fe80::1"), Some(Source::Guest), &none));
        assert!(!may_probe(ip("10.1.2.3"), Some(Source::Neighbours), &none));
        // An address the operator's subnets contain may be probed, whatever its kind.
        let lo = [Subnet::parse("127.0.0.0/8").unwrap()];
        assert!(may_probe(ip("127.0.0.1"), Some(Source::Neighbours), &lo));
    }

    #[test]
    fn loopback_link_local_and_unspecified_addresses_are_nobodys() {
        for text in [
            "127.0.0.1",
            "::1",
            "169.254.0.9",
            "fe80::be24:11ff:fe00:1",
            "0.0.0.0",
            "ff02::1",
        ] {
            assert!(!is_routable(ip(text)), "{text}");
        }
        for text in ["10.0.0.5", "192.168.1.20", "fd00:5e11::65", "2001:db8::1"] {
            assert!(is_routable(ip(text)), "{text}");
        }
    }
}
