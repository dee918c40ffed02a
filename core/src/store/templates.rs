//! Templates (`templates`): every template of a cluster with its cached specs (the template
//! sync), per-node replicas recognised as replicas of their original, the published versions of
//! class templates, and the check that a class may point at a template.

use std::collections::HashSet;

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SelectStatement};

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::{Classes, Templates, Templates as T, VmWatch, VmidBlocks};
use crate::db::time::{now_sql, opt_ts_from_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, ClassName, ClusterId, InvalidValue, TemplateId, UserId, VmId};

/// The template's boot disk in whole GB (rounded up), when its specs are known: the smallest
/// disk a VM cloned from it can have, since a disk only grows.
pub(crate) fn disk_gb(conn: &Connection, template: TemplateId) -> Result<Option<u32>> {
    let select = Query::select()
        .column(T::DiskSizeGb)
        .from(T::Table)
        .and_where(Expr::col(T::Id).eq(template.get()))
        .to_owned();
    let size = query_opt(conn, &select, |c| c.next::<Option<f64>>())?.flatten();
    // A size is a few thousand GB at most: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(size.filter(|gb| *gb > 0.0).map(|gb| gb.ceil() as u32))
}

/// Accepts `template` for the class `class` (`None` for a class being created): it must exist
/// and must not belong to another class. Another class's template goes away with that class (its
/// rows cascade), which a reference from this class would block: that class could no longer be
/// deleted.
///
/// # Errors
/// [`Error::NotFound`] for an unknown template; [`Error::InvalidValue`] naming the class that
/// owns it.
pub(crate) fn check_usable(
    conn: &Connection,
    template: TemplateId,
    class: Option<ClassId>,
) -> Result<()> {
    let select = Query::select()
        .column((Templates::Table, Templates::ClassId))
        .column((Classes::Table, Classes::Name))
        .from(Templates::Table)
        .left_join(
            Classes::Table,
            Expr::col((Classes::Table, Classes::Id)).equals((Templates::Table, Templates::ClassId)),
        )
        .and_where(Expr::col((Templates::Table, Templates::Id)).eq(template.get()))
        .to_owned();
    let owner = query_opt(conn, &select, |c| {
        let owner = c.next::<Option<i64>>()?.map(ClassId::new);
        let name = c
            .next::<Option<String>>()?
            .map(|n| stored(ClassName::parse(&n)))
            .transpose()?;
        Ok((owner, name))
    })?
    .ok_or_else(|| Error::not_found(Entity::Template, template))?;
    match owner {
        (Some(owner), name) if Some(owner) != class => Err(InvalidValue::new(
            "template",
            format!(
                "{template} (a template of class {})",
                name.map_or_else(|| owner.to_string(), |n| n.to_string())
            ),
            "a cluster template or one of this class's own templates",
        )
        .into()),
        _ => Ok(()),
    }
}

/// What a template is made of, read from its configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateSpecs {
    /// Cores per socket.
    pub cpu_cores: Option<u32>,
    /// Sockets.
    pub cpu_sockets: Option<u32>,
    /// Memory in MiB.
    pub memory_mb: Option<u64>,
    /// Size of the boot disk in GiB.
    pub disk_size_gb: Option<f64>,
    /// The boot disk's storage.
    pub disk_storage: Option<String>,
    /// The boot disk's volume (`base-9000-disk-0`).
    pub disk_path: Option<String>,
    /// The boot disk's format (`raw`, `qcow2`), when the config says.
    pub disk_format: Option<String>,
    /// The bridge of the first network device.
    pub network_bridge: Option<String>,
    /// The OS type (`l26`, `win11`).
    pub os_type: Option<String>,
}

/// A template as the lab records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    /// The lab's id.
    pub id: TemplateId,
    /// Its name on Proxmox.
    pub name: String,
    /// Its cluster.
    pub cluster_id: Option<ClusterId>,
    /// Its VMID there.
    pub vmid: VmId,
    /// Its node.
    pub node: Option<String>,
    /// A per-node copy of another template (for linked clones on storage the nodes do not
    /// share).
    pub is_replica: bool,
    /// For a replica: the VMID of the template it copies.
    pub source_vmid: Option<VmId>,
    /// For a replica: the node of the template it copies.
    pub source_node: Option<String>,
    /// Who made it through pvelab (a published version, a replica).
    pub created_by: Option<UserId>,
    /// A published version of a class's template.
    pub is_class_template: bool,
    /// The class of a class template.
    pub class_id: Option<ClassId>,
    /// What it came from: the previous version of a class template, or a replica's original.
    pub original_template_id: Option<TemplateId>,
    /// Its specs as last read.
    pub specs: TemplateSpecs,
    /// When the specs were read.
    pub specs_cached_at: Option<Timestamp>,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// When a sync last saw it on Proxmox.
    pub last_verified_at: Option<Timestamp>,
}

