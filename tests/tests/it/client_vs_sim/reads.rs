//! Read-only endpoints: version, nodes, cluster resources, nextid, VM lists, status, config
//! (property strings), storages and ISOs, rrddata.

use pvelab_proxmox::{GuestStatus, NodeStatus, ResourceType, RrdCf, RrdTimeframe};
use pvelab_pve_sim::CpuLoad;

use crate::support::{self, CONTAINERS, TEMPLATE, VMS};

#[tokio::test]
async fn the_version_is_the_simulated_pve_release() {
    let (sim, client) = support::sim_and_client().await;

    let version = client.version().await.expect("version");

    assert_eq!(version.release, "9.2");
    assert!(version.version.starts_with("9.2"), "{version:?}");
    assert_eq!(sim.count("GET", "/version"), 1);
}

#[tokio::test]
async fn nodes_are_online_and_show_the_certificate_fingerprint_we_pinned() {
    let (sim, client) = support::sim_and_client().await;

    let mut nodes = client.nodes().await.expect("nodes");
    nodes.sort_by(|a, b| a.node.cmp(&b.node));

    let names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(names, ["pve1", "pve2", "pve3"]);
    for n in &nodes {
        assert_eq!(n.status, NodeStatus::Online, "{n:?}");
        assert_eq!(n.maxcpu, Some(32), "{n:?}");
        assert_eq!(n.maxmem, Some(256 * 1024 * 1024 * 1024), "{n:?}");
        assert_eq!(
            n.ssl_fingerprint.as_deref(),
            Some(sim.fingerprint().as_str()),
            "{n:?}"
        );
    }
}

#[tokio::test]
async fn cluster_resources_list_every_guest_once_with_loose_types_decoded() {
    let (_sim, client) = support::sim_and_client().await;

    let vms = client.cluster().vms().await.expect("cluster resources");

    let guests = VMS + CONTAINERS + pvelab_pve_sim::TEMPLATE_VMIDS.len();
    assert_eq!(vms.len(), guests, "{vms:#?}");
    assert!(vms.iter().all(|r| r.is_guest()));
    let template = vms
        .iter()
        .find(|r| r.vmid == Some(TEMPLATE))
        .expect("template 9000 listed");
    assert!(template.template);
    assert_eq!(template.kind, "qemu");
    assert_eq!(template.node.as_deref(), Some("pve1"));
    assert_eq!(template.id, "qemu/9000");
    let containers = vms.iter().filter(|r| r.kind == "lxc").count();
    assert_eq!(containers, CONTAINERS);
    let running = vms
        .iter()
        .filter(|r| r.guest_status() == GuestStatus::Running)
        .count();
    assert!(running > 0 && running < guests, "some run, some do not");

    let all = client.cluster().resources(None).await.expect("resources");
    assert!(all.iter().any(|r| r.kind == "node"));
    assert!(all.iter().any(|r| r.kind == "storage"));
    let only_nodes = client
        .cluster()
        .resources(Some(ResourceType::Node))
        .await
        .expect("node resources");
    assert_eq!(only_nodes.len(), 3);
}

#[tokio::test]
async fn nextid_arrives_as_a_string_and_probing_skips_taken_ids() {
    let (sim, client) = support::sim_and_client().await;
    // VMIDs 100..=109 are the populated VMs and containers.
    let first_free = (100 + VMS + CONTAINERS) as u32;

    let next = client.cluster().next_id().await.expect("nextid");
    assert_eq!(next, first_free);

    assert!(!client.cluster().is_vmid_free(100).await.expect("probe 100"));
    assert!(client
        .cluster()
        .is_vmid_free(first_free + 5)
        .await
        .expect("probe free"));
    let probed = client.free_vmid(Some(104)).await.expect("probing");
    assert_eq!(probed, first_free);
    // nextid, two single probes, then one probe per candidate from 104 to the free one.
    assert_eq!(
        sim.count("GET", "/cluster/nextid"),
        3 + u64::from(first_free - 104 + 1)
    );
}

