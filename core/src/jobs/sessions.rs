//! The sessions job: warm VMs before a class's session, a warning before its end, and the
//! shutdown after it.
//!
//! Each tick looks at every occurrence of every session that is near (opening within the lead
//! time, running, or ended within the last day) and takes each step once per occurrence,
//! claimed in `session_runs` in the transaction that writes its events, so a restart or a second
//! process never repeats one:
//! - at `start - lead` (`sessions.lead`): the class hears that the session opens
//!   ([`LabEvent::SessionOpening`]) and its assigned student VMs are started, bounded per node by
//!   the same clone slots as provisioning; each started VM is announced to its student;
//! - at `end - shutdown.hours_warning_lead`: the students of running VMs are warned;
//! - at `end`: the shutdown of each running student VM is decided (reason: the session ended),
//!   and the inventory job sends it, gracefully, as it does every automatic shutdown, and
//!   announces it once the VM is seen stopped. A class that is in another session at that time
//!   (sessions that touch) keeps its VMs.
//!
//! Inside a session (lead time included) the inventory job charges running time to the
//! student's session hours instead of the quota and applies none of its automatic shutdowns
//! (quota, hours, idle): a session may lie outside the class's allowed hours.

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::events::{LabEvent, ShutdownReason};
use crate::lab::Lab;
use crate::model::{ClassSession, SessionId, SessionSpan};
use crate::pools::actions::{self, VmAction};
use crate::store::classes::{self, Class};
use crate::store::inventory::{self, GuestState};
use crate::store::pool::steps::{self, PoolVmState};
use crate::store::pool::{PowerState, VmRole, VmStep};
use crate::store::sessions::{self as store, RunStep};
use crate::store::vm_watch::{self, PendingShutdown};
use crate::store::{outbox, settings};
use crate::types::{ClassId, ClassTimeZone, VmId};

/// How often the sessions job looks at the schedule: fine enough for a lead time of minutes.
pub(crate) const TICK: Duration = Duration::from_secs(30);
/// How long after its end an occurrence is still shut down (a lab that was down that long).
const LATE_END: SignedDuration = SignedDuration::from_hours(24);

/// What one tick of the sessions job did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionsReport {
    /// Sessions announced as opening: (class, session).
    pub opened: Vec<(ClassId, SessionId)>,
    /// Student VMs started for a session.
    pub started: Vec<VmId>,
    /// Student VMs that could not be started, with the reason.
    pub not_started: Vec<(VmId, String)>,
    /// Student VMs warned that their session ends.
    pub warned: Vec<VmId>,
    /// Student VMs whose shutdown was decided because their session ended.
    pub shutdowns: Vec<VmId>,
}

/// One occurrence the tick acts on.
#[derive(Debug, Clone)]
struct Due {
    class: ClassId,
    session: SessionId,
    span: SessionSpan,
}

/// The steps due now for `span`.
fn due_steps(
    span: SessionSpan,
    now: Timestamp,
    lead: SignedDuration,
    warn: SignedDuration,
) -> Vec<RunStep> {
    let mut steps = Vec::new();
    if now >= span.starts_at - lead && now < span.ends_at {
        steps.push(RunStep::Announced);
        steps.push(RunStep::Started);
    }
    if now >= span.ends_at - warn && now < span.ends_at {
        steps.push(RunStep::Warned);
    }
    if now >= span.ends_at && now < span.ends_at + LATE_END {
        steps.push(RunStep::Ended);
    }
    steps
}

/// The occurrences of `session` that may need a step at `now`: from those ended within
/// [`LATE_END`] to the next one opening.
fn near(
    session: &ClassSession,
    zone: &ClassTimeZone,
    now: Timestamp,
    lead: SignedDuration,
) -> Vec<SessionSpan> {
    let mut spans = Vec::new();
    let mut cursor = now - LATE_END;
    while let Some(span) = session.plan.next_after(cursor, zone) {
        if span.starts_at - lead > now {
            break;
        }
        spans.push(span);
        cursor = span.ends_at;
    }
    spans
}

/// The VMs of students in the class that are ready (the ones sessions start and stop).
fn student_vms(tx: &rusqlite::Connection, class: ClassId) -> Result<Vec<PoolVmState>> {
    Ok(steps::states(tx, class)?
        .into_iter()
        .filter(|s| {
            s.step == VmStep::Ready
                && s.vm.assigned_to.is_some()
                && matches!(s.vm.role, VmRole::Student { .. } | VmRole::Manual)
        })
        .collect())
}

/// Whether the inventory (else the pool's last seen power) shows the VM running.
fn running(tx: &rusqlite::Connection, vm: &PoolVmState) -> Result<bool> {
    Ok(match inventory::get(tx, &vm.vm.cluster_id, vm.vm.vmid)? {
        Some(entry) => entry.state == GuestState::Running,
        None => vm.power == Some(PowerState::Running),
    })
}

