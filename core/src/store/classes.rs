//! Classes: a course with its pool settings, its VMID plan (allocated race-free through
//! `vmid_blocks`) and its primary teacher. Its join token lives in [`super::tokens`].

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query};

use super::{execute, query_all, query_opt, stored, unique_violation, Cols};
use crate::db::schema::{Classes, VmidBlocks};
use crate::db::time::{now_sql, opt_ts_from_sql, ts_from_sql};
use crate::error::{Error, Result};
use crate::token::TokenExpiry;
use crate::types::{
    ClassId, ClassName, ClassTimeZone, ClusterId, Cores, DiskGb, HoursWindow, IdleMinutes,
    IdleThreshold, MemoryMb, NodeName, PoolSize, SchemeKind, UsageQuota, UserId, VmidScheme,
};

/// Auto-shutdown of idle student VMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoShutdown {
    /// Whether idle VMs are shut down at all.
    pub enabled: bool,
    /// CPU below this percentage counts as idle.
    pub threshold: IdleThreshold,
    /// How long a VM must stay idle.
    pub idle_minutes: IdleMinutes,
}

/// A class as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// The lab's id.
    pub id: ClassId,
    /// Unique within its scope.
    pub name: ClassName,
    /// Free text.
    pub description: Option<String>,
    /// The primary teacher.
    pub teacher_id: UserId,
    /// The template the pool is cloned from (a `templates` row id), once chosen.
    pub template_id: Option<i64>,
    /// The front-end scope the class belongs to ('' = none), e.g. a Discord server id.
    pub scope: String,
    /// The VMIDs the class owns.
    pub scheme: VmidScheme,
    /// Desired number of student VMs.
    pub pool_size: PoolSize,
    /// CPU cores per student VM.
    pub cpu_cores: Cores,
    /// Memory per student VM.
    pub memory_mb: MemoryMb,
    /// Disk size per student VM.
    pub disk_gb: DiskGb,
    /// Node to deploy on (else placement decides).
    pub deployment_node: Option<NodeName>,
    /// Cluster to deploy on (else the default / highest priority one).
    pub deployment_cluster: Option<ClusterId>,
    /// Idle shutdown settings.
    pub auto_shutdown: AutoShutdown,
    /// The allowed hours when restricted, `None` when VMs may run at any time.
    pub hours: Option<HoursWindow>,
    /// The zone the hours are read in; `None` = the system default.
    pub time_zone: Option<ClassTimeZone>,
    /// Usage quota per student VM (0 = unlimited).
    pub max_usage: UsageQuota,
    /// The current join token's expiry, `None` when the class has no token.
    pub token: Option<TokenExpiry>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A class to create. Build with [`NewClass::new`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct NewClass {
    /// Unique within `scope`.
    pub name: ClassName,
    /// Free text.
    pub description: Option<String>,
    /// The template (a `templates` row id), if already known.
    pub template_id: Option<i64>,
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
    /// The front-end scope (e.g. Discord server id); '' for none.
    pub scope: String,
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
            scope: String::new(),
            vmid_prefix: None,
        }
    }
}

const COLUMNS: [Classes; 27] = [
    Classes::Id,
    Classes::Name,
    Classes::Description,
    Classes::TeacherId,
    Classes::TemplateId,
    Classes::ScopeId,
    Classes::VmidScheme,
    Classes::VmidPrefix,
    Classes::PoolSize,
    Classes::CpuCores,
    Classes::MemoryMb,
    Classes::DiskSizeGb,
    Classes::DeploymentNode,
    Classes::DeploymentCluster,
    Classes::AutoShutdownEnabled,
    Classes::AutoShutdownCpuThreshold,
    Classes::AutoShutdownIdleMinutes,
    Classes::RestrictHours,
    Classes::HoursStart,
    Classes::HoursEnd,
    Classes::TimeZone,
    Classes::MaxUsageHours,
    Classes::JoinToken,
    Classes::TokenNeverExpires,
    Classes::TokenExpiresAt,
    Classes::CreatedAt,
    Classes::UpdatedAt,
];

