//! What each subcommand of `pvelab` does, as library functions over explicit inputs (the
//! configuration path, an environment snapshot, input and output streams), so tests run the
//! same code as the binary. `main.rs` only parses, sets up logs and calls these.
//!
//! Layout: this file: errors, opening the lab, `check-config`, `migrate`; [`background`]: the
//! lab's jobs, reconciler and due submissions, as each front end starts them; `register`:
//! `register-commands`; [`run`](mod@run): `pvelab run` and the [`Service`] front ends plug into;
//! [`shutdown`]: stopping on SIGTERM / Ctrl-C; [`clusters`]: the configured clusters into the
//! database; `console`: the console over a configured lab; `sim`: the simulated lab of `demo`
//! and `console --sim`.

pub mod background;
pub mod clusters;
mod console;
mod register;
pub mod run;
pub mod shutdown;
mod sim;

use std::io::{self, Write};
use std::path::Path;

use pvelab_core::{Lab, LabConfig};

pub use console::console;
pub use register::{register_commands, RegisterTarget};
pub use run::{run, Service};
pub use sim::{demo, register_simulator, sim_console, SimLab, DEMO_GUIDE, SIM_CLUSTER};

use crate::config::{self, ConfigError, EnvVars, Settings};

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The configuration has problems (all listed).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The core failed (opening or migrating the database, registering a cluster).
    #[error(transparent)]
    Core(#[from] pvelab_core::Error),
    /// The simulated cluster could not start.
    #[error("the simulated cluster could not start: {0}")]
    Sim(#[from] pvelab_pve_sim::Error),
    /// Reading input or writing output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Discord refused or could not be reached.
    #[error(transparent)]
    Discord(#[from] crate::discord::DiscordError),
}

/// Opens the configured lab: the database (created and migrated as needed) with the sealing
/// key when there is one.
///
/// # Errors
/// [`AppError::Core`] when the database cannot be opened or is newer than this pvelab.
pub async fn open_lab(settings: &Settings) -> Result<Lab, AppError> {
    let mut config = LabConfig::file(&settings.database);
    if let Some(key) = &settings.sealing_key {
        config = config.with_sealing_key(key.clone());
    }
    Ok(Lab::open(config).await?)
}

/// `pvelab check-config`: prints "configuration OK" and a summary, or every problem.
/// Returns whether the configuration is fine.
///
/// # Errors
/// Only when writing to `out` fails.
pub fn check_config(path: &Path, env: &EnvVars, out: &mut impl Write) -> io::Result<bool> {
    match config::load(path, env) {
        Ok(settings) => {
            writeln!(out, "configuration OK")?;
            for line in settings.summary().lines() {
                writeln!(out, "  {line}")?;
            }
            Ok(true)
        }
        Err(e) => {
            writeln!(out, "{e}")?;
            Ok(false)
        }
    }
}

/// `pvelab migrate`: opens the database, which applies pending migrations, and reports the
/// schema version.
///
/// # Errors
/// [`AppError::Config`] for configuration problems; [`AppError::Core`] when the database
/// cannot be opened or migrated.
pub async fn migrate(path: &Path, env: &EnvVars, out: &mut impl Write) -> Result<(), AppError> {
    let settings = config::load(path, env)?;
    let lab = open_lab(&settings).await?;
    let version = lab.schema_version().await?;
    writeln!(
        out,
        "database {}: schema version {version} (this pvelab writes version {})",
        settings.database.display(),
        Lab::supported_schema_version()
    )?;
    Ok(())
}
