//! Teachers' class commands: create, list, info, settings, delete.

use pvelab_core::model::{AutoShutdown, Class, ClassSettings, NewClass};
use pvelab_core::types::{ClassName, ClusterId, Cores, DiskGb, MemoryMb, NodeName, PoolSize};
use pvelab_core::types::{ClassTimeZone, Role, UsageQuota};
use pvelab_core::Actor;

use super::operations::{follow, summary_lines};
use super::templates::{self, Found};
use super::{ButtonStyle, CommandContext, CommandError, Reply};
use crate::console::grammar::quote_value;
use crate::parse::durations::IdleSetting;
use crate::parse::names::TemplateRef;
use crate::parse::time::HoursSetting;
use crate::render::errors::error_reply;
use crate::render::format;

/// The options of `/class create`.
#[derive(Debug, Clone)]
pub struct CreateArgs {
    /// The class name.
    pub name: ClassName,
    /// The template to clone.
    pub template: TemplateRef,
    /// Student VMs.
    pub pool: PoolSize,
    /// Cores per VM.
    pub cpu: Option<Cores>,
    /// Memory per VM.
    pub memory: Option<MemoryMb>,
    /// Disk per VM.
    pub disk: Option<DiskGb>,
    /// Node to place VMs on.
    pub node: Option<NodeName>,
    /// Cluster to place VMs on.
    pub cluster: Option<ClusterId>,
}

/// `1 student VM`, `30 student VMs`.
fn students_vms(n: usize) -> String {
    if n == 1 {
        "1 student VM".to_owned()
    } else {
        format!("{n} student VMs")
    }
}

/// The class's settings as lines, for `info` and after a change.
fn settings_lines(class: &Class) -> Vec<String> {
    vec![
        format!(
            "pool: {} ({})",
            students_vms(usize::from(class.pool_size.get())),
            class.scheme
        ),
        format!("each VM: {}", format::resources(class)),
        format!(
            "placement: {} / {}",
            class
                .deployment_cluster
                .as_ref()
                .map_or("default cluster".to_owned(), ToString::to_string),
            class
                .deployment_node
                .as_ref()
                .map_or("any node".to_owned(), ToString::to_string)
        ),
        format!(
            "allowed hours: {}",
            format::hours(class.hours, class.time_zone.as_ref())
        ),
        format!("usage quota: {}", format::quota(class.max_usage)),
        format!("idle shutdown: {}", format::idle(class.auto_shutdown)),
    ]
}

/// `/class create`: a class in this front end's scope, taught by the caller, and its pool
/// built from the named template: progress is reported as VMs become ready, and the answer
/// comes when the pool is built. In a lab that has recorded no cluster's template yet (it never
/// reached Proxmox), the class is created without VMs, and the answer says so.
///
/// # Errors
/// [`CommandError::Core`]: not a teacher, the name taken here, an unknown cluster, no VMID
/// range left, the cluster not answering; [`CommandError::Refused`]: a template pvelab does
/// not know.
pub async fn create(ctx: &CommandContext, args: CreateArgs) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let found = templates::resolve(ctx, &actor, &args.template, args.cluster.as_ref()).await?;
    let mut new = NewClass::new(args.name, args.pool);
    new.scope = ctx.scope().cloned();
    if let Some(cpu) = args.cpu {
        new.cpu_cores = cpu;
    }
    if let Some(memory) = args.memory {
        new.memory_mb = memory;
    }
    if let Some(disk) = args.disk {
        new.disk_gb = disk;
    }
    new.deployment_node = args.node;
    new.deployment_cluster = args.cluster;
    let (class, template_line, pool) = match found {
        Found::NothingRecorded => {
            let class = ctx.lab.create_class(&actor, new).await?;
            let line = format!(
                "template: {} (pvelab has not recorded any template of an active cluster yet, \
                 so no VMs are cloned: the template sync records them, or an administrator \
                 runs /sync now what:templates)",
                args.template
            );
            (class, line, None)
        }
        Found::Template(template) => {
            new.template_id = Some(template.id);
            let line = format!(
                "template: {} ({}) on {}",
                template.vmid,
                template.name,
                template
                    .cluster_id
                    .as_ref()
                    .map_or_else(|| "its cluster".to_owned(), ToString::to_string)
            );
            let (class, operation) = ctx.lab.create_and_provision_class(&actor, new).await?;
            let pool = match follow(ctx, operation).await {
                Ok(summary) => summary_lines(&summary),
                // The class exists: say so, and how the rest of the pool gets built.
                Err(e) => std::iter::once("building the pool stopped:".to_owned())
                    .chain(error_reply(&e).sections.into_iter().flat_map(|s| s.lines))
                    .chain(std::iter::once(
                        "/pool resize with the same size builds the rest.".to_owned(),
                    ))
                    .collect(),
            };
            (class, line, Some(pool))
        }
    };
    let option = format!("class:{}", quote_value(class.name.as_str()));
    let mut reply = Reply::titled(format!("Class {} created", class.name)).line(template_line);
    if let Some(pool) = pool {
        reply = reply.section("pool", pool);
    }
    Ok(reply
        .section("settings", settings_lines(&class))
        .line("Next: make a join token for your students.")
        .button(
            "Make a join token",
            format!("/class token {option}"),
            ButtonStyle::Primary,
        ))
}

