//! Provisioning a pool VM the way the core will: clone with a marker in the description, tag
//! and size it through config updates, grow its disk, read its MAC, take a `baseline` snapshot
//! and roll back to it, show pending changes, and cope with a foreign VM in the way.

use pvelab_proxmox::{CloneParams, ConfigUpdate, Error, GuestConfig, GuestStatus, SnapshotParams};
use pvelab_pve_sim::ForeignGuest;

use crate::support::{self, run_task, TEMPLATE};

const MARKER: &str = "pvelab: class=7b seat=1\nManaged by pvelab; do not edit.";

fn disk_gib(config: &GuestConfig) -> u64 {
    config
        .disks()
        .expect("disks parse")
        .into_iter()
        .find(|(k, _)| k == "scsi0")
        .and_then(|(_, d)| d.size_bytes())
        .expect("scsi0 has a size")
        >> 30
}

#[tokio::test]
async fn a_pool_vm_is_cloned_marked_tagged_sized_grown_and_baselined() {
    let (_sim, client) = support::sim_and_client().await;
    let id = client.free_vmid(Some(300)).await.expect("free id");
    support::clone_and_wait(
        &client,
        CloneParams::new(id).name("seat-1").description(MARKER),
        "clone",
    )
    .await;
    let vm = client.node("pve1").qemu(id);

    vm.update_config(
        &ConfigUpdate::new()
            .set("tags", "pvelab")
            .set("cores", 4)
            .set("memory", 4096),
    )
    .await
    .expect("config");
    if let Some(upid) = vm.resize_disk("scsi0", "+8G").await.expect("resize") {
        run_task(&client, upid).await;
    }
    let config = vm.config().await.expect("config");
    let listed = client.cluster().vms().await.expect("vms");
    let entry = listed.iter().find(|r| r.vmid == Some(id)).expect("listed");
    let template_mac = client
        .node("pve1")
        .qemu(TEMPLATE)
        .config()
        .await
        .expect("template config")
        .nets()
        .expect("nets")[0]
        .1
        .mac()
        .map(str::to_owned);
    let mac = config.nets().expect("nets")[0].1.mac().map(str::to_owned);

    assert_eq!(config.get("description").as_deref(), Some(MARKER));
    assert_eq!(config.get("tags").as_deref(), Some("pvelab"));
    assert_eq!((config.cores(), config.memory_mib()), (Some(4), Some(4096)));
    assert_eq!(disk_gib(&config), 40, "32 GiB template disk + 8");
    assert_eq!(entry.tags.as_deref(), Some("pvelab"));
    assert_eq!(entry.maxmem, Some(4096 << 20));
    assert!(
        mac.as_deref().is_some_and(|m| m.len() == 17) && mac != template_mac,
        "{mac:?}"
    );

    run_task(
        &client,
        vm.create_snapshot(&SnapshotParams::new("baseline").description("as provisioned"))
            .await
            .expect("snapshot"),
    )
    .await;
    run_task(&client, vm.start().await.expect("start")).await;
    vm.update_config(&ConfigUpdate::new().set("description", "a student was here"))
        .await
        .expect("config");
    run_task(
        &client,
        vm.rollback_snapshot("baseline").await.expect("rollback"),
    )
    .await;
    let restored = vm.config().await.expect("config");

    assert_eq!(restored.get("description").as_deref(), Some(MARKER));
    assert_eq!(restored.get("tags").as_deref(), Some("pvelab"));
    assert_eq!(
        support::state(vm.status()).await,
        GuestStatus::Stopped,
        "a rollback without RAM leaves the VM stopped"
    );
    let names: Vec<String> = vm
        .snapshots()
        .await
        .expect("snapshots")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["baseline", "current"]);
}

