//! Retries under injected faults: with one request in ten answered 500 (lock request timeout),
//! 595 or 596 before it runs, reads converge through the client's retries. Writes are re-sent
//! by the client only after the lock request timeout, which PVE raises before doing anything;
//! after a 595/596 the caller decides. The simulator's request and status counters show both.
//! Timeouts from injected latency follow the same rule.

use std::time::Duration;

use pvelab_proxmox::{CloneParams, ConfigUpdate, Error};
use pvelab_pve_sim::FaultConfig;

use crate::support::{self, TEMPLATE};

/// Ten per cent of all requests fail before they run.
fn ten_percent() -> FaultConfig {
    FaultConfig {
        seed: Some(10),
        error_500_rate: 0.04,
        error_595_rate: 0.03,
        error_596_rate: 0.03,
        ..FaultConfig::default()
    }
}

/// Only the proxy faults (595/596): a write that meets one is not re-sent by the client.
fn proxy_faults() -> FaultConfig {
    FaultConfig {
        seed: Some(10),
        error_595_rate: 0.05,
        error_596_rate: 0.05,
        ..FaultConfig::default()
    }
}

/// An injected fault that reached the caller. The simulator draws faults before running the
/// request, so nothing happened. A lock request timeout reaches the caller only when the
/// client's retries ran out.
fn injected(e: &Error) -> bool {
    match e {
        Error::NodeUnreachable { .. } => true,
        Error::LockTimeout { message } => message.contains("got lock request timeout"),
        _ => false,
    }
}

/// Answers of one endpoint that were injected faults (500, 595, 596): requests that did nothing.
fn faulted(sim: &pvelab_pve_sim::SimHandle, method: &str, path: &str) -> u64 {
    [500, 595, 596]
        .iter()
        .map(|&status| sim.count_status(method, path, status))
        .sum()
}

#[tokio::test]
async fn reads_converge_through_retries_under_ten_percent_faults() {
    let (sim, client) = support::sim_and_client().await;
    sim.set_faults(ten_percent()).expect("faults");
    const READS: u64 = 200;

    for _ in 0..READS {
        let vms = client.cluster().vms().await.expect("every read converges");
        assert!(!vms.is_empty());
    }

    let sent = sim.count("GET", "/cluster/resources");
    assert!(
        sent > READS,
        "faulted reads were retried: {sent} requests for {READS} reads"
    );
    // About one in ten is retried; far more would mean retries without a fault.
    assert!(sent < READS * 3 / 2, "{sent} requests for {READS} reads");
}

