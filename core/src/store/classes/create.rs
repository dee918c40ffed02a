//! Creating a class: its record and, in the same transaction, one `vmid_blocks` row per 100-wide
//! VMID block its plan covers. The blocks' primary key makes overlapping ranges impossible, even
//! between processes, without any lock of ours.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query};

use super::{get, Class};
use crate::db::schema::{Classes, VmidBlocks};
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::store::{execute, query_all, query_opt, stored};
use crate::types::{
    ClassId, ClassName, ClassTimeZone, ClusterId, Cores, DiskGb, MemoryMb, NodeName, PoolSize,
    SchemeKind, Scope, TemplateId, UserId, VmId, VmidScheme,
};

/// A class to create. Build with [`NewClass::new`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct NewClass {
    /// Unique within `scope`.
    pub name: ClassName,
    /// Free text.
    pub description: Option<String>,
    /// The template, if already known: a cluster template (a new class has no templates of its
    /// own yet).
    pub template_id: Option<TemplateId>,
    /// Desired number of student VMs; decides the VMID plan (more than 98 takes the wide plan).
    pub pool_size: PoolSize,
    /// CPU cores per VM.
    pub cpu_cores: Cores,
    /// Memory per VM.
    pub memory_mb: MemoryMb,
    /// Disk per VM.
    pub disk_gb: DiskGb,
    /// Node to deploy on.
    pub deployment_node: Option<NodeName>,
    /// Cluster to deploy on.
    pub deployment_cluster: Option<ClusterId>,
    /// Time zone for restricted hours.
    pub time_zone: Option<ClassTimeZone>,
    /// The front-end scope (e.g. a Discord server id), if any.
    pub scope: Option<Scope>,
    /// A specific VMID prefix in the chosen plan; `None` takes the lowest free one.
    pub vmid_prefix: Option<u32>,
}

impl NewClass {
    /// A class with 2 cores, 2048 MiB and 32 GB per VM, unscoped, lowest free VMID prefix.
    pub fn new(name: ClassName, pool_size: PoolSize) -> Self {
        Self {
            name,
            description: None,
            template_id: None,
            pool_size,
            cpu_cores: Cores::new(2).expect("2 cores is within 1-64"),
            memory_mb: MemoryMb::new(2048).expect("2048 MiB is within 256 MiB-512 GiB"),
            disk_gb: DiskGb::new(32).expect("32 GB is within 1-4096"),
            deployment_node: None,
            deployment_cluster: None,
            time_zone: None,
            scope: None,
            vmid_prefix: None,
        }
    }
}

/// The lowest prefix of `kind` whose blocks are all free, given the used blocks in ascending
/// order. Runs inside the creating transaction; the `vmid_blocks` primary key is what makes the
/// result race-free, this only avoids trying taken ranges.
fn lowest_free(kind: SchemeKind, used: &[u32]) -> Option<VmidScheme> {
    kind.prefixes()
        .filter_map(|p| VmidScheme::new(kind, i64::from(p)).ok())
        .find(|scheme| {
            let blocks = scheme.blocks();
            let first = used.partition_point(|b| b < blocks.start());
            used.get(first).is_none_or(|b| b > blocks.end())
        })
}

/// The name of a class that holds any block of `scheme`, if one does.
pub(crate) fn block_owner(conn: &Connection, scheme: &VmidScheme) -> Result<Option<ClassName>> {
    let blocks = scheme.blocks();
    let select = Query::select()
        .column((Classes::Table, Classes::Name))
        .from(VmidBlocks::Table)
        .inner_join(
            Classes::Table,
            Expr::col((Classes::Table, Classes::Id))
                .equals((VmidBlocks::Table, VmidBlocks::ClassId)),
        )
        .and_where(Expr::col(VmidBlocks::Block).gte(i64::from(*blocks.start())))
        .and_where(Expr::col(VmidBlocks::Block).lte(i64::from(*blocks.end())))
        .limit(1)
        .to_owned();
    query_opt(conn, &select, |c| {
        stored(ClassName::parse(&c.next::<String>()?))
    })
}

/// The class whose reserved VMID range holds `vmid`, if any (classes being deleted included:
/// their VMs may still run).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn vmid_owner(conn: &Connection, vmid: VmId) -> Result<Option<(ClassId, ClassName)>> {
    let select = Query::select()
        .column((Classes::Table, Classes::Id))
        .column((Classes::Table, Classes::Name))
        .from(VmidBlocks::Table)
        .inner_join(
            Classes::Table,
            Expr::col((Classes::Table, Classes::Id))
                .equals((VmidBlocks::Table, VmidBlocks::ClassId)),
        )
        .and_where(Expr::col(VmidBlocks::Block).eq(i64::from(vmid.get() / 100)))
        .to_owned();
    query_opt(conn, &select, |c| {
        Ok((
            ClassId::new(c.next()?),
            stored(ClassName::parse(&c.next::<String>()?))?,
        ))
    })
}

/// Creates a class owned by `teacher` and reserves its VMID blocks in the same transaction.
///
/// # Errors
/// [`Error::NameTaken`] when the name is taken in the scope; [`Error::VmidRangeTaken`] when the
/// requested prefix overlaps another class's VMIDs; [`Error::InvalidValue`] for a prefix outside
/// the plan or another class's template; [`Error::NotFound`] for an unknown template.
pub(crate) fn insert(conn: &Connection, teacher: UserId, new: &NewClass) -> Result<Class> {
    insert_avoiding(conn, teacher, new, &[], "")
}

