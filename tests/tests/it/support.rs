//! Shared helpers: a simulator with a known population and clients pinned to it.

use std::future::Future;
use std::time::Duration;

use pvelab_proxmox::{
    Client, ClientBuilder, CloneParams, GuestStatus, GuestSummary, RetryPolicy, TaskWait, Upid,
};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};

/// VMs populated besides the templates: 100..=107 (101 reports only IPv6 through its agent,
/// 106 has no agent configured).
pub const VMS: usize = 8;
/// Containers populated after the VMs: 108 and 109.
pub const CONTAINERS: usize = 2;
/// The linked-clone source on `pve1` (local-lvm).
pub const TEMPLATE: u32 = 9000;
/// The VM whose guest agent reports only an IPv6 address.
pub const IPV6_ONLY_VM: u32 = 101;
/// The first VM without a guest agent (offset 7k+6).
pub const NO_AGENT_VM: u32 = 106;

/// A fast simulator configuration with the population the tests rely on.
pub fn config() -> SimConfig {
    SimConfig {
        vms: VMS,
        containers: CONTAINERS,
        ..SimConfig::fast()
    }
}

/// Start a simulator with [`config`].
pub async fn sim() -> SimHandle {
    start(config()).await
}

/// Start a simulator with [`config`] and a [`token_client`] for it; keep the handle alive for
/// as long as the client talks to it.
pub async fn sim_and_client() -> (SimHandle, Client) {
    let sim = sim().await;
    let client = token_client(&sim);
    (sim, client)
}

/// Start a simulator with `cfg`.
pub async fn start(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("the simulator starts")
}

/// Retries with tiny delays; the rules stay the production ones.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    }
}

/// Task polling suited to a simulator running 100 times faster than a real node.
pub fn fast_wait() -> TaskWait {
    TaskWait {
        initial_interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    }
}

/// A builder pinned to the simulator's certificate with test-friendly limits: a rate limit
/// high enough not to pace the suite, fast retries and fast task polling.
pub fn builder(sim: &SimHandle) -> ClientBuilder {
    Client::builder(&sim.base_url())
        .fingerprint(&sim.fingerprint())
        .rate_limit(10_000, 10_000)
        .retry_policy(fast_retry())
        .task_wait(fast_wait())
}

/// A client that authenticates with the simulator's API token.
pub fn token_client(sim: &SimHandle) -> Client {
    builder(sim)
        .api_token(&sim.api_token())
        .build()
        .expect("a valid token client")
}

/// A client that logs in with the simulator's user and password (tickets and CSRF tokens).
pub fn password_client(sim: &SimHandle) -> Client {
    builder(sim)
        .password(&sim.username(), &sim.password())
        .build()
        .expect("a valid password client")
}

/// Wait for the task `upid` and fail the test unless it ends with OK or WARNINGS.
pub async fn run_task(client: &Client, upid: Upid) {
    let status = client
        .wait_for_task(&upid)
        .await
        .unwrap_or_else(|e| panic!("task {upid} should succeed: {e}"));
    assert!(
        status.exit().is_some_and(|e| e.is_success()),
        "task {upid} ended with {:?}",
        status.exitstatus
    );
}

/// Clone [`TEMPLATE`] on `pve1` with `params`, wait for the task to succeed and return its UPID;
/// `what` says in the panic which clone was refused.
pub async fn clone_and_wait(client: &Client, params: CloneParams, what: &str) -> Upid {
    let upid = clone_template(client, params, what).await;
    run_task(client, upid.clone()).await;
    upid
}

/// Clone [`TEMPLATE`] on `pve1` with `params` and return the UPID of the clone task without
/// waiting for it; `what` says in the panic which clone was refused.
pub async fn clone_template(client: &Client, params: CloneParams, what: &str) -> Upid {
    client
        .node("pve1")
        .qemu(TEMPLATE)
        .clone_vm(&params)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A finished linked clone of [`TEMPLATE`] on `pve1` at the first free VMID from `from`.
pub async fn linked_clone(client: &Client, from: u32) -> u32 {
    let id = client.free_vmid(Some(from)).await.expect("free id");
    clone_and_wait(client, CloneParams::new(id), "clone").await;
    id
}

/// The power state from a guest's status call (`state(vm.status())`), for VMs and containers
/// alike; a failed status call fails the test.
pub async fn state(
    status: impl Future<Output = pvelab_proxmox::Result<GuestSummary>>,
) -> GuestStatus {
    status.await.expect("status").status
}