impl Lab {
    /// One tick of the sessions job (the scheduler runs it every 30 s; tests call it after
    /// moving the clock): announces and warm-starts sessions opening within the lead time,
    /// warns before their end and decides the shutdowns after it. Acts as the system.
    ///
    /// # Errors
    /// [`Error::Internal`](crate::Error::Internal) when the database fails; a VM that cannot be
    /// started is reported in [`SessionsReport::not_started`], not as an error.
    pub async fn run_sessions(&self) -> Result<SessionsReport> {
        let now = self.now();
        let (due, lead, warn) = self
            .db()
            .read(move |tx| {
                let system = settings::load(tx)?;
                let lead = SignedDuration::try_from(system.session_lead()).unwrap_or_default();
                let warn =
                    SignedDuration::try_from(system.hours_warning_lead()).unwrap_or_default();
                let mut zones: HashMap<ClassId, Option<ClassTimeZone>> = HashMap::new();
                let mut due = Vec::new();
                for session in store::all(tx)? {
                    let zone = match zones.get(&session.class_id) {
                        Some(zone) => zone.clone(),
                        None => {
                            let zone = match classes::get_for_pool(tx, session.class_id) {
                                Ok((class, false)) => Some(crate::lab::session_zone(tx, &class)?),
                                _ => None,
                            };
                            zones.insert(session.class_id, zone.clone());
                            zone
                        }
                    };
                    let Some(zone) = zone else { continue };
                    for span in near(&session, &zone, now, lead) {
                        if !due_steps(span, now, lead, warn).is_empty() {
                            due.push(Due {
                                class: session.class_id,
                                session: session.id,
                                span,
                            });
                        }
                    }
                }
                Ok((due, lead, warn))
            })
            .await?;
        let mut report = SessionsReport::default();
        for occurrence in due {
            for step in due_steps(occurrence.span, now, lead, warn) {
                self.session_step(&occurrence, step, &mut report).await?;
            }
        }
        let pruned_before = now - LATE_END - SignedDuration::from_hours(24);
        self.db()
            .write(move |tx| store::prune_runs(tx, pruned_before))
            .await?;
        Ok(report)
    }

    async fn session_step(
        &self,
        due: &Due,
        step: RunStep,
        report: &mut SessionsReport,
    ) -> Result<()> {
        let (class, session, span) = (due.class, due.session, due.span);
        match step {
            RunStep::Announced => {
                let announced = self
                    .db()
                    .write(move |tx| {
                        if !store::claim(tx, session, span, RunStep::Announced)? {
                            return Ok(false);
                        }
                        let stored: Class = classes::get(tx, class)?;
                        let zone = crate::lab::session_zone(tx, &stored)?;
                        outbox::append(
                            tx,
                            &LabEvent::SessionOpening {
                                class_id: class,
                                class_name: stored.name,
                                session,
                                starts_at: span.starts_at,
                                ends_at: span.ends_at,
                                zone: zone.name().to_owned(),
                            },
                        )?;
                        Ok(true)
                    })
                    .await?;
                if announced {
                    self.wake_consumers(1);
                    report.opened.push((class, session));
                }
            }
            RunStep::Started => {
                let to_start = self
                    .db()
                    .write(move |tx| {
                        if !store::claim(tx, session, span, RunStep::Started)? {
                            return Ok(Vec::new());
                        }
                        let mut stopped = Vec::new();
                        for vm in student_vms(tx, class)? {
                            if !running(tx, &vm)? {
                                stopped.push(vm);
                            }
                        }
                        Ok(stopped)
                    })
                    .await?;
                self.warm_start(session, to_start, report).await?;
            }
            RunStep::Warned => {
                let in_minutes = crate::jobs::enforce::minutes_until(self.now(), span.ends_at);
                let warned = self
                    .db()
                    .write(move |tx| {
                        if !store::claim(tx, session, span, RunStep::Warned)? {
                            return Ok(Vec::new());
                        }
                        let mut warned = Vec::new();
                        for vm in student_vms(tx, class)? {
                            if running(tx, &vm)? {
                                outbox::append(
                                    tx,
                                    &LabEvent::ShutdownWarning {
                                        user_id: vm.vm.assigned_to,
                                        class_id: class,
                                        vmid: vm.vm.vmid,
                                        reason: ShutdownReason::SessionEnded { session },
                                        in_minutes,
                                    },
                                )?;
                                warned.push(vm.vm.vmid);
                            }
                        }
                        Ok(warned)
                    })
                    .await?;
                self.wake_consumers(warned.len());
                report.warned.extend(warned);
            }
            RunStep::Ended => {
                let lead = self
                    .db()
                    .read(|tx| Ok(settings::load(tx)?.session_lead()))
                    .await?;
                let lead = SignedDuration::try_from(lead).unwrap_or_default();
                let now = self.now();
                let decided = self
                    .db()
                    .write(move |tx| {
                        if !store::claim(tx, session, span, RunStep::Ended)? {
                            return Ok(Vec::new());
                        }
                        let stored = classes::get(tx, class)?;
                        let zone = crate::lab::session_zone(tx, &stored)?;
                        // Touching sessions: the next one keeps the VMs running.
                        if crate::lab::in_session(&store::list(tx, class)?, &zone, now, lead) {
                            return Ok(Vec::new());
                        }
                        let mut decided = Vec::new();
                        for vm in student_vms(tx, class)? {
                            if !running(tx, &vm)? {
                                continue;
                            }
                            let mut watch = vm_watch::get(tx, &vm.vm.cluster_id, vm.vm.vmid)?;
                            if watch.shutdown.is_none() {
                                watch.shutdown = Some(PendingShutdown {
                                    reason: ShutdownReason::SessionEnded { session },
                                    decided_at: now,
                                    requested_at: None,
                                    attempts: 0,
                                });
                                vm_watch::save(tx, &vm.vm.cluster_id, vm.vm.vmid, &watch)?;
                                decided.push(vm.vm.vmid);
                            }
                        }
                        Ok(decided)
                    })
                    .await?;
                report.shutdowns.extend(decided);
            }
        }
        Ok(())
    }

