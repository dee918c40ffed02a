//! Usage reports from a known history: inventory ticks on the simulator with the manual clock
//! charge two students (one idle VM shut down, one busy VM running on across an hour), and the
//! report gives each their hours, idle shutdowns and quota left, the class its VM-hours and
//! energy, the running VMs per hour; periods cut the history; the CSV and the PNG say the same;
//! the retention setting bounds the history.

use jiff::civil::Date;
use pvelab_core::jobs::JobKind;
use pvelab_core::model::{
    AutoShutdown, Class, ClassSettings, ReportPeriod, RunningStep, UsageReport,
};
use pvelab_core::types::{IdleMinutes, IdleThreshold};
use pvelab_core::Error;
use pvelab_pve_sim::CpuLoad;

use crate::jobs_support::{jobs_world, minutes, JobsWorld, Options};
use crate::support::ActorId;

fn day(text: &str) -> Option<Date> {
    Some(text.parse().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// The world at 08:30 UTC: sam's idle VM ran 07:00-07:06 and was shut down for idleness;
/// bea's busy VM ran 07:00-08:30. The class's quota is 10 hours, energy 50 Wh per VM-hour.
async fn known_history() -> (JobsWorld, Class) {
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "1m").await;
    world.set("shutdown.idle_grace", "2m").await;
    world.set("reports.energy_wh_per_vm_hour", "50").await;
    let class = world.class_at_100("net101").await;
    let class = world.quota(&class, 10).await;
    let class = world
        .settings(
            &class,
            ClassSettings {
                auto_shutdown: Some(AutoShutdown {
                    enabled: true,
                    threshold: IdleThreshold::new(10).unwrap(),
                    idle_minutes: IdleMinutes::new(5).unwrap(),
                }),
                ..ClassSettings::default()
            },
        )
        .await;
    let (_sam, idle) = world.student_on(&class, 2, "sam").await;
    let (_bea, busy) = world.student_on(&class, 4, "bea").await;
    world.sim.set_cpu_load(idle.get(), CpuLoad::Idle).unwrap();
    world.sim.set_cpu_load(busy.get(), CpuLoad::Busy).unwrap();
    world.sync(JobKind::Inventory).await; // 07:00: first sighting, nothing charged
    for _ in 0..6 {
        world.advance(minutes(1));
        world.sync(JobKind::Inventory).await;
    }
    assert!(
        !world.guest_running(idle).await,
        "shut down for idleness at 07:06"
    );
    world.set("sync.inventory_interval", "10m").await;
    world.advance(minutes(4));
    world.sync(JobKind::Inventory).await; // 07:10
    for _ in 0..8 {
        world.advance(minutes(10));
        world.sync(JobKind::Inventory).await;
    }
    assert_eq!(world.w.clock.now(), "2027-01-15T08:30:00Z".parse().unwrap());
    (world, class)
}

async fn report(world: &JobsWorld, class: &Class, period: ReportPeriod) -> UsageReport {
    world
        .lab()
        .usage_report(&world.w.teacher, class.id, period)
        .await
        .expect("report")
}

fn line<'r>(report: &'r UsageReport, name: &str) -> &'r pvelab_core::model::StudentUsageLine {
    report
        .students
        .iter()
        .find(|l| l.student.shown_name() == name)
        .unwrap_or_else(|| panic!("no line for {name}: {report:?}"))
}

#[tokio::test]
async fn a_report_gives_hours_idle_shutdowns_quota_left_vm_hours_energy_and_running_vms() {
    let (world, class) = known_history().await;
    let report = report(&world, &class, ReportPeriod::all()).await;
    let (sam, bea) = (line(&report, "sam"), line(&report, "bea"));
    assert!(close(sam.hours_used, 0.1), "{sam:?}");
    assert!(close(bea.hours_used, 1.5), "{bea:?}");
    assert_eq!((sam.idle_shutdowns, sam.automatic_shutdowns), (1, 1));
    assert_eq!((bea.idle_shutdowns, bea.automatic_shutdowns), (0, 0));
    assert!(close(sam.quota_left.unwrap(), 9.9));
    assert!(close(bea.quota_left.unwrap(), 8.5));
    assert_eq!(sam.hours_in_sessions, 0.0);
    assert!(close(report.vm_hours, 1.6));
    assert_eq!(report.wh_per_vm_hour, 50);
    assert!(close(report.energy_wh, 80.0));
    // Default period: from the oldest history (07:00) to now (08:30), hour by hour.
    assert_eq!(report.from, "2027-01-15T07:00:00Z".parse().unwrap());
    assert_eq!(report.to, world.w.clock.now());
    assert_eq!(report.step, RunningStep::Hour);
    let running: Vec<f64> = report.running.iter().map(|p| p.vms).collect();
    assert_eq!(running.len(), 2);
    // 08:00-08:30 is half an hour of the period, in which bea's VM ran throughout.
    assert!(
        close(running[0], 1.1) && close(running[1], 1.0),
        "{running:?}"
    );

    // A teacher's reset zeroes the quota count, not the history of when hours were used.
    world
        .lab()
        .reset_usage(&world.w.teacher, class.id, None)
        .await
        .unwrap();
    let after = crate::reports::report(&world, &class, ReportPeriod::all()).await;
    assert!(close(line(&after, "sam").hours_used, 0.1));
    assert!(close(line(&after, "sam").quota_left.unwrap(), 10.0));
}

