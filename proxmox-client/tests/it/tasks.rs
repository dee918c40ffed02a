//! wait_for_task: polls the node named in the UPID; OK and WARNINGS succeed, all else fails.

use std::time::Duration;

use pvelab_proxmox::{Error, TaskWait, Upid};
use serde_json::json;
use wiremock::matchers::query_param;
use wiremock::MockServer;

use crate::support::*;

const UPID_ON_PVE2: &str = "UPID:pve2:0000A1B2:0012C3D4:6650C0DE:qmclone:9000:root@pam:";

/// A fresh mock server and the UPID of a task on pve2.
async fn server_and_upid() -> (MockServer, Upid) {
    let server = MockServer::start().await;
    (server, UPID_ON_PVE2.parse().expect("upid"))
}

fn status_path(upid: &Upid) -> String {
    format!("/api2/json/nodes/{}/tasks/{upid}/status", upid.node())
}

async fn running_then(server: &MockServer, upid: &Upid, polls_running: u64, exitstatus: &str) {
    if polls_running > 0 {
        on("GET", status_path(upid))
            .respond_with(json_reply(
                200,
                json!({"data":{"status":"running","upid":upid.to_string()}}),
            ))
            .up_to_n_times(polls_running)
            .with_priority(1)
            .mount(server)
            .await;
    }
    on("GET", status_path(upid))
        .respond_with(json_reply(
            200,
            json!({"data":{"status":"stopped","exitstatus":exitstatus}}),
        ))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_task_is_polled_on_its_own_node_until_it_stops_ok() {
    let (server, upid) = server_and_upid().await;
    running_then(&server, &upid, 3, "OK").await;
    // The request went to pve1, but the task runs on pve2: the UPID decides.
    let done = token_client(&server).node("pve1").task(&upid);
    assert_eq!(done.upid().node(), "pve2");
    let st = token_client(&server)
        .wait_for_task(&upid)
        .await
        .expect("ok");
    assert_eq!(st.exitstatus.as_deref(), Some("OK"));
    assert_eq!(received(&server, "GET", &status_path(&upid)).await.len(), 4);
}

#[tokio::test]
async fn warnings_count_as_success() {
    let (server, upid) = server_and_upid().await;
    running_then(&server, &upid, 1, "WARNINGS: 1").await;
    let st = token_client(&server)
        .wait_for_task(&upid)
        .await
        .expect("warnings are fine");
    assert_eq!(st.exitstatus.as_deref(), Some("WARNINGS: 1"));
}

#[tokio::test]
async fn a_failed_task_reports_its_exit_status_and_log_tail() {
    let (server, upid) = server_and_upid().await;
    running_then(&server, &upid, 1, "VM 101 already running").await;
    let log: Vec<_> = (1..=30)
        .map(|n| json!({"n": n, "t": format!("line {n}")}))
        .collect();
    on("GET", format!("/api2/json/nodes/pve2/tasks/{upid}/log"))
        .and(query_param("start", "0"))
        .respond_with(json_reply(200, json!({"data": log, "total": 30})))
        .mount(&server)
        .await;
    let err = token_client(&server)
        .wait_for_task(&upid)
        .await
        .expect_err("failed");
    match err {
        Error::TaskFailed {
            upid: failed,
            exit_status,
            log_tail,
        } => {
            assert_eq!(*failed, upid);
            assert_eq!(exit_status, "VM 101 already running");
            assert_eq!(log_tail.len(), 20);
            assert_eq!(log_tail.first().map(String::as_str), Some("line 11"));
            assert_eq!(log_tail.last().map(String::as_str), Some("line 30"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_task_with_an_unreadable_log_still_reports_the_exit_status() {
    let (server, upid) = server_and_upid().await;
    running_then(&server, &upid, 0, "clone failed: storage full").await;
    let err = token_client(&server)
        .wait_for_task(&upid)
        .await
        .expect_err("failed");
    match err {
        Error::TaskFailed {
            exit_status,
            log_tail,
            ..
        } => {
            assert_eq!(exit_status, "clone failed: storage full");
            assert!(log_tail.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_task_that_never_stops_times_out() {
    let (server, upid) = server_and_upid().await;
    on("GET", status_path(&upid))
        .respond_with(json_reply(200, json!({"data":{"status":"running"}})))
        .mount(&server)
        .await;
    let wait = TaskWait {
        initial_interval: Duration::from_millis(1),
        max_interval: Duration::from_millis(5),
        timeout: Duration::from_millis(60),
    };
    let err = token_client(&server)
        .wait_for_task_with(&upid, wait)
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

mod addresses {
    use std::net::IpAddr;

    use super::*;

    const AGENT: &str = "/api2/json/nodes/pve1/qemu/101/agent/network-get-interfaces";

    async fn addresses_of_101(server: &MockServer) -> pvelab_proxmox::Result<Vec<IpAddr>> {
        token_client(server)
            .node("pve1")
            .qemu(101)
            .wait_for_addresses(fast_wait())
            .await
    }

    #[tokio::test]
    async fn addresses_are_polled_until_the_agent_answers_with_one() {
        let server = MockServer::start().await;
        on("GET", AGENT)
            .respond_with(pve_error(500, "QEMU guest agent is not running\n"))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        // Agent up, DHCP not done yet: only loopback.
        on("GET", AGENT)
            .respond_with(json_reply(200, json!({"data":{"result":[
                {"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8}]}]}})))
            .up_to_n_times(1)
            .with_priority(2)
            .mount(&server)
            .await;
        on("GET", AGENT)
            .respond_with(json_reply(200, json!({"data":{"result":[
                {"name":"ens18","ip-addresses":[{"ip-address":"10.20.0.17","ip-address-type":"ipv4","prefix":24}]}]}})))
            .with_priority(3)
            .mount(&server)
            .await;
        let addrs = addresses_of_101(&server).await.expect("address");
        assert_eq!(addrs, vec!["10.20.0.17".parse::<IpAddr>().expect("ip")]);
        assert_eq!(received(&server, "GET", AGENT).await.len(), 4);
    }

    #[tokio::test]
    async fn a_vm_without_an_agent_fails_at_once() {
        let server = MockServer::start().await;
        on("GET", AGENT)
            .respond_with(pve_error(500, "No QEMU guest agent configured\n"))
            .expect(1)
            .mount(&server)
            .await;
        let err = addresses_of_101(&server).await.expect_err("no agent");
        assert!(matches!(err, Error::AgentNotConfigured { .. }), "{err:?}");
        assert_eq!(received(&server, "GET", AGENT).await.len(), 1);
    }

    #[tokio::test]
    async fn a_stopped_vm_fails_at_once_and_names_itself() {
        let server = MockServer::start().await;
        on("GET", AGENT)
            .respond_with(pve_error(500, "VM 101 is not running\n"))
            .mount(&server)
            .await;
        let err = addresses_of_101(&server).await.expect_err("stopped");
        assert!(
            matches!(err, Error::GuestNotRunning { vmid: 101, .. }),
            "{err:?}"
        );
        assert!(!err.is_transient(), "it must be started first");
        assert_eq!(received(&server, "GET", AGENT).await.len(), 1);
    }
}
