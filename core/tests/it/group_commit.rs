//! Group commit seen through the facade: joins that fail inside a batch (their token was rotated
//! while they queued) leave no trace, and the joins committed beside them all stay. Which joins
//! share a batch is up to the scheduler; the checks hold for every split (the writer's own tests
//! pin batches down exactly).

use std::collections::HashSet;
use std::sync::Arc;

use pvelab_core::model::VmOutcome;
use pvelab_core::types::UserId;
use pvelab_core::{Error, LabConfig};

use crate::support::{class_with_vms, world_on, ActorId};

const STUDENTS: usize = 300;
const POOL: u16 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joins_refused_in_a_batch_leave_nothing_and_the_joins_beside_them_all_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = world_on(LabConfig::file(dir.path().join("batches.db"))).await;
    let (class, token) = class_with_vms(&w, "batches", POOL, POOL).await;
    let mut students = Vec::with_capacity(STUDENTS);
    for i in 0..STUDENTS {
        students.push(w.student(&format!("student-{i}")).await);
    }
    let token = Arc::new(token);

    // Every student joins at once; half way through the teacher rotates the token, so the
    // joins queued behind the rotation fail inside the same writer batches as accepted ones.
    let mut joins = Vec::with_capacity(STUDENTS);
    let mut rotation = None;
    for (i, student) in students.iter().enumerate() {
        if i == STUDENTS / 2 {
            let (lab, teacher, class) = (w.lab.clone(), w.teacher, class.id);
            rotation = Some(tokio::spawn(async move {
                lab.rotate_token(&teacher, class, pvelab_core::model::TokenExpiry::Never)
                    .await
            }));
        }
        let (lab, token, student) = (w.lab.clone(), Arc::clone(&token), *student);
        joins.push(tokio::spawn(async move {
            (student.uid(), lab.join(&student, &token).await)
        }));
    }
    rotation
        .expect("spawned")
        .await
        .expect("task")
        .expect("rotate");

    let mut accepted: HashSet<UserId> = HashSet::new();
    let mut assigned = 0;
    let mut positions = Vec::new();
    for join in joins {
        let (student, outcome) = join.await.expect("task");
        match outcome {
            Ok(joined) => {
                accepted.insert(student);
                match joined.vm {
                    VmOutcome::Assigned(_) => assigned += 1,
                    VmOutcome::Waitlisted { position } => positions.push(position),
                    other => panic!("a first join must assign or waitlist, got {other:?}"),
                }
            }
            Err(Error::TokenInvalid) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    // What the joins were told is exactly what is stored: no refused join left an enrollment,
    // no accepted one was undone by a refused neighbour.
    let view = w
        .lab
        .students(&w.teacher, class.id)
        .await
        .expect("students");
    let enrolled: HashSet<UserId> = view.iter().map(|s| s.user.id).collect();
    assert_eq!(enrolled, accepted);
    assert_eq!(assigned, accepted.len().min(usize::from(POOL)));
    positions.sort_unstable();
    let expected: Vec<u32> = (1..=u32::try_from(positions.len()).expect("small")).collect();
    assert_eq!(positions, expected, "waitlist places 1..=n, each once");
    let holders: Vec<UserId> = view
        .iter()
        .filter_map(|s| s.vm.as_ref().and_then(|vm| vm.assigned_to))
        .collect();
    assert_eq!(holders.len(), assigned);
    assert!(holders.iter().all(|h| accepted.contains(h)));
    assert_eq!(
        holders.iter().collect::<HashSet<_>>().len(),
        holders.len(),
        "no VM handed out twice"
    );
}
