//! The guest agent (booting, addresses after the delay, IPv6 only, no agent) and containers
//! (list, status, config, interfaces, power).

use std::net::IpAddr;
use std::time::Duration;

use pvelab_proxmox::{Client, Error, GuestStatus, ShutdownParams, TaskWait};
use pvelab_pve_sim::SimConfig;

use crate::support::{self, run_task, IPV6_ONLY_VM, NO_AGENT_VM};

/// Seconds of simulated time after a start until the agent answers (`agent_delay_secs` times
/// `time_scale`): long enough that no test reaches it without advancing the simulated clock.
const AGENT_DELAY: f64 = 600.0;

/// The agent call as the simulator counts it.
const AGENT_PATH: &str = "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces";

fn slow_agent() -> SimConfig {
    let mut cfg = support::config();
    cfg.timing.agent_delay_secs = AGENT_DELAY / cfg.time_scale;
    cfg
}

/// Start `vmid` on `node` unless it already runs.
async fn ensure_running(client: &Client, node: &str, vmid: u32) {
    let vm = client.node(node).qemu(vmid);
    if vm.status().await.expect("status").status != GuestStatus::Running {
        run_task(client, vm.start().await.expect("start")).await;
    }
}

async fn node_of(client: &Client, vmid: u32) -> String {
    client
        .cluster()
        .vms()
        .await
        .expect("vms")
        .into_iter()
        .find(|r| r.vmid == Some(vmid))
        .and_then(|r| r.node)
        .unwrap_or_else(|| panic!("guest {vmid} is listed"))
}

fn short_wait(timeout: Duration) -> TaskWait {
    TaskWait {
        timeout,
        ..support::fast_wait()
    }
}

#[tokio::test]
async fn the_agent_refuses_while_the_vm_boots_and_reports_its_address_after_the_delay() {
    let sim = support::start(slow_agent()).await;
    let client = support::token_client(&sim);
    let id = support::linked_clone(&client, 200).await;
    let vm = client.node("pve1").qemu(id);

    match vm.agent_network_interfaces().await {
        Err(Error::GuestNotRunning { vmid, message }) => {
            assert_eq!(vmid, id);
            assert!(message.contains("is not running"), "{message}");
        }
        other => panic!("a stopped VM has no agent: {other:?}"),
    }

    run_task(&client, vm.start().await.expect("start")).await;
    let booting = vm.agent_network_interfaces().await;
    assert!(
        matches!(&booting, Err(e @ Error::AgentNotRunning { .. }) if e.is_transient()),
        "{booting:?}"
    );
    let waited = vm
        .wait_for_addresses(short_wait(Duration::from_millis(60)))
        .await;
    assert!(matches!(waited, Err(Error::Timeout { .. })), "{waited:?}");

    sim.advance_clock(AGENT_DELAY);
    let ifaces = vm.agent_network_interfaces().await.expect("agent answers");
    let addrs = vm
        .wait_for_addresses(short_wait(Duration::from_secs(5)))
        .await
        .expect("addresses");

    let ens18 = ifaces
        .iter()
        .find(|i| i.name == "ens18")
        .expect("the NIC is reported");
    let config_mac = vm.config().await.expect("config").nets().expect("nets")[0]
        .1
        .mac()
        .map(str::to_lowercase);
    assert_eq!(
        ens18.hardware_address, config_mac,
        "the agent shows the VM's MAC"
    );
    assert!(ifaces.iter().any(|i| i.name == "lo"));
    assert_eq!(
        addrs.len(),
        1,
        "loopback and link-local are left out: {addrs:?}"
    );
    match addrs[0] {
        IpAddr::V4(v4) => assert_eq!(v4.octets()[0], 10, "{v4}"),
        IpAddr::V6(v6) => panic!("expected the IPv4 address, got {v6}"),
    }
    let listed = ens18
        .ip_addresses
        .iter()
        .find(|a| a.addr() == Some(addrs[0]))
        .expect("the address is listed on ens18");
    assert_eq!(listed.prefix, Some(24));
    assert_eq!(listed.ip_address_type, "ipv4");
}

#[tokio::test]
async fn a_vm_whose_agent_reports_only_ipv6_yields_its_ipv6_address() {
    let sim = support::start(slow_agent()).await;
    let client = support::token_client(&sim);
    let node = node_of(&client, IPV6_ONLY_VM).await;
    ensure_running(&client, &node, IPV6_ONLY_VM).await;
    sim.advance_clock(AGENT_DELAY);

    let addrs = client
        .node(&node)
        .qemu(IPV6_ONLY_VM)
        .wait_for_addresses(short_wait(Duration::from_secs(5)))
        .await
        .expect("addresses");

    assert_eq!(addrs.len(), 1, "{addrs:?}");
    match addrs[0] {
        IpAddr::V6(v6) => {
            assert_ne!(v6.segments()[0] & 0xffc0, 0xfe80, "not link-local: {v6}");
            assert!(!v6.is_loopback());
        }
        IpAddr::V4(v4) => panic!("the VM reports only IPv6, got {v4}"),
    }
}

