//! What the background jobs know and decided about each pool VM between ticks (`vm_watch`), and
//! the CPU samples the idle rule reads (`vm_cpu_samples`).
//!
//! A `vm_watch` row exists for a pool VM once a job had something to remember about it, and
//! goes with the VM (the foreign key cascades).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::pool::{self, PoolVm};
use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::{VmAssignments as Vm, VmCpuSamples as Samples, VmWatch as W};
use crate::db::time::{opt_ts_from_sql, ts_from_sql, ts_to_sql};
use crate::error::{Error, Result};
use crate::events::ShutdownReason;
use crate::rules::idle::CpuSample;
use crate::types::{ClusterId, VmId};

/// When students' VMs are reimaged from a newly published template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublishMode {
    /// At once (running VMs are shut down for it; their students' changes are lost).
    Now,
    /// Each when it next stops, so nobody loses a session in progress.
    AtNextStop,
}

impl PublishMode {
    fn as_str(self) -> &'static str {
        match self {
            PublishMode::Now => "now",
            PublishMode::AtNextStop => "at_next_stop",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "now" => Ok(PublishMode::Now),
            "at_next_stop" => Ok(PublishMode::AtNextStop),
            other => Err(Error::internal(format!(
                "unknown reimage time {other:?} stored"
            ))),
        }
    }
}

/// An automatic shutdown that was decided and is not yet seen done.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingShutdown {
    pub(crate) reason: ShutdownReason,
    pub(crate) decided_at: Timestamp,
    pub(crate) requested_at: Option<Timestamp>,
    pub(crate) attempts: u32,
}

/// A reimage from a published template that waits for its time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PendingReimage {
    pub(crate) template_id: i64,
    pub(crate) when: PublishMode,
    /// Set once the reimage may happen; the reconciler does it.
    pub(crate) due_at: Option<Timestamp>,
}

/// Everything the jobs remember about one pool VM.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Watch {
    pub(crate) usage_accounted_at: Option<Timestamp>,
    pub(crate) hours_warned_for: Option<Timestamp>,
    pub(crate) idle_warned_at: Option<Timestamp>,
    pub(crate) shutdown: Option<PendingShutdown>,
    pub(crate) image_template_id: Option<i64>,
    pub(crate) reimage: Option<PendingReimage>,
}

const COLUMNS: [W; 13] = [
    W::Vmid,
    W::UsageAccountedAt,
    W::HoursWarnedFor,
    W::IdleWarnedAt,
    W::ShutdownReason,
    W::ShutdownDecidedAt,
    W::ShutdownRequestedAt,
    W::ShutdownAttempts,
    W::ImageTemplateId,
    W::ReimageTemplateId,
    W::ReimageWhen,
    W::ReimageDueAt,
    W::ClusterId,
];

fn map(c: &mut Cols<'_, '_>) -> Result<(VmId, Watch)> {
    let vmid = stored(VmId::new(c.next()?))?;
    let usage_accounted_at = opt_ts_from_sql(c.next()?)?;
    let hours_warned_for = opt_ts_from_sql(c.next()?)?;
    let idle_warned_at = opt_ts_from_sql(c.next()?)?;
    let reason: Option<String> = c.next()?;
    let decided_at = opt_ts_from_sql(c.next()?)?;
    let requested_at = opt_ts_from_sql(c.next()?)?;
    let attempts = u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX);
    let image_template_id = c.next()?;
    let reimage_template: Option<i64> = c.next()?;
    let when: Option<String> = c.next()?;
    let due_at = opt_ts_from_sql(c.next()?)?;
    let _cluster: String = c.next()?;
    let shutdown = match (reason, decided_at) {
        (Some(reason), Some(decided_at)) => Some(PendingShutdown {
            reason: serde_json::from_str(&reason).map_err(|e| {
                Error::internal(format!(
                    "stored shutdown reason {reason:?} is unreadable: {e}"
                ))
            })?,
            decided_at,
            requested_at,
            attempts,
        }),
        _ => None,
    };
    let reimage = match (reimage_template, when) {
        (Some(template_id), Some(when)) => Some(PendingReimage {
            template_id,
            when: PublishMode::parse(&when)?,
            due_at,
        }),
        _ => None,
    };
    Ok((
        vmid,
        Watch {
            usage_accounted_at,
            hours_warned_for,
            idle_warned_at,
            shutdown,
            image_template_id,
            reimage,
        },
    ))
}

/// The watch rows of every pool VM of `cluster` that has one.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn all_on(conn: &Connection, cluster: &ClusterId) -> Result<HashMap<VmId, Watch>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(W::Table)
        .and_where(Expr::col(W::ClusterId).eq(cluster.as_str()))
        .to_owned();
    Ok(query_all(conn, &select, map)?.into_iter().collect())
}

/// The watch row of one VM (default when there is none).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn get(conn: &Connection, cluster: &ClusterId, vmid: VmId) -> Result<Watch> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(W::Table)
        .and_where(Expr::col(W::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(W::Vmid).eq(i64::from(vmid.get())))
        .to_owned();
    Ok(query_opt(conn, &select, map)?
        .map(|(_, w)| w)
        .unwrap_or_default())
}

