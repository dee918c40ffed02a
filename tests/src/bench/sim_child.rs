//! A simulated cluster in a child process: the bench program started again as
//! `bench sim-child`, which runs the simulator, prints how to reach it as one JSON line and
//! stops when its standard input closes (so it never outlives the benchmark).
//!
//! Why a child: the commands scenario reports the peak resident memory of the pvelab process,
//! and a simulator of 10,000 VMs in the same process would count its own state and its
//! answers' JSON there.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;
use pvelab_pve_sim::{Sim, SimConfig};
use serde::{Deserialize, Serialize};

use super::setup::SimAccess;

/// The hidden `sim-child` subcommand's flags.
#[derive(Args)]
pub(crate) struct SimChildArgs {
    /// VMs besides the templates.
    #[arg(long)]
    vms: usize,
    /// Nodes.
    #[arg(long)]
    nodes: usize,
}

/// The line the child prints once it listens.
#[derive(Serialize, Deserialize)]
struct Ready {
    addr: String,
    token: String,
    fingerprint: String,
}

/// The child's side: serve until standard input closes.
pub(crate) async fn serve(args: &SimChildArgs) -> Result<()> {
    let sim = Sim::start(SimConfig {
        vms: args.vms,
        nodes: args.nodes,
        ..SimConfig::fast()
    })
    .await?;
    let ready = Ready {
        addr: sim.addr().to_string(),
        token: sim.api_token(),
        fingerprint: sim.fingerprint(),
    };
    println!("{}", serde_json::to_string(&ready)?);
    // EOF (or an error) means the parent is done or gone.
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await?;
    sim.shutdown().await;
    Ok(())
}

/// The parent's side: a running child simulator, stopped when dropped.
pub(crate) struct SimChild {
    child: Child,
    /// Held open: closing it tells the child to stop.
    stdin: Option<ChildStdin>,
    /// How to reach it.
    pub access: SimAccess,
}

impl SimChild {
    /// Starts `bench sim-child` with `vms` VMs on `nodes` nodes and waits until it listens.
    pub(crate) fn spawn(vms: usize, nodes: usize) -> Result<Self> {
        let exe = std::env::current_exe().context("finding the bench program")?;
        let mut child = Command::new(exe)
            .args(["sim-child", "--vms", &vms.to_string()])
            .args(["--nodes", &nodes.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the simulator's process")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the child's output")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim().is_empty() {
            let status = child.wait()?;
            bail!("the simulator's process ended before it listened ({status})");
        }
        let ready: Ready = serde_json::from_str(line.trim())
            .with_context(|| format!("the simulator's process printed {line:?}"))?;
        Ok(Self {
            child,
            stdin,
            access: SimAccess {
                addr: ready.addr.parse()?,
                token: ready.token,
                fingerprint: ready.fingerprint,
            },
        })
    }
}

impl Drop for SimChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // It stops on its own at EOF; wait so no zombie is left.
        let _ = self.child.wait();
    }
}

/// The request counters of a simulator in another process, through its control API
/// (`/_sim/counters`), and a plain HTTPS client to it (the simulator's certificate is
/// self-signed, so this client checks none: it only ever talks to the local child).
pub(crate) struct SimCounters {
    /// The client, for a scenario's own reference calls too.
    pub http: reqwest::Client,
    /// `https://ADDR`.
    pub base: String,
}

#[derive(Deserialize)]
struct Counters {
    total: u64,
    counts: std::collections::BTreeMap<String, u64>,
}

impl SimCounters {
    pub(crate) fn new(access: &SimAccess) -> Result<Self> {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()?;
        Ok(Self {
            http,
            base: format!("https://{}", access.addr),
        })
    }

    /// Sets every counter back to zero.
    pub(crate) async fn reset(&self) -> Result<()> {
        self.http
            .post(format!("{}/_sim/counters/reset", self.base))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// All requests since the last reset, and those of `endpoint` (`"GET /cluster/resources"`).
    pub(crate) async fn calls(&self, endpoint: &str) -> Result<(u64, u64)> {
        let counters: Counters = self
            .http
            .get(format!("{}/_sim/counters", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let of_endpoint = counters.counts.get(endpoint).copied().unwrap_or(0);
        Ok((counters.total, of_endpoint))
    }
}
