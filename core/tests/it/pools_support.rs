//! The test bed of the pool tests: a simulated cluster, a lab on a database file (so a test can
//! drop the lab and open a new one on the same file, as after a crash), the cluster and its
//! shared template registered, and a direct Proxmox client to look at the facts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pvelab_core::model::{
    Class, ClusterCredential, ClusterTimeouts, NewClass, NewCluster, NewTemplate, Operation,
    OperationSummary, PoolVmState, PoolsConfig, ProgressEvent, VmStep,
};
use pvelab_core::types::{
    ApiTokenId, ClassName, ClusterId, ClusterTrust, Cores, DiskGb, Fingerprint, Host, MemoryMb,
    PoolSize, PveUser, Role, TemplateId, VmId,
};
use pvelab_core::{Actor, Lab, LabConfig, SealingKey};
use pvelab_proxmox::{Client, GuestConfig};
use pvelab_pve_sim::{FaultConfig, Sim, SimConfig, SimHandle};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::support::user;

pub const TEMPLATE: u32 = 9010;

/// A simulated cluster and a lab that uses it.
pub struct Bed {
    pub sim: SimHandle,
    pub lab: Lab,
    pub admin: Actor,
    pub teacher: Actor,
    pub cluster: ClusterId,
    /// The row id of the registered template (9010, on shared storage).
    pub template: TemplateId,
    pub key: SealingKey,
    pub pools: PoolsConfig,
    path: PathBuf,
    _dir: TempDir,
}

/// How the lab authenticates to the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Token,
    Password,
}

pub async fn bed() -> Bed {
    bed_with(SimConfig::fast(), PoolsConfig::fast(), Login::Token).await
}

