//! Submissions through the facade: a student freezes their work as a named snapshot of their
//! VM (`submit-<UTC time>`), recorded with its time; a class may have a deadline at which the
//! lab snapshots every student VM once; teachers list submissions and roll a student's VM back
//! to one for grading.
//!
//! pvelab never deletes a submission snapshot. Reverting a VM rolls it back to its `baseline`
//! snapshot, and a rollback in PVE leaves every snapshot in place, later ones included, so a
//! revert keeps the student's submissions. A reimage replaces the VM with a fresh clone, whose
//! snapshots are new: the records stay, but rolling back to a submission taken before it then
//! fails with Proxmox's "snapshot does not exist".

use jiff::Timestamp;
use pvelab_proxmox::{SnapshotParams, TaskWait};

use super::bounded::bounded;
use super::classes::check_visible;
use super::proxmox_errors::cluster_error;
use super::{class_for, Lab};
use crate::error::{Entity, Error, Result};
use crate::rules::permissions::{authorize, Action, Actor};
use crate::store::submissions::{self, Submission, SubmissionDeadline};
use crate::store::{classes, enrollment, pool};
use crate::types::{ClassId, InvalidValue, NodeName, SnapshotName, UserId, VmRef};

/// How long the lab waits for a snapshot or rollback task: polled quickly at first, as a
/// snapshot without RAM state usually takes seconds.
const TASK_WAIT: TaskWait = TaskWait {
    initial_interval: std::time::Duration::from_millis(100),
    max_interval: std::time::Duration::from_secs(2),
    timeout: std::time::Duration::from_secs(10 * 60),
};

/// The furthest ahead a deadline may lie: a school year with room to spare.
const MAX_DEADLINE_AHEAD: jiff::SignedDuration = jiff::SignedDuration::from_hours(2 * 366 * 24);

/// What [`Lab::take_due_submissions`] did.
#[derive(Debug, Default)]
pub struct DueSubmissions {
    /// The deadlines that passed and were handled now (each only ever once).
    pub deadlines: Vec<SubmissionDeadline>,
    /// The snapshots taken.
    pub taken: Vec<Submission>,
    /// The student VMs that could not be snapshotted, and why.
    pub failed: Vec<SubmissionFailure>,
}

/// A student VM whose deadline snapshot failed.
#[derive(Debug)]
pub struct SubmissionFailure {
    /// The class.
    pub class_id: ClassId,
    /// The student.
    pub student: UserId,
    /// Their VM.
    pub vm: VmRef,
    /// Why.
    pub error: Error,
}

impl Lab {
    /// Snapshots the actor's own VM in the class as a submission, waits for Proxmox to finish,
    /// and records it. The snapshot is named `submit-` and the UTC time to the second
    /// (`submit-20260131T081530Z`); a second one within the same second gets `-2`, `-3`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor is not in, or when they hold no VM in it (or
    /// Proxmox does not have it); [`Error::Cluster`] when the cluster does not answer within
    /// 2 s (then nothing was done), or refuses or fails the snapshot; [`Error::NotPermitted`]
    /// for the system actor.
    pub async fn submit(&self, actor: &Actor, class: ClassId) -> Result<Submission> {
        let me = actor.person(Action::SubmitWork)?;
        let reader = *actor;
        let vm = self
            .db()
            .read(move |tx| {
                let stored = class_for(tx, &reader, Action::SubmitWork, class)?;
                check_visible(tx, &reader, &stored)?;
                pool::held(tx, class, me)?.ok_or_else(|| {
                    Error::not_found(Entity::Vm, format!("held by you in class {}", stored.name))
                })
            })
            .await?;
        // A person waits for the answer: a cluster that does not answer within 2 s is said so.
        self.probe(&vm.cluster_id).await?;
        let at = self.now();
        let snapshot = self
            .snapshot(
                &vm.vm_ref(),
                vm.node.as_ref(),
                at,
                "submitted by the student",
            )
            .await?;
        let submission = Submission {
            class_id: class,
            student: me,
            vm: vm.vm_ref(),
            snapshot,
            taken_at: at,
            automatic: false,
        };
        let record = submission.clone();
        self.class_write(actor, Action::SubmitWork, class, move |tx, _class| {
            submissions::insert(tx, &record)
        })
        .await?;
        tracing::info!(%class, student = %me, vm = %submission.vm, snapshot = %submission.snapshot, "work submitted");
        Ok(submission)
    }

