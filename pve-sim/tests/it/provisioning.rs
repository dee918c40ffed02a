//! What provisioning a pool relies on, as PVE 9 does it: a clone's description, tags stored
//! the PVE way and listed in `cluster/resources`, disks that only grow, template conversion
//! refusals, container differences, and guests created behind the product's back.

use pvelab_pve_sim::{ForeignGuest, SimConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::Api;

async fn clone_of_9000(api: &Api, newid: &str, extra: &[(&str, &str)]) {
    let mut form = vec![("newid", newid)];
    form.extend_from_slice(extra);
    let exit = api
        .post_and_wait("/nodes/pve1/qemu/9000/clone", &form)
        .await;
    assert_eq!(exit, "OK", "clone into {newid}");
}

async fn config(api: &Api, path: &str) -> Value {
    api.get(&format!("{path}/config")).await.data().clone()
}

fn disk_size(config: &Value, key: &str) -> String {
    let disk = config[key].as_str().expect("a disk");
    disk.split(',')
        .find_map(|p| p.strip_prefix("size="))
        .expect("a size")
        .to_owned()
}

async fn resize(api: &Api, path: &str, disk: &str, size: &str) -> crate::support::Answer {
    api.call(
        Method::PUT,
        &format!("{path}/resize"),
        &[("disk", disk), ("size", size)],
    )
    .await
}

#[tokio::test]
async fn a_clone_keeps_its_description_and_tags_are_stored_sorted_and_listed() {
    let api = Api::fast().await;
    let marker = "pvelab: pool=class-7b seat=3\nDo not edit.";
    clone_of_9000(&api, "300", &[("name", "seat-3"), ("description", marker)]).await;
    let vm = "/nodes/pve1/qemu/300";

    let put = api
        .call(
            Method::PUT,
            &format!("{vm}/config"),
            &[("tags", "PVELab, class-7b;pvelab")],
        )
        .await;
    let bad = api
        .call(Method::PUT, &format!("{vm}/config"), &[("tags", "a/b")])
        .await;

    assert!(put.status.is_success(), "{}", put.raw);
    let c = config(&api, vm).await;
    assert_eq!(c["description"], marker);
    assert_eq!(c["tags"], "class-7b;pvelab");
    assert_eq!(api.vm_resource(300).await["tags"], "class-7b;pvelab");
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.body["errors"]["tags"],
        "invalid format - invalid characters in tag"
    );
}

#[tokio::test]
async fn a_vm_disk_grows_and_a_shrink_fails_inside_the_task() {
    let api = Api::fast().await;
    clone_of_9000(&api, "301", &[]).await;
    let vm = "/nodes/pve1/qemu/301";

    let grown = api
        .wait_task(resize(&api, vm, "scsi0", "+8G").await.upid())
        .await;
    let after_grow = disk_size(&config(&api, vm).await, "scsi0");
    let same = api
        .wait_task(resize(&api, vm, "scsi0", "40G").await.upid())
        .await;
    let shrink = resize(&api, vm, "scsi0", "10G").await;
    let shrunk = api.wait_task(shrink.upid()).await;
    let cdrom = api
        .wait_task(resize(&api, vm, "ide2", "+1G").await.upid())
        .await;
    let lower = resize(&api, vm, "scsi0", "+8g").await;
    let nodisk = resize(&api, vm, "scsi99", "+8G").await;

    assert_eq!(grown, "OK");
    assert_eq!(after_grow, "40G", "32G template disk + 8G");
    assert_eq!(same, "OK", "the same size changes nothing");
    assert!(shrink.status.is_success(), "PVE 9 checks inside the task");
    assert_eq!(shrunk, "shrinking disks is not supported");
    assert_eq!(cdrom, "you can't resize a cdrom");
    assert_eq!(disk_size(&config(&api, vm).await, "scsi0"), "40G");
    assert_eq!(
        lower.body["errors"]["size"],
        "value does not match the regex pattern"
    );
    assert!(
        nodisk.body["errors"]["disk"].as_str().is_some_and(
            |e| e.starts_with("value 'scsi99' does not have a value in the enumeration")
        ),
        "{}",
        nodisk.raw
    );
}

#[tokio::test]
async fn a_container_disk_is_checked_before_the_task() {
    let api = Api::fast().await;
    let ct = "/nodes/pve1/lxc/106";

    let shrink = resize(&api, ct, "rootfs", "4G").await;
    let same = resize(&api, ct, "rootfs", "8G").await;
    let grow = api
        .wait_task(resize(&api, ct, "rootfs", "+2G").await.upid())
        .await;

    assert_eq!(shrink.status_line(), (500, "unable to shrink disk size"));
    assert_eq!(
        same.status_line(),
        (500, "disk is already at specified size")
    );
    assert_eq!(grow, "OK");
    assert_eq!(disk_size(&config(&api, ct).await, "rootfs"), "10G");
}

