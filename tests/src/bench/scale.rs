//! The scale scenario: one process serving many clusters, classes and users. It reports the
//! database's size, the p99 of `/myvm` typed by many users at once (through the console's
//! command code), the cost of an inventory tick per cluster and for all of them, and what that
//! means for one instance: how much of the inventory interval the ticks take, and how many
//! clusters of this size one instance keeps up with.
//!
//! The reference is the same lab built the same way at a hundredth of the size, in the same
//! run, so the ratio shows how `/myvm` slows down as the lab grows.
//!
//! Every row is made through the core's public calls (`create_class`, `rotate_token`,
//! `register_vm`, `ensure_user`, `join`), a bounded number at a time; no bulk path is used and no
//! row is written around the core. Each cluster is a small simulator in this process (its own
//! loopback port) holding exactly the student VMs registered on it, half of them running, so a
//! tick has real work per pool VM (usage charged, rules checked).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Args;
use pvelab_bot::commands::Dispatcher;
use pvelab_core::jobs::{JobKind, SyncWhat};
use pvelab_core::types::ClusterId;
use pvelab_core::{Actor, Lab};
use pvelab_pve_sim::{ForeignGuest, GuestKind, Sim, SimConfig};

use super::inventory::cpu_time;
use super::setup::{
    add_sim_cluster, console_command, console_id, fill_classes, in_parallel, lab_with_admin,
    ClassPlan, SimAccess,
};
use super::{burst, Report, Throughput};

/// Calls of the core in flight while filling.
const FILL_AT_ONCE: usize = 64;
/// Nodes of each simulated cluster.
const NODES: usize = 2;

#[derive(Args)]
pub(crate) struct ScaleArgs {
    /// Clusters, each a small simulator in this process.
    #[arg(long, default_value_t = 50)]
    clusters: usize,
    /// Classes, spread over the clusters in turn (the full size).
    #[arg(long, default_value_t = 10_000)]
    classes: usize,
    /// Users; each joins one class (classes get users / classes students each, at most 98).
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Users typing `/myvm` at once for the latency figures.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
}

/// One lab built and measured.
struct Measured {
    myvm: Throughput,
    db_bytes: u64,
    wal_bytes: u64,
    fill: Duration,
    /// The part of `fill` spent adding the clusters, making the classes and registering their
    /// VMs; the rest is creating those VMs in the simulators and users joining.
    fill_classes: Duration,
    rows: Rows,
    ticks: Ticks,
    interval: Duration,
}

/// What the fill made.
struct Rows {
    classes: usize,
    vms: usize,
    joined: usize,
}

/// Inventory ticks: each cluster on its own, then all at once.
struct Ticks {
    per_cluster: Throughput,
    per_cluster_cpu: Option<Duration>,
    all_wall: Duration,
    all_cpu: Option<Duration>,
    guests_written: usize,
}