/// Whether the actor teaches the class (primary teacher or co-owner).
async fn teaches(ctx: &CommandContext, actor: &Actor, class: &Class) -> bool {
    let Some(me) = actor.user_id() else {
        return false;
    };
    if class.teacher_id == me {
        return true;
    }
    matches!(ctx.lab.co_owners(actor, class.id).await, Ok(owners) if owners.iter().any(|(u, _)| u.id == me))
}

/// `/class list`: the classes the caller teaches here (adminers: every class of every scope
/// in the console, every class of this server on Discord).
///
/// # Errors
/// [`CommandError::Core`] when the lab fails.
pub async fn list(ctx: &CommandContext) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let adminer = actor.role() >= Role::Adminer;
    let scope = ctx.scope();
    let classes = if adminer {
        ctx.lab.classes(&actor, scope).await?
    } else {
        ctx.lab.classes_in(&actor, scope).await?
    };
    let mut rows = Vec::new();
    for class in classes {
        if adminer || teaches(ctx, &actor, &class).await {
            rows.push(vec![
                class.name.to_string(),
                class.pool_size.to_string(),
                {
                    let r = class.scheme.vmids();
                    format!("{}-{}", r.start(), r.end())
                },
                format::token(class.token),
            ]);
        }
    }
    let title = if adminer { "Classes" } else { "Your classes" };
    Ok(Reply::titled(title).table(&["CLASS", "POOL", "VMIDS", "JOIN TOKEN"], rows))
}

/// `/class info class`: settings, teachers, students and waitlist of a class.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn info(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let students = ctx.lab.students(&actor, class.id).await?;
    let teacher = ctx.lab.user(&actor, class.teacher_id).await?;
    let co_owners = ctx.lab.co_owners(&actor, class.id).await?;
    let mut people = vec![format!("teacher: {}", format::person(&teacher))];
    if !co_owners.is_empty() {
        let names: Vec<String> = co_owners.iter().map(|(u, _)| format::person(u)).collect();
        people.push(format!("co-owners: {}", names.join(", ")));
    }
    let holding = students.iter().filter(|s| s.vm.is_some()).count();
    let waiting = students
        .iter()
        .filter(|s| s.waitlist_position.is_some())
        .count();
    people.push(format!(
        "students: {} ({holding} with a VM, {waiting} waiting)",
        students.len()
    ));
    people.push(format!("join token: {}", format::token(class.token)));
    let mut reply = Reply::titled(format!("Class {}", class.name));
    if let Some(description) = &class.description {
        reply = reply.line(description.clone());
    }
    let mut settings = settings_lines(&class);
    settings.extend(super::sessions::next_line(ctx, &actor, class.id).await?);
    Ok(reply
        .section("people", people)
        .section("settings", settings))
}

