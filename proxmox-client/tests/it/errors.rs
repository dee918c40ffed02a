//! Error replies become actionable variants with the server's words.

use pvelab_proxmox::{CloneParams, Error};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

/// Answer every `verb` request to the API path `p` with `answer`.
async fn reply(server: &MockServer, verb: &str, p: &str, answer: ResponseTemplate) {
    on(verb, format!("/api2/json{p}"))
        .respond_with(answer)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_400_with_an_errors_map_keeps_every_field() {
    let server = MockServer::start().await;
    reply(&server, "POST", "/nodes/pve1/qemu/9000/clone", json_reply(400, json!({"data":null,
        "message":"Parameter verification failed.\n",
        "errors":{"newid":"value must have a minimum value of 100","full":"type check ('boolean') failed - got 'yes'"}}))).await;
    let err = clone_9000(&server, CloneParams::new(5))
        .await
        .expect_err("400");
    match &err {
        Error::Parameter { errors, .. } => {
            assert_eq!(errors["newid"], "value must have a minimum value of 100");
            assert!(errors.contains_key("full"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("Parameter verification failed.") && text.contains("newid: value must"),
        "{text}"
    );
}

#[tokio::test]
async fn a_taken_vmid_is_already_exists() {
    let server = MockServer::start().await;
    reply(
        &server,
        "POST",
        "/nodes/pve1/qemu/9000/clone",
        pve_error(500, "unable to create VM 218: config file already exists\n"),
    )
    .await;
    let err = clone_9000(&server, CloneParams::new(218))
        .await
        .expect_err("taken");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
}

#[tokio::test]
async fn a_locked_vm_names_its_lock_and_is_not_retried() {
    let server = MockServer::start().await;
    on("POST", "/api2/json/nodes/pve1/qemu/101/status/start")
        .respond_with(pve_error(500, "VM is locked (clone)\n"))
        .expect(1)
        .mount(&server)
        .await;
    let err = token_client(&server)
        .node("pve1")
        .qemu(101)
        .start()
        .await
        .expect_err("locked");
    match err {
        Error::Locked { lock, .. } => assert_eq!(lock, "clone"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_vm_is_not_found_and_a_get_is_not_retried() {
    let server = MockServer::start().await;
    on("GET", "/api2/json/nodes/pve1/qemu/999/status/current")
        .respond_with(pve_error(
            500,
            "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = token_client(&server)
        .node("pve1")
        .qemu(999)
        .status()
        .await
        .expect_err("missing");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("999.conf"));
}

#[tokio::test]
async fn a_403_is_permission_denied_with_the_servers_words() {
    let server = MockServer::start().await;
    reply(
        &server,
        "GET",
        "/nodes",
        pve_error(403, "Permission check failed (/nodes, Sys.Audit)\n"),
    )
    .await;
    let err = token_client(&server).nodes().await.expect_err("403");
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("Sys.Audit"), "{err}");
}

#[tokio::test]
async fn an_agent_that_is_not_running_is_agent_not_running() {
    let server = MockServer::start().await;
    reply(
        &server,
        "GET",
        "/nodes/pve1/qemu/101/agent/network-get-interfaces",
        pve_error(500, "QEMU guest agent is not running\n"),
    )
    .await;
    let err = token_client(&server)
        .node("pve1")
        .qemu(101)
        .agent_network_interfaces()
        .await
        .expect_err("no agent");
    match &err {
        Error::AgentNotRunning { message } => assert!(
            message.contains("QEMU guest agent is not running"),
            "{message}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_transient(), "a booting VM's agent comes up later");
}

#[tokio::test]
async fn an_unknown_task_is_not_found() {
    let server = MockServer::start().await;
    let upid: pvelab_proxmox::Upid = CLONE_UPID.parse().expect("upid");
    reply(
        &server,
        "GET",
        &format!("/nodes/pve1/tasks/{upid}/status"),
        json_reply(400, json!({"data":null,"errors":{"upid":"no such task"}})),
    )
    .await;
    let err = token_client(&server)
        .task(&upid)
        .status()
        .await
        .expect_err("unknown");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}
