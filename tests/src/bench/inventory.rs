//! The inventory scenario: one inventory tick of a large simulated cluster through the core
//! (`Lab::sync_now`: one `cluster/resources` call, the rows written in one transaction), against
//! decoding the same `cluster/resources` payload alone, measured in the same run.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Args;
use pvelab_core::jobs::{JobKind, SyncWhat};
use pvelab_core::types::{ClusterId, ExternalId, Role};
use pvelab_core::{Lab, LabConfig, SealingKey};
use pvelab_proxmox::ClusterResource;

use super::setup::add_sim_cluster;
use super::sim_child::{SimChild, SimCounters};
use super::{Report, Throughput};

#[derive(Args)]
pub(crate) struct InventoryArgs {
    /// VMs on the simulated cluster (templates and two containers come on top).
    #[arg(long, default_value_t = 10_000)]
    vms: usize,
    /// Nodes of the simulated cluster.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// Ticks measured after one warm-up tick (which inserts every row).
    #[arg(long, default_value_t = 10)]
    ticks: usize,
}

/// The process's CPU time so far (user + system, all threads), from `/proc/self/stat`; `None`
/// where there is no such file.
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; /proc
    // reports them in USER_HZ, which Linux fixes at 100.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[derive(serde::Deserialize)]
struct Envelope {
    data: Vec<ClusterResource>,
}

