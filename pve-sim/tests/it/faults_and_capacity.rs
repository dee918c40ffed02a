//! Task warnings, a silent guest agent, the 401 delay, API workers and a stable certificate.

use std::time::{Duration, Instant};

use pvelab_pve_sim::{FaultConfig, Sim, SimConfig, TimingConfig};

use crate::support::Api;

#[tokio::test]
async fn a_warning_rate_of_one_ends_every_task_with_warnings() {
    let api = Api::fast().await;
    api.sim
        .set_faults(FaultConfig {
            task_warning_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("valid faults");
    let a = api.post("/nodes/pve2/qemu/101/status/start", &[]).await;
    let upid = a.upid().to_owned();
    assert_eq!(api.wait_task(&upid).await, "WARNINGS: 1");
    let log = api.get(&format!("/nodes/pve2/tasks/{upid}/log")).await;
    let last = log
        .data()
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .expect("a log line");
    assert_eq!(last["t"], "TASK WARNINGS: 1");
}

#[tokio::test]
async fn an_agent_that_never_answers_times_out_with_pves_text() {
    let api = Api::fast().await;
    let path = "/nodes/pve1/qemu/100/agent/network-get-interfaces";
    assert!(
        api.get(path).await.status.is_success(),
        "VM 100 runs with a ready agent"
    );
    api.sim
        .set_faults(FaultConfig {
            agent_never_answers: true,
            ..FaultConfig::default()
        })
        .expect("valid faults");
    let a = api.get(path).await;
    assert_eq!(a.status, 500);
    assert_eq!(
        a.reason,
        "VM 100 qmp command 'guest-network-get-interfaces' failed - got timeout"
    );
}

#[tokio::test]
async fn the_optional_401_delay_holds_back_failed_logins() {
    let api = Api::start(SimConfig {
        delay_401: true,
        ..SimConfig::fast()
    })
    .await; // 30 ms
    let started = Instant::now();
    let a = api.send(api.http.get(api.url("/version"))).await;
    assert_eq!(a.status, 401);
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn three_api_workers_per_node_make_parallel_slow_calls_queue() {
    let api = Api::start(SimConfig {
        timing: TimingConfig {
            api_service_secs: 10.0,
            ..TimingConfig::default()
        },
        ..SimConfig::fast()
    })
    .await; // 100 ms per request, 3 at a time per node
    let started = Instant::now();
    let calls = (0..6).map(|_| api.get("/nodes/pve1/qemu/100/status/current"));
    let answers = crate::scenarios::futures_join_all(calls).await;
    assert!(answers.iter().all(|a| a.status.is_success()));
    // Six calls through three workers take two rounds of service time at least.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_certificate_folder_keeps_the_fingerprint_across_restarts() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cfg = SimConfig {
        cert_dir: Some(dir.path().to_owned()),
        ..SimConfig::fast()
    };
    let first = Sim::start(cfg.clone()).await.expect("starts");
    let fp = first.fingerprint();
    first.shutdown().await;
    let second = Sim::start(cfg).await.expect("starts again");
    assert_eq!(second.fingerprint(), fp);
    assert_eq!(fp.len(), 32 * 3 - 1, "32 colon-separated bytes: {fp}");
    assert!(fp
        .chars()
        .all(|c| c == ':' || c.is_ascii_digit() || c.is_ascii_uppercase()));
    second.shutdown().await;
}

#[tokio::test]
async fn an_outage_drops_api_connections_until_it_ends_and_control_stays_reachable() {
    let api = Api::fast().await;
    let ctl = format!("{}/_sim/outage", api.sim.base_url());
    let put = api
        .http
        .put(&ctl)
        .json(&serde_json::json!("refuse"))
        .send()
        .await;
    assert!(put.expect("the control API answers").status().is_success());
    let during = api
        .http
        .get(api.url("/version"))
        .header("Authorization", api.token_header())
        .send()
        .await;
    assert!(
        during.is_err(),
        "the connection is dropped without an answer"
    );
    api.sim.set_outage(Some(pvelab_pve_sim::OutageMode::Hang));
    let hanging = api
        .http
        .get(api.url("/version"))
        .header("Authorization", api.token_header())
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(
        hanging.is_err_and(|e| e.is_timeout()),
        "no answer while hanging"
    );
    let put = api
        .http
        .put(&ctl)
        .json(&serde_json::Value::Null)
        .send()
        .await;
    assert!(put.expect("the control API answers").status().is_success());
    assert!(api.get("/version").await.status.is_success());
}

#[tokio::test]
async fn faults_set_over_http_take_effect_and_can_be_read_back() {
    let api = Api::fast().await;
    let url = format!("{}/_sim/faults", api.sim.base_url());
    let body = serde_json::json!({ "error_595_rate": 1.0, "seed": 3 });
    let put = api
        .http
        .put(&url)
        .json(&body)
        .send()
        .await
        .expect("control call");
    assert!(put.status().is_success());
    let a = api.get("/nodes").await;
    assert_eq!(a.status_line(), (595, "No route to host"));
    let read: serde_json::Value = api
        .http
        .get(&url)
        .send()
        .await
        .expect("control call")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read["error_595_rate"], 1.0);
    let bad = api
        .http
        .put(&url)
        .json(&serde_json::json!({ "error_500_rate": 2.0 }))
        .send()
        .await
        .expect("control call");
    assert_eq!(bad.status(), 400);
}
