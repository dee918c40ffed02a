//! Retries: GETs ride out transient failures; writes are repeated only when PVE did nothing.

use pvelab_proxmox::{CloneParams, Error};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

const NODES: &str = "/api2/json/nodes";
const CLONE: &str = "/api2/json/nodes/pve1/qemu/9000/clone";

#[tokio::test]
async fn a_get_that_meets_two_595s_then_succeeds_returns_the_data() {
    let server = MockServer::start().await;
    on("GET", NODES)
        .respond_with(ResponseTemplate::new(595))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    on("GET", NODES)
        .respond_with(json_reply(
            200,
            json!({"data":[{"node":"pve1","status":"online"}]}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let nodes = token_client(&server)
        .nodes()
        .await
        .expect("third attempt succeeds");
    assert_eq!(nodes[0].node, "pve1");
    assert_eq!(received(&server, "GET", NODES).await.len(), 3);
}

#[tokio::test]
async fn a_get_that_keeps_failing_gives_up_after_the_retry_budget() {
    let server = MockServer::start().await;
    on("GET", NODES)
        .respond_with(ResponseTemplate::new(596))
        .mount(&server)
        .await;
    let err = token_client(&server).nodes().await.expect_err("node down");
    assert!(
        matches!(err, Error::NodeUnreachable { status: 596, .. }),
        "{err:?}"
    );
    // fast_retry allows 3 retries after the first attempt.
    assert_eq!(received(&server, "GET", NODES).await.len(), 4);
}

#[tokio::test]
async fn a_post_that_meets_a_500_is_not_repeated() {
    let server = MockServer::start().await;
    on("POST", CLONE)
        .respond_with(pve_error(
            500,
            "can't clone VM to node 'pve3' (VM uses local storage)\n",
        ))
        .mount(&server)
        .await;
    let err = clone_9000(&server, CloneParams::new(101).target("pve3"))
        .await
        .expect_err("500");
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert_eq!(received(&server, "POST", CLONE).await.len(), 1);
}

#[tokio::test]
async fn a_post_that_meets_a_595_is_not_repeated() {
    let server = MockServer::start().await;
    on("POST", CLONE)
        .respond_with(ResponseTemplate::new(595))
        .mount(&server)
        .await;
    let err = clone_9000(&server, CloneParams::new(101))
        .await
        .expect_err("595");
    assert!(matches!(err, Error::NodeUnreachable { .. }), "{err:?}");
    assert_eq!(received(&server, "POST", CLONE).await.len(), 1);
}

#[tokio::test]
async fn a_post_that_meets_a_lock_timeout_is_retried() {
    let server = MockServer::start().await;
    on("POST", CLONE)
        .respond_with(pve_error(
            500,
            "can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout\n",
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", CLONE)
        .respond_with(json_reply(200, json!({"data": CLONE_UPID})))
        .with_priority(2)
        .mount(&server)
        .await;
    let upid = clone_9000(&server, CloneParams::new(101).full(true))
        .await
        .expect("retried");
    assert_eq!(upid.to_string(), CLONE_UPID);
    assert_eq!(received(&server, "POST", CLONE).await.len(), 2);
}

#[tokio::test]
async fn a_put_that_meets_a_cluster_lock_request_timeout_is_retried() {
    let server = MockServer::start().await;
    let config = "/api2/json/nodes/pve1/qemu/203/config";
    on("PUT", config)
        .respond_with(pve_error(
            500,
            "cfs-lock 'file-user_cfg' error: got lock request timeout\n",
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    on("PUT", config)
        .respond_with(json_reply(200, json!({"data": null})))
        .with_priority(2)
        .mount(&server)
        .await;
    token_client(&server)
        .node("pve1")
        .qemu(203)
        .update_config(&pvelab_proxmox::ConfigUpdate::new().set("memory", 2048))
        .await
        .expect("retried until the lock was free");
    assert_eq!(received(&server, "PUT", config).await.len(), 3);
}

#[tokio::test]
async fn a_lock_timeout_that_persists_is_reported_as_lock_timeout() {
    let server = MockServer::start().await;
    on("PUT", "/api2/json/nodes/pve1/qemu/203/config")
        .respond_with(pve_error(
            500,
            "can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout\n",
        ))
        .mount(&server)
        .await;
    let err = token_client(&server)
        .node("pve1")
        .qemu(203)
        .update_config(&pvelab_proxmox::ConfigUpdate::new().set("memory", 2048))
        .await
        .expect_err("lock timeout");
    assert!(matches!(err, Error::LockTimeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(
        received(&server, "PUT", "/api2/json/nodes/pve1/qemu/203/config")
            .await
            .len(),
        4
    );
}