pub(crate) async fn scale(args: &ScaleArgs) -> Result<Report> {
    ensure!(
        (1..=1000).contains(&args.clusters),
        "--clusters is 1 to 1000"
    );
    ensure!(args.classes >= 1, "--classes must be at least 1");
    ensure!(args.users >= 1, "--users must be at least 1");
    ensure!(args.requests >= 1, "--requests must be at least 1");
    let size = args.users.div_ceil(args.classes);
    ensure!(
        size <= 98,
        "--users / --classes is {size}: a class holds at most 98 students here (the classic \
         VMID plan); give more classes or fewer users"
    );
    // The reference first: the same lab at a hundredth of the size.
    let small = ScaleArgs {
        clusters: args.clusters.div_ceil(100),
        classes: args.classes.div_ceil(100),
        users: args.users.div_ceil(100),
        requests: args.requests,
    };
    let reference = build_and_measure(&small).await?;
    let measured = build_and_measure(args).await?;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let cpu_ms = |d: Option<Duration>| d.map(ms);
    let interval = measured.interval.as_secs_f64();
    let ticks = &measured.ticks;
    // Share of the inventory interval the ticks of every cluster take, at once and in CPU.
    let wall_share = ticks.all_wall.as_secs_f64() / interval;
    let cpu_share = ticks.all_cpu.map(|c| c.as_secs_f64() / interval);
    // Clusters of this size whose ticks fit in one interval run one after another (the wall
    // time of a tick, which includes waiting for the database writer, bounds it).
    let per_tick = ticks.per_cluster.wall_ms / 1000.0 / args.clusters as f64;
    let fit = (interval / per_tick.max(1e-6)).floor();
    let verdict =
        format!(
        "ticks of all {} clusters take {:.1} % of the {:.0} s inventory interval (wall, all at \
         once; CPU {}); one cluster's tick takes {:.0} ms, so about {fit:.0} clusters of this \
         size fit in one interval one after another; /myvm p99 is {:.0} ms for {} users at \
         once. One instance stops being enough when the ticks approach the interval or /myvm \
         p99 passes what a person waits for a reply (a second or two)",
        args.clusters,
        wall_share * 100.0,
        interval,
        cpu_share.map_or("unknown".into(), |s| format!("{:.1} % of one core", s * 100.0)),
        per_tick * 1000.0,
        measured.myvm.p99_ms,
        args.requests,
    );
    let mut counts = serde_json::Map::new();
    counts.insert("measured_command".into(), "/myvm".into());
    counts.insert("clusters".into(), args.clusters.into());
    counts.insert("classes".into(), measured.rows.classes.into());
    counts.insert("student_vms".into(), measured.rows.vms.into());
    counts.insert("users_joined".into(), measured.rows.joined.into());
    counts.insert("db_bytes".into(), measured.db_bytes.into());
    counts.insert("wal_file_bytes".into(), measured.wal_bytes.into());
    counts.insert(
        "db_mib".into(),
        (measured.db_bytes as f64 / 1048576.0).into(),
    );
    counts.insert("fill_s".into(), measured.fill.as_secs_f64().into());
    counts.insert(
        "fill_classes_and_vms_s".into(),
        measured.fill_classes.as_secs_f64().into(),
    );
    counts.insert(
        "fill_users_and_joins_s".into(),
        (measured.fill - measured.fill_classes).as_secs_f64().into(),
    );
    counts.insert("guests_in_inventory".into(), ticks.guests_written.into());
    counts.insert(
        "tick_per_cluster_p50_ms".into(),
        ticks.per_cluster.p50_ms.into(),
    );
    counts.insert(
        "tick_per_cluster_p99_ms".into(),
        ticks.per_cluster.p99_ms.into(),
    );
    counts.insert(
        "tick_per_cluster_cpu_ms (simulator included)".into(),
        cpu_ms(ticks.per_cluster_cpu).into(),
    );
    counts.insert(
        "tick_all_clusters_wall_ms".into(),
        ms(ticks.all_wall).into(),
    );
    counts.insert(
        "tick_all_clusters_cpu_ms (simulators included)".into(),
        cpu_ms(ticks.all_cpu).into(),
    );
    counts.insert("inventory_interval_s".into(), interval.into());
    counts.insert("reference_db_bytes".into(), reference.db_bytes.into());
    counts.insert(
        "reference_tick_per_cluster_p50_ms".into(),
        reference.ticks.per_cluster.p50_ms.into(),
    );
    counts.insert("clusters_fitting_one_interval".into(), fit.into());
    counts.insert("where_one_instance_stops".into(), verdict.into());
    Ok(Report {
        scenario: "scale",
        parameters: serde_json::json!({
            "clusters": args.clusters,
            "classes": args.classes,
            "users": args.users,
            "requests": args.requests,
        }),
        ratio: measured.myvm.per_second / reference.myvm.per_second.max(f64::EPSILON),
        measured: measured.myvm,
        reference_name: "/myvm on the same lab built the same way at a hundredth of the size \
                         (clusters, classes and users)",
        reference: reference.myvm,
        more: Vec::new(),
        counts,
    })
}

