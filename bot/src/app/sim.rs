//! The simulated lab of `pvelab demo` and `pvelab console --sim`: a simulated Proxmox cluster
//! started in this process, and a database and sealing key in a temporary folder, all gone
//! when the run ends. The simulated cluster is registered and its templates recorded before the
//! first line, so `/class create template:debian-13-tmpl` clones real (simulated) VMs. The demo
//! also runs the lab's background work while a person types; `console --sim` does not, so a
//! script's output follows from the script alone.

use std::io::{BufRead, Write};

use pvelab_core::jobs::{JobKind, RunOutcome, SyncWhat};
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::types::{ApiTokenId, ClusterId, ClusterTrust, Fingerprint, Host};
use pvelab_core::{Lab, LabConfig, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use secrecy::{ExposeSecret, SecretString};

use super::background::{Background, BackgroundIntervals};
use super::clusters::operator;
use super::AppError;
use crate::console::{run_session, SessionOptions, SessionSummary};

/// What `pvelab demo` prints before the console opens.
pub const DEMO_GUIDE: &str = "\
pvelab demo: a simulated Proxmox cluster and a throw-away lab, nothing to install.
Type commands as any user, one per line: USER[:ROLE] /command [subcommand] [option:value ...]
ROLE is user (default), teacher or adminer. Try:

  tom:teacher /template list
  tom:teacher /class create name:net101 template:debian-13-tmpl pool:2
  tom:teacher /class token class:net101 expires:7d
  alice /join token:TOKEN          (paste the token printed by the line above)
  bob /join token:TOKEN
  carol /join token:TOKEN          (the pool is full: carol waits)
  tom:teacher /pool resize class:net101 size:3
  alice /vm start class:net101
  alice /myvm
  tom:teacher /pool status class:net101
  ada:adminer /cluster list

help lists every command; help /class create shows one command's options.
End with Ctrl-D; everything is thrown away.
";

/// A simulated cluster and a lab in a temporary folder.
pub struct SimLab {
    /// The running simulator.
    pub sim: SimHandle,
    /// The lab, over a database in `dir`.
    pub lab: Lab,
    /// Holds the database and key file; removed when dropped.
    pub dir: tempfile::TempDir,
}

impl std::fmt::Debug for SimLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimLab")
            .field("sim", &self.sim.base_url())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl SimLab {
    /// Starts the simulator (work 10 times faster than a real node) and opens a lab in a new
    /// temporary folder with a fresh sealing key written to `key` there.
    ///
    /// # Errors
    /// [`AppError::Sim`] when the simulator cannot start; [`AppError::Io`] when the folder
    /// cannot be made; [`AppError::Core`] when the lab cannot be opened.
    pub async fn start() -> Result<Self, AppError> {
        let sim = Sim::start(SimConfig {
            time_scale: 0.1,
            ..SimConfig::default()
        })
        .await?;
        let dir = tempfile::Builder::new().prefix("pvelab-demo-").tempdir()?;
        let key = SealingKey::generate();
        std::fs::write(dir.path().join("key"), key.to_hex().expose_secret())?;
        let lab =
            Lab::open(LabConfig::file(dir.path().join("pvelab.db")).with_sealing_key(key)).await?;
        register_simulator(&lab, &sim).await?;
        Ok(Self { sim, lab, dir })
    }

    /// Stops the simulator; the folder goes when `self` is dropped.
    pub async fn stop(self) {
        self.sim.shutdown().await;
    }
}

/// The id of the simulated cluster in the lab.
pub const SIM_CLUSTER: &str = "sim";

/// Registers the simulator as the lab's default cluster, with its API token sealed.
///
/// Its TLS certificate is made fresh at each start; its fingerprint is pinned, as an operator
/// would pin a real node's.
async fn register(lab: &Lab, sim: &SimHandle) -> Result<(), AppError> {
    let token = sim.api_token();
    let (id, secret) = token.split_once('=').unwrap_or((token.as_str(), ""));
    let credential = ClusterCredential::ApiToken {
        id: ApiTokenId::parse(id).map_err(pvelab_core::Error::from)?,
        secret: SecretString::from(secret.to_owned()),
    };
    let cluster_id = ClusterId::parse(SIM_CLUSTER).map_err(pvelab_core::Error::from)?;
    let host = Host::parse(&sim.addr().ip().to_string()).map_err(pvelab_core::Error::from)?;
    let pin = Fingerprint::parse(&sim.fingerprint()).map_err(pvelab_core::Error::from)?;
    let mut new = NewCluster::new(cluster_id, host, credential)
        .trust(ClusterTrust::Fingerprint(pin))
        .port(sim.addr().port());
    new.name = "simulated cluster".to_owned();
    new.is_default = true;
    new.description = Some("pvelab-pve-sim, started in this process".to_owned());
    lab.add_cluster(&operator(lab).await?, new).await?;
    Ok(())
}

/// Registers the simulator `sim` as `lab`'s default cluster [`SIM_CLUSTER`] and records its
/// templates, so a class can be created from one at once (what `demo` and `console --sim` do
/// before the first line; tests of other front ends use it on their own lab).
///
/// # Errors
/// [`AppError::Core`] when the cluster cannot be added or the template sync fails.
pub async fn register_simulator(lab: &Lab, sim: &SimHandle) -> Result<(), AppError> {
    register(lab, sim).await?;
    record_templates(lab).await
}

/// Runs the template sync once, so the simulator's templates can be named at once.
///
/// # Errors
/// [`AppError::Core`] when the sync could not run or failed.
async fn record_templates(lab: &Lab) -> Result<(), AppError> {
    let report = lab
        .sync_now(
            &operator(lab).await?,
            SyncWhat::Job(JobKind::Templates),
            None,
        )
        .await?;
    for run in report.runs {
        if let RunOutcome::Failed(e) = run.outcome {
            return Err(AppError::Core(e));
        }
    }
    Ok(())
}

/// `pvelab console --sim`: a console over a fresh simulated lab.
///
/// # Errors
/// As [`SimLab::start`], and [`AppError::Io`] when reading or writing fails.
pub async fn sim_console<R, W>(
    input: R,
    out: &mut W,
    options: &SessionOptions,
) -> Result<SessionSummary, AppError>
where
    R: BufRead + Send + 'static,
    W: Write,
{
    let lab = SimLab::start().await?;
    let summary = run_session(&lab.lab, input, out, options).await;
    lab.stop().await;
    Ok(summary?)
}

/// `pvelab demo`: the simulated lab, a short guide, then the console.
///
/// # Errors
/// As [`sim_console`].
pub async fn demo<R, W>(
    input: R,
    out: &mut W,
    options: &SessionOptions,
) -> Result<SessionSummary, AppError>
where
    R: BufRead + Send + 'static,
    W: Write,
{
    let lab = SimLab::start().await?;
    let background = Background::start(
        &lab.lab,
        options.shutdown.child_token(),
        BackgroundIntervals::default(),
    );
    writeln!(out, "{DEMO_GUIDE}")?;
    writeln!(
        out,
        "(simulated cluster at {}; lab in {})\n",
        lab.sim.base_url(),
        lab.dir.path().display()
    )?;
    let summary = run_session(&lab.lab, input, out, options).await;
    background.stop().await;
    lab.stop().await;
    Ok(summary?)
}
