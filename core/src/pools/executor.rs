//! The executor: runs a plan's actions in parallel, each VM's work claimed so no two pieces of
//! work touch one VM at once, bounded per cluster (`vms_per_cluster`) and, for clones, per node
//! (`clones_per_node`, taken inside the clone step).
//!
//! The tasks live in a `JoinSet` owned by the caller's future: aborting the operation aborts
//! every VM's work at its next await point, exactly like a crash, and the recorded steps are
//! where the next run picks up.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::drive::{drive, Outcome};
use super::plan::Action;
use super::run::Run;
use crate::error::Result;
use crate::store::pool::steps;
use crate::types::VmId;

/// Runs `actions`; returns each VM's outcome (run-state records first, in one transaction).
///
/// # Errors
/// [`crate::Error::Internal`] when the run-state records cannot be written.
pub(crate) async fn execute(run: Arc<Run>, actions: Vec<Action>) -> Result<Vec<(VmId, Outcome)>> {
    let (records, work): (Vec<Action>, Vec<Action>) =
        actions.into_iter().partition(Action::is_bookkeeping);
    if !records.is_empty() {
        let class = run.intent.class;
        run.lab
            .db()
            .write(move |tx| {
                for action in &records {
                    if let Action::Power { vmid, power } = action {
                        steps::set_power(tx, class, *vmid, *power)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    let pools = run.lab.pools();
    let cluster = run.intent.cluster.clone();
    let mut outcomes = Vec::with_capacity(work.len());
    let mut claimed = Vec::with_capacity(work.len());
    for action in work {
        match pools.claim(&cluster, action.vmid().get()) {
            Some(claim) => claimed.push((claim, action)),
            None => outcomes.push((action.vmid(), Outcome::Busy)),
        }
    }
    run.report
        .queued(claimed.iter().filter(|(_, action)| action.builds()).count());
    let slots = pools.cluster_slots(&cluster);
    let mut set = JoinSet::new();
    for (claim, action) in claimed {
        let (run, slots) = (Arc::clone(&run), Arc::clone(&slots));
        set.spawn(async move {
            let _claim = claim;
            let vmid = action.vmid();
            let Ok(_permit) = slots.acquire_owned().await else {
                return (vmid, Outcome::Busy);
            };
            (vmid, drive(&run, action).await)
        });
    }
    while let Some(done) = set.join_next().await {
        match done {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => tracing::error!(error = %e, "a VM's work ended abnormally"),
        }
    }
    Ok(outcomes)
}
