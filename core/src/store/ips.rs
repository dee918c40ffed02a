//! VM addresses as the address job keeps them: the address cache (`vm_ip_cache`, the last
//! address found per VM) and the pool VM's own copy (`vm_assignments.cached_ip`), which
//! `/myvm` shows.

use rusqlite::Connection;
use sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query};

use super::execute;
use crate::db::schema::{VmAssignments as Vm, VmInventory as Inv, VmIpCache as Cache};
use crate::db::time::now_sql;
use crate::error::Result;
use crate::types::{ClusterId, VmId};

/// A found address of one VM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundAddress {
    pub(crate) vmid: VmId,
    /// The address to connect to (IPv4 when there is one).
    pub(crate) ip: String,
    pub(crate) ipv6: Option<String>,
    pub(crate) mac: Option<String>,
}

/// Records a found address in the cache and on the pool VM (whose MAC is filled in when it was
/// not known).
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn remember(conn: &Connection, cluster: &ClusterId, found: &FoundAddress) -> Result<()> {
    let now = now_sql();
    let vmid = i64::from(found.vmid.get());
    let upsert = Query::insert()
        .into_table(Cache::Table)
        .columns([
            Cache::ClusterId,
            Cache::Vmid,
            Cache::MacAddress,
            Cache::CachedIp,
            Cache::Ipv6,
            Cache::IpUpdatedAt,
        ])
        .values_panic([
            cluster.as_str().into(),
            vmid.into(),
            found.mac.clone().into(),
            found.ip.clone().into(),
            found.ipv6.clone().into(),
            now.clone().into(),
        ])
        .on_conflict(
            OnConflict::columns([Cache::ClusterId, Cache::Vmid])
                .update_columns([Cache::CachedIp, Cache::Ipv6, Cache::IpUpdatedAt])
                .value(
                    Cache::MacAddress,
                    Func::coalesce([
                        Expr::col((Alias::new("excluded"), Cache::MacAddress)),
                        Expr::col((Cache::Table, Cache::MacAddress)),
                    ]),
                )
                .to_owned(),
        )
        .to_owned();
    execute(conn, &upsert)?;
    let mut pool = Query::update();
    pool.table(Vm::Table)
        .values([
            (Vm::CachedIp, found.ip.clone().into()),
            (Vm::IpUpdatedAt, now.into()),
        ])
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(vmid));
    if let Some(mac) = &found.mac {
        pool.value(
            Vm::MacAddress,
            Func::coalesce([Expr::col(Vm::MacAddress), Expr::val(mac.clone())]),
        );
    }
    execute(conn, &pool)?;
    Ok(())
}

/// Forgets every address found on `cluster` (its `enable_ip_persistence` is off and the jobs
/// start): the cache, the pool VMs' copies and the inventory's columns. Returns how many cache
/// rows went.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn forget(conn: &Connection, cluster: &ClusterId) -> Result<usize> {
    let cache = Query::delete()
        .from_table(Cache::Table)
        .and_where(Expr::col(Cache::ClusterId).eq(cluster.as_str()))
        .to_owned();
    let forgotten = execute(conn, &cache)?;
    let pool = Query::update()
        .table(Vm::Table)
        .values([
            (Vm::CachedIp, Option::<String>::None.into()),
            (Vm::IpUpdatedAt, Option::<String>::None.into()),
        ])
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .to_owned();
    execute(conn, &pool)?;
    let inventory = Query::update()
        .table(Inv::Table)
        .values([
            (Inv::Ip, Option::<String>::None.into()),
            (Inv::Ipv6, Option::<String>::None.into()),
        ])
        .and_where(Expr::col(Inv::ClusterId).eq(cluster.as_str()))
        .to_owned();
    execute(conn, &inventory)?;
    Ok(forgotten)
}
