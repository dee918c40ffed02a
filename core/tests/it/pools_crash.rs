//! Crash safety in-process: the orchestration is torn down at seeded points of a provisioning
//! and of a resize (its tasks aborted, the `Lab` dropped), a new `Lab` opens on the same
//! database and simulator, and reconciliation converges; then the invariants hold.

use pvelab_core::model::{Class, Operation, PoolAudit, ProgressEvent};
use pvelab_core::types::PoolSize;

use crate::pools_support::{bed, finish, Bed};

/// Lets `op` run until it has sent `k` events, then aborts it and drops the lab, as a crash
/// would, and opens a new lab on the same database file.
async fn crash_after(b: &mut Bed, mut op: Operation, k: usize) {
    let mut events = op.events().expect("events");
    let mut seen = 0;
    while seen < k {
        match events.recv().await {
            None | Some(ProgressEvent::Done(_)) => break,
            Some(_) => seen += 1,
        }
    }
    op.abort();
    drop(events);
    drop(op);
    b.reopen().await;
}

/// Reconciles until the pool is whole (a few rounds at most: work the old lab's aborted tasks
/// committed late is picked up by the next round); returns the clean audit.
async fn reconcile_until_whole(b: &Bed, class: &Class) -> PoolAudit {
    let mut last = None;
    for _ in 0..6 {
        let report = b.lab.reconcile().await.expect("reconcile");
        for c in &report.clusters {
            assert!(c.result.is_ok(), "{c:?}");
        }
        let audit = b.lab.audit_pool(&b.teacher, class.id).await.expect("audit");
        if audit.is_clean() {
            return audit;
        }
        last = Some(audit);
    }
    panic!("the pool did not converge: {last:?}");
}

/// A crash point from a seed: after 0 (at once) to `span` events.
fn point(seed: u64, span: u64) -> usize {
    usize::try_from((seed * 7919 + 13) % (span + 1)).expect("small")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_point_of_provisioning_converges_after_a_restart() {
    for seed in 0..10 {
        let mut b = bed().await;
        b.faults(0.05);
        let (class, op) = b.launch(&format!("crash{seed}"), 6).await;
        crash_after(&mut b, op, point(seed, 34)).await;

        let audit = reconcile_until_whole(&b, &class).await;

        assert!(audit.is_clean(), "seed {seed}: {audit:?}");
        let states = b.status(&class).await;
        assert_eq!(states.len(), 8, "seed {seed}: no VM lost or duplicated");
        let guests = b.guests().await;
        let in_range = guests
            .keys()
            .filter(|v| class.scheme.vmids().contains(*v))
            .count();
        assert_eq!(in_range, 8, "seed {seed}: nothing orphaned in the range");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_point_of_a_resize_converges_after_a_restart() {
    for seed in 0..10 {
        let mut b = bed().await;
        let (class, op) = b.launch(&format!("resize{seed}"), 4).await;
        finish(op).await;
        b.faults(0.05);
        // Even seeds grow the pool, odd ones shrink it.
        // Growing by 3 sends about 13 events, shrinking by 3 about 4.
        let (target, span) = if seed % 2 == 0 { (7, 12) } else { (1, 4) };
        let op = b
            .lab
            .resize_pool(
                &b.teacher,
                class.id,
                PoolSize::new(target).expect("size"),
                false,
            )
            .await
            .expect("resize");
        crash_after(&mut b, op, point(seed, span)).await;

        reconcile_until_whole(&b, &class).await;

        let students = b
            .status(&class)
            .await
            .iter()
            .filter(|s| s.vm.role != pvelab_core::model::VmRole::Teacher)
            .filter(|s| s.vm.role != pvelab_core::model::VmRole::Base)
            .count();
        assert_eq!(
            students,
            usize::try_from(target).expect("small"),
            "seed {seed}"
        );
        let guests = b.guests().await;
        let in_range = guests
            .keys()
            .filter(|v| class.scheme.vmids().contains(*v))
            .count();
        assert_eq!(in_range, students + 2, "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_a_class_deletion_or_a_reimage_finishes_after_a_restart() {
    for seed in 0..4 {
        let mut b = bed().await;
        let (class, op) = b.launch(&format!("end{seed}"), 3).await;
        finish(op).await;
        let vmids: Vec<u32> = b
            .status(&class)
            .await
            .iter()
            .map(|s| s.vm.vmid.get())
            .collect();
        let op = b
            .lab
            .begin_class_deletion(&b.teacher, class.id)
            .await
            .expect("delete");
        crash_after(&mut b, op, point(seed, 5)).await;

        for _ in 0..6 {
            b.lab.reconcile().await.expect("reconcile");
            if b.lab.class(&b.teacher, class.id).await.is_err() {
                break;
            }
        }

        assert!(
            matches!(
                b.lab.class(&b.teacher, class.id).await,
                Err(pvelab_core::Error::NotFound { .. })
            ),
            "seed {seed}: the class is gone"
        );
        let guests = b.guests().await;
        assert!(vmids.iter().all(|v| !guests.contains_key(v)), "seed {seed}");
    }
    for seed in 0..4 {
        let mut b = bed().await;
        let (class, op) = b.launch(&format!("again{seed}"), 1).await;
        finish(op).await;
        let sam = crate::support::user(&b.lab, "sam", pvelab_core::types::Role::User).await;
        let vm = b
            .lab
            .assign(
                &b.teacher,
                class.id,
                crate::support::ActorId::uid(&sam),
                None,
            )
            .await
            .expect("assign")
            .vmid;
        let op = b
            .lab
            .reimage_vm(&b.teacher, class.id, vm)
            .await
            .expect("reimage");
        crash_after(&mut b, op, point(seed, 5)).await;

        reconcile_until_whole(&b, &class).await;

        let mine = b.lab.my_vms(&sam).await.expect("mine");
        assert_eq!(mine.len(), 1, "seed {seed}: the student keeps the VM");
        assert_eq!(b.snapshots(vm.get()).await, ["baseline"], "seed {seed}");
    }
}
