//! The steps of one VM, from where the planner says it stands to where the intent wants it.
//!
//! Each step records its intent (the step reached, the task started) in one transaction, calls
//! Proxmox, and records the result in another; a crash between any two leaves a record the
//! planner resumes from. Before pvelab changes or deletes a VM it reads the VM's config and
//! checks the marker for this class and slot; without it, the VM is left alone.

use pvelab_proxmox::{CloneParams, ConfigUpdate, DeleteParams, GuestStatus, SnapshotParams};

use super::announce;
use super::marker::{has_tag, with_tag, Marker};
use super::observe::config_fact;
use super::placement::CloneSpec;
use super::plan::{foreign_reason, recorded_node, slot_of, Action, Next};
use super::retry::{describe, is_exists, is_missing, StepError};
use super::run::{upid, Run};
use crate::events::RebuildReason;
use crate::lab::{announce_assignments, promote_waitlist};
use crate::store::pool::steps::{self, StepChange};
use crate::store::pool::{self, VmRole, VmStatus, VmStep};
use crate::types::{Slot, VmId};

/// The name of the baseline snapshot every pool VM gets.
pub(crate) const BASELINE: &str = "baseline";

/// How one VM's work ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Built (or rebuilt) and ready.
    Ready,
    /// Could not be done now; recorded with the reason (retried later).
    Failed(String),
    /// Deleted from Proxmox and forgotten.
    Deleted,
    /// Changed in place, or its record settled without a VM to build.
    Changed,
    /// Another piece of work held the VM.
    Busy,
}

/// Where a VM's creation continues.
#[derive(Debug, Clone)]
enum Start {
    Clone,
    Await(String),
    Unlock(String),
    Configure(String),
    Snapshot(String),
    Ready,
}

/// Runs one action to its end.
pub(crate) async fn drive(run: &Run, action: Action) -> Outcome {
    let vmid = action.vmid();
    // An action that builds a VM records a failure as the VM's step (it is retried later).
    let creating = action.builds();
    let result = match action {
        Action::Add { vmid, role, clone } => add(run, vmid, role, clone).await,
        Action::Clone { vmid, clone } => build(run, vmid, Start::Clone, Ok(clone), None).await,
        Action::AwaitClone { vmid, upid, clone } => {
            build(run, vmid, Start::Await(upid), Ok(clone), None).await
        }
        Action::Continue { vmid, node, next } => {
            let start = match next {
                Next::WaitUnlock => Start::Unlock(node.clone()),
                Next::Configure => Start::Configure(node.clone()),
                Next::Snapshot => Start::Snapshot(node.clone()),
                Next::Ready => Start::Ready,
            };
            let fallback = fallback_spec(run, &node);
            build(run, vmid, start, fallback, None).await
        }
        Action::Fail { reason, .. } => Err(StepError::Foreign(reason)),
        Action::Delete { vmid, node, upid } => delete(run, vmid, &node, upid.as_deref()).await,
        Action::Forget { vmid, reason } => forget(run, vmid, &reason).await,
        Action::Rebuild {
            vmid,
            node,
            upid,
            clone,
        } => rebuild(run, vmid, node.as_deref(), upid.as_deref(), clone).await,
        Action::Vanished { vmid, node, clone } => vanished(run, vmid, node.as_deref(), clone).await,
        Action::Reconfigure { vmid, node } => reconfigure(run, vmid, &node).await,
        Action::Reimage { vmid } => reimage_released(run, vmid).await,
        Action::Shrink { vmid } => shrink(run, vmid).await,
        Action::Power { .. } => Ok(Outcome::Changed),
    };
    match result {
        Ok(outcome) => outcome,
        Err(e) => settle(run, vmid, creating, e).await,
    }
}