/// One template a sync found, with what its description marker says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateFacts {
    pub(crate) vmid: VmId,
    pub(crate) name: String,
    pub(crate) node: String,
    pub(crate) specs: TemplateSpecs,
    /// Made by pvelab as a replica of (VMID, node).
    pub(crate) replica_of: Option<(VmId, String)>,
    /// Published by pvelab as a version of this class's template.
    pub(crate) class_version: Option<ClassId>,
}

const COLUMNS: [T; 24] = [
    T::Id,
    T::Name,
    T::ClusterId,
    T::ProxmoxVmid,
    T::Node,
    T::IsReplica,
    T::SourceVmid,
    T::SourceNode,
    T::CreatedById,
    T::IsClassTemplate,
    T::ClassId,
    T::OriginalTemplateId,
    T::CpuCores,
    T::CpuSockets,
    T::MemoryMb,
    T::DiskSizeGb,
    T::DiskStorage,
    T::DiskPath,
    T::DiskFormat,
    T::NetworkBridge,
    T::OsType,
    T::SpecsCachedAt,
    T::CreatedAt,
    T::LastVerifiedAt,
];

fn small(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn map(c: &mut Cols<'_, '_>) -> Result<TemplateRecord> {
    Ok(TemplateRecord {
        id: TemplateId::new(c.next()?),
        name: c.next()?,
        cluster_id: c
            .next::<Option<String>>()?
            .map(|id| stored(ClusterId::parse(&id)))
            .transpose()?,
        vmid: stored(VmId::new(c.next()?))?,
        node: c.next()?,
        is_replica: c.flag()?,
        source_vmid: c.next::<Option<i64>>()?.and_then(|v| VmId::new(v).ok()),
        source_node: c.next()?,
        created_by: c.next::<Option<i64>>()?.map(UserId::new),
        is_class_template: c.flag()?,
        class_id: c.next::<Option<i64>>()?.map(ClassId::new),
        original_template_id: c.next::<Option<i64>>()?.map(TemplateId::new),
        specs: TemplateSpecs {
            cpu_cores: small(c.next()?),
            cpu_sockets: small(c.next()?),
            memory_mb: c.next::<Option<i64>>()?.and_then(|v| u64::try_from(v).ok()),
            disk_size_gb: c.next()?,
            disk_storage: c.next()?,
            disk_path: c.next()?,
            disk_format: c.next()?,
            network_bridge: c.next()?,
            os_type: c.next()?,
        },
        specs_cached_at: opt_ts_from_sql(c.next()?)?,
        created_at: ts_from_sql(&c.next::<String>()?)?,
        last_verified_at: opt_ts_from_sql(c.next()?)?,
    })
}

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(T::Table).to_owned()
}

fn spec_values(specs: &TemplateSpecs) -> [(T, sea_query::Expr); 9] {
    let int = |v: Option<u32>| Expr::val(v.map(i64::from));
    [
        (T::CpuCores, int(specs.cpu_cores)),
        (T::CpuSockets, int(specs.cpu_sockets)),
        (
            T::MemoryMb,
            Expr::val(specs.memory_mb.and_then(|v| i64::try_from(v).ok())),
        ),
        (T::DiskSizeGb, Expr::val(specs.disk_size_gb)),
        (T::DiskStorage, Expr::val(specs.disk_storage.clone())),
        (T::DiskPath, Expr::val(specs.disk_path.clone())),
        (T::DiskFormat, Expr::val(specs.disk_format.clone())),
        (T::NetworkBridge, Expr::val(specs.network_bridge.clone())),
        (T::OsType, Expr::val(specs.os_type.clone())),
    ]
}

