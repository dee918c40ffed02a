//! Outages: an unreachable cluster answers actions within 2 s and provisioning resumes when it
//! comes back; a ticket that expires in the middle of a long run does not fail it.

use std::time::{Duration, Instant};

use pvelab_core::error::ClusterProblem;
use pvelab_core::model::{PoolsConfig, ProgressEvent};
use pvelab_core::types::PoolSize;
use pvelab_core::Error;
use pvelab_pve_sim::{OutageMode, SimConfig};

use crate::pools_support::{assert_all_ready, bed, bed_with, finish, Login};

#[track_caller]
fn assert_unreachable<T: std::fmt::Debug>(result: Result<T, Error>, took: Duration) {
    assert!(
        matches!(
            &result,
            Err(Error::Cluster {
                problem: ClusterProblem::Unreachable { .. },
                ..
            })
        ),
        "{result:?}"
    );
    // Two seconds is the promise; a little room for a loaded machine's scheduling.
    assert!(
        took < Duration::from_millis(2500),
        "answered after {took:?}"
    );
}

#[tokio::test]
async fn actions_answer_within_two_seconds_when_the_cluster_is_unreachable() {
    let b = bed().await;
    let (class, op) = b.launch("outage", 1).await;
    finish(op).await;
    let vm = class.scheme.student_vmid(1).expect("slot");

    for mode in [OutageMode::Refuse, OutageMode::Hang] {
        b.sim.set_outage(Some(mode));
        let started = Instant::now();
        let refused = b.lab.start_vm(&b.teacher, class.id, vm).await;
        assert_unreachable(refused, started.elapsed());
        let started = Instant::now();
        let refused = b
            .lab
            .resize_pool(&b.teacher, class.id, PoolSize::new(2).expect("size"), false)
            .await;
        assert_unreachable(refused, started.elapsed());
        b.sim.set_outage(None);
    }
    assert_eq!(
        b.status(&class).await.len(),
        3,
        "a refused resize recorded nothing"
    );
}

#[tokio::test]
async fn provisioning_waits_through_an_outage_and_resumes() {
    let b = bed().await;
    let (class, op) = b.launch("resume", 1).await;
    finish(op).await;

    let mut op = b
        .lab
        .resize_pool(&b.teacher, class.id, PoolSize::new(4).expect("size"), false)
        .await
        .expect("resize");
    let mut events = op.events().expect("events");
    let mut outage = false;
    while let Some(event) = events.recv().await {
        match event {
            ProgressEvent::Cloning { .. } if !outage => {
                b.sim.set_outage(Some(OutageMode::Refuse));
                outage = true;
            }
            ProgressEvent::Retrying { .. } if outage => {
                b.sim.set_outage(None);
                break;
            }
            _ => {}
        }
    }
    let summary = op.wait().await.expect("resize");

    assert!(outage);
    assert_eq!(summary.ready, 3, "{summary:?}");
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert_all_ready(&b.status(&class).await);
}

#[tokio::test]
async fn a_ticket_that_expires_in_the_middle_of_a_long_run_does_not_fail_it() {
    // One clone per node at a time, so the run is long enough to outlive a ticket.
    let pools = PoolsConfig {
        clones_per_node: 1,
        ..PoolsConfig::fast()
    };
    let b = bed_with(SimConfig::fast(), pools, Login::Password).await;
    let (class, mut op) = b.launch("ticket", 8).await;
    let mut events = op.events().expect("events");
    let mut advanced = false;
    while let Some(event) = events.recv().await {
        if let ProgressEvent::Ready { ready: 2, .. } = event {
            // Three hours later on the cluster's clock: the ticket (2 h) is dead.
            b.sim.advance_clock(3.0 * 3600.0);
            advanced = true;
            break;
        }
    }
    let summary = op.wait().await.expect("provision");

    assert!(advanced);
    assert_eq!(summary.ready, 10, "{summary:?}");
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert!(
        b.sim.count_status("POST", "/access/ticket", 200) >= 2,
        "a new ticket was obtained"
    );
    assert_all_ready(&b.status(&class).await);
}