/// A spec to clone again with on `node` (a VM we continue with may turn out to be gone).
fn fallback_spec(run: &Run, node: &str) -> Result<CloneSpec, String> {
    let source = run.source.as_ref().map_err(Clone::clone)?;
    super::placement::clone_to(source, node)
        .ok_or_else(|| super::placement::unreachable_node_reason(source, node))
}

/// Records a failure: a creation is marked failed (tried again after a pause), a deletion or
/// rebuild keeps its step with the error.
async fn settle(run: &Run, vmid: VmId, creating: bool, e: StepError) -> Outcome {
    let reason = e.reason();
    if let StepError::Stop(err) = &e {
        tracing::warn!(%vmid, error = %err, "pool work on a VM stopped");
        run.report.failed(vmid, &reason);
        return Outcome::Failed(reason);
    }
    let class = run.intent.class;
    let attempts = run
        .state(vmid)
        .await
        .map(|s| s.attempts)
        .unwrap_or_default();
    // A refusal that needs a person (permissions, a missing template) waits the longest.
    let delay = match &e {
        StepError::Proxmox {
            transient: false, ..
        } => run.config().failed_retry_max,
        _ => run.config().failed_retry_delay(attempts),
    };
    let next = run
        .lab
        .now()
        .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
        .unwrap_or_else(|_| run.lab.now());
    let step = creating.then_some(VmStep::Failed);
    let text = reason.clone();
    let recorded = run
        .lab
        .db()
        .write(move |tx| steps::record_failure(tx, class, vmid, step, &text, next))
        .await;
    if let Err(err) = recorded {
        tracing::warn!(%vmid, error = %err, "a VM's failure could not be recorded");
    }
    tracing::info!(%vmid, %reason, "pool VM failed");
    run.report.failed(vmid, &reason);
    Outcome::Failed(reason)
}

/// Records a new slot as planned (on its chosen node), then builds it.
async fn add(
    run: &Run,
    vmid: VmId,
    role: VmRole,
    clone: Result<CloneSpec, String>,
) -> Result<Outcome, StepError> {
    let class = run.intent.class;
    let cluster = run.intent.cluster.clone();
    let name = vm_name(run, role);
    let node = clone.as_ref().ok().map(|c| c.target_node.clone());
    run.lab
        .db()
        .write(move |tx| {
            steps::insert_planned(
                tx,
                class,
                &steps::Planned {
                    cluster: &cluster,
                    vmid,
                    role,
                    node: node.as_deref().unwrap_or_default(),
                    name: &name,
                    step: VmStep::Planned,
                    mac: None,
                },
            )
        })
        .await?;
    build(run, vmid, Start::Clone, clone, None).await
}

/// The VM's name on Proxmox: the class name made a DNS label, and the slot.
pub(crate) fn vm_name(run: &Run, role: VmRole) -> String {
    let mut slug = String::new();
    for c in run.intent.name.as_str().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_matches('-').to_owned();
    slug.truncate(40);
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() {
        format!("class{}", run.intent.class)
    } else {
        slug.to_owned()
    };
    match role {
        VmRole::Teacher => format!("{slug}-teacher"),
        VmRole::Base => format!("{slug}-base"),
        VmRole::Student { slot } => format!("{slug}-{slot:02}"),
        VmRole::Manual => slug,
    }
}

fn marker(run: &Run, role: VmRole) -> Option<Marker> {
    Some(Marker::new(
        run.intent.class,
        slot_of(role)?,
        run.intent.cluster.clone(),
    ))
}

