//! Crashes with real processes: a `pve-sim` process, and `pvelab console --config FILE`
//! processes killed with SIGKILL at random points while they provision a class, resize its pool
//! and delete it. After each kill a new console starts (it reconciles before its first line);
//! then the pool must match its intent: every VM once, none held twice, nothing duplicated, no
//! marked VM outside the pool (the core's audit), and after the deletion nothing of the class
//! left on the cluster.
//!
//! Seeded and bounded: 20 runs of a few seconds each. Each run prints its seed; set
//! `CRASH_SEED` to replay a failing one. The two binaries are taken from the build folder of
//! this test (`cargo build -p pvelab-bot -p pvelab-pve-sim` builds them).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use pvelab_bot::app::clusters::operator;
use pvelab_bot::config::{self, EnvVars};
use pvelab_core::jobs::{JobKind, SyncWhat};
use pvelab_core::types::{ClassName, ClusterId};
use pvelab_core::Lab;

const KEY: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
const TOKEN_ID: &str = "root@pam!pvelab";
const SECRET: &str = "crash-test-secret";
const RUNS: u64 = 20;

/// A small deterministic generator (xorshift64*), so a seed replays a run's kill points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// A binary of the workspace, next to this test's own build folder.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the build folder");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build -p pvelab-bot -p pvelab-pve-sim` first",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The simulator as its own process; killed when dropped.
struct SimProcess(std::process::Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sim(dir: &Path, seed: u64) -> (SimProcess, u16) {
    let port = free_port();
    let config = dir.join("sim.toml");
    std::fs::write(&config, "time_scale = 0.02\nvms = 4\ncontainers = 0\n").unwrap();
    let child = Command::new(binary("pve-sim"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--seed"])
        .arg(seed.to_string())
        .arg("--config")
        .arg(&config)
        .env("PVE_SIM_API_TOKEN", format!("{TOKEN_ID}={SECRET}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pve-sim starts");
    let sim = SimProcess(child);
    // A process gives no readiness event: its port accepting connections is the condition.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "pve-sim listens within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    (sim, port)
}

fn write_config(dir: &Path, port: u16) -> PathBuf {
    std::fs::write(dir.join("secret"), SECRET).unwrap();
    let file = dir.join("pvelab.toml");
    std::fs::write(
        &file,
        format!(
            "database = \"lab.db\"\n\
             [[cluster]]\n\
             id = \"sim\"\n\
             url = \"https://127.0.0.1:{port}\"\n\
             api_token = \"{TOKEN_ID}\"\n\
             secret_file = \"secret\"\n\
             insecure = true\n\
             is_default = true\n"
        ),
    )
    .unwrap();
    file
}

/// How long a console may take to finish a script (or an empty one: its start-up
/// reconciliation) before the test calls it hung; runs take about a second.
const CONSOLE_LIMIT: Duration = Duration::from_secs(120);

/// Runs `pvelab console --config` on `script`; with `kill_after`, SIGKILLs it then unless it
/// ended before. Returns its output when it ended by itself. A console that neither ends nor is
/// due for a kill within [`CONSOLE_LIMIT`] is killed and fails the test, so a hang is reported
/// with its script instead of stalling the suite.
async fn console(config: &Path, script: &str, kill_after: Option<Duration>) -> Option<String> {
    let mut child = tokio::process::Command::new(binary("pvelab"))
        .arg("console")
        .arg("--config")
        .arg(config)
        .env("PVELAB_SEALING_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pvelab starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .await
        .expect("the script is written");
    drop(stdin);
    // Read the output as it comes, so a long one never blocks the console on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let output = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let limit = kill_after.unwrap_or(CONSOLE_LIMIT).min(CONSOLE_LIMIT);
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => {
            let status = status.expect("the console's exit status");
            let text = output.await.expect("the output reader");
            if kill_after.is_none() {
                assert!(status.success(), "the console exits with 0: {text}");
            }
            Some(text)
        }
        Err(_) => {
            // SIGKILL on Unix: no destructor, no safe point.
            child.kill().await.expect("kill");
            let text = output.await.expect("the output reader");
            assert!(
                kill_after.is_some_and(|after| after < CONSOLE_LIMIT),
                "the console on {script:?} did not end within {} s; its output: {text}",
                CONSOLE_LIMIT.as_secs()
            );
            None
        }
    }
}

async fn lab(config: &Path) -> Lab {
    let env: EnvVars = [("PVELAB_SEALING_KEY", KEY)].into_iter().collect();
    let settings = config::load(config, &env).expect("the configuration");
    pvelab_bot::app::open_lab(&settings).await.expect("the lab")
}

/// The class `c1`, if it exists.
async fn class(config: &Path) -> Option<pvelab_core::model::Class> {
    let lab = lab(config).await;
    let admin = operator(&lab).await.unwrap();
    lab.class_by_name(&admin, None, &ClassName::parse("c1").unwrap())
        .await
        .ok()
}

/// The core's audit of `c1`'s pool finds nothing wrong and the pool has `size` student VMs.
async fn assert_converged(config: &Path, seed: u64, what: &str) {
    let lab = lab(config).await;
    let admin = operator(&lab).await.unwrap();
    let class = lab
        .class_by_name(&admin, None, &ClassName::parse("c1").unwrap())
        .await
        .unwrap_or_else(|e| panic!("seed {seed}, after {what}: no class c1: {e}"));
    let audit = lab
        .audit_pool(&admin, class.id)
        .await
        .unwrap_or_else(|e| panic!("seed {seed}, after {what}: audit failed: {e}"));
    assert!(
        audit.is_clean(),
        "seed {seed}, after {what}: the pool has problems: {audit:?}"
    );
    let students = lab
        .pool(&admin, class.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|vm| matches!(vm.role, pvelab_core::model::VmRole::Student { .. }))
        .count();
    assert_eq!(
        students,
        usize::from(class.pool_size.get()),
        "seed {seed}, after {what}: the pool's student VMs"
    );
}

/// Nothing of a deleted class is left on the cluster: no guest in its VMID range.
async fn assert_nothing_left(config: &Path, seed: u64, range: std::ops::RangeInclusive<u32>) {
    let lab = lab(config).await;
    let admin = operator(&lab).await.unwrap();
    let sim = ClusterId::parse("sim").unwrap();
    let report = lab
        .sync_now(&admin, SyncWhat::Job(JobKind::Inventory), Some(sim.clone()))
        .await
        .unwrap();
    assert!(report.all_ok(), "seed {seed}: {report:?}");
    let left: Vec<u32> = lab
        .inventory(&admin, &sim)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.vmid.get())
        .filter(|v| range.contains(v))
        .collect();
    assert!(
        left.is_empty(),
        "seed {seed}: VMs of the deleted class remain: {left:?}"
    );
}

/// Runs `script` killed at a random point of `budget`, restarts the console (which
/// reconciles), and reruns `script` to completion when the kill came before its first write.
/// Returns whether the console was killed (rather than done before its kill point).
async fn crash_and_recover(
    config: &Path,
    rng: &mut Rng,
    budget_ms: u64,
    script: &str,
    done: impl AsyncFn() -> bool,
) -> bool {
    let kill = Duration::from_millis(rng.below(budget_ms));
    let killed = console(config, script, Some(kill)).await.is_none();
    console(config, "", None).await;
    if !done().await {
        console(config, script, None).await;
    }
    killed
}

/// One run; returns how many of its three consoles were killed mid-way.
async fn one_run(seed: u64) -> usize {
    eprintln!("crash run with seed {seed} (CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed.max(1));
    let dir = tempfile::tempdir().unwrap();
    let (_sim, port) = start_sim(dir.path(), seed);
    let config = write_config(dir.path(), port);
    let out = console(&config, "ada:adminer /sync now what:templates\n", None)
        .await
        .unwrap();
    assert!(out.contains("templates  done"), "seed {seed}: {out}");

    let create = "tom:teacher /class create name:c1 template:9000 pool:3\n";
    let mut killed = 0;
    killed += usize::from(
        crash_and_recover(&config, &mut rng, 1500, create, async || {
            class(&config).await.is_some()
        })
        .await,
    );
    assert_converged(&config, seed, "provisioning").await;

    let resize = "tom:teacher /pool resize class:c1 size:5\n";
    killed += usize::from(
        crash_and_recover(&config, &mut rng, 1500, resize, async || {
            class(&config).await.is_some_and(|c| c.pool_size.get() == 5)
        })
        .await,
    );
    assert_converged(&config, seed, "the resize").await;
    let range = class(&config).await.unwrap().scheme.vmids();

    let delete = "tom:teacher /class delete class:c1 confirm:yes\n";
    killed += usize::from(
        crash_and_recover(&config, &mut rng, 1500, delete, async || {
            class(&config).await.is_none()
        })
        .await,
    );
    // A deletion the kill interrupted is finished by the reconciliation of the next start.
    console(&config, "", None).await;
    assert!(class(&config).await.is_none(), "seed {seed}: c1 is deleted");
    assert_nothing_left(&config, seed, range).await;
    killed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_consoles_converge_after_a_restart() {
    let base = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let runs = if base.is_some() { 1 } else { RUNS };
    let base = base.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let mut killed = 0;
    for i in 0..runs {
        killed += one_run(base.wrapping_add(i)).await;
    }
    eprintln!("{killed} of {} consoles were killed mid-way", runs * 3);
    if runs == RUNS {
        // Kill points fall in the work most of the time; a run of 20 where none did would test
        // nothing.
        assert!(killed >= 10, "only {killed} consoles were killed mid-way");
    }
}
