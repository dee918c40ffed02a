//! One class brought from fact to intent: load the intent and the recorded steps, read the
//! facts, plan, execute, summarise. Provisioning, resizing, reconfiguring, deleting and
//! reconciliation all end here: they differ only in what they record as intent first.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use super::client::{client_for, cluster_error};
use super::drive::Outcome;
use super::executor::execute;
use super::facts::{Facts, GuestFact, Intent, Specs};
use super::observe;
use super::plan::{configs_needed, plan};
use super::progress::{OperationSummary, Reporter};
use super::retry::is_transient;
use super::run::Run;
use crate::error::Result;
use crate::lab::Lab;
use crate::store::classes;
use crate::store::pool::managed;
use crate::store::pool::steps::{self, PoolVmState};
use crate::types::{ClassId, ClusterId, TemplateId, VmId};

/// A managed class's intent and recorded pool.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) intent: Intent,
    pub(crate) rows: Vec<PoolVmState>,
    pub(crate) template_id: Option<TemplateId>,
}

/// The class's intent and rows, or `None` when pvelab does not manage its pool.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) async fn load(lab: &Lab, class: ClassId) -> Result<Option<Loaded>> {
    lab.db()
        .read(move |tx| {
            let Some(managed) = managed::get(tx, class)? else {
                return Ok(None);
            };
            let (stored, deleting) = classes::get_for_pool(tx, class)?;
            let rows = steps::states(tx, class)?;
            Ok(Some(Loaded {
                intent: Intent {
                    class,
                    name: stored.name,
                    cluster: managed.cluster,
                    scheme: stored.scheme,
                    pool_size: stored.pool_size.get(),
                    specs: Specs {
                        cores: stored.cpu_cores.get(),
                        memory_mb: stored.memory_mb.get(),
                        disk_gb: stored.disk_gb.get(),
                    },
                    deployment_node: stored.deployment_node.map(|n| n.as_str().to_owned()),
                    deleting,
                },
                rows,
                template_id: stored.template_id,
            }))
        })
        .await
}

/// Runs a Proxmox read, trying again after transient failures; the last error is mapped to
/// the core's.
pub(crate) async fn read<T, F, Fut>(lab: &Lab, cluster: &ClusterId, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = pvelab_proxmox::Result<T>>,
{
    let config = lab.pools().config();
    let mut tries = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if is_transient(&e) && tries < config.step_retries => {
                tokio::time::sleep(config.retry_delay(tries)).await;
                tries += 1;
            }
            Err(e) => return Err(cluster_error(cluster, e)),
        }
    }
}

/// Brings the class's pool to its intent and says what was done. `guests` may carry a
/// `cluster/resources` read shared with other classes of the cluster; `only` limits the work
/// to one VM (a reimage).
///
/// # Errors
/// [`crate::Error::Cluster`] when the cluster cannot be read (then nothing was changed);
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) async fn converge(
    lab: &Lab,
    class: ClassId,
    report: &Reporter,
    guests: Option<&BTreeMap<u32, GuestFact>>,
    only: Option<VmId>,
) -> Result<OperationSummary> {
    let mut summary = OperationSummary {
        class: Some(class),
        ..OperationSummary::default()
    };
    let Some(loaded) = load(lab, class).await? else {
        summary
            .notes
            .push("pvelab does not manage this class's pool".into());
        report.queued(0);
        return Ok(summary);
    };
    let Loaded {
        intent,
        rows,
        template_id,
    } = loaded;
    let cluster = intent.cluster.clone();
    let client = client_for(lab, &cluster).await?;
    let mut guests = match guests {
        Some(g) => g.clone(),
        None => read(lab, &cluster, || observe::guests(&client)).await?,
    };
    let nodes = read(lab, &cluster, || observe::nodes(&client)).await?;
    let source = if intent.deleting {
        Err("the class is being deleted".to_owned())
    } else {
        observe::source(lab, &client, &cluster, template_id, &guests).await?
    };
    let wanted = configs_needed(&intent, &rows, &guests);
    observe::read_configs(
        &client,
        lab.pools().config(),
        &mut guests,
        &wanted,
        lab.pools().config().vms_per_cluster,
    )
    .await;
    let facts = Facts {
        guests,
        nodes,
        source: source.clone(),
    };
    let mut planned = plan(&intent, &rows, &facts, lab.now());
    if let Some(vmid) = only {
        planned.actions.retain(|a| a.vmid() == vmid);
    }
    let deleting = intent.deleting;
    let run = Arc::new(Run {
        lab: lab.clone(),
        client,
        intent,
        source,
        report: report.clone(),
    });
    let outcomes = execute(Arc::clone(&run), planned.actions).await?;
    summary.total = outcomes.iter().filter(|(_, o)| *o != Outcome::Busy).count();
    for (vmid, outcome) in outcomes {
        match outcome {
            Outcome::Ready => summary.ready += 1,
            Outcome::Failed(reason) => summary.failed.push((vmid, reason)),
            Outcome::Deleted => summary.deleted += 1,
            Outcome::Changed => summary.changed += 1,
            Outcome::Busy => summary.busy += 1,
        }
    }
    summary.failed.sort_by_key(|(vmid, _)| *vmid);
    summary.unknown = planned
        .unknown
        .iter()
        .filter_map(|u| VmId::new(i64::from(u.vmid)).ok())
        .collect();
    summary.notes = planned.notes;
    if deleting && finish_deletion(lab, class).await? {
        summary
            .notes
            .push("the class and its VMID range are gone".into());
    }
    Ok(summary)
}

/// Deletes a class being deleted once none of its VMs is left (its VMID range is free then);
/// returns whether it did.
async fn finish_deletion(lab: &Lab, class: ClassId) -> Result<bool> {
    lab.db()
        .write(move |tx| classes::finish_delete(tx, class))
        .await
}

/// Finishes deleting a class whose pool pvelab does not manage: its VMs were registered by hand
/// and are never deleted by pvelab, so only their rows go, then the class.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) async fn forget_unmanaged(lab: &Lab, class: ClassId) -> Result<OperationSummary> {
    let forgotten = lab
        .db()
        .write(move |tx| {
            let rows = steps::states(tx, class)?;
            for row in &rows {
                steps::remove(tx, class, row.vm.vmid)?;
            }
            classes::finish_delete(tx, class)?;
            Ok(rows.len())
        })
        .await?;
    Ok(OperationSummary {
        class: Some(class),
        total: forgotten,
        changed: forgotten,
        notes: vec![format!(
            "{forgotten} VMs registered by hand were left on Proxmox; the class is gone"
        )],
        ..OperationSummary::default()
    })
}
