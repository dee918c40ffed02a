//! `embed_core`: how a front end embeds `pvelab-core`.
//!
//! ```text
//! cargo run -p pvelab-examples --bin embed_core
//! ```
//!
//! It opens a lab on a temporary SQLite file, makes a teacher, creates a class with a pool of
//! two VMs, shares a join token, lets three students join (the third waits in line), and then
//! frees a VM so the waiting student gets it. It then reopens the lab, as after a restart, and
//! delivers the events from the outbox. No Proxmox cluster is contacted: the core keeps
//! the record of intent; talking to Proxmox is the pool orchestration's job.

use std::io::Write;
use std::path::Path;

use pvelab_core::events::{ConsumerName, LabEvent};
use pvelab_core::model::NewClass;
use pvelab_core::model::NewPoolVm;
use pvelab_core::model::TokenExpiry;
use pvelab_core::model::VmOutcome;
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::types::{
    ClassName, ClusterId, ExternalId, Host, NodeName, PoolSize, PveUser, Role,
};
use pvelab_core::{Lab, LabConfig, SealingKey};
use secrecy::SecretString;

/// What happened to each student, for callers that check the walk-through.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Students who got a VM when they joined, with its VMID.
    pub assigned: Vec<(String, u32)>,
    /// Students who had to wait, with their place in line.
    pub waitlisted: Vec<(String, u32)>,
    /// Students handed a VM later from the waitlist, with its VMID.
    pub promoted: Vec<(String, u32)>,
    /// Why the core refused a student who tried to manage the class.
    pub refusal: Option<String>,
}

/// The walk-through: a lab in the SQLite file `db`, narrated to `out`.
pub async fn run(db: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // The operator's sealing key protects cluster secrets at rest. A real front end reads it
    // from its configuration (the library never reads the environment itself).
    let lab = Lab::open(LabConfig::file(db).with_sealing_key(SealingKey::generate())).await?;
    writeln!(
        out,
        "lab opened at {} (schema {})",
        db.display(),
        lab.schema_version().await?
    )?;

    // People are known by the front end's own ids; the front end vouches for them and maps
    // roles from its context. Every operation then runs *as* someone and the core checks it.
    let admin = lab
        .ensure_user(&ExternalId::parse("console:admin")?, Some("Ada"))
        .await?;
    let admin = lab.actor_with_role(admin.id, Role::Adminer);
    let teacher = lab
        .ensure_user(&ExternalId::parse("console:tom")?, Some("Tom"))
        .await?;
    lab.set_role(&admin, teacher.id, Role::Teacher).await?;
    let teacher = lab.actor(teacher.id).await?;

    // A cluster the class's VMs live on; its password is sealed before it is stored.
    let cluster = ClusterId::parse("school")?;
    let secret = ClusterCredential::Password {
        user: PveUser::parse("root@pam")?,
        password: SecretString::from("example-only".to_owned()),
    };
    let host = Host::parse("pve1.school.example")?;
    lab.add_cluster(&admin, NewCluster::new(cluster.clone(), host, secret))
        .await?;

    // A class with a pool of two student VMs. Normally the orchestration clones them from a
    // template; here the teacher registers two that "exist" already.
    let class = lab
        .create_class(
            &teacher,
            NewClass::new(ClassName::parse("net101")?, PoolSize::new(2)?),
        )
        .await?;
    writeln!(out, "class {} created ({})", class.name, class.scheme)?;
    for slot in 1..=2 {
        let vmid = class
            .scheme
            .student_vmid(slot)
            .ok_or_else(|| anyhow::anyhow!("the plan has no slot {slot}"))?;
        let vm = NewPoolVm {
            cluster_id: cluster.clone(),
            vmid,
            manual: false,
            node: Some(NodeName::parse("pve1")?),
            name: Some(format!("net101-{slot}")),
            mac_address: None,
        };
        lab.register_vm(&teacher, class.id, vm).await?;
    }

    // The teacher shares a join token once (only its hash is stored).
    let token = lab
        .rotate_token(&teacher, class.id, TokenExpiry::Never)
        .await?
        .token;
    // A front end shows it to the teacher; here we only say that it exists.
    writeln!(
        out,
        "join token issued ({} characters)",
        token.expose().len()
    )?;

    let mut outcome = Outcome::default();
    let mut students = Vec::new();
    for (id, name) in [
        ("console:ana", "Ana"),
        ("console:ben", "Ben"),
        ("console:cleo", "Cleo"),
    ] {
        let user = lab.ensure_user(&ExternalId::parse(id)?, Some(name)).await?;
        let student = lab.actor(user.id).await?;
        // Joining enrolls and assigns a VM (or a waitlist place) in one transaction.
        match lab.join(&student, &token).await?.vm {
            VmOutcome::Assigned(vm) | VmOutcome::AlreadyAssigned(vm) => {
                writeln!(out, "{name} joined and got VM {}", vm.vmid)?;
                outcome.assigned.push((name.to_owned(), vm.vmid.get()));
            }
            VmOutcome::Waitlisted { position } => {
                writeln!(out, "{name} joined and waits at position {position}")?;
                outcome.waitlisted.push((name.to_owned(), position));
            }
            VmOutcome::NoVmFree => writeln!(out, "{name} joined; no VM is free")?,
        }
        students.push(student);
    }

    // The core checks permissions itself: a student may not manage the class, whatever the
    // front end let through. The refusal says why.
    if let Err(refused) = lab
        .rotate_token(&students[0], class.id, TokenExpiry::Never)
        .await
    {
        writeln!(out, "Ana tried to rotate the token: {refused}")?;
        outcome.refusal = Some(refused.to_string());
    }

    // Ben leaves. His VM is held back until it was reimaged, then the waitlist is served first.
    let left = lab.leave(&students[1], class.id).await?;
    if let Some(vm) = left.released {
        writeln!(out, "Ben left; VM {} waits for a reimage", vm.vmid)?;
        lab.mark_reimaged(&teacher, class.id, &vm.vm_ref()).await?;
    }

    // Events tell front ends what to announce (e.g. a direct message to a waiting student).
    // The core wrote each one to the outbox in the transaction of its change, so they survive
    // a restart: here the front end stops before delivering them and a new Lab reads them.
    let cleo = students[2].user_id();
    drop(lab);
    let lab = Lab::open(LabConfig::file(db)).await?;
    let consumer = ConsumerName::parse("console-dm")?;
    let batch = lab.events_after(&consumer, 100).await?;
    for delivered in &batch {
        match &delivered.event {
            LabEvent::Waitlisted { position, .. } => writeln!(
                out,
                "event {}: a student waits at position {position}",
                delivered.id
            )?,
            LabEvent::AssignedFromWaitlist { user_id, vmid, .. } => {
                let name = if Some(*user_id) == cleo {
                    "Cleo"
                } else {
                    "someone"
                };
                writeln!(
                    out,
                    "event {}: {name} got VM {vmid} from the waitlist",
                    delivered.id
                )?;
                outcome.promoted.push((name.to_owned(), vmid.get()));
            }
            other => writeln!(out, "event {}: {other:?}", delivered.id)?,
        }
    }
    // Acknowledged events are not read again by this consumer, after any restart.
    if let Some(last) = batch.last() {
        lab.ack_events(&consumer, last.id).await?;
    }
    writeln!(
        out,
        "{} events delivered and acknowledged; {} left",
        batch.len(),
        lab.events_after(&consumer, 100).await?.len()
    )?;
    Ok(outcome)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run(&dir.path().join("lab.db"), &mut std::io::stdout()).await?;
    Ok(())
}