    /// The class's submissions, oldest first: every student's for its teachers and adminers,
    /// the actor's own for a student.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor is not in; [`Error::NotPermitted`] for the
    /// system actor.
    pub async fn submissions(&self, actor: &Actor, class: ClassId) -> Result<Vec<Submission>> {
        let actor = *actor;
        self.db()
            .read(move |tx| {
                let stored = classes::get(tx, class)?;
                let relation = match actor.user_id() {
                    Some(user) => enrollment::relation(tx, user, class)?,
                    None => crate::rules::permissions::ClassRelation::None,
                };
                if authorize(&actor, Action::ViewSubmissions, relation).is_ok() {
                    return submissions::list(tx, class, None);
                }
                let me = actor.person(Action::ViewSubmissions)?;
                check_visible(tx, &actor, &stored)?;
                submissions::list(tx, class, Some(me))
            })
            .await
    }

    /// Rolls the student's VM back to their submission `snapshot` (the class's teachers and
    /// adminers), for grading; returns the submission. Without saved RAM state the VM is
    /// stopped afterwards, as PVE leaves it. The VM must still be the student's.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown submission, or when the
    /// student no longer holds that VM; [`Error::Cluster`] when the cluster does not answer
    /// within 2 s (then nothing was done), or refuses (the snapshot is gone after a reimage)
    /// or fails.
    pub async fn rollback_to_submission(
        &self,
        actor: &Actor,
        class: ClassId,
        student: UserId,
        snapshot: &SnapshotName,
    ) -> Result<Submission> {
        let wanted = snapshot.clone();
        let (submission, node) = self
            .class_read(
                actor,
                Action::RollbackSubmission,
                class,
                move |tx, _class| {
                    let submission =
                        submissions::find(tx, class, student, &wanted)?.ok_or_else(|| {
                            Error::not_found(
                                Entity::Submission,
                                format!("{wanted} of user {student} in class {class}"),
                            )
                        })?;
                    match pool::held(tx, class, student)? {
                        Some(vm) if vm.vm_ref() == submission.vm => Ok((submission, vm.node)),
                        _ => Err(Error::not_found(
                            Entity::Vm,
                            format!("{} held by user {student} in class {class}", submission.vm),
                        )),
                    }
                },
            )
            .await?;
        let vm = &submission.vm;
        // A person waits for the answer: a cluster that does not answer within 2 s is said so.
        self.probe(&vm.cluster).await?;
        let located = self.locate(vm, node.as_ref()).await?;
        let fail = |e| cluster_error(&vm.cluster, e);
        let upid = located
            .qemu
            .rollback_snapshot(submission.snapshot.as_str())
            .await
            .map_err(fail)?;
        located
            .client
            .wait_for_task_with(&upid, TASK_WAIT)
            .await
            .map_err(fail)?;
        tracing::info!(%class, %student, %vm, snapshot = %submission.snapshot, "rolled back to a submission");
        Ok(submission)
    }

    /// Sets the class's submission deadline, or clears it with `None` (its teachers and
    /// adminers). At the first [`Lab::take_due_submissions`] after it, every student VM of the
    /// class is snapshotted, once. A new deadline is taken again even if an earlier one was.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::InvalidValue`] for a deadline not after now or more
    /// than two years ahead.
    pub async fn set_deadline(
        &self,
        actor: &Actor,
        class: ClassId,
        at: Option<Timestamp>,
    ) -> Result<Option<SubmissionDeadline>> {
        self.class_write(actor, Action::SetDeadline, class, move |tx, _class| {
            let at = at.map(checked_deadline).transpose()?;
            submissions::set_deadline(tx, class, at)
        })
        .await
    }

    /// The class's submission deadline, for everyone in the class.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor is not in.
    pub async fn deadline(
        &self,
        actor: &Actor,
        class: ClassId,
    ) -> Result<Option<SubmissionDeadline>> {
        let viewer = *actor;
        self.class_read(actor, Action::ViewClass, class, move |tx, stored| {
            check_visible(tx, &viewer, &stored)?;
            submissions::deadline(tx, class)
        })
        .await
    }

