//! What the commands and scale scenarios share: a lab on a file with an operator, a simulated
//! cluster registered by address, token and fingerprint, one console line run through the
//! console front end's command code, the process's memory from `/proc`, and "many calls with a
//! bounded number in flight" for filling large labs.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use pvelab_bot::commands::catalogue::find;
use pvelab_bot::commands::{CommandContext, Dispatcher, Invocation, Invoker};
use pvelab_bot::console::grammar::parse_line;
use pvelab_bot::parse::people::UserRef;
use pvelab_bot::render::errors::error_reply;
use pvelab_bot::render::text::plain;
use pvelab_core::model::{
    ClusterCredential, JoinToken, NewClass, NewCluster, NewPoolVm, TokenExpiry,
};
use pvelab_core::types::{
    ApiTokenId, ClassId, ClassName, ClusterId, ClusterTrust, ExternalId, Fingerprint, Host,
    NodeName, PoolSize, Role, VmId,
};
use pvelab_core::{Actor, Lab, LabConfig, SealingKey};

/// A lab on `path` (a real SQLite file) and an adminer acting for the benchmark.
pub(crate) async fn lab_with_admin(path: &Path) -> Result<(Lab, Actor)> {
    let lab =
        Lab::open(LabConfig::file(path.to_path_buf()).with_sealing_key(SealingKey::generate()))
            .await?;
    let admin = lab
        .ensure_user(&ExternalId::parse("bench:admin")?, None)
        .await?;
    let admin = lab.actor_with_role(admin.id, Role::Adminer);
    Ok((lab, admin))
}

/// How to reach one simulated cluster.
pub(crate) struct SimAccess {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its API token, `USER@REALM!ID=SECRET`.
    pub token: String,
    /// Its certificate's SHA-256 fingerprint.
    pub fingerprint: String,
}

/// Registers the simulated cluster `access` as `id`, pinned by its fingerprint.
pub(crate) async fn add_sim_cluster(
    lab: &Lab,
    admin: &Actor,
    id: &ClusterId,
    access: &SimAccess,
) -> Result<()> {
    let (token_id, secret) = access
        .token
        .split_once('=')
        .context("the simulator's token has no secret")?;
    lab.add_cluster(
        admin,
        NewCluster::new(
            id.clone(),
            Host::parse(&access.addr.ip().to_string())?,
            ClusterCredential::ApiToken {
                id: ApiTokenId::parse(token_id)?,
                secret: secrecy::SecretString::from(secret.to_owned()),
            },
        )
        .port(access.addr.port())
        .trust(ClusterTrust::Fingerprint(Fingerprint::parse(
            &access.fingerprint,
        )?)),
    )
    .await?;
    Ok(())
}

/// Runs one console line (`alice /myvm`) the way the console does: the grammar, the catalogue,
/// the option check, the dispatcher (rate limit, command, metrics), the reply rendered as plain
/// text. A refusal or failure is an error carrying the rendered error text.
pub(crate) async fn console_command(
    lab: &Lab,
    dispatcher: &Dispatcher,
    text: &str,
) -> Result<String> {
    let line = parse_line(text)?.with_context(|| format!("`{text}` holds no command"))?;
    let spec = find(&line.command, &line.path)?;
    let call = Invocation::new(spec, line.options)?;
    let invoker = Invoker {
        display_name: line.user.to_string(),
        who: UserRef::Console(line.user),
        role: line.role,
    };
    let ctx = CommandContext::new(lab.clone(), invoker, None);
    match dispatcher.run(&ctx, &call).await {
        Ok(reply) => Ok(plain(&reply)),
        Err(error) => Err(anyhow!("`{text}`: {}", plain(&error_reply(&error)))),
    }
}

/// The core's id of console user `name` (what the console's commands act as).
pub(crate) fn console_id(name: &str) -> Result<ExternalId> {
    Ok(ExternalId::parse(&format!("console:{name}"))?)
}

/// One `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`), in MiB; `None` where there is
/// no such file (not Linux).
pub(crate) fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let kib: f64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs `f` on every item with at most `at_once` calls in flight; the first error ends it.
/// Filling a large lab this way keeps the core's writer queue busy (it commits what it finds
/// queued together) without holding thousands of futures at once.
pub(crate) async fn in_parallel<T, R, F, Fut>(items: Vec<T>, at_once: usize, f: F) -> Result<Vec<R>>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R>>,
{
    stream::iter(items)
        .map(f)
        .buffer_unordered(at_once.max(1))
        .try_collect()
        .await
}

