//! Lab sessions against the simulator with the manual clock: VMs warm-started before a session,
//! session time kept out of the quota (and out of the hours rule), a warning then a shutdown
//! after it; a weekly session across a DST change in the class's zone; a one-off session; the
//! session commands' refusals.

use pvelab_core::events::{LabEvent, ShutdownReason};
use pvelab_core::jobs::JobKind;
use pvelab_core::model::{
    AuditQuery, ClassSettings, ReportPeriod, SessionDay, SessionPlan, SessionTime, StartDecision,
};
use pvelab_core::types::{ClassTimeZone, HoursWindow};
use pvelab_core::{Entity, Error};

use crate::jobs_support::{jobs_world, minutes, JobsWorld, Options};
use crate::support::ActorId;

fn plan(day: &str, start: &str, end: &str) -> SessionPlan {
    let day = SessionDay::parse_weekday(day)
        .or_else(|_| SessionDay::parse_date(day))
        .unwrap();
    SessionPlan::new(
        day,
        SessionTime::parse("start", start).unwrap(),
        SessionTime::parse("end", end).unwrap(),
    )
    .unwrap()
}

/// A lab on Monday 2027-03-22 07:00 UTC (08:00 in Berlin, CET; summer time starts on the
/// 28th) with class `ops` in Europe/Berlin.
async fn berlin_week_before_summer_time() -> (JobsWorld, pvelab_core::model::Class) {
    let options = Options {
        start: "2027-03-22T07:00:00Z".parse().unwrap(),
        ..Options::default()
    };
    let world = jobs_world(options).await;
    let class = world.class_at_100("ops").await;
    let class = world
        .settings(
            &class,
            ClassSettings {
                time_zone: Some(Some(ClassTimeZone::parse("Europe/Berlin").unwrap())),
                ..ClassSettings::default()
            },
        )
        .await;
    (world, class)
}

async fn usage(
    world: &JobsWorld,
    class: &pvelab_core::model::Class,
    vm: pvelab_core::types::VmId,
) -> f64 {
    world
        .lab()
        .pool(&world.w.teacher, class.id)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.vmid == vm)
        .unwrap()
        .usage_hours
}

