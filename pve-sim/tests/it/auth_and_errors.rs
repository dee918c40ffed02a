//! Authentication failures and error answers exactly as PVE sends them.

use pvelab_pve_sim::SimConfig;
use reqwest::Method;

use crate::support::Api;

#[tokio::test]
async fn a_request_without_credentials_gets_401_no_ticket_with_an_empty_body() {
    let api = Api::fast().await;
    let a = api.send(api.http.get(api.url("/version"))).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.reason, "No ticket");
    assert!(a.raw.is_empty());
}

#[tokio::test]
async fn a_wrong_token_secret_is_an_authentication_failure() {
    let api = Api::fast().await;
    let id = api
        .sim
        .api_token()
        .split('=')
        .next()
        .unwrap_or_default()
        .to_owned();
    let a = api
        .send(
            api.http
                .get(api.url("/version"))
                .header("Authorization", format!("PVEAPIToken={id}=wrong")),
        )
        .await;
    assert_eq!(a.status_line(), (401, "authentication failure"));
}

#[tokio::test]
async fn a_post_with_a_ticket_but_without_csrf_token_is_refused() {
    let api = Api::fast().await;
    let user = api.sim.username();
    let pass = api.sim.password();
    let login = api
        .send(
            api.http
                .post(api.url("/access/ticket"))
                .form(&[("username", user.as_str()), ("password", pass.as_str())]),
        )
        .await;
    let ticket = login.data()["ticket"]
        .as_str()
        .expect("a ticket")
        .to_owned();
    let a = api
        .send(
            api.http
                .post(api.url("/nodes/pve1/qemu/100/status/start"))
                .header("Cookie", format!("PVEAuthCookie={ticket}")),
        )
        .await;
    assert_eq!(
        a.status_line(),
        (401, "Permission denied - invalid csrf token")
    );
    let wrong = api
        .send(
            api.http
                .post(api.url("/access/ticket"))
                .form(&[("username", user.as_str()), ("password", "nope")]),
        )
        .await;
    assert_eq!(wrong.status_line(), (401, "authentication failure"));
}

#[tokio::test]
async fn an_unknown_path_answers_501_method_not_implemented() {
    let api = Api::fast().await;
    let a = api.get("/nodes/pve1/qemu/100/frobnicate").await;
    assert_eq!(a.status, 501);
    assert_eq!(
        a.reason,
        "Method 'GET /nodes/pve1/qemu/100/frobnicate' not implemented"
    );
    assert_eq!(
        a.body["message"],
        "Method 'GET /nodes/pve1/qemu/100/frobnicate' not implemented\n"
    );
    assert!(a.body["data"].is_null());
    let wrong_method = api.call(Method::PUT, "/cluster/resources", &[]).await;
    assert_eq!(wrong_method.status, 501);
    assert_eq!(api.sim.count("GET", "(unknown)"), 1);
}

#[tokio::test]
async fn a_delete_with_a_body_answers_501() {
    let api = Api::fast().await;
    let a = api
        .send(
            api.http
                .delete(api.url("/nodes/pve1/qemu/101"))
                .header("Authorization", api.token_header())
                .form(&[("purge", "1")]),
        )
        .await;
    assert_eq!(a.status, 501);
    assert_eq!(
        a.reason,
        "Method 'DELETE /nodes/pve1/qemu/101' not implemented"
    );
    assert_eq!(api.sim.guest_lock(101), Some(None), "nothing was deleted");
}

#[tokio::test]
async fn a_boolean_sent_as_true_is_a_parameter_error() {
    let api = Api::fast().await;
    let a = api
        .post(
            "/nodes/pve1/qemu/9000/clone",
            &[("newid", "700"), ("full", "true")],
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.reason, "Parameter verification failed.");
    assert_eq!(
        a.body["errors"]["full"],
        "type check ('boolean') failed - got 'true'"
    );
    let missing = api.post("/nodes/pve1/qemu/9000/clone", &[]).await;
    assert_eq!(
        missing.body["errors"]["newid"],
        "property is missing and it is not optional"
    );
}

#[tokio::test]
async fn nextid_is_a_string_and_a_taken_id_is_a_400_on_vmid() {
    let api = Api::fast().await;
    let a = api.get("/cluster/nextid").await;
    assert_eq!(
        a.data(),
        "108",
        "VMs 100..105 and containers 106, 107 are populated"
    );
    let taken = api
        .call(Method::GET, "/cluster/nextid", &[("vmid", "100")])
        .await;
    assert_eq!(taken.status, 400);
    assert_eq!(taken.body["errors"]["vmid"], "VM 100 already exists");
}

