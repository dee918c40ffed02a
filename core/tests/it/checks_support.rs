//! A lab on a simulated PVE cluster with a class whose students hold real simulator VMs: the
//! arrangement of the checks and submissions tests.
//!
//! The simulator populates VMs from VMID 100, round-robin over pve1..pve3, every second one
//! running (100, 102, ...) and every one at offset 7k+6 (106, 113, ...) without a guest agent.
//! A fresh lab's first class has VMID prefix 1, so its student slot n is VM 100+n: the
//! students below hold simulator VMs as provisioning would have made them.

use pvelab_core::model::{Class, ClusterCredential, NewCluster, NewPoolVm};
use pvelab_core::types::{
    ApiTokenId, ClusterId, ClusterTrust, Fingerprint, Host, NodeName, Role, VmId, VmRef,
};
use pvelab_core::{Actor, Lab, LabConfig, ManualClock, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use secrecy::SecretString;

use crate::support::{name, pool_size, user, ActorId};

/// The simulated cluster's id in the lab.
pub const SIM: &str = "sim";

pub fn sim_id() -> ClusterId {
    ClusterId::parse(SIM).expect("id")
}

pub fn sim_vm(vmid: u32) -> VmRef {
    VmRef::new(sim_id(), VmId::new(i64::from(vmid)).expect("vmid"))
}

pub struct SimClass {
    pub sim: SimHandle,
    pub lab: Lab,
    pub clock: ManualClock,
    pub teacher: Actor,
    pub class: Class,
    /// The students, each with the VM they hold.
    pub students: Vec<(Actor, VmRef)>,
}

/// A simulator started with `config`, a lab with the simulator registered (its fingerprint
/// pinned) and a teacher.
pub async fn sim_lab(config: SimConfig) -> (SimHandle, Lab, ManualClock, Actor) {
    let sim = Sim::start(config).await.expect("simulator");
    let clock = ManualClock::new("2026-01-31T08:15:30.25Z".parse().expect("time"));
    let lab = Lab::open(
        LabConfig::in_memory()
            .with_sealing_key(SealingKey::generate())
            .with_clock(clock.clone()),
    )
    .await
    .expect("lab");
    let admin = user(&lab, "admin", Role::Adminer).await;
    let full = sim.api_token();
    let (token_id, secret) = full.split_once('=').expect("ID=SECRET");
    let credential = ClusterCredential::ApiToken {
        id: ApiTokenId::parse(token_id).expect("token id"),
        secret: SecretString::from(secret.to_owned()),
    };
    let pin = Fingerprint::parse(&sim.fingerprint()).expect("fingerprint");
    lab.add_cluster(
        &admin,
        NewCluster::new(
            sim_id(),
            Host::parse(&sim.addr().ip().to_string()).expect("host"),
            credential,
        )
        .port(sim.addr().port())
        .trust(ClusterTrust::Fingerprint(pin)),
    )
    .await
    .expect("cluster");
    let teacher = user(&lab, "teacher", Role::Teacher).await;
    (sim, lab, clock, teacher)
}

/// A class on a fast simulator with `vms` VMs whose students hold the given student slots (VM
/// 100+slot), each with the node hint given (`None`: the lab finds the node).
pub async fn sim_class(vms: usize, slots: &[(u16, Option<&str>)]) -> SimClass {
    sim_class_on(
        SimConfig {
            vms,
            ..SimConfig::fast()
        },
        slots,
    )
    .await
}

/// [`sim_class`] on a simulator started with `config`.
pub async fn sim_class_on(config: SimConfig, slots: &[(u16, Option<&str>)]) -> SimClass {
    let (sim, lab, clock, teacher) = sim_lab(config).await;
    let class = lab
        .create_class(
            &teacher,
            pvelab_core::model::NewClass::new(name("net101"), pool_size(20)),
        )
        .await
        .expect("class");
    assert_eq!(class.scheme.student_vmid(1).map(VmId::get), Some(101));
    let mut students = Vec::new();
    for (i, (slot, node)) in slots.iter().enumerate() {
        let vmid = class.scheme.student_vmid(*slot).expect("slot");
        let vm = NewPoolVm {
            cluster_id: sim_id(),
            vmid,
            manual: false,
            node: node.map(|n| NodeName::parse(n).expect("node")),
            name: None,
            mac_address: None,
        };
        lab.register_vm(&teacher, class.id, vm)
            .await
            .expect("register");
        let student = user(&lab, &format!("student{}", i + 1), Role::User).await;
        let vm = VmRef::new(sim_id(), vmid);
        lab.assign(&teacher, class.id, student.uid(), Some(&vm))
            .await
            .expect("assign");
        students.push((student, vm));
    }
    SimClass {
        sim,
        lab,
        clock,
        teacher,
        class,
        students,
    }
}

/// A Proxmox API client of the simulator, to look at what the lab did there.
pub fn client(sim: &SimHandle) -> pvelab_proxmox::Client {
    let full = sim.api_token();
    let (token_id, secret) = full.split_once('=').expect("ID=SECRET");
    pvelab_proxmox::Client::builder(&sim.base_url())
        .auth(pvelab_proxmox::Auth::ApiToken {
            token_id: token_id.to_owned(),
            secret: SecretString::from(secret.to_owned()),
        })
        .fingerprint(&sim.fingerprint())
        .build()
        .expect("client")
}

/// The node the simulator placed VM `vmid` on (round-robin over three nodes from VM 100).
pub fn node_of(vmid: u32) -> String {
    format!("pve{}", (vmid - 100) % 3 + 1)
}