    /// Starts the VMs, at most the clone slots of each node at once, and announces each start
    /// to its student.
    async fn warm_start(
        &self,
        session: SessionId,
        vms: Vec<PoolVmState>,
        report: &mut SessionsReport,
    ) -> Result<()> {
        let mut set = JoinSet::new();
        for vm in vms {
            let lab = self.clone();
            set.spawn(async move {
                let node = vm
                    .vm
                    .node
                    .as_ref()
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default();
                let slots = lab.pools().clone_slots(&vm.vm.cluster_id, &node);
                let _slot = slots.acquire_owned().await;
                let result = actions::run(&lab, &vm, VmAction::Start).await;
                (vm, result)
            });
        }
        let mut started = Vec::new();
        while let Some(joined) = set.join_next().await {
            let Ok((vm, result)) = joined else { continue };
            match result {
                Ok(_) => started.push(vm),
                Err(e) => {
                    tracing::warn!(vmid = %vm.vm.vmid, error = %e, "a VM could not be started for its session");
                    report.not_started.push((vm.vm.vmid, e.to_string()));
                }
            }
        }
        if started.is_empty() {
            return Ok(());
        }
        report.started.extend(started.iter().map(|vm| vm.vm.vmid));
        let count = started.len();
        self.db()
            .write(move |tx| {
                for vm in &started {
                    outbox::append(
                        tx,
                        &LabEvent::VmStartedForSession {
                            user_id: vm.vm.assigned_to,
                            class_id: vm.vm.class_id,
                            vmid: vm.vm.vmid,
                            session,
                        },
                    )?;
                }
                Ok(())
            })
            .await?;
        self.wake_consumers(count);
        Ok(())
    }
}

/// Runs the sessions job every [`TICK`] on the lab's clock until `cancel`.
pub(crate) async fn run_loop(lab: Lab, cancel: CancellationToken) {
    loop {
        if let Err(e) = lab.run_sessions().await {
            tracing::error!(error = %e, "the sessions job failed; it runs again at its next tick");
        }
        let next = lab.now() + SignedDuration::try_from(TICK).unwrap_or_default();
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = lab.clock().sleep_until(next) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn steps_follow_the_session_lead_warning_and_end() {
        let span = SessionSpan {
            starts_at: at("2027-01-11T09:00:00Z"),
            ends_at: at("2027-01-11T11:00:00Z"),
        };
        let (lead, warn) = (SignedDuration::from_mins(10), SignedDuration::from_mins(5));
        assert!(due_steps(span, at("2027-01-11T08:49:00Z"), lead, warn).is_empty());
        assert_eq!(
            due_steps(span, at("2027-01-11T08:50:00Z"), lead, warn),
            vec![RunStep::Announced, RunStep::Started]
        );
        assert_eq!(
            due_steps(span, at("2027-01-11T10:56:00Z"), lead, warn),
            vec![RunStep::Announced, RunStep::Started, RunStep::Warned]
        );
        assert_eq!(
            due_steps(span, at("2027-01-11T11:00:00Z"), lead, warn),
            vec![RunStep::Ended]
        );
        assert!(due_steps(span, at("2027-01-12T11:00:00Z"), lead, warn).is_empty());
    }
}