#[tokio::test]
async fn a_cloning_vm_refuses_config_changes_as_locked() {
    let api = Api::start(SimConfig {
        time_scale: 0.1,
        ..SimConfig::default()
    })
    .await; // 300 ms clone
    let a = api
        .post("/nodes/pve1/qemu/9000/clone", &[("newid", "800")])
        .await;
    let put = api
        .call(
            Method::PUT,
            "/nodes/pve1/qemu/800/config",
            &[("cores", "4")],
        )
        .await;
    assert_eq!(put.status, 500);
    assert_eq!(put.reason, "VM is locked (clone)");
    assert_eq!(put.body["message"], "VM is locked (clone)\n");
    // A power action on the locked VM fails inside its task.
    let exit = api
        .post_and_wait("/nodes/pve1/qemu/800/status/start", &[])
        .await;
    assert_eq!(exit, "VM is locked (clone)");
    assert_eq!(api.wait_task(a.upid()).await, "OK");
}

#[tokio::test]
async fn semantic_errors_are_500s_with_pves_texts() {
    let api = Api::fast().await;
    let missing = api.get("/nodes/pve1/qemu/4242/status/current").await;
    assert_eq!(missing.status, 500);
    assert_eq!(
        missing.reason,
        "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist"
    );
    let exists = api
        .post("/nodes/pve1/qemu/9000/clone", &[("newid", "100")])
        .await;
    assert_eq!(
        exists.reason,
        "unable to create VM 100: config file already exists"
    );
    let linked_storage = api
        .post(
            "/nodes/pve1/qemu/9000/clone",
            &[("newid", "900"), ("storage", "local-lvm")],
        )
        .await;
    assert_eq!(
        linked_storage.reason,
        "parameter 'storage' not allowed for linked clones"
    );
    let remote = api
        .post(
            "/nodes/pve1/qemu/9000/clone",
            &[("newid", "901"), ("target", "pve2")],
        )
        .await;
    assert_eq!(
        remote.reason,
        "can't clone VM to node 'pve2' (VM uses local storage)"
    );
    let shared = api
        .post(
            "/nodes/pve1/qemu/9010/clone",
            &[("newid", "902"), ("target", "pve2")],
        )
        .await;
    assert!(
        shared.status.is_success(),
        "a template on shared storage clones anywhere: {}",
        shared.raw
    );
    let replica = api
        .post(
            "/nodes/pve1/qemu/9010/clone",
            &[
                ("newid", "903"),
                ("target", "pve3"),
                ("full", "1"),
                ("storage", "local-lvm"),
            ],
        )
        .await;
    let exit = api.wait_task(replica.upid()).await;
    assert_eq!(
        exit, "OK",
        "a full copy of a shared template may land on another node's disk"
    );
    let config = api.get("/nodes/pve3/qemu/903/config").await;
    assert!(
        config.data()["scsi0"]
            .as_str()
            .is_some_and(|d| d.starts_with("local-lvm:vm-903-disk-0")),
        "{}",
        config.raw
    );
    let running = api.call(Method::DELETE, "/nodes/pve1/qemu/100", &[]).await;
    assert_eq!(running.reason, "VM 100 is running - destroy failed");
}

#[tokio::test]
async fn the_legacy_switch_drops_the_message_member() {
    let api = Api::start(SimConfig {
        legacy_error_body: true,
        ..SimConfig::fast()
    })
    .await;
    let a = api.get("/nodes/pve1/qemu/4242/config").await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body, serde_json::json!({ "data": null }));
    let p = api.post("/nodes/pve1/qemu/9000/clone", &[]).await;
    assert!(
        p.body.get("message").is_none() && p.body["errors"]["newid"].is_string(),
        "{}",
        p.raw
    );
}

#[tokio::test]
async fn the_audit_token_reads_but_its_writes_get_403() {
    let api = Api::fast().await;
    let audit = format!("PVEAPIToken={}", api.sim.audit_token());
    let read = api
        .send(
            api.http
                .get(api.url("/cluster/resources"))
                .header("Authorization", &audit),
        )
        .await;
    assert!(read.status.is_success());
    let write = api
        .send(
            api.http
                .post(api.url("/nodes/pve1/qemu/9000/clone"))
                .header("Authorization", &audit)
                .form(&[("newid", "990")]),
        )
        .await;
    assert_eq!(write.status, 403);
    assert_eq!(
        write.reason,
        "Permission check failed (/vms/9000, VM.Clone)"
    );
    assert_eq!(api.sim.guest_lock(990), None, "nothing was cloned");
}