/// Builds a lab of `args`' size on fresh simulators and measures it.
async fn build_and_measure(args: &ScaleArgs) -> Result<Measured> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let (lab, admin) = lab_with_admin(&path).await?;
    let started = Instant::now();
    let mut sims = Vec::with_capacity(args.clusters);
    let mut clusters = Vec::with_capacity(args.clusters);
    for c in 0..args.clusters {
        let sim = Sim::start(SimConfig {
            nodes: NODES,
            vms: 0,
            containers: 0,
            ..SimConfig::fast()
        })
        .await?;
        let id = ClusterId::parse(&format!("c{c:03}"))?;
        let access = SimAccess {
            addr: sim.addr(),
            token: sim.api_token(),
            fingerprint: sim.fingerprint(),
        };
        add_sim_cluster(&lab, &admin, &id, &access).await?;
        sims.push(sim);
        clusters.push(id);
    }
    let size = args.users.div_ceil(args.classes);
    let classes = fill_classes(
        &lab,
        &admin,
        &ClassPlan {
            prefix: "class",
            classes: args.classes,
            first: 0,
            size: u16::try_from(size)?,
            teachers: args.classes.div_ceil(10),
            clusters: &clusters,
            nodes: NODES,
        },
        FILL_AT_ONCE,
    )
    .await?;
    let fill_classes = started.elapsed();
    // Each cluster holds the VMs registered on it, every second one running.
    for class in &classes {
        let index = clusters
            .iter()
            .position(|c| *c == class.cluster)
            .context("a class on an unknown cluster")?;
        for (n, (vmid, node)) in class.vms.iter().enumerate() {
            sims[index].create_guest(&ForeignGuest {
                vmid: vmid.get(),
                node: node.to_string(),
                kind: GuestKind::Qemu,
                name: Some(format!("lab-{vmid}")),
                running: n % 2 == 0,
                tags: None,
                description: None,
                template: false,
            })?;
        }
    }
    let tokens: Arc<Vec<String>> = Arc::new(
        classes
            .iter()
            .map(|c| c.token.expose().to_owned())
            .collect(),
    );
    let joined = in_parallel((0..args.users).collect(), FILL_AT_ONCE, |u| {
        let (lab, tokens) = (&lab, Arc::clone(&tokens));
        async move {
            let name = user_name(u);
            let user = lab.ensure_user(&console_id(&name)?, Some(&name)).await?;
            let actor = lab.actor_with_role(user.id, user.role);
            let token = pvelab_core::model::JoinToken::parse(&tokens[u % tokens.len()])?;
            let outcome = lab.join(&actor, &token).await?.vm;
            Ok(matches!(
                outcome,
                pvelab_core::model::VmOutcome::Assigned(_)
            ))
        }
    })
    .await?;
    let fill = started.elapsed();
    let joined = joined.into_iter().filter(|a| *a).count();

    let ticks = ticks(&lab, &admin, &clusters).await?;
    let interval = lab.settings(&admin).await?.inventory_interval();

    // /myvm typed by `requests` users spread over all of them, at once.
    let dispatcher = Dispatcher::unlimited();
    let step = (args.users / args.requests).max(1);
    let (myvm, replies) = burst(args.requests, |i| {
        let (lab, dispatcher) = (lab.clone(), dispatcher.clone());
        let line = format!("{} /myvm", user_name((i * step) % args.users));
        async move { console_command(&lab, &dispatcher, &line).await }
    })
    .await?;
    let with_vm = replies
        .iter()
        .filter(|r| r.contains("allowed hours:"))
        .count();
    ensure!(
        with_vm == replies.len(),
        "{} of {} /myvm replies showed no VM",
        replies.len() - with_vm,
        replies.len()
    );
    drop(lab);
    for sim in sims {
        sim.shutdown().await;
    }
    let (db_bytes, wal_bytes) = (
        database_bytes(&path)?,
        file_size(&path.with_extension("db-wal")),
    );
    Ok(Measured {
        myvm,
        db_bytes,
        wal_bytes,
        fill,
        fill_classes,
        rows: Rows {
            classes: classes.len(),
            vms: classes.iter().map(|c| c.vms.len()).sum(),
            joined,
        },
        ticks,
        interval,
    })
}

/// The inventory ticks: one warm-up of every cluster (inserts the rows), then each cluster on
/// its own, then every cluster at once as the scheduler would run them.
async fn ticks(lab: &Lab, admin: &Actor, clusters: &[ClusterId]) -> Result<Ticks> {
    let all = || async {
        let report = lab
            .sync_now(admin, SyncWhat::Job(JobKind::Inventory), None)
            .await?;
        let mut written = 0;
        for cluster in clusters {
            written += report
                .stats(JobKind::Inventory, cluster)
                .with_context(|| format!("the tick of {cluster} failed: {report:?}"))?
                .written;
        }
        anyhow::Ok(written)
    };
    let guests_written = all().await?;
    let cpu_before = cpu_time();
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(clusters.len());
    for cluster in clusters {
        let started = Instant::now();
        let report = lab
            .sync_now(
                admin,
                SyncWhat::Job(JobKind::Inventory),
                Some(cluster.clone()),
            )
            .await?;
        report
            .stats(JobKind::Inventory, cluster)
            .with_context(|| format!("the tick of {cluster} failed: {report:?}"))?;
        latencies.push(started.elapsed());
    }
    let per_cluster = Throughput::from(wall.elapsed(), latencies);
    let per_cluster_cpu = cpu_before
        .zip(cpu_time())
        .map(|(a, b)| (b - a) / u32::try_from(clusters.len()).unwrap_or(u32::MAX));
    let cpu_before = cpu_time();
    let wall = Instant::now();
    all().await?;
    let all_wall = wall.elapsed();
    let all_cpu = cpu_before.zip(cpu_time()).map(|(a, b)| b - a);
    Ok(Ticks {
        per_cluster,
        per_cluster_cpu,
        all_wall,
        all_cpu,
        guests_written,
    })
}

fn user_name(u: usize) -> String {
    format!("u{u:06}")
}

/// The database's size as SQLite counts it (pages times page size, what a checkpoint leaves in
/// the file), whether or not the write-ahead log was checkpointed yet.
fn database_bytes(path: &Path) -> Result<u64> {
    let conn = rusqlite::Connection::open(path)?;
    let pages: u64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(pages * size)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