#[tokio::test]
async fn a_vm_without_an_agent_fails_at_once_instead_of_being_polled_forever() {
    let (sim, client) = support::sim_and_client().await;
    let node = node_of(&client, NO_AGENT_VM).await;
    ensure_running(&client, &node, NO_AGENT_VM).await;
    let vm = client.node(&node).qemu(NO_AGENT_VM);
    assert!(!vm.status().await.expect("status").agent);

    let direct = vm.agent_network_interfaces().await;
    let waited = vm
        .wait_for_addresses(short_wait(Duration::from_secs(30)))
        .await;

    for result in [direct.map(|_| ()), waited.map(|_| ())] {
        match result {
            Err(e @ Error::AgentNotConfigured { .. }) => {
                assert!(
                    e.to_string().contains("No QEMU guest agent configured"),
                    "{e}"
                );
                assert!(!e.is_transient(), "waiting will not help: {e}");
            }
            other => panic!("expected the no-agent error, got {other:?}"),
        }
    }
    assert_eq!(
        sim.count("GET", AGENT_PATH),
        2,
        "one direct call and one poll: waiting stopped at the first answer"
    );
}

#[tokio::test]
async fn waiting_for_the_address_of_a_stopped_vm_stops_at_once_and_names_it() {
    let (sim, client) = support::sim_and_client().await;
    let node = node_of(&client, IPV6_ONLY_VM).await;
    let vm = client.node(&node).qemu(IPV6_ONLY_VM);
    if vm.status().await.expect("status").status == GuestStatus::Running {
        run_task(&client, vm.stop().await.expect("stop")).await;
    }
    sim.reset_counters();

    let waited = vm
        .wait_for_addresses(short_wait(Duration::from_secs(30)))
        .await;

    match waited {
        Err(e @ Error::GuestNotRunning { vmid, .. }) => {
            assert_eq!(vmid, IPV6_ONLY_VM);
            assert!(!e.is_transient(), "it has to be started first: {e}");
        }
        other => panic!("expected the stopped-guest error, got {other:?}"),
    }
    assert_eq!(sim.count("GET", AGENT_PATH), 1, "no second poll");
}

#[tokio::test]
async fn containers_are_listed_configured_powered_and_show_their_interfaces() {
    let (_sim, client) = support::sim_and_client().await;
    let containers: Vec<_> = client
        .cluster()
        .vms()
        .await
        .expect("vms")
        .into_iter()
        .filter(|r| r.kind == "lxc")
        .collect();
    assert_eq!(containers.len(), support::CONTAINERS);
    let ct = &containers[0];
    let vmid = ct.vmid.expect("vmid");
    let node = client.node(ct.node.clone().expect("node"));
    let listed = node.lxc_list().await.expect("lxc list");
    assert!(listed.iter().any(|g| g.vmid == Some(vmid)), "{listed:?}");

    let lxc = node.lxc(vmid);
    assert_eq!(lxc.vmid(), vmid);
    let config = lxc.config().await.expect("config");
    assert!(config.name().is_some(), "hostname serves as the name");
    assert_eq!(config.memory_mib(), Some(512));
    let (_, net) = config
        .nets()
        .expect("nets")
        .into_iter()
        .next()
        .expect("net0");
    assert_eq!(net.model(), "veth");
    assert!(net.mac().is_some());
    let (_, rootfs) = config
        .disks()
        .expect("disks")
        .into_iter()
        .find(|(k, _)| k == "rootfs")
        .expect("rootfs");
    assert_eq!(rootfs.storage(), Some("local-lvm"));

    if lxc.status().await.expect("status").status != GuestStatus::Running {
        run_task(&client, lxc.start().await.expect("start")).await;
    }
    assert_eq!(support::state(lxc.status()).await, GuestStatus::Running);
    let ifaces = lxc.interfaces().await.expect("interfaces");
    let eth0 = ifaces.iter().find(|i| i.name == "eth0").expect("eth0");
    assert!(
        matches!(eth0.ipv4(), Some(IpAddr::V4(v4)) if v4.octets()[0] == 10),
        "{eth0:?}"
    );
    assert_eq!(
        eth0.hwaddr.as_deref().map(str::to_lowercase),
        net.mac().map(str::to_lowercase)
    );

    run_task(
        &client,
        lxc.shutdown(&ShutdownParams::default())
            .await
            .expect("shutdown"),
    )
    .await;
    assert_eq!(support::state(lxc.status()).await, GuestStatus::Stopped);
    match lxc.interfaces().await {
        Err(Error::GuestNotRunning { message, .. }) => {
            assert!(message.contains("not running"), "{message}")
        }
        other => panic!("a stopped container has no interfaces: {other:?}"),
    }
    run_task(&client, lxc.start().await.expect("start")).await;
    run_task(&client, lxc.stop().await.expect("stop")).await;
    assert_eq!(support::state(lxc.status()).await, GuestStatus::Stopped);
}

#[tokio::test]
async fn an_agent_that_never_answers_ends_the_wait_with_its_timeout_text() {
    let (sim, client) = support::sim_and_client().await;
    let node = node_of(&client, 100).await;
    ensure_running(&client, &node, 100).await;
    sim.set_faults(pvelab_pve_sim::FaultConfig {
        agent_never_answers: true,
        ..Default::default()
    })
    .expect("faults");
    sim.reset_counters();

    let waited = client
        .node(&node)
        .qemu(100)
        .wait_for_addresses(short_wait(Duration::from_secs(30)))
        .await;

    match waited {
        Err(Error::Api {
            status: 500,
            message,
        }) => assert!(
            message.contains("qmp command 'guest-network-get-interfaces' failed - got timeout"),
            "{message}"
        ),
        other => panic!("expected the agent's timeout, got {other:?}"),
    }
    // A timed-out read is retried like any transient GET, then the wait gives up at once.
    let retries = u64::from(support::fast_retry().max_retries);
    assert_eq!(
        sim.count(
            "GET",
            "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces"
        ),
        1 + retries
    );
}
