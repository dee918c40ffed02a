//! Classes: a course with its pool settings, its VMID plan and its primary teacher. The record
//! and its reads live here; creating a class, with its VMID range allocated race-free through
//! `vmid_blocks`, lives in `create`; who may see a class in `visible`; deleting it (at once, or
//! after its VMs are gone) in `delete`. Later changes are [`super::class_settings`]; the join
//! token is [`super::tokens`].
//!
//! A class being deleted ([`delete::mark_deleting`]) keeps its row, and so its VMID blocks and
//! its name, but every read here skips it: to everyone but the pool orchestration it is gone.

mod create;
mod delete;
mod visible;

pub use create::NewClass;
pub(crate) use create::{insert, insert_avoiding, vmid_owner};
pub use delete::ClassDeletion;
// The pool orchestration's hooks: it deletes the VMs of a class being deleted on Proxmox, then
// finishes the deletion.
pub(crate) use delete::delete_or_mark;
#[cfg(test)]
pub(crate) use delete::mark_deleting;
pub(crate) use delete::{deleting, finish_delete};
pub(crate) use visible::{list_visible, visible};

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};

use super::{query_all, query_opt, stored, Cols};
use crate::db::schema::Classes;
use crate::db::time::{opt_ts_from_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::token::TokenExpiry;
use crate::types::{
    ClassId, ClassName, ClassTimeZone, ClusterId, Cores, DiskGb, HoursWindow, IdleMinutes,
    IdleThreshold, MemoryMb, NodeName, PoolSize, SchemeKind, Scope, TemplateId, UsageQuota, UserId,
    VmidScheme,
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
    /// The template the pool is cloned from, once chosen.
    pub template_id: Option<TemplateId>,
    /// The front-end scope the class belongs to (e.g. a Discord server id), if any.
    pub scope: Option<Scope>,
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
    let template_id = c.next::<Option<i64>>()?.map(TemplateId::new);
    let scope = scope_from_sql(&c.next::<String>()?)?;
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

/// The stored form of a scope: the schema keeps "no scope" as `''` (a NOT NULL column in the
/// `UNIQUE (scope_id, name)` key, where NULLs would never collide).
pub(crate) fn scope_to_sql(scope: Option<&Scope>) -> &str {
    scope.map_or("", Scope::as_str)
}

fn scope_from_sql(text: &str) -> Result<Option<Scope>> {
    match text {
        "" => Ok(None),
        text => Ok(Some(stored(Scope::parse(text))?)),
    }
}

/// Selects every column of live classes (not being deleted); callers add conditions.
pub(crate) fn select() -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS.map(|c| (Classes::Table, c)))
        .from(Classes::Table)
        .and_where(Expr::col((Classes::Table, Classes::DeletingSince)).is_null())
        .to_owned()
}

/// The class with this id.
///
/// # Errors
/// [`Error::NotFound`] when there is none (or it is being deleted).
pub(crate) fn get(conn: &Connection, id: ClassId) -> Result<Class> {
    let select = select()
        .and_where(Expr::col((Classes::Table, Classes::Id)).eq(id.get()))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::not_found(Entity::Class, id))
}

/// The class with this id also while it is being deleted (the pool orchestration deletes its
/// VMs then), and whether it is.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn get_for_pool(conn: &Connection, id: ClassId) -> Result<(Class, bool)> {
    let select = Query::select()
        .columns(COLUMNS.map(|c| (Classes::Table, c)))
        .column((Classes::Table, Classes::DeletingSince))
        .from(Classes::Table)
        .and_where(Expr::col((Classes::Table, Classes::Id)).eq(id.get()))
        .to_owned();
    query_opt(conn, &select, |c| {
        let class = map(c)?;
        let deleting = c.next::<Option<String>>()?.is_some();
        Ok((class, deleting))
    })?
    .ok_or_else(|| Error::not_found(Entity::Class, id))
}

/// The class with this name in this scope.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn by_name(conn: &Connection, scope: Option<&Scope>, name: &ClassName) -> Result<Class> {
    let exact = select()
        .and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope_to_sql(scope)))
        .and_where(Expr::col((Classes::Table, Classes::Name)).eq(name.as_str()))
        .to_owned();
    if let Some(class) = query_opt(conn, &exact, map)? {
        return Ok(class);
    }
    // Typed in another case: the one class whose name matches ignoring case (a database made
    // before names were compared so may hold two; then neither is guessed).
    let other_case = select()
        .and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope_to_sql(scope)))
        .and_where(same_name_any_case(name))
        .limit(2)
        .to_owned();
    match query_all(conn, &other_case, map)?.as_slice() {
        [class] => Ok(class.clone()),
        _ => Err(Error::not_found(
            Entity::Class,
            format!("{:?}", name.as_str()),
        )),
    }
}

/// `classes.name` equals `name` ignoring ASCII letter case (the index of migration 14).
fn same_name_any_case(name: &ClassName) -> SimpleExpr {
    Expr::cust_with_values(
        "\"classes\".\"name\" = ? COLLATE NOCASE",
        [name.as_str().to_owned()],
    )
}

/// Whether a class of this name, in any letter case, holds it in this scope, counting classes
/// being deleted (they keep their name until their VMs are gone).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn name_taken(
    conn: &Connection,
    scope: Option<&Scope>,
    name: &ClassName,
) -> Result<bool> {
    let select = Query::select()
        .column(Classes::Id)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::ScopeId).eq(scope_to_sql(scope)))
        .and_where(same_name_any_case(name))
        .limit(1)
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}

/// Classes of a scope (`None` = all scopes), by name.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, scope: Option<&Scope>) -> Result<Vec<Class>> {
    let mut select = select();
    if let Some(scope) = scope {
        select.and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope.as_str()));
    }
    select.order_by((Classes::Table, Classes::Name), Order::Asc);
    query_all(conn, &select, map)
}

/// Classes of exactly one scope (`None` = the classes without a scope), by name.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list_in_scope(conn: &Connection, scope: Option<&Scope>) -> Result<Vec<Class>> {
    let select = select()
        .and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope_to_sql(scope)))
        .order_by((Classes::Table, Classes::Name), Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}
