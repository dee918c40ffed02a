//! Class settings: the part of a class a teacher changes after creation (pool size, resources,
//! placement, auto-shutdown, hours, time zone, quota, template).

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query, SimpleExpr};

use super::classes::{get, AutoShutdown, Class};
use super::execute;
use crate::db::schema::Classes;
use crate::db::time::now_sql;
use crate::error::Result;
use crate::types::{
    ClassId, ClassTimeZone, ClusterId, Cores, DiskGb, HoursWindow, MemoryMb, NodeName, PoolSize,
    TemplateId, UsageQuota,
};

/// Changes to a class's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClassSettings {
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New desired pool size; must fit the class's VMID plan.
    pub pool_size: Option<PoolSize>,
    /// New CPU cores.
    pub cpu_cores: Option<Cores>,
    /// New memory.
    pub memory_mb: Option<MemoryMb>,
    /// New disk size.
    pub disk_gb: Option<DiskGb>,
    /// New deployment node (`Some(None)` lets placement decide).
    pub deployment_node: Option<Option<NodeName>>,
    /// New deployment cluster.
    pub deployment_cluster: Option<Option<ClusterId>>,
    /// New auto-shutdown settings.
    pub auto_shutdown: Option<AutoShutdown>,
    /// New hours (`Some(None)` lifts the restriction).
    pub hours: Option<Option<HoursWindow>>,
    /// New time zone (`Some(None)` = system default).
    pub time_zone: Option<Option<ClassTimeZone>>,
    /// New usage quota. Changing it clears the quota alerts already sent, so students are
    /// warned again against the new limit.
    pub max_usage: Option<UsageQuota>,
    /// New template (`Some(None)` clears it): a cluster template or one of the class's own.
    pub template_id: Option<Option<TemplateId>>,
}

impl ClassSettings {
    /// Whether the change sets no field at all (the facade refuses such a change).
    pub fn is_empty(&self) -> bool {
        let Self {
            description,
            pool_size,
            cpu_cores,
            memory_mb,
            disk_gb,
            deployment_node,
            deployment_cluster,
            auto_shutdown,
            hours,
            time_zone,
            max_usage,
            template_id,
        } = self;
        // Destructured so that a new field cannot be forgotten here.
        description.is_none()
            && pool_size.is_none()
            && cpu_cores.is_none()
            && memory_mb.is_none()
            && disk_gb.is_none()
            && deployment_node.is_none()
            && deployment_cluster.is_none()
            && auto_shutdown.is_none()
            && hours.is_none()
            && time_zone.is_none()
            && max_usage.is_none()
            && template_id.is_none()
    }
}

/// Applies a settings change.
///
/// # Errors
/// [`Error::InvalidValue`] when a new pool size does not fit the class's VMID plan, the new
/// template belongs to another class, or a new disk is smaller than the template's; [`Error::NotFound`] when the class or the template does
/// not exist.
pub(crate) fn update(conn: &Connection, id: ClassId, change: &ClassSettings) -> Result<Class> {
    let class = get(conn, id)?;
    let mut values: Vec<(Classes, SimpleExpr)> = Vec::new();
    if let Some(d) = &change.description {
        values.push((Classes::Description, d.clone().into()));
    }
    if let Some(size) = change.pool_size {
        if size.get() > class.scheme.student_slots() {
            return Err(crate::types::InvalidValue::new(
                "pool size",
                size.get(),
                format!(
                    "at most {} for this class ({}); a larger pool needs a new class",
                    class.scheme.student_slots(),
                    class.scheme
                ),
            )
            .into());
        }
        values.push((Classes::PoolSize, i64::from(size.get()).into()));
    }
    if let Some(v) = change.cpu_cores {
        values.push((Classes::CpuCores, i64::from(v.get()).into()));
    }
    if let Some(v) = change.memory_mb {
        values.push((Classes::MemoryMb, i64::from(v.get()).into()));
    }
    if let Some(v) = change.disk_gb {
        let template = change.template_id.unwrap_or(class.template_id);
        if let Some(least) = template
            .map(|t| super::templates::disk_gb(conn, t))
            .transpose()?
            .flatten()
            .filter(|least| v.get() < *least)
        {
            return Err(crate::types::InvalidValue::new(
                "disk",
                format!("{} GB", v.get()),
                format!(
                    "at least {least} GB: the class's template has a {least} GB disk, and a \
                     VM's disk only grows"
                ),
            )
            .into());
        }
        values.push((Classes::DiskSizeGb, i64::from(v.get()).into()));
    }
    if let Some(v) = &change.deployment_node {
        let v = v.as_ref().map(|n| n.as_str().to_owned());
        values.push((Classes::DeploymentNode, v.into()));
    }
    if let Some(v) = &change.deployment_cluster {
        let v = v.as_ref().map(|n| n.as_str().to_owned());
        values.push((Classes::DeploymentCluster, v.into()));
    }
    if let Some(a) = change.auto_shutdown {
        values.push((Classes::AutoShutdownEnabled, a.enabled.into()));
        values.push((
            Classes::AutoShutdownCpuThreshold,
            i64::from(a.threshold.get()).into(),
        ));
        values.push((
            Classes::AutoShutdownIdleMinutes,
            i64::from(a.idle_minutes.get()).into(),
        ));
    }
    if let Some(h) = change.hours {
        values.push((Classes::RestrictHours, h.is_some().into()));
        if let Some(w) = h {
            values.push((Classes::HoursStart, i64::from(w.start()).into()));
            values.push((Classes::HoursEnd, i64::from(w.end()).into()));
        }
    }
    if let Some(z) = &change.time_zone {
        let z = z.as_ref().map(|z| z.name().to_owned());
        values.push((Classes::TimeZone, z.into()));
    }
    if let Some(q) = change.max_usage {
        values.push((Classes::MaxUsageHours, i64::from(q.get()).into()));
        if q != class.max_usage {
            // An alert sent against the old limit says nothing about the new one.
            super::usage::clear_alerts(conn, id)?;
        }
    }
    if let Some(t) = change.template_id {
        if let Some(template) = t {
            super::templates::check_usable(conn, template, Some(id))?;
        }
        values.push((Classes::TemplateId, t.map(TemplateId::get).into()));
    }
    values.push((Classes::UpdatedAt, now_sql().into()));
    let update = Query::update()
        .table(Classes::Table)
        .values(values)
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .to_owned();
    execute(conn, &update)?;
    get(conn, id)
}