/// Every template of `cluster`, by VMID.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, cluster: &ClusterId) -> Result<Vec<TemplateRecord>> {
    let select = select()
        .and_where(Expr::col(T::ClusterId).eq(cluster.as_str()))
        .order_by(T::ProxmoxVmid, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// The template `vmid` of `cluster`, if recorded.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn by_vmid(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
) -> Result<Option<TemplateRecord>> {
    let select = select()
        .and_where(Expr::col(T::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(T::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The ids of templates a class uses as its current template.
fn in_use_by_classes(conn: &Connection) -> Result<HashSet<i64>> {
    let select = Query::select()
        .column(Classes::TemplateId)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::TemplateId).is_not_null())
        .to_owned();
    Ok(query_all(conn, &select, |c| c.next::<i64>())?
        .into_iter()
        .collect())
}

/// Records one template sync of `cluster` (with API host `host`): every template found is
/// inserted or refreshed (specs, node, replica link, `specs_cached_at` and `last_verified_at`);
/// rows of templates no longer there are removed unless a class still uses them. Templates in
/// `unreadable` are there but could not be read (their node is down): their rows stay as they
/// are. Returns (written, removed).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn record_sync(
    conn: &Connection,
    cluster: &ClusterId,
    host: &str,
    found: &[TemplateFacts],
    unreadable: &[VmId],
) -> Result<(usize, usize)> {
    let now = now_sql();
    for t in found {
        let existing = by_vmid(conn, cluster, t.vmid)?;
        let class_exists = match t.class_version {
            Some(class) => match super::classes::get(conn, class) {
                Ok(_) => true,
                Err(Error::NotFound { .. }) => false,
                Err(e) => return Err(e),
            },
            None => false,
        };
        let mut values: Vec<(T, Expr)> = vec![
            (T::Name, Expr::val(t.name.clone())),
            (T::Node, Expr::val(t.node.clone())),
            (T::ClusterIp, Expr::val(host.to_owned())),
            (T::SpecsCachedAt, Expr::val(now.clone())),
            (T::LastVerifiedAt, Expr::val(now.clone())),
            (T::IsReplica, Expr::val(t.replica_of.is_some())),
            (
                T::SourceVmid,
                Expr::val(t.replica_of.as_ref().map(|(v, _)| i64::from(v.get()))),
            ),
            (
                T::SourceNode,
                Expr::val(t.replica_of.as_ref().map(|(_, n)| n.clone())),
            ),
        ];
        values.extend(spec_values(&t.specs));
        match existing {
            Some(row) => {
                let update = Query::update()
                    .table(T::Table)
                    .values(values)
                    .and_where(Expr::col(T::Id).eq(row.id.get()))
                    .to_owned();
                execute(conn, &update)?;
            }
            None => {
                // A version published by pvelab whose row was lost (a crash between the clone
                // and its record) is recorded as what it is, so unused versions can go.
                values.extend([
                    (T::ProxmoxVmid, Expr::val(i64::from(t.vmid.get()))),
                    (T::ClusterId, Expr::val(cluster.as_str().to_owned())),
                    (T::CreatedAt, Expr::val(now.clone())),
                    (T::IsClassTemplate, Expr::val(class_exists)),
                    (
                        T::ClassId,
                        Expr::val(t.class_version.filter(|_| class_exists).map(ClassId::get)),
                    ),
                ]);
                let (columns, exprs): (Vec<T>, Vec<Expr>) = values.into_iter().unzip();
                let insert = Query::insert()
                    .into_table(T::Table)
                    .columns(columns)
                    .values_panic(exprs)
                    .to_owned();
                execute(conn, &insert)?;
            }
        }
    }
    // Replicas point at their original's row.
    for t in found {
        if let Some((source, _)) = &t.replica_of {
            if let (Some(replica), Some(original)) = (
                by_vmid(conn, cluster, t.vmid)?,
                by_vmid(conn, cluster, *source)?,
            ) {
                let update = Query::update()
                    .table(T::Table)
                    .value(T::OriginalTemplateId, original.id.get())
                    .and_where(Expr::col(T::Id).eq(replica.id.get()))
                    .to_owned();
                execute(conn, &update)?;
            }
        }
    }
    let used = in_use_by_classes(conn)?;
    let mut removed = 0;
    for row in list(conn, cluster)? {
        let seen = row.last_verified_at.map(crate::db::time::ts_to_sql) == Some(now.clone());
        if !seen && !used.contains(&row.id.get()) && !unreadable.contains(&row.vmid) {
            removed += delete(conn, row.id)?;
        }
    }
    Ok((found.len(), removed))
}

/// Deletes a template's row; returns how many rows went.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn delete(conn: &Connection, id: TemplateId) -> Result<usize> {
    let delete = Query::delete()
        .from_table(T::Table)
        .and_where(Expr::col(T::Id).eq(id.get()))
        .to_owned();
    execute(conn, &delete)
}

