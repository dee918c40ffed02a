//! Choosing a free VMID: nextid, `?vmid=` probing, and moving on when a racer took the id.

use pvelab_proxmox::{CloneParams, Error};
use serde_json::json;
use wiremock::matchers::{body_string_contains, query_param};
use wiremock::MockServer;

use crate::support::*;

const NEXTID: &str = "/api2/json/cluster/nextid";

async fn taken(server: &MockServer, vmid: u32) {
    on("GET", NEXTID)
        .and(query_param("vmid", vmid.to_string()))
        .respond_with(json_reply(
            400,
            json!({"data":null,"errors":{"vmid":format!("VM {vmid} already exists")}}),
        ))
        .mount(server)
        .await;
}

async fn free(server: &MockServer, vmid: u32) {
    on("GET", NEXTID)
        .and(query_param("vmid", vmid.to_string()))
        .respond_with(json_reply(200, json!({"data": vmid.to_string()})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn probing_skips_taken_ids() {
    let server = MockServer::start().await;
    taken(&server, 1000).await;
    taken(&server, 1001).await;
    free(&server, 1002).await;
    let client = token_client(&server);
    assert!(!client.cluster().is_vmid_free(1000).await.expect("probe"));
    assert_eq!(client.free_vmid(Some(1000)).await.expect("free"), 1002);
}

#[tokio::test]
async fn an_out_of_range_vmid_is_refused_before_sending() {
    let server = MockServer::start().await;
    let err = token_client(&server)
        .free_vmid(Some(5))
        .await
        .expect_err("range");
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(server
        .received_requests()
        .await
        .expect("recording")
        .is_empty());
}

#[tokio::test]
async fn a_clone_that_loses_the_race_for_its_id_moves_to_the_next_free_one() {
    let server = MockServer::start().await;
    on("GET", NEXTID)
        .respond_with(json_reply(200, json!({"data":"100"})))
        .with_priority(10)
        .mount(&server)
        .await;
    free(&server, 101).await;
    // Someone else created VM 100 between nextid and our clone.
    on("POST", "/api2/json/nodes/pve1/qemu/9000/clone")
        .and(body_string_contains("newid=100"))
        .respond_with(pve_error(
            500,
            "unable to create VM 100: config file already exists\n",
        ))
        .mount(&server)
        .await;
    on("POST", "/api2/json/nodes/pve1/qemu/9000/clone")
        .and(body_string_contains("newid=101"))
        .respond_with(json_reply(200, json!({"data": CLONE_UPID})))
        .mount(&server)
        .await;
    let client = token_client(&server);
    let template = client.node("pve1").qemu(9000);
    let (vmid, upid) = client
        .with_free_vmid(None, 3, |id| {
            let template = template.clone();
            async move { template.clone_vm(&CloneParams::new(id)).await }
        })
        .await
        .expect("second id works");
    assert_eq!(vmid, 101);
    assert_eq!(upid.to_string(), CLONE_UPID);
}
