//! Submissions against the simulated cluster: a student's snapshot named by the lab's UTC
//! time, listing (teachers all, students their own), a teacher's rollback for grading, a
//! rollback to `baseline` that keeps submissions, and deadline snapshots taken exactly once,
//! moved by the lab's manual clock.

use jiff::SignedDuration;
use pvelab_core::model::Submission;
use pvelab_core::types::{Role, SnapshotName};
use pvelab_core::{Entity, Error};
use pvelab_proxmox::SnapshotParams;

use crate::checks_support::{client, node_of, sim_class, sim_vm};
use crate::support::{user, ActorId};

fn snap(text: &str) -> SnapshotName {
    SnapshotName::parse(text).expect("snapshot name")
}

/// The names of VM `vmid`'s snapshots on the simulator, without `current`.
async fn snapshots_on(client: &pvelab_proxmox::Client, vmid: u32) -> Vec<String> {
    client
        .node(node_of(vmid))
        .qemu(vmid)
        .snapshots()
        .await
        .expect("snapshots")
        .into_iter()
        .filter(|s| !s.is_current())
        .map(|s| s.name)
        .collect()
}

#[tokio::test]
async fn a_student_submits_a_snapshot_named_by_the_utc_time_and_sees_only_their_own() {
    let w = sim_class(12, &[(2, None), (3, Some("pve1"))]).await;
    let (alice, alice_vm) = &w.students[0];
    let (bob, _) = &w.students[1];

    let first = w.lab.submit(alice, w.class.id).await.expect("submit");

    assert_eq!(
        first,
        Submission {
            class_id: w.class.id,
            student: alice.uid(),
            vm: alice_vm.clone(),
            snapshot: snap("submit-20260131T081530Z"),
            taken_at: w.clock.now(),
            automatic: false,
        }
    );
    let pve = client(&w.sim);
    assert_eq!(snapshots_on(&pve, 102).await, ["submit-20260131T081530Z"]);
    // Within the same second a second name is numbered; a stopped VM is snapshotted too.
    let second = w.lab.submit(alice, w.class.id).await.expect("again");
    assert_eq!(second.snapshot.as_str(), "submit-20260131T081530Z-2");
    w.clock.advance(SignedDuration::from_secs(90));
    let bobs = w.lab.submit(bob, w.class.id).await.expect("bob");
    assert_eq!(bobs.snapshot.as_str(), "submit-20260131T081700Z");
    assert_eq!(snapshots_on(&pve, 103).await, ["submit-20260131T081700Z"]);

    let teacher_sees = w
        .lab
        .submissions(&w.teacher, w.class.id)
        .await
        .expect("all");
    assert_eq!(teacher_sees, [first.clone(), second.clone(), bobs.clone()]);
    let alice_sees = w.lab.submissions(alice, w.class.id).await.expect("own");
    assert_eq!(alice_sees, [first, second]);
    let outsider = user(&w.lab, "outsider", Role::User).await;
    let hidden = w.lab.submissions(&outsider, w.class.id).await;
    assert!(
        matches!(
            hidden,
            Err(Error::NotFound {
                entity: Entity::Class,
                ..
            })
        ),
        "{hidden:?}"
    );
    let no_vm = w.lab.submit(&outsider, w.class.id).await;
    assert!(matches!(no_vm, Err(Error::NotFound { .. })), "{no_vm:?}");
}

