//! A usage report as CSV, for spreadsheets: one row per student, then the class's totals.

use super::UsageReport;
use crate::error::{Error, Result};

/// Hours with two decimals: what a spreadsheet needs, without float noise.
fn hours(value: f64) -> String {
    format!("{value:.2}")
}

/// `text`, with a leading `'` when a spreadsheet would read it as a formula (names are chosen
/// by students).
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub(super) fn to_csv(report: &UsageReport) -> Result<String> {
    let failed = |e: csv::Error| Error::internal(format!("writing CSV failed: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "student",
        "user_id",
        "hours_used",
        "hours_in_sessions",
        "idle_shutdowns",
        "automatic_shutdowns",
        "quota_left_hours",
        "energy_wh",
    ])
    .map_err(failed)?;
    let wh = f64::from(report.wh_per_vm_hour);
    for line in &report.students {
        out.write_record([
            defused(line.student.shown_name()),
            line.student.id.to_string(),
            hours(line.hours_used),
            hours(line.hours_in_sessions),
            line.idle_shutdowns.to_string(),
            line.automatic_shutdowns.to_string(),
            line.quota_left.map(hours).unwrap_or_default(),
            format!("{:.0}", line.hours_used * wh),
        ])
        .map_err(failed)?;
    }
    let idle: u32 = report.students.iter().map(|s| s.idle_shutdowns).sum();
    let all: u32 = report.students.iter().map(|s| s.automatic_shutdowns).sum();
    let sessions: f64 = report.students.iter().map(|s| s.hours_in_sessions).sum();
    out.write_record([
        "(class)".to_owned(),
        String::new(),
        hours(report.vm_hours),
        hours(sessions),
        idle.to_string(),
        all.to_string(),
        String::new(),
        format!("{:.0}", report.energy_wh),
    ])
    .map_err(failed)?;
    let bytes = out
        .into_inner()
        .map_err(|e| Error::internal(format!("writing CSV failed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::internal(format!("CSV is not UTF-8: {e}")))
}