#[tokio::test]
async fn template_conversion_refuses_in_pves_words_and_a_container_answers_null() {
    let api = Api::fast().await;
    clone_of_9000(&api, "302", &[]).await;
    let vm = "/nodes/pve1/qemu/302";
    let snap = api
        .post_and_wait(&format!("{vm}/snapshot"), &[("snapname", "baseline")])
        .await;
    assert_eq!(snap, "OK");

    let with_snapshot = api.post(&format!("{vm}/template"), &[]).await;
    let running = api.post("/nodes/pve1/qemu/100/template", &[]).await;
    let ct_running = api.post("/nodes/pve1/lxc/106/template", &[]).await;
    api.sim.stop_guest(106).expect("stop");
    let ct = api.post("/nodes/pve1/lxc/106/template", &[]).await;

    assert_eq!(
        with_snapshot.status_line(),
        (
            500,
            "unable to create template, because VM contains snapshots"
        )
    );
    assert_eq!(
        running.status_line(),
        (500, "you can't convert a VM to template if VM is running")
    );
    assert_eq!(
        ct_running.status_line(),
        (
            500,
            "you can't convert a CT to template if the CT is running"
        )
    );
    assert!(ct.status.is_success(), "{}", ct.raw);
    assert_eq!(ct.body, json!({ "data": null }), "no UPID for a container");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while config(&api, "/nodes/pve1/lxc/106").await["template"] != 1 {
        assert!(std::time::Instant::now() < deadline, "the conversion ends");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn containers_refuse_what_only_vms_have() {
    let api = Api::fast().await;
    let ct = "/nodes/pve1/lxc/106";

    let post_config = api.post(&format!("{ct}/config"), &[("cores", "2")]).await;
    let format = api
        .post(
            &format!("{ct}/clone"),
            &[("newid", "400"), ("full", "1"), ("format", "raw")],
        )
        .await;
    let vmstate = api
        .post(
            &format!("{ct}/snapshot"),
            &[("snapname", "s1"), ("vmstate", "1")],
        )
        .await;
    let skiplock = api
        .call(
            Method::PUT,
            &format!("{ct}/config"),
            &[("cores", "2"), ("skiplock", "1")],
        )
        .await;

    assert_eq!(
        post_config.status_line(),
        (
            501,
            "Method 'POST /nodes/pve1/lxc/106/config' not implemented"
        )
    );
    for (what, a, key) in [
        ("format", &format, "format"),
        ("vmstate", &vmstate, "vmstate"),
        ("skiplock", &skiplock, "skiplock"),
    ] {
        assert_eq!(a.status, 400, "{what}: {}", a.raw);
        assert!(a.body["errors"][key].is_string(), "{what}: {}", a.raw);
    }
}

#[tokio::test]
async fn a_foreign_vm_created_behind_the_products_back_takes_its_vmid() {
    let api = Api::start(SimConfig {
        vms: 2,
        ..SimConfig::fast()
    })
    .await;
    api.sim
        .create_guest(
            &ForeignGuest::qemu(250)
                .node("pve2")
                .name("someone-elses")
                .running(true)
                .tags("Other;x"),
        )
        .expect("created");
    let taken = api.sim.create_guest(&ForeignGuest::qemu(250));
    let over_http = api
        .http
        .post(format!("{}/_sim/guests", api.sim.base_url()))
        .json(&json!({ "vmid": 251, "kind": "lxc", "node": "pve1" }))
        .send()
        .await
        .expect("control API");
    let conflict = api
        .http
        .post(format!("{}/_sim/guests", api.sim.base_url()))
        .json(&json!({ "vmid": 251 }))
        .send()
        .await
        .expect("control API");

    let listed = api.vm_resource(250).await;
    assert_eq!(listed["node"], "pve2");
    assert_eq!(listed["name"], "someone-elses");
    assert_eq!(listed["status"], "running");
    assert_eq!(listed["tags"], "other;x");
    assert!(taken.is_err());
    assert!(over_http.status().is_success());
    assert_eq!(api.vm_resource(251).await["type"], "lxc");
    assert_eq!(conflict.status(), 409);
    let clash = api
        .post(
            "/nodes/pve1/qemu/9000/clone",
            &[("newid", "250"), ("name", "mine")],
        )
        .await;
    assert_eq!(
        clash.status_line(),
        (500, "unable to create VM 250: config file already exists")
    );
}
