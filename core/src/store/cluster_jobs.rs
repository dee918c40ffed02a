//! What the background jobs read and record per cluster: the cluster's job settings (the
//! columns of `clusters` that only the jobs use) and how each job last went
//! (`cluster_sync_status`).

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::{ClusterSyncStatus as Sync, Clusters};
use crate::db::time::{now_sql, opt_ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::jobs::{JobKind, Subnet, SyncStatus};
use crate::types::ClusterId;

/// A cluster's settings for the background jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterJobSettings {
    /// Whether the cluster is used at all (inactive clusters are not synchronised).
    pub is_active: bool,
    /// Whether its templates are synchronised.
    pub allow_template_sync: bool,
    /// Whether its ISO images are listed.
    pub allow_iso_sync: bool,
    /// Whether idle VMs on it may be shut down automatically (classes decide too).
    pub auto_shutdown_enabled: bool,
    /// Subnets whose neighbour-table entries may be used as VM addresses (and probed).
    pub arp_subnets: Vec<Subnet>,
    /// How old (in seconds) a VM's recorded state may be before a read refreshes it first.
    pub vm_cache_ttl: u32,
    /// Whether VM addresses are looked up at all.
    pub enable_ip_lookup: bool,
    /// Whether found addresses are kept across restarts (off: cleared when the jobs start).
    pub enable_ip_persistence: bool,
    /// The storage for new template replicas when a request names none.
    pub template_storage: Option<String>,
    /// The cluster's API host (recorded with templates as their `cluster_ip`).
    pub host: String,
}

/// Changes to a cluster's job settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClusterJobChange {
    /// Synchronise templates.
    pub allow_template_sync: Option<bool>,
    /// List ISO images.
    pub allow_iso_sync: Option<bool>,
    /// Allow idle shutdown on this cluster.
    pub auto_shutdown_enabled: Option<bool>,
    /// Replace the ARP subnets.
    pub arp_subnets: Option<Vec<Subnet>>,
    /// Seconds a recorded VM state stays fresh for reads.
    pub vm_cache_ttl: Option<u32>,
    /// Look VM addresses up.
    pub enable_ip_lookup: Option<bool>,
    /// Keep addresses across restarts.
    pub enable_ip_persistence: Option<bool>,
    /// Storage for template replicas (`Some(None)` clears it).
    pub template_storage: Option<Option<String>>,
}

impl ClusterJobChange {
    /// The names of the settings the change sets, for the audit trail and logs.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("allow_template_sync", self.allow_template_sync.is_some()),
            ("allow_iso_sync", self.allow_iso_sync.is_some()),
            (
                "auto_shutdown_enabled",
                self.auto_shutdown_enabled.is_some(),
            ),
            ("arp_subnets", self.arp_subnets.is_some()),
            ("vm_cache_ttl", self.vm_cache_ttl.is_some()),
            ("enable_ip_lookup", self.enable_ip_lookup.is_some()),
            (
                "enable_ip_persistence",
                self.enable_ip_persistence.is_some(),
            ),
            ("template_storage", self.template_storage.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Whether the change sets nothing.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }
}

const SETTINGS: [Clusters; 10] = [
    Clusters::IsActive,
    Clusters::AllowTemplateSync,
    Clusters::AllowIsoSync,
    Clusters::AutoShutdownEnabled,
    Clusters::ArpSubnets,
    Clusters::VmCacheTtl,
    Clusters::EnableIpLookup,
    Clusters::EnableIpPersistence,
    Clusters::TemplateStorage,
    Clusters::Host,
];

fn map_settings(c: &mut Cols<'_, '_>) -> Result<ClusterJobSettings> {
    Ok(ClusterJobSettings {
        is_active: c.flag()?,
        allow_template_sync: c.flag()?,
        allow_iso_sync: c.flag()?,
        auto_shutdown_enabled: c.flag()?,
        arp_subnets: c
            .next::<String>()?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| stored(Subnet::parse(l)))
            .collect::<Result<_>>()?,
        vm_cache_ttl: u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX),
        enable_ip_lookup: c.flag()?,
        enable_ip_persistence: c.flag()?,
        template_storage: c.next()?,
        host: c.next()?,
    })
}

/// The job settings of `cluster`.
///
/// # Errors
/// [`Error::NotFound`] when there is no such cluster.
pub(crate) fn settings(conn: &Connection, cluster: &ClusterId) -> Result<ClusterJobSettings> {
    let select = Query::select()
        .columns(SETTINGS)
        .from(Clusters::Table)
        .and_where(Expr::col(Clusters::ClusterId).eq(cluster.as_str()))
        .to_owned();
    query_opt(conn, &select, map_settings)?
        .ok_or_else(|| Error::not_found(Entity::Cluster, cluster))
}

/// Every cluster's id with its job settings.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn all(conn: &Connection) -> Result<Vec<(ClusterId, ClusterJobSettings)>> {
    let select = Query::select()
        .column(Clusters::ClusterId)
        .columns(SETTINGS)
        .from(Clusters::Table)
        .order_by(Clusters::ClusterId, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        let id = stored(ClusterId::parse(&c.next::<String>()?))?;
        Ok((id, map_settings(c)?))
    })
}