/// A template pvelab made: a published class version or a replica.
#[derive(Debug, Clone)]
pub(crate) struct NewTemplate {
    pub(crate) cluster: ClusterId,
    pub(crate) host: String,
    pub(crate) vmid: VmId,
    pub(crate) name: String,
    pub(crate) node: String,
    pub(crate) specs: TemplateSpecs,
    pub(crate) created_by: Option<UserId>,
    /// A version of this class's template.
    pub(crate) class: Option<ClassId>,
    /// For a replica: the original's VMID and node.
    pub(crate) replica_of: Option<(VmId, String)>,
    /// The previous version, or the replica's original.
    pub(crate) original: Option<TemplateId>,
}

/// Records a template pvelab made; returns it.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn insert(conn: &Connection, new: &NewTemplate) -> Result<TemplateRecord> {
    let now = now_sql();
    let mut values: Vec<(T, Expr)> = vec![
        (T::Name, Expr::val(new.name.clone())),
        (T::ClusterId, Expr::val(new.cluster.as_str().to_owned())),
        (T::ProxmoxVmid, Expr::val(i64::from(new.vmid.get()))),
        (T::Node, Expr::val(new.node.clone())),
        (T::ClusterIp, Expr::val(new.host.clone())),
        (T::CreatedById, Expr::val(new.created_by.map(UserId::get))),
        (T::IsClassTemplate, Expr::val(new.class.is_some())),
        (T::ClassId, Expr::val(new.class.map(ClassId::get))),
        (T::IsReplica, Expr::val(new.replica_of.is_some())),
        (
            T::SourceVmid,
            Expr::val(new.replica_of.as_ref().map(|(v, _)| i64::from(v.get()))),
        ),
        (
            T::SourceNode,
            Expr::val(new.replica_of.as_ref().map(|(_, n)| n.clone())),
        ),
        (
            T::OriginalTemplateId,
            Expr::val(new.original.map(TemplateId::get)),
        ),
        (T::SpecsCachedAt, Expr::val(now.clone())),
        (T::LastVerifiedAt, Expr::val(now.clone())),
        (T::CreatedAt, Expr::val(now)),
    ];
    values.extend(spec_values(&new.specs));
    let (columns, exprs): (Vec<T>, Vec<Expr>) = values.into_iter().unzip();
    // The template sync may have recorded the new template already (it found the finished
    // clone between its creation and this record): pvelab's own record replaces that row.
    let replaced: Vec<T> = columns
        .iter()
        .copied()
        .filter(|c| !matches!(c, T::ClusterId | T::ProxmoxVmid | T::CreatedAt))
        .collect();
    let insert = Query::insert()
        .into_table(T::Table)
        .columns(columns)
        .values_panic(exprs)
        .on_conflict(
            OnConflict::columns([T::ClusterId, T::ProxmoxVmid])
                .update_columns(replaced)
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    by_vmid(conn, &new.cluster, new.vmid)?
        .ok_or_else(|| Error::internal("a recorded template cannot be read back"))
}

/// How many versions of its template `class` has published so far.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn versions_of(conn: &Connection, class: ClassId) -> Result<usize> {
    let select = select()
        .and_where(Expr::col(T::ClassId).eq(class.get()))
        .and_where(Expr::col(T::IsClassTemplate).eq(true))
        .to_owned();
    Ok(query_all(conn, &select, map)?.len())
}

/// Published class-template versions on `cluster` that nothing uses any more: not a class's
/// current template, not the image or the pending reimage of any VM, and without replicas.
/// They may be deleted.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn unused_versions(
    conn: &Connection,
    cluster: &ClusterId,
) -> Result<Vec<TemplateRecord>> {
    let mut used = in_use_by_classes(conn)?;
    for column in [VmWatch::ImageTemplateId, VmWatch::ReimageTemplateId] {
        let select = Query::select()
            .column(column)
            .from(VmWatch::Table)
            .and_where(Expr::col(column).is_not_null())
            .to_owned();
        used.extend(query_all(conn, &select, |c| c.next::<i64>())?);
    }
    let all = list(conn, cluster)?;
    let originals: HashSet<i64> = all
        .iter()
        .filter(|t| t.is_replica)
        .filter_map(|t| t.original_template_id.map(TemplateId::get))
        .collect();
    Ok(all
        .into_iter()
        .filter(|t| t.is_class_template)
        .filter(|t| !used.contains(&t.id.get()) && !originals.contains(&t.id.get()))
        .collect())
}

/// Whether a class reserved the 100-wide VMID block `vmid` lies in (pvelab never puts a
/// template there: the class's VMs will be created in it).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn vmid_reserved(conn: &Connection, vmid: u32) -> Result<bool> {
    let select = Query::select()
        .column(VmidBlocks::Block)
        .from(VmidBlocks::Table)
        .and_where(Expr::col(VmidBlocks::Block).eq(i64::from(vmid / 100)))
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}
