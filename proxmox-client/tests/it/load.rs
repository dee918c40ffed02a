//! Load control: the rate limit, the per-node cap, and request timeouts.
//!
//! Durations here are lower bounds the limits impose (a request cannot finish sooner than
//! the limit allows), never speed goals.

use std::time::{Duration, Instant};

use pvelab_proxmox::{Client, Error, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer};

use crate::support::*;

async fn slow_status(server: &MockServer, delay: Duration) {
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api2/json/nodes/[^/]+/qemu/\d+/status/current$",
        ))
        .respond_with(json_reply(200, json!({"data":{"status":"running"}})).set_delay(delay))
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_rate_limit_spaces_requests_after_the_burst() {
    let server = MockServer::start().await;
    slow_status(&server, Duration::ZERO).await;
    let client = Client::builder(&server.uri())
        .api_token(TOKEN)
        .rate_limit(20, 1)
        .build()
        .expect("client");
    let started = Instant::now();
    for vmid in 100..106 {
        client
            .node("pve1")
            .qemu(vmid)
            .status()
            .await
            .expect("status");
    }
    // Burst 1 at 20/s: the 5 requests after the first wait 50 ms each.
    assert!(
        started.elapsed() >= Duration::from_millis(240),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_per_node_cap_queues_requests_beyond_it() {
    let server = MockServer::start().await;
    slow_status(&server, Duration::from_millis(150)).await;
    let client = Client::builder(&server.uri())
        .api_token(TOKEN)
        .per_node_concurrency(2)
        .build()
        .expect("client");
    let started = Instant::now();
    let calls: Vec<_> = (100..104)
        .map(|vmid| {
            let vm = client.node("pve1").qemu(vmid);
            tokio::spawn(async move { vm.status().await })
        })
        .collect();
    for call in calls {
        call.await.expect("joined").expect("status");
    }
    // Four 150 ms requests, two at a time: at least two rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_request_that_outlives_its_timeout_is_a_timeout_error() {
    let server = MockServer::start().await;
    slow_status(&server, Duration::from_secs(5)).await;
    let client = Client::builder(&server.uri())
        .api_token(TOKEN)
        .request_timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        })
        .build()
        .expect("client");
    let err = client
        .node("pve1")
        .qemu(100)
        .status()
        .await
        .expect_err("too slow");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    // A GET that timed out is retried once under this policy.
    assert_eq!(
        server.received_requests().await.expect("recording").len(),
        2
    );
}
