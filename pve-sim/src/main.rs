//! `pve-sim`: run the simulated Proxmox VE cluster and print how to connect.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use pvelab_pve_sim::{Sim, SimConfig};
use secrecy::SecretString;

/// A simulated Proxmox VE 9 cluster on loopback, for tests, demos and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "pve-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8006")]
    listen: SocketAddr,
    /// Number of nodes (pve1..pveN).
    #[arg(long)]
    nodes: Option<usize>,
    /// Number of VMs to populate besides the templates.
    #[arg(long)]
    vms: Option<usize>,
    /// Fixed API token USER@REALM!ID=SECRET (generated when absent).
    #[arg(long, env = "PVE_SIM_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Seed of every random choice.
    #[arg(long)]
    seed: Option<u64>,
    /// Folder for cert.pem/key.pem: made on first start, reused later (stable fingerprint).
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// TOML file with any other setting (see the README); flags win over it.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    // Errors are for people: one line with its causes, never a backtrace (returning the error
    // from `main` would print its Debug form, backtrace included when RUST_BACKTRACE is set).
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pve-sim: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<SimConfig>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
        }
        None => SimConfig::default(),
    };
    cfg.listen = args.listen;
    if let Some(n) = args.nodes {
        cfg.nodes = n;
    }
    if let Some(n) = args.vms {
        cfg.vms = n;
    }
    if let Some(d) = args.cert_dir {
        cfg.cert_dir = Some(d);
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if let Some(t) = args.api_token {
        cfg.api_token = Some(SecretString::from(t));
    }
    let sim = Sim::start(cfg).await?;
    println!("pve-sim: simulated Proxmox VE 9 cluster");
    println!("  URL:          {}/api2/json", sim.base_url());
    println!("  API token:    {}", sim.api_token());
    println!(
        "  audit token:  {}  (read-only: writes get 403)",
        sim.audit_token()
    );
    println!("  user:         {}", sim.username());
    println!("  password:     {}", sim.password());
    println!("  fingerprint:  {}", sim.fingerprint());
    println!(
        "  control API:  {}/_sim/  (counters, faults, clock, nodes, guests)",
        sim.base_url()
    );
    println!(
        "  try:          curl -k -H 'Authorization: PVEAPIToken={}' {}/api2/json/cluster/resources",
        sim.api_token(),
        sim.base_url()
    );
    println!("Press Ctrl-C to stop (SIGTERM works too).");
    wait_for_stop().await?;
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (what `kill` and service managers send).
async fn wait_for_stop() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
