//! Writes and tasks: linked and full clones, power actions, disk resize, template conversion,
//! snapshots, task status and log, deletion.

use pvelab_proxmox::{
    CloneParams, DeleteParams, Error, ExitStatus, GuestStatus, ShutdownParams, SnapshotParams,
    TaskState,
};

use crate::support::{self, run_task, TEMPLATE};

#[tokio::test]
async fn a_linked_clone_then_a_full_clone_of_the_template_finish_and_differ_in_their_disks() {
    let (sim, client) = support::sim_and_client().await;
    let template = client.node("pve1").qemu(TEMPLATE);
    let linked_id = client.free_vmid(Some(200)).await.expect("free id");

    let upid = template
        .clone_vm(&CloneParams::new(linked_id).name("lab-linked"))
        .await
        .expect("linked clone accepted");
    assert_eq!(upid.node(), "pve1");
    assert_eq!(upid.task_type(), "qmclone");
    assert_eq!(upid.id(), TEMPLATE.to_string(), "the UPID names the source");
    run_task(&client, upid).await;

    let full_id = client
        .free_vmid(Some(linked_id + 1))
        .await
        .expect("free id");
    support::clone_and_wait(
        &client,
        CloneParams::new(full_id).name("lab-full").full(true),
        "full clone accepted",
    )
    .await;

    let linked = client
        .node("pve1")
        .qemu(linked_id)
        .config()
        .await
        .expect("config");
    let full = client
        .node("pve1")
        .qemu(full_id)
        .config()
        .await
        .expect("config");
    assert_eq!(linked.name().as_deref(), Some("lab-linked"));
    assert_eq!(full.name().as_deref(), Some("lab-full"));
    assert_eq!(linked.lock(), None, "the clone lock is gone after the task");
    let disk = |c: &pvelab_proxmox::GuestConfig| {
        c.disks()
            .expect("disks parse")
            .into_iter()
            .find(|(k, _)| k == "scsi0")
            .map(|(_, d)| d)
            .expect("scsi0")
    };
    let linked_disk = disk(&linked);
    let full_disk = disk(&full);
    assert!(
        linked_disk.volume().contains("base-9000"),
        "a linked clone shares the template's base volume: {linked_disk:?}"
    );
    assert!(
        !full_disk.volume().contains("base-9000")
            && full_disk.volume().contains(&format!("vm-{full_id}-disk")),
        "a full clone has its own volume: {full_disk:?}"
    );
    let template_mac = template
        .config()
        .await
        .expect("config")
        .nets()
        .expect("nets")[0]
        .1
        .mac()
        .map(str::to_owned);
    let clone_mac = linked.nets().expect("nets")[0].1.mac().map(str::to_owned);
    assert!(
        clone_mac.is_some() && clone_mac != template_mac,
        "a clone gets a new MAC"
    );
    assert_eq!(
        sim.count("POST", "/nodes/{node}/qemu/{vmid}/clone"),
        2,
        "each clone was sent once"
    );
}

#[tokio::test]
async fn power_actions_move_a_vm_through_its_states() {
    let (_sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 300).await;
    let vm = client.node("pve1").qemu(id);
    assert_eq!(support::state(vm.status()).await, GuestStatus::Stopped);

    run_task(&client, vm.start().await.expect("start")).await;
    let status = vm.status().await.expect("status");
    assert_eq!(status.status, GuestStatus::Running);
    assert_eq!(status.qmpstatus.as_deref(), Some("running"));

    run_task(&client, vm.reboot().await.expect("reboot")).await;
    assert_eq!(support::state(vm.status()).await, GuestStatus::Running);
    run_task(&client, vm.reset().await.expect("reset")).await;
    assert_eq!(support::state(vm.status()).await, GuestStatus::Running);

    run_task(
        &client,
        vm.shutdown(&ShutdownParams::forced_after(60))
            .await
            .expect("shutdown"),
    )
    .await;
    assert_eq!(support::state(vm.status()).await, GuestStatus::Stopped);

    run_task(&client, vm.start().await.expect("start")).await;
    run_task(&client, vm.stop().await.expect("stop")).await;
    assert_eq!(support::state(vm.status()).await, GuestStatus::Stopped);
}