#[tokio::test]
async fn writes_are_sent_once_by_the_client_after_a_proxy_fault_and_converge_when_the_caller_repeats_them(
) {
    let (sim, client) = support::sim_and_client().await;
    let vm = client.node("pve1").qemu(100);
    sim.set_faults(proxy_faults()).expect("faults");
    const WRITES: u32 = 100;

    let mut attempts = 0u64;
    let mut refused = 0u64;
    for i in 0..WRITES {
        let update = ConfigUpdate::new().set("description", format!("revision {i}"));
        loop {
            attempts += 1;
            match vm.update_config(&update).await {
                Ok(()) => break,
                Err(e) if injected(&e) => refused += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
    }

    let sent = sim.count("PUT", "/nodes/{node}/qemu/{vmid}/config");
    assert_eq!(
        sent, attempts,
        "the client never re-sent a write on its own"
    );
    assert!(refused > 0, "some writes met a fault (seeded, 10 %)");
    assert_eq!(attempts, u64::from(WRITES) + refused);
    let config = vm.config().await.expect("config");
    assert_eq!(
        config.get("description").as_deref(),
        Some(format!("revision {}", WRITES - 1).as_str())
    );
}

#[tokio::test]
async fn writes_that_meet_a_lock_request_timeout_are_retried_by_the_client() {
    let (sim, client) = support::sim_and_client().await;
    let vm = client.node("pve1").qemu(100);
    sim.set_faults(FaultConfig {
        seed: Some(10),
        error_500_rate: 0.1,
        ..FaultConfig::default()
    })
    .expect("faults");
    const WRITES: u32 = 100;
    const PUT: (&str, &str) = ("PUT", "/nodes/{node}/qemu/{vmid}/config");

    for i in 0..WRITES {
        let update = ConfigUpdate::new().set("description", format!("revision {i}"));
        vm.update_config(&update)
            .await
            .expect("the client rides out the lock request timeout");
    }

    let sent = sim.count(PUT.0, PUT.1);
    let refused = sim.count_status(PUT.0, PUT.1, 500);
    assert!(refused > 0, "some writes met the fault (seeded, 10 %)");
    assert_eq!(
        sent - refused,
        u64::from(WRITES),
        "every write ran exactly once; the client re-sent only refused ones"
    );
    let config = vm.config().await.expect("config");
    assert_eq!(
        config.get("description").as_deref(),
        Some(format!("revision {}", WRITES - 1).as_str())
    );
}

#[tokio::test]
async fn clones_under_faults_create_every_vm_exactly_once() {
    let (sim, client) = support::sim_and_client().await;
    let template = client.node("pve1").qemu(TEMPLATE);
    let before = sim.guest_count();
    sim.set_faults(ten_percent()).expect("faults");
    let ids: Vec<u32> = (200..215).collect();

    let mut attempts = 0u64;
    for &id in &ids {
        let upid = loop {
            attempts += 1;
            match template.clone_vm(&CloneParams::new(id)).await {
                Ok(upid) => break upid,
                Err(e) if injected(&e) => {
                    // A refused clone did nothing: the id is still free (a read, retried).
                    assert!(client.cluster().is_vmid_free(id).await.expect("probe"));
                }
                Err(e) => panic!("unexpected error: {e}"),
            }
        };
        // Task polling meets faults too; the client retries those reads.
        client
            .wait_for_task(&upid)
            .await
            .expect("the clone finishes");
    }

    const CLONE: (&str, &str) = ("POST", "/nodes/{node}/qemu/{vmid}/clone");
    let sent = sim.count(CLONE.0, CLONE.1);
    assert!(sent >= attempts, "{sent} requests for {attempts} attempts");
    assert_eq!(
        sent - faulted(&sim, CLONE.0, CLONE.1),
        ids.len() as u64,
        "every clone request that ran created its VM; no clone ran twice"
    );
    assert_eq!(sim.guest_count(), before + ids.len());
    let vms = client.cluster().vms().await.expect("vms");
    for id in ids {
        let found: Vec<_> = vms.iter().filter(|r| r.vmid == Some(id)).collect();
        assert_eq!(found.len(), 1, "VM {id} exists once");
        assert_eq!(found[0].lock, None, "VM {id} is unlocked");
    }
}

#[tokio::test]
async fn a_slow_server_times_reads_out_after_retries_and_writes_after_one_attempt() {
    let sim = support::sim().await;
    let client = support::builder(&sim)
        .api_token(&sim.api_token())
        .request_timeout(Duration::from_millis(50))
        .build()
        .expect("client");
    // Every request waits two seconds in the simulator before it is served.
    sim.set_faults(FaultConfig {
        latency_ms: 2_000,
        ..FaultConfig::default()
    })
    .expect("faults");

    let read = client.version().await;
    let write = client.node("pve1").qemu(100).start().await;

    for (result, what) in [(read.map(|_| ()), "GET"), (write.map(|_| ()), "POST")] {
        match result {
            Err(e @ Error::Timeout { .. }) => {
                assert!(e.to_string().contains(what), "{e}");
                assert!(e.is_transient());
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
    let retries = u64::from(support::fast_retry().max_retries);
    assert_eq!(
        sim.count("GET", "/version"),
        1 + retries,
        "reads are retried"
    );
    assert_eq!(
        sim.count("POST", "/nodes/{node}/qemu/{vmid}/status/start"),
        1,
        "a write that timed out may have happened: it is not sent again"
    );
}