/// Builds a VM from `start` to ready: clone, configure, snapshot, ready, trying again (a clone
/// that failed, a VM that vanished) up to `step_retries` times.
async fn build(
    run: &Run,
    vmid: VmId,
    mut start: Start,
    spec: Result<CloneSpec, String>,
    rebuilt: Option<RebuildReason>,
) -> Result<Outcome, StepError> {
    let state = run.state(vmid).await?;
    let role = state.vm.role;
    let slot = slot_of(role).ok_or_else(|| {
        StepError::Foreign("a VM registered by hand is never rebuilt by pvelab".into())
    })?;
    let mut counted = false;
    let mut tries = 0;
    loop {
        let next = match start {
            Start::Clone => {
                let spec = spec.clone().map_err(StepError::Foreign)?;
                if !counted {
                    run.report.cloning(vmid, role);
                    counted = true;
                }
                match clone(run, vmid, role, &spec).await {
                    Ok(CloneEnd::Done) => Start::Configure(spec.target_node.clone()),
                    Ok(CloneEnd::TaskFailed(why)) => match locate(run, vmid).await? {
                        Some(node) => Start::Unlock(node),
                        None => retry(run, vmid, &mut tries, &why).await?,
                    },
                    Ok(CloneEnd::Unknown(e)) => return Err(e),
                    Err(Cloned::Exists) => adopt(run, vmid, slot).await?,
                    Err(Cloned::Failed(e)) => return Err(e),
                }
            }
            Start::Await(upid_text) => match await_clone(run, vmid, &upid_text).await? {
                Some(()) => {
                    let node = spec
                        .as_ref()
                        .map(|s| s.target_node.clone())
                        .ok()
                        .or_else(|| recorded_node(&state))
                        .unwrap_or_default();
                    Start::Configure(node)
                }
                None => {
                    // The clone failed or its task is unknown: look for our VM, else clone again.
                    match locate(run, vmid).await? {
                        Some(node) => Start::Unlock(node),
                        None => retry(run, vmid, &mut tries, "the clone task failed").await?,
                    }
                }
            },
            Start::Unlock(node) => match wait_unlocked(run, vmid, &node).await? {
                true => Start::Configure(node),
                false => retry(run, vmid, &mut tries, "the VM vanished during its clone").await?,
            },
            Start::Configure(node) => match configure(run, vmid, slot, &node).await {
                Ok(()) => {
                    run.record(vmid, VmStep::Configured, None, Some(&node), None)
                        .await?;
                    run.report.configured(vmid);
                    Start::Snapshot(node)
                }
                Err(StepError::Gone) => {
                    retry(
                        run,
                        vmid,
                        &mut tries,
                        "the VM vanished before its configuration",
                    )
                    .await?
                }
                Err(e) => return Err(e),
            },
            Start::Snapshot(node) => match snapshot(run, vmid, &node).await {
                Ok(()) => {
                    run.record(vmid, VmStep::Snapshotted, None, None, None)
                        .await?;
                    run.report.snapshotted(vmid);
                    Start::Ready
                }
                Err(StepError::Gone) => {
                    retry(run, vmid, &mut tries, "the VM vanished before its snapshot").await?
                }
                Err(e) => return Err(e),
            },
            Start::Ready => {
                ready(run, vmid, rebuilt).await?;
                return Ok(Outcome::Ready);
            }
        };
        start = next;
    }
}

/// One more try from the clone, or the error when the tries are used up.
async fn retry(run: &Run, vmid: VmId, tries: &mut u32, why: &str) -> Result<Start, StepError> {
    if *tries >= run.config().step_retries {
        return Err(StepError::Proxmox {
            reason: format!("{why}, {} times", *tries + 1),
            transient: true,
        });
    }
    run.report.retrying(vmid, why);
    tokio::time::sleep(run.config().retry_delay(*tries)).await;
    *tries += 1;
    run.record(vmid, VmStep::Planned, None, None, None).await?;
    Ok(Start::Clone)
}

enum Cloned {
    /// The VMID is taken: ours (adopt it) or someone else's (fail).
    Exists,
    Failed(StepError),
}

/// How a clone task ended, as far as this run saw.
enum CloneEnd {
    Done,
    /// The task failed (a failed clone leaves nothing behind).
    TaskFailed(String),
    /// Its outcome could not be learned now (the node stopped answering); it is recorded.
    Unknown(StepError),
}

