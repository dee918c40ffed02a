//! A class's whole life on Proxmox: deletion (VMs, rows, range) and import of existing VMs.

use pvelab_core::events::{ConsumerName, LabEvent};
use pvelab_core::model::{TokenExpiry, VmOutcome, VmStep};
use pvelab_core::types::{ClassName, Role};
use pvelab_core::Error;
use pvelab_proxmox::{CloneParams, ConfigUpdate};

use crate::pools_support::{assert_all_ready, bed, finish, Bed};
use crate::support::{user, ActorId};

#[tokio::test]
async fn deleting_a_class_deletes_its_vms_then_its_rows_then_frees_its_range() {
    let b = bed().await;
    let (class, op) = b.launch("gone", 3).await;
    finish(op).await;
    let token = b
        .lab
        .rotate_token(&b.teacher, class.id, TokenExpiry::Never)
        .await
        .expect("token")
        .token;
    let sam = user(&b.lab, "sam", Role::User).await;
    b.lab.join(&sam, &token).await.expect("join");
    let vmids: Vec<u32> = b
        .status(&class)
        .await
        .iter()
        .map(|s| s.vm.vmid.get())
        .collect();
    assert_eq!(vmids.len(), 5);

    let op = b
        .lab
        .begin_class_deletion(&b.teacher, class.id)
        .await
        .expect("delete");
    let (_, summary) = finish(op).await;

    assert_eq!(summary.deleted, 5, "{summary:?}");
    let guests = b.guests().await;
    assert!(vmids.iter().all(|v| !guests.contains_key(v)), "{guests:?}");
    assert!(matches!(
        b.lab.class(&b.teacher, class.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(b.lab.my_vms(&sam).await.expect("mine").is_empty());
    let dm = ConsumerName::parse("dm").expect("name");
    let events = b.lab.events_after(&dm, 1000).await.expect("events");
    assert!(events.iter().any(|e| matches!(
        e.event,
        LabEvent::VmRemoved { user_id, .. } if user_id == sam.uid()
    )));
    let mut again = b.new_class("again", 1);
    again.vmid_prefix = Some(class.scheme.prefix());
    b.lab
        .create_class(&b.teacher, again)
        .await
        .expect("the range is free again");
}

#[tokio::test]
async fn deleting_a_class_leaves_a_foreign_vm_at_its_vmids_alone() {
    let b = bed().await;
    let mut new = b.new_class("shared", 2);
    new.vmid_prefix = Some(63);
    let class = b.lab.create_class(&b.teacher, new).await.expect("class");
    b.foreign_vm(6302).await;
    let op = b
        .lab
        .provision(&b.teacher, class.id)
        .await
        .expect("provision");
    finish(op).await;

    // Deleting through the plain facade call marks the class; reconciliation deletes its VMs.
    let deletion = b
        .lab
        .delete_class(&b.teacher, class.id)
        .await
        .expect("delete");
    assert!(matches!(
        deletion,
        pvelab_core::model::ClassDeletion::VmsPending { vms: 4 }
    ));
    b.lab.reconcile().await.expect("reconcile");

    let guests = b.guests().await;
    assert!(guests.contains_key(&6302), "the foreign VM stays");
    assert!(!guests.contains_key(&6301) && !guests.contains_key(&6300));
    assert!(!guests.contains_key(&6399));
    let mut again = b.new_class("again", 1);
    again.vmid_prefix = Some(63);
    b.lab
        .create_class(&b.teacher, again)
        .await
        .expect("the range is free once the VMs are gone");
}

async fn clone_plain(b: &Bed, vmid: u32, description: Option<&str>) {
    let client = b.client();
    let mut params = CloneParams::new(vmid).name(format!("legacy-{vmid}"));
    if let Some(d) = description {
        params = params.description(d);
    }
    let task = client
        .node("pve1")
        .qemu(9000)
        .clone_vm(&params)
        .await
        .expect("clone");
    client.wait_for_task(&task).await.expect("cloned");
}

#[tokio::test]
async fn importing_a_range_adopts_its_vms_marks_them_and_sets_a_token() {
    let b = bed().await;
    for vmid in [7000, 7001, 7002, 7099] {
        clone_plain(&b, vmid, Some("made by hand")).await;
    }
    clone_plain(&b, 7003, Some("pvelab: class=999 slot=03 cluster=sim")).await;
    let node = b.guests().await[&7001].clone();
    b.client()
        .node(node)
        .qemu(7001)
        .update_config(&ConfigUpdate::new().set("cores", 3))
        .await
        .expect("a student VM with 3 cores");

    let imported = b
        .lab
        .import_class(
            &b.teacher,
            &b.cluster,
            70,
            ClassName::parse("legacy").expect("name"),
            Some(b.template),
        )
        .await
        .expect("import");
    let (_, summary) = finish(imported.operation).await;

    let adopted: Vec<u32> = imported.adopted.iter().map(|v| v.get()).collect();
    assert_eq!(adopted, [7000, 7001, 7002, 7099]);
    assert_eq!(imported.skipped.len(), 1);
    assert_eq!(imported.skipped[0].0.get(), 7003);
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert_eq!(imported.class.pool_size.get(), 2);
    assert_eq!(
        imported.class.cpu_cores.get(),
        3,
        "specs from the first student VM"
    );
    let states = b.status(&imported.class).await;
    assert_eq!(states.len(), 4);
    assert_all_ready(&states);
    assert!(states.iter().all(|s| s.step == VmStep::Ready));
    let config = b.config(7001).await;
    let description = config.get("description").unwrap_or_default();
    assert_eq!(
        description.lines().collect::<Vec<_>>(),
        [
            format!("pvelab: class={} slot=01 cluster=sim", imported.class.id).as_str(),
            "made by hand"
        ]
    );
    assert!(config.get("tags").unwrap_or_default().contains("pvelab"));
    assert_eq!(config.cores(), Some(3), "adopting changes no VM's size");
    assert_eq!(b.snapshots(7001).await, ["baseline"]);
    let untouched = b.config(7003).await.get("description").unwrap_or_default();
    assert_eq!(untouched, "pvelab: class=999 slot=03 cluster=sim");

    let sam = user(&b.lab, "sam", Role::User).await;
    let joined = b.lab.join(&sam, &imported.token.token).await.expect("join");
    assert!(
        matches!(&joined.vm, VmOutcome::Assigned(vm) if vm.vmid.get() == 7001),
        "{joined:?}"
    );
}
