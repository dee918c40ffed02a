//! The join burst: 500 students joining a 300-VM class at once, from many threads, over one FILE
//! database: through one `Lab` (every join queues for its one writer thread, which commits them
//! in batches), and through several independent `Lab`s (separate connections, like separate
//! processes, whose batches interleave under SQLite's own locking).

use std::collections::HashSet;
use std::sync::Arc;

use pvelab_core::model::VmOutcome;
use pvelab_core::model::VmStatus;
use pvelab_core::{Lab, LabConfig};

use crate::support::{class_with_vms, world_on};

const STUDENTS: usize = 500;
const POOL: u16 = 300;

#[test]
fn five_hundred_students_joining_a_300_vm_class_through_one_lab_get_300_vms_and_200_places() {
    burst(1);
}

#[test]
fn five_hundred_students_joining_a_300_vm_class_get_300_vms_and_200_waitlist_places() {
    burst(4);
}

/// 500 concurrent joins spread over `labs` labs on one file, then every invariant checked.
fn burst(labs: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .max_blocking_threads(32)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("burst.db");
        let w = world_on(LabConfig::file(&path)).await;
        let (class, token) = class_with_vms(&w, "burst", POOL, POOL).await;
        let mut students = Vec::with_capacity(STUDENTS);
        for i in 0..STUDENTS {
            students.push(w.student(&format!("student-{i}")).await);
        }
        let mut opened = vec![w.lab.clone()];
        for _ in 1..labs {
            opened.push(
                Lab::open(LabConfig::file(&path))
                    .await
                    .expect("another lab"),
            );
        }
        let token = Arc::new(token);

        let joins: Vec<_> = students
            .iter()
            .enumerate()
            .map(|(i, student)| {
                let (lab, token, student) =
                    (opened[i % labs].clone(), Arc::clone(&token), *student);
                tokio::spawn(async move { lab.join(&student, &token).await })
            })
            .collect();
        let mut assigned = 0;
        let mut positions = Vec::new();
        for join in joins {
            match join.await.expect("task").expect("join").vm {
                VmOutcome::Assigned(_) => assigned += 1,
                VmOutcome::Waitlisted { position } => positions.push(position),
                other => panic!("a first join must assign or waitlist, got {other:?}"),
            }
        }

        assert_eq!(assigned, usize::from(POOL));
        positions.sort_unstable();
        let expected: Vec<u32> = (1..=(STUDENTS as u32 - u32::from(POOL))).collect();
        assert_eq!(positions, expected, "waitlist places 1..=200, each once");

        // The stored state, read back through a fresh lab.
        let pool = w.lab.pool(&w.teacher, class.id).await.expect("pool");
        let holders: Vec<_> = pool.iter().filter_map(|vm| vm.assigned_to).collect();
        assert_eq!(holders.len(), usize::from(POOL));
        assert!(pool.iter().all(|vm| vm.status == VmStatus::Assigned));
        let distinct: HashSet<_> = holders.iter().collect();
        assert_eq!(distinct.len(), holders.len(), "no student holds two VMs");
        let vmids: HashSet<_> = pool.iter().map(|vm| vm.vmid).collect();
        assert_eq!(vmids.len(), pool.len(), "no VM appears twice");
        let view = w
            .lab
            .students(&w.teacher, class.id)
            .await
            .expect("students");
        assert_eq!(view.len(), STUDENTS);
        let waiting = view
            .iter()
            .filter(|s| s.waitlist_position.is_some())
            .count();
        assert_eq!(waiting, STUDENTS - usize::from(POOL));
        assert!(view
            .iter()
            .all(|s| s.vm.is_some() != s.waitlist_position.is_some()));

        // And the file itself is sound: no corruption, no dangling reference.
        let conn = rusqlite::Connection::open(&path).expect("open");
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("integrity check");
        assert_eq!(integrity, "ok");
        let dangling: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                row.get(0)
            })
            .expect("foreign key check");
        assert_eq!(dangling, 0);
    });
}
