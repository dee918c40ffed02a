//! The inventory job: the record of fact, and everything decided from it.
//!
//! One tick of a cluster makes ONE `cluster/resources` call, whatever the number of guests, and
//! writes in ONE transaction: every guest's row (upsert by cluster and VMID, rows of guests that
//! are gone removed), and for every pool VM of the cluster: running time charged to usage with
//! quota events, restricted-hours warnings, idle samples and warnings, reimages that waited for
//! a stop, and automatic shutdowns decided (quota used up, outside hours, idle). The shutdowns
//! then go to Proxmox (graceful, powered off after the force-after time), and their results are
//! recorded in a second transaction, with the event that says why.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use pvelab_proxmox::{ClusterResource, FromResource, ShutdownParams, TaskWait};
use rusqlite::Connection;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::client::{client_for, cluster_error};
use super::digests::Digests;
use super::enforce::{self, HoursStep, IdleStep, ShutdownStep};
use super::report::JobStats;
use super::run::{unless_cancelled, JobResult};
use super::usage;
use crate::db::time::now;
use crate::error::Result;
use crate::events::{LabEvent, ShutdownReason};
use crate::lab::{charge_usage, in_session, time_in_sessions, Lab};
use crate::model::ClassSession;
use crate::rules::idle::{CpuSample, IdlePolicy};
use crate::rules::quota::{self, QuotaLevel};
use crate::store::classes::{self, Class};
use crate::store::inventory::{self as store, GuestCategory, GuestFacts, GuestKind, GuestState};
use crate::store::pool::{PoolVm, VmRole};
use crate::store::sessions as session_store;
use crate::store::usage as usage_store;
use crate::store::vm_watch::{self, PendingShutdown, PublishMode, Watch};
use crate::store::{cluster_jobs, outbox, settings};
use crate::types::{ClassId, ClusterId, VmId, VmRef};

/// The longest idle span a class can set (24 h): samples older than that are never read.
const LONGEST_IDLE_SPAN: SignedDuration = SignedDuration::from_hours(24);
/// Shutdowns sent to one cluster at once.
const SHUTDOWNS_AT_ONCE: usize = 8;
/// How long a tick waits for the shutdown tasks it started before leaving them to the next tick.
const SHUTDOWN_WAIT_LIMIT: Duration = Duration::from_secs(45);

/// One guest of `cluster/resources` as a row of the inventory; `None` for entries that are not
/// guests or carry no valid VMID. The category is settled later, when the pool is known.
/// Takes the entry by value: its strings move into the row (10,000 guests a tick).
pub(crate) fn guest_facts(r: ClusterResource) -> Option<GuestFacts> {
    let kind = match r.kind.as_str() {
        "qemu" => GuestKind::Qemu,
        "lxc" => GuestKind::Lxc,
        _ => return None,
    };
    let vmid = VmId::new(i64::from(r.vmid?)).ok()?;
    let state = match r.status.as_deref() {
        Some("running") | Some("paused") => GuestState::Running,
        Some("stopped") => GuestState::Stopped,
        _ => GuestState::Unknown,
    };
    let percent = |part: Option<f64>, whole: Option<f64>| match (part, whole) {
        (Some(p), Some(w)) if w > 0.0 => Some(p / w * 100.0),
        _ => None,
    };
    let running = state == GuestState::Running;
    Some(GuestFacts {
        vmid,
        name: r.name,
        node: r.node,
        state,
        kind,
        category: if r.template {
            GuestCategory::Template
        } else {
            GuestCategory::Other
        },
        memory: r.maxmem,
        cores: r.maxcpu.and_then(|c| (c >= 0.0).then(|| c.round() as u32)),
        disk_size: r.maxdisk,
        uptime: r.uptime.filter(|_| running),
        cpu_percent: r.cpu.filter(|_| running).map(|c| c * 100.0),
        memory_percent: percent(r.mem.map(|m| m as f64), r.maxmem.map(|m| m as f64))
            .filter(|_| running),
        is_template: r.template,
        tags: r.tags.filter(|t| !t.is_empty()),
    })
}

impl FromResource for GuestFacts {
    fn from_resource(resource: ClusterResource) -> Option<Self> {
        guest_facts(resource)
    }
}

/// Whether the tags mark a VM as pvelab's (the marker tag pool orchestration sets).
fn tagged_pvelab(tags: Option<&str>) -> bool {
    tags.is_some_and(|t| t.split([';', ',', ' ']).any(|tag| tag == "pvelab"))
}