#[tokio::test]
async fn tags_are_stored_the_pve_way_and_a_malformed_tag_is_refused_by_name() {
    let (_sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 320).await;
    let vm = client.node("pve1").qemu(id);

    vm.update_config(&ConfigUpdate::new().set("tags", "pvelab;Class-7B,pvelab"))
        .await
        .expect("tags");
    let bad = vm
        .update_config(&ConfigUpdate::new().set("tags", "pvelab;seat/1"))
        .await;

    assert_eq!(
        vm.config().await.expect("config").get("tags").as_deref(),
        Some("class-7b;pvelab")
    );
    match bad {
        Err(Error::Parameter { errors, .. }) => {
            assert!(
                errors["tags"].contains("invalid characters in tag"),
                "{errors:?}"
            )
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[tokio::test]
async fn shrinking_a_disk_fails_in_its_task_with_pves_words() {
    let (_sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 330).await;
    let vm = client.node("pve1").qemu(id);

    let upid = vm
        .resize_disk("scsi0", "16G")
        .await
        .expect("accepted: PVE 9 checks in the task")
        .expect("a task");
    let waited = client.wait_for_task(&upid).await;

    match waited {
        Err(Error::TaskFailed { exit_status, .. }) => {
            assert_eq!(exit_status, "shrinking disks is not supported")
        }
        other => panic!("expected the task to fail, got {other:?}"),
    }
    assert_eq!(disk_gib(&vm.config().await.expect("config")), 32);
}

#[tokio::test]
async fn memory_raised_on_a_running_vm_shows_as_pending_until_it_stops() {
    let (_sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 340).await;
    let vm = client.node("pve1").qemu(id);
    run_task(&client, vm.start().await.expect("start")).await;

    vm.update_config(
        &ConfigUpdate::new()
            .set("memory", 8192)
            .set("tags", "pvelab"),
    )
    .await
    .expect("config");
    let pending = vm.pending().await.expect("pending");
    let memory = pending
        .iter()
        .find(|e| e.key == "memory")
        .expect("memory is listed");
    let tags = pending.iter().find(|e| e.key == "tags").expect("tags");

    assert_eq!(memory.value.as_deref(), Some("2048"));
    assert_eq!(memory.pending.as_deref(), Some("8192"));
    assert!(memory.has_pending_change());
    assert!(!tags.has_pending_change(), "tags apply at once");
    assert_eq!(vm.status().await.expect("status").maxmem, Some(2048 << 20));

    run_task(&client, vm.stop().await.expect("stop")).await;
    let after = vm.pending().await.expect("pending");
    assert!(after.iter().all(|e| !e.has_pending_change()), "{after:?}");
    assert_eq!(vm.config().await.expect("config").memory_mib(), Some(8192));
}

#[tokio::test]
async fn a_foreign_vm_in_the_way_is_refused_as_existing_and_stepped_over() {
    let (sim, client) = support::sim_and_client().await;
    let wanted = client.free_vmid(Some(350)).await.expect("free id");
    sim.create_guest(
        &ForeignGuest::qemu(wanted)
            .node("pve2")
            .name("colleagues-vm")
            .tags("other")
            .running(true),
    )
    .expect("a foreign VM");

    let direct = client
        .node("pve1")
        .qemu(TEMPLATE)
        .clone_vm(&CloneParams::new(wanted))
        .await;
    let template = client.node("pve1").qemu(TEMPLATE);
    let (got, upid) = client
        .with_free_vmid(Some(wanted), 3, |id| {
            let template = template.clone();
            async move { template.clone_vm(&CloneParams::new(id)).await }
        })
        .await
        .expect("a clone at the next free id");
    run_task(&client, upid).await;

    assert!(
        matches!(direct, Err(Error::AlreadyExists { .. })),
        "{direct:?}"
    );
    assert_ne!(got, wanted);
    let foreign = client
        .cluster()
        .vms()
        .await
        .expect("vms")
        .into_iter()
        .find(|r| r.vmid == Some(wanted))
        .expect("the foreign VM is listed");
    assert_eq!(foreign.node.as_deref(), Some("pve2"));
    assert_eq!(foreign.tags.as_deref(), Some("other"));
    assert_eq!(foreign.guest_status(), GuestStatus::Running);
}
