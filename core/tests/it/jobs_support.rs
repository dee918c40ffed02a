//! Arrangements for the background-job tests: a lab whose one cluster is a real simulator on
//! loopback, whose clock is manual, whose neighbour table is a fixed one and whose probe never
//! leaves loopback.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use pvelab_core::events::{ConsumerName, LabEvent};
use pvelab_core::jobs::{
    JobKind, JobsConfig, Neighbour, PortProbe, ProbeFuture, RemoteService, StaticNeighbours,
    SyncReport, SyncWhat, TcpProbe,
};
use pvelab_core::model::{Class, ClassSettings, ClusterCredential, NewCluster};
use pvelab_core::types::{
    ApiTokenId, ClusterId, ClusterTrust, Fingerprint, Host, Role, UsageQuota, VmId, VmRef,
};
use pvelab_core::{Actor, Lab, LabConfig, ManualClock, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use secrecy::SecretString;

use crate::support::{user, World};

/// A probe that connects only to loopback addresses and records every address it was asked
/// about: a test never touches another host, and can check what would have been probed.
#[derive(Debug, Clone, Default)]
pub struct LoopbackProbe {
    pub tcp: TcpProbe,
    pub asked: Arc<Mutex<Vec<(IpAddr, RemoteService)>>>,
}

impl PortProbe for LoopbackProbe {
    fn is_open(&self, ip: IpAddr, service: RemoteService) -> ProbeFuture<'_> {
        self.asked.lock().unwrap().push((ip, service));
        if ip.is_loopback() {
            self.tcp.is_open(ip, service)
        } else {
            Box::pin(async { false })
        }
    }
}

/// What a jobs test may change about its world.
pub struct Options {
    pub sim: SimConfig,
    pub start: Timestamp,
    pub neighbours: Vec<Neighbour>,
    pub probe: LoopbackProbe,
    /// A database file in this folder instead of memory (for restarts).
    pub db_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sim: SimConfig::fast(),
            // A Friday morning in Berlin (08:00 CET).
            start: "2027-01-15T07:00:00Z".parse().unwrap(),
            neighbours: Vec::new(),
            probe: LoopbackProbe::default(),
            db_dir: None,
        }
    }
}

/// A lab with an adminer and a teacher, whose cluster `pve1` is a running simulator.
pub struct JobsWorld {
    pub w: World,
    pub sim: SimHandle,
    pub cluster: ClusterId,
    pub key: SealingKey,
}

pub fn cluster_id() -> ClusterId {
    ClusterId::parse("pve1").unwrap()
}

/// The cluster `id` reached at the simulator with its API token, its certificate pinned.
pub fn sim_cluster(sim: &SimHandle, id: ClusterId) -> NewCluster {
    let token = sim.api_token();
    let (token_id, secret) = token.split_once('=').unwrap();
    NewCluster::new(
        id,
        Host::parse("127.0.0.1").unwrap(),
        ClusterCredential::ApiToken {
            id: ApiTokenId::parse(token_id).unwrap(),
            secret: SecretString::from(secret.to_owned()),
        },
    )
    .port(sim.addr().port())
    .trust(ClusterTrust::Fingerprint(
        Fingerprint::parse(&sim.fingerprint()).unwrap(),
    ))
}

pub fn lab_config(options: &Options, clock: &ManualClock, key: &SealingKey) -> LabConfig {
    let base = match &options.db_dir {
        Some(dir) => LabConfig::file(dir.join("lab.db")),
        None => LabConfig::in_memory(),
    };
    base.with_sealing_key(key.clone())
        .with_clock(clock.clone())
        .with_jobs(
            JobsConfig::default()
                .with_neighbours(StaticNeighbours::new(options.neighbours.clone()))
                .with_probe(options.probe.clone()),
        )
}

pub async fn jobs_world(options: Options) -> JobsWorld {
    let sim = Sim::start(options.sim.clone())
        .await
        .expect("start simulator");
    let clock = ManualClock::new(options.start);
    let key = SealingKey::generate();
    let lab = Lab::open(lab_config(&options, &clock, &key))
        .await
        .expect("open lab");
    let admin = user(&lab, "admin", Role::Adminer).await;
    let teacher = user(&lab, "teacher", Role::Teacher).await;
    lab.add_cluster(&admin, sim_cluster(&sim, cluster_id()))
        .await
        .expect("add the simulated cluster");
    JobsWorld {
        w: World {
            lab,
            admin,
            teacher,
            clock,
        },
        sim,
        cluster: cluster_id(),
        key,
    }
}

