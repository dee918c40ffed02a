//! The planner without I/O: rows, facts and intent built by hand.

use std::collections::BTreeMap;

use super::*;
use crate::pools::facts::{NodeFact, SourceFacts, GIB};
use crate::store::pool::steps::test_state;
use crate::store::pool::PoolVm;
use crate::types::{ClassId, ClassName, ClusterId, NodeName, SchemeKind, UserId, VmidScheme};

const CLASS: i64 = 7;

fn cluster() -> ClusterId {
    ClusterId::parse("pve").unwrap()
}

fn scheme() -> VmidScheme {
    VmidScheme::new(SchemeKind::Classic, 41).unwrap()
}

fn intent(pool_size: u16) -> Intent {
    Intent {
        class: ClassId::new(CLASS),
        name: ClassName::parse("net101").unwrap(),
        cluster: cluster(),
        scheme: scheme(),
        pool_size,
        specs: Specs {
            cores: 2,
            memory_mb: 2048,
            disk_gb: 32,
        },
        deployment_node: None,
        deleting: false,
    }
}

fn now() -> Timestamp {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

fn vmid_of(role: VmRole) -> VmId {
    match role {
        VmRole::Teacher => scheme().teacher_vmid(),
        VmRole::Base => scheme().base_vmid(),
        VmRole::Student { slot } => scheme().student_vmid(slot).unwrap(),
        VmRole::Manual => VmId::new(150).unwrap(),
    }
}

fn student(slot: u16) -> VmRole {
    VmRole::Student { slot }
}

fn row(role: VmRole, step: VmStep) -> PoolVmState {
    test_state(
        PoolVm {
            class_id: ClassId::new(CLASS),
            cluster_id: cluster(),
            vmid: vmid_of(role),
            name: None,
            node: Some(NodeName::parse("pve1").unwrap()),
            mac_address: None,
            cached_ip: None,
            role,
            status: VmStatus::Available,
            assigned_to: None,
            assigned_at: None,
            needs_reimage: false,
            usage_hours: 0.0,
            usage_last_reset: None,
            created_at: now(),
        },
        step,
    )
}

fn built(role: VmRole) -> PoolVmState {
    let mut r = row(role, VmStep::Ready);
    r.power = Some(PowerState::Stopped);
    r
}

fn held(mut r: PoolVmState, user: i64) -> PoolVmState {
    r.vm.status = VmStatus::Assigned;
    r.vm.assigned_to = Some(UserId::new(user));
    r
}

fn config(marker: Option<Marker>) -> ConfigFact {
    ConfigFact {
        marker,
        tags: Some("pvelab".into()),
        cores: Some(2),
        memory_mb: Some(2048),
        disk: Some(("scsi0".into(), 32 * GIB)),
        mac: Some("BC:24:11:00:00:01".into()),
        ..ConfigFact::default()
    }
}

fn ours(role: VmRole) -> Option<Marker> {
    Some(Marker::new(
        ClassId::new(CLASS),
        slot_of(role).unwrap(),
        cluster(),
    ))
}

/// A stopped VM at the role's VMID on pve1, matching the specs, with `marker` in its config.
fn guest(role: VmRole, marker: Option<Marker>) -> GuestFact {
    guest_at(vmid_of(role).get(), marker)
}

fn guest_at(vmid: u32, marker: Option<Marker>) -> GuestFact {
    GuestFact {
        vmid,
        node: "pve1".into(),
        qemu: true,
        power: PowerState::Stopped,
        lock: None,
        template: false,
        tagged: true,
        cores: Some(2),
        memory_mb: Some(2048),
        disk_bytes: Some(32 * GIB),
        config: Some(config(marker)),
    }
}

fn facts(guests: Vec<GuestFact>) -> Facts {
    let nodes = ["pve1", "pve2", "pve3"]
        .into_iter()
        .map(|n| NodeFact {
            name: n.into(),
            online: true,
            free_memory: 200 * GIB,
            cpu: 0.1,
        })
        .collect();
    Facts {
        guests: guests.into_iter().map(|g| (g.vmid, g)).collect(),
        nodes,
        source: Ok(SourceFacts {
            template_vmid: 9010,
            template_node: "pve1".into(),
            shared: true,
            is_template: true,
            replicas: BTreeMap::new(),
            disk_bytes: Some(8 * GIB),
        }),
    }
}

fn only(plan: &Plan, vmid: VmId) -> Vec<&Action> {
    plan.actions.iter().filter(|a| a.vmid() == vmid).collect()
}

#[test]
fn a_new_pool_plans_teacher_students_and_base_spread_over_the_nodes() {
    let plan = plan(&intent(3), &[], &facts(vec![]), now());
    let added: Vec<(VmId, VmRole, String)> = plan
        .actions
        .iter()
        .map(|a| match a {
            Action::Add { vmid, role, clone } => {
                (*vmid, *role, clone.as_ref().unwrap().target_node.clone())
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let roles: Vec<VmRole> = added.iter().map(|(_, r, _)| *r).collect();
    assert_eq!(
        roles,
        [
            VmRole::Teacher,
            student(1),
            student(2),
            student(3),
            VmRole::Base
        ]
    );
    assert_eq!(added[1].0.get(), 4101);
    let nodes: std::collections::BTreeSet<&str> = added.iter().map(|a| a.2.as_str()).collect();
    assert_eq!(
        nodes.len(),
        3,
        "five VMs over three equal nodes use all three"
    );
}

#[test]
fn a_foreign_vm_at_a_planned_vmid_fails_the_slot_and_is_never_touched() {
    let rows = [row(student(5), VmStep::Planned)];
    let foreign = guest(student(5), None);
    let plan = plan(&intent(5), &rows, &facts(vec![foreign]), now());
    let actions = only(&plan, vmid_of(student(5)));
    assert_eq!(
        actions,
        [&Action::Fail {
            vmid: vmid_of(student(5)),
            reason: "VM 4105 on pve1 exists and was not created by pvelab for this slot".into()
        }]
    );
}

#[test]
fn another_classes_or_slots_marker_is_foreign_too() {
    let other_slot = Marker::new(ClassId::new(CLASS), Slot::Student(6), cluster());
    let other_class = Marker::new(ClassId::new(8), Slot::Student(5), cluster());
    for marker in [other_slot, other_class] {
        let rows = [row(student(5), VmStep::Cloning)];
        let plan = plan(
            &intent(5),
            &rows,
            &facts(vec![guest(student(5), Some(marker))]),
            now(),
        );
        assert!(matches!(
            only(&plan, vmid_of(student(5)))[..],
            [Action::Fail { .. }]
        ));
    }
}

#[test]
fn our_vm_found_after_a_crash_is_adopted_waiting_for_its_clone_lock() {
    let rows = [row(student(1), VmStep::Cloning)];
    let mut locked = guest(student(1), ours(student(1)));
    locked.lock = Some("clone".into());
    let plan_locked = plan(&intent(1), &rows, &facts(vec![locked]), now());
    assert_eq!(
        only(&plan_locked, vmid_of(student(1))),
        [&Action::Continue {
            vmid: vmid_of(student(1)),
            node: "pve1".into(),
            next: Next::WaitUnlock
        }]
    );
    let rows = [row(student(1), VmStep::Planned)];
    let done = guest(student(1), ours(student(1)));
    let plan_done = plan(&intent(1), &rows, &facts(vec![done]), now());
    assert_eq!(
        only(&plan_done, vmid_of(student(1))),
        [&Action::Continue {
            vmid: vmid_of(student(1)),
            node: "pve1".into(),
            next: Next::Configure
        }]
    );
}

#[test]
fn a_recorded_clone_task_is_asked_whatever_the_resources_show() {
    let mut r = row(student(1), VmStep::Cloning);
    r.task = Some("UPID:pve1:1:1:1:qmclone:9010:root@pam:".into());
    let plan = plan(&intent(1), &[r], &facts(vec![]), now());
    assert!(matches!(
        only(&plan, vmid_of(student(1)))[..],
        [Action::AwaitClone { upid, .. }] if upid.starts_with("UPID:pve1")
    ));
}

#[test]
fn a_clone_without_task_and_without_vm_is_cloned_again_on_its_recorded_node() {
    let mut r = row(student(1), VmStep::Cloning);
    r.vm.node = Some(NodeName::parse("pve2").unwrap());
    let plan = plan(&intent(1), &[r], &facts(vec![]), now());
    assert!(matches!(
        only(&plan, vmid_of(student(1)))[..],
        [Action::Clone { clone, .. }] if clone.target_node == "pve2"
    ));
}

#[test]
fn steps_after_the_clone_continue_where_they_stopped() {
    let rows = [
        row(student(1), VmStep::Configured),
        row(student(2), VmStep::Snapshotted),
    ];
    let guests = vec![
        guest(student(1), ours(student(1))),
        guest(student(2), ours(student(2))),
    ];
    let plan = plan(&intent(2), &rows, &facts(guests), now());
    let nexts: Vec<Next> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Continue { next, .. } => Some(*next),
            _ => None,
        })
        .collect();
    assert_eq!(nexts, [Next::Snapshot, Next::Ready]);
}

#[test]
fn a_built_vm_that_vanished_is_rebuilt_and_keeps_its_holder() {
    let rows = [held(built(student(1)), 3)];
    let plan = plan(&intent(1), &rows, &facts(vec![]), now());
    assert!(matches!(
        only(&plan, vmid_of(student(1)))[..],
        [Action::Vanished { clone: Ok(_), .. }]
    ));
}

#[test]
fn a_vm_stopped_or_started_behind_our_back_is_recorded() {
    let mut r = built(student(1));
    r.power = Some(PowerState::Running);
    let plan = plan(
        &intent(1),
        &[r],
        &facts(vec![guest(student(1), ours(student(1)))]),
        now(),
    );
    assert_eq!(
        only(&plan, vmid_of(student(1))),
        [&Action::Power {
            vmid: vmid_of(student(1)),
            power: PowerState::Stopped
        }]
    );
}

#[test]
fn shrinking_takes_the_free_vms_beyond_the_size_and_leaves_held_ones() {
    let rows: Vec<PoolVmState> = (1..=5)
        .map(|s| {
            let r = built(student(s));
            if s == 2 || s == 5 {
                held(r, i64::from(s))
            } else {
                r
            }
        })
        .collect();
    let guests: Vec<GuestFact> = (1..=5)
        .map(|s| guest(student(s), ours(student(s))))
        .collect();
    let shrunk = |size: u16| -> Vec<u16> {
        let plan = plan(&intent(size), &rows, &facts(guests.clone()), now());
        let mut slots: Vec<u16> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Shrink { vmid } => Some((vmid.get() - 4100) as u16),
                _ => None,
            })
            .collect();
        slots.sort_unstable_by(|a, b| b.cmp(a));
        slots
    };
    // Slots above the size go unless held (slot 5 is): nobody gets them again anyway.
    assert_eq!(shrunk(3), [4]);
    assert_eq!(shrunk(1), [4, 3]);
    let plan = plan(&intent(1), &rows, &facts(guests), now());
    assert!(plan.notes.iter().any(|n| n.contains("held")), "{plan:?}");
}