#[tokio::test]
async fn a_node_lists_its_vms_and_their_status_and_config_decode() {
    let (_sim, client) = support::sim_and_client().await;
    let pve1 = client.node("pve1");

    let list = pve1.qemu_list().await.expect("qemu list");
    let ids: Vec<u32> = list.iter().filter_map(|g| g.vmid).collect();
    assert!(ids.contains(&TEMPLATE) && ids.contains(&100), "{ids:?}");
    assert!(
        list.iter().all(|g| g.maxmem.is_some()),
        "memory decoded for every VM"
    );

    let status = pve1.qemu(TEMPLATE).status().await.expect("status");
    assert!(status.template);
    assert_eq!(status.status, GuestStatus::Stopped);
    assert!(status.agent, "templates carry agent=1");

    let config = pve1.qemu(TEMPLATE).config().await.expect("config");
    assert!(config.is_template());
    assert_eq!(config.name().as_deref(), Some("debian-13-tmpl"));
    assert!(
        config.memory_mib().is_some_and(|m| m >= 512),
        "memory (a string) read as MiB"
    );
    assert!(config.digest().is_some_and(|d| d.len() >= 32));
    let nets = config.nets().expect("net property strings parse");
    assert_eq!(nets.len(), 1);
    let (slot, net) = &nets[0];
    assert_eq!(*slot, 0);
    assert_eq!(net.model(), "virtio");
    assert_eq!(net.bridge(), Some("vmbr0"));
    let mac = net.mac().expect("a MAC address");
    assert!(mac.starts_with("BC:24:11:"), "{mac}");
    assert_eq!(mac.len(), 17, "{mac}");
    let disks = config.disks().expect("disk property strings parse");
    let scsi0 = disks
        .iter()
        .find(|(k, _)| k == "scsi0")
        .map(|(_, d)| d)
        .expect("scsi0");
    assert_eq!(scsi0.storage(), Some("local-lvm"));
    assert!(scsi0.volume().contains("9000"), "{scsi0:?}");
    assert!(scsi0.size_bytes().is_some_and(|b| b > 0), "{scsi0:?}");
    let cdrom = disks
        .iter()
        .find(|(k, _)| k == "ide2")
        .map(|(_, d)| d)
        .expect("ide2");
    assert!(cdrom.is_cdrom());
}

#[tokio::test]
async fn storages_are_listed_and_isos_come_from_the_iso_store() {
    let (_sim, client) = support::sim_and_client().await;
    let node = client.node("pve2");

    let storages = node.storages(None).await.expect("storages");
    let mut names: Vec<&str> = storages.iter().map(|s| s.storage.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["local", "local-lvm", "shared-nfs"]);
    let nfs = storages
        .iter()
        .find(|s| s.storage == "shared-nfs")
        .expect("nfs");
    assert!(nfs.shared && nfs.active);
    assert!(nfs.total.is_some_and(|t| t > 0));

    let iso_stores = node.storages(Some("iso")).await.expect("iso stores");
    assert!(iso_stores.iter().all(|s| s.content.contains("iso")));

    let isos = node.isos().await.expect("isos");
    let volids: Vec<&str> = isos.iter().map(|i| i.volid.as_str()).collect();
    assert!(
        volids.contains(&"local:iso/debian-13.1.0-amd64-netinst.iso"),
        "{volids:?}"
    );
    assert!(isos
        .iter()
        .all(|i| i.format.as_deref() == Some("iso") && i.size.is_some_and(|s| s > 0)));

    // The image store of pve1 holds the template's base disk, owned by VMID 9000.
    let images = client
        .node("pve1")
        .storage("local-lvm")
        .content(None)
        .await
        .expect("content");
    let base = images
        .iter()
        .find(|c| c.vmid == Some(TEMPLATE))
        .expect("the template's disk is listed");
    assert!(base.volid.starts_with("local-lvm:base-9000"), "{base:?}");
}

#[tokio::test]
async fn rrddata_reflects_the_cpu_load_set_on_the_simulator() {
    let (sim, client) = support::sim_and_client().await;
    let running = client
        .cluster()
        .vms()
        .await
        .expect("vms")
        .into_iter()
        .find(|r| r.kind == "qemu" && r.guest_status() == GuestStatus::Running)
        .expect("a running VM");
    let vmid = running.vmid.expect("vmid");
    let vm = client.node(running.node.expect("node")).qemu(vmid);

    sim.set_cpu_load(vmid, CpuLoad::Busy).expect("busy");
    let busy = vm
        .rrddata(RrdTimeframe::Hour, RrdCf::Average)
        .await
        .expect("rrddata");
    let status = vm.status().await.expect("status");

    assert_eq!(busy.len(), 70);
    let times: Vec<u64> = busy.iter().filter_map(|p| p.time).collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 60),
        "60-second steps"
    );
    let last = busy.last().expect("a sample");
    assert!(last.cpu.is_some_and(|c| c > 0.5), "{last:?}");
    assert!(status.cpu.is_some_and(|c| c > 0.5), "{status:?}");

    sim.set_cpu_load(vmid, CpuLoad::Idle).expect("idle");
    let idle = vm
        .rrddata(RrdTimeframe::Hour, RrdCf::Average)
        .await
        .expect("rrddata");
    let last = idle.last().expect("a sample");
    assert!(last.cpu.is_some_and(|c| c < 0.1), "{last:?}");

    let day = vm
        .rrddata(RrdTimeframe::Day, RrdCf::Max)
        .await
        .expect("a day of maxima");
    let times: Vec<u64> = day.iter().filter_map(|p| p.time).collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 1800),
        "30-minute steps"
    );
}