/// A shutdown the tick decided to send.
#[derive(Debug, Clone)]
struct ShutdownCall {
    vmid: VmId,
    node: String,
    kind: GuestKind,
    /// Power it off: a graceful attempt already had its time.
    force: bool,
}

/// What the tick's transaction decided.
#[derive(Debug, Default)]
struct Tick {
    stats: JobStats,
    calls: Vec<ShutdownCall>,
    force_after: SignedDuration,
}

/// The parameters of one tick that come from outside the transaction.
#[derive(Debug, Clone, Copy)]
struct TickParams {
    /// The jitter fraction of the scheduler (the longest gap between two ticks is the interval
    /// plus its jitter).
    jitter: f64,
}

/// Runs one inventory tick of `cluster`.
pub(crate) async fn run(lab: &Lab, cluster: &ClusterId, cancel: &CancellationToken) -> JobResult {
    let client = client_for(lab, cluster).await?;
    // Each entry becomes a row as it is decoded: with 10,000 guests, the decoded reply alone
    // is several MB more at the tick's peak.
    let guests: Vec<GuestFacts> = unless_cancelled(cancel, client.cluster().vms_into())
        .await?
        .map_err(|e| cluster_error(cluster, e))?;
    let params = TickParams {
        jitter: lab.jobs_shared().config.jitter,
    };
    let id = cluster.clone();
    let mut digests = lab.jobs_shared().digests.take(cluster);
    let (tick, digests) = lab
        .db()
        .write(move |tx| {
            let tick = tick(tx, &id, guests, &mut digests, params)?;
            Ok((tick, digests))
        })
        .await?;
    lab.jobs_shared().digests.put(cluster, digests);
    lab.wake_consumers(tick.stats.events);
    let mut stats = tick.stats;
    if tick.calls.is_empty() {
        return Ok(stats);
    }
    // Not abandoned on shutdown: every call goes out whole; only the waits for their tasks
    // are cut short (the next tick sees how they ended).
    let results = send_shutdowns(&client, cluster, tick.calls, tick.force_after, cancel).await;
    stats.shutdowns = results
        .iter()
        .filter(|(_, r)| !matches!(r, CallResult::Refused(_)))
        .map(|(vmid, _)| *vmid)
        .collect();
    let id = cluster.clone();
    // A finished shutdown writes its guest's state ahead of the next tick.
    lab.jobs_shared().digests.forget(cluster);
    let announced = lab
        .db()
        .write(move |tx| record_shutdowns(tx, &id, &results))
        .await?;
    lab.wake_consumers(announced);
    stats.events += announced;
    Ok(stats)
}

/// The transaction of one tick.
fn tick(
    tx: &Connection,
    cluster: &ClusterId,
    mut guests: Vec<GuestFacts>,
    digests: &mut Digests,
    params: TickParams,
) -> Result<Tick> {
    let now = now();
    let system = settings::load(tx)?;
    let cluster_settings = cluster_jobs::settings(tx, cluster)?;
    let pool = vm_watch::pool_vms_on(tx, cluster)?;
    let in_pool: foldhash::HashSet<VmId> = pool.iter().map(|vm| vm.vmid).collect();
    for guest in &mut guests {
        if guest.category != GuestCategory::Template
            && (in_pool.contains(&guest.vmid) || tagged_pvelab(guest.tags.as_deref()))
        {
            guest.category = GuestCategory::Pool;
        }
    }
    let (written, removed) = store::replace(tx, cluster, &guests, digests)?;
    // The pool VMs' facts, for the rules below (the other guests only needed their rows).
    let facts: foldhash::HashMap<VmId, &GuestFacts> = guests
        .iter()
        .filter(|g| in_pool.contains(&g.vmid))
        .map(|g| (g.vmid, g))
        .collect();

    let interval = SignedDuration::try_from(system.inventory_interval()).unwrap_or_default();
    let longest_gap = interval.mul_f64(1.0 + params.jitter) + SignedDuration::from_secs(10);
    let rules = Rules {
        now,
        longest_gap,
        hours_lead: SignedDuration::try_from(system.hours_warning_lead()).unwrap_or_default(),
        idle_grace: SignedDuration::try_from(system.idle_grace()).unwrap_or_default(),
        force_after: SignedDuration::try_from(system.shutdown_force_after()).unwrap_or_default(),
        idle_allowed: cluster_settings.auto_shutdown_enabled,
        default_zone: system.default_time_zone(),
        session_lead: SignedDuration::try_from(system.session_lead()).unwrap_or_default(),
    };
    let mut class_sessions: HashMap<ClassId, Vec<ClassSession>> = HashMap::new();
    let mut watches = vm_watch::all_on(tx, cluster)?;
    let mut samples = vm_watch::samples_since(tx, cluster, now - LONGEST_IDLE_SPAN)?;
    let mut classes: HashMap<ClassId, Class> = HashMap::new();
    let mut out = Tick {
        stats: JobStats {
            written,
            removed,
            ..JobStats::default()
        },
        calls: Vec::new(),
        force_after: rules.force_after,
    };
    for vm in &pool {
        let class = match classes.entry(vm.class_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(classes::get(tx, vm.class_id)?)
            }
        };
        let class = &*class;
        let sessions = match class_sessions.entry(vm.class_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(session_store::list(tx, vm.class_id)?)
            }
        };
        let before = watches.remove(&vm.vmid).unwrap_or_default();
        let vm_samples = samples.remove(&vm.vmid).unwrap_or_default();
        let fact = facts.get(&vm.vmid).copied();
        let watch = pool_vm(
            tx,
            cluster,
            vm,
            class,
            sessions,
            fact,
            before.clone(),
            vm_samples,
            &rules,
            &mut out,
        )?;
        if watch != before {
            vm_watch::save(tx, cluster, vm.vmid, &watch)?;
        }
    }
    vm_watch::prune_samples(
        tx,
        cluster,
        now - LONGEST_IDLE_SPAN - SignedDuration::from_mins(5),
    )?;
    Ok(out)
}

