//! The scheduler: ticks follow the lab's clock, a slow cluster delays no other, shutdown ends
//! every task at a safe point and leaves no half-written state.

use jiff::SignedDuration;
use pvelab_core::jobs::JobKind;
use pvelab_core::model::ClusterJobChange;
use pvelab_pve_sim::{FaultConfig, OutageMode, Sim, SimConfig};
use tokio_util::sync::CancellationToken;

use crate::jobs_support::{jobs_world, sim_cluster, Options};

#[tokio::test]
async fn jobs_tick_when_the_lab_clock_reaches_their_interval_and_stop_on_shutdown() {
    let world = jobs_world(Options::default()).await;
    world.set("sync.inventory_interval", "60s").await;
    // Only the inventory reads cluster/resources here, so the counter counts its ticks.
    world
        .lab()
        .change_cluster_job_settings(
            &world.w.admin,
            &world.cluster,
            ClusterJobChange {
                allow_template_sync: Some(false),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    let jobs = world.lab().start_jobs(CancellationToken::new());

    let first = jobs
        .wait_for_runs(JobKind::Inventory, &world.cluster, 1)
        .await;
    assert_eq!(first.last_error, None);
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 1);
    let next = first.next_at.unwrap();
    let late = world.w.clock.now() + SignedDuration::from_secs(66);
    assert!(next > world.w.clock.now() && next <= late, "{next}");

    // Nothing happens while the clock stands still; moving it past the deadline ticks once.
    tokio::task::yield_now().await;
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 1);
    world.w.clock.set(late);
    jobs.wait_for_runs(JobKind::Inventory, &world.cluster, 2)
        .await;
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 2);

    // Ten missed intervals are one tick, not ten.
    world.advance(SignedDuration::from_mins(10));
    let third = jobs
        .wait_for_runs(JobKind::Inventory, &world.cluster, 3)
        .await;
    assert!(third.next_at.unwrap() > world.w.clock.now());
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 3);

    jobs.shutdown().await;
    world.advance(SignedDuration::from_mins(10));
    tokio::task::yield_now().await;
    assert_eq!(
        world.sim.count("GET", "/cluster/resources"),
        3,
        "no tick after shutdown"
    );
}

#[tokio::test]
async fn a_hanging_cluster_does_not_delay_another_and_shutdown_does_not_wait_for_it() {
    let world = jobs_world(Options::default()).await;
    let hanging = Sim::start(SimConfig::fast()).await.unwrap();
    hanging.set_outage(Some(OutageMode::Hang));
    let slow = pvelab_core::types::ClusterId::parse("slow").unwrap();
    world
        .lab()
        .add_cluster(&world.w.admin, sim_cluster(&hanging, slow.clone()))
        .await
        .unwrap();
    let jobs = world.lab().start_jobs(CancellationToken::new());

    // The good cluster finishes its tick while the other one's is still waiting for an answer.
    jobs.wait_for_runs(JobKind::Inventory, &world.cluster, 1)
        .await;
    let progress = jobs
        .wait_until(|p| p.started(JobKind::Inventory, &slow) == 1)
        .await;
    assert_eq!(progress.finished(JobKind::Inventory, &slow), 0);
    world.advance(SignedDuration::from_mins(2));
    jobs.wait_for_runs(JobKind::Inventory, &world.cluster, 2)
        .await;
    assert_eq!(
        jobs.progress().borrow().finished(JobKind::Inventory, &slow),
        0
    );

    // Shutdown abandons the read that hangs (a read is safe to abandon) and returns.
    tokio::time::timeout(std::time::Duration::from_secs(10), jobs.shutdown())
        .await
        .expect("shutdown returns without waiting for the hanging cluster");
    let status = world
        .lab()
        .sync_status(&world.w.admin, Some(&slow))
        .await
        .unwrap();
    assert!(
        status.iter().all(|s| s.last_error.is_none()),
        "a stop is not a failure: {status:?}"
    );
    assert!(world
        .lab()
        .inventory(&world.w.admin, &slow)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn shutting_down_during_a_tick_leaves_the_inventory_whole_and_the_next_start_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options {
        db_dir: Some(dir.path().to_owned()),
        ..Options::default()
    };
    options.sim.vms = 2_000;
    options.sim.faults = FaultConfig {
        latency_ms: 300,
        ..FaultConfig::default()
    };
    let world = jobs_world(options).await;
    let guests = world.sim.guest_count();

    let jobs = world.lab().start_jobs(CancellationToken::new());
    jobs.wait_until(|p| p.started(JobKind::Inventory, &world.cluster) == 1)
        .await;
    jobs.shutdown().await;

    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    assert!(
        rows.is_empty() || rows.len() == guests,
        "{} of {guests} rows",
        rows.len()
    );
    let status = world.lab().sync_status(&world.w.admin, None).await.unwrap();
    assert!(status
        .iter()
        .all(|s| s.last_error.is_none() && s.consecutive_failures == 0));

    // Started again, the jobs finish the tick.
    let jobs = world.lab().start_jobs(CancellationToken::new());
    let run = jobs
        .wait_for_runs(JobKind::Inventory, &world.cluster, 1)
        .await;
    assert_eq!(run.last_error, None);
    jobs.shutdown().await;
    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    assert_eq!(rows.len(), guests);
}

#[tokio::test]
async fn a_cancelled_token_stops_the_jobs_like_shutdown() {
    let world = jobs_world(Options::default()).await;
    let token = CancellationToken::new();
    let jobs = world.lab().start_jobs(token.clone());
    jobs.wait_for_runs(JobKind::Inventory, &world.cluster, 1)
        .await;
    token.cancel();
    // Every task ends on its own; shutdown then returns at once.
    tokio::time::timeout(std::time::Duration::from_secs(10), jobs.shutdown())
        .await
        .expect("the jobs stopped");
}
