//! A property test over random interleavings of join / leave / reimage / grow, run concurrently
//! from several tasks and two `Lab`s over one file database. Afterwards the pool invariants hold.

use std::collections::HashSet;

use proptest::prelude::*;
use pvelab_core::model::Class;
use pvelab_core::model::JoinToken;
use pvelab_core::model::{SettingKey, VmRole, VmStatus};
use pvelab_core::Actor;
use pvelab_core::Lab;
use pvelab_core::{Error, LabConfig};

use crate::support::{class_with_vms, planned, world_on};

const CAPACITY: u16 = 12;

#[derive(Debug, Clone)]
enum Op {
    Join(usize),
    Leave(usize),
    Reimage,
    Grow,
}

fn op(students: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..students).prop_map(Op::Join),
        2 => (0..students).prop_map(Op::Leave),
        2 => Just(Op::Reimage),
        1 => Just(Op::Grow),
    ]
}

/// Conflicts are expected when two tasks race for the same slot or VM; anything else is a bug.
fn tolerate<T>(result: Result<T, Error>) {
    match result {
        Ok(_)
        | Err(
            Error::AlreadyHoldsVm { .. }
            | Error::VmNotAssignable { .. }
            | Error::NoFreeVm
            | Error::VmHeld { .. }
            | Error::VmRegistered { .. }
            // A random sequence may have one student join more often than the join rate limit
            // allows within the (frozen) minute of the test clock.
            | Error::RateLimited { .. },
        ) => {}
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

async fn apply(
    lab: &Lab,
    teacher: &Actor,
    class: &Class,
    token: &JoinToken,
    who: &[Actor],
    op: Op,
) {
    match op {
        Op::Join(s) => tolerate(lab.join(&who[s], token).await),
        // Someone not (or no longer) in the class does not see it: leaving is "not found".
        Op::Leave(s) => match lab.leave(&who[s], class.id).await {
            Err(Error::NotFound {
                entity: pvelab_core::Entity::Class,
                ..
            }) => {}
            other => tolerate(other),
        },
        Op::Reimage => {
            let pool = lab.pool(teacher, class.id).await.expect("pool");
            if let Some(vm) = pool.iter().find(|vm| vm.needs_reimage) {
                tolerate(lab.mark_reimaged(teacher, class.id, &vm.vm_ref()).await);
            }
        }
        Op::Grow => {
            let pool = lab.pool(teacher, class.id).await.expect("pool");
            let next = pool
                .iter()
                .filter_map(|vm| match vm.role {
                    VmRole::Student { slot } => Some(slot),
                    _ => None,
                })
                .max()
                .unwrap_or(0)
                + 1;
            if next <= CAPACITY {
                let vmid = class.scheme.student_vmid(next).expect("slot in plan");
                tolerate(lab.register_vm(teacher, class.id, planned(vmid)).await);
            }
        }
    }
}

async fn scenario(initial_vms: u16, students: usize, tasks: usize, ops: Vec<Op>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("interleave.db");
    let w = world_on(LabConfig::file(&path)).await;
    // At most 40 operations: with the highest join rate limit no join is refused for it, so
    // every join in the sequence really runs.
    w.lab
        .set_setting(&w.admin, SettingKey::JoinRateLimit.name(), "60")
        .await
        .expect("join rate limit");
    let second = Lab::open(LabConfig::file(&path)).await.expect("second lab");
    let (class, token) = class_with_vms(&w, "prop", CAPACITY, initial_vms).await;
    let mut who = Vec::new();
    for i in 0..students {
        who.push(w.student(&format!("p{i}")).await);
    }

    let mut handles = Vec::new();
    for t in 0..tasks {
        let mine: Vec<Op> = ops.iter().skip(t).step_by(tasks).cloned().collect();
        let lab = if t % 2 == 0 {
            w.lab.clone()
        } else {
            second.clone()
        };
        let (teacher, class, token, who) = (w.teacher, class.clone(), token.clone(), who.clone());
        handles.push(tokio::spawn(async move {
            for op in mine {
                apply(&lab, &teacher, &class, &token, &who, op).await;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }

    let pool = w.lab.pool(&w.teacher, class.id).await.expect("pool");
    let view = w
        .lab
        .students(&w.teacher, class.id)
        .await
        .expect("students");
    let holders: Vec<_> = pool.iter().filter_map(|vm| vm.assigned_to).collect();
    let distinct: HashSet<_> = holders.iter().collect();
    assert_eq!(distinct.len(), holders.len(), "a student holds two VMs");
    let vmids: HashSet<_> = pool.iter().map(|vm| vm.vmid).collect();
    assert_eq!(vmids.len(), pool.len(), "a VM appears twice");
    for vm in &pool {
        assert_eq!(vm.status == VmStatus::Assigned, vm.assigned_to.is_some());
        if vm.assigned_to.is_some() {
            assert!(!vm.needs_reimage, "an unreimaged VM was handed out");
        }
    }
    let enrolled: HashSet<_> = view.iter().map(|s| s.user.id).collect();
    assert!(
        holders.iter().all(|h| enrolled.contains(h)),
        "a VM holder is not enrolled"
    );
    for s in &view {
        assert!(
            !(s.vm.is_some() && s.waitlist_position.is_some()),
            "{} holds a VM and waits",
            s.user.shown_name()
        );
    }
    let waiting = view
        .iter()
        .filter(|s| s.waitlist_position.is_some())
        .count();
    let free_clean = pool
        .iter()
        .filter(|vm| vm.status == VmStatus::Available && !vm.needs_reimage)
        .count();
    assert!(
        waiting == 0 || free_clean == 0,
        "{waiting} students wait while {free_clean} clean VMs are free"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn random_interleavings_keep_the_pool_invariants(
        initial_vms in 0..6u16,
        students in 3..10usize,
        tasks in 2..5usize,
        ops in proptest::collection::vec(op(10), 10..40),
    ) {
        let ops: Vec<Op> = ops
            .into_iter()
            .map(|op| match op {
                Op::Join(s) => Op::Join(s % students),
                Op::Leave(s) => Op::Leave(s % students),
                other => other,
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(scenario(initial_vms, students, tasks, ops));
    }
}
