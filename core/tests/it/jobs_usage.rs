//! Usage from inventory ticks: only time seen running is charged, never twice across a restart;
//! quota warnings at 80 % and 100 % exactly once, and the VM shut down at 100 %.

use pvelab_core::events::{LabEvent, ShutdownReason};
use pvelab_core::jobs::JobKind;
use pvelab_core::Lab;

use crate::jobs_support::{jobs_world, lab_config, minutes, JobsWorld, Options};
use crate::support::ActorId;

async fn usage_of(
    world: &JobsWorld,
    class: &pvelab_core::model::Class,
    vmid: pvelab_core::types::VmId,
) -> f64 {
    world
        .lab()
        .pool(&world.w.teacher, class.id)
        .await
        .unwrap()
        .into_iter()
        .find(|vm| vm.vmid == vmid)
        .unwrap()
        .usage_hours
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test]
async fn quota_warnings_come_once_at_80_and_100_percent_and_the_vm_is_shut_down_at_100() {
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "10m").await;
    let class = world.class_at_100("net101").await;
    let class = world.quota(&class, 1).await;
    let (student, vm) = world.student_on(&class, 2, "sam").await;

    world.sync(JobKind::Inventory).await; // the first sighting charges nothing
    for tick in 1..=4 {
        world.advance(minutes(10));
        world.sync(JobKind::Inventory).await;
        assert!(close(
            usage_of(&world, &class, vm).await,
            f64::from(tick) / 6.0
        ));
    }
    assert!(world.events().await.is_empty(), "below 80 %");

    world.advance(minutes(10)); // 50 minutes: 83 %
    world.sync(JobKind::Inventory).await;
    let events = world.events().await;
    assert!(
        matches!(events.as_slice(), [LabEvent::QuotaWarning { user_id, percent: 83, limit: 1, .. }] if *user_id == student.uid()),
        "{events:?}"
    );
    assert!(world.guest_running(vm).await);

    world.advance(minutes(10)); // 60 minutes: the quota is used up
    let report = world.sync(JobKind::Inventory).await;
    assert_eq!(
        report
            .stats(JobKind::Inventory, &world.cluster)
            .unwrap()
            .shutdowns,
        vec![vm]
    );
    assert!(!world.guest_running(vm).await, "shut down at 100 %");
    let events = world.events().await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        matches!(&events[1], LabEvent::QuotaExhausted { user_id, limit: 1, .. } if *user_id == student.uid())
    );
    assert!(matches!(
        &events[2],
        LabEvent::VmShutDown { user_id: Some(u), vmid, reason: ShutdownReason::QuotaExhausted { limit: 1 }, .. }
            if *u == student.uid() && *vmid == vm
    ));

    // Started again behind pvelab's back: shut down again, but the quota is not announced twice.
    world.sim.start_guest(vm.get()).unwrap();
    world.advance(minutes(10));
    world.sync(JobKind::Inventory).await;
    assert!(!world.guest_running(vm).await);
    let events = world.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(
                e,
                LabEvent::QuotaWarning { .. } | LabEvent::QuotaExhausted { .. }
            ))
            .count(),
        2,
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, LabEvent::VmShutDown { .. }))
            .count(),
        2
    );
}

#[tokio::test]
async fn only_time_seen_running_is_charged_and_never_twice_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        db_dir: Some(dir.path().to_owned()),
        ..Options::default()
    };
    let neighbours_and_probe = Options {
        db_dir: Some(dir.path().to_owned()),
        ..Options::default()
    };
    let world = jobs_world(options).await;
    world.set("sync.inventory_interval", "10m").await;
    let class = world.class_at_100("net101").await;
    let (_student, vm) = world.student_on(&class, 2, "sam").await;

    world.sync(JobKind::Inventory).await;
    world.advance(minutes(10));
    world.sync(JobKind::Inventory).await;
    assert!(close(usage_of(&world, &class, vm).await, 10.0 / 60.0));

    // The process restarts: a new lab on the same file continues where the last tick was.
    let reopened = Lab::open(lab_config(
        &neighbours_and_probe,
        &world.w.clock,
        &world.key,
    ))
    .await
    .unwrap();
    let sync_reopened = || async {
        let report = reopened
            .sync_now(
                &world.w.admin,
                pvelab_core::jobs::SyncWhat::Job(JobKind::Inventory),
                None,
            )
            .await
            .unwrap();
        assert!(report.all_ok(), "{report:?}");
    };
    sync_reopened().await;
    assert!(
        close(usage_of(&world, &class, vm).await, 10.0 / 60.0),
        "nothing twice"
    );
    world.advance(minutes(10));
    sync_reopened().await;
    assert!(close(usage_of(&world, &class, vm).await, 20.0 / 60.0));

    // Stopped for half an hour: not charged; started again: the first tick charges nothing.
    world.sim.stop_guest(vm.get()).unwrap();
    world.advance(minutes(10));
    sync_reopened().await;
    world.advance(minutes(20));
    world.sim.start_guest(vm.get()).unwrap();
    sync_reopened().await;
    assert!(close(usage_of(&world, &class, vm).await, 20.0 / 60.0));
    world.advance(minutes(10));
    sync_reopened().await;
    assert!(close(usage_of(&world, &class, vm).await, 30.0 / 60.0));

    // A night without ticks is capped by the interval (plus its jitter).
    world.advance(minutes(8 * 60));
    sync_reopened().await;
    let used = usage_of(&world, &class, vm).await;
    assert!(used > 40.0 / 60.0 && used < 42.0 / 60.0, "{used}");
}

#[tokio::test]
async fn a_vm_nobody_holds_is_not_charged() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let vm = world.register(&class, 2).await;
    world.sync(JobKind::Inventory).await;
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;
    assert_eq!(usage_of(&world, &class, vm).await, 0.0);
}