    /// Snapshots every student VM of the classes whose deadline has passed and was not handled
    /// yet, as automatic submissions; the lab's scheduler calls it, as the core's own
    /// background work (no person acts). Each deadline is claimed in one transaction before
    /// its snapshots are taken, so two calls, even from two processes, never take them twice;
    /// a VM whose snapshot fails is reported in [`DueSubmissions::failed`] and not retried.
    ///
    /// The snapshots are taken at the time of the call (their names and times say when), which
    /// is the first call after the deadline.
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails. Proxmox failures are per VM, in the result.
    pub async fn take_due_submissions(&self) -> Result<DueSubmissions> {
        let system = Actor::system();
        authorize(
            &system,
            Action::ControlStudentVm,
            crate::rules::permissions::ClassRelation::None,
        )?;
        let deadlines = self.db().write(|tx| submissions::claim_due(tx)).await?;
        let mut done = DueSubmissions {
            deadlines,
            ..DueSubmissions::default()
        };
        for deadline in done.deadlines.clone() {
            let class = deadline.class_id;
            let students = self
                .class_read(
                    &system,
                    Action::ControlStudentVm,
                    class,
                    move |tx, _class| enrollment::students(tx, class),
                )
                .await?;
            let held: Vec<(UserId, VmRef, Option<NodeName>)> = students
                .into_iter()
                .filter_map(|s| s.vm.map(|vm| (s.user.id, vm.vm_ref(), vm.node)))
                .collect();
            let at = self.now();
            let snapshots = bounded(held.iter().map(|(_, vm, node)| {
                let (lab, vm, node) = (self.clone(), vm.clone(), node.clone());
                async move {
                    lab.snapshot(&vm, node.as_ref(), at, "taken at the class's deadline")
                        .await
                }
            }))
            .await;
            let mut taken = Vec::new();
            for ((student, vm, _), snapshot) in held.into_iter().zip(snapshots) {
                match snapshot {
                    Ok(snapshot) => taken.push(Submission {
                        class_id: class,
                        student,
                        vm,
                        snapshot,
                        taken_at: at,
                        automatic: true,
                    }),
                    Err(error) => {
                        tracing::warn!(%class, %student, %vm, %error, "deadline snapshot failed");
                        done.failed.push(SubmissionFailure {
                            class_id: class,
                            student,
                            vm,
                            error,
                        });
                    }
                }
            }
            let record = taken.clone();
            self.db()
                .write(move |tx| record.iter().try_for_each(|s| submissions::insert(tx, s)))
                .await?;
            tracing::info!(%class, taken = taken.len(), "deadline submissions taken");
            done.taken.extend(taken);
        }
        Ok(done)
    }

    /// Takes a snapshot of `vm` named for a submission at `at` (numbered when the name is
    /// taken on the VM) and waits for it; returns its name.
    async fn snapshot(
        &self,
        vm: &VmRef,
        node: Option<&NodeName>,
        at: Timestamp,
        description: &str,
    ) -> Result<SnapshotName> {
        let located = self.locate(vm, node).await?;
        let fail = |e| cluster_error(&vm.cluster, e);
        let existing: Vec<String> = located
            .qemu
            .snapshots()
            .await
            .map_err(fail)?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let base = SnapshotName::submission(at);
        let mut name = base.clone();
        let mut n = 2;
        while existing.iter().any(|e| e == name.as_str()) {
            name = base.numbered(n);
            n += 1;
        }
        let params =
            SnapshotParams::new(name.as_str()).description(format!("pvelab: {description}"));
        let upid = located.qemu.create_snapshot(&params).await.map_err(fail)?;
        located
            .client
            .wait_for_task_with(&upid, TASK_WAIT)
            .await
            .map_err(fail)?;
        Ok(name)
    }
}

/// A deadline as it will be stored: after now, at most two years ahead, rounded to the
/// microseconds the database keeps.
fn checked_deadline(at: Timestamp) -> Result<Timestamp> {
    let now = crate::db::time::now();
    let latest = now
        .saturating_add(MAX_DEADLINE_AHEAD)
        .map_err(|e| InvalidValue::new("submission deadline", at, e.to_string()))?;
    if at <= now || at > latest {
        // The bounds are said in whole seconds.
        let second = |t: Timestamp| t.round(jiff::Unit::Second).unwrap_or(t);
        return Err(InvalidValue::new(
            "submission deadline",
            at,
            format!(
                "a time after now ({}) and at most two years ahead ({})",
                second(now),
                second(latest)
            ),
        )
        .into());
    }
    at.round(jiff::Unit::Microsecond)
        .map_err(|e| InvalidValue::new("submission deadline", at, e.to_string()).into())
}