/// Requests the clone (holding one of the target node's clone slots until its task ends) and
/// records its task.
async fn clone(run: &Run, vmid: VmId, role: VmRole, spec: &CloneSpec) -> Result<CloneEnd, Cloned> {
    run.record(vmid, VmStep::Cloning, None, Some(&spec.target_node), None)
        .await
        .map_err(Cloned::Failed)?;
    let slots = run
        .lab
        .pools()
        .clone_slots(&run.intent.cluster, &spec.target_node);
    let _slot = slots
        .acquire_owned()
        .await
        .map_err(|_| Cloned::Failed(StepError::Gone))?;
    let mut params = CloneParams::new(vmid.get()).name(vm_name(run, role));
    if let Some(m) = marker(run, role) {
        params = params.description(m.description());
    }
    if spec.target_node != spec.source_node {
        params = params.target(spec.target_node.clone());
    }
    if spec.full {
        params = params.full(true);
    }
    let source = run.qemu(&spec.source_node, spec.source_vmid);
    let upid = match run.call(vmid, || source.clone_vm(&params)).await {
        Ok(upid) => upid,
        Err(e) if is_exists(&e) => return Err(Cloned::Exists),
        Err(e) => return Err(Cloned::Failed(StepError::proxmox(&e))),
    };
    run.record(
        vmid,
        VmStep::Cloning,
        Some(upid.as_str()),
        Some(&spec.target_node),
        None,
    )
    .await
    .map_err(Cloned::Failed)?;
    Ok(match run.wait(vmid, &upid).await {
        Ok(()) => CloneEnd::Done,
        Err(e @ pvelab_proxmox::Error::TaskFailed { .. }) => CloneEnd::TaskFailed(describe(&e)),
        Err(e) => CloneEnd::Unknown(StepError::proxmox(&e)),
    })
}

/// Asks a recorded clone task: `Some` when it succeeded, `None` when it failed or is unknown.
async fn await_clone(run: &Run, vmid: VmId, upid_text: &str) -> Result<Option<()>, StepError> {
    let Some(upid) = upid(upid_text) else {
        return Ok(None);
    };
    match run.wait(vmid, &upid).await {
        Ok(()) => Ok(Some(())),
        Err(e @ pvelab_proxmox::Error::TaskFailed { .. }) => {
            run.report.retrying(vmid, &describe(&e));
            Ok(None)
        }
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(StepError::proxmox(&e)),
    }
}

/// The VMID is taken: continue with it if it is ours, else fail the slot.
async fn adopt(run: &Run, vmid: VmId, slot: Slot) -> Result<Start, StepError> {
    let listing = run.client.cluster();
    let found = run
        .call(vmid, || listing.vms())
        .await
        .map_err(|e| StepError::proxmox(&e))?;
    let Some(node) = found
        .iter()
        .find(|r| r.vmid == Some(vmid.get()))
        .and_then(|r| r.node.clone())
    else {
        // Gone again meanwhile: clone once more.
        return Ok(Start::Clone);
    };
    let qemu = run.qemu(&node, vmid.get());
    let config = match run.call(vmid, || qemu.config()).await {
        Ok(c) => config_fact(&c),
        Err(e) if is_missing(&e) => return Ok(Start::Clone),
        Err(e) => return Err(StepError::proxmox(&e)),
    };
    match config.marker {
        Some(m) if m.is_for(run.intent.class, slot, &run.intent.cluster) => Ok(Start::Unlock(node)),
        _ => Err(StepError::Foreign(foreign_reason(vmid.get(), &node))),
    }
}

/// Where our VM is, if it exists (with our marker); `None` when it does not.
async fn locate(run: &Run, vmid: VmId) -> Result<Option<String>, StepError> {
    match adopt(run, vmid, slot_for(run, vmid).await?).await? {
        Start::Unlock(node) => Ok(Some(node)),
        _ => Ok(None),
    }
}