/// Stores the watch row of one pool VM (creating it).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails (also when the VM is not a pool VM).
pub(crate) fn save(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
    watch: &Watch,
) -> Result<()> {
    let ts = |t: Option<Timestamp>| t.map(ts_to_sql);
    let reason = watch
        .shutdown
        .as_ref()
        .map(|s| serde_json::to_string(&s.reason))
        .transpose()
        .map_err(|e| Error::internal(format!("a shutdown reason cannot be stored: {e}")))?;
    let shutdown = watch.shutdown.as_ref();
    let reimage = watch.reimage.as_ref();
    let insert = Query::insert()
        .into_table(W::Table)
        .columns(COLUMNS)
        .values_panic([
            i64::from(vmid.get()).into(),
            ts(watch.usage_accounted_at).into(),
            ts(watch.hours_warned_for).into(),
            ts(watch.idle_warned_at).into(),
            reason.into(),
            ts(shutdown.map(|s| s.decided_at)).into(),
            ts(shutdown.and_then(|s| s.requested_at)).into(),
            i64::from(shutdown.map_or(0, |s| s.attempts)).into(),
            watch.image_template_id.into(),
            reimage.map(|r| r.template_id).into(),
            reimage.map(|r| r.when.as_str()).into(),
            ts(reimage.and_then(|r| r.due_at)).into(),
            cluster.as_str().into(),
        ])
        .on_conflict(
            OnConflict::columns([W::ClusterId, W::Vmid])
                .update_columns(
                    COLUMNS
                        .into_iter()
                        .filter(|c| !matches!(c, W::ClusterId | W::Vmid)),
                )
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// Adds one CPU sample.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn add_sample(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
    sample: CpuSample,
) -> Result<()> {
    let insert = Query::insert()
        .into_table(Samples::Table)
        .columns([
            Samples::ClusterId,
            Samples::Vmid,
            Samples::At,
            Samples::Percent,
        ])
        .values_panic([
            cluster.as_str().into(),
            i64::from(vmid.get()).into(),
            ts_to_sql(sample.at).into(),
            sample.percent.into(),
        ])
        .on_conflict(
            OnConflict::columns([Samples::ClusterId, Samples::Vmid, Samples::At])
                .update_column(Samples::Percent)
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// The samples of every VM of `cluster` taken at `since` or later, oldest first.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn samples_since(
    conn: &Connection,
    cluster: &ClusterId,
    since: Timestamp,
) -> Result<HashMap<VmId, Vec<CpuSample>>> {
    let select = Query::select()
        .columns([Samples::Vmid, Samples::At, Samples::Percent])
        .from(Samples::Table)
        .and_where(Expr::col(Samples::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Samples::At).gte(ts_to_sql(since)))
        .order_by(Samples::At, Order::Asc)
        .to_owned();
    let rows = query_all(conn, &select, |c| {
        let vmid = stored(VmId::new(c.next()?))?;
        let at = ts_from_sql(&c.next::<String>()?)?;
        Ok((
            vmid,
            CpuSample {
                at,
                percent: c.next()?,
            },
        ))
    })?;
    let mut out: HashMap<VmId, Vec<CpuSample>> = HashMap::new();
    for (vmid, sample) in rows {
        out.entry(vmid).or_default().push(sample);
    }
    Ok(out)
}

/// Forgets the samples of one VM (it stopped, or someone asked to keep it running: idleness
/// must then be seen for a whole new span).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn clear_samples(conn: &Connection, cluster: &ClusterId, vmid: VmId) -> Result<usize> {
    let delete = Query::delete()
        .from_table(Samples::Table)
        .and_where(Expr::col(Samples::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Samples::Vmid).eq(i64::from(vmid.get())))
        .to_owned();
    execute(conn, &delete)
}

/// Forgets samples older than `before` on `cluster`.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn prune_samples(
    conn: &Connection,
    cluster: &ClusterId,
    before: Timestamp,
) -> Result<usize> {
    let delete = Query::delete()
        .from_table(Samples::Table)
        .and_where(Expr::col(Samples::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Samples::At).lt(ts_to_sql(before)))
        .to_owned();
    execute(conn, &delete)
}

/// Records that a VM's reimage from its pending template has begun (in the transaction that
/// moves it to `Rebuilding`): the template becomes the VM's image and nothing is pending.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn reimaged(conn: &Connection, cluster: &ClusterId, vmid: VmId) -> Result<()> {
    let mut watch = get(conn, cluster, vmid)?;
    if let Some(pending) = watch.reimage.take() {
        watch.image_template_id = Some(pending.template_id);
        save(conn, cluster, vmid, &watch)?;
    }
    Ok(())
}

/// Every pool VM on `cluster`, by VMID.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn pool_vms_on(conn: &Connection, cluster: &ClusterId) -> Result<Vec<PoolVm>> {
    let select = pool::select()
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .order_by(Vm::ProxmoxVmid, Order::Asc)
        .to_owned();
    query_all(conn, &select, pool::map)
}