#[test]
fn growing_fills_the_slots_up_to_the_size_once_their_old_vms_are_gone() {
    let mut gone = built(student(2));
    gone.step = VmStep::Deleting;
    gone.vm.status = VmStatus::Deleting;
    let rows = [
        built(VmRole::Teacher),
        built(student(1)),
        gone,
        built(VmRole::Base),
    ];
    let guests = vec![
        guest(VmRole::Teacher, ours(VmRole::Teacher)),
        guest(student(1), ours(student(1))),
        guest(VmRole::Base, ours(VmRole::Base)),
    ];
    let plan = plan(&intent(3), &rows, &facts(guests), now());
    let added: Vec<VmRole> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Add { role, .. } => Some(*role),
            _ => None,
        })
        .collect();
    // Slot 2's old VM is still being deleted: it is built again once that is done.
    assert_eq!(added, [student(3)]);
    assert!(plan.notes.iter().any(|n| n.contains("wait")), "{plan:?}");
}

#[test]
fn deleting_rows_delete_our_vm_and_forget_foreign_or_missing_ones() {
    let mut ours_row = built(student(1));
    ours_row.step = VmStep::Deleting;
    let mut foreign_row = ours_row.clone();
    foreign_row.vm.vmid = vmid_of(student(2));
    foreign_row.vm.role = student(2);
    let mut gone_row = ours_row.clone();
    gone_row.vm.vmid = vmid_of(student(3));
    gone_row.vm.role = student(3);
    let guests = vec![guest(student(1), ours(student(1))), guest(student(2), None)];
    let plan = plan(
        &intent(0),
        &[ours_row, foreign_row, gone_row],
        &facts(guests),
        now(),
    );
    assert!(matches!(
        only(&plan, vmid_of(student(1)))[..],
        [Action::Delete { .. }]
    ));
    assert!(matches!(
        only(&plan, vmid_of(student(2)))[..],
        [Action::Forget { reason, .. }] if reason.contains("left alone")
    ));
    assert!(matches!(
        only(&plan, vmid_of(student(3)))[..],
        [Action::Forget { .. }]
    ));
}