#[tokio::test]
async fn periods_cut_the_history_and_bad_periods_are_refused_naming_the_day() {
    let (world, class) = known_history().await;
    let that_day = ReportPeriod {
        from: day("2027-01-15"),
        to: day("2027-01-15"),
    };
    assert!(close(report(&world, &class, that_day).await.vm_hours, 1.6));
    let day_before = ReportPeriod {
        from: day("2027-01-14"),
        to: day("2027-01-14"),
    };
    let empty = report(&world, &class, day_before).await;
    assert_eq!(empty.vm_hours, 0.0);
    assert!(empty
        .students
        .iter()
        .all(|l| l.hours_used == 0.0 && l.idle_shutdowns == 0));
    assert_eq!(empty.running.len(), 24);

    let backwards = ReportPeriod {
        from: day("2027-01-15"),
        to: day("2027-01-14"),
    };
    let refused = world
        .lab()
        .usage_report(&world.w.teacher, class.id, backwards)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::InvalidValue(e) if e.value() == "2027-01-15"),
        "{refused:?}"
    );
    let student = world.w.student("sam").await;
    let denied = world
        .lab()
        .usage_report(&student, class.id, ReportPeriod::all())
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::NotPermitted { .. }), "{denied:?}");
    let _ = student.uid();
}

#[tokio::test]
async fn the_csv_has_a_row_per_student_and_the_class_totals() {
    let (world, class) = known_history().await;
    let report = report(&world, &class, ReportPeriod::all()).await;
    let csv = report.to_csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "student,user_id,hours_used,hours_in_sessions,idle_shutdowns,automatic_shutdowns,\
         quota_left_hours,energy_wh"
    );
    let bea = line(&report, "bea").student.id;
    let sam = line(&report, "sam").student.id;
    assert_eq!(lines[1], format!("bea,{bea},1.50,0.00,0,0,8.50,75"));
    assert_eq!(lines[2], format!("sam,{sam},0.10,0.00,1,1,9.90,5"));
    assert_eq!(lines[3], "(class),,1.60,0.00,1,1,,80");
    assert_eq!(lines.len(), 4);
}

#[tokio::test]
async fn the_png_chart_decodes_at_its_size_and_shows_bars_and_a_line() {
    let (world, class) = known_history().await;
    let report = report(&world, &class, ReportPeriod::all()).await;
    let png = report.chart_png().unwrap();
    if let Some(path) = std::env::var_os("PVELAB_REPORT_PNG") {
        std::fs::write(path, &png).unwrap();
    }
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.width, 1000);
    assert!(frame.height > 400, "{}", frame.height);
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let rgb: Vec<&[u8]> = pixels[..frame.buffer_size()].chunks(3).collect();
    let count = |want: fn(&[u8]) -> bool| rgb.iter().filter(|p| want(p)).count();
    let not_white = count(|p| p != [255, 255, 255]);
    let bar_blue = count(|p| p == [52, 101, 164]);
    let line_red = count(|p| p == [204, 0, 0]);
    assert!(not_white > 5_000, "text, axes and marks: {not_white}");
    assert!(bar_blue > 2_000, "two bars: {bar_blue}");
    assert!(line_red > 200, "a line: {line_red}");
}

#[tokio::test]
async fn history_older_than_the_retention_is_deleted_as_new_hours_arrive() {
    let (world, class) = known_history().await;
    world.set("reports.history_retention", "1d").await;
    // bea's VM runs on: two days later, a charge that reaches a new hour prunes everything
    // older than a day (a long gap between ticks is charged only up to the interval).
    world.advance(jiff::SignedDuration::from_hours(48));
    world.sync(JobKind::Inventory).await; // 08:30, two days on
    for _ in 0..4 {
        world.advance(minutes(10));
        world.sync(JobKind::Inventory).await; // up to 09:10: the 09:00 hour begins
    }
    let report = report(&world, &class, ReportPeriod::all()).await;
    let first_day = "2027-01-16T00:00:00Z".parse().unwrap();
    assert!(report.history_from.unwrap() > first_day, "{report:?}");
    let that_day = ReportPeriod {
        from: day("2027-01-15"),
        to: day("2027-01-15"),
    };
    let old = crate::reports::report(&world, &class, that_day).await;
    assert_eq!(old.vm_hours, 0.0);
    assert!(old.students.iter().all(|l| l.idle_shutdowns == 0));
    assert!(
        report.vm_hours > 40.0 / 60.0 && report.vm_hours < 1.0,
        "the capped gap and four ticks: {}",
        report.vm_hours
    );
}