/// The settings every pool VM of one tick is judged by.
struct Rules {
    now: Timestamp,
    longest_gap: SignedDuration,
    hours_lead: SignedDuration,
    idle_grace: SignedDuration,
    force_after: SignedDuration,
    idle_allowed: bool,
    default_zone: crate::types::ClassTimeZone,
    /// How long before a session its VMs are started (session time for the rules).
    session_lead: SignedDuration,
}

/// Everything one tick does for one pool VM; returns its watch row afterwards.
#[allow(clippy::too_many_arguments)]
fn pool_vm(
    tx: &Connection,
    cluster: &ClusterId,
    vm: &PoolVm,
    class: &Class,
    sessions: &[ClassSession],
    fact: Option<&GuestFacts>,
    mut watch: Watch,
    mut samples: Vec<CpuSample>,
    rules: &Rules,
    out: &mut Tick,
) -> Result<Watch> {
    let now = rules.now;
    let state = fact.map(|f| f.state);
    let running = state == Some(GuestState::Running);
    let student = vm.assigned_to;
    let zone = class.time_zone.as_ref().unwrap_or(&rules.default_zone);
    // Inside a session (its lead time included) the quota does not count and no automatic
    // shutdown rule applies: the session job starts and stops the VMs.
    let in_session = in_session(sessions, zone, now, rules.session_lead);

    // Usage: only time seen running between two ticks, charged to the VM's holder; the part of
    // it inside sessions goes to the student's session hours instead.
    if let (true, Some(student)) = (running, student) {
        let ran = usage::running_time(
            watch.usage_accounted_at,
            now,
            fact.and_then(|f| f.uptime),
            rules.longest_gap,
        );
        let in_sessions = time_in_sessions(sessions, zone, now - ran, now, rules.session_lead);
        if in_sessions > SignedDuration::ZERO {
            let hours = usage::hours(in_sessions);
            session_store::add_hours(tx, class.id, student, hours)?;
            crate::store::usage_history::add_session_hours(tx, class.id, student, hours)?;
        }
        let charged = ran - in_sessions;
        let used_hours = if charged > SignedDuration::ZERO {
            let (update, announced) = charge_usage(tx, &vm.vm_ref(), usage::hours(charged))?;
            out.stats.events += announced;
            update.holder.map_or(0.0, |h| h.hours)
        } else {
            usage_store::get(tx, class.id, student)?.hours
        };
        watch.usage_accounted_at = Some(now);

        // Quota: a VM whose holder used it up is shut down (also one started behind our back).
        let quota = quota::status(used_hours, class.max_usage);
        if let (QuotaLevel::Exhausted, Some(limit), false) = (quota.level, quota.limit, in_session)
        {
            decide(&mut watch, ShutdownReason::QuotaExhausted { limit }, now);
        }
        // Restricted hours: warn once ahead of the end, shut down outside the window.
        let hours = if in_session { None } else { class.hours };
        match enforce::hours_step(hours, zone, now, rules.hours_lead, watch.hours_warned_for) {
            HoursStep::Nothing => {}
            HoursStep::Warn {
                closes_at,
                in_minutes,
            } => {
                if let Some(window) = class.hours {
                    let reason = ShutdownReason::OutsideHours {
                        window,
                        zone: zone.name().to_owned(),
                    };
                    announce(tx, out, warning(vm, reason, in_minutes))?;
                }
                watch.hours_warned_for = Some(closes_at);
            }
            HoursStep::ShutDown => {
                if let Some(window) = class.hours {
                    let reason = ShutdownReason::OutsideHours {
                        window,
                        zone: zone.name().to_owned(),
                    };
                    decide(&mut watch, reason, now);
                }
            }
        }
    } else {
        watch.usage_accounted_at = None;
    }

    // Idle: samples from the ticks themselves; a gap between them never counts as idle.
    let watched_for_idle = rules.idle_allowed
        && !in_session
        && class.auto_shutdown.enabled
        && matches!(vm.role, VmRole::Student { .. } | VmRole::Manual);
    if running && watched_for_idle {
        if let Some(percent) = fact.and_then(|f| f.cpu_percent) {
            let sample = CpuSample { at: now, percent };
            vm_watch::add_sample(tx, cluster, vm.vmid, sample)?;
            samples.push(sample);
        }
        // Ticks further apart than the idle span can never show a whole idle span: no policy.
        let policy = IdlePolicy::new(
            class.auto_shutdown.threshold,
            class.auto_shutdown.idle_minutes,
            rules.longest_gap,
        )
        .ok();
        let reason = ShutdownReason::Idle {
            threshold: class.auto_shutdown.threshold.get(),
            minutes: class.auto_shutdown.idle_minutes.get(),
        };
        match enforce::idle_step(
            policy.as_ref(),
            &samples,
            now,
            rules.idle_grace,
            watch.idle_warned_at,
        ) {
            IdleStep::Nothing => {}
            IdleStep::Warn => {
                let in_minutes = enforce::minutes_until(now, now + rules.idle_grace);
                announce(tx, out, warning(vm, reason, in_minutes))?;
                watch.idle_warned_at = Some(now);
            }
            IdleStep::ShutDown => decide(&mut watch, reason, now),
            IdleStep::ClearWarning => watch.idle_warned_at = None,
        }
    } else {
        if !samples.is_empty() {
            vm_watch::clear_samples(tx, cluster, vm.vmid)?;
        }
        watch.idle_warned_at = None;
    }

    // A reimage that waited for the VM to stop may happen now.
    if let Some(reimage) = &mut watch.reimage {
        if reimage.due_at.is_none()
            && reimage.when == PublishMode::AtNextStop
            && state == Some(GuestState::Stopped)
        {
            reimage.due_at = Some(now);
        }
    }

    // A decided shutdown: send it, wait for it, or announce it once the VM is seen stopped.
    if let Some(pending) = watch.shutdown.as_mut() {
        match enforce::shutdown_step(
            state,
            pending.requested_at,
            pending.attempts,
            now,
            rules.force_after,
        ) {
            ShutdownStep::Wait => {}
            ShutdownStep::Call { force } => {
                pending.requested_at = Some(now);
                pending.attempts += 1;
                if let Some(fact) = fact {
                    out.calls.push(ShutdownCall {
                        vmid: vm.vmid,
                        node: fact.node.clone().unwrap_or_default(),
                        kind: fact.kind,
                        force,
                    });
                }
            }
            ShutdownStep::Done => {
                let reason = pending.reason.clone();
                announce(tx, out, shut_down(vm, reason))?;
                finish_shutdown(&mut watch);
            }
            ShutdownStep::Gone => finish_shutdown(&mut watch),
        }
    }
    Ok(watch)
}