/// Applies a change of job settings; returns the settings afterwards.
///
/// # Errors
/// [`Error::NotFound`] when there is no such cluster.
pub(crate) fn change(
    conn: &Connection,
    cluster: &ClusterId,
    change: &ClusterJobChange,
) -> Result<ClusterJobSettings> {
    let mut update = Query::update();
    update
        .table(Clusters::Table)
        .value(Clusters::UpdatedAt, now_sql())
        .and_where(Expr::col(Clusters::ClusterId).eq(cluster.as_str()));
    let flags = [
        (Clusters::AllowTemplateSync, change.allow_template_sync),
        (Clusters::AllowIsoSync, change.allow_iso_sync),
        (Clusters::AutoShutdownEnabled, change.auto_shutdown_enabled),
        (Clusters::EnableIpLookup, change.enable_ip_lookup),
        (Clusters::EnableIpPersistence, change.enable_ip_persistence),
    ];
    for (column, value) in flags {
        if let Some(value) = value {
            update.value(column, value);
        }
    }
    if let Some(subnets) = &change.arp_subnets {
        let text: Vec<String> = subnets.iter().map(ToString::to_string).collect();
        update.value(Clusters::ArpSubnets, text.join("\n"));
    }
    if let Some(ttl) = change.vm_cache_ttl {
        update.value(Clusters::VmCacheTtl, i64::from(ttl));
    }
    if let Some(storage) = &change.template_storage {
        update.value(Clusters::TemplateStorage, storage.clone());
    }
    if execute(conn, &update)? == 0 {
        return Err(Error::not_found(Entity::Cluster, cluster));
    }
    settings(conn, cluster)
}

/// Records that `job` started on `cluster`.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn started(conn: &Connection, cluster: &ClusterId, job: JobKind) -> Result<()> {
    let insert = Query::insert()
        .into_table(Sync::Table)
        .columns([Sync::ClusterId, Sync::Job, Sync::LastStartedAt])
        .values_panic([cluster.as_str().into(), job.name().into(), now_sql().into()])
        .on_conflict(
            OnConflict::columns([Sync::ClusterId, Sync::Job])
                .update_column(Sync::LastStartedAt)
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// Records a successful run of `job` on `cluster` and what it changed.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn succeeded(
    conn: &Connection,
    cluster: &ClusterId,
    job: JobKind,
    written: usize,
    removed: usize,
) -> Result<()> {
    let now = now_sql();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let insert = Query::insert()
        .into_table(Sync::Table)
        .columns([
            Sync::ClusterId,
            Sync::Job,
            Sync::LastStartedAt,
            Sync::LastFinishedAt,
            Sync::LastSuccessAt,
            Sync::LastError,
            Sync::ConsecutiveFailures,
            Sync::RowsWritten,
            Sync::RowsRemoved,
        ])
        .values_panic([
            cluster.as_str().into(),
            job.name().into(),
            now.clone().into(),
            now.clone().into(),
            now.into(),
            Option::<String>::None.into(),
            0i64.into(),
            count(written).into(),
            count(removed).into(),
        ])
        .on_conflict(
            OnConflict::columns([Sync::ClusterId, Sync::Job])
                .update_columns([
                    Sync::LastFinishedAt,
                    Sync::LastSuccessAt,
                    Sync::LastError,
                    Sync::ConsecutiveFailures,
                    Sync::RowsWritten,
                    Sync::RowsRemoved,
                ])
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// Records a failed run of `job` on `cluster`; returns the failures in a row, this one included.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn failed(
    conn: &Connection,
    cluster: &ClusterId,
    job: JobKind,
    error: &str,
) -> Result<u32> {
    let now = now_sql();
    let insert = Query::insert()
        .into_table(Sync::Table)
        .columns([
            Sync::ClusterId,
            Sync::Job,
            Sync::LastStartedAt,
            Sync::LastFinishedAt,
            Sync::LastError,
            Sync::ConsecutiveFailures,
        ])
        .values_panic([
            cluster.as_str().into(),
            job.name().into(),
            now.clone().into(),
            now.into(),
            error.into(),
            1i64.into(),
        ])
        .on_conflict(
            OnConflict::columns([Sync::ClusterId, Sync::Job])
                .update_columns([Sync::LastFinishedAt, Sync::LastError])
                .value(
                    Sync::ConsecutiveFailures,
                    Expr::col((Sync::Table, Sync::ConsecutiveFailures)).add(1),
                )
                .to_owned(),
        )
        .returning_col(Sync::ConsecutiveFailures)
        .to_owned();
    let failures = query_opt(conn, &insert, |c| c.next::<i64>())?.unwrap_or(1);
    Ok(u32::try_from(failures).unwrap_or(u32::MAX))
}

/// The recorded status of every job on `cluster` (or on every cluster).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn status(conn: &Connection, cluster: Option<&ClusterId>) -> Result<Vec<SyncStatus>> {
    let mut select = Query::select();
    select
        .columns([
            Sync::ClusterId,
            Sync::Job,
            Sync::LastStartedAt,
            Sync::LastFinishedAt,
            Sync::LastSuccessAt,
            Sync::LastError,
            Sync::ConsecutiveFailures,
            Sync::RowsWritten,
            Sync::RowsRemoved,
        ])
        .from(Sync::Table)
        .order_by(Sync::ClusterId, Order::Asc)
        .order_by(Sync::Job, Order::Asc);
    if let Some(cluster) = cluster {
        select.and_where(Expr::col(Sync::ClusterId).eq(cluster.as_str()));
    }
    query_all(conn, &select, |c| {
        let cluster = stored(ClusterId::parse(&c.next::<String>()?))?;
        let job_name: String = c.next()?;
        let job = JobKind::parse(&job_name)
            .ok_or_else(|| Error::internal(format!("unknown job {job_name:?} stored")))?;
        Ok(SyncStatus {
            cluster,
            job,
            last_started_at: opt_ts_from_sql(c.next()?)?,
            last_finished_at: opt_ts_from_sql(c.next()?)?,
            last_success_at: opt_ts_from_sql(c.next()?)?,
            last_error: c.next()?,
            consecutive_failures: u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX),
            rows_written: u64::try_from(c.next::<i64>()?).unwrap_or(0),
            rows_removed: u64::try_from(c.next::<i64>()?).unwrap_or(0),
        })
    })
}