#[tokio::test]
async fn a_teacher_rolls_a_students_vm_back_to_a_submission_and_a_student_may_not() {
    let w = sim_class(12, &[(2, None)]).await;
    let (alice, _) = &w.students[0];
    let submitted = w.lab.submit(alice, w.class.id).await.expect("submit");
    w.clock.advance(SignedDuration::from_mins(10));
    let later = w.lab.submit(alice, w.class.id).await.expect("later");

    let refused = w
        .lab
        .rollback_to_submission(alice, w.class.id, alice.uid(), &submitted.snapshot)
        .await;
    assert!(
        matches!(refused, Err(Error::NotPermitted { .. })),
        "{refused:?}"
    );
    let unknown = w
        .lab
        .rollback_to_submission(&w.teacher, w.class.id, alice.uid(), &snap("submit-nope"))
        .await;
    assert!(
        matches!(
            unknown,
            Err(Error::NotFound {
                entity: Entity::Submission,
                ..
            })
        ),
        "{unknown:?}"
    );

    let rolled = w
        .lab
        .rollback_to_submission(&w.teacher, w.class.id, alice.uid(), &submitted.snapshot)
        .await
        .expect("rollback");

    assert_eq!(rolled, submitted);
    let pve = client(&w.sim);
    let vm = pve.node(node_of(102)).qemu(102);
    let current = vm
        .snapshots()
        .await
        .expect("snapshots")
        .into_iter()
        .find(|s| s.is_current())
        .expect("current");
    assert_eq!(current.parent.as_deref(), Some(submitted.snapshot.as_str()));
    // Without saved RAM a rollback leaves the VM stopped; no snapshot is lost.
    let status = vm.status().await.expect("status");
    assert_eq!(status.status, pvelab_proxmox::GuestStatus::Stopped);
    assert_eq!(
        snapshots_on(&pve, 102).await,
        [submitted.snapshot.to_string(), later.snapshot.to_string()]
    );

    // Once the VM is no longer the student's, it is not rolled back.
    w.lab
        .unassign(&w.teacher, w.class.id, alice.uid())
        .await
        .expect("unassign");
    let gone = w
        .lab
        .rollback_to_submission(&w.teacher, w.class.id, alice.uid(), &later.snapshot)
        .await;
    assert!(
        matches!(
            gone,
            Err(Error::NotFound {
                entity: Entity::Vm,
                ..
            })
        ),
        "{gone:?}"
    );
}

/// Revert (the pools' VM action) rolls back to `baseline`; in PVE that leaves later snapshots,
/// so submissions survive it. Shown here with the rollback revert makes.
#[tokio::test]
async fn rolling_back_to_baseline_keeps_the_submissions() {
    let w = sim_class(12, &[(2, None)]).await;
    let pve = client(&w.sim);
    let vm = pve.node(node_of(102)).qemu(102);
    let upid = vm
        .create_snapshot(&SnapshotParams::new("baseline"))
        .await
        .expect("baseline");
    pve.wait_for_task(&upid).await.expect("baseline task");
    let (alice, _) = &w.students[0];
    let submitted = w.lab.submit(alice, w.class.id).await.expect("submit");

    let upid = vm.rollback_snapshot("baseline").await.expect("revert");
    pve.wait_for_task(&upid).await.expect("revert task");

    assert_eq!(
        snapshots_on(&pve, 102).await,
        ["baseline".to_owned(), submitted.snapshot.to_string()]
    );
    w.lab
        .rollback_to_submission(&w.teacher, w.class.id, alice.uid(), &submitted.snapshot)
        .await
        .expect("the submission is still there to grade");
}

