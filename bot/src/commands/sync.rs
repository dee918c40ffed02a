//! Adminers' views of what the background jobs read from Proxmox: `/sync now [what]` runs jobs
//! at once, `/iso list [cluster]` shows what the ISO sync found.

use pvelab_core::jobs::{JobKind, RunOutcome, SyncWhat};
use pvelab_core::types::ClusterId;

use super::{CommandContext, CommandError, Reply};

/// The words `/sync now what:` takes (the catalogue lists the same), and the jobs they run.
pub const SYNC_WHAT: &[(&str, Option<JobKind>)] = &[
    ("all", None),
    ("inventory", Some(JobKind::Inventory)),
    ("ips", Some(JobKind::Addresses)),
    ("isos", Some(JobKind::Isos)),
    ("templates", Some(JobKind::Templates)),
    // Usage is accounted by the inventory run, from the power states it reads.
    ("usage", Some(JobKind::Inventory)),
];

fn what_of(word: &str) -> SyncWhat {
    SYNC_WHAT
        .iter()
        .find(|(w, _)| *w == word)
        .and_then(|(_, job)| *job)
        .map_or(SyncWhat::All, SyncWhat::Job)
}

/// `/sync now [what]`: runs the jobs now on every cluster and shows what each run did.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer. A failed run is a row of the answer, not an error.
pub async fn now(ctx: &CommandContext, what: Option<&str>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let word = what.unwrap_or("all");
    let report = ctx.lab.sync_now(&actor, what_of(word), None).await?;
    let rows = report
        .runs
        .iter()
        .map(|run| {
            let result = match &run.outcome {
                RunOutcome::Done(stats) => {
                    let mut text =
                        format!("done: {} written, {} removed", stats.written, stats.removed);
                    if stats.events > 0 {
                        text.push_str(&format!(", {} messages", stats.events));
                    }
                    text
                }
                RunOutcome::Skipped { reason } => format!("skipped: {reason}"),
                RunOutcome::Failed(e) => format!("failed: {e}"),
                _ => "ended".to_owned(),
            };
            vec![run.cluster.to_string(), run.job.to_string(), result]
        })
        .collect();
    let title = if report.all_ok() {
        format!("Synced {word}")
    } else {
        format!("Synced {word}, with failures")
    };
    Ok(Reply::titled(title).table(&["CLUSTER", "JOB", "RESULT"], rows))
}

/// `12.4 GiB`, `512.0 MiB`.
fn size(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = bytes as f64 / MIB;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

/// `/iso list [cluster]`: the ISO images the last ISO sync found.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer; an unknown cluster.
pub async fn isos(
    ctx: &CommandContext,
    cluster: Option<&ClusterId>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let clusters: Vec<ClusterId> = match cluster {
        Some(id) => vec![id.clone()],
        None => ctx
            .lab
            .clusters(&actor)
            .await?
            .into_iter()
            .map(|c| c.cluster_id)
            .collect(),
    };
    let mut rows = Vec::new();
    for id in &clusters {
        for iso in ctx.lab.isos(&actor, &[], id).await? {
            rows.push(vec![
                iso.cluster_id.to_string(),
                iso.storage.clone(),
                iso.name.clone(),
                iso.size.map(size).unwrap_or_default(),
                iso.node
                    .clone()
                    .unwrap_or_else(|| "all (shared)".to_owned()),
            ]);
        }
    }
    if rows.is_empty() {
        return Ok(Reply::text("No ISO image is recorded.")
            .line("The ISO sync records them; run it now with /sync now what:isos."));
    }
    Ok(Reply::titled("ISO images").table(&["CLUSTER", "STORAGE", "NAME", "SIZE", "NODE"], rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_of_the_catalogue_runs_a_job_and_all_runs_every_one() {
        assert_eq!(what_of("all"), SyncWhat::All);
        assert_eq!(what_of("ips"), SyncWhat::Job(JobKind::Addresses));
        assert_eq!(what_of("usage"), SyncWhat::Job(JobKind::Inventory));
        let words: Vec<&str> = SYNC_WHAT.iter().map(|(w, _)| *w).collect();
        assert_eq!(words, crate::commands::list::SYNC_WHAT);
    }

    #[test]
    fn sizes_read_in_mib_or_gib() {
        assert_eq!(size(512 * 1024 * 1024), "512.0 MiB");
        assert_eq!(size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
