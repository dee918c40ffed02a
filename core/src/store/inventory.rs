//! The VM inventory (`vm_inventory`): what Proxmox last reported about every guest of a
//! cluster, the record of fact. The inventory job replaces a cluster's rows in ONE transaction
//! per tick (an upsert by `(cluster, vmid)` with one prepared statement, then one delete of the
//! rows it did not see); the address job fills the address columns of the same rows.

use std::sync::OnceLock;

use jiff::Timestamp;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use sea_query::{Alias, Condition, Expr, ExprTrait, OnConflict, Order, Query, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::VmInventory as Inv;
use crate::db::time::{now_sql, opt_ts_from_sql};
use crate::error::{DbResultExt, Error, Result};
use crate::jobs::Digests;
use crate::types::{ClusterId, VmId};

/// A guest's run state as the inventory records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestState {
    /// Running (or paused: it still holds its memory).
    Running,
    /// Stopped.
    Stopped,
    /// Proxmox does not know right now (its node is offline).
    Unknown,
}

impl GuestState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GuestState::Running => "running",
            GuestState::Stopped => "stopped",
            GuestState::Unknown => "unknown",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "running" => Ok(GuestState::Running),
            "stopped" => Ok(GuestState::Stopped),
            "unknown" => Ok(GuestState::Unknown),
            other => Err(Error::internal(format!(
                "unknown guest state {other:?} stored"
            ))),
        }
    }
}

/// Virtual machine or container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestKind {
    /// A QEMU virtual machine.
    Qemu,
    /// An LXC container.
    Lxc,
}

impl GuestKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "qemu" => Ok(GuestKind::Qemu),
            "lxc" => Ok(GuestKind::Lxc),
            other => Err(Error::internal(format!(
                "unknown guest type {other:?} stored"
            ))),
        }
    }
}

/// What a guest is from pvelab's point of view (the data model's `category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestCategory {
    /// A template.
    Template,
    /// A VM of a class's pool (registered in a pool, or carrying pvelab's `pvelab` tag).
    Pool,
    /// Anything else on the cluster.
    Other,
}

impl GuestCategory {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GuestCategory::Template => "template",
            GuestCategory::Pool => "pool",
            GuestCategory::Other => "other",
        }
    }

    fn parse(text: Option<&str>) -> Self {
        match text {
            Some("template") => GuestCategory::Template,
            Some("pool") => GuestCategory::Pool,
            _ => GuestCategory::Other,
        }
    }
}

/// One guest as one `cluster/resources` answer shows it: what a tick writes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GuestFacts {
    pub(crate) vmid: VmId,
    pub(crate) name: Option<String>,
    pub(crate) node: Option<String>,
    pub(crate) state: GuestState,
    pub(crate) kind: GuestKind,
    pub(crate) category: GuestCategory,
    pub(crate) memory: Option<u64>,
    pub(crate) cores: Option<u32>,
    pub(crate) disk_size: Option<u64>,
    pub(crate) uptime: Option<u64>,
    pub(crate) cpu_percent: Option<f64>,
    pub(crate) memory_percent: Option<f64>,
    pub(crate) is_template: bool,
    pub(crate) tags: Option<String>,
}