#[tokio::test]
async fn at_the_deadline_every_student_vm_is_snapshotted_exactly_once() {
    // VM 115 is not on the cluster: its snapshot fails and is reported.
    let w = sim_class(12, &[(2, None), (3, None), (4, None), (15, None)]).await;
    let start = w.clock.now();
    let deadline = start + SignedDuration::from_hours(1);
    let set = w
        .lab
        .set_deadline(&w.teacher, w.class.id, Some(deadline))
        .await
        .expect("deadline")
        .expect("set");
    assert_eq!((set.at, set.taken_at), (deadline, None));
    let (alice, _) = &w.students[0];
    assert_eq!(
        w.lab.deadline(alice, w.class.id).await.expect("seen"),
        Some(set),
        "students see their deadline"
    );

    let early = w.lab.take_due_submissions().await.expect("early");
    assert!(early.deadlines.is_empty() && early.taken.is_empty());

    w.clock.advance(SignedDuration::from_mins(61));
    // Two callers at once (two scheduler ticks, two processes): one takes them.
    let (a, b) = tokio::join!(w.lab.take_due_submissions(), w.lab.take_due_submissions());
    let (a, b) = (a.expect("first"), b.expect("second"));
    let (due, other) = if a.deadlines.is_empty() {
        (b, a)
    } else {
        (a, b)
    };
    assert!(other.deadlines.is_empty() && other.taken.is_empty());
    assert_eq!(due.deadlines.len(), 1);
    assert_eq!(due.deadlines[0].taken_at, Some(w.clock.now()));
    let taken: Vec<(u32, &str, bool)> = due
        .taken
        .iter()
        .map(|s| (s.vm.vmid.get(), s.snapshot.as_str(), s.automatic))
        .collect();
    assert_eq!(
        taken,
        [
            (102, "submit-20260131T091630Z", true),
            (103, "submit-20260131T091630Z", true),
            (104, "submit-20260131T091630Z", true),
        ]
    );
    assert_eq!(due.failed.len(), 1);
    assert_eq!(due.failed[0].vm, sim_vm(115));
    assert!(
        matches!(
            due.failed[0].error,
            Error::NotFound {
                entity: Entity::Vm,
                ..
            }
        ),
        "{:?}",
        due.failed[0].error
    );
    let pve = client(&w.sim);
    assert_eq!(snapshots_on(&pve, 104).await, ["submit-20260131T091630Z"]);
    let listed = w
        .lab
        .submissions(&w.teacher, w.class.id)
        .await
        .expect("list");
    assert_eq!(listed, due.taken);

    // Later calls take nothing; a new deadline is taken again.
    w.clock.advance(SignedDuration::from_hours(5));
    let again = w.lab.take_due_submissions().await.expect("again");
    assert!(again.deadlines.is_empty() && again.taken.is_empty());
    let next = w.clock.now() + SignedDuration::from_mins(30);
    w.lab
        .set_deadline(&w.teacher, w.class.id, Some(next))
        .await
        .expect("new deadline");
    w.clock.advance(SignedDuration::from_mins(31));
    let second = w.lab.take_due_submissions().await.expect("second deadline");
    assert_eq!(second.taken.len(), 3);
    assert_eq!(snapshots_on(&pve, 104).await.len(), 2);
}

#[tokio::test]
async fn deadlines_lie_ahead_are_set_by_teachers_and_can_be_cleared() {
    let w = sim_class(12, &[(2, None)]).await;
    let (alice, _) = &w.students[0];
    let now = w.clock.now();
    for bad in [
        now,
        now - SignedDuration::from_mins(1),
        now + SignedDuration::from_hours(24 * 800),
    ] {
        let refused = w.lab.set_deadline(&w.teacher, w.class.id, Some(bad)).await;
        assert!(
            matches!(refused, Err(Error::InvalidValue(ref e)) if e.field() == "submission deadline"),
            "{refused:?}"
        );
    }
    let refused = w
        .lab
        .set_deadline(alice, w.class.id, Some(now + SignedDuration::from_hours(1)))
        .await;
    assert!(
        matches!(refused, Err(Error::NotPermitted { .. })),
        "{refused:?}"
    );

    w.lab
        .set_deadline(
            &w.teacher,
            w.class.id,
            Some(now + SignedDuration::from_hours(1)),
        )
        .await
        .expect("set");
    let cleared = w
        .lab
        .set_deadline(&w.teacher, w.class.id, None)
        .await
        .expect("clear");
    assert_eq!(cleared, None);
    assert_eq!(
        w.lab.deadline(&w.teacher, w.class.id).await.expect("read"),
        None
    );
    w.clock.advance(SignedDuration::from_hours(2));
    let none = w.lab.take_due_submissions().await.expect("nothing due");
    assert!(none.deadlines.is_empty() && none.taken.is_empty());
}
