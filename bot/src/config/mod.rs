//! The configuration: one TOML file plus environment overrides, read once at start into a typed
//! [`Settings`], with every problem reported at once under its key path.
//!
//! - The file: see `pvelab.example.toml` at the repository root for every key, annotated.
//!   Relative paths in it are read from the file's folder, so a service finds its files
//!   wherever it is started.
//! - Overrides: `PVELAB_<KEY>` with `__` between nested keys, e.g. `PVELAB_DATABASE`,
//!   `PVELAB_DISCORD__API_URL`, `PVELAB_HTTP__LISTEN`. They reach `database`,
//!   `sealing_key_file` and the `[discord]` and `[http]` tables (lists of tables such as
//!   `[[cluster]]` have no variable names). Values are taken as text.
//! - Secrets never sit in the file: the sealing key comes from `PVELAB_SEALING_KEY` or
//!   `sealing_key_file`, the Discord token from `PVELAB_DISCORD_TOKEN` or
//!   `discord.token_file`, a cluster's secret from `secret_file` or the variable named by
//!   `secret_env`. A variable wins over a file. Secrets are read straight into `secrecy`
//!   types; no message or `Debug` output shows them.
//!
//! Keys beyond the required set: `[[cluster]]` also takes `name`, `ca_file`, `insecure`,
//! `secret_env` and the data model's fields (`priority`, `is_default`, `is_active`,
//! `allow_vm_deployment`, `allow_template_sync`, `allow_iso_sync`, `auto_shutdown_enabled`,
//! `default_storage`, `template_storage`, `qcow2_template_path`, `qcow2_images_path`,
//! `admin_group`, `admin_users`, `arp_subnets`, `vm_cache_ttl`, `enable_ip_lookup`,
//! `enable_ip_persistence`, `description`). Unknown keys are problems, so typos surface.
//!
//! Layout: `env` the environment snapshot and overrides; `reader` key-by-key reading that
//! records problems; `validate` the top level, `[discord]` and `[http]`; `cluster` one
//! `[[cluster]]`; `secrets` secret files; [`settings`] the typed result; `problems` the error.

mod cluster;
mod env;
mod problems;
mod reader;
mod secrets;
pub mod settings;
mod validate;

use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::Dict;
use figment::Figment;

pub use env::EnvVars;
pub use problems::{ConfigError, Problem};
pub use settings::{
    ClusterAuth, ClusterSettings, DiscordSettings, GuildSettings, HttpSettings, Settings, TlsTrust,
};
pub use validate::{DISCORD_ORIGIN, DISCORD_TOKEN_VAR, SEALING_KEY_VAR};

/// Reads and checks the configuration file at `path` with the overrides and secrets of `env`.
///
/// # Errors
/// [`ConfigError`] listing every problem: a missing or unreadable file, TOML syntax, wrong
/// types, missing keys, broken rules, unknown keys, missing files, unset variables.
///
/// # Examples
/// ```
/// use pvelab_bot::config::{load, EnvVars};
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("pvelab.toml");
/// std::fs::write(&file, "database = \"lab.db\"\n")?;
/// let settings = load(&file, &EnvVars::default()).expect("valid");
/// assert_eq!(settings.database, dir.path().join("lab.db"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn load(path: &Path, env: &EnvVars) -> Result<Settings, ConfigError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(ConfigError {
            problems: vec![Problem {
                key: shown,
                message: "the configuration file does not exist (pvelab.example.toml is a \
                          starting point)"
                    .to_owned(),
            }],
        });
    }
    let base = path.parent().unwrap_or(Path::new("."));
    read(Toml::file_exact(path), &shown, base, env)
}

/// Reads and checks configuration `text` as if it were a file in the folder `base` (relative
/// paths in it are read from there), with the overrides and secrets of `env`. For checking
/// a configuration held in memory; the fuzz tests and their corpus replay call it.
///
/// # Errors
/// [`ConfigError`] listing every problem, as [`load`] does; TOML syntax errors are reported
/// under the key `configuration`.
///
/// # Examples
/// ```
/// use pvelab_bot::config::{parse_toml, EnvVars};
/// let dir = std::env::temp_dir();
/// let settings = parse_toml("database = \"lab.db\"", &dir, &EnvVars::default()).expect("valid");
/// assert_eq!(settings.database, dir.join("lab.db"));
/// assert!(parse_toml("database = ", &dir, &EnvVars::default()).is_err());
/// ```
pub fn parse_toml(text: &str, base: &Path, env: &EnvVars) -> Result<Settings, ConfigError> {
    read(Toml::string(text), "configuration", base, env)
}

/// Merges the TOML source with the environment's overrides and checks the result; `shown`
/// names the source in problems that have no key of their own (TOML syntax).
fn read(
    toml: figment::providers::Data<Toml>,
    shown: &str,
    base: &Path,
    env: &EnvVars,
) -> Result<Settings, ConfigError> {
    let root: Dict = Figment::new()
        .merge(toml)
        .merge(env::Overrides(env))
        .extract()
        .map_err(|e| ConfigError {
            problems: e
                .into_iter()
                .map(|e| Problem {
                    key: shown.to_owned(),
                    message: e.kind.to_string(),
                })
                .collect(),
        })?;
    validate::settings(&root, base, env)
}

/// `text` as a path, relative ones taken from `base`.
pub(crate) fn resolve(base: &Path, text: &str) -> PathBuf {
    let path = Path::new(text.trim());
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