#[test]
fn a_class_being_deleted_deletes_every_vm_and_adds_nothing() {
    let rows = [held(built(student(1)), 4), built(VmRole::Teacher)];
    let guests = vec![
        guest(student(1), ours(student(1))),
        guest(VmRole::Teacher, ours(VmRole::Teacher)),
    ];
    let mut deleting = intent(5);
    deleting.deleting = true;
    let plan = plan(&deleting, &rows, &facts(guests), now());
    assert_eq!(plan.actions.len(), 2, "{plan:?}");
    assert!(plan
        .actions
        .iter()
        .all(|a| matches!(a, Action::Delete { .. })));
}

#[test]
fn a_vm_registered_by_hand_is_never_touched() {
    let manual = built(VmRole::Manual);
    let mut deleting = manual.clone();
    deleting.step = VmStep::Deleting;
    let plan_kept = plan(&intent(0), &[manual], &facts(vec![]), now());
    assert!(only(&plan_kept, vmid_of(VmRole::Manual)).is_empty());
    let plan_gone = plan(&intent(0), &[deleting], &facts(vec![]), now());
    assert!(matches!(
        only(&plan_gone, vmid_of(VmRole::Manual))[..],
        [Action::Forget { .. }]
    ));
}

#[test]
fn a_failed_slot_waits_for_its_next_try() {
    let mut r = row(student(1), VmStep::Failed);
    r.next_try_at = Some("2026-12-01T10:05:00Z".parse().unwrap());
    let waiting = plan(&intent(1), &[r.clone()], &facts(vec![]), now());
    assert!(only(&waiting, vmid_of(student(1))).is_empty());
    let later: Timestamp = "2026-12-01T10:06:00Z".parse().unwrap();
    let retried = plan(&intent(1), &[r], &facts(vec![]), later);
    assert!(matches!(
        only(&retried, vmid_of(student(1)))[..],
        [Action::Clone { .. }]
    ));
}

