//! Building the initial cluster from the configuration and the seed.
//!
//! Layout (documented in the README):
//! - nodes `pve1..pveN`; storages `local` (ISOs), `local-lvm` (node-local images) and
//!   `shared-nfs` (shared images);
//! - templates 9000 `debian-13-tmpl` (pve1, local-lvm), 9001 `ubuntu-24.04-tmpl` (pve1,
//!   local-lvm), 9002 `win11-tmpl` (last node, local-lvm), 9010 `debian-13-shared-tmpl` (pve1,
//!   shared-nfs: linked clones may target any node);
//! - `vms` VMs from VMID 100 (stepping over the template ids), round-robin over nodes, every
//!   second one running; the VM at offset 1 reports only IPv6 through its agent; every VM at
//!   offset 7k+6 has no agent;
//! - `containers` containers after the VMs; pool `lab` holding the first ten VMs.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::config::SimConfig;
use crate::load::AnchoredLoad;
use crate::model::{AgentNet, Guest, Iso, Kind, Node, Pool, Storage, World};

/// VMIDs of the populated templates.
pub const TEMPLATE_VMIDS: [u32; 4] = [9000, 9001, 9002, 9010];

pub(crate) fn random_mac(rng: &mut StdRng) -> String {
    // BC:24:11 is the prefix Proxmox VE uses for generated addresses.
    let b: [u8; 3] = rng.gen();
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
}

pub(crate) fn random_uuid(rng: &mut StdRng) -> String {
    let b: [u8; 16] = rng.gen();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub(crate) struct QemuSpec<'a> {
    pub(crate) name: &'a str,
    pub(crate) memory_mib: u64,
    pub(crate) cores: u64,
    pub(crate) disk: String,
    pub(crate) ostype: &'a str,
    pub(crate) agent: bool,
    pub(crate) template: bool,
    pub(crate) tags: Option<&'a str>,
}

pub(crate) fn qemu_config(
    spec: &QemuSpec<'_>,
    rng: &mut StdRng,
    now: i64,
) -> BTreeMap<String, Value> {
    let mut c = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        c.insert(k.to_owned(), v);
    };
    put("name", spec.name.into());
    // Recent PVE versions send memory as a string; clients must cope.
    put("memory", spec.memory_mib.to_string().into());
    put("cores", spec.cores.into());
    put("sockets", 1.into());
    put("cpu", "x86-64-v2-AES".into());
    put("ostype", spec.ostype.into());
    put("scsihw", "virtio-scsi-single".into());
    put("scsi0", spec.disk.clone().into());
    put("boot", "order=scsi0;net0".into());
    put("ide2", "none,media=cdrom".into());
    put(
        "net0",
        format!("virtio={},bridge=vmbr0,firewall=1", random_mac(rng)).into(),
    );
    if spec.agent {
        put("agent", "1".into());
    }
    put("smbios1", format!("uuid={}", random_uuid(rng)).into());
    put("vmgenid", random_uuid(rng).into());
    put("meta", format!("creation-qemu=10.0.2,ctime={now}").into());
    if spec.template {
        put("template", 1.into());
    }
    if let Some(t) = spec.tags {
        put("tags", t.into());
    }
    c
}

pub(crate) fn lxc_config(vmid: u32, hostname: &str, rng: &mut StdRng) -> BTreeMap<String, Value> {
    let mut c = BTreeMap::new();
    c.insert("hostname".into(), hostname.into());
    // Containers keep memory as an integer.
    c.insert("memory".into(), 512.into());
    c.insert("swap".into(), 512.into());
    c.insert("cores".into(), 1.into());
    c.insert("ostype".into(), "debian".into());
    c.insert("arch".into(), "amd64".into());
    c.insert(
        "rootfs".into(),
        format!("local-lvm:vm-{vmid}-disk-0,size=8G").into(),
    );
    c.insert(
        "net0".into(),
        format!(
            "name=eth0,bridge=vmbr0,firewall=1,hwaddr={},ip=dhcp,type=veth",
            random_mac(rng)
        )
        .into(),
    );
    c.insert("unprivileged".into(), 1.into());
    c
}

pub(crate) fn guest(
    kind: Kind,
    vmid: u32,
    node: &str,
    config: BTreeMap<String, Value>,
    created: i64,
) -> Guest {
    Guest {
        kind,
        vmid,
        node: node.to_owned(),
        config,
        running: false,
        started_at: 0.0,
        created,
        snapshots: Vec::new(),
        pool: None,
        load: AnchoredLoad::idle(),
        agent_net: AgentNet::DualStack,
        power_log: vec![(created, false)],
        disk_bytes: 0,
        pending: BTreeMap::new(),
        agent: Default::default(),
    }
}