/// A guest as the inventory records it.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryEntry {
    /// Its cluster.
    pub cluster_id: ClusterId,
    /// Its VMID.
    pub vmid: VmId,
    /// Its name.
    pub name: Option<String>,
    /// The node it runs on.
    pub node: Option<String>,
    /// Running, stopped or unknown.
    pub state: GuestState,
    /// VM or container.
    pub kind: GuestKind,
    /// Template, pool VM or other.
    pub category: GuestCategory,
    /// The address to connect to (the first IPv4, or an IPv6 when there is none), if found.
    pub ip: Option<String>,
    /// Its IPv6 address, if found.
    pub ipv6: Option<String>,
    /// Its MAC address, if known.
    pub mac_address: Option<String>,
    /// Configured memory in bytes.
    pub memory: Option<u64>,
    /// vCPUs.
    pub cores: Option<u32>,
    /// Boot disk size in bytes.
    pub disk_size: Option<u64>,
    /// Seconds since it started (running guests).
    pub uptime: Option<u64>,
    /// CPU use in percent of all its vCPUs (running guests).
    pub cpu_usage: Option<f64>,
    /// Memory use in percent of its configured memory (running guests).
    pub memory_usage: Option<f64>,
    /// Whether it is a template.
    pub is_template: bool,
    /// Its tags, `;`-separated as Proxmox keeps them.
    pub tags: Option<String>,
    /// Its OS type from its configuration (`l26`, `win11`, ...), once the address job read it.
    pub os_type: Option<String>,
    /// Whether it offers remote desktop.
    pub rdp_available: bool,
    /// Whether it offers SSH.
    pub ssh_available: bool,
    /// When its configuration or run state last changed.
    pub last_updated: Option<Timestamp>,
    /// When a tick last saw it.
    pub last_status_check: Option<Timestamp>,
    /// Why its cluster's last tick could not refresh it, `None` after a good tick.
    pub sync_error: Option<String>,
}

const COLUMNS: [Inv; 22] = [
    Inv::ClusterId,
    Inv::Vmid,
    Inv::Name,
    Inv::Node,
    Inv::Status,
    Inv::Type,
    Inv::Category,
    Inv::Ip,
    Inv::Ipv6,
    Inv::MacAddress,
    Inv::Memory,
    Inv::Cores,
    Inv::DiskSize,
    Inv::Uptime,
    Inv::CpuUsage,
    Inv::MemoryUsage,
    Inv::IsTemplate,
    Inv::Tags,
    Inv::OsType,
    Inv::RdpAvailable,
    Inv::SshAvailable,
    Inv::LastUpdated,
];

/// When the inventory last saw a guest: the later of its row's own check time (set when a tick
/// or a direct read wrote the row) and its cluster's last successful inventory tick (which saw
/// every row it kept, changed or not). A tick thus never rewrites its unchanged rows just to
/// move their check time; in a cluster of 10,000 mostly idle guests that was most of its cost.
/// Timestamps are stored in one fixed-width UTC format, so text order is time order.
const EFFECTIVE_STATUS_CHECK: &str = "NULLIF(MAX(COALESCE(vm_inventory.last_status_check, ''), \
     COALESCE((SELECT s.last_success_at FROM cluster_sync_status AS s \
     WHERE s.cluster_id = vm_inventory.cluster_id AND s.job = 'inventory'), '')), '')";

/// The select of whole entries, in the order [`map`] reads them.
fn entries() -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS.map(|c| (Inv::Table, c)))
        .expr(Expr::cust(EFFECTIVE_STATUS_CHECK))
        .column((Inv::Table, Inv::SyncError))
        .from(Inv::Table)
        .to_owned()
}

fn map(c: &mut Cols<'_, '_>) -> Result<InventoryEntry> {
    Ok(InventoryEntry {
        cluster_id: stored(ClusterId::parse(&c.next::<String>()?))?,
        vmid: stored(VmId::new(c.next()?))?,
        name: c.next()?,
        node: c.next()?,
        state: GuestState::parse(&c.next::<String>()?)?,
        kind: GuestKind::parse(&c.next::<String>()?)?,
        category: GuestCategory::parse(c.next::<Option<String>>()?.as_deref()),
        ip: c.next()?,
        ipv6: c.next()?,
        mac_address: c.next()?,
        memory: c.next::<Option<i64>>()?.and_then(|v| u64::try_from(v).ok()),
        cores: c.next::<Option<i64>>()?.and_then(|v| u32::try_from(v).ok()),
        disk_size: c.next::<Option<i64>>()?.and_then(|v| u64::try_from(v).ok()),
        uptime: c.next::<Option<i64>>()?.and_then(|v| u64::try_from(v).ok()),
        cpu_usage: c.next()?,
        memory_usage: c.next()?,
        is_template: c.flag()?,
        tags: c.next()?,
        os_type: c.next()?,
        rdp_available: c.flag()?,
        ssh_available: c.flag()?,
        last_updated: opt_ts_from_sql(c.next()?)?,
        last_status_check: opt_ts_from_sql(c.next()?)?,
        sync_error: c.next()?,
    })
}

