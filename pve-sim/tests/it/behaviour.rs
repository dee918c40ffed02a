//! Guest agent timing, CPU load and rrddata, nodes going offline, control over HTTP.

use std::time::{Duration, Instant};

use pvelab_pve_sim::{CpuLoad, LoadStep, SimConfig, TimingConfig};
use reqwest::Method;

use crate::support::Api;

#[tokio::test]
async fn the_agent_answers_only_after_its_delay_and_reports_addresses() {
    let api = Api::start(SimConfig {
        vms: 8,
        timing: TimingConfig {
            agent_delay_secs: 20.0,
            ..TimingConfig::default()
        },
        ..SimConfig::fast()
    })
    .await; // agent delay 200 ms
    let path = "/nodes/pve2/qemu/101/agent/network-get-interfaces";
    let stopped = api.get(path).await;
    assert_eq!(stopped.reason, "VM 101 is not running");
    assert_eq!(
        api.post_and_wait("/nodes/pve2/qemu/101/status/start", &[])
            .await,
        "OK"
    );
    let early = api.get(path).await;
    assert_eq!(
        early.status_line(),
        (500, "QEMU guest agent is not running")
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let ready = loop {
        let a = api.get(path).await;
        if a.status.is_success() {
            break a;
        }
        assert!(Instant::now() < deadline, "the agent never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // VM 101 is the IPv6-only guest: no IPv4 address anywhere.
    let text = ready.data().to_string();
    assert!(!text.contains("\"ipv4\""), "{text}");
    assert!(text.contains("fd00:5e11::65"), "{text}");
    // VM 106 (running) has no agent configured.
    let no_agent = api
        .get("/nodes/pve1/qemu/106/agent/network-get-interfaces")
        .await;
    assert_eq!(no_agent.reason, "No QEMU guest agent configured");
}

#[tokio::test]
async fn a_stopped_vm_without_an_agent_names_the_missing_agent_first() {
    let api = Api::start(SimConfig {
        vms: 8,
        ..SimConfig::fast()
    })
    .await;
    let path = "/nodes/pve1/qemu/106/agent/network-get-interfaces";
    assert_eq!(
        api.post_and_wait("/nodes/pve1/qemu/106/status/stop", &[])
            .await,
        "OK"
    );
    let stopped = api.get(path).await;
    assert_eq!(
        stopped.status_line(),
        (500, "No QEMU guest agent configured")
    );
}

#[tokio::test]
async fn cpu_load_shows_in_status_resources_and_rrddata() {
    let api = Api::fast().await;
    api.sim
        .set_cpu_load(
            100,
            CpuLoad::Schedule(vec![
                LoadStep {
                    after_secs: -1800,
                    cpu: 0.9,
                },
                LoadStep {
                    after_secs: -600,
                    cpu: 0.02,
                },
            ]),
        )
        .expect("VM 100 exists");
    let status = api.get("/nodes/pve1/qemu/100/status/current").await;
    let cpu = status.data()["cpu"].as_f64().expect("cpu");
    assert!(cpu < 0.05, "idle now: {cpu}");
    let rrd = api
        .call(
            Method::GET,
            "/nodes/pve1/qemu/100/rrddata",
            &[("timeframe", "hour")],
        )
        .await;
    let samples = rrd.data().as_array().expect("samples");
    assert_eq!(samples.len(), 70);
    let busy = samples
        .iter()
        .filter(|s| s["cpu"].as_f64().unwrap_or(0.0) > 0.8)
        .count();
    assert!(
        (18..=21).contains(&busy),
        "20 busy minutes half an hour ago: {busy}"
    );
    api.sim
        .set_cpu_load(100, CpuLoad::Busy)
        .expect("VM 100 exists");
    let vm = api.vm_resource(100).await;
    assert!(vm["cpu"].as_f64().unwrap_or(0.0) > 0.8, "{vm}");
    // A stopped VM shows no load, whatever its setting.
    api.sim.stop_guest(100).expect("VM 100 exists");
    let status = api.get("/nodes/pve1/qemu/100/status/current").await;
    assert_eq!(status.data()["status"], "stopped");
    assert_eq!(status.data()["cpu"], 0.0);
}

#[tokio::test]
async fn an_offline_node_answers_595_and_its_guests_show_unknown() {
    let api = Api::fast().await;
    let ctl = |p: &str| api.http.post(format!("{}/_sim{p}", api.sim.base_url()));
    assert!(ctl("/nodes/pve2/offline")
        .send()
        .await
        .expect("control call")
        .status()
        .is_success());
    let a = api.get("/nodes/pve2/qemu").await;
    assert_eq!(a.status_line(), (595, "No route to host"));
    let nodes = api.get("/nodes").await;
    assert!(nodes
        .data()
        .as_array()
        .expect("nodes")
        .iter()
        .any(|n| n["node"] == "pve2" && n["status"] == "offline"));
    let vm101 = api.vm_resource(101).await;
    assert_eq!(vm101["status"], "unknown");
    assert!(ctl("/nodes/pve2/online")
        .send()
        .await
        .expect("control call")
        .status()
        .is_success());
    assert!(api.get("/nodes/pve2/qemu").await.status.is_success());
}

#[tokio::test]
async fn counters_count_per_endpoint_and_reset_over_http() {
    let api = Api::fast().await;
    for _ in 0..3 {
        api.get("/cluster/resources").await;
    }
    api.get("/nodes/pve1/qemu/100/status/current").await;
    api.get("/nodes/pve2/qemu/101/status/current").await;
    let url = format!("{}/_sim/counters", api.sim.base_url());
    let c: serde_json::Value = api
        .http
        .get(&url)
        .send()
        .await
        .expect("counters")
        .json()
        .await
        .expect("JSON");
    assert_eq!(c["counts"]["GET /cluster/resources"], 3);
    assert_eq!(
        c["counts"]["GET /nodes/{node}/qemu/{vmid}/status/current"],
        2
    );
    assert_eq!(c["statuses"]["GET /cluster/resources 200"], 3);
    api.http
        .post(format!("{url}/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(api.sim.total_requests(), 0);
}

#[tokio::test]
async fn answers_are_counted_by_status_so_refusals_stand_apart_from_work() {
    let api = Api::fast().await;
    api.get("/version").await;
    let refused = api.send(api.http.get(api.url("/version"))).await;
    assert_eq!(refused.status.as_u16(), 401);
    api.get("/nodes/pve1/qemu/99999/status/current").await;

    assert_eq!(api.sim.count("GET", "/version"), 2);
    assert_eq!(api.sim.count_status("GET", "/version", 200), 1);
    assert_eq!(api.sim.count_status("GET", "/version", 401), 1);
    assert_eq!(api.sim.total_with_status(401), 1);
    assert_eq!(
        api.sim
            .count_status("GET", "/nodes/{node}/qemu/{vmid}/status/current", 500),
        1
    );
    api.sim.reset_counters();
    assert!(api.sim.statuses().is_empty());
}

#[tokio::test]
async fn the_date_header_follows_the_simulated_clock() {
    let api = Api::fast().await;
    let date_of = |resp: &reqwest::Response| {
        let text = resp
            .headers()
            .get(reqwest::header::DATE)
            .expect("every answer has a Date")
            .to_str()
            .expect("ASCII")
            .to_owned();
        httpdate::parse_http_date(&text)
            .expect("an HTTP date")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64
    };
    let before = api
        .http
        .get(api.url("/version"))
        .header("Authorization", api.token_header())
        .send()
        .await
        .expect("answer");
    assert!((date_of(&before) - api.sim.now()).abs() <= 1);

    api.sim.advance_clock(5400.0);
    let api_answer = api
        .http
        .get(api.url("/version"))
        .header("Authorization", api.token_header())
        .send()
        .await
        .expect("answer");
    let refused = api.http.get(api.url("/version")).send().await.expect("401");
    let control = api
        .http
        .get(format!("{}/_sim/clock", api.sim.base_url()))
        .send()
        .await
        .expect("control answer");
    for resp in [&api_answer, &refused, &control] {
        let shown = date_of(resp);
        assert!(
            shown - date_of(&before) >= 5400 && (shown - api.sim.now()).abs() <= 1,
            "{} shows {shown}, the simulated clock is at {}",
            resp.url(),
            api.sim.now()
        );
    }
}

#[tokio::test]
async fn a_vm_deleted_behind_the_products_back_is_gone_from_the_api() {
    let api = Api::fast().await;
    let url = format!("{}/_sim/guests/103", api.sim.base_url());
    assert!(api
        .http
        .delete(&url)
        .send()
        .await
        .expect("control call")
        .status()
        .is_success());
    let a = api.get("/nodes/pve1/qemu/103/status/current").await;
    assert_eq!(a.status, 500);
    let again = api.http.delete(&url).send().await.expect("control call");
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn cores_changed_on_a_running_vm_stay_pending_until_it_stops() {
    let api = Api::fast().await;
    let put = api
        .call(
            Method::PUT,
            "/nodes/pve1/qemu/100/config",
            &[("cores", "4"), ("memory", "4096")],
        )
        .await;
    assert!(put.status.is_success(), "{}", put.raw);
    let shown = api.get("/nodes/pve1/qemu/100/config").await;
    assert_eq!(
        shown.data()["cores"],
        4,
        "GET config shows pending values by default"
    );
    assert_eq!(shown.data()["memory"], "4096", "qemu memory is a string");
    let current = api
        .call(
            Method::GET,
            "/nodes/pve1/qemu/100/config",
            &[("current", "1")],
        )
        .await;
    assert_eq!(current.data()["cores"], 2);
    let pending = api.get("/nodes/pve1/qemu/100/pending").await;
    let cores = pending
        .data()
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["key"] == "cores")
        .cloned();
    assert_eq!(cores.expect("cores listed")["pending"], "4");
    assert_eq!(
        api.get("/nodes/pve1/qemu/100/status/current").await.data()["cpus"],
        2
    );
    assert_eq!(
        api.post_and_wait("/nodes/pve1/qemu/100/status/stop", &[])
            .await,
        "OK"
    );
    let after = api
        .call(
            Method::GET,
            "/nodes/pve1/qemu/100/config",
            &[("current", "1")],
        )
        .await;
    assert_eq!(after.data()["cores"], 4);
    assert_eq!(
        api.get("/nodes/pve1/qemu/100/status/current").await.data()["maxmem"],
        4096u64 << 20
    );
}

#[tokio::test]
async fn a_stale_digest_is_refused_in_the_words_of_each_guest_kind() {
    let api = Api::fast().await;
    let before = api.get("/nodes/pve2/qemu/101/config").await;
    let digest = before.data()["digest"]
        .as_str()
        .expect("a digest")
        .to_owned();
    assert_eq!(digest.len(), 40);
    let first = api
        .call(
            Method::PUT,
            "/nodes/pve2/qemu/101/config",
            &[("cores", "3"), ("digest", &digest)],
        )
        .await;
    assert!(first.status.is_success(), "{}", first.raw);
    let second = api
        .call(
            Method::PUT,
            "/nodes/pve2/qemu/101/config",
            &[("cores", "5"), ("digest", &digest)],
        )
        .await;
    assert_eq!(
        second.status_line(),
        (500, "checksum mismatch (file change by other user?)"),
        "qemu-server's own words"
    );
    let ct = api
        .call(
            Method::PUT,
            "/nodes/pve1/lxc/106/config",
            &[("cores", "2"), ("digest", &"0".repeat(40))],
        )
        .await;
    assert_eq!(
        ct.status_line(),
        (
            500,
            "detected modified configuration - file changed by other user? Try again."
        ),
        "pve-container uses the common helper"
    );
}

#[tokio::test]
async fn a_lagging_resource_list_shows_a_new_clone_only_after_the_lag() {
    let api = Api::start(SimConfig {
        resources_lag_secs: 200.0, // 2 s at time_scale 0.01
        ..SimConfig::fast()
    })
    .await;
    let has_950 = |a: &crate::support::Answer| {
        a.data()
            .as_array()
            .is_some_and(|l| l.iter().any(|r| r["vmid"] == 950))
    };
    let query = [("type", "vm")];
    assert!(!has_950(
        &api.call(Method::GET, "/cluster/resources", &query).await
    ));
    let clone = api
        .post("/nodes/pve1/qemu/9000/clone", &[("newid", "950")])
        .await;
    assert_eq!(api.wait_task(clone.upid()).await, "OK");
    let stale = api.call(Method::GET, "/cluster/resources", &query).await;
    assert!(!has_950(&stale), "the snapshot predates the clone");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !has_950(&api.call(Method::GET, "/cluster/resources", &query).await) {
        assert!(Instant::now() < deadline, "the new VM never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The per-guest status is always fresh.
    assert!(api
        .get("/nodes/pve1/qemu/950/status/current")
        .await
        .status
        .is_success());
}
