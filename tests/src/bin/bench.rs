//! pvelab benchmarks: `cargo run --release -p pvelab-tests --bin bench -- <scenario> [--json]`.
//!
//! Every scenario prints its figures beside a reference measured in the same run on the same
//! machine, and the ratio between them, so figures compare across noisy machines. Scenarios are
//! subcommands; a new one (provision, inventory, commands) adds a variant to [`Scenario`] and a
//! function returning a [`Report`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::{Args, Parser, Subcommand};
use pvelab_core::model::NewClass;
use pvelab_core::model::NewPoolVm;
use pvelab_core::model::TokenExpiry;
use pvelab_core::model::VmOutcome;
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::types::{ClassName, ClusterId, ExternalId, Host, PoolSize, PveUser, Role};
use pvelab_core::Actor;
use pvelab_core::{Lab, LabConfig, SealingKey};
use serde::Serialize;
use tokio::sync::Barrier;

#[path = "../bench/commands.rs"]
mod commands;
#[path = "../bench/inventory.rs"]
mod inventory;
#[path = "../bench/scale.rs"]
mod scale;
#[path = "../bench/setup.rs"]
mod setup;
#[path = "../bench/sim_child.rs"]
mod sim_child;

#[derive(Parser)]
#[command(about = "pvelab benchmarks: figures beside a reference measured in the same run")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Run the scenario (and its reference) this many times on fresh databases and report the
    /// round with the median throughput, listing every round's throughput.
    #[arg(long, global = true, default_value_t = 1)]
    rounds: u16,
}

#[derive(Subcommand)]
enum Scenario {
    /// Many students joining one class at once through the core, against a file database.
    JoinBurst(JoinBurstArgs),
    /// Provisioning one class's pool on the simulated cluster, against the simulator's best
    /// possible time and a one-at-a-time run of the same pool.
    Provision(ProvisionArgs),
    /// Inventory ticks of a large simulated cluster, against decoding the same payload alone.
    Inventory(inventory::InventoryArgs),
    /// `/join` and `/myvm` through the console's command code, against the same core calls;
    /// the process's peak memory with a 10,000-VM inventory and 1,000 users.
    Commands(commands::CommandsArgs),
    /// One process with many clusters, classes and users: database size, `/myvm` p99 and the
    /// inventory tick cost, against the same lab a hundredth the size.
    Scale(scale::ScaleArgs),
    /// A simulated cluster for another scenario, in a child process (not a benchmark).
    #[command(hide = true)]
    SimChild(sim_child::SimChildArgs),
}

#[derive(Args)]
struct JoinBurstArgs {
    /// Students joining at the same moment.
    #[arg(long, default_value_t = 500)]
    students: u16,
    /// Student VMs in the class's pool (at most 998).
    #[arg(long, default_value_t = 300)]
    pool: u16,
}

#[derive(Args)]
struct ProvisionArgs {
    /// Student VMs of the class (the teacher and base VMs come on top).
    #[arg(long, default_value_t = 100)]
    vms: u16,
    /// Nodes of the simulated cluster.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Clone slots per node: the simulator's capacity and the core's clones in flight per node.
    #[arg(long, default_value_t = 3)]
    clone_slots: usize,
    /// The simulator's time scale (1.0 = a real node's durations; a linked clone takes 3 s).
    #[arg(long, default_value_t = 0.1)]
    time_scale: f64,
}

/// What a scenario reports.
#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    parameters: serde_json::Value,
    measured: Throughput,
    reference_name: &'static str,
    reference: Throughput,
    /// measured throughput / reference throughput.
    ratio: f64,
    /// Further figures of the same run, each with its own reference (e.g. `/join` beside
    /// `/myvm`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    more: Vec<Comparison>,
    /// Scenario-specific counts (e.g. assigned / waitlisted / duplicates).
    counts: serde_json::Map<String, serde_json::Value>,
}

