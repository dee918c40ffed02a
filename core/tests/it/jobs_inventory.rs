//! The inventory job against the simulator: one API call per cluster and tick whatever the
//! number of guests, every field filled, vanished guests removed, a failing cluster recorded
//! apart from the others, and pool VM state read from the database.

use pvelab_core::error::ClusterProblem;
use pvelab_core::jobs::{JobKind, RunOutcome, SyncWhat};
use pvelab_core::model::{GuestCategory, GuestKind, GuestState};
use pvelab_core::types::VmId;
use pvelab_core::Error;
use pvelab_pve_sim::{OutageMode, Sim, SimConfig};

use crate::jobs_support::{jobs_world, minutes, sim_cluster, Options};

fn vmid(n: i64) -> VmId {
    VmId::new(n).unwrap()
}

#[tokio::test]
async fn ten_thousand_guests_on_ten_nodes_take_one_call_per_tick_and_fill_every_field() {
    let mut options = Options::default();
    options.sim.vms = 10_000;
    options.sim.nodes = 10;
    let world = jobs_world(options).await;
    let guests = world.sim.guest_count();

    let report = world.sync(JobKind::Inventory).await;

    // The tick is one call; `sync_now`, which a person waits for, first checks with one more
    // that the cluster answers at all. Neither grows with the number of guests.
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 1);
    assert_eq!(world.sim.count("GET", "/nodes"), 1, "sync_now's probe");
    assert_eq!(world.sim.total_requests(), 2, "{:?}", world.sim.counters());
    let stats = report.stats(JobKind::Inventory, &world.cluster).unwrap();
    assert_eq!(stats.written, guests);
    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    assert_eq!(rows.len(), guests);
    let running = rows.iter().find(|r| r.vmid == vmid(100)).unwrap();
    assert_eq!(running.state, GuestState::Running);
    assert_eq!(running.kind, GuestKind::Qemu);
    assert_eq!(running.category, GuestCategory::Other);
    assert_eq!(running.name.as_deref(), Some("lab-vm-100"));
    assert_eq!(running.node.as_deref(), Some("pve1"));
    assert_eq!(running.cores, Some(2));
    assert_eq!(running.memory, Some(2048 << 20));
    assert_eq!(running.disk_size, Some(32 << 30));
    assert!(running.uptime.unwrap() >= 3 * 3600);
    assert!(running.cpu_usage.unwrap() > 0.0);
    assert!(running.memory_usage.unwrap() > 0.0);
    assert_eq!(running.tags.as_deref(), Some("lab;sim"));
    assert!(!running.is_template);
    assert!(running.last_updated.is_some() && running.last_status_check.is_some());
    assert_eq!(running.sync_error, None);
    let stopped = rows.iter().find(|r| r.vmid == vmid(101)).unwrap();
    assert_eq!(stopped.state, GuestState::Stopped);
    assert_eq!((stopped.uptime, stopped.cpu_usage), (None, None));
    let template = rows.iter().find(|r| r.vmid == vmid(9000)).unwrap();
    assert!(template.is_template);
    assert_eq!(template.category, GuestCategory::Template);
    assert!(rows.iter().any(|r| r.kind == GuestKind::Lxc));
    assert!(rows.iter().any(|r| r.node.as_deref() == Some("pve10")));

    // A guest deleted behind our back leaves the inventory at the next tick, again one call.
    // A minute later only the running guests' figures (uptime) changed: only they are written.
    world.sim.delete_guest(105).unwrap();
    world.advance(minutes(1));
    let report = world.sync(JobKind::Inventory).await;
    let stats = report.stats(JobKind::Inventory, &world.cluster).unwrap();
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 2);
    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    assert_eq!(rows.len(), guests - 1);
    assert!(rows.iter().all(|r| r.vmid != vmid(105)));
    let running = rows
        .iter()
        .filter(|r| r.state == GuestState::Running)
        .count();
    assert!(running > 0 && running < guests - 1, "{running} running");
    assert_eq!((stats.written, stats.removed), (running, 1));
    // Every row was seen by that tick, written or not.
    let checked = rows.iter().map(|r| r.last_status_check).min().flatten();
    assert_eq!(checked, Some(world.w.clock.now()), "the tick's time");
}

#[tokio::test]
async fn last_updated_moves_only_when_a_guest_changes() {
    let world = jobs_world(Options::default()).await;
    world.sync(JobKind::Inventory).await;
    let first = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();

    world.sim.stop_guest(102).unwrap();
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;

    let second = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    let row = |rows: &[pvelab_core::model::InventoryEntry], n| {
        rows.iter().find(|r| r.vmid == vmid(n)).unwrap().clone()
    };
    let (before, after) = (row(&first, 102), row(&second, 102));
    assert_eq!(after.state, GuestState::Stopped);
    assert!(after.last_updated > before.last_updated);
    let (before, after) = (row(&first, 103), row(&second, 103));
    assert_eq!(
        after.last_updated, before.last_updated,
        "an unchanged guest"
    );
    assert!(after.last_status_check > before.last_status_check);
}