/// The columns a tick writes, in the order of [`tick_values`].
const TICK_COLUMNS: [Inv; 18] = [
    Inv::ClusterId,
    Inv::Vmid,
    Inv::Name,
    Inv::Node,
    Inv::Status,
    Inv::Type,
    Inv::Category,
    Inv::Memory,
    Inv::Cores,
    Inv::DiskSize,
    Inv::Uptime,
    Inv::CpuUsage,
    Inv::MemoryUsage,
    Inv::IsTemplate,
    Inv::Tags,
    Inv::LastUpdated,
    Inv::LastStatusCheck,
    Inv::SyncError,
];

/// Columns whose change makes `last_updated` move (the figures that change every tick do not).
const DESCRIBING: [Inv; 10] = [
    Inv::Name,
    Inv::Node,
    Inv::Status,
    Inv::Type,
    Inv::Category,
    Inv::Memory,
    Inv::Cores,
    Inv::DiskSize,
    Inv::IsTemplate,
    Inv::Tags,
];

/// The figures a running guest reports anew every tick.
const FIGURES: [Inv; 3] = [Inv::Uptime, Inv::CpuUsage, Inv::MemoryUsage];

fn to_i64(v: Option<u64>) -> SqlValue {
    v.and_then(|v| i64::try_from(v).ok())
        .map_or(SqlValue::Null, SqlValue::Integer)
}

fn text(v: Option<&str>) -> SqlValue {
    v.map_or(SqlValue::Null, |s| SqlValue::Text(s.to_owned()))
}

fn real(v: Option<f64>) -> SqlValue {
    v.filter(|v| v.is_finite())
        .map_or(SqlValue::Null, SqlValue::Real)
}

fn tick_values(cluster: &str, g: &GuestFacts, now: &str) -> [SqlValue; 18] {
    [
        SqlValue::Text(cluster.to_owned()),
        SqlValue::Integer(i64::from(g.vmid.get())),
        text(g.name.as_deref()),
        text(g.node.as_deref()),
        SqlValue::Text(g.state.as_str().to_owned()),
        SqlValue::Text(g.kind.as_str().to_owned()),
        SqlValue::Text(g.category.as_str().to_owned()),
        to_i64(g.memory),
        to_i64(g.cores.map(u64::from)),
        to_i64(g.disk_size),
        to_i64(g.uptime),
        real(g.cpu_percent),
        real(g.memory_percent),
        SqlValue::Integer(i64::from(g.is_template)),
        text(g.tags.as_deref()),
        SqlValue::Text(now.to_owned()),
        SqlValue::Text(now.to_owned()),
        SqlValue::Null,
    ]
}

/// Guests upserted by one statement: a multi-row `INSERT` costs SQLite far less per row than a
/// statement per row (18 parameters a row, well below SQLite's limit of 32,766).
const BATCH: usize = 250;

