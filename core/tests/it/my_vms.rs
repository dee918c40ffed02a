//! `Lab::my_vm_overview`: a student's whole "my VMs" view in one call, the same facts the
//! single calls give, Proxmox asked only for stale states.

use pvelab_core::jobs::JobKind;
use pvelab_core::model::{GuestState, TokenExpiry, VmOutcome};
use pvelab_pve_sim::OutageMode;

use crate::jobs_support::{jobs_world, minutes, Options};

#[tokio::test]
async fn the_overview_gives_each_held_vm_with_its_facts_and_the_waitlist_places() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let (student, vmid) = world.student_on(&class, 2, "sam").await;
    // A second class with no VM at all: the student waits there.
    let full = world.w.class("full", 5).await;
    let token = world.w.token(&full, TokenExpiry::Never).await.token;
    let joined = world.w.join(&student, &token).await;
    assert_eq!(joined.vm, VmOutcome::Waitlisted { position: 1 });
    world.sync(JobKind::Inventory).await;
    world.sim.reset_counters();

    let mine = world.lab().my_vm_overview(&student).await.unwrap();

    assert_eq!(mine.vms.len(), 1);
    let held = &mine.vms[0];
    assert_eq!((held.vm.vmid, held.class.id), (vmid, class.id));
    assert_eq!(held.state.state, GuestState::Running);
    assert_eq!(held.state.refresh_error, None);
    // The same facts as the single calls.
    let lab = world.lab();
    let vm = world.vm(vmid);
    assert_eq!(held.state, lab.vm_state(&student, &vm).await.unwrap());
    assert_eq!(
        held.start,
        lab.may_start(&student, class.id, &vm).await.unwrap()
    );
    assert_eq!(
        held.next_session,
        lab.next_session(&student, class.id).await.unwrap()
    );
    assert_eq!(held.vm, lab.my_vms(&student).await.unwrap()[0]);
    let places: Vec<_> = mine.waiting.iter().map(|w| (w.class.id, w.place)).collect();
    assert_eq!(places, vec![(full.id, 1)]);
    assert_eq!(places, lab.my_waitlist_places(&student).await.unwrap());
    assert_eq!(world.sim.total_requests(), 0, "fresh states cost no call");

    // Stopped behind our back, and the record is older than the cluster's 60 s cache time:
    // one call reads it again.
    world.sim.stop_guest(102).unwrap();
    world.advance(minutes(2));
    let mine = world.lab().my_vm_overview(&student).await.unwrap();
    let held = &mine.vms[0];
    assert_eq!(held.state.state, GuestState::Stopped);
    assert_eq!(held.state.checked_at, Some(world.w.clock.now()));
    assert_eq!(
        world
            .sim
            .count("GET", "/nodes/{node}/qemu/{vmid}/status/current"),
        1
    );
}

#[tokio::test]
async fn a_stale_state_proxmox_does_not_give_stays_as_recorded_with_the_reason() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let (student, _) = world.student_on(&class, 2, "sam").await;
    world.sync(JobKind::Inventory).await;
    world.advance(minutes(2));
    world.sim.set_outage(Some(OutageMode::Refuse));

    let mine = world.lab().my_vm_overview(&student).await.unwrap();

    let state = &mine.vms[0].state;
    assert_eq!(state.state, GuestState::Running, "the recorded state");
    let reason = state.refresh_error.as_deref().expect("the reason");
    assert!(reason.contains("pve1"), "names the cluster: {reason}");
}

#[tokio::test]
async fn someone_with_no_vm_and_no_waitlist_gets_an_empty_overview() {
    let world = jobs_world(Options::default()).await;
    let nobody = world.w.student("nobody").await;
    let mine = world.lab().my_vm_overview(&nobody).await.unwrap();
    assert!(mine.vms.is_empty() && mine.waiting.is_empty());
}