#[tokio::test]
async fn a_disk_grows_and_a_vm_becomes_a_template() {
    let (_sim, client) = support::sim_and_client().await;
    let id = client.free_vmid(Some(400)).await.expect("free id");
    support::clone_and_wait(&client, CloneParams::new(id).full(true), "clone").await;
    let vm = client.node("pve1").qemu(id);
    let size_of = |c: &pvelab_proxmox::GuestConfig| {
        c.disks()
            .expect("disks parse")
            .into_iter()
            .find(|(k, _)| k == "scsi0")
            .and_then(|(_, d)| d.size_bytes())
            .expect("scsi0 has a size")
    };
    let before = size_of(&vm.config().await.expect("config"));

    if let Some(upid) = vm.resize_disk("scsi0", "+2G").await.expect("resize") {
        run_task(&client, upid).await;
    }
    let after = size_of(&vm.config().await.expect("config"));
    assert_eq!(after, before + 2 * 1024 * 1024 * 1024);

    assert!(matches!(
        vm.resize_disk("scsi0", "2 gigs").await,
        Err(Error::InvalidInput(_))
    ));

    if let Some(upid) = vm.convert_to_template().await.expect("template") {
        run_task(&client, upid).await;
    }
    assert!(vm.config().await.expect("config").is_template());
    assert!(vm.status().await.expect("status").template);
}

#[tokio::test]
async fn snapshots_are_taken_listed_rolled_back_and_deleted() {
    let (_sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 500).await;
    let vm = client.node("pve1").qemu(id);
    let names = |list: Vec<pvelab_proxmox::SnapshotEntry>| -> Vec<String> {
        list.into_iter().map(|s| s.name).collect()
    };
    assert_eq!(names(vm.snapshots().await.expect("list")), ["current"]);

    run_task(
        &client,
        vm.create_snapshot(&SnapshotParams::new("before-lab").description("clean state"))
            .await
            .expect("snapshot"),
    )
    .await;
    let list = vm.snapshots().await.expect("list");
    let snap = list
        .iter()
        .find(|s| s.name == "before-lab")
        .expect("the snapshot is listed");
    assert_eq!(snap.description.as_deref(), Some("clean state"));
    assert!(snap.snaptime.is_some());
    assert!(
        list.last().is_some_and(|s| s.is_current()),
        "current comes last"
    );
    assert_eq!(
        list.last().and_then(|s| s.parent.as_deref()),
        Some("before-lab")
    );

    run_task(
        &client,
        vm.rollback_snapshot("before-lab").await.expect("rollback"),
    )
    .await;
    run_task(
        &client,
        vm.delete_snapshot("before-lab").await.expect("delete"),
    )
    .await;
    assert_eq!(names(vm.snapshots().await.expect("list")), ["current"]);
}

#[tokio::test]
async fn a_finished_task_reports_its_status_and_log() {
    let (sim, client) = support::sim_and_client().await;
    let id = client.free_vmid(Some(600)).await.expect("free id");
    let upid = support::clone_template(&client, CloneParams::new(id), "clone").await;

    let waited = client.wait_for_task(&upid).await.expect("task ends");
    assert_eq!(
        sim.count("GET", "/nodes/{node}/tasks/{upid}/log"),
        0,
        "a successful wait reads no log"
    );
    let task = client.task(&upid);
    let status = task.status().await.expect("task status");
    let (log, total) = task.log(0, 50).await.expect("task log");

    assert_eq!(waited.status, TaskState::Stopped);
    assert_eq!(status.exit(), Some(ExitStatus::Ok));
    assert_eq!(status.kind.as_deref(), Some("qmclone"));
    assert_eq!(status.id.as_deref(), Some("9000"));
    assert_eq!(status.node.as_deref(), Some("pve1"));
    assert_eq!(status.user.as_deref(), Some(upid.user()));
    assert!(upid.user().starts_with("root@pam"), "{upid}");
    assert!(!log.is_empty());
    assert_eq!(total, Some(log.len() as u64));
    assert!(
        log.windows(2).all(|w| w[1].n == w[0].n + 1),
        "numbered lines"
    );
    assert_eq!(log.last().map(|l| l.t.as_str()), Some("TASK OK"));
    // `start` counts lines from 0 while `n` counts from 1; the log tail relies on that.
    let (page, _) = task.log(1, 1).await.expect("one line");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].n, 2);
    assert_eq!(page[0].t, log[1].t);
}