/// [`insert`] that also keeps clear of the VMIDs `guests` (ascending) that exist `on` a
/// cluster (`"cluster pve1"`): a range that holds any guest is not given to a new class
/// (intent is checked against fact, not only against other classes).
///
/// # Errors
/// As [`insert`]; [`Error::VmidRangeTaken`] when a requested prefix's range holds a guest.
pub(crate) fn insert_avoiding(
    conn: &Connection,
    teacher: UserId,
    new: &NewClass,
    guests: &[u32],
    on: &str,
) -> Result<Class> {
    let kind = SchemeKind::for_pool(new.pool_size);
    let scheme = match new.vmid_prefix {
        Some(prefix) => {
            let scheme = VmidScheme::new(kind, i64::from(prefix))?;
            let range = scheme.vmids();
            if let Some(vmid) = guests.iter().find(|v| range.contains(v)) {
                return Err(Error::VmidRangeTaken {
                    range: scheme.to_string(),
                    by: format!("VM {vmid} on {on}"),
                });
            }
            scheme
        }
        None => {
            let mut used = query_all(
                conn,
                Query::select()
                    .column(VmidBlocks::Block)
                    .from(VmidBlocks::Table)
                    .order_by(VmidBlocks::Block, Order::Asc),
                |c| Ok(u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX)),
            )?;
            used.extend(guests.iter().map(|v| v / 100));
            used.sort_unstable();
            used.dedup();
            lowest_free(kind, &used).ok_or_else(|| Error::VmidRangeExhausted {
                kind: kind.to_string(),
            })?
        }
    };
    // Checked inside the caller's IMMEDIATE transaction: no other writer can slip in between.
    // The UNIQUE constraints and the blocks' primary key stay as the last line of defence.
    // A VM's disk is at least its template's (disks only grow): the class says what its VMs
    // will have.
    let mut disk_gb = new.disk_gb.get();
    if let Some(template) = new.template_id {
        crate::store::templates::check_usable(conn, template, None)?;
        if let Some(least) = crate::store::templates::disk_gb(conn, template)? {
            disk_gb = Ord::max(disk_gb, least);
        }
    }
    if super::name_taken(conn, new.scope.as_ref(), &new.name)? {
        return Err(Error::NameTaken {
            entity: Entity::Class,
            name: new.name.as_str().to_owned(),
        });
    }
    if let Some(owner) = block_owner(conn, &scheme)? {
        return Err(Error::VmidRangeTaken {
            range: scheme.to_string(),
            by: format!("class {owner}"),
        });
    }
    let now = now_sql();
    let insert = Query::insert()
        .into_table(Classes::Table)
        .columns([
            Classes::Name,
            Classes::Description,
            Classes::TeacherId,
            Classes::TemplateId,
            Classes::PoolSize,
            Classes::CpuCores,
            Classes::MemoryMb,
            Classes::DiskSizeGb,
            Classes::VmidPrefix,
            Classes::VmidScheme,
            Classes::DeploymentNode,
            Classes::DeploymentCluster,
            Classes::TimeZone,
            Classes::ScopeId,
            Classes::CreatedAt,
            Classes::UpdatedAt,
        ])
        .values_panic([
            new.name.as_str().into(),
            new.description.clone().into(),
            teacher.get().into(),
            new.template_id.map(TemplateId::get).into(),
            i64::from(new.pool_size.get()).into(),
            i64::from(new.cpu_cores.get()).into(),
            i64::from(new.memory_mb.get()).into(),
            i64::from(disk_gb).into(),
            i64::from(scheme.prefix()).into(),
            kind.as_str().into(),
            new.deployment_node
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .into(),
            new.deployment_cluster
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .into(),
            new.time_zone.as_ref().map(|z| z.name().to_owned()).into(),
            super::scope_to_sql(new.scope.as_ref()).into(),
            now.clone().into(),
            now.into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    let id = ClassId::new(conn.last_insert_rowid());
    for block in scheme.blocks() {
        let reserve = Query::insert()
            .into_table(VmidBlocks::Table)
            .columns([VmidBlocks::Block, VmidBlocks::ClassId])
            .values_panic([i64::from(block).into(), id.get().into()])
            .to_owned();
        execute(conn, &reserve)?;
    }
    get(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guests_on_the_cluster_keep_their_blocks_from_new_classes() {
        // VMs 100-105 (block 1) and the templates 9000-9010 (block 90) exist on the cluster.
        let mut used: Vec<u32> = [100, 105, 9000, 9010].iter().map(|v| v / 100).collect();
        used.dedup();
        assert_eq!(lowest_free(SchemeKind::Classic, &used).unwrap().prefix(), 2);
    }

    #[test]
    fn the_lowest_free_range_skips_blocks_in_use_for_both_plans() {
        let classic = lowest_free(SchemeKind::Classic, &[1, 2, 4]).expect("free");
        assert_eq!(classic.prefix(), 3);
        // Wide prefix 1 covers blocks 10-19; block 12 is taken, so prefix 2 (blocks 20-29).
        let wide = lowest_free(SchemeKind::Wide, &[1, 12]).expect("free");
        assert_eq!(wide.prefix(), 2);
        let wide = lowest_free(SchemeKind::Wide, &[1, 2, 3]).expect("free");
        assert_eq!(wide.prefix(), 1);
    }
}