#[tokio::test]
async fn a_session_warm_starts_vms_keeps_its_time_out_of_the_quota_and_warns_then_shuts_down() {
    // Friday 2027-01-15, 07:00 UTC; the class allows VMs only 12-18 UTC and one hour of quota.
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "5m").await;
    world.set("sessions.lead", "10m").await;
    world.set("shutdown.hours_warning_lead", "5m").await;
    let class = world.class_at_100("net101").await;
    let class = world.quota(&class, 1).await;
    let class = world
        .settings(
            &class,
            ClassSettings {
                hours: Some(Some(HoursWindow::new(12, 18).unwrap())),
                ..ClassSettings::default()
            },
        )
        .await;
    let (student, vm) = world.student_on(&class, 2, "sam").await;
    world.sim.stop_guest(vm.get()).unwrap();
    world.sync(JobKind::Inventory).await;
    assert!(!world.guest_running(vm).await);

    let session = world
        .lab()
        .add_session(
            &world.w.teacher,
            class.id,
            plan("2027-01-15", "08:00", "09:00"),
        )
        .await
        .expect("add a one-off session");
    let next = world
        .lab()
        .next_session(&student, class.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.describe(), "Fri 2027-01-15 08:00-09:00 UTC");

    world.advance(minutes(49)); // 07:49: not yet within the lead time
    let report = world.lab().run_sessions().await.unwrap();
    assert!(
        report.opened.is_empty() && report.started.is_empty(),
        "{report:?}"
    );

    world.advance(minutes(1)); // 07:50: ten minutes before, outside the class's hours
    let report = world.lab().run_sessions().await.unwrap();
    assert_eq!(report.opened, vec![(class.id, session.id)]);
    assert_eq!(report.started, vec![vm]);
    assert!(world.guest_running(vm).await, "warm before the session");
    let again = world.lab().run_sessions().await.unwrap();
    assert!(
        again.opened.is_empty() && again.started.is_empty(),
        "once per occurrence"
    );
    let events = world.events().await;
    assert!(events
        .iter()
        .any(|e| matches!(e, LabEvent::SessionOpening { session: s, .. } if *s == session.id)));
    assert!(events.iter().any(|e| matches!(e, LabEvent::VmStartedForSession { user_id: Some(u), vmid, .. } if *u == student.uid() && *vmid == vm)));

    // Outside the class's hours, yet the student may start their VM during the session.
    let during = world
        .lab()
        .may_start(&student, class.id, &world.vm(vm))
        .await
        .unwrap();
    assert!(matches!(during, StartDecision::Allowed), "{during:?}");

    // Seventy minutes of running inside the session (lead included): no quota, no hours rule.
    world.sync(JobKind::Inventory).await;
    for _ in 0..13 {
        world.advance(minutes(5));
        world.sync(JobKind::Inventory).await;
        world.lab().run_sessions().await.unwrap();
    }
    // 08:55: the warning came, the VM still runs, nothing was charged.
    assert!(
        world.guest_running(vm).await,
        "the hours rule waits for the session"
    );
    assert_eq!(usage(&world, &class, vm).await, 0.0);
    let hours = world
        .lab()
        .session_hours(&world.w.teacher, class.id)
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert!((hours[0].1 - 65.0 / 60.0).abs() < 1e-6, "{hours:?}");
    // The usage report shows the same time in sessions, none of it used against the quota,
    // and counts it in the class's VM-hours.
    let report = world
        .lab()
        .usage_report(&world.w.teacher, class.id, ReportPeriod::all())
        .await
        .unwrap();
    let line = &report.students[0];
    assert!(
        (line.hours_in_sessions - 65.0 / 60.0).abs() < 1e-6,
        "{line:?}"
    );
    assert_eq!(line.hours_used, 0.0, "{line:?}");
    assert!(
        (report.vm_hours - 65.0 / 60.0).abs() < 1e-6,
        "{}",
        report.vm_hours
    );
    let events = world.events().await;
    assert!(
        events.iter().any(|e| matches!(e,
            LabEvent::ShutdownWarning { vmid, reason: ShutdownReason::SessionEnded { session: s }, in_minutes: 5, .. }
                if *vmid == vm && *s == session.id)),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| matches!(
        e,
        LabEvent::QuotaExhausted { .. } | LabEvent::QuotaWarning { .. }
    )));

    world.advance(minutes(5)); // 09:00: the session is over
    let report = world.lab().run_sessions().await.unwrap();
    assert_eq!(report.shutdowns, vec![vm]);
    world.sync(JobKind::Inventory).await;
    assert!(
        !world.guest_running(vm).await,
        "shut down after the session"
    );
    let events = world.events().await;
    assert!(
        matches!(events.last(), Some(LabEvent::VmShutDown { vmid, reason: ShutdownReason::SessionEnded { .. }, .. }) if *vmid == vm),
        "{events:?}"
    );
    assert!(world
        .lab()
        .next_session(&student, class.id)
        .await
        .unwrap()
        .is_none());
    let after = world
        .lab()
        .may_start(&student, class.id, &world.vm(vm))
        .await
        .unwrap();
    assert!(matches!(after, StartDecision::Refused(_)), "{after:?}");

    // Outside a session the hours rule applies again: started by hand at 09:00, shut down.
    world.sim.start_guest(vm.get()).unwrap();
    world.sync(JobKind::Inventory).await;
    assert!(!world.guest_running(vm).await, "outside the class's hours");
    let events = world.events().await;
    assert!(
        matches!(
            events.last(),
            Some(LabEvent::VmShutDown {
                reason: ShutdownReason::OutsideHours { .. },
                ..
            })
        ),
        "{events:?}"
    );
    // And running time counts against the quota again.
    world
        .settings(
            &class,
            ClassSettings {
                hours: Some(None),
                ..ClassSettings::default()
            },
        )
        .await;
    world.sim.start_guest(vm.get()).unwrap();
    world.sync(JobKind::Inventory).await;
    world.advance(minutes(5));
    world.sync(JobKind::Inventory).await;
    assert!((usage(&world, &class, vm).await - 5.0 / 60.0).abs() < 1e-6);

    // The system's doings are in the audit trail.
    let trail = world
        .lab()
        .audit(
            &world.w.admin,
            AuditQuery {
                class: Some(class.id),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    for action in ["vm_started_for_session", "vm_shut_down", "manage_sessions"] {
        assert!(
            trail.iter().any(|e| e.action == action),
            "{action}: {trail:?}"
        );
    }
    let started = trail
        .iter()
        .find(|e| e.action == "vm_started_for_session")
        .unwrap();
    assert_eq!(started.actor, None, "the system started it");
    assert_eq!(started.subject, Some(student.uid()));
}

#[tokio::test]
async fn a_weekly_session_opens_at_the_same_local_time_across_a_dst_change() {
    // Monday 2027-03-22 07:00 UTC = 08:00 in Berlin (CET); summer time starts on the 28th.
    let (world, class) = berlin_week_before_summer_time().await;
    world.set("sessions.lead", "10m").await;
    let (_student, vm) = world.student_on(&class, 1, "sam").await;
    world.sim.stop_guest(vm.get()).unwrap();
    world.sync(JobKind::Inventory).await;
    world
        .lab()
        .add_session(&world.w.teacher, class.id, plan("monday", "09:00", "10:00"))
        .await
        .unwrap();

    world.advance(minutes(49)); // 08:49 CET
    assert!(world.lab().run_sessions().await.unwrap().started.is_empty());
    world.advance(minutes(1)); // 08:50 CET = 07:50 UTC
    let report = world.lab().run_sessions().await.unwrap();
    assert_eq!(report.started, vec![vm], "{report:?}");
    world.sync(JobKind::Inventory).await; // the inventory sees it running
    world.advance(minutes(70)); // 10:00 CET: over
    assert_eq!(
        world.lab().run_sessions().await.unwrap().shutdowns,
        vec![vm]
    );
    world.sync(JobKind::Inventory).await;
    assert!(!world.guest_running(vm).await);

    let next = world
        .lab()
        .next_session(&world.w.teacher, class.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.span.starts_at.to_string(), "2027-03-29T07:00:00Z");
    assert_eq!(next.describe(), "Mon 2027-03-29 09:00-10:00 Europe/Berlin");

    // A week later, 08:50 CEST is 06:50 UTC: one hour earlier in UTC.
    world.advance(jiff::SignedDuration::from_hours(7 * 24 - 2) - minutes(10)); // 06:50 UTC on the 29th
    let report = world.lab().run_sessions().await.unwrap();
    assert_eq!(report.started, vec![vm], "{report:?}");
    assert!(world.guest_running(vm).await);
}

#[tokio::test]
async fn session_commands_refuse_overlaps_past_dates_unknown_sessions_and_students() {
    let world = jobs_world(Options::default()).await; // Friday 2027-01-15 07:00 UTC
    let class = world.class_at_100("net101").await;
    let (student, _vm) = world.student_on(&class, 1, "sam").await;
    let lab = world.lab();
    let monday = lab
        .add_session(&world.w.teacher, class.id, plan("monday", "09:00", "11:00"))
        .await
        .unwrap();

    let overlap = lab
        .add_session(
            &world.w.teacher,
            class.id,
            plan("2027-01-18", "10:00", "12:00"),
        )
        .await
        .unwrap_err();
    let text = overlap.to_string();
    assert!(
        text.contains(&format!("overlaps session {}", monday.id))
            && text.contains("every monday 09:00-11:00"),
        "{text}"
    );
    // Touching is fine.
    lab.add_session(&world.w.teacher, class.id, plan("monday", "11:00", "12:00"))
        .await
        .expect("a session that starts when another ends");

    let past = lab
        .add_session(
            &world.w.teacher,
            class.id,
            plan("2027-01-14", "09:00", "10:00"),
        )
        .await
        .unwrap_err();
    assert!(past.to_string().contains("has not ended yet"), "{past}");

    let refused = lab
        .add_session(&student, class.id, plan("tuesday", "09:00", "10:00"))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");

    let listed = lab.sessions(&student, class.id).await.unwrap();
    assert_eq!(listed.len(), 2, "students see the sessions");

    let unknown = lab
        .remove_session(
            &world.w.teacher,
            class.id,
            pvelab_core::model::SessionId::new(999),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            unknown,
            Error::NotFound {
                entity: Entity::Session,
                ..
            }
        ),
        "{unknown:?}"
    );
    lab.remove_session(&world.w.teacher, class.id, monday.id)
        .await
        .unwrap();
    let next = lab.next_session(&student, class.id).await.unwrap().unwrap();
    assert_eq!(next.describe(), "Mon 2027-01-18 11:00-12:00 UTC");
}

#[tokio::test]
async fn a_one_off_session_at_a_time_the_clocks_skip_is_refused_naming_it() {
    let (world, class) = berlin_week_before_summer_time().await;
    // On 2027-03-28 Berlin's clocks go from 02:00 straight to 03:00.
    let refused = world
        .lab()
        .add_session(
            &world.w.teacher,
            class.id,
            plan("2027-03-28", "02:30", "04:00"),
        )
        .await
        .unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, Error::InvalidValue(_)), "{refused:?}");
    assert!(
        text.contains("the clocks skip 02:30") && text.contains("Europe/Berlin"),
        "{text}"
    );
    // An hour later exists; and a weekly Sunday session at 02:30 is kept (most Sundays have
    // that time; on this one it follows the documented rule).
    for ok in [
        plan("2027-03-28", "03:30", "04:00"),
        plan("sunday", "02:30", "03:00"),
    ] {
        world
            .lab()
            .add_session(&world.w.teacher, class.id, ok)
            .await
            .unwrap();
    }
}