/// A further figure of a report, beside its own reference.
#[derive(Serialize)]
struct Comparison {
    name: String,
    measured: Throughput,
    reference_name: &'static str,
    reference: Throughput,
    /// measured throughput / reference throughput.
    ratio: f64,
}

/// Operations per second and latency percentiles of one burst.
#[derive(Serialize, Clone, Copy)]
struct Throughput {
    operations: usize,
    wall_ms: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Throughput {
    fn from(wall: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        let pick = |q: f64| {
            let n = latencies.len();
            if n == 0 {
                return 0.0;
            }
            let index = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            latencies[index].as_secs_f64() * 1000.0
        };
        let secs = wall.as_secs_f64().max(f64::EPSILON);
        Self {
            operations: latencies.len(),
            wall_ms: secs * 1000.0,
            per_second: latencies.len() as f64 / secs,
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
        }
    }
}

/// Runs `n` operations at once (released together by a barrier) and measures each one's latency
/// and the wall time from the first start to the last completion. Both the scenario and its
/// reference go through this, so they are "measured the same way".
///
/// The wall time starts at the earliest operation's own start, not when this task resumes after
/// the barrier: on a busy machine the operations may run (or even finish) before that, and a
/// late start would shrink the wall time and inflate the throughput.
async fn burst<F, Fut, T>(n: usize, op: F) -> Result<(Throughput, Vec<T>)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (barrier, fut) = (Arc::clone(&barrier), op(i));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let start = Instant::now();
            let value = fut.await;
            (start, Instant::now(), value)
        }));
    }
    barrier.wait().await;
    let mut latencies = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    let mut span: Option<(Instant, Instant)> = None;
    for task in tasks {
        let (start, done, value) = task.await.context("a burst task panicked")?;
        latencies.push(done - start);
        span = Some(match span {
            None => (start, done),
            Some((first, last)) => (first.min(start), last.max(done)),
        });
        values.push(value?);
    }
    let wall = span.map_or(Duration::ZERO, |(first, last)| last - first);
    Ok((Throughput::from(wall, latencies), values))
}

async fn join_burst(args: &JoinBurstArgs) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let students = usize::from(args.students);

    // Arrange (not measured): a lab on a file, a cluster, a class with `pool` registered VMs,
    // `students` users and a join token.
    let lab = Lab::open(
        LabConfig::file(dir.path().join("bench.db")).with_sealing_key(SealingKey::generate()),
    )
    .await?;
    let admin_user = lab
        .ensure_user(&ExternalId::parse("bench:admin")?, None)
        .await?;
    let admin = lab.actor_with_role(admin_user.id, Role::Adminer);
    let teacher_user = lab
        .ensure_user(&ExternalId::parse("bench:teacher")?, None)
        .await?;
    lab.set_role(&admin, teacher_user.id, Role::Teacher).await?;
    let teacher = lab.actor(teacher_user.id).await?;
    let cluster = ClusterId::parse("bench")?;
    lab.add_cluster(
        &admin,
        NewCluster::new(
            cluster.clone(),
            Host::parse("127.0.0.1")?,
            ClusterCredential::Password {
                user: PveUser::parse("root@pam")?,
                password: secrecy::SecretString::from("x".to_owned()),
            },
        ),
    )
    .await?;
    let class = lab
        .create_class(
            &teacher,
            NewClass::new(
                ClassName::parse("burst")?,
                PoolSize::new(i64::from(args.pool))?,
            ),
        )
        .await?;
    for slot in 1..=args.pool {
        let vmid = class
            .scheme
            .student_vmid(slot)
            .context("slot outside the plan")?;
        lab.register_vm(
            &teacher,
            class.id,
            NewPoolVm {
                cluster_id: cluster.clone(),
                vmid,
                manual: false,
                node: None,
                name: None,
                mac_address: None,
            },
        )
        .await?;
    }
    let mut actors: Vec<Actor> = Vec::with_capacity(students);
    for i in 0..students {
        let user = lab
            .ensure_user(&ExternalId::parse(&format!("bench:student:{i}"))?, None)
            .await?;
        actors.push(lab.actor(user.id).await?);
    }
    let token = Arc::new(
        lab.rotate_token(&teacher, class.id, TokenExpiry::Never)
            .await?
            .token,
    );

    // Act: every student joins at once.
    let actors = Arc::new(actors);
    let (measured, outcomes) = burst(students, |i| {
        let (lab, token, actors) = (lab.clone(), Arc::clone(&token), Arc::clone(&actors));
        async move { Ok(lab.join(&actors[i], &token).await?.vm) }
    })
    .await?;

    // Check: assigned / waitlisted as reported, and duplicates in the stored pool.
    let assigned = outcomes
        .iter()
        .filter(|o| matches!(o, VmOutcome::Assigned(_)))
        .count();
    let waitlisted = outcomes
        .iter()
        .filter(|o| matches!(o, VmOutcome::Waitlisted { .. }))
        .count();
    let pool = lab.pool(&teacher, class.id).await?;
    let holders: Vec<_> = pool.iter().filter_map(|vm| vm.assigned_to).collect();
    let distinct: std::collections::HashSet<_> = holders.iter().collect();
    let duplicates = holders.len() - distinct.len();

    let reference = raw_write_transactions(&dir.path().join("reference.db"), students).await?;
    let mut counts = serde_json::Map::new();
    counts.insert("assigned".into(), assigned.into());
    counts.insert("waitlisted".into(), waitlisted.into());
    counts.insert("duplicates".into(), duplicates.into());
    Ok(Report {
        scenario: "join-burst",
        parameters: serde_json::json!({ "students": args.students, "pool": args.pool }),
        ratio: measured.per_second / reference.per_second.max(f64::EPSILON),
        measured,
        reference_name: "raw SQLite write transactions (BEGIN IMMEDIATE; one INSERT; COMMIT)",
        reference,
        more: Vec::new(),
        counts,
    })
}

