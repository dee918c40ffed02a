//! Reconciliation: every managed pool brought back to its intent, cluster by cluster.
//!
//! It resumes what a crash interrupted (from each VM's recorded step, never from memory),
//! rebuilds VMs that vanished behind pvelab's back, records VMs stopped or started behind its
//! back, reimages VMs their students left or whose class published a new template, finishes class deletions, and reports VMs in a
//! class's range that pvelab does not know (never touching them). Clusters are reconciled side
//! by side: one that does not answer costs its own retries and never delays another.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::client::client_for;
use super::converge::{converge, forget_unmanaged, read};
use super::due_reimages;
use super::observe;
use super::progress::{OperationSummary, Reporter};
use crate::db::time::ts_to_sql;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::store::classes;
use crate::store::pool::{managed, operations};
use crate::types::{ClassId, ClusterId};

/// What one reconciliation did on one cluster.
#[derive(Debug)]
pub struct ClusterReconciliation {
    /// The cluster.
    pub cluster: ClusterId,
    /// Per class, what was done; or why the cluster could not be reconciled this time.
    pub result: Result<Vec<OperationSummary>>,
}

/// What one reconciliation did.
#[derive(Debug, Default)]
pub struct ReconcileReport {
    /// Per cluster with managed pools.
    pub clusters: Vec<ClusterReconciliation>,
    /// Operations a crash had left open, closed now (their VMs were finished from their
    /// recorded steps).
    pub interrupted_operations: usize,
}

impl ReconcileReport {
    /// Every class summary of every cluster that could be reached.
    pub fn summaries(&self) -> impl Iterator<Item = &OperationSummary> {
        self.clusters
            .iter()
            .filter_map(|c| c.result.as_ref().ok())
            .flatten()
    }

    /// The summary of one class, if its cluster could be reached.
    pub fn class(&self, class: ClassId) -> Option<&OperationSummary> {
        self.summaries().find(|s| s.class == Some(class))
    }
}

/// Reconciles every managed pool once (the system's work; no person acts).
///
/// # Errors
/// [`Error::Internal`] when the database fails; cluster failures are in the report.
pub(crate) async fn reconcile(lab: &Lab) -> Result<ReconcileReport> {
    let opened = ts_to_sql(lab.pools().opened_at());
    let (pools, unmanaged, interrupted) = lab
        .db()
        .write(move |tx| {
            let closed = operations::close_interrupted(tx, &opened)?;
            let pools = managed::list(tx)?;
            // Classes being deleted whose pool pvelab never managed: nothing on Proxmox is ours.
            let unmanaged: Vec<ClassId> = classes::deleting(tx)?
                .into_iter()
                .filter(|c| !pools.iter().any(|p| p.class == *c))
                .collect();
            Ok((pools, unmanaged, closed))
        })
        .await?;
    for class in unmanaged {
        forget_unmanaged(lab, class).await?;
    }
    let mut by_cluster: BTreeMap<ClusterId, Vec<ClassId>> = BTreeMap::new();
    for pool in pools {
        by_cluster.entry(pool.cluster).or_default().push(pool.class);
    }
    let mut set = JoinSet::new();
    for (cluster, classes) in by_cluster {
        let lab = lab.clone();
        set.spawn(async move {
            let result = cluster_once(&lab, &cluster, &classes).await;
            if let Err(e) = &result {
                tracing::warn!(%cluster, error = %e, "a cluster could not be reconciled");
            }
            ClusterReconciliation { cluster, result }
        });
    }
    let mut report = ReconcileReport {
        clusters: Vec::new(),
        interrupted_operations: interrupted,
    };
    while let Some(done) = set.join_next().await {
        match done {
            Ok(c) => report.clusters.push(c),
            Err(e) => {
                return Err(Error::internal(format!(
                    "a reconciliation task failed: {e}"
                )))
            }
        }
    }
    report.clusters.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    Ok(report)
}

/// One cluster: one `cluster/resources` read shared by all its classes, then each class.
async fn cluster_once(
    lab: &Lab,
    cluster: &ClusterId,
    classes: &[ClassId],
) -> Result<Vec<OperationSummary>> {
    let client = client_for(lab, cluster).await?;
    let guests = read(lab, cluster, || observe::guests(&client)).await?;
    due_reimages::start(lab, cluster).await?;
    let mut summaries = Vec::with_capacity(classes.len());
    for class in classes {
        let summary = converge(lab, *class, &Reporter::silent(), Some(&guests), None).await?;
        if summary.total > 0 || !summary.unknown.is_empty() {
            tracing::info!(%cluster, %class, summary = %summary.line(), "reconciled a pool");
        }
        summaries.push(summary);
    }
    Ok(summaries)
}

/// How long a stop waits for a reconciliation under way. One held by a cluster that does not
/// answer is then abandoned at its current call, as a crash there would leave it: every step
/// is recorded before its call goes out, so the next reconciliation finishes it.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Reconciles now and then every `every` until `cancel` fires; a run that overruns the next
/// tick delays it instead of piling up. A stop lets a run under way finish for up to
/// [`STOP_GRACE`].
pub(crate) fn spawn(
    lab: Lab,
    every: Duration,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => {
                    let run = reconcile(&lab);
                    tokio::pin!(run);
                    let result = tokio::select! {
                        result = &mut run => Some(result),
                        () = cancel.cancelled() => tokio::time::timeout(STOP_GRACE, &mut run)
                            .await
                            .ok(),
                    };
                    match result {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => tracing::warn!(error = %e, "reconciliation failed"),
                        None => tracing::warn!(
                            "a reconciliation under way did not finish within {STOP_GRACE:?} of \
                             the stop (a cluster does not answer?); the next start finishes it"
                        ),
                    }
                }
            }
        }
    })
}
