//! Containers through the client as the pool will use them: full clone with a hostname,
//! config and tags, a baseline snapshot and rollback, disk growth, pending changes, template
//! conversion (answered with null) and deletion with purge.

use std::time::{Duration, Instant};

use pvelab_proxmox::{
    CloneParams, ConfigUpdate, DeleteParams, Error, GuestStatus, RrdCf, RrdTimeframe,
    SnapshotParams,
};

use crate::support::{self, run_task};

/// A running container on pve1, populated after the VMs.
const CT: u32 = 108;

#[tokio::test]
async fn a_container_is_cloned_with_its_hostname_configured_baselined_and_deleted() {
    let (sim, client) = support::sim_and_client().await;
    let node = client.node("pve1");
    let id = client.free_vmid(Some(400)).await.expect("free id");

    run_task(
        &client,
        node.lxc(CT)
            .clone_ct(
                &CloneParams::new(id)
                    .name("ct-seat-1")
                    .description("pvelab: seat=1")
                    .full(true),
            )
            .await
            .expect("clone"),
    )
    .await;
    let ct = node.lxc(id);
    ct.update_config(&ConfigUpdate::new().set("tags", "pvelab").set("cores", 2))
        .await
        .expect("config");
    if let Some(upid) = ct.resize_disk("rootfs", "+2G").await.expect("resize") {
        run_task(&client, upid).await;
    }
    let config = ct.config().await.expect("config");
    let shrink = ct.resize_disk("rootfs", "1G").await;

    assert_eq!(config.name().as_deref(), Some("ct-seat-1"));
    assert_eq!(config.get("description").as_deref(), Some("pvelab: seat=1"));
    assert_eq!(config.get("tags").as_deref(), Some("pvelab"));
    assert_eq!(config.cores(), Some(2));
    let rootfs = config
        .disks()
        .expect("disks")
        .into_iter()
        .find(|(k, _)| k == "rootfs")
        .expect("rootfs")
        .1;
    assert_eq!(rootfs.size_bytes(), Some(10 << 30), "8 GiB + 2");
    match shrink {
        Err(Error::Api {
            status: 500,
            message,
        }) => {
            assert!(message.contains("unable to shrink disk size"), "{message}")
        }
        other => panic!("a container refuses a shrink before the task: {other:?}"),
    }

    run_task(
        &client,
        ct.create_snapshot(&SnapshotParams::new("baseline"))
            .await
            .expect("snapshot"),
    )
    .await;
    ct.update_config(&ConfigUpdate::new().set("hostname", "changed"))
        .await
        .expect("config");
    run_task(
        &client,
        ct.rollback_snapshot("baseline").await.expect("rollback"),
    )
    .await;
    assert_eq!(
        ct.config().await.expect("config").name().as_deref(),
        Some("ct-seat-1")
    );
    let snaps: Vec<String> = ct
        .snapshots()
        .await
        .expect("snapshots")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(snaps, ["baseline", "current"]);
    run_task(
        &client,
        ct.delete_snapshot("baseline").await.expect("delete"),
    )
    .await;

    run_task(
        &client,
        ct.delete(&DeleteParams::purge_all()).await.expect("delete"),
    )
    .await;
    assert!(matches!(ct.status().await, Err(Error::NotFound { .. })));
    assert_eq!(sim.count("POST", "/nodes/{node}/lxc/{vmid}/clone"), 1);
}

#[tokio::test]
async fn a_container_becomes_a_template_without_a_task_id() {
    let (_sim, client) = support::sim_and_client().await;
    let ct = client.node("pve1").lxc(CT);
    if ct.status().await.expect("status").status == GuestStatus::Running {
        run_task(&client, ct.stop().await.expect("stop")).await;
    }

    let answer = ct.convert_to_template().await.expect("accepted");

    assert_eq!(answer, None, "PVE answers null for a container");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ct.config().await.expect("config").is_template() {
        assert!(Instant::now() < deadline, "the conversion ends");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ct.status().await.expect("status").template);
}

#[tokio::test]
async fn a_running_containers_changes_reboot_and_load_are_visible() {
    let (_sim, client) = support::sim_and_client().await;
    let ct = client.node("pve1").lxc(CT);
    assert_eq!(support::state(ct.status()).await, GuestStatus::Running);

    ct.update_config(&ConfigUpdate::new().set("memory", 1024))
        .await
        .expect("config");
    let pending = ct.pending().await.expect("pending");
    run_task(&client, ct.reboot().await.expect("reboot")).await;
    let samples = ct
        .rrddata(RrdTimeframe::Hour, RrdCf::Average)
        .await
        .expect("rrddata");

    let memory = pending
        .iter()
        .find(|e| e.key == "memory")
        .expect("memory listed");
    assert_eq!(memory.value.as_deref(), Some("1024"), "applied at once");
    assert!(!memory.has_pending_change());
    assert_eq!(support::state(ct.status()).await, GuestStatus::Running);
    assert!(!samples.is_empty());
}