#[test]
fn changed_specs_reconfigure_built_vms_but_pending_changes_count_as_done() {
    let mut intent = intent(1);
    intent.specs.cores = 4;
    let rows = [built(student(1))];
    // Resources show the running 2 cores; the config still has 2: reconfigure.
    let stale = guest(student(1), ours(student(1)));
    let plan_stale = plan(&intent, &rows, &facts(vec![stale.clone()]), now());
    assert!(matches!(
        only(&plan_stale, vmid_of(student(1)))[..],
        [Action::Reconfigure { .. }]
    ));
    // The config already says 4 (pending until the next stop): nothing to do.
    let mut pending = stale;
    pending.config.as_mut().unwrap().cores = Some(4);
    let plan_pending = plan(&intent, &rows, &facts(vec![pending]), now());
    assert!(only(&plan_pending, vmid_of(student(1))).is_empty());
}

#[test]
fn a_released_vm_is_reimaged_and_a_held_one_is_not() {
    let mut released = built(student(1));
    released.vm.needs_reimage = true;
    let guests = vec![
        guest(student(1), ours(student(1))),
        guest(student(2), ours(student(2))),
    ];
    let kept = held(built(student(2)), 9);
    let plan = plan(&intent(2), &[released, kept], &facts(guests), now());
    assert_eq!(
        only(&plan, vmid_of(student(1))),
        [&Action::Reimage {
            vmid: vmid_of(student(1))
        }]
    );
    assert!(only(&plan, vmid_of(student(2))).is_empty());
}

#[test]
fn vms_in_the_range_without_a_row_are_reported_and_others_ignored() {
    let stray = guest_at(4150, None);
    let outside = guest_at(4250, None);
    let plan = plan(&intent(0), &[], &facts(vec![stray, outside]), now());
    assert_eq!(plan.unknown.len(), 1);
    assert_eq!(plan.unknown[0].vmid, 4150);
    assert!(plan
        .actions
        .iter()
        .all(|a| a.vmid().get() != 4150 && a.vmid().get() != 4250));
}

#[test]
fn only_the_configs_the_plan_depends_on_are_read() {
    let mut drifted = guest(student(2), ours(student(2)));
    drifted.cores = Some(1);
    let guests: BTreeMap<u32, GuestFact> = [
        guest(student(1), ours(student(1))),
        drifted,
        guest(student(3), None),
        guest_at(4150, None),
        guest_at(4250, None),
    ]
    .into_iter()
    .map(|g| (g.vmid, g))
    .collect();
    let rows = [
        built(student(1)),
        built(student(2)),
        row(student(3), VmStep::Planned),
    ];
    let wanted = configs_needed(&intent(3), &rows, &guests);
    assert_eq!(wanted, [4102, 4103, 4150]);
}

#[test]
fn without_a_usable_template_new_slots_carry_the_reason() {
    let mut no_source = facts(vec![]);
    no_source.source = Err("the class has no template".into());
    let plan = plan(&intent(1), &[], &no_source, now());
    assert!(plan.actions.iter().all(|a| matches!(
        a,
        Action::Add { clone: Err(reason), .. } if reason == "the class has no template"
    )));
    assert_eq!(plan.actions.len(), 3);
}

#[test]
fn planning_a_converged_pool_again_does_nothing() {
    let rows = [
        built(VmRole::Teacher),
        built(student(1)),
        built(student(2)),
        built(VmRole::Base),
    ];
    let guests = rows
        .iter()
        .map(|r| guest(r.vm.role, ours(r.vm.role)))
        .collect();
    let plan = plan(&intent(2), &rows, &facts(guests), now());
    assert_eq!(plan, Plan::default());
}