/// The reference: the machine's raw SQLite write-transaction rate, measured the same way as the
/// joins: `n` concurrent requests, each one write transaction on a WAL file database with the
/// core's pragmas, run on the blocking pool over one connection.
async fn raw_write_transactions(path: &Path, n: usize) -> Result<Throughput> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")?;
    let conn = Arc::new(Mutex::new(conn));
    let (throughput, _) = burst(n, |i| {
        let conn = Arc::clone(&conn);
        async move {
            tokio::task::spawn_blocking(move || -> Result<()> {
                let mut conn = conn.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("INSERT INTO t (v) VALUES (?1)", [format!("row {i}")])?;
                tx.commit()?;
                Ok(())
            })
            .await?
        }
    })
    .await?;
    Ok(throughput)
}

fn print_text(report: &Report) {
    let line = |name: &str, t: &Throughput| {
        println!(
            "  {name:<10} {:>6} ops in {:>8.1} ms = {:>9.1} ops/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            t.operations, t.wall_ms, t.per_second, t.p50_ms, t.p99_ms
        );
    };
    println!("{} {}", report.scenario, report.parameters);
    line("measured", &report.measured);
    line("reference", &report.reference);
    println!("  reference: {}", report.reference_name);
    println!(
        "  ratio (measured / reference throughput): {:.3}",
        report.ratio
    );
    for more in &report.more {
        println!("  {}:", more.name);
        line("measured", &more.measured);
        line("reference", &more.reference);
        println!("  reference: {}", more.reference_name);
        println!(
            "  ratio (measured / reference throughput): {:.3}",
            more.ratio
        );
    }
    for (name, value) in &report.counts {
        println!("  {name}: {value}");
    }
}