/// The options of `/class settings`.
#[derive(Debug, Clone, Default)]
pub struct SettingsArgs {
    /// Allowed hours.
    pub hours: Option<HoursSetting>,
    /// Time zone of the hours.
    pub timezone: Option<ClassTimeZone>,
    /// Usage quota.
    pub quota: Option<UsageQuota>,
    /// Idle shutdown.
    pub idle: Option<IdleSetting>,
    /// Cores per VM.
    pub cpu: Option<Cores>,
    /// Memory per VM.
    pub memory: Option<MemoryMb>,
    /// Disk per VM.
    pub disk: Option<DiskGb>,
}

/// `/class settings class [...]`: changes what is given and shows the settings; with no
/// option it only shows them.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn settings(
    ctx: &CommandContext,
    name: &ClassName,
    args: SettingsArgs,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let change = ClassSettings {
        hours: args.hours.map(|h| match h {
            HoursSetting::Always => None,
            HoursSetting::Window(w) => Some(w),
        }),
        time_zone: args.timezone.map(Some),
        max_usage: args.quota,
        auto_shutdown: args.idle.map(|idle| match idle {
            IdleSetting::Off => AutoShutdown {
                enabled: false,
                ..class.auto_shutdown
            },
            IdleSetting::After(minutes) => AutoShutdown {
                enabled: true,
                idle_minutes: minutes,
                ..class.auto_shutdown
            },
        }),
        ..ClassSettings::default()
    };
    let specs_change = args.cpu.is_some() || args.memory.is_some() || args.disk.is_some();
    let other_change = !change.is_empty();
    if !other_change && !specs_change {
        return Ok(Reply::titled(format!("Settings of {}", class.name))
            .section("settings", settings_lines(&class))
            .line("Change one with e.g. hours:08-18, quota:40, idle:30m, memory:4G."));
    }
    if other_change {
        ctx.lab.update_class(&actor, class.id, change).await?;
    }
    // Cores, memory and disk are the VMs' own: the change goes to every built VM of the pool,
    // in place, and the answer says how that went.
    let mut vms = None;
    if specs_change {
        let applied = match ctx
            .lab
            .change_vm_specs(&actor, class.id, args.cpu, args.memory, args.disk)
            .await
        {
            Ok(operation) => follow(ctx, operation).await,
            Err(e) => Err(e.into()),
        };
        match applied {
            Ok(summary) => vms = Some((summary_lines(&summary), summary.changed > 0)),
            // The other settings are stored already: say so beside the reason.
            Err(e) if other_change => {
                return Ok(error_reply(&e).line(
                    "The other settings were changed; run the command again with cpu, memory \
                     or disk to change the VMs.",
                ))
            }
            Err(e) => return Err(e),
        }
    }
    let changed = ctx.lab.class(&actor, class.id).await?;
    let mut reply = Reply::titled(format!("Settings of {} changed", changed.name))
        .section("settings", settings_lines(&changed));
    if let Some((lines, changed_in_place)) = vms {
        reply = reply.section("VMs", lines);
        if changed_in_place {
            reply = reply.line(
                "A stopped VM has the new cores and memory now, a running one once it is \
                 stopped and started again; disks only grow.",
            );
        }
    }
    Ok(reply)
}

/// `/class delete class [confirm]`: asks first; with `confirm:yes` deletes the class.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not its primary teacher.
pub async fn delete(
    ctx: &CommandContext,
    name: &ClassName,
    confirmed: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    if !confirmed {
        let students = ctx.lab.students(&actor, class.id).await?.len();
        return Ok(Reply::titled(format!("Delete {}?", class.name))
            .line(format!(
                "Its {students} students lose their VMs and its join token stops working. \
                 This cannot be undone."
            ))
            .button(
                format!("Delete {}", class.name),
                format!(
                    "/class delete class:{} confirm:yes",
                    quote_value(class.name.as_str())
                ),
                ButtonStyle::Danger,
            )
            .ephemeral());
    }
    let operation = ctx.lab.begin_class_deletion(&actor, class.id).await?;
    let summary = follow(ctx, operation).await?;
    let mut reply = Reply::text(format!(
        "Class {} is deleted, with its students' enrollments and its VMID range.",
        class.name
    ));
    if summary.deleted > 0 || !summary.failed.is_empty() {
        reply = reply.section("VMs", summary_lines(&summary));
    }
    Ok(reply)
}
