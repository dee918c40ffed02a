//! Importing a class: adopting the VMs that already exist in a classic VMID range.
//!
//! Adoption is the one time pvelab changes a VM it did not create, and only because a person
//! asked for it: each VM gets the marker for its slot (added to its description, keeping what
//! was there) and the `pvelab` tag, then its record. A crash between the two leaves a marked VM
//! without a record, which provisioning adopts through its marker like any clone it lost.

use pvelab_proxmox::ConfigUpdate;

use super::client::{client_for, within_answer_time};
use super::facts::{ConfigFact, GIB};
use super::marker::{with_tag, Marker};
use super::observe::{self, config_fact};
use crate::error::Result;
use crate::lab::Lab;
use crate::store::classes::{Class, NewClass};
use crate::store::pool::steps::{self, Planned};
use crate::store::pool::{VmRole, VmStep};
use crate::types::{ClusterId, Cores, DiskGb, MemoryMb, Slot, VmId, VmidScheme};

/// A VM of the range that can be adopted.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    vmid: VmId,
    slot: Slot,
    node: String,
    name: Option<String>,
    config: ConfigFact,
}

/// What a range holds.
#[derive(Debug, Clone)]
pub(crate) struct Survey {
    cluster: ClusterId,
    found: Vec<Found>,
    /// VMs left alone, and why.
    pub(crate) skipped: Vec<(VmId, String)>,
}

impl Survey {
    /// How many student VMs the range holds.
    pub(crate) fn students(&self) -> usize {
        self.found
            .iter()
            .filter(|f| matches!(f.slot, Slot::Student(_)))
            .count()
    }

    /// The class's specs from its first student VM (else its teacher or base VM), so that
    /// adopting changes no VM's size.
    pub(crate) fn apply_specs(&self, new: &mut NewClass) {
        let model = self
            .found
            .iter()
            .find(|f| matches!(f.slot, Slot::Student(_)))
            .or_else(|| self.found.first());
        let Some(model) = model else {
            return;
        };
        let c = &model.config;
        if let Some(cores) = c.cores.and_then(|v| Cores::new(v as i64).ok()) {
            new.cpu_cores = cores;
        }
        if let Some(memory) = c.memory_mb.and_then(|v| MemoryMb::new(v as i64).ok()) {
            new.memory_mb = memory;
        }
        if let Some(disk) = c
            .disk
            .as_ref()
            .and_then(|(_, bytes)| DiskGb::new(bytes.div_ceil(GIB) as i64).ok())
        {
            new.disk_gb = disk;
        }
    }
}

/// Reads what the range of `scheme` holds on `cluster`.
///
/// # Errors
/// [`crate::Error::Cluster`] when the cluster does not answer within `answer_within`.
pub(crate) async fn survey(lab: &Lab, cluster: &ClusterId, scheme: VmidScheme) -> Result<Survey> {
    let client = client_for(lab, cluster).await?;
    let mut guests = within_answer_time(lab, cluster, || observe::guests(&client)).await?;
    guests.retain(|vmid, _| scheme.vmids().contains(vmid));
    let wanted: Vec<u32> = guests
        .values()
        .filter(|g| g.qemu && !g.template)
        .map(|g| g.vmid)
        .collect();
    observe::read_configs(&client, lab.pools().config(), &mut guests, &wanted, 8).await;
    let mut survey = Survey {
        cluster: cluster.clone(),
        found: Vec::new(),
        skipped: Vec::new(),
    };
    for g in guests.values() {
        let Ok(vmid) = VmId::new(i64::from(g.vmid)) else {
            continue;
        };
        let skip = if !g.qemu {
            Some("a container".to_owned())
        } else if g.template {
            Some("a template".to_owned())
        } else {
            match &g.config {
                None => Some("its config could not be read".to_owned()),
                Some(c) => c
                    .marker
                    .as_ref()
                    .map(|m| format!("it carries the marker of class {}", m.class)),
            }
        };
        match (skip, scheme.slot_of(vmid), &g.config) {
            (Some(reason), _, _) => survey.skipped.push((vmid, reason)),
            (None, Some(slot), Some(config)) => survey.found.push(Found {
                vmid,
                slot,
                node: g.node.clone(),
                name: None,
                config: config.clone(),
            }),
            _ => {}
        }
    }
    Ok(survey)
}

/// Marks and records every adoptable VM of the survey for `class`; returns the adopted VMIDs.
/// A VM that cannot be marked (locked, changed meanwhile) is skipped: it stays as it was.
///
/// # Errors
/// [`crate::Error::Internal`] when the database fails.
pub(crate) async fn adopt(lab: &Lab, class: &Class, survey: &Survey) -> Result<Vec<VmId>> {
    let client = client_for(lab, &survey.cluster).await?;
    let mut adopted = Vec::new();
    for found in &survey.found {
        let marker = Marker::new(class.id, found.slot, survey.cluster.clone());
        let qemu = client.node(&found.node).qemu(found.vmid.get());
        let mut update = ConfigUpdate::new()
            .set(
                "description",
                marker.merged_into(found.config.description.as_deref()),
            )
            .set("tags", with_tag(found.config.tags.as_deref()));
        if let Some(digest) = &found.config.digest {
            update = update.digest(digest.clone());
        }
        if let Err(e) = qemu.update_config(&update).await {
            tracing::warn!(vmid = %found.vmid, error = %e, "a VM could not be adopted");
            continue;
        }
        let mac = match qemu.config().await {
            Ok(c) => config_fact(&c).mac,
            Err(_) => found.config.mac.clone(),
        };
        let role = match found.slot {
            Slot::Teacher => VmRole::Teacher,
            Slot::Base => VmRole::Base,
            Slot::Student(slot) => VmRole::Student { slot },
        };
        let (id, cluster, vmid, node) = (
            class.id,
            survey.cluster.clone(),
            found.vmid,
            found.node.clone(),
        );
        let name = found
            .name
            .clone()
            .unwrap_or_else(|| format!("vm-{}", found.vmid));
        lab.db()
            .write(move |tx| {
                steps::insert_planned(
                    tx,
                    id,
                    &Planned {
                        cluster: &cluster,
                        vmid,
                        role,
                        node: &node,
                        name: &name,
                        step: VmStep::Configured,
                        mac: mac.as_deref(),
                    },
                )
            })
            .await?;
        adopted.push(found.vmid);
    }
    Ok(adopted)
}