/// The upsert of `rows` guests: every tick column is set; `last_updated` moves only when a
/// describing column changed; address columns (the address job's) are left alone.
fn upsert_sql(rows: usize) -> String {
    let excluded = |col: Inv| Expr::col((Alias::new("excluded"), col));
    let current = |col: Inv| Expr::col((Inv::Table, col));
    let changed = DESCRIBING.into_iter().fold(Condition::any(), |any, col| {
        any.add(current(col).is_not(excluded(col)))
    });
    let mut insert = Query::insert();
    insert.into_table(Inv::Table).columns(TICK_COLUMNS);
    for _ in 0..rows.max(1) {
        // Placeholders only: the values are bound per execution.
        insert.values_panic(TICK_COLUMNS.map(|_| Expr::val(Option::<i64>::None)));
    }
    let differs = DESCRIBING
        .into_iter()
        .chain(FIGURES)
        .fold(Condition::any(), |any, col| {
            any.add(current(col).is_not(excluded(col)))
        })
        .add(current(Inv::SyncError).is_not_null());
    let (sql, bound) = insert
        .on_conflict(
            OnConflict::columns([Inv::ClusterId, Inv::Vmid])
                .action_and_where(differs.into())
                .update_columns(
                    TICK_COLUMNS
                        .into_iter()
                        .filter(|c| !matches!(c, Inv::ClusterId | Inv::Vmid | Inv::LastUpdated)),
                )
                .value(
                    Inv::LastUpdated,
                    Expr::case(changed, excluded(Inv::LastUpdated))
                        .finally(current(Inv::LastUpdated)),
                )
                .to_owned(),
        )
        .build_rusqlite(SqliteQueryBuilder);
    debug_assert_eq!(bound.0.len(), TICK_COLUMNS.len() * rows.max(1));
    sql
}

/// The upsert of a full batch, built once.
fn batch_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| upsert_sql(BATCH))
}

/// Upserts `guests` of `cluster` in batches, stamped `now`.
fn upsert(conn: &Connection, cluster: &ClusterId, guests: &[GuestFacts], now: &str) -> Result<()> {
    for chunk in guests.chunks(BATCH) {
        let sql;
        let text = if chunk.len() == BATCH {
            batch_sql()
        } else {
            sql = upsert_sql(chunk.len());
            sql.as_str()
        };
        let values = chunk
            .iter()
            .flat_map(|guest| tick_values(cluster.as_str(), guest, now));
        conn.prepare_cached(text)
            .db()?
            .execute(rusqlite::params_from_iter(values))
            .db()?;
    }
    Ok(())
}

/// Replaces the inventory of `cluster` with `guests` (one tick): every guest upserted, rows of
/// guests not in `guests` removed. Returns (rows written, rows removed). Run it in the tick's
/// one write transaction.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn replace(
    conn: &Connection,
    cluster: &ClusterId,
    guests: &[GuestFacts],
    digests: &mut Digests,
) -> Result<(usize, usize)> {
    let now = now_sql();
    // Guests that are gone first: every row not among `guests`.
    let seen: foldhash::HashSet<u32> = guests.iter().map(|g| g.vmid.get()).collect();
    // Digests from the last tick know which rows it left; otherwise the table is asked.
    let stored: Vec<i64> = match digests.written_vmids() {
        Some(vmids) => vmids.map(i64::from).collect(),
        None => {
            let stored = Query::select()
                .column(Inv::Vmid)
                .from(Inv::Table)
                .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
                .to_owned();
            query_all(conn, &stored, |c| c.next::<i64>())?
        }
    };
    let gone: Vec<i64> = stored
        .into_iter()
        .filter(|v| u32::try_from(*v).map_or(true, |v| !seen.contains(&v)))
        .collect();
    let mut removed = 0;
    for vmid in gone {
        let delete = Query::delete()
            .from_table(Inv::Table)
            .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
            .and_where(Expr::col(Inv::Vmid).eq(vmid))
            .to_owned();
        removed += execute(conn, &delete)?;
    }
    // Only guests whose facts changed since the last tick are written (their digests say so;
    // the upsert's condition skips the rest again if the digests were forgotten). An unchanged
    // row's check time is the cluster's last successful tick, see `EFFECTIVE_STATUS_CHECK`.
    digests.retain(|vmid| seen.contains(&vmid));
    let changed: Vec<GuestFacts> = guests
        .iter()
        .filter(|g| digests.changed(g))
        .cloned()
        .collect();
    upsert(conn, cluster, &changed, &now)?;
    Ok((changed.len(), removed))
}

/// Records on every row of `cluster` that its tick failed, so readers see how stale they are.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn mark_failed(conn: &Connection, cluster: &ClusterId, error: &str) -> Result<usize> {
    let update = Query::update()
        .table(Inv::Table)
        .value(Inv::SyncError, error)
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .to_owned();
    execute(conn, &update)
}

