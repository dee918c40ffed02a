//! VM addresses: the guest agent, a container's interfaces and the host's neighbour table (a
//! fixed one here), an agent that is not running yet during boot, remote-login probes that
//! never leave loopback, and the cluster switches for lookups and for keeping addresses.

use std::net::IpAddr;

use pvelab_core::jobs::{
    JobKind, MacAddress, Neighbour, RemoteService, RunOutcome, Subnet, SyncWhat, TcpProbe,
};
use pvelab_core::model::{ClusterJobChange, GuestKind};
use pvelab_core::types::VmId;
use tokio_util::sync::CancellationToken;

use crate::jobs_support::{jobs_world, minutes, JobsWorld, LoopbackProbe, Options};

async fn mac_of(world: &JobsWorld, vmid: u32) -> MacAddress {
    let client = pvelab_proxmox::Client::builder(&world.sim.base_url())
        .api_token(&world.sim.api_token())
        .insecure()
        .build()
        .unwrap();
    let node = client
        .cluster()
        .vms()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.vmid == Some(vmid))
        .and_then(|g| g.node)
        .unwrap();
    let config = client.node(node).qemu(vmid).config().await.unwrap();
    let (_, net) = config.nets().unwrap().into_iter().next().unwrap();
    MacAddress::parse(net.mac().unwrap()).unwrap()
}

async fn pool_ip(
    world: &JobsWorld,
    class: &pvelab_core::model::Class,
    vmid: VmId,
) -> Option<String> {
    world
        .lab()
        .pool(&world.w.teacher, class.id)
        .await
        .unwrap()
        .into_iter()
        .find(|vm| vm.vmid == vmid)
        .unwrap()
        .cached_ip
}