pub async fn bed_with(sim: SimConfig, pools: PoolsConfig, login: Login) -> Bed {
    let sim = Sim::start(sim).await.expect("start the simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let key = SealingKey::generate();
    let lab = open(&path, &key, &pools).await;
    let admin = user(&lab, "admin", Role::Adminer).await;
    let teacher = user(&lab, "teacher", Role::Teacher).await;
    let (cluster, template) = register_sim(&lab, &admin, &sim, "sim", login).await;
    Bed {
        sim,
        lab,
        admin,
        teacher,
        cluster,
        template,
        key,
        pools,
        path,
        _dir: dir,
    }
}

/// Registers the simulator `sim` as cluster `id` in `lab` (TLS unchecked, as the simulator's
/// certificate is self-made) with its shared template 9010; returns the cluster and the
/// template's row id.
pub async fn register_sim(
    lab: &Lab,
    admin: &Actor,
    sim: &SimHandle,
    id: &str,
    login: Login,
) -> (ClusterId, TemplateId) {
    let cluster = ClusterId::parse(id).expect("id");
    let credential = match login {
        Login::Token => {
            let token = sim.api_token();
            let (id, secret) = token.split_once('=').expect("token");
            ClusterCredential::ApiToken {
                id: ApiTokenId::parse(id).expect("token id"),
                secret: SecretString::from(secret.to_owned()),
            }
        }
        Login::Password => ClusterCredential::Password {
            user: PveUser::parse(&sim.username()).expect("user"),
            password: SecretString::from(sim.password()),
        },
    };
    // The simulator's certificate is pinned, as a real node's would be.
    let trust = ClusterTrust::Fingerprint(Fingerprint::parse(&sim.fingerprint()).expect("pin"));
    let new = NewCluster::new(
        cluster.clone(),
        Host::parse(&sim.addr().ip().to_string()).expect("host"),
        credential,
    )
    .port(sim.addr().port())
    .trust(trust);
    lab.add_cluster(admin, new).await.expect("add cluster");
    let template = lab
        .register_template(
            admin,
            NewTemplate {
                name: "debian-13-shared".into(),
                cluster_id: cluster.clone(),
                vmid: VmId::new(i64::from(TEMPLATE)).expect("vmid"),
                node: None,
                replica_of: None,
            },
        )
        .await
        .expect("register template")
        .id;
    (cluster, template)
}

async fn open(path: &std::path::Path, key: &SealingKey, pools: &PoolsConfig) -> Lab {
    // The orchestration retries transient failures itself with the fast pauses of
    // `PoolsConfig::fast`; the client's own retries (with pauses for a real cluster) are off.
    let timeouts = ClusterTimeouts {
        retries: 0,
        ..ClusterTimeouts::default()
    };
    Lab::open(
        LabConfig::file(path)
            .with_sealing_key(key.clone())
            .with_pools(pools.clone())
            .with_cluster_timeouts(timeouts),
    )
    .await
    .expect("open lab")
}

impl Bed {
    /// One inventory tick of every cluster, which must succeed.
    pub async fn sync_inventory(&self) {
        let report = self
            .lab
            .sync_now(
                &self.admin,
                pvelab_core::jobs::SyncWhat::Job(pvelab_core::jobs::JobKind::Inventory),
                None,
            )
            .await
            .expect("inventory");
        assert!(report.all_ok(), "{report:?}");
    }

    /// A new lab on the same database file and simulator (after the old one was dropped, as
    /// after a crash). The actors stay valid: they carry ids and roles only.
    pub async fn reopen(&mut self) {
        self.lab = open(&self.path, &self.key, &self.pools).await;
    }

    /// A class of `size` students cloned from the bed's template with these specs.
    pub fn new_class(&self, name: &str, size: u16) -> NewClass {
        let mut new = NewClass::new(
            ClassName::parse(name).expect("name"),
            PoolSize::new(i64::from(size)).expect("size"),
        );
        new.template_id = Some(self.template);
        new.cpu_cores = Cores::new(4).expect("cores");
        new.memory_mb = MemoryMb::new(4096).expect("memory");
        new.disk_gb = DiskGb::new(40).expect("disk");
        new
    }

    /// Creates and provisions a class; returns it and its running operation.
    pub async fn launch(&self, name: &str, size: u16) -> (Class, Operation) {
        self.lab
            .create_and_provision_class(&self.teacher, self.new_class(name, size))
            .await
            .unwrap_or_else(|e| panic!("launch {name}: {e}"))
    }

    /// The class's pool records.
    pub async fn status(&self, class: &Class) -> Vec<PoolVmState> {
        self.lab
            .pool_status(&self.teacher, class.id)
            .await
            .expect("pool status")
    }

    /// A client of the simulator's API, independent of the lab's.
    pub fn client(&self) -> Client {
        Client::builder(&self.sim.base_url())
            .api_token(&self.sim.api_token())
            .insecure()
            .build()
            .expect("client")
    }

    /// Every guest of the cluster by VMID, with its node.
    pub async fn guests(&self) -> BTreeMap<u32, String> {
        self.client()
            .cluster()
            .vms()
            .await
            .expect("resources")
            .into_iter()
            .filter_map(|r| Some((r.vmid?, r.node?)))
            .collect()
    }

    /// The config of VM `vmid`.
    pub async fn config(&self, vmid: u32) -> GuestConfig {
        let node = self.guests().await.remove(&vmid).expect("the VM exists");
        self.client()
            .node(node)
            .qemu(vmid)
            .config()
            .await
            .expect("config")
    }

    /// The snapshot names of VM `vmid` (without the pseudo entry `current`).
    pub async fn snapshots(&self, vmid: u32) -> Vec<String> {
        let node = self.guests().await.remove(&vmid).expect("the VM exists");
        self.client()
            .node(node)
            .qemu(vmid)
            .snapshots()
            .await
            .expect("snapshots")
            .into_iter()
            .filter(|s| !s.is_current())
            .map(|s| s.name)
            .collect()
    }

    /// Request and task faults at `rate` each (spread over 500, 595 and 596).
    pub fn faults(&self, rate: f64) {
        self.sim
            .set_faults(FaultConfig {
                seed: Some(7),
                error_500_rate: rate * 0.4,
                error_595_rate: rate * 0.3,
                error_596_rate: rate * 0.3,
                task_failure_rate: rate,
                ..FaultConfig::default()
            })
            .expect("faults");
    }

    /// Clones template 9000 into `vmid` behind the lab's back, without any marker.
    pub async fn foreign_vm(&self, vmid: u32) {
        let client = self.client();
        let task = client
            .node("pve1")
            .qemu(9000)
            .clone_vm(&pvelab_proxmox::CloneParams::new(vmid).name("someone-elses"))
            .await
            .expect("foreign clone");
        client
            .wait_for_task(&task)
            .await
            .expect("foreign clone done");
    }
}

/// Collects an operation's events until it ends, then its summary.
pub async fn finish(mut op: Operation) -> (Vec<ProgressEvent>, OperationSummary) {
    let mut events = op.events().expect("events");
    let summary = op.wait().await.expect("operation");
    let mut seen = Vec::new();
    while let Some(e) = events.recv().await {
        seen.push(e);
    }
    (seen, summary)
}

/// Every VM of the class is ready.
#[track_caller]
pub fn assert_all_ready(states: &[PoolVmState]) {
    let not_ready: Vec<String> = states
        .iter()
        .filter(|s| s.step != VmStep::Ready)
        .map(|s| format!("{} {:?} {:?}", s.vm.vmid, s.step, s.error))
        .collect();
    assert!(not_ready.is_empty(), "not ready: {not_ready:?}");
}