async fn slot_for(run: &Run, vmid: VmId) -> Result<Slot, StepError> {
    let state = run.state(vmid).await?;
    slot_of(state.vm.role).ok_or_else(|| {
        StepError::Foreign("a VM registered by hand is never changed by pvelab".into())
    })
}

/// Waits until the VM carries no lock (its clone finished); `false` when it vanished.
async fn wait_unlocked(run: &Run, vmid: VmId, node: &str) -> Result<bool, StepError> {
    let deadline = tokio::time::Instant::now() + run.config().task_timeout;
    let mut pause = run.config().task_poll;
    let qemu = run.qemu(node, vmid.get());
    loop {
        match run.call(vmid, || qemu.status()).await {
            Ok(s) if s.lock.as_deref().is_none_or(str::is_empty) => return Ok(true),
            Ok(_) => {}
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(StepError::proxmox(&e)),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StepError::Proxmox {
                reason: format!("VM {vmid} stayed locked longer than the task timeout"),
                transient: true,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause + pause / 2).min(run.config().task_poll_max);
    }
}

/// Sets cores, memory and the tag, grows the disk to the class's size, after checking the
/// marker; returns when the config is as the class wants it (a running VM has the change
/// pending until its next stop).
async fn configure(run: &Run, vmid: VmId, slot: Slot, node: &str) -> Result<(), StepError> {
    let qemu = run.qemu(node, vmid.get());
    let specs = run.intent.specs;
    let mut tries = 0;
    loop {
        let config = match run.call(vmid, || qemu.config()).await {
            Ok(c) => c,
            Err(e) if is_missing(&e) => return Err(StepError::Gone),
            Err(e) => return Err(StepError::proxmox(&e)),
        };
        let fact = config_fact(&config);
        if !fact
            .marker
            .as_ref()
            .is_some_and(|m| m.is_for(run.intent.class, slot, &run.intent.cluster))
        {
            return Err(StepError::Foreign(foreign_reason(vmid.get(), node)));
        }
        if fact.lock.is_some() && !wait_unlocked(run, vmid, node).await? {
            return Err(StepError::Gone);
        }
        let mut update = ConfigUpdate::new();
        if fact.cores != Some(u64::from(specs.cores)) {
            update = update.set("cores", specs.cores);
        }
        if fact.memory_mb != Some(u64::from(specs.memory_mb)) {
            update = update.set("memory", specs.memory_mb);
        }
        if !fact.tags.as_deref().is_some_and(has_tag) {
            update = update.set("tags", with_tag(fact.tags.as_deref()));
        }
        if !update.is_empty() {
            if let Some(digest) = &fact.digest {
                update = update.digest(digest.clone());
            }
            match run.call(vmid, || qemu.update_config(&update)).await {
                Ok(()) => {}
                Err(e) if is_missing(&e) => return Err(StepError::Gone),
                Err(e) if changed_meanwhile(&e) && tries < run.config().step_retries => {
                    // Someone changed the config between our read and our write: read again.
                    tries += 1;
                    continue;
                }
                Err(e) => return Err(StepError::proxmox(&e)),
            }
        }
        if let Some((key, bytes)) = &fact.disk {
            if *bytes < specs.disk_bytes() {
                let size = format!("{}G", specs.disk_gb);
                match run.call(vmid, || qemu.resize_disk(key, &size)).await {
                    Ok(Some(task)) => run
                        .wait(vmid, &task)
                        .await
                        .map_err(|e| StepError::proxmox(&e))?,
                    Ok(None) => {}
                    Err(e) if is_missing(&e) => return Err(StepError::Gone),
                    Err(e) => return Err(StepError::proxmox(&e)),
                }
            }
        }
        if let Some(mac) = &fact.mac {
            let class = run.intent.class;
            let mac = mac.clone();
            run.lab
                .db()
                .write(move |tx| {
                    let state = steps::state(tx, class, vmid)?;
                    steps::set_step(
                        tx,
                        class,
                        vmid,
                        state.step,
                        &StepChange {
                            task: state.task.as_deref(),
                            node: None,
                            mac: Some(&mac),
                            keep_attempts: true,
                        },
                    )
                })
                .await?;
        }
        return Ok(());
    }
}

fn changed_meanwhile(e: &pvelab_proxmox::Error) -> bool {
    let text = e.to_string();
    text.contains("checksum mismatch") || text.contains("detected modified configuration")
}

/// Takes the `baseline` snapshot unless it exists.
async fn snapshot(run: &Run, vmid: VmId, node: &str) -> Result<(), StepError> {
    let qemu = run.qemu(node, vmid.get());
    let mut tries = 0;
    loop {
        let list = match run.call(vmid, || qemu.snapshots()).await {
            Ok(list) => list,
            Err(e) if is_missing(&e) => return Err(StepError::Gone),
            Err(e) => return Err(StepError::proxmox(&e)),
        };
        if list.iter().any(|s| s.name == BASELINE) {
            return Ok(());
        }
        let params = SnapshotParams::new(BASELINE)
            .description("the state pvelab built; revert returns here");
        let failure = match run.call(vmid, || qemu.create_snapshot(&params)).await {
            Ok(task) => match run.wait(vmid, &task).await {
                Ok(()) => continue,
                Err(e) => e,
            },
            Err(e) if is_missing(&e) => return Err(StepError::Gone),
            Err(e) if e.to_string().contains("already used") => continue,
            Err(e) => e,
        };
        if tries >= run.config().step_retries {
            return Err(StepError::proxmox(&failure));
        }
        run.report.retrying(vmid, &describe(&failure));
        tokio::time::sleep(run.config().retry_delay(tries)).await;
        tries += 1;
    }
}

/// Records the VM ready; a released VM is clean again, waiting students are served, and the
/// holder of a rebuilt VM hears of it (events written in the same transaction).
async fn ready(run: &Run, vmid: VmId, rebuilt: Option<RebuildReason>) -> Result<(), StepError> {
    let class = run.intent.class;
    let name = run.intent.name.clone();
    let written = run
        .lab
        .db()
        .write(move |tx| {
            let state = steps::set_step(tx, class, vmid, VmStep::Ready, &StepChange::default())?;
            if state.vm.needs_reimage && state.vm.assigned_to.is_none() {
                pool::mark_reimaged(tx, class, &state.vm.vm_ref())?;
            }
            let mut written = 0;
            if let (Some(reason), Some(holder)) = (rebuilt, state.vm.assigned_to) {
                written += announce::vm_rebuilt(tx, holder, class, vmid, reason)?;
            }
            if let VmRole::Student { .. } = state.vm.role {
                let promoted = promote_waitlist(tx, class)?;
                written += announce_assignments(tx, class, &name, &promoted)?;
            }
            Ok(written)
        })
        .await?;
    run.lab.wake_consumers(written);
    run.report.ready(vmid);
    Ok(())
}

/// What a delete found.
enum Deleted {
    /// The VM is gone from Proxmox.
    Gone,
    /// The VM at this VMID is not ours: left alone.
    NotOurs(String),
}

/// Deletes our VM at `vmid` (stopping it first), waiting for a recorded delete task first;
/// `keep` is the step the record stays at meanwhile (deleting or rebuilding).
async fn delete_vm(
    run: &Run,
    vmid: VmId,
    node: &str,
    upid_text: Option<&str>,
    keep: VmStep,
) -> Result<Deleted, StepError> {
    if let Some(task) = upid_text.and_then(upid) {
        // Its outcome shows in what is found below.
        let _ = run.wait(vmid, &task).await;
    }
    let slot = slot_for(run, vmid).await?;
    let mut node = node.to_owned();
    let mut tries = 0;
    loop {
        let qemu = run.qemu(&node, vmid.get());
        let config = match run.call(vmid, || qemu.config()).await {
            Ok(c) => config_fact(&c),
            Err(e) if is_missing(&e) => match find_node(run, vmid).await? {
                Some(moved) if moved != node => {
                    node = moved;
                    continue;
                }
                _ => return Ok(Deleted::Gone),
            },
            Err(e) => return Err(StepError::proxmox(&e)),
        };
        if !config
            .marker
            .as_ref()
            .is_some_and(|m| m.is_for(run.intent.class, slot, &run.intent.cluster))
        {
            return Ok(Deleted::NotOurs(foreign_reason(vmid.get(), &node)));
        }
        let status = match run.call(vmid, || qemu.status()).await {
            Ok(s) => s,
            Err(e) if is_missing(&e) => return Ok(Deleted::Gone),
            Err(e) => return Err(StepError::proxmox(&e)),
        };
        let failure = if status.status == GuestStatus::Running {
            match run.call(vmid, || qemu.stop()).await {
                Ok(task) => match run.wait(vmid, &task).await {
                    Ok(()) => continue,
                    Err(e) => e,
                },
                Err(e) => e,
            }
        } else {
            let purge = DeleteParams::purge_all();
            match run.call(vmid, || qemu.delete(&purge)).await {
                Ok(task) => {
                    run.record(vmid, keep, Some(task.as_str()), None, None)
                        .await?;
                    match run.wait(vmid, &task).await {
                        Ok(()) => continue,
                        Err(e) => e,
                    }
                }
                Err(e) if is_missing(&e) => return Ok(Deleted::Gone),
                Err(e) => e,
            }
        };
        if tries >= run.config().step_retries {
            return Err(StepError::proxmox(&failure));
        }
        run.report.retrying(vmid, &describe(&failure));
        tokio::time::sleep(run.config().retry_delay(tries)).await;
        tries += 1;
    }
}

/// The node the cluster lists VM `vmid` on, if it lists it.
async fn find_node(run: &Run, vmid: VmId) -> Result<Option<String>, StepError> {
    let listing = run.client.cluster();
    let listed = run
        .call(vmid, || listing.vms())
        .await
        .map_err(|e| StepError::proxmox(&e))?;
    Ok(listed
        .into_iter()
        .find(|r| r.vmid == Some(vmid.get()) && r.kind == "qemu")
        .and_then(|r| r.node))
}

/// Deletes a VM marked for deletion and forgets its record.
async fn delete(
    run: &Run,
    vmid: VmId,
    node: &str,
    upid_text: Option<&str>,
) -> Result<Outcome, StepError> {
    let found = delete_vm(run, vmid, node, upid_text, VmStep::Deleting).await?;
    let class = run.intent.class;
    run.lab
        .db()
        .write(move |tx| steps::remove(tx, class, vmid))
        .await?;
    match found {
        Deleted::Gone => {
            run.report.deleted(vmid);
            Ok(Outcome::Deleted)
        }
        Deleted::NotOurs(reason) => {
            tracing::info!(%vmid, %reason, "a foreign VM was left alone; only its record went");
            Ok(Outcome::Changed)
        }
    }
}

/// Forgets a record whose VM is gone or not ours.
async fn forget(run: &Run, vmid: VmId, reason: &str) -> Result<Outcome, StepError> {
    let class = run.intent.class;
    run.lab
        .db()
        .write(move |tx| steps::remove(tx, class, vmid))
        .await?;
    tracing::info!(%vmid, %reason, "forgot a pool VM record");
    run.report.deleted(vmid);
    Ok(Outcome::Deleted)
}

/// Replaces our VM: deletes it if it is there, then builds it again; the holder keeps it.
async fn rebuild(
    run: &Run,
    vmid: VmId,
    node: Option<&str>,
    upid_text: Option<&str>,
    clone: Result<CloneSpec, String>,
) -> Result<Outcome, StepError> {
    if let Some(node) = node {
        if let Deleted::NotOurs(reason) =
            delete_vm(run, vmid, node, upid_text, VmStep::Rebuilding).await?
        {
            return Err(StepError::Foreign(reason));
        }
    }
    let target = clone.as_ref().ok().map(|c| c.target_node.clone());
    run.record(vmid, VmStep::Planned, None, target.as_deref(), None)
        .await?;
    build(
        run,
        vmid,
        Start::Clone,
        clone,
        Some(RebuildReason::Reimaged),
    )
    .await
}

/// A VM recorded as built is gone: confirm, then build it again for its holder.
async fn vanished(
    run: &Run,
    vmid: VmId,
    node: Option<&str>,
    clone: Result<CloneSpec, String>,
) -> Result<Outcome, StepError> {
    if let Some(node) = node {
        let qemu = run.qemu(node, vmid.get());
        match run.call(vmid, || qemu.status()).await {
            // Still there (the listing lagged): nothing to do.
            Ok(_) => return Ok(Outcome::Changed),
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(StepError::proxmox(&e)),
        }
    }
    if find_node(run, vmid).await?.is_some() {
        return Ok(Outcome::Changed);
    }
    tracing::warn!(%vmid, "a pool VM vanished from Proxmox; building it again");
    let target = clone.as_ref().ok().map(|c| c.target_node.clone());
    run.record(vmid, VmStep::Planned, None, target.as_deref(), None)
        .await?;
    build(
        run,
        vmid,
        Start::Clone,
        clone,
        Some(RebuildReason::Vanished),
    )
    .await
}

/// Brings a built VM's cores, memory, disk and tag to the class's, in place.
async fn reconfigure(run: &Run, vmid: VmId, node: &str) -> Result<Outcome, StepError> {
    let slot = slot_for(run, vmid).await?;
    match configure(run, vmid, slot, node).await {
        Ok(()) => {
            run.report.reconfigured(vmid);
            Ok(Outcome::Changed)
        }
        // Gone: the next plan sees it vanished and rebuilds it.
        Err(StepError::Gone) => Ok(Outcome::Changed),
        Err(e) => Err(e),
    }
}

/// A released VM (its student left) is rebuilt before anyone else gets it.
async fn reimage_released(run: &Run, vmid: VmId) -> Result<Outcome, StepError> {
    let class = run.intent.class;
    let node = run
        .lab
        .db()
        .write(move |tx| {
            let state = steps::state(tx, class, vmid)?;
            let due = state.vm.needs_reimage
                && state.vm.assigned_to.is_none()
                && state.vm.status == VmStatus::Available
                && state.step == VmStep::Ready;
            if !due {
                return Ok(None);
            }
            steps::set_step(tx, class, vmid, VmStep::Rebuilding, &StepChange::default())?;
            Ok(Some(recorded_node(&state)))
        })
        .await?;
    let Some(node) = node else {
        return Ok(Outcome::Changed);
    };
    let current = find_node(run, vmid).await?.or(node);
    let clone = fallback_spec(run, current.as_deref().unwrap_or_default());
    rebuild(run, vmid, current.as_deref(), None, clone).await
}

/// A surplus student VM: marked for deletion (only while nobody holds it), then deleted.
async fn shrink(run: &Run, vmid: VmId) -> Result<Outcome, StepError> {
    let class = run.intent.class;
    let marked = run
        .lab
        .db()
        .write(
            move |tx| match steps::mark_deleting(tx, class, vmid, false) {
                Ok(_) => Ok(true),
                // Taken by a student since the plan was made: it stays.
                Err(crate::Error::VmHeld { .. }) => Ok(false),
                Err(e) => Err(e),
            },
        )
        .await?;
    if !marked {
        return Ok(Outcome::Changed);
    }
    match find_node(run, vmid).await? {
        Some(node) => delete(run, vmid, &node, None).await,
        None => forget(run, vmid, "its VM is gone from Proxmox").await,
    }
}
