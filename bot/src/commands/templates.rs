//! Templates: `/template list`, `/template publish class`, and finding the template a teacher
//! names in `/class create` (its VMID or its name) among those the template sync recorded.

use pvelab_core::model::{PublishMode, TemplateRecord};
use pvelab_core::types::{ClassName, ClusterId};
use pvelab_core::Actor;

use super::{ButtonStyle, CommandContext, CommandError, Reply};
use crate::console::grammar::quote_value;
use crate::parse::names::TemplateRef;

/// What `/template publish` takes for `when`.
pub const PUBLISH_NOW: &str = "now";
/// `when:next-stop`: each student VM is reimaged when it next stops.
pub const PUBLISH_NEXT_STOP: &str = "next-stop";

/// The outcome of looking a template up.
#[derive(Debug)]
pub(crate) enum Found {
    /// The one template meant.
    Template(Box<TemplateRecord>),
    /// The lab has recorded no template on any cluster yet (no template sync ran: a lab that
    /// never reached Proxmox).
    NothingRecorded,
}

fn matches(template: &TemplateRecord, wanted: &TemplateRef) -> bool {
    match wanted {
        TemplateRef::Vmid(vmid) => template.vmid == *vmid,
        TemplateRef::Name(name) => template.name.eq_ignore_ascii_case(name),
    }
}

/// The template `wanted` names among those new classes may use, on `cluster` when given.
///
/// # Errors
/// [`CommandError::Core`] when the caller may not create classes; [`CommandError::Refused`]
/// naming the value when no recorded template matches (listing some that do exist), or when
/// it matches templates on several clusters and no cluster was given.
pub(crate) async fn resolve(
    ctx: &CommandContext,
    actor: &Actor,
    wanted: &TemplateRef,
    cluster: Option<&ClusterId>,
) -> Result<Found, CommandError> {
    let all = ctx.lab.class_templates(actor).await?;
    if all.is_empty() {
        return Ok(Found::NothingRecorded);
    }
    let mut hits: Vec<TemplateRecord> = all
        .iter()
        .filter(|t| matches(t, wanted))
        .filter(|t| cluster.is_none_or(|c| t.cluster_id.as_ref() == Some(c)))
        .cloned()
        .collect();
    match hits.len() {
        1 => Ok(Found::Template(Box::new(hits.remove(0)))),
        0 => {
            let known: Vec<String> = all
                .iter()
                .filter(|t| cluster.is_none_or(|c| t.cluster_id.as_ref() == Some(c)))
                .take(5)
                .map(|t| format!("{} ({})", t.vmid, t.name))
                .collect();
            let place = cluster.map_or(String::new(), |c| format!(" on cluster {c}"));
            Err(CommandError::refused(
                format!("template: \"{wanted}\" is not a template pvelab knows{place}."),
                if known.is_empty() {
                    "/template list shows the templates you may use.".to_owned()
                } else {
                    format!(
                        "Use a VMID or name that /template list shows, e.g. {}.",
                        known.join(", ")
                    )
                },
            ))
        }
        _ => {
            let clusters: Vec<String> = hits
                .iter()
                .filter_map(|t| t.cluster_id.as_ref().map(ToString::to_string))
                .collect();
            Err(CommandError::refused(
                format!(
                    "template: \"{wanted}\" names templates on several clusters: {}.",
                    clusters.join(", ")
                ),
                "Add cluster: to say which one.",
            ))
        }
    }
}

/// `1 core, 2048 MiB, 32 GB` from what the sync read, as far as it is known.
fn specs(template: &TemplateRecord) -> String {
    let s = &template.specs;
    let mut parts = Vec::new();
    if let Some(cores) = s.cpu_cores {
        parts.push(format!("{cores} cores"));
    }
    if let Some(memory) = s.memory_mb {
        parts.push(format!("{memory} MiB"));
    }
    if let Some(disk) = s.disk_size_gb {
        parts.push(format!("{disk} GB"));
    }
    parts.join(", ")
}

/// `/template list`: the templates a new class may be cloned from.
///
/// # Errors
/// [`CommandError::Core`]: not a teacher.
pub async fn list(ctx: &CommandContext) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let all = ctx.lab.class_templates(&actor).await?;
    if all.is_empty() {
        return Ok(Reply::text("pvelab has not recorded any template yet.")
            .line(
                "The template sync records each cluster's templates; an administrator can run \
                 it now with /sync now what:templates.",
            )
            .ephemeral());
    }
    let rows = all
        .iter()
        .map(|t| {
            vec![
                t.vmid.to_string(),
                t.name.clone(),
                t.cluster_id
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string),
                t.node.clone().unwrap_or_default(),
                specs(t),
            ]
        })
        .collect();
    Ok(Reply::titled("Templates")
        .line("Create a class from one with /class create template:VMID or template:NAME.")
        .table(&["VMID", "NAME", "CLUSTER", "NODE", "SPECS"], rows)
        .ephemeral())
}

/// `/template publish class [when] [confirm]`: asks first (its students' VMs will be rebuilt,
/// and what they changed on them is lost); with `confirm:yes` publishes the class's teacher VM
/// as the class's new template, the students' VMs reimaged from it at once (`when:now`) or each
/// at its next stop (`when:next-stop`, the default).
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers; no teacher VM; Proxmox
/// refusing the clone.
pub async fn publish(
    ctx: &CommandContext,
    name: &ClassName,
    when: Option<&str>,
    confirmed: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    // Only its teachers (and adminers) are asked: the same right as reading its reimages.
    ctx.lab.pending_reimages(&actor, class.id).await?;
    let option = format!("class:{}", quote_value(class.name.as_str()));
    if !confirmed {
        return Ok(
            Reply::titled(format!("Publish the teacher VM of {}?", class.name))
                .line(
                    "It becomes the class's template, and every student VM is rebuilt from it: \
                 what students changed on their VMs is lost.",
                )
                .line(
                    "Now: running VMs are rebuilt at once. At next stop: each VM when it is next \
                 stopped, so nobody loses a session in progress.",
                )
                .button(
                    "Publish now",
                    format!("/template publish {option} when:{PUBLISH_NOW} confirm:yes"),
                    ButtonStyle::Danger,
                )
                .button(
                    "Publish at next stop",
                    format!("/template publish {option} when:{PUBLISH_NEXT_STOP} confirm:yes"),
                    ButtonStyle::Primary,
                )
                .ephemeral(),
        );
    }
    let mode = match when {
        Some(PUBLISH_NOW) => PublishMode::Now,
        _ => PublishMode::AtNextStop,
    };
    let outcome = ctx.lab.publish_template(&actor, class.id, mode).await?;
    let waiting = outcome.vms.len() - outcome.due_now.min(outcome.vms.len());
    let mut reply = Reply::titled(format!(
        "{} is the new template of {}",
        outcome.template.name, class.name
    ))
    .line(format!("template VMID: {}", outcome.template.vmid));
    reply = reply.line(match mode {
        PublishMode::Now => format!("Student VMs to rebuild from it now: {}.", outcome.vms.len()),
        _ => format!(
            "Student VMs to rebuild from it: {} ({} now, as they are stopped; {waiting} at their \
             next stop).",
            outcome.vms.len(),
            outcome.due_now
        ),
    });
    if outcome.previous.is_some() {
        reply = reply.line("The previous version stays until no VM uses it any more.");
    }
    Ok(reply)
}