pub(crate) fn map(c: &mut Cols<'_, '_>) -> Result<Class> {
    let id = ClassId::new(c.next()?);
    let name = stored(ClassName::parse(&c.next::<String>()?))?;
    let description = c.next()?;
    let teacher_id = UserId::new(c.next()?);
    let template_id = c.next()?;
    let scope = c.next()?;
    let kind = stored(SchemeKind::parse(&c.next::<String>()?))?;
    let scheme = stored(VmidScheme::new(kind, c.next()?))?;
    let pool_size = stored(PoolSize::new(c.next()?))?;
    let cpu_cores = stored(Cores::new(c.next()?))?;
    let memory_mb = stored(MemoryMb::new(c.next()?))?;
    let disk_gb = stored(DiskGb::new(c.next()?))?;
    let deployment_node = c
        .next::<Option<String>>()?
        .map(|n| stored(NodeName::parse(&n)))
        .transpose()?;
    let deployment_cluster = c
        .next::<Option<String>>()?
        .map(|n| stored(ClusterId::parse(&n)))
        .transpose()?;
    let auto_shutdown = AutoShutdown {
        enabled: c.flag()?,
        threshold: stored(IdleThreshold::new(c.next()?))?,
        idle_minutes: stored(IdleMinutes::new(c.next()?))?,
    };
    let restrict = c.flag()?;
    let window = stored(HoursWindow::new(c.next()?, c.next()?))?;
    let time_zone = c
        .next::<Option<String>>()?
        .map(|z| stored(ClassTimeZone::parse(&z)))
        .transpose()?;
    let max_usage = stored(UsageQuota::new(c.next()?))?;
    let has_token = c.next::<Option<String>>()?.is_some();
    let never = c.flag()?;
    let expires_at = opt_ts_from_sql(c.next()?)?;
    let token = if has_token {
        Some(stored(TokenExpiry::from_stored(never, expires_at))?)
    } else {
        None
    };
    Ok(Class {
        id,
        name,
        description,
        teacher_id,
        template_id,
        scope,
        scheme,
        pool_size,
        cpu_cores,
        memory_mb,
        disk_gb,
        deployment_node,
        deployment_cluster,
        auto_shutdown,
        hours: restrict.then_some(window),
        time_zone,
        max_usage,
        token,
        created_at: ts_from_sql(&c.next::<String>()?)?,
        updated_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

pub(crate) fn select() -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS.map(|c| (Classes::Table, c)))
        .from(Classes::Table)
        .to_owned()
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

/// Creates a class owned by `teacher` and reserves its VMID blocks in the same transaction.
///
/// # Errors
/// [`Error::Conflict`] when the name is taken in the scope or the requested prefix overlaps
/// another class's VMIDs; [`Error::InvalidValue`] for a prefix outside the plan.
pub(crate) fn insert(conn: &Connection, teacher: UserId, new: &NewClass) -> Result<Class> {
    let kind = SchemeKind::for_pool(new.pool_size);
    let scheme = match new.vmid_prefix {
        Some(prefix) => VmidScheme::new(kind, i64::from(prefix))?,
        None => {
            let used = query_all(
                conn,
                Query::select()
                    .column(VmidBlocks::Block)
                    .from(VmidBlocks::Table)
                    .order_by(VmidBlocks::Block, Order::Asc),
                |c| Ok(u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX)),
            )?;
            lowest_free(kind, &used).ok_or_else(|| Error::Conflict {
                what: format!("no free VMID range is left for a {kind} plan"),
            })?
        }
    };
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
            new.template_id.into(),
            i64::from(new.pool_size.get()).into(),
            i64::from(new.cpu_cores.get()).into(),
            i64::from(new.memory_mb.get()).into(),
            i64::from(new.disk_gb.get()).into(),
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
            new.scope.clone().into(),
            now.clone().into(),
            now.into(),
        ])
        .to_owned();
    match execute(conn, &insert) {
        Ok(_) => {}
        Err(e) if unique_violation(&e).is_some_and(|m| m.contains("classes.name")) => {
            return Err(Error::Conflict {
                what: format!("a class named {:?} exists", new.name.as_str()),
            })
        }
        Err(e) if unique_violation(&e).is_some_and(|m| m.contains("vmid")) => {
            return Err(Error::Conflict {
                what: format!("{scheme} is used by another class"),
            })
        }
        Err(e) => return Err(e),
    }
    let id = ClassId::new(conn.last_insert_rowid());
    for block in scheme.blocks() {
        let reserve = Query::insert()
            .into_table(VmidBlocks::Table)
            .columns([VmidBlocks::Block, VmidBlocks::ClassId])
            .values_panic([i64::from(block).into(), id.get().into()])
            .to_owned();
        match execute(conn, &reserve) {
            Ok(_) => {}
            Err(e) if unique_violation(&e).is_some() => {
                return Err(Error::Conflict {
                    what: format!("{scheme} overlaps the VMIDs of another class"),
                })
            }
            Err(e) => return Err(e),
        }
    }
    get(conn, id)
}

/// The class with this id.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn get(conn: &Connection, id: ClassId) -> Result<Class> {
    let select = select()
        .and_where(Expr::col((Classes::Table, Classes::Id)).eq(id.get()))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::NotFound {
        what: format!("class {id}"),
    })
}

/// The class with this name in this scope.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn by_name(conn: &Connection, scope: &str, name: &ClassName) -> Result<Class> {
    let select = select()
        .and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope))
        .and_where(Expr::col((Classes::Table, Classes::Name)).eq(name.as_str()))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::NotFound {
        what: format!("class {:?}", name.as_str()),
    })
}

/// Classes of a scope (`None` = all scopes), by name.
///
/// # Errors
/// [`Error::Database`] when SQLite fails.
pub(crate) fn list(conn: &Connection, scope: Option<&str>) -> Result<Vec<Class>> {
    let mut select = select();
    if let Some(scope) = scope {
        select.and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope));
    }
    select.order_by((Classes::Table, Classes::Name), Order::Asc);
    query_all(conn, &select, map)
}

/// Deletes a class; its VMID blocks, pool rows, enrollments, co-owners and waitlist go with it.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn delete(conn: &Connection, id: ClassId) -> Result<()> {
    let delete = Query::delete()
        .from_table(Classes::Table)
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .to_owned();
    if execute(conn, &delete)? == 0 {
        return Err(Error::NotFound {
            what: format!("class {id}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