/// One class made by [`fill_classes`]: its join token and its student VMs.
pub(crate) struct FilledClass {
    /// Its id.
    pub id: ClassId,
    /// The token students join with.
    pub token: JoinToken,
    /// The cluster its VMs are on.
    pub cluster: ClusterId,
    /// Its registered student VMs and their nodes.
    pub vms: Vec<(VmId, NodeName)>,
}

/// What [`fill_classes`] makes.
pub(crate) struct ClassPlan<'a> {
    /// Class names are `{prefix}-{index}`.
    pub prefix: &'a str,
    /// How many classes.
    pub classes: usize,
    /// Classes of earlier plans in the same lab: class `i` of this one takes VMID prefix
    /// [`classic_prefix`]`(first + i)`.
    pub first: usize,
    /// Student VMs of each (1 to 98: the classic VMID plan).
    pub size: u16,
    /// Teachers owning them, in turn.
    pub teachers: usize,
    /// Class `i` lives on `clusters[i % clusters.len()]`.
    pub clusters: &'a [ClusterId],
    /// Its VMs are spread over nodes `pve1..pve{nodes}`.
    pub nodes: usize,
}

/// The classic VMID prefix of the `index`-th class of a benchmark lab: 1, 2, ... stepping over
/// 90, whose VMIDs 9000-9099 hold the simulator's templates.
pub(crate) fn classic_prefix(index: usize) -> Result<u32> {
    let prefix = u32::try_from(index + 1)?;
    Ok(if prefix >= 90 { prefix + 1 } else { prefix })
}

/// Classes through the core's public calls, as teachers would make them and provisioning would
/// register their VMs: `create_class`, `register_vm` for every student slot (the VMIDs of the
/// class's plan), `rotate_token`. Calls run `at_once` at a time.
pub(crate) async fn fill_classes(
    lab: &Lab,
    admin: &Actor,
    plan: &ClassPlan<'_>,
    at_once: usize,
) -> Result<Vec<FilledClass>> {
    anyhow::ensure!(
        (1..=98).contains(&plan.size),
        "a class holds 1 to 98 students here (the classic VMID plan), not {}",
        plan.size
    );
    anyhow::ensure!(
        !plan.clusters.is_empty() && plan.nodes > 0,
        "no cluster or node"
    );
    let teachers = in_parallel(
        (0..plan.teachers.max(1)).collect(),
        at_once,
        |t| async move {
            let id = ExternalId::parse(&format!("bench:teacher:{}:{t}", plan.prefix))?;
            let user = lab.ensure_user(&id, None).await?;
            lab.set_role(admin, user.id, Role::Teacher).await?;
            Ok(lab.actor(user.id).await?)
        },
    )
    .await?;
    let teachers = &teachers;
    let classes = in_parallel((0..plan.classes).collect(), at_once, |i| async move {
        let teacher = &teachers[i % teachers.len()];
        let cluster = plan.clusters[i % plan.clusters.len()].clone();
        let mut new = NewClass::new(
            ClassName::parse(&format!("{}-{i}", plan.prefix))?,
            PoolSize::new(i64::from(plan.size))?,
        );
        new.deployment_cluster = Some(cluster.clone());
        new.vmid_prefix = Some(classic_prefix(plan.first + i)?);
        let class = lab.create_class(teacher, new).await?;
        let token = lab
            .rotate_token(teacher, class.id, TokenExpiry::Never)
            .await?
            .token;
        let mut vms = Vec::with_capacity(usize::from(plan.size));
        for slot in 1..=plan.size {
            let vmid = class
                .scheme
                .student_vmid(slot)
                .context("slot outside the plan")?;
            let node = NodeName::parse(&format!("pve{}", 1 + usize::from(slot) % plan.nodes))?;
            vms.push((vmid, node));
        }
        Ok((
            i,
            *teacher,
            FilledClass {
                id: class.id,
                token,
                cluster,
                vms,
            },
        ))
    })
    .await?;
    let registrations: Vec<_> = classes
        .iter()
        .flat_map(|(_, teacher, class)| class.vms.iter().map(move |vm| (teacher, class, vm)))
        .collect();
    in_parallel(
        registrations,
        at_once,
        |(teacher, class, (vmid, node))| async move {
            let vm = NewPoolVm {
                cluster_id: class.cluster.clone(),
                vmid: *vmid,
                manual: false,
                node: Some(node.clone()),
                name: Some(format!("lab-{vmid}")),
                mac_address: None,
            };
            lab.register_vm(teacher, class.id, vm).await?;
            Ok(())
        },
    )
    .await?;
    let mut classes: Vec<_> = classes.into_iter().map(|(i, _, c)| (i, c)).collect();
    classes.sort_by_key(|(i, _)| *i);
    Ok(classes.into_iter().map(|(_, c)| c).collect())
}