/// Records a shutdown decision unless one is pending already (the first reason stands).
fn decide(watch: &mut Watch, reason: ShutdownReason, now: Timestamp) {
    if watch.shutdown.is_none() {
        tracing::info!(%reason, "automatic shutdown decided");
        watch.shutdown = Some(PendingShutdown {
            reason,
            decided_at: now,
            requested_at: None,
            attempts: 0,
        });
    }
}

/// Forgets a finished shutdown and the warnings that led to it.
fn finish_shutdown(watch: &mut Watch) {
    watch.shutdown = None;
    watch.idle_warned_at = None;
}

fn warning(vm: &PoolVm, reason: ShutdownReason, in_minutes: u32) -> LabEvent {
    LabEvent::ShutdownWarning {
        user_id: vm.assigned_to,
        class_id: vm.class_id,
        vmid: vm.vmid,
        reason,
        in_minutes,
    }
}

fn shut_down(vm: &PoolVm, reason: ShutdownReason) -> LabEvent {
    LabEvent::VmShutDown {
        user_id: vm.assigned_to,
        class_id: vm.class_id,
        vmid: vm.vmid,
        reason,
    }
}

fn announce(tx: &Connection, out: &mut Tick, event: LabEvent) -> Result<()> {
    outbox::append(tx, &event)?;
    out.stats.events += 1;
    Ok(())
}