async fn run(scenario: &Scenario) -> Result<Report> {
    match scenario {
        Scenario::Provision(args) => {
            ensure!(
                (1..=998).contains(&args.vms),
                "--vms is 1 to 998 (the wide VMID plan)"
            );
            ensure!(
                (1..=64).contains(&args.nodes),
                "--nodes is 1 to 64 (the simulator's limit)"
            );
            ensure!(args.clone_slots >= 1, "--clone-slots is at least 1");
            ensure!(
                args.time_scale > 0.0 && args.time_scale <= 1.0,
                "--time-scale is above 0 and at most 1"
            );
            provision::run(args).await
        }
        Scenario::JoinBurst(args) => {
            ensure!(
                args.pool <= 998,
                "--pool is at most 998 (the wide VMID plan)"
            );
            join_burst(args).await
        }
        Scenario::Inventory(args) => inventory::inventory(args).await,
        Scenario::Commands(args) => commands::commands(args).await,
        Scenario::Scale(args) => scale::scale(args).await,
        Scenario::SimChild(_) => anyhow::bail!("sim-child is not a benchmark"),
    }
}

mod provision {
    //! The provision scenario: one class's pool built on a fresh simulated cluster, measured
    //! against the simulator's best possible time for the same capacity and against a run of
    //! the same pool that works on one VM at a time.

    use super::*;
    use pvelab_core::model::{NewTemplate, PoolsConfig, ProgressEvent};
    use pvelab_core::types::{ApiTokenId, ClusterTrust, ExternalId, Fingerprint, Host, VmId};
    use pvelab_pve_sim::{CapacityConfig, CloneKind, Sim, SimConfig};

    /// One provisioning: wall time, each VM's time to ready, requests the cluster received.
    struct Run {
        wall: Duration,
        latencies: Vec<Duration>,
        requests: u64,
        ready: usize,
        failed: usize,
        best: Duration,
    }

    fn sim_config(args: &ProvisionArgs) -> SimConfig {
        SimConfig {
            nodes: args.nodes,
            time_scale: args.time_scale,
            capacity: CapacityConfig {
                clone_slots_per_node: args.clone_slots,
                ..CapacityConfig::default()
            },
            ..SimConfig::default()
        }
    }

    /// The core's pacing for this time scale: tasks polled about every 5 % of a linked
    /// clone's duration, no rate limit to speak of (the simulator's capacity is the limit).
    fn pools_config(args: &ProvisionArgs, one_at_a_time: bool) -> PoolsConfig {
        let clone = Duration::from_secs_f64(3.0 * args.time_scale);
        PoolsConfig {
            clones_per_node: if one_at_a_time { 1 } else { args.clone_slots },
            vms_per_cluster: if one_at_a_time { 1 } else { 1024 },
            task_poll: clone / 40,
            task_poll_max: clone / 20,
            ..PoolsConfig::fast()
        }
    }

    async fn provision_once(args: &ProvisionArgs, one_at_a_time: bool) -> Result<Run> {
        let sim = Sim::start(sim_config(args)).await?;
        let dir = tempfile::tempdir()?;
        let lab = Lab::open(
            LabConfig::file(dir.path().join("bench.db"))
                .with_sealing_key(SealingKey::generate())
                .with_pools(pools_config(args, one_at_a_time)),
        )
        .await?;
        let admin_user = lab
            .ensure_user(&ExternalId::parse("bench:admin")?, None)
            .await?;
        let admin = lab.actor_with_role(admin_user.id, Role::Adminer);
        let teacher_user = lab
            .ensure_user(&ExternalId::parse("bench:teacher")?, None)
            .await?;
        lab.set_role(&admin, teacher_user.id, Role::Teacher).await?;
        let teacher = lab.actor(teacher_user.id).await?;
        let cluster = ClusterId::parse("sim")?;
        let token = sim.api_token();
        let (id, secret) = token.split_once('=').context("the simulator's token")?;
        let new = NewCluster::new(
            cluster.clone(),
            Host::parse(&sim.addr().ip().to_string())?,
            ClusterCredential::ApiToken {
                id: ApiTokenId::parse(id)?,
                secret: secrecy::SecretString::from(secret.to_owned()),
            },
        )
        .port(sim.addr().port())
        .trust(ClusterTrust::Fingerprint(Fingerprint::parse(
            &sim.fingerprint(),
        )?));
        lab.add_cluster(&admin, new).await?;
        let template = lab
            .register_template(
                &admin,
                NewTemplate {
                    name: "debian-13-shared".into(),
                    cluster_id: cluster,
                    vmid: VmId::new(9010)?,
                    node: None,
                    replica_of: None,
                },
            )
            .await?;
        let mut class = NewClass::new(
            ClassName::parse("bench")?,
            PoolSize::new(i64::from(args.vms))?,
        );
        class.template_id = Some(template.id);

        // Act: provision, noting when each VM becomes ready.
        sim.reset_counters();
        let start = Instant::now();
        let (_, mut op) = lab.create_and_provision_class(&teacher, class).await?;
        let mut events = op.events().context("events")?;
        let mut latencies = Vec::new();
        while let Some(event) = events.recv().await {
            if let ProgressEvent::Ready { .. } = event {
                latencies.push(start.elapsed());
            }
        }
        let summary = op.wait().await?;
        let wall = start.elapsed();
        let total = usize::from(args.vms) + 2;
        let best = sim.best_clone_time(total, args.nodes, CloneKind::Linked);
        let requests = sim.total_requests();
        sim.shutdown().await;
        Ok(Run {
            wall,
            latencies,
            requests,
            ready: summary.ready,
            failed: summary.failed.len(),
            best,
        })
    }

