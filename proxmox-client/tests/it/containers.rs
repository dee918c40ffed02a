//! Container calls where they differ from VMs (hostname on clone, no RAM snapshots, a template
//! conversion answered with null) and pending changes of both kinds.

use pvelab_proxmox::{CloneParams, ConfigUpdate, DeleteParams, Error, SnapshotParams};
use serde_json::json;
use wiremock::matchers::query_param;
use wiremock::MockServer;

use crate::support::*;

const CT: &str = "/api2/json/nodes/pve2/lxc/200";

fn upid(kind: &str) -> String {
    format!("UPID:pve2:00000001:00000002:00000003:{kind}:200:root@pam:")
}

#[tokio::test]
async fn a_container_clone_sends_the_name_as_hostname() {
    let server = MockServer::start().await;
    on("POST", format!("{CT}/clone"))
        .respond_with(json_reply(200, json!({"data": upid("vzclone")})))
        .mount(&server)
        .await;
    let ct = token_client(&server).node("pve2").lxc(200);

    let task = ct
        .clone_ct(
            &CloneParams::new(201)
                .name("ct-alice")
                .description("pvelab:x\nmore")
                .full(true),
        )
        .await
        .expect("clone");
    let refused = ct
        .clone_ct(&CloneParams::new(202).full(true).format("qcow2"))
        .await;

    assert_eq!(task.task_type(), "vzclone");
    let b = body(&received(&server, "POST", &format!("{CT}/clone")).await[0]);
    for part in [
        "hostname=ct-alice",
        "newid=201",
        "full=1",
        "description=pvelab%3Ax%0Amore",
    ] {
        assert!(b.contains(part), "{part} missing from {b}");
    }
    assert!(!b.split('&').any(|p| p.starts_with("name=")), "{b}");
    assert!(
        matches!(&refused, Err(Error::InvalidInput(m)) if m.contains("qcow2")),
        "{refused:?}"
    );
    assert_eq!(
        received(&server, "POST", &format!("{CT}/clone"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn container_config_delete_snapshots_and_template_use_the_lxc_paths() {
    let server = MockServer::start().await;
    on("PUT", format!("{CT}/config"))
        .respond_with(json_reply(200, json!({"data": null})))
        .mount(&server)
        .await;
    on("DELETE", CT)
        .and(query_param("purge", "1"))
        .respond_with(json_reply(200, json!({"data": upid("vzdestroy")})))
        .mount(&server)
        .await;
    on("POST", format!("{CT}/snapshot"))
        .respond_with(json_reply(200, json!({"data": upid("vzsnapshot")})))
        .mount(&server)
        .await;
    on("POST", format!("{CT}/snapshot/baseline/rollback"))
        .respond_with(json_reply(200, json!({"data": upid("vzrollback")})))
        .mount(&server)
        .await;
    on("POST", format!("{CT}/template"))
        .respond_with(json_reply(200, json!({"data": null})))
        .mount(&server)
        .await;
    let ct = token_client(&server).node("pve2").lxc(200);

    ct.update_config(&ConfigUpdate::new().set("tags", "pvelab").set("cores", 2))
        .await
        .expect("config");
    let deleted = ct.delete(&DeleteParams::purge_all()).await.expect("delete");
    let snap = ct
        .create_snapshot(&SnapshotParams::new("baseline"))
        .await
        .expect("snapshot");
    let rolled = ct.rollback_snapshot("baseline").await.expect("rollback");
    let template = ct.convert_to_template().await.expect("template");
    let mut with_ram = SnapshotParams::new("ram");
    with_ram.vmstate = Some(true);
    let refused = ct.create_snapshot(&with_ram).await;

    assert_eq!(deleted.task_type(), "vzdestroy");
    assert_eq!(snap.task_type(), "vzsnapshot");
    assert_eq!(rolled.task_type(), "vzrollback");
    assert_eq!(template, None, "PVE answers null for a container");
    assert!(
        matches!(refused, Err(Error::InvalidInput(_))),
        "{refused:?}"
    );
    let b = body(&received(&server, "PUT", &format!("{CT}/config")).await[0]);
    assert!(b.contains("tags=pvelab") && b.contains("cores=2"), "{b}");
    assert_eq!(
        received(&server, "POST", &format!("{CT}/snapshot"))
            .await
            .len(),
        1,
        "the RAM snapshot was refused before sending"
    );
}

#[tokio::test]
async fn pending_changes_are_read_for_vms_and_containers() {
    let server = MockServer::start().await;
    on("GET", "/api2/json/nodes/pve1/qemu/101/pending")
        .respond_with(json_reply(
            200,
            json!({"data": [
                {"key": "memory", "value": "2048", "pending": "4096"},
                {"key": "cores", "value": 2, "pending": 4},
                {"key": "name", "value": "lab-101"},
                {"key": "agent", "value": "1", "delete": 1}
            ]}),
        ))
        .mount(&server)
        .await;
    on("GET", format!("{CT}/pending"))
        .respond_with(json_reply(
            200,
            json!({"data": [{"key": "hostname", "value": "ct"}]}),
        ))
        .mount(&server)
        .await;
    let client = token_client(&server);

    let vm = client
        .node("pve1")
        .qemu(101)
        .pending()
        .await
        .expect("pending");
    let ct = client
        .node("pve2")
        .lxc(200)
        .pending()
        .await
        .expect("pending");

    let changed: Vec<&str> = vm
        .iter()
        .filter(|e| e.has_pending_change())
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(changed, ["memory", "cores", "agent"]);
    assert_eq!(vm[1].pending.as_deref(), Some("4"));
    assert!(vm[3].is_pending_delete());
    assert!(!ct[0].has_pending_change());
}
