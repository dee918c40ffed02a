//! Clone sources: the `templates` rows provisioning reads (a class's template and its per-node
//! replicas), and recording one. Template sync (listing a cluster's templates, making replicas)
//! is the background jobs' work and builds on these rows.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query};

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::Templates;
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::types::{ClusterId, NodeName, TemplateId, UserId, VmId};

/// A template to record: a PVE template VM on a cluster, or a per-node replica of one.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// A name for people.
    pub name: String,
    /// The cluster it lives on.
    pub cluster_id: ClusterId,
    /// Its VMID there.
    pub vmid: VmId,
    /// Its node, if known (provisioning looks it up otherwise).
    pub node: Option<NodeName>,
    /// For a replica: the VMID of the template it copies (on the same cluster).
    pub replica_of: Option<VmId>,
}

/// A recorded template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    /// The id classes refer to (`template_id`).
    pub id: TemplateId,
    /// The name.
    pub name: String,
    /// Its cluster.
    pub cluster_id: Option<ClusterId>,
    /// Its VMID.
    pub vmid: VmId,
    /// Its node, if known.
    pub node: Option<String>,
    /// The template it is a replica of, if it is one.
    pub replica_of: Option<VmId>,
}

const COLUMNS: [Templates; 7] = [
    Templates::Id,
    Templates::Name,
    Templates::ClusterId,
    Templates::ProxmoxVmid,
    Templates::Node,
    Templates::IsReplica,
    Templates::SourceVmid,
];

fn map(c: &mut Cols<'_, '_>) -> Result<TemplateInfo> {
    let id = TemplateId::new(c.next()?);
    let name = c.next()?;
    let cluster_id = c
        .next::<Option<String>>()?
        .map(|s| stored(ClusterId::parse(&s)))
        .transpose()?;
    let vmid = stored(VmId::new(c.next()?))?;
    let node = c.next()?;
    let replica = c.flag()?;
    let source: Option<i64> = c.next()?;
    let replica_of = match (replica, source) {
        (true, Some(v)) => Some(stored(VmId::new(v))?),
        _ => None,
    };
    Ok(TemplateInfo {
        id,
        name,
        cluster_id,
        vmid,
        node,
        replica_of,
    })
}

/// The template with this row id, if any.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn get(conn: &Connection, id: TemplateId) -> Result<Option<TemplateInfo>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Templates::Table)
        .and_where(Expr::col(Templates::Id).eq(id.get()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The recorded replicas of template `vmid` on `cluster`, by node.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn replicas(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
) -> Result<Vec<TemplateInfo>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Templates::Table)
        .and_where(Expr::col(Templates::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Templates::IsReplica).eq(true))
        .and_where(Expr::col(Templates::SourceVmid).eq(i64::from(vmid.get())))
        .order_by(Templates::Node, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// Records a template.
///
/// # Errors
/// [`Error::NameTaken`] when the cluster's VMID is recorded already.
pub(crate) fn insert(
    conn: &Connection,
    new: &NewTemplate,
    by: Option<UserId>,
) -> Result<TemplateInfo> {
    let taken = Query::select()
        .column(Templates::Id)
        .from(Templates::Table)
        .and_where(Expr::col(Templates::ClusterId).eq(new.cluster_id.as_str()))
        .and_where(Expr::col(Templates::ProxmoxVmid).eq(i64::from(new.vmid.get())))
        .to_owned();
    if query_opt(conn, &taken, |c| c.next::<i64>())?.is_some() {
        return Err(Error::NameTaken {
            entity: Entity::Template,
            name: format!("VM {} on cluster {}", new.vmid, new.cluster_id),
        });
    }
    let insert = Query::insert()
        .into_table(Templates::Table)
        .columns([
            Templates::Name,
            Templates::ProxmoxVmid,
            Templates::Node,
            Templates::IsReplica,
            Templates::SourceVmid,
            Templates::CreatedById,
            Templates::CreatedAt,
            Templates::ClusterId,
        ])
        .values_panic([
            new.name.clone().into(),
            i64::from(new.vmid.get()).into(),
            new.node.as_ref().map(|n| n.as_str().to_owned()).into(),
            new.replica_of.is_some().into(),
            new.replica_of.map(|v| i64::from(v.get())).into(),
            by.map(UserId::get).into(),
            now_sql().into(),
            new.cluster_id.as_str().into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    get(conn, TemplateId::new(conn.last_insert_rowid()))?
        .ok_or_else(|| Error::internal("a template row vanished right after its insert"))
}