/// The VMIDs of every guest the inventory knows on `cluster` (every cluster when `None`),
/// ascending, without repeats.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn known_vmids(conn: &Connection, cluster: Option<&ClusterId>) -> Result<Vec<u32>> {
    let mut select = Query::select()
        .distinct()
        .column(Inv::Vmid)
        .from(Inv::Table)
        .order_by(Inv::Vmid, Order::Asc)
        .to_owned();
    if let Some(cluster) = cluster {
        select.and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()));
    }
    query_all(conn, &select, |c| {
        Ok(u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX))
    })
}

/// Every guest of `cluster`, by VMID.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, cluster: &ClusterId) -> Result<Vec<InventoryEntry>> {
    let select = entries()
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .order_by(Inv::Vmid, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// The guest `vmid` of `cluster`, if the inventory has it.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn get(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
) -> Result<Option<InventoryEntry>> {
    let select = entries()
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Inv::Vmid).eq(i64::from(vmid.get())))
        .to_owned();
    query_opt(conn, &select, map)
}

/// Writes what a direct status read of one guest showed (a read that had to refresh first).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn refresh_one(
    conn: &Connection,
    cluster: &ClusterId,
    guest: &GuestFacts,
) -> Result<()> {
    let now = now_sql();
    upsert(conn, cluster, std::slice::from_ref(guest), &now)?;
    // An unchanged row is skipped by the upsert; the read still counts as a check.
    let checked = Query::update()
        .table(Inv::Table)
        .value(Inv::LastStatusCheck, now.as_str())
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Inv::Vmid).eq(i64::from(guest.vmid.get())))
        .to_owned();
    execute(conn, &checked)?;
    Ok(())
}

/// Records that a guest's state changed without waiting for the next tick (an automatic
/// shutdown whose task finished). Its CPU and uptime figures go with a stop.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn set_state(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
    state: GuestState,
) -> Result<usize> {
    let now = now_sql();
    let mut update = Query::update();
    update
        .table(Inv::Table)
        .values([
            (Inv::Status, state.as_str().into()),
            (Inv::LastUpdated, now.clone().into()),
        ])
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Inv::Vmid).eq(i64::from(vmid.get())));
    if state != GuestState::Running {
        update.values([
            (Inv::Uptime, Option::<i64>::None.into()),
            (Inv::CpuUsage, Option::<f64>::None.into()),
            (Inv::MemoryUsage, Option::<f64>::None.into()),
        ]);
    }
    execute(conn, &update)
}

/// What the address job found for one guest (all `None`/`false` for a guest that is stopped or
/// showed no address).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AddressFacts {
    pub(crate) vmid: VmId,
    pub(crate) ip: Option<String>,
    pub(crate) ipv6: Option<String>,
    pub(crate) mac: Option<String>,
    pub(crate) os_type: Option<String>,
    pub(crate) rdp: bool,
    pub(crate) ssh: bool,
}

/// Writes the address columns of one guest's row (a no-op when the inventory has no row).
/// The MAC and OS type are only ever added, never cleared.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn set_addresses(
    conn: &Connection,
    cluster: &ClusterId,
    facts: &AddressFacts,
) -> Result<usize> {
    let mut update = Query::update();
    update
        .table(Inv::Table)
        .values([
            (Inv::Ip, facts.ip.clone().into()),
            (Inv::Ipv6, facts.ipv6.clone().into()),
            (Inv::RdpAvailable, facts.rdp.into()),
            (Inv::SshAvailable, facts.ssh.into()),
        ])
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Inv::Vmid).eq(i64::from(facts.vmid.get())));
    if let Some(mac) = &facts.mac {
        update.value(Inv::MacAddress, mac.clone());
    }
    if let Some(os) = &facts.os_type {
        update.value(Inv::OsType, os.clone());
    }
    execute(conn, &update)
}
