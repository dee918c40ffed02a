//! Usage reports through the facade: one class's figures for a period, read in one snapshot
//! from the usage history, the roster and the settings, then computed by `crate::reports`.

use std::collections::HashSet;

use super::Lab;
use crate::error::Result;
use crate::reports::{build, ReportInput, ReportPeriod, UsageReport};
use crate::rules::permissions::{Action, Actor};
use crate::store::{enrollment, settings, usage, usage_history, users};
use crate::types::ClassId;

impl Lab {
    /// The class's usage over `period` (the class's teachers and adminers): per student the
    /// hours used, the hours in sessions, how often their VM was shut down for idleness and
    /// what is left of the quota; per class the VM-hours, their estimated energy
    /// (`reports.energy_wh_per_vm_hour`) and the running VMs over time. Render it with
    /// [`UsageReport::to_csv`] and [`UsageReport::chart_png`].
    ///
    /// History older than `reports.history_retention` is gone; the report says from when it
    /// has some ([`UsageReport::history_from`]).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted);
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown class;
    /// [`Error::InvalidValue`](crate::Error::InvalidValue) for a period that ends before it
    /// starts or starts in the future.
    pub async fn usage_report(
        &self,
        actor: &Actor,
        class: ClassId,
        period: ReportPeriod,
    ) -> Result<UsageReport> {
        self.class_read(actor, Action::ListStudents, class, move |tx, stored| {
            let system = settings::load(tx)?;
            let zone = stored
                .time_zone
                .clone()
                .unwrap_or_else(|| system.default_time_zone());
            let oldest = usage_history::oldest(tx, class)?;
            let (from, to) = period.resolve(&zone, crate::db::time::now(), oldest)?;
            let hours = usage_history::hours_in(tx, class, from, to)?;
            let shutdowns = usage_history::shutdowns_in(tx, class, from, to)?;
            let mut listed = HashSet::new();
            let mut students = Vec::new();
            for view in enrollment::students(tx, class)? {
                listed.insert(view.user.id);
                students.push((view.user, view.usage.hours));
            }
            // Students who left keep their lines for the hours they used in the period.
            let gone: Vec<_> = hours
                .iter()
                .map(|r| r.user)
                .chain(shutdowns.iter().filter_map(|s| s.user))
                .filter(|u| !listed.contains(u))
                .collect();
            for user in gone {
                if listed.insert(user) {
                    let used = usage::get(tx, class, user)?.hours;
                    students.push((users::get(tx, user)?, used));
                }
            }
            Ok(build(ReportInput {
                class: stored.name,
                zone,
                from,
                to,
                history_from: oldest,
                students,
                quota: stored.max_usage,
                hours,
                shutdowns,
                wh_per_vm_hour: system.energy_wh_per_vm_hour(),
            }))
        })
        .await
    }
}
