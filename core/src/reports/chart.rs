//! A usage report as a PNG chart, drawn with plotters on its bitmap backend: hours per student
//! as horizontal bars (names stay readable however many students there are), and below them the
//! class's running VMs over the period as a line.
//!
//! Text needs a font: plotters' `ab_glyph` backend reads one registered from bytes, and the
//! DejaVu Sans font comes built in (the `dejavu` crate), so the chart looks the same on every
//! host and needs no system font or fontconfig.

use std::sync::Once;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{RunningStep, UsageReport};
use crate::error::{Error, Result};

/// The chart's width in pixels.
pub(crate) const WIDTH: u32 = 1000;
/// The height of the line chart of running VMs.
const LINE_HEIGHT: u32 = 320;
/// The height of one student's bar.
const BAR_HEIGHT: u32 = 26;
/// The family name the built-in font is registered under.
const FONT: &str = "sans-serif";

/// The colour of the fine grid lines: barely there, so the marks stand out.
const LIGHT: RGBColor = RGBColor(242, 242, 242);

static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_err()
        {
            tracing::error!("the built-in chart font could not be read");
        }
    });
}

fn drawing<E: std::fmt::Debug>(e: E) -> Error {
    Error::internal(format!("drawing the usage chart failed: {e:?}"))
}

/// The height of the whole chart for `students` students.
pub(crate) fn height(students: usize) -> u32 {
    let rows = u32::try_from(students.max(1)).unwrap_or(u32::MAX / BAR_HEIGHT);
    (rows.saturating_mul(BAR_HEIGHT) + 110).min(4000) + LINE_HEIGHT
}

pub(super) fn png(report: &UsageReport) -> Result<Vec<u8>> {
    register_font();
    let (width, height) = (WIDTH, height(report.students.len()));
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let (bars, line) = root.split_vertically(height - LINE_HEIGHT);
        draw_bars(report, &bars)?;
        draw_line(report, &line)?;
        root.present().map_err(drawing)?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(drawing)?;
        writer.write_image_data(&pixels).map_err(drawing)?;
    }
    Ok(out)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_bars(report: &UsageReport, area: &Area<'_>) -> Result<()> {
    let names: Vec<String> = report
        .students
        .iter()
        .map(|s| shorten(s.student.shown_name(), 22))
        .collect();
    let most = report
        .students
        .iter()
        .map(|s| s.hours_used)
        .fold(0.0f64, f64::max);
    let top = if most > 0.0 { most * 1.15 } else { 1.0 };
    let count = names.len().max(1);
    let caption = format!(
        "{}: hours used per student, {} to {}",
        report.class,
        day(report, report.from),
        day(report, report.to)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(180)
        .build_cartesian_2d(0f64..top, (0..count).into_segmented())
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(count)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < count => {
                names.get(count - 1 - i).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .light_line_style(LIGHT)
        .x_desc("hours")
        .label_style((FONT, 14))
        .draw()
        .map_err(drawing)?;
    let bar = RGBColor(52, 101, 164);
    chart
        .draw_series(report.students.iter().enumerate().map(|(i, s)| {
            let i = count - 1 - i;
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (s.hours_used, SegmentValue::Exact(i + 1)),
                ],
                bar.filled(),
            );
            rect.set_margin(4, 4, 0, 0);
            rect
        }))
        .map_err(drawing)?;
    chart
        .draw_series(report.students.iter().enumerate().map(|(i, s)| {
            let i = count - 1 - i;
            Text::new(
                format!("{:.1} h", s.hours_used),
                (s.hours_used + top * 0.01, SegmentValue::CenterOf(i)),
                (FONT, 13).into_font().color(&BLACK),
            )
        }))
        .map_err(drawing)?;
    Ok(())
}

