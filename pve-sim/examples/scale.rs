//! Scale check: 10,000 VMs over 10 nodes. Prints the time to build and start the simulator and
//! the latency of `GET /cluster/resources?type=vm`, beside two references measured in the same
//! run: `GET /version` on the same server (the fixed cost of a request) and parsing the same
//! payload alone (what any client pays to read it).
//!
//! Run: `cargo run --release -p pvelab-pve-sim --example scale`

use std::time::{Duration, Instant};

use pvelab_pve_sim::{Sim, SimConfig};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = SimConfig {
        nodes: 10,
        vms: 10_000,
        ..SimConfig::fast()
    };
    let t0 = Instant::now();
    let sim = Sim::start(cfg).await?;
    let load = t0.elapsed();

    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()?;
    let auth = format!("PVEAPIToken={}", sim.api_token());
    let url = |p: &str| format!("{}/api2/json{p}", sim.base_url());
    // Warm up the connection.
    http.get(url("/version"))
        .header("Authorization", &auth)
        .send()
        .await?
        .bytes()
        .await?;

    let rounds = 15;
    let (mut res_t, mut ver_t, mut parse_t) = (Vec::new(), Vec::new(), Vec::new());
    let mut payload = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let body = http
            .get(url("/cluster/resources?type=vm"))
            .header("Authorization", &auth)
            .send()
            .await?
            .bytes()
            .await?;
        res_t.push(t.elapsed());
        payload = body.to_vec();

        let t = Instant::now();
        http.get(url("/version"))
            .header("Authorization", &auth)
            .send()
            .await?
            .bytes()
            .await?;
        ver_t.push(t.elapsed());

        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_slice(&payload)?;
        parse_t.push(t.elapsed());
        assert!(v["data"].as_array().map_or(0, Vec::len) >= 10_000);
    }
    let (res, ver, parse) = (median(res_t), median(ver_t), median(parse_t));
    println!("pve-sim scale: 10 nodes, 10,000 VMs (+ templates and containers)");
    println!(
        "  start (populate + TLS + listen):        {:>8.1} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "  GET /cluster/resources?type=vm median:  {:>8.1} ms  ({} KiB)",
        res.as_secs_f64() * 1e3,
        payload.len() / 1024
    );
    println!(
        "  reference GET /version median:          {:>8.2} ms",
        ver.as_secs_f64() * 1e3
    );
    println!(
        "  reference parse same payload median:    {:>8.1} ms",
        parse.as_secs_f64() * 1e3
    );
    println!(
        "  resources / version = {:.0}x, resources / parse = {:.1}x",
        res.as_secs_f64() / ver.as_secs_f64(),
        res.as_secs_f64() / parse.as_secs_f64()
    );
    sim.shutdown().await;
    Ok(())
}
