//! wait_for_task: polls the node named in the UPID; OK and WARNINGS succeed, all else fails.

use std::time::Duration;

use pvelab_proxmox::{Error, TaskWait, Upid};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const UPID_ON_PVE2: &str = "UPID:pve2:0000A1B2:0012C3D4:6650C0DE:qmclone:9000:root@pam:";

fn status_path(upid: &Upid) -> String {
    format!("/api2/json/nodes/{}/tasks/{upid}/status", upid.node())
}

async fn running_then(server: &MockServer, upid: &Upid, polls_running: u64, exitstatus: &str) {
    if polls_running > 0 {
        Mock::given(method("GET"))
            .and(path(status_path(upid)))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data":{"status":"running","upid":upid.to_string()}})),
            )
            .up_to_n_times(polls_running)
            .with_priority(1)
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(status_path(upid)))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data":{"status":"stopped","exitstatus":exitstatus}})),
        )
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_task_is_polled_on_its_own_node_until_it_stops_ok() {
    let server = MockServer::start().await;
    let upid: Upid = UPID_ON_PVE2.parse().expect("upid");
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
    let server = MockServer::start().await;
    let upid: Upid = UPID_ON_PVE2.parse().expect("upid");
    running_then(&server, &upid, 1, "WARNINGS: 1").await;
    let st = token_client(&server)
        .wait_for_task(&upid)
        .await
        .expect("warnings are fine");
    assert_eq!(st.exitstatus.as_deref(), Some("WARNINGS: 1"));
}

#[tokio::test]
async fn a_failed_task_reports_its_exit_status_and_log_tail() {
    let server = MockServer::start().await;
    let upid: Upid = UPID_ON_PVE2.parse().expect("upid");
    running_then(&server, &upid, 1, "VM 101 already running").await;
    let log: Vec<_> = (1..=30)
        .map(|n| json!({"n": n, "t": format!("line {n}")}))
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/api2/json/nodes/pve2/tasks/{upid}/log")))
        .and(query_param("start", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": log, "total": 30})))
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
    let server = MockServer::start().await;
    let upid: Upid = UPID_ON_PVE2.parse().expect("upid");
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
    let server = MockServer::start().await;
    let upid: Upid = UPID_ON_PVE2.parse().expect("upid");
    Mock::given(method("GET"))
        .and(path(status_path(&upid)))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data":{"status":"running"}})),
        )
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
    use super::*;

    const AGENT: &str = "/api2/json/nodes/pve1/qemu/101/agent/network-get-interfaces";

    #[tokio::test]
    async fn addresses_are_polled_until_the_agent_answers_with_one() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(AGENT))
            .respond_with(
                ResponseTemplate::new(500).set_body_json(
                    json!({"data":null,"message":"QEMU guest agent is not running\n"}),
                ),
            )
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        // Agent up, DHCP not done yet: only loopback.
        Mock::given(method("GET"))
            .and(path(AGENT))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data":{"result":[
                {"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8}]}]}})))
            .up_to_n_times(1)
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(AGENT))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data":{"result":[
                {"name":"ens18","ip-addresses":[{"ip-address":"10.20.0.17","ip-address-type":"ipv4","prefix":24}]}]}})))
            .with_priority(3)
            .mount(&server)
            .await;
        let addrs = token_client(&server)
            .node("pve1")
            .qemu(101)
            .wait_for_addresses(fast_wait())
            .await
            .expect("address");
        assert_eq!(
            addrs,
            vec!["10.20.0.17".parse::<std::net::IpAddr>().expect("ip")]
        );
        assert_eq!(received(&server, "GET", AGENT).await.len(), 4);
    }

    #[tokio::test]
    async fn a_vm_without_an_agent_fails_at_once() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(AGENT))
            .respond_with(
                ResponseTemplate::new(500).set_body_json(
                    json!({"data":null,"message":"No QEMU guest agent configured\n"}),
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = token_client(&server)
            .node("pve1")
            .qemu(101)
            .wait_for_addresses(fast_wait())
            .await
            .expect_err("no agent");
        assert!(matches!(err, Error::AgentNotConfigured { .. }), "{err:?}");
        assert_eq!(received(&server, "GET", AGENT).await.len(), 1);
    }

    #[tokio::test]
    async fn a_stopped_vm_fails_at_once_and_names_itself() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(AGENT))
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_json(json!({"data":null,"message":"VM 101 is not running\n"})),
            )
            .mount(&server)
            .await;
        let err = token_client(&server)
            .node("pve1")
            .qemu(101)
            .wait_for_addresses(fast_wait())
            .await
            .expect_err("stopped");
        assert!(
            matches!(err, Error::GuestNotRunning { vmid: 101, .. }),
            "{err:?}"
        );
        assert!(!err.is_transient(), "it must be started first");
        assert_eq!(received(&server, "GET", AGENT).await.len(), 1);
    }
}
