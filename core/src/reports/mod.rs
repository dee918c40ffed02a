//! Usage reports of a class, pure: the figures of a period from the usage history, as a table
//! of numbers, a CSV text and a PNG chart. The facade (`lab/reports.rs`) reads the history and
//! the class; nothing here does I/O, so the figures are tested on histories built by hand.

mod build;
mod chart;
mod csv;
pub(crate) mod hours;
mod period;

pub(crate) use build::{build, ReportInput};
pub use period::ReportPeriod;

use jiff::Timestamp;

use crate::store::users::User;
use crate::types::{ClassName, ClassTimeZone};

/// One student's line of a [`UsageReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct StudentUsageLine {
    /// The student.
    pub student: User,
    /// Running hours of their VMs in the period that counted against the quota.
    pub hours_used: f64,
    /// Running hours inside the class's scheduled sessions (which do not count against the
    /// quota).
    pub hours_in_sessions: f64,
    /// How often their VM was shut down for idleness in the period.
    pub idle_shutdowns: u32,
    /// How often their VM was shut down automatically in the period, for any reason.
    pub automatic_shutdowns: u32,
    /// Hours left of the class quota now (not only the period's); `None` when unlimited.
    pub quota_left: Option<f64>,
}

/// How far apart the points of [`UsageReport::running`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningStep {
    /// One point per hour (periods up to 31 days).
    Hour,
    /// One point per UTC day (longer periods).
    Day,
}

/// The average number of the class's student VMs running over one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunningPoint {
    /// The start of the step.
    pub at: Timestamp,
    /// Running VMs, averaged over the step.
    pub vms: f64,
}

/// A class's usage over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    /// The class.
    pub class: ClassName,
    /// The zone the period's days were read in (the class's).
    pub zone: ClassTimeZone,
    /// The start of the period.
    pub from: Timestamp,
    /// The end of the period (exclusive; at most now).
    pub to: Timestamp,
    /// The oldest hour of history kept for the class, if any: figures before it are gone
    /// (the `reports.history_retention` setting), so a period starting earlier is partial.
    pub history_from: Option<Timestamp>,
    /// One line per student who is in the class or used it in the period, by name.
    pub students: Vec<StudentUsageLine>,
    /// Running hours of all student VMs in the period.
    pub vm_hours: f64,
    /// The energy figure used (the `reports.energy_wh_per_vm_hour` setting).
    pub wh_per_vm_hour: u32,
    /// The estimated energy of those hours, in Wh.
    pub energy_wh: f64,
    /// Running VMs over time.
    pub running: Vec<RunningPoint>,
    /// The spacing of [`UsageReport::running`].
    pub step: RunningStep,
}

impl UsageReport {
    /// The estimated energy for people: `45 Wh` below a kWh, `12.3 kWh` from there.
    pub fn energy_text(&self) -> String {
        if self.energy_wh < 999.5 {
            format!("{:.0} Wh", self.energy_wh)
        } else {
            format!("{:.1} kWh", self.energy_wh / 1000.0)
        }
    }

    /// The report as CSV: one row per student, then a `(class)` row with the totals.
    ///
    /// # Errors
    /// [`Error::Internal`](crate::Error::Internal) when writing the CSV fails.
    pub fn to_csv(&self) -> crate::Result<String> {
        csv::to_csv(self)
    }

    /// The report as a PNG chart: a bar of hours per student above a line of running VMs over
    /// the period. Text is drawn with the DejaVu Sans font built into the library, so no system
    /// font is needed.
    ///
    /// # Errors
    /// [`Error::Internal`](crate::Error::Internal) when drawing or encoding fails.
    pub fn chart_png(&self) -> crate::Result<Vec<u8>> {
        chart::png(self)
    }
}
