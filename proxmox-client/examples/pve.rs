//! `pve`: a small command-line tool showing how to use the pvelab Proxmox client.
//!
//! ```text
//! cargo run -p pvelab-proxmox --example pve -- --url https://HOST:8006 \
//!     (--token USER@REALM!ID=SECRET | --user U --password P) \
//!     [--fingerprint FP | --insecure] [--json] <command>
//! ```
//!
//! Commands: `nodes`, `vms`, `status NODE VMID`, `clone NODE VMID NEWID [--name N] [--full]`,
//! `start|stop|shutdown NODE VMID`, `ip NODE VMID`, `isos NODE`, `nextid`.
//! Tables for people by default, `--json` for programs. Clone and power commands wait for the
//! task and print its exit status. Errors go to stderr with exit code 1.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pvelab_proxmox::{Client, CloneParams, Error, ShutdownParams, Upid};
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "pve",
    about = "Talk to a Proxmox VE API with the pvelab client"
)]
struct Cli {
    /// API address, e.g. https://pve1.example:8006
    #[arg(long, env = "PVE_URL")]
    url: String,
    /// API token as USER@REALM!ID=SECRET
    #[arg(long, env = "PVE_TOKEN", conflicts_with_all = ["user", "password"], required_unless_present = "user")]
    token: Option<String>,
    /// User as USER@REALM (with --password)
    #[arg(long, env = "PVE_USER", requires = "password")]
    user: Option<String>,
    /// Password of --user
    #[arg(long, env = "PVE_PASSWORD", requires = "user", hide_env_values = true)]
    password: Option<String>,
    /// Trust only this SHA-256 certificate fingerprint (AB:CD:...)
    #[arg(long, conflicts_with_all = ["insecure", "ca_file"])]
    fingerprint: Option<String>,
    /// Trust certificates issued by this CA (PEM), e.g. pve-root-ca.pem
    #[arg(long, conflicts_with = "insecure")]
    ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate (prints a warning)
    #[arg(long)]
    insecure: bool,
    /// Print JSON instead of tables
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the cluster's nodes
    Nodes,
    /// List every VM and container of the cluster
    Vms,
    /// Show a VM's current status
    Status { node: String, vmid: u32 },
    /// Clone a VM or template and wait for the task
    Clone {
        node: String,
        vmid: u32,
        newid: u32,
        /// Name of the new VM
        #[arg(long)]
        name: Option<String>,
        /// Full copy instead of a linked clone
        #[arg(long)]
        full: bool,
    },
    /// Start a VM and wait for the task
    Start { node: String, vmid: u32 },
    /// Stop (power off) a VM and wait for the task
    Stop { node: String, vmid: u32 },
    /// Shut a VM down cleanly and wait for the task
    Shutdown { node: String, vmid: u32 },
    /// Show a VM's addresses (from the guest agent)
    Ip { node: String, vmid: u32 },
    /// List ISO images on a node
    Isos { node: String },
    /// Print the next free VMID
    Nextid,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version are not errors.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(Error::TaskFailed { log_tail, .. }) = e.downcast_ref::<Error>() {
                if !log_tail.is_empty() {
                    eprintln!("task log (last lines):");
                    for line in log_tail {
                        eprintln!("  {line}");
                    }
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn client(cli: &Cli) -> Result<Client> {
    let mut b = Client::builder(&cli.url);
    b = match (&cli.token, &cli.user, &cli.password) {
        (Some(token), _, _) => b.api_token(token),
        (None, Some(user), Some(password)) => b.password(user, password),
        _ => anyhow::bail!("give --token, or --user with --password"),
    };
    if let Some(fp) = &cli.fingerprint {
        b = b.fingerprint(fp);
    } else if let Some(ca) = &cli.ca_file {
        b = b.ca_file(ca);
    } else if cli.insecure {
        b = b.insecure();
    }
    Ok(b.build()?)
}

async fn run(cli: Cli) -> Result<()> {
    let client = client(&cli)?;
    let json = cli.json;
    match &cli.command {
        Command::Nodes => {
            let nodes = client.nodes().await.context("listing nodes")?;
            if json {
                return print_json(&nodes);
            }
            let rows = nodes
                .iter()
                .map(|n| {
                    vec![
                        n.node.clone(),
                        format!("{:?}", n.status).to_lowercase(),
                        opt(n.cpu.map(|c| format!("{:.0}%", c * 100.0))),
                        opt(n.maxcpu.map(|c| c.to_string())),
                        mem_pair(n.mem, n.maxmem),
                        opt(n.uptime.map(duration)),
                    ]
                })
                .collect();
            table(
                &["NODE", "STATUS", "CPU", "CORES", "MEMORY", "UPTIME"],
                rows,
            );
        }
        Command::Vms => {
            let mut vms = client.cluster().vms().await.context("listing guests")?;
            vms.sort_by_key(|v| v.vmid);
            if json {
                return print_json(&vms);
            }
            let rows = vms
                .iter()
                .map(|v| {
                    vec![
                        opt(v.vmid.map(|id| id.to_string())),
                        opt(v.name.clone()),
                        v.kind.clone(),
                        opt(v.node.clone()),
                        opt(v.status.clone()),
                        if v.template { "yes" } else { "" }.to_owned(),
                        opt(v.lock.clone()),
                        mem_pair(v.mem, v.maxmem),
                    ]
                })
                .collect();
            table(
                &[
                    "VMID", "NAME", "TYPE", "NODE", "STATUS", "TEMPLATE", "LOCK", "MEMORY",
                ],
                rows,
            );
        }
        Command::Status { node, vmid } => {
            let st = client
                .node(node)
                .qemu(*vmid)
                .status()
                .await
                .with_context(|| format!("reading the status of VM {vmid} on {node}"))?;
            if json {
                return print_json(&st);
            }
            let rows = vec![
                vec!["vmid".into(), vmid.to_string()],
                vec!["name".into(), opt(st.name.clone())],
                vec!["status".into(), format!("{:?}", st.status).to_lowercase()],
                vec!["qmpstatus".into(), opt(st.qmpstatus.clone())],
                vec!["lock".into(), opt(st.lock.clone())],
                vec![
                    "cpu".into(),
                    opt(st.cpu.map(|c| format!("{:.1}%", c * 100.0))),
                ],
                vec!["vcpus".into(), opt(st.cpus.map(|c| c.to_string()))],
                vec!["memory".into(), mem_pair(st.mem, st.maxmem)],
                vec!["uptime".into(), opt(st.uptime.map(duration))],
                vec![
                    "agent".into(),
                    if st.agent { "enabled" } else { "off" }.into(),
                ],
            ];
            table(&["FIELD", "VALUE"], rows);
        }
        Command::Clone {
            node,
            vmid,
            newid,
            name,
            full,
        } => {
            let mut params = CloneParams::new(*newid);
            if let Some(name) = name {
                params = params.name(name);
            }
            if *full {
                params = params.full(true);
            }
            let upid = client
                .node(node)
                .qemu(*vmid)
                .clone_vm(&params)
                .await
                .with_context(|| format!("cloning VM {vmid} on {node} to {newid}"))?;
            finish_task(&client, &upid, json).await?;
        }
        Command::Start { node, vmid } => {
            let upid = client.node(node).qemu(*vmid).start().await?;
            finish_task(&client, &upid, json).await?;
        }
        Command::Stop { node, vmid } => {
            let upid = client.node(node).qemu(*vmid).stop().await?;
            finish_task(&client, &upid, json).await?;
        }
        Command::Shutdown { node, vmid } => {
            let upid = client
                .node(node)
                .qemu(*vmid)
                .shutdown(&ShutdownParams::default())
                .await?;
            finish_task(&client, &upid, json).await?;
        }
        Command::Ip { node, vmid } => {
            let ifaces = client
                .node(node)
                .qemu(*vmid)
                .agent_network_interfaces()
                .await
                .with_context(|| format!("asking the guest agent of VM {vmid} for addresses"))?;
            if json {
                return print_json(&ifaces);
            }
            let mut rows = Vec::new();
            for i in &ifaces {
                for a in &i.ip_addresses {
                    rows.push(vec![
                        i.name.clone(),
                        opt(i.hardware_address.clone()),
                        a.ip_address_type.clone(),
                        match a.prefix {
                            Some(p) => format!("{}/{p}", a.ip_address),
                            None => a.ip_address.clone(),
                        },
                    ]);
                }
            }
            table(&["INTERFACE", "MAC", "TYPE", "ADDRESS"], rows);
        }
        Command::Isos { node } => {
            let isos = client
                .node(node)
                .isos()
                .await
                .with_context(|| format!("listing ISO images on {node}"))?;
            if json {
                return print_json(&isos);
            }
            let rows = isos
                .iter()
                .map(|i| vec![i.volid.clone(), opt(i.size.map(bytes))])
                .collect();
            table(&["VOLUME", "SIZE"], rows);
        }
        Command::Nextid => {
            let id = client
                .cluster()
                .next_id()
                .await
                .context("asking for nextid")?;
            if json {
                return print_json(&serde_json::json!({ "vmid": id }));
            }
            println!("{id}");
        }
    }
    Ok(())
}

async fn finish_task(client: &Client, upid: &Upid, json: bool) -> Result<()> {
    if !json {
        println!("task {upid}");
    }
    let status = client.wait_for_task(upid).await?;
    let exit = status.exitstatus.unwrap_or_else(|| "OK".into());
    if json {
        print_json(&serde_json::json!({ "upid": upid, "exitstatus": exit }))
    } else {
        println!("exit status: {exit}");
        Ok(())
    }
}

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".into())
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn mem_pair(used: Option<u64>, max: Option<u64>) -> String {
    match (used, max) {
        (Some(u), Some(m)) => format!("{} / {}", bytes(u), bytes(m)),
        (None, Some(m)) => bytes(m),
        (Some(u), None) => bytes(u),
        (None, None) => "-".into(),
    }
}

fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else {
        format!("{m}m {}s", secs % 60)
    }
}