pub(crate) fn populate(cfg: &SimConfig, now: i64) -> World {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut w = World {
        next_pid: 0x1000,
        ..World::default()
    };
    for i in 1..=cfg.nodes {
        w.nodes.push(Node {
            name: format!("pve{i}"),
            online: true,
            cores: cfg.node_cores,
            memory: cfg.node_memory_gib << 30,
            booted_at: now - 30 * 86_400,
        });
    }
    w.storages = vec![
        Storage {
            id: "local".into(),
            kind: "dir",
            content: "iso,vztmpl,backup",
            shared: false,
            total: 100 << 30,
        },
        Storage {
            id: "local-lvm".into(),
            kind: "lvmthin",
            content: "images,rootdir",
            shared: false,
            total: 2 << 40,
        },
        Storage {
            id: "shared-nfs".into(),
            kind: "nfs",
            content: "images,rootdir,iso",
            shared: true,
            total: 8 << 40,
        },
    ];
    for (name, size) in [
        ("debian-13.1.0-amd64-netinst.iso", 784_334_848u64),
        ("ubuntu-24.04.3-live-server-amd64.iso", 3_213_064_192),
        ("Win11_24H2_English_x64.iso", 5_819_484_160),
        ("virtio-win-0.1.271.iso", 709_558_272),
    ] {
        w.isos.push(Iso {
            volid: format!("local:iso/{name}"),
            size,
            ctime: now - 20 * 86_400,
        });
    }
    let created = now - 7 * 86_400;
    let last = format!("pve{}", cfg.nodes);
    let templates = [
        (
            9000,
            "debian-13-tmpl",
            "pve1",
            "local-lvm",
            2048,
            2,
            32,
            "l26",
        ),
        (
            9001,
            "ubuntu-24.04-tmpl",
            "pve1",
            "local-lvm",
            4096,
            2,
            40,
            "l26",
        ),
        (
            9002,
            "win11-tmpl",
            last.as_str(),
            "local-lvm",
            8192,
            4,
            64,
            "win11",
        ),
        (
            9010,
            "debian-13-shared-tmpl",
            "pve1",
            "shared-nfs",
            2048,
            2,
            32,
            "l26",
        ),
    ];
    for (vmid, name, node, storage, mem, cores, gib, os) in templates {
        let spec = QemuSpec {
            name,
            memory_mib: mem,
            cores,
            disk: format!("{storage}:base-{vmid}-disk-0,iothread=1,size={gib}G"),
            ostype: os,
            agent: true,
            template: true,
            tags: Some("template"),
        };
        let config = qemu_config(&spec, &mut rng, created);
        w.guests
            .insert(vmid, guest(Kind::Qemu, vmid, node, config, created));
    }
    w.pools.insert(
        "lab".into(),
        Pool {
            comment: "populated by the simulator".into(),
        },
    );
    // VMIDs count up from 100 and step over the templates' ids (large populations reach them).
    let mut next_id = 100u32;
    let mut take_id = |w: &World| {
        while w.guests.contains_key(&next_id) {
            next_id += 1;
        }
        next_id += 1;
        next_id - 1
    };
    for k in 0..cfg.vms {
        let vmid = take_id(&w);
        let node = format!("pve{}", k % cfg.nodes + 1);
        let name = format!("lab-vm-{vmid}");
        let spec = QemuSpec {
            name: &name,
            memory_mib: 2048,
            cores: 2,
            disk: format!("local-lvm:vm-{vmid}-disk-0,iothread=1,size=32G"),
            ostype: "l26",
            agent: k % 7 != 6,
            template: false,
            tags: Some("lab;sim"),
        };
        let config = qemu_config(&spec, &mut rng, created);
        let mut g = guest(Kind::Qemu, vmid, &node, config, created);
        if k == 1 {
            g.agent_net = AgentNet::Ipv6Only;
        }
        if k < 10 {
            g.pool = Some("lab".into());
        }
        g.disk_bytes = 6 << 30;
        if k % 2 == 0 {
            // Running for the last three hours, so rrddata has history.
            let since = (now - 3 * 3600) as f64;
            g.set_running(true, since);
        }
        w.guests.insert(vmid, g);
    }
    for k in 0..cfg.containers {
        let vmid = take_id(&w);
        let node = format!("pve{}", k % cfg.nodes + 1);
        let config = lxc_config(vmid, &format!("ct-{vmid}"), &mut rng);
        let mut g = guest(Kind::Lxc, vmid, &node, config, created);
        if k % 2 == 0 {
            g.set_running(true, (now - 3600) as f64);
        }
        w.guests.insert(vmid, g);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn macs(seed: u64) -> Vec<String> {
        let cfg = SimConfig {
            seed,
            vms: 20,
            ..SimConfig::default()
        };
        populate(&cfg, 1_800_000_000)
            .guests
            .values()
            .filter_map(Guest::mac)
            .collect()
    }

    #[test]
    fn the_same_seed_populates_the_same_mac_addresses() {
        assert_eq!(macs(7), macs(7));
        assert_ne!(macs(7), macs(8));
        assert!(macs(7).iter().all(|m| m.starts_with("BC:24:11:")));
    }

    #[test]
    fn a_large_population_keeps_every_template() {
        let cfg = SimConfig {
            vms: 9_000,
            ..SimConfig::default()
        };
        let w = populate(&cfg, 1_800_000_000);
        assert!(TEMPLATE_VMIDS.iter().all(|id| w.guests[id].is_template()));
        assert_eq!(
            w.guests.len(),
            9_000 + TEMPLATE_VMIDS.len() + cfg.containers
        );
    }
}
