//! Restricted hours and idle shutdown from inventory ticks: a warning ahead of the end of a
//! class's hours and a shutdown past midnight in the class's own time zone; an idle VM warned,
//! kept running on request, warned again and shut down; a busy VM left alone.

use pvelab_core::events::{LabEvent, ShutdownReason};
use pvelab_core::jobs::JobKind;
use pvelab_core::model::{AutoShutdown, ClassSettings, ClusterJobChange};
use pvelab_core::types::{ClassTimeZone, HoursWindow, IdleMinutes, IdleThreshold};
use pvelab_pve_sim::CpuLoad;

use crate::jobs_support::{jobs_world, minutes, Options};
use crate::support::ActorId;

fn warnings(events: &[LabEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, LabEvent::ShutdownWarning { .. }))
        .count()
}

#[tokio::test]
async fn a_vm_is_warned_before_its_class_hours_end_and_shut_down_past_midnight_in_the_class_zone() {
    let options = Options {
        // 23:30 in New York (EST, UTC-5) on a January evening.
        start: "2027-01-15T04:30:00Z".parse().unwrap(),
        ..Options::default()
    };
    let world = jobs_world(options).await;
    world.set("sync.inventory_interval", "5m").await;
    let class = world.class_at_100("night").await;
    let window = HoursWindow::new(18, 0).unwrap();
    let new_york = ClassTimeZone::parse("America/New_York").unwrap();
    let class = world
        .settings(
            &class,
            ClassSettings {
                hours: Some(Some(window)),
                time_zone: Some(Some(new_york.clone())),
                ..ClassSettings::default()
            },
        )
        .await;
    let (student, vm) = world.student_on(&class, 2, "sam").await;

    world.sync(JobKind::Inventory).await; // 23:30: half an hour left, more than the 10 min lead
    assert!(world.events().await.is_empty());

    world.advance(minutes(22)); // 23:52
    world.sync(JobKind::Inventory).await;
    let events = world.events().await;
    let expected = ShutdownReason::OutsideHours {
        window,
        zone: "America/New_York".into(),
    };
    assert!(
        matches!(
            events.as_slice(),
            [LabEvent::ShutdownWarning { user_id: Some(u), vmid, reason, in_minutes: 8, .. }]
                if *u == student.uid() && *vmid == vm && *reason == expected
        ),
        "{events:?}"
    );

    world.advance(minutes(5)); // 23:57: warned once already
    world.sync(JobKind::Inventory).await;
    assert_eq!(world.events().await.len(), 1);
    assert!(world.guest_running(vm).await);

    world.advance(minutes(5)); // 00:02, the next day in New York: outside the window
    let report = world.sync(JobKind::Inventory).await;
    assert_eq!(
        report
            .stats(JobKind::Inventory, &world.cluster)
            .unwrap()
            .shutdowns,
        vec![vm]
    );
    assert!(!world.guest_running(vm).await);
    let events = world.events().await;
    assert!(
        matches!(
            events.last(),
            Some(LabEvent::VmShutDown { user_id: Some(u), vmid, reason, .. })
                if *u == student.uid() && *vmid == vm && *reason == expected
        ),
        "{events:?}"
    );
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn an_idle_vm_is_warned_kept_running_on_request_then_shut_down_while_a_busy_one_runs_on() {
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "1m").await;
    world.set("shutdown.idle_grace", "2m").await;
    let class = world.class_at_100("net101").await;
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
    let (student, idle) = world.student_on(&class, 2, "sam").await;
    let (_busy_student, busy) = world.student_on(&class, 4, "bea").await;
    world.sim.set_cpu_load(idle.get(), CpuLoad::Idle).unwrap();
    world.sim.set_cpu_load(busy.get(), CpuLoad::Busy).unwrap();

    // Samples below 10 % every minute: a five-minute span is covered at the fifth tick (from
    // the span's start to the first sample is one sampling gap, which is not unknown time).
    world.sync(JobKind::Inventory).await;
    for _ in 0..3 {
        world.advance(minutes(1));
        world.sync(JobKind::Inventory).await;
    }
    assert_eq!(warnings(&world.events().await), 0);
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;
    let events = world.events().await;
    assert!(
        matches!(
            events.as_slice(),
            [LabEvent::ShutdownWarning {
                user_id: Some(u),
                vmid,
                reason: ShutdownReason::Idle { threshold: 10, minutes: 5 },
                in_minutes: 2,
                ..
            }] if *u == student.uid() && *vmid == idle
        ),
        "{events:?}"
    );
    let state = world
        .lab()
        .vm_state(&student, &world.vm(idle))
        .await
        .unwrap();
    assert!(state.idle_warned_at.is_some());

    // The student keeps it running: idleness must be seen for a whole new span.
    let kept = world
        .lab()
        .keep_running(&student, &world.vm(idle))
        .await
        .unwrap();
    assert_eq!(kept.idle_again_at, world.w.clock.now() + minutes(5));
    for _ in 0..4 {
        world.advance(minutes(1));
        world.sync(JobKind::Inventory).await;
    }
    assert_eq!(
        warnings(&world.events().await),
        1,
        "no warning within the new span"
    );
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;
    assert_eq!(
        warnings(&world.events().await),
        2,
        "idle for another whole span"
    );

    // Nobody answers: after the grace time it is shut down, the busy VM is left alone.
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;
    assert!(world.guest_running(idle).await);
    world.advance(minutes(1));
    let report = world.sync(JobKind::Inventory).await;
    assert_eq!(
        report
            .stats(JobKind::Inventory, &world.cluster)
            .unwrap()
            .shutdowns,
        vec![idle]
    );
    assert!(!world.guest_running(idle).await);
    assert!(world.guest_running(busy).await);
    let events = world.events().await;
    assert!(
        matches!(
            events.last(),
            Some(LabEvent::VmShutDown { vmid, reason: ShutdownReason::Idle { .. }, .. }) if *vmid == idle
        ),
        "{events:?}"
    );
    assert!(events.iter().all(|e| !matches!(
        e,
        LabEvent::ShutdownWarning { vmid, .. } | LabEvent::VmShutDown { vmid, .. } if *vmid == busy
    )));

    // Another student may not keep someone else's VM running.
    let other = world.w.student("eve").await;
    assert!(world
        .lab()
        .keep_running(&other, &world.vm(busy))
        .await
        .is_err());
}

#[tokio::test]
async fn a_cluster_that_forbids_automatic_shutdown_keeps_idle_vms_running() {
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "1m").await;
    world
        .lab()
        .change_cluster_job_settings(
            &world.w.admin,
            &world.cluster,
            ClusterJobChange {
                auto_shutdown_enabled: Some(false),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    let class = world.class_at_100("net101").await;
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
    let (_student, vm) = world.student_on(&class, 2, "sam").await;
    for _ in 0..10 {
        world.sync(JobKind::Inventory).await;
        world.advance(minutes(1));
    }
    assert!(world.events().await.is_empty());
    assert!(world.guest_running(vm).await);
}