#[tokio::test]
async fn addresses_come_from_the_agent_the_container_and_the_neighbour_table() {
    // An SSH "service" on loopback, and a closed RDP port.
    let ssh = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rdp_port = closed.local_addr().unwrap().port();
    drop(closed);
    let probe = LoopbackProbe {
        tcp: TcpProbe::default().with_ports(ssh.local_addr().unwrap().port(), rdp_port),
        ..LoopbackProbe::default()
    };
    let mut options = Options {
        probe: probe.clone(),
        ..Options::default()
    };
    // VMs 100-107 (106 has no guest agent and runs), containers 108-109 (108 runs).
    options.sim.vms = 8;
    let world = {
        // The neighbour table needs VM 106's MAC, which only the simulator knows: start once
        // to read it, then build the world whose table maps it to loopback.
        let probe_world = jobs_world(Options {
            sim: options.sim.clone(),
            ..Options::default()
        })
        .await;
        let mac = mac_of(&probe_world, 106).await;
        options.neighbours = vec![
            Neighbour {
                ip: "127.0.0.1".parse().unwrap(),
                mac,
            },
            // Outside the cluster's subnets: never used.
            Neighbour {
                ip: "192.0.2.7".parse().unwrap(),
                mac: mac_of(&probe_world, 104).await,
            },
        ];
        jobs_world(options).await
    };
    world
        .lab()
        .change_cluster_job_settings(
            &world.w.admin,
            &world.cluster,
            ClusterJobChange {
                arp_subnets: Some(vec![Subnet::parse("127.0.0.0/8").unwrap()]),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    let class = world.class_at_100("net101").await;
    let agent = world.register(&class, 2).await;
    let no_agent = world.register(&class, 6).await;
    let container = world.register(&class, 8).await;
    let stopped = world.register(&class, 3).await;

    let report = world
        .lab()
        .sync_now(&world.w.admin, SyncWhat::All, Some(world.cluster.clone()))
        .await
        .unwrap();
    assert!(report.all_ok(), "{report:?}");
    assert_eq!(
        report
            .stats(JobKind::Addresses, &world.cluster)
            .unwrap()
            .written,
        3
    );

    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    let row = |vmid: VmId| rows.iter().find(|r| r.vmid == vmid).unwrap().clone();

    // The agent: its first IPv4 address; no SSH probe left loopback (the probe said closed).
    let from_agent = row(agent);
    assert_eq!(from_agent.ip.as_deref(), Some("10.0.0.102"));
    assert_eq!(from_agent.os_type.as_deref(), Some("l26"));
    assert!(from_agent.mac_address.is_some());
    assert!(!from_agent.ssh_available && !from_agent.rdp_available);
    let asked = probe.asked.lock().unwrap().clone();
    assert!(asked.contains(&("10.0.0.102".parse::<IpAddr>().unwrap(), RemoteService::Ssh)));

    // No agent: the neighbour table inside the cluster's subnets, and a real SSH probe.
    let from_table = row(no_agent);
    assert_eq!(from_table.ip.as_deref(), Some("127.0.0.1"));
    assert!(
        from_table.ssh_available,
        "the loopback SSH listener answered"
    );
    assert!(!from_table.rdp_available, "nothing listens on the RDP port");

    // A container reports its own interfaces.
    let from_container = row(container);
    assert_eq!(from_container.kind, GuestKind::Lxc);
    assert_eq!(from_container.ip.as_deref(), Some("10.0.0.108"));

    // A stopped VM has no address.
    assert_eq!(row(stopped).ip, None);
    assert!(asked.iter().all(|(ip, _)| ip.to_string() != "192.0.2.7"));

    // The pool VMs carry their addresses for /myvm.
    assert_eq!(
        pool_ip(&world, &class, agent).await.as_deref(),
        Some("10.0.0.102")
    );
    assert_eq!(
        pool_ip(&world, &class, no_agent).await.as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(pool_ip(&world, &class, stopped).await, None);
}

#[tokio::test]
async fn an_agent_that_is_not_running_yet_during_boot_is_not_an_error() {
    let mut options = Options::default();
    // The agent answers a minute (simulated) after a start.
    options.sim.timing.agent_delay_secs = 6000.0;
    let world = jobs_world(options).await;
    let class = world.class_at_100("net101").await;
    // VM 101 reports only an IPv6 address through its agent; it is stopped until now.
    let vm = world.register(&class, 1).await;
    world.sim.start_guest(vm.get()).unwrap();

    world.sync(JobKind::Inventory).await;
    let report = world.sync(JobKind::Addresses).await;
    assert_eq!(
        report
            .stats(JobKind::Addresses, &world.cluster)
            .unwrap()
            .written,
        0
    );
    assert_eq!(
        world.sim.count(
            "GET",
            "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces"
        ),
        1
    );
    let status = world
        .lab()
        .sync_status(&world.w.admin, Some(&world.cluster))
        .await
        .unwrap();
    assert!(status.iter().all(|s| s.last_error.is_none()), "{status:?}");
    assert_eq!(pool_ip(&world, &class, vm).await, None);

    world.advance(minutes(2));
    world.sync(JobKind::Addresses).await;
    let ip = pool_ip(&world, &class, vm).await;
    assert_eq!(ip.as_deref(), Some("fd00:5e11::65"), "an IPv6-only guest");
    let row = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.vmid == vm)
        .unwrap();
    assert_eq!(row.ipv6.as_deref(), Some("fd00:5e11::65"));
}

#[tokio::test]
async fn lookups_can_be_switched_off_and_addresses_need_not_outlive_a_restart() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let vm = world.register(&class, 2).await;
    world.sync(JobKind::Inventory).await;
    world.sync(JobKind::Addresses).await;
    assert!(pool_ip(&world, &class, vm).await.is_some());

    let off = |change: ClusterJobChange| {
        world
            .lab()
            .change_cluster_job_settings(&world.w.admin, &world.cluster, change)
    };
    off(ClusterJobChange {
        enable_ip_lookup: Some(false),
        ..ClusterJobChange::default()
    })
    .await
    .unwrap();
    world.sim.reset_counters();
    let report = world
        .lab()
        .sync_now(&world.w.admin, SyncWhat::Job(JobKind::Addresses), None)
        .await
        .unwrap();
    assert!(
        matches!(report.runs[0].outcome, RunOutcome::Skipped { .. }),
        "{report:?}"
    );
    assert_eq!(world.sim.total_requests(), 0);
    assert!(
        pool_ip(&world, &class, vm).await.is_some(),
        "kept while persistence is on"
    );

    // Without persistence, the addresses are cleared when the jobs start.
    off(ClusterJobChange {
        enable_ip_persistence: Some(false),
        ..ClusterJobChange::default()
    })
    .await
    .unwrap();
    let jobs = world.lab().start_jobs(CancellationToken::new());
    jobs.wait_for_runs(JobKind::Inventory, &world.cluster, 1)
        .await;
    jobs.shutdown().await;
    assert_eq!(pool_ip(&world, &class, vm).await, None);
}