impl JobsWorld {
    pub fn lab(&self) -> &Lab {
        &self.w.lab
    }

    /// Moves the lab's clock and the simulator's clock forward together.
    pub fn advance(&self, by: SignedDuration) {
        self.w.clock.advance(by);
        self.sim.advance_clock(by.as_secs_f64());
    }

    /// Runs `job` now on the cluster; a failed run fails the test.
    pub async fn sync(&self, job: JobKind) -> SyncReport {
        let report = self
            .lab()
            .sync_now(
                &self.w.admin,
                SyncWhat::Job(job),
                Some(self.cluster.clone()),
            )
            .await
            .expect("sync");
        assert!(report.all_ok(), "{report:?}");
        report
    }

    pub async fn set(&self, key: &str, value: &str) {
        self.lab()
            .set_setting(&self.w.admin, key, value)
            .await
            .unwrap_or_else(|e| panic!("set {key}: {e}"));
    }

    /// A class of the teacher whose VMIDs are 100-199 (teacher 100, base 199, students 101-198),
    /// where the simulator's populated VMs live: even VMIDs run, odd ones are stopped.
    pub async fn class_at_100(&self, name: &str) -> Class {
        let mut new = pvelab_core::model::NewClass::new(
            crate::support::name(name),
            crate::support::pool_size(20),
        );
        new.vmid_prefix = Some(1);
        self.lab()
            .create_class(&self.w.teacher, new)
            .await
            .expect("create class")
    }

    /// Registers student slot `slot` (VMID 100 + slot) of the class on the simulated cluster.
    pub async fn register(&self, class: &Class, slot: u16) -> VmId {
        let vmid = class.scheme.student_vmid(slot).expect("slot");
        let mut vm = crate::support::planned(vmid);
        vm.cluster_id = self.cluster.clone();
        self.lab()
            .register_vm(&self.w.teacher, class.id, vm)
            .await
            .expect("register vm");
        vmid
    }

    /// A student who holds the VM of `slot` (registered here) in `class`.
    pub async fn student_on(&self, class: &Class, slot: u16, name: &str) -> (Actor, VmId) {
        let vmid = self.register(class, slot).await;
        let student = self.w.student(name).await;
        use crate::support::ActorId;
        self.lab()
            .assign(
                &self.w.teacher,
                class.id,
                student.uid(),
                Some(&self.vm(vmid)),
            )
            .await
            .expect("assign");
        (student, vmid)
    }

    /// The VM `vmid` on the simulated cluster.
    pub fn vm(&self, vmid: VmId) -> VmRef {
        VmRef::new(self.cluster.clone(), vmid)
    }

    pub async fn settings(&self, class: &Class, change: ClassSettings) -> Class {
        self.lab()
            .update_class(&self.w.teacher, class.id, change)
            .await
            .expect("update class")
    }

    pub async fn quota(&self, class: &Class, hours: i64) -> Class {
        self.settings(
            class,
            ClassSettings {
                max_usage: Some(UsageQuota::new(hours).unwrap()),
                ..ClassSettings::default()
            },
        )
        .await
    }

    /// Every event in the outbox, oldest first.
    pub async fn events(&self) -> Vec<LabEvent> {
        all_events(self.lab()).await
    }

    /// The run state of a guest as the simulator sees it now.
    pub async fn guest_running(&self, vmid: VmId) -> bool {
        let client = pvelab_proxmox::Client::builder(&self.sim.base_url())
            .api_token(&self.sim.api_token())
            .insecure()
            .build()
            .unwrap();
        let guests = client.cluster().vms().await.unwrap();
        guests
            .iter()
            .find(|g| g.vmid == Some(vmid.get()))
            .and_then(|g| g.status.clone())
            .as_deref()
            == Some("running")
    }
}

pub async fn all_events(lab: &Lab) -> Vec<LabEvent> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let consumer = ConsumerName::parse(&format!("reader-{n}")).unwrap();
    lab.events_after(&consumer, 1000)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event)
        .collect()
}

pub fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}
