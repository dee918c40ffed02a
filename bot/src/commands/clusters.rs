//! Adminers' cluster commands that reach Proxmox or change how a cluster is used:
//! `/cluster test [cluster]` and `/cluster set cluster [...]`. (`/cluster list` is in `admin`.)
//!
//! Only the fields of a cluster that decide how pvelab uses it are changed here (whether it is
//! used, whether new VMs go there and in what order, which syncs run, idle shutdown, address
//! lookup and how long a read VM state stays fresh). Its address, login and trust come from the
//! configuration file, where secrets are kept out of chat.

use pvelab_core::model::{ClusterChange, ClusterJobChange, NodeCheck};
use pvelab_core::types::ClusterId;

use super::{CommandContext, CommandError, Reply};
use crate::parse::OptionError;

/// Deployment priorities accepted by `/cluster set priority:`.
const PRIORITIES: std::ops::RangeInclusive<i64> = -1000..=1000;
/// Seconds accepted by `/cluster set cache-ttl:` (a day at most).
const CACHE_TTL: std::ops::RangeInclusive<i64> = 0..=86_400;

/// A whole number within `range`.
///
/// # Errors
/// [`OptionError`] naming `option` and the range.
pub fn number_in(
    option: &str,
    text: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, OptionError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            OptionError::new(
                option,
                text,
                format!("a whole number from {} to {}", range.start(), range.end()),
            )
        })
}

/// A deployment priority (`priority:`).
///
/// # Errors
/// [`OptionError`] outside -1000 to 1000.
pub fn priority(option: &str, text: &str) -> Result<i64, OptionError> {
    number_in(option, text, PRIORITIES)
}