#[tokio::test]
async fn a_failing_cluster_is_recorded_without_touching_another() {
    let world = jobs_world(Options::default()).await;
    let other = Sim::start(SimConfig::fast()).await.unwrap();
    let second = pvelab_core::types::ClusterId::parse("pve2").unwrap();
    world
        .lab()
        .add_cluster(&world.w.admin, sim_cluster(&other, second.clone()))
        .await
        .unwrap();
    let lab = world.lab();
    let all = lab
        .sync_now(&world.w.admin, SyncWhat::Job(JobKind::Inventory), None)
        .await
        .unwrap();
    assert!(all.all_ok());

    other.set_outage(Some(OutageMode::Refuse));
    world.advance(minutes(1));
    let report = lab
        .sync_now(&world.w.admin, SyncWhat::Job(JobKind::Inventory), None)
        .await
        .unwrap();

    assert!(report.stats(JobKind::Inventory, &world.cluster).is_some());
    let failed = report.runs.iter().find(|r| r.cluster == second).unwrap();
    assert!(
        matches!(
            &failed.outcome,
            RunOutcome::Failed(Error::Cluster {
                problem: ClusterProblem::Unreachable { .. },
                ..
            })
        ),
        "{failed:?}"
    );
    let status = lab.sync_status(&world.w.admin, None).await.unwrap();
    let of = |c: &pvelab_core::types::ClusterId| status.iter().find(|s| &s.cluster == c).unwrap();
    assert_eq!(of(&world.cluster).last_error, None);
    assert_eq!(of(&world.cluster).consecutive_failures, 0);
    assert!(of(&second)
        .last_error
        .as_deref()
        .unwrap()
        .contains("unreachable"));
    assert_eq!(of(&second).consecutive_failures, 1);
    assert!(of(&second).last_success_at < of(&second).last_finished_at);
    // The lab counted the refused requests against the failing cluster alone.
    let counts = lab.proxmox_requests(&world.w.admin).unwrap();
    let count =
        |c: &pvelab_core::types::ClusterId| counts.iter().find(|r| &r.cluster == c).unwrap();
    assert!(count(&second).failures >= 1, "{counts:?}");
    assert_eq!(count(&world.cluster).failures, 0, "{counts:?}");
    assert!(count(&world.cluster).requests >= 2, "{counts:?}");
    // The failed cluster's rows stay, marked with the error; the good one's are clean.
    let stale = lab.inventory(&world.w.admin, &second).await.unwrap();
    assert!(!stale.is_empty());
    assert!(stale.iter().all(|r| r.sync_error.is_some()));
    let fresh = lab.inventory(&world.w.admin, &world.cluster).await.unwrap();
    assert!(fresh.iter().all(|r| r.sync_error.is_none()));

    other.set_outage(None);
    let again = lab
        .sync_now(
            &world.w.admin,
            SyncWhat::Job(JobKind::Inventory),
            Some(second.clone()),
        )
        .await
        .unwrap();
    assert!(again.all_ok());
    let healed = lab.inventory(&world.w.admin, &second).await.unwrap();
    assert!(healed.iter().all(|r| r.sync_error.is_none()));
}

#[tokio::test]
async fn a_pool_vms_state_is_read_from_the_database_until_its_cache_time_runs_out() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let (student, vm) = world.student_on(&class, 2, "sam").await;
    world.sync(JobKind::Inventory).await;
    world.sim.reset_counters();

    let state = world.lab().vm_state(&student, &world.vm(vm)).await.unwrap();
    assert_eq!(state.state, GuestState::Running);
    assert!(state.cpu_usage.is_some() && state.refresh_error.is_none());
    assert_eq!(world.sim.total_requests(), 0, "a fresh state costs no call");
    let pool_row = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.vmid == vm)
        .unwrap();
    assert_eq!(pool_row.category, GuestCategory::Pool);

    // Stopped behind our back, and the record is older than the cluster's 60 s cache time.
    world.sim.stop_guest(102).unwrap();
    world.advance(minutes(2));
    let state = world.lab().vm_state(&student, &world.vm(vm)).await.unwrap();
    assert_eq!(state.state, GuestState::Stopped);
    assert_eq!(state.checked_at, Some(world.w.clock.now()));
    assert_eq!(
        world
            .sim
            .count("GET", "/nodes/{node}/qemu/{vmid}/status/current"),
        1
    );

    // Someone else's student may not look.
    let other = world.w.student("eve").await;
    assert!(matches!(
        world.lab().vm_state(&other, &world.vm(vm)).await,
        Err(Error::NotPermitted { .. }) | Err(Error::NotFound { .. })
    ));
    // The teacher may.
    assert!(world
        .lab()
        .vm_state(&world.w.teacher, &world.vm(vm))
        .await
        .is_ok());
}

#[tokio::test]
async fn only_adminers_run_jobs_or_read_the_inventory() {
    let world = jobs_world(Options::default()).await;
    let refused = world
        .lab()
        .sync_now(&world.w.teacher, SyncWhat::All, None)
        .await;
    assert!(
        matches!(refused, Err(Error::NotPermitted { .. })),
        "{refused:?}"
    );
    assert!(matches!(
        world
            .lab()
            .inventory(&world.w.teacher, &world.cluster)
            .await,
        Err(Error::NotPermitted { .. })
    ));
    let unknown = pvelab_core::types::ClusterId::parse("nowhere").unwrap();
    assert!(matches!(
        world
            .lab()
            .sync_now(&world.w.admin, SyncWhat::All, Some(unknown))
            .await,
        Err(Error::NotFound { .. })
    ));
}
