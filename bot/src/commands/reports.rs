//! Usage reports: `/report usage class [from] [to]`, a table with a CSV file and a PNG chart.

use jiff::civil::Date;
use pvelab_core::model::{ReportPeriod, RunningStep, UsageReport};
use pvelab_core::types::ClassName;

use super::{CommandContext, CommandError, Reply};
use crate::parse::OptionError;
use crate::render::format;

/// A day as `2027-01-15` (read in the class's time zone by the core).
///
/// # Errors
/// [`OptionError`] naming `option` and the form.
pub fn date(option: &str, text: &str) -> Result<Date, OptionError> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| OptionError::new(option, text, "a day as YYYY-MM-DD, such as 2027-01-15"))
}

/// `/report usage class [from] [to]`: per student the hours used, hours in sessions, idle
/// shutdowns and quota left; the class's VM-hours and estimated energy; as a table, with the
/// same figures as a CSV file and a chart (hours per student, running VMs over time).
///
/// # Errors
/// [`CommandError::Core`]: an unknown class, not one of its teachers, or a period that ends
/// before it starts.
pub async fn usage(
    ctx: &CommandContext,
    class_name: &ClassName,
    period: ReportPeriod,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let report = ctx.lab.usage_report(&actor, class.id, period).await?;
    let rows = report
        .students
        .iter()
        .map(|s| {
            vec![
                format::person(&s.student),
                format!("{:.1}", s.hours_used),
                format!("{:.1}", s.hours_in_sessions),
                s.idle_shutdowns.to_string(),
                s.quota_left
                    .map_or_else(|| "no limit".to_owned(), |h| format!("{h:.1}")),
            ]
        })
        .collect();
    let csv = report.to_csv()?;
    let png = report.chart_png()?;
    let stem = file_stem(&report);
    let mut reply = Reply::titled(format!(
        "Usage of {}: {} to {} ({})",
        report.class,
        local(&report, report.from),
        local(&report, report.to),
        report.zone
    ))
    .line(format!(
        "{:.1} VM-hours, about {} at {} Wh per VM-hour",
        report.vm_hours,
        report.energy_text(),
        report.wh_per_vm_hour
    ))
    .line(format!(
        "Running VMs averaged per {} in the chart.",
        match report.step {
            RunningStep::Hour => "hour",
            RunningStep::Day => "day",
        }
    ));
    match report.history_from {
        Some(oldest) if oldest > report.from => {
            reply = reply.line(format!(
                "History is kept from {} only (setting reports.history_retention).",
                local(&report, oldest)
            ));
        }
        None => reply = reply.line("No usage is recorded for this class yet."),
        _ => {}
    }
    if report.students.is_empty() {
        reply = reply.line("The class has no students yet.");
    }
    Ok(reply
        .table(
            &[
                "STUDENT",
                "HOURS",
                "IN SESSIONS",
                "IDLE SHUTDOWNS",
                "QUOTA LEFT",
            ],
            rows,
        )
        .attach(format!("{stem}.csv"), csv.into_bytes())
        .attach(format!("{stem}.png"), png))
}

/// An instant in the report's zone: `2027-01-15 08:30`.
fn local(report: &UsageReport, at: jiff::Timestamp) -> String {
    at.to_zoned(report.zone.tz().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// `usage-<class>-<from day>-<to day>`, only letters, digits, `-` and `_`.
fn file_stem(report: &UsageReport) -> String {
    let day = |at: jiff::Timestamp| {
        at.to_zoned(report.zone.tz().clone())
            .strftime("%Y%m%d")
            .to_string()
    };
    let class: String = report
        .class
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("usage-{class}-{}-{}", day(report.from), day(report.to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_read_and_anything_else_is_refused_naming_the_option() {
        assert_eq!(
            date("from", " 2027-01-15 ").unwrap().to_string(),
            "2027-01-15"
        );
        let e = date("to", "15.01.2027").unwrap_err();
        assert_eq!(e.option(), "to");
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
    }
}