/// How long a read VM state stays fresh, in seconds (`cache-ttl:`).
///
/// # Errors
/// [`OptionError`] outside 0 to 86400.
pub fn cache_ttl(option: &str, text: &str) -> Result<u32, OptionError> {
    number_in(option, text, CACHE_TTL).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn node_line(node: &NodeCheck) -> String {
    if !node.online {
        return format!("{}: offline", node.name);
    }
    let mut line = format!("{}: online", node.name);
    if let Some(cpu) = node.cpu {
        line.push_str(&format!(", CPU {:.0}%", cpu * 100.0));
    }
    if let (Some(mem), Some(max)) = (node.mem, node.maxmem) {
        const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
        line.push_str(&format!(
            ", memory {:.1} of {:.1} GiB",
            mem as f64 / GIB,
            max as f64 / GIB
        ));
    }
    line
}

/// `/cluster test [cluster]`: whether pvelab reaches each cluster (or the one named), trusts
/// its certificate and is accepted, with its version and nodes.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer; an unknown cluster; with one cluster named, why it
/// failed. With every cluster, failures are lines of the answer.
pub async fn test(
    ctx: &CommandContext,
    cluster: Option<&ClusterId>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    if let Some(id) = cluster {
        let check = ctx.lab.test_cluster(&actor, &[], id).await?;
        return Ok(Reply::titled(format!("Cluster {id} answers"))
            .line(format!("Proxmox VE {}", check.version))
            .section("nodes", check.nodes.iter().map(node_line).collect()));
    }
    let mut reply = Reply::titled("Clusters tested");
    for c in ctx.lab.clusters(&actor).await? {
        let id = c.cluster_id;
        let lines = match ctx.lab.test_cluster(&actor, &[], &id).await {
            Ok(check) => std::iter::once(format!("answers: Proxmox VE {}", check.version))
                .chain(check.nodes.iter().map(node_line))
                .collect(),
            Err(e) => {
                let shown = crate::render::errors::error_reply(&CommandError::Core(e));
                shown.sections.into_iter().flat_map(|s| s.lines).collect()
            }
        };
        reply = reply.section(id.to_string(), lines);
    }
    Ok(reply)
}

/// The options of `/cluster set`.
#[derive(Debug, Clone, Default)]
pub struct SetArgs {
    /// Use the cluster at all.
    pub active: Option<bool>,
    /// Place new class VMs there.
    pub deployment: Option<bool>,
    /// Deployment priority, higher first.
    pub priority: Option<i64>,
    /// Run the template sync there.
    pub template_sync: Option<bool>,
    /// Run the ISO sync there.
    pub iso_sync: Option<bool>,
    /// Shut idle VMs down there.
    pub idle_shutdown: Option<bool>,
    /// Look VM addresses up there.
    pub ip_lookup: Option<bool>,
    /// Seconds a read VM state stays fresh.
    pub cache_ttl: Option<u32>,
}

/// `/cluster set cluster [...]`: changes what is given and shows the cluster's settings.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer or the cluster's administrator; an unknown cluster;
/// [`CommandError::Refused`] when no option is given.
pub async fn set(
    ctx: &CommandContext,
    id: &ClusterId,
    args: SetArgs,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let change = ClusterChange {
        is_active: args.active,
        allow_vm_deployment: args.deployment,
        priority: args.priority,
        ..ClusterChange::default()
    };
    let jobs = ClusterJobChange {
        allow_template_sync: args.template_sync,
        allow_iso_sync: args.iso_sync,
        auto_shutdown_enabled: args.idle_shutdown,
        enable_ip_lookup: args.ip_lookup,
        vm_cache_ttl: args.cache_ttl,
        ..ClusterJobChange::default()
    };
    let cluster_changes = change.is_active.is_some()
        || change.allow_vm_deployment.is_some()
        || change.priority.is_some();
    let job_changes = jobs.allow_template_sync.is_some()
        || jobs.allow_iso_sync.is_some()
        || jobs.auto_shutdown_enabled.is_some()
        || jobs.enable_ip_lookup.is_some()
        || jobs.vm_cache_ttl.is_some();
    if !cluster_changes && !job_changes {
        // Whether the caller may change the cluster at all comes first.
        ctx.lab.cluster_job_settings(&actor, id).await?;
        return Err(CommandError::refused(
            format!("Nothing to change on cluster {id}."),
            "Give at least one of active:, deployment:, priority:, template-sync:, iso-sync:, \
             idle-shutdown:, ip-lookup: or cache-ttl:.",
        ));
    }
    // Each change checks the cluster exists and the caller's right before writing.
    let mut cluster = None;
    if cluster_changes {
        cluster = Some(ctx.lab.update_cluster(&actor, &[], id, change).await?);
    }
    let settings = if job_changes {
        ctx.lab
            .change_cluster_job_settings(&actor, id, jobs)
            .await?
    } else {
        ctx.lab.cluster_job_settings(&actor, id).await?
    };
    let cluster = match cluster {
        Some(c) => c,
        None => ctx
            .lab
            .clusters(&actor)
            .await?
            .into_iter()
            .find(|c| &c.cluster_id == id)
            .ok_or_else(|| pvelab_core::Error::NotFound {
                entity: pvelab_core::Entity::Cluster,
                key: id.to_string(),
            })?,
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    Ok(
        Reply::titled(format!("Cluster {} changed", cluster.cluster_id)).section(
            "settings",
            vec![
                format!("active: {}", yes(cluster.is_active)),
                format!("new class VMs here: {}", yes(cluster.allow_vm_deployment)),
                format!("priority: {}", cluster.priority),
                format!("template sync: {}", yes(settings.allow_template_sync)),
                format!("ISO sync: {}", yes(settings.allow_iso_sync)),
                format!("idle shutdown: {}", yes(settings.auto_shutdown_enabled)),
                format!("address lookup: {}", yes(settings.enable_ip_lookup)),
                format!("VM state fresh for: {} s", settings.vm_cache_ttl),
            ],
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_outside_their_range_are_refused_naming_the_value_and_the_range() {
        assert_eq!(priority("priority", "10").unwrap(), 10);
        assert_eq!(priority("priority", "-5").unwrap(), -5);
        let e = priority("priority", "5000").unwrap_err();
        assert_eq!((e.option(), e.value()), ("priority", Some("5000")));
        assert!(e.allowed().contains("-1000 to 1000"), "{e}");
        assert!(priority("priority", "high").is_err());
        assert_eq!(cache_ttl("cache-ttl", "30").unwrap(), 30);
        assert!(cache_ttl("cache-ttl", "-1")
            .unwrap_err()
            .allowed()
            .contains("0 to 86400"));
    }
}