#[tokio::test]
async fn a_deleted_vm_is_gone_and_a_running_one_refuses_deletion() {
    let (sim, client) = support::sim_and_client().await;
    let id = support::linked_clone(&client, 700).await;
    let vm = client.node("pve1").qemu(id);
    run_task(&client, vm.start().await.expect("start")).await;

    let refused = vm.delete(&DeleteParams::purge_all()).await;
    match refused {
        Err(Error::Api {
            status: 500,
            message,
        }) => {
            assert!(message.contains("is running - destroy failed"), "{message}")
        }
        other => panic!("deleting a running VM must fail: {other:?}"),
    }

    run_task(&client, vm.stop().await.expect("stop")).await;
    run_task(
        &client,
        vm.delete(&DeleteParams::purge_all()).await.expect("delete"),
    )
    .await;

    assert!(matches!(vm.status().await, Err(Error::NotFound { .. })));
    assert!(client.cluster().is_vmid_free(id).await.expect("probe"));
    assert_eq!(
        sim.count("DELETE", "/nodes/{node}/qemu/{vmid}"),
        2,
        "the refused and the accepted delete, each sent once"
    );
}

#[tokio::test]
async fn a_task_that_ends_with_warnings_counts_as_success() {
    let (sim, client) = support::sim_and_client().await;
    sim.set_faults(pvelab_pve_sim::FaultConfig {
        task_warning_rate: 1.0,
        ..Default::default()
    })
    .expect("faults");
    let id = client.free_vmid(Some(800)).await.expect("free id");

    let upid = support::clone_template(&client, CloneParams::new(id), "clone").await;
    let status = client
        .wait_for_task(&upid)
        .await
        .expect("warnings are success");

    assert_eq!(status.exit(), Some(ExitStatus::Warnings(1)));
    assert_eq!(status.exitstatus.as_deref(), Some("WARNINGS: 1"));
    let (log, _) = client.task(&upid).log(0, 50).await.expect("log");
    assert_eq!(log.last().map(|l| l.t.as_str()), Some("TASK WARNINGS: 1"));
    assert!(
        client.node("pve1").qemu(id).config().await.is_ok(),
        "the VM exists"
    );
}

#[tokio::test]
async fn configuration_changes_apply_through_put_and_through_post() {
    let (_sim, client) = support::sim_and_client().await;
    let vm = client.node("pve1").qemu(100);

    vm.update_config(
        &pvelab_proxmox::ConfigUpdate::new()
            .set("memory", 4096)
            .set("cores", 4),
    )
    .await
    .expect("PUT config");
    let background = vm
        .update_config_async(&pvelab_proxmox::ConfigUpdate::new().set("name", "renamed-100"))
        .await
        .expect("POST config");
    if let Some(upid) = background {
        run_task(&client, upid).await;
    }
    let config = vm.config().await.expect("config");

    assert_eq!(config.memory_mib(), Some(4096));
    assert_eq!(config.cores(), Some(4));
    assert_eq!(config.name().as_deref(), Some("renamed-100"));
    let listed = client.cluster().vms().await.expect("vms");
    let entry = listed.iter().find(|r| r.vmid == Some(100)).expect("VM 100");
    // (Memory is not compared here: on a running VM it stays pending until a reboot, as in PVE.)
    assert_eq!(entry.name.as_deref(), Some("renamed-100"));
}

#[tokio::test]
async fn a_clone_to_another_node_needs_shared_storage_and_its_task_stays_on_the_source_node() {
    let (_sim, client) = support::sim_and_client().await;
    let id = client.free_vmid(Some(900)).await.expect("free id");

    let local = client
        .node("pve1")
        .qemu(TEMPLATE)
        .clone_vm(&CloneParams::new(id).target("pve2"))
        .await;
    match local {
        Err(Error::Api {
            status: 500,
            message,
        }) => assert!(
            message.contains("can't clone VM to node 'pve2' (VM uses local storage)"),
            "{message}"
        ),
        other => panic!("a local-storage template cannot be cloned elsewhere: {other:?}"),
    }

    // 9010 lives on shared storage: its linked clones may land on any node.
    let upid = client
        .node("pve1")
        .qemu(9010)
        .clone_vm(&CloneParams::new(id).target("pve2"))
        .await
        .expect("clone to pve2");
    assert_eq!(upid.node(), "pve1", "the task runs where the source is");
    run_task(&client, upid).await;

    let moved = client
        .node("pve2")
        .qemu(id)
        .status()
        .await
        .expect("on pve2");
    assert_eq!(moved.vmid, Some(id));
    assert!(matches!(
        client.node("pve1").qemu(id).status().await,
        Err(Error::NotFound { .. })
    ));
}