fn draw_line(report: &UsageReport, area: &Area<'_>) -> Result<()> {
    let span = (report.to.duration_since(report.from).as_secs_f64() / 3600.0).max(1.0);
    let step_hours = match report.step {
        RunningStep::Hour => 1.0,
        RunningStep::Day => 24.0,
    };
    // Each point is an average over its step: drawn as a level across the step, not a slope.
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(report.running.len() * 2);
    for p in &report.running {
        let start = (p.at.duration_since(report.from).as_secs_f64() / 3600.0).max(0.0);
        let end = (start + step_hours).min(span);
        points.push((start, p.vms));
        points.push((end, p.vms));
    }
    let most = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let top = (most * 1.2).max(1.0);
    let per = match report.step {
        RunningStep::Hour => "hour",
        RunningStep::Day => "day",
    };
    let caption = format!(
        "running VMs (average per {per}); {:.1} VM-hours, about {}",
        report.vm_hours,
        report.energy_text()
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..span, 0f64..top)
        .map_err(drawing)?;
    let from = report.from;
    let zone = report.zone.tz().clone();
    let short = span <= 48.0;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|hours| {
            let at = from + jiff::SignedDuration::from_secs_f64(hours * 3600.0);
            let local = at.to_zoned(zone.clone());
            if short {
                local.strftime("%H:%M").to_string()
            } else {
                local.strftime("%m-%d").to_string()
            }
        })
        .y_desc("VMs")
        .light_line_style(LIGHT)
        .label_style((FONT, 14))
        .draw()
        .map_err(drawing)?;
    let ink = RGBColor(204, 0, 0);
    chart
        .draw_series(LineSeries::new(points, ink.stroke_width(2)))
        .map_err(drawing)?;
    Ok(())
}

/// `at` as a day of the class's zone.
fn day(report: &UsageReport, at: jiff::Timestamp) -> String {
    at.to_zoned(report.zone.tz().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// At most `max` characters of `name`, with an ellipsis when cut.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        name.chars().take(max - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::reports::{RunningPoint, StudentUsageLine};
    use crate::store::users::User;
    use crate::types::{ClassName, ClassTimeZone, Role, UserId};

    /// A month and a half of a class of 30, drawn day by day.
    fn big_report() -> UsageReport {
        let from: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let students = (0..30)
            .map(|i| StudentUsageLine {
                student: User {
                    id: UserId::new(i + 1),
                    username: None,
                    external_id: None,
                    display_name: Some(format!("student-with-a-long-name-{i:02}")),
                    role: Role::User,
                    created_at: from,
                },
                hours_used: (i as f64) * 1.7,
                hours_in_sessions: 0.0,
                idle_shutdowns: 0,
                automatic_shutdowns: 0,
                quota_left: None,
            })
            .collect();
        let running = (0..45)
            .map(|d| RunningPoint {
                at: from + SignedDuration::from_hours(24 * d),
                vms: f64::from((d % 7) as u8) * 2.5,
            })
            .collect();
        UsageReport {
            class: ClassName::parse("net101").unwrap(),
            zone: ClassTimeZone::parse("Europe/Berlin").unwrap(),
            from,
            to: from + SignedDuration::from_hours(24 * 45),
            history_from: Some(from),
            students,
            vm_hours: 740.0,
            wh_per_vm_hour: 30,
            energy_wh: 22_200.0,
            running,
            step: RunningStep::Day,
        }
    }

    #[test]
    fn a_large_class_over_weeks_gets_a_taller_chart_that_decodes() {
        let report = big_report();
        let png = png(&report).unwrap();
        if let Some(path) = std::env::var_os("PVELAB_REPORT_PNG_LARGE") {
            std::fs::write(path, &png).unwrap();
        }
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&png));
        let info = decoder.read_info().unwrap();
        assert_eq!(info.info().width, WIDTH);
        assert_eq!(info.info().height, height(30));
        assert!(height(30) > height(2));
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(shorten("short", 22), "short");
        let cut = shorten("student-with-a-long-name-01", 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }
}