pub(crate) async fn inventory(args: &InventoryArgs) -> Result<Report> {
    ensure!(args.ticks > 0, "--ticks must be at least 1");
    // In its own process, so this process's CPU time is pvelab's alone (the simulator's JSON
    // rendering of 10,000 guests costs more than the tick, and its share varied run to run).
    let sim = SimChild::spawn(args.vms, args.nodes)?;
    let control = SimCounters::new(&sim.access)?;
    let dir = tempfile::tempdir()?;
    let lab = Lab::open(
        LabConfig::file(dir.path().join("bench.db")).with_sealing_key(SealingKey::generate()),
    )
    .await?;
    let admin = lab
        .ensure_user(&ExternalId::parse("bench:admin")?, None)
        .await?;
    let admin = lab.actor_with_role(admin.id, Role::Adminer);
    let cluster = ClusterId::parse("bench")?;
    add_sim_cluster(&lab, &admin, &cluster, &sim.access).await?;
    let tick = || async {
        let started = Instant::now();
        let report = lab
            .sync_now(
                &admin,
                SyncWhat::Job(JobKind::Inventory),
                Some(cluster.clone()),
            )
            .await?;
        let stats = report
            .stats(JobKind::Inventory, &cluster)
            .cloned()
            .with_context(|| format!("the tick failed: {report:?}"))?;
        anyhow::Ok((started.elapsed(), stats))
    };

    // Warm-up: the first tick inserts every row (later ticks update them).
    let (first, inserted) = tick().await?;
    control.reset().await?;
    let cpu_before = cpu_time();
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(args.ticks);
    let mut written = 0;
    for _ in 0..args.ticks {
        let (took, stats) = tick().await?;
        latencies.push(took);
        written += stats.written;
    }
    let measured = Throughput::from(wall.elapsed(), latencies);
    let tick_cpu = cpu_before
        .zip(cpu_time())
        .map(|(a, b)| (b - a) / args.ticks as u32);
    // `sync_now` (what the bench drives) checks with one `GET /nodes` that the cluster answers
    // before it runs; the scheduler's own ticks do not. Counted apart.
    let (calls, resources_calls) = control.calls("GET /cluster/resources").await?;

    // What the server and the transport cost alone: the same calls as a tick (`sync_now`'s
    // `GET /nodes` probe, then `cluster/resources`), their bodies only read.
    let http = &control.http;
    let base = &control.base;
    let probe = format!("{base}/api2/json/nodes");
    let url = format!("{base}/api2/json/cluster/resources?type=vm");
    let auth = format!("PVEAPIToken={}", sim.access.token);
    let get = |url: String| {
        let request = http.get(url).header("Authorization", auth.as_str());
        async move {
            let body = request.send().await?.error_for_status()?.bytes().await?;
            anyhow::Ok(body)
        }
    };
    let fetch = || async {
        get(probe.clone()).await?;
        get(url.clone()).await
    };
    let mut body = fetch().await?;
    let cpu_before = cpu_time();
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(args.ticks);
    for _ in 0..args.ticks {
        let started = Instant::now();
        body = fetch().await?;
        latencies.push(started.elapsed());
    }
    let fetched = Throughput::from(wall.elapsed(), latencies);
    let fetch_cpu = cpu_before
        .zip(cpu_time())
        .map(|(a, b)| (b - a) / args.ticks as u32);

    // The reference: the same payload decoded into the client's types.
    let cpu_before = cpu_time();
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(args.ticks);
    let mut guests = 0;
    for _ in 0..args.ticks {
        let started = Instant::now();
        let decoded: Envelope = serde_json::from_slice(&body)?;
        latencies.push(started.elapsed());
        guests = decoded.data.len();
    }
    let reference = Throughput::from(wall.elapsed(), latencies);
    let decode_cpu = cpu_before
        .zip(cpu_time())
        .map(|(a, b)| (b - a) / args.ticks as u32);
    drop(sim);

    let ratio = measured.per_second / reference.per_second.max(f64::EPSILON);
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    let mut counts = serde_json::Map::new();
    counts.insert("guests".into(), guests.into());
    counts.insert("payload_bytes".into(), body.len().into());
    counts.insert(
        "api_calls_per_tick".into(),
        (calls as f64 / args.ticks as f64).into(),
    );
    counts.insert(
        "cluster_resources_calls_per_tick".into(),
        (resources_calls as f64 / args.ticks as f64).into(),
    );
    counts.insert(
        "rows_written_per_tick".into(),
        (written / args.ticks).into(),
    );
    counts.insert(
        "rows_inserted_by_the_first_tick".into(),
        inserted.written.into(),
    );
    counts.insert(
        "first_tick_ms".into(),
        (first.as_secs_f64() * 1000.0).into(),
    );
    counts.insert(
        "tick_cpu_ms (pvelab's process: transport, decode, writes)".into(),
        ms(tick_cpu).into(),
    );
    counts.insert("decode_cpu_ms".into(), ms(decode_cpu).into());
    counts.insert(
        "fetch_only_cpu_ms (the same two calls, bodies only read: TLS and HTTP)".into(),
        ms(fetch_cpu).into(),
    );
    counts.insert(
        "fetch_only_wall_ms_p50 (mostly the simulator rendering the reply)".into(),
        fetched.p50_ms.into(),
    );
    counts.insert(
        "tick_cpu_in_decodes".into(),
        tick_cpu
            .zip(decode_cpu)
            .map(|(t, d)| t.as_secs_f64() / d.as_secs_f64().max(1e-9))
            .into(),
    );
    // The tick's own work: its CPU less what the transport costs on its own.
    let own = tick_cpu.zip(fetch_cpu).map(|(t, f)| t.saturating_sub(f));
    counts.insert("tick_own_cpu_ms".into(), ms(own).into());
    let in_decodes = own
        .zip(decode_cpu)
        .map(|(o, d)| o.as_secs_f64() / d.as_secs_f64().max(1e-9));
    counts.insert(
        "tick_own_cpu_in_decodes (goal <= 2)".into(),
        in_decodes.into(),
    );
    counts.insert(
        "tick_wall_in_decodes".into(),
        (1.0 / ratio.max(f64::EPSILON)).into(),
    );
    Ok(Report {
        scenario: "inventory",
        parameters: serde_json::json!({ "vms": args.vms, "nodes": args.nodes, "ticks": args.ticks }),
        ratio,
        measured,
        reference_name: "decoding the same cluster/resources payload into the client's types",
        reference,
        more: Vec::new(),
        counts,
    })
}
