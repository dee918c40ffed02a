//! Shared arrangements: labs over fresh databases, users with roles, a cluster, classes with
//! registered VMs.

use pvelab_core::model::NewPoolVm;
use pvelab_core::model::{Class, NewClass};
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::model::{JoinOutcome, TokenRotation};
use pvelab_core::model::{JoinToken, TokenExpiry};
use pvelab_core::types::{
    ClassName, ClusterId, ExternalId, Host, PoolSize, PveUser, Role, Scope, UserId, VmId, VmRef,
};
use pvelab_core::Actor;
use pvelab_core::Lab;
use pvelab_core::{Error, LabConfig, ManualClock, SealingKey};
use secrecy::SecretString;

pub const CLUSTER: &str = "pve1";

/// A lab with an adminer, a teacher and one cluster.
pub struct World {
    pub lab: Lab,
    pub admin: Actor,
    pub teacher: Actor,
    /// The lab's clock: it stands still unless a test moves it.
    pub clock: ManualClock,
}

pub fn cluster_id() -> ClusterId {
    ClusterId::parse(CLUSTER).expect("valid cluster id")
}

/// A front end's id for a person.
pub fn ext(text: &str) -> ExternalId {
    ExternalId::parse(text).expect("valid external id")
}

/// A front-end scope.
pub fn scope(text: &str) -> Scope {
    Scope::parse(text).expect("valid scope")
}

/// The VM `vmid` on the world's cluster.
pub fn vm_of(vmid: VmId) -> VmRef {
    VmRef::new(cluster_id(), vmid)
}

pub async fn user(lab: &Lab, external_id: &str, role: Role) -> Actor {
    let user = lab
        .ensure_user(&ext(external_id), Some(external_id))
        .await
        .expect("ensure user");
    if role != Role::User {
        let root = lab.actor_with_role(user.id, Role::Adminer);
        lab.set_role(&root, user.id, role).await.expect("set role");
    }
    lab.actor(user.id).await.expect("actor")
}

pub async fn world_on(config: LabConfig) -> World {
    let clock = ManualClock::new(jiff::Timestamp::now());
    let lab = Lab::open(
        config
            .with_sealing_key(SealingKey::generate())
            .with_clock(clock.clone()),
    )
    .await
    .expect("open lab");
    let admin = user(&lab, "admin", Role::Adminer).await;
    let teacher = user(&lab, "teacher", Role::Teacher).await;
    lab.add_cluster(
        &admin,
        NewCluster::new(
            cluster_id(),
            Host::parse("10.0.0.1").expect("host"),
            ClusterCredential::Password {
                user: PveUser::parse("root@pam").expect("user"),
                password: SecretString::from("pw".to_owned()),
            },
        ),
    )
    .await
    .expect("add cluster");
    World {
        lab,
        admin,
        teacher,
        clock,
    }
}

pub async fn world() -> World {
    world_on(LabConfig::in_memory()).await
}

impl World {
    /// Creates a class of the teacher named `class_name` with a pool of `size`; the panic names
    /// the class so a failing test says which of its classes did not come.
    pub async fn class(&self, class_name: &str, size: u16) -> Class {
        self.lab
            .create_class(
                &self.teacher,
                NewClass::new(name(class_name), pool_size(size)),
            )
            .await
            .unwrap_or_else(|e| panic!("create class {class_name}: {e:?}"))
    }

    /// Issues a fresh join token for `class` as the teacher (revoking the previous one).
    pub async fn token(&self, class: &Class, expiry: TokenExpiry) -> TokenRotation {
        self.lab
            .rotate_token(&self.teacher, class.id, expiry)
            .await
            .expect("rotate token")
    }

    /// `student` joins with `token`; a refused join fails the test.
    pub async fn join(&self, student: &Actor, token: &JoinToken) -> JoinOutcome {
        self.lab.join(student, token).await.expect("join")
    }

    /// Registers the class's teacher VM and base VM, the two a student may never get.
    pub async fn register_teacher_and_base_vms(&self, class: &Class) {
        for vmid in [class.scheme.teacher_vmid(), class.scheme.base_vmid()] {
            self.lab
                .register_vm(&self.teacher, class.id, planned(vmid))
                .await
                .expect("register");
        }
    }

    /// A user with no role beyond `User`, i.e. a student.
    pub async fn student(&self, external_id: &str) -> Actor {
        user(&self.lab, external_id, Role::User).await
    }
}

pub fn name(text: &str) -> ClassName {
    ClassName::parse(text).expect("valid class name")
}

pub fn pool_size(n: u16) -> PoolSize {
    PoolSize::new(i64::from(n)).expect("valid pool size")
}

/// A class of `world.teacher` with a never-expiring token and `vms` registered student VMs
/// (slots 1..=vms).
pub async fn class_with_vms(
    world: &World,
    class_name: &str,
    size: u16,
    vms: u16,
) -> (Class, JoinToken) {
    let class = world.class(class_name, size).await;
    for slot in 1..=vms {
        register_slot(world, &class, slot).await;
    }
    let token = world.token(&class, TokenExpiry::Never).await.token;
    (class, token)
}

pub async fn register_slot(world: &World, class: &Class, slot: u16) -> VmId {
    let vmid = class.scheme.student_vmid(slot).expect("slot in plan");
    world
        .lab
        .register_vm(&world.teacher, class.id, planned(vmid))
        .await
        .expect("register vm");
    vmid
}

pub fn planned(vmid: VmId) -> NewPoolVm {
    NewPoolVm {
        cluster_id: cluster_id(),
        vmid,
        manual: false,
        node: None,
        name: None,
        mac_address: None,
    }
}

/// Asserts that a join (or any token use) was refused because the token is unknown or revoked.
#[track_caller]
pub fn assert_token_invalid<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(matches!(result, Err(Error::TokenInvalid)), "{result:?}");
}

/// The user id of a person's actor (every actor of these tests is a person).
pub trait ActorId {
    /// The person's id.
    fn uid(&self) -> UserId;
}

impl ActorId for Actor {
    fn uid(&self) -> UserId {
        self.user_id().expect("a person's actor")
    }
}