    pub(super) async fn run(args: &ProvisionArgs) -> Result<Report> {
        let parallel = provision_once(args, false).await?;
        let sequential = provision_once(args, true).await?;
        let vms = usize::from(args.vms) + 2;
        ensure!(
            parallel.ready == vms && sequential.ready == vms,
            "not every VM became ready: {} and {} of {vms} ({} and {} failed)",
            parallel.ready,
            sequential.ready,
            parallel.failed,
            sequential.failed
        );
        let measured = Throughput::from(parallel.wall, parallel.latencies);
        let reference = Throughput::from(sequential.wall, sequential.latencies);
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let mut counts = serde_json::Map::new();
        counts.insert("vms".into(), vms.into());
        counts.insert("best_clone_time_ms".into(), ms(parallel.best).into());
        counts.insert(
            "time_vs_best_clone_time".into(),
            (parallel.wall.as_secs_f64() / parallel.best.as_secs_f64().max(f64::EPSILON)).into(),
        );
        counts.insert(
            "time_vs_one_at_a_time".into(),
            (parallel.wall.as_secs_f64() / sequential.wall.as_secs_f64().max(f64::EPSILON)).into(),
        );
        counts.insert(
            "api_calls_per_vm".into(),
            (parallel.requests as f64 / vms as f64).into(),
        );
        counts.insert(
            "api_calls_per_vm_one_at_a_time".into(),
            (sequential.requests as f64 / vms as f64).into(),
        );
        Ok(Report {
            scenario: "provision",
            parameters: serde_json::json!({
                "vms": args.vms,
                "nodes": args.nodes,
                "clone_slots": args.clone_slots,
                "time_scale": args.time_scale,
            }),
            ratio: measured.per_second / reference.per_second.max(f64::EPSILON),
            measured,
            reference_name:
                "the same pool provisioned one VM at a time (one clone slot, one VM in flight)",
            reference,
            more: Vec::new(),
            counts,
        })
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Scenario::SimChild(args) = &cli.scenario {
        return runtime.block_on(sim_child::serve(args));
    }
    let mut reports = Vec::new();
    for _ in 0..cli.rounds.max(1) {
        reports.push(runtime.block_on(run(&cli.scenario))?);
    }
    reports.sort_by(|a, b| a.measured.per_second.total_cmp(&b.measured.per_second));
    let rounds: Vec<f64> = reports
        .iter()
        .map(|r| r.measured.per_second.round())
        .collect();
    let mut report = reports.swap_remove(reports.len() / 2);
    if rounds.len() > 1 {
        report
            .counts
            .insert("round_throughputs_per_second".into(), rounds.into());
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}