/// How one shutdown call ended.
#[derive(Debug)]
enum CallResult {
    /// The task finished: the guest is off.
    Stopped,
    /// The call or its task failed; it is tried again at the next tick.
    Refused(String),
    /// The task still runs; the next tick looks again.
    Pending,
}

/// Sends the shutdowns (a few at a time) and waits a bounded time for their tasks.
async fn send_shutdowns(
    client: &pvelab_proxmox::Client,
    cluster: &ClusterId,
    calls: Vec<ShutdownCall>,
    force_after: SignedDuration,
    cancel: &CancellationToken,
) -> Vec<(VmId, CallResult)> {
    let slots = Arc::new(Semaphore::new(SHUTDOWNS_AT_ONCE));
    let force_secs = u64::try_from(force_after.as_secs()).unwrap_or(180);
    let wait = TaskWait {
        initial_interval: Duration::from_millis(100),
        max_interval: Duration::from_secs(2),
        timeout: (Duration::from_secs(force_secs) + Duration::from_secs(10))
            .min(SHUTDOWN_WAIT_LIMIT),
    };
    let mut set = JoinSet::new();
    for call in calls {
        let (client, slots, cluster) = (client.clone(), slots.clone(), cluster.clone());
        let cancel = cancel.clone();
        set.spawn(async move {
            let _slot = slots.acquire_owned().await;
            if cancel.is_cancelled() {
                // Not sent at all: the decision stays recorded for the next start.
                return (call.vmid, CallResult::Refused("the jobs were stopped".into()));
            }
            let node = client.node(&call.node);
            let vmid = call.vmid.get();
            let sent = match (call.kind, call.force) {
                (GuestKind::Qemu, false) => {
                    node.qemu(vmid).shutdown(&ShutdownParams::forced_after(force_secs)).await
                }
                (GuestKind::Qemu, true) => node.qemu(vmid).stop().await,
                (GuestKind::Lxc, false) => {
                    node.lxc(vmid).shutdown(&ShutdownParams::forced_after(force_secs)).await
                }
                (GuestKind::Lxc, true) => node.lxc(vmid).stop().await,
            };
            let result = match sent {
                Err(e) => CallResult::Refused(cluster_error(&cluster, e).to_string()),
                Ok(upid) => match unless_cancelled(&cancel, client.wait_for_task_with(&upid, wait)).await {
                    Ok(Ok(_)) => CallResult::Stopped,
                    Ok(Err(pvelab_proxmox::Error::Timeout { .. })) | Err(_) => CallResult::Pending,
                    Ok(Err(e)) => CallResult::Refused(cluster_error(&cluster, e).to_string()),
                },
            };
            tracing::info!(%cluster, vmid = %call.vmid, force = call.force, ?result, "automatic shutdown sent");
            (call.vmid, result)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    results
}

/// Records what the shutdown calls did; returns how many events were written.
fn record_shutdowns(
    tx: &Connection,
    cluster: &ClusterId,
    results: &[(VmId, CallResult)],
) -> Result<usize> {
    let mut events = 0;
    for (vmid, result) in results {
        let mut watch = vm_watch::get(tx, cluster, *vmid)?;
        let Some(pending) = watch.shutdown.as_mut() else {
            continue;
        };
        match result {
            CallResult::Pending => continue,
            CallResult::Refused(error) => {
                tracing::warn!(%cluster, %vmid, error, "an automatic shutdown was refused; retried next tick");
                pending.requested_at = None;
            }
            CallResult::Stopped => {
                let key = VmRef::new(cluster.clone(), *vmid);
                if let Some(vm) = crate::store::pool::by_ref(tx, &key)? {
                    outbox::append(tx, &shut_down(&vm, pending.reason.clone()))?;
                    events += 1;
                }
                store::set_state(tx, cluster, *vmid, GuestState::Stopped)?;
                finish_shutdown(&mut watch);
            }
        }
        vm_watch::save(tx, cluster, *vmid, &watch)?;
    }
    Ok(events)
}
