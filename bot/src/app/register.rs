//! `pvelab register-commands`: the catalogue's slash commands registered with Discord, in
//! every configured server (they appear at once), in one server, or globally (they appear
//! within an hour). Run it once after installing or upgrading pvelab; the bot does not
//! register on every start unless `[discord] register_on_start` says so.

use std::io::Write;
use std::path::Path;

use super::AppError;
use crate::config::{self, EnvVars, Problem};
use crate::discord::{register, Connection, Target};
use crate::parse::people::Snowflake;

/// Where `register-commands` registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterTarget {
    /// Every `[[discord.guild]]` of the configuration.
    ConfiguredGuilds,
    /// One server, by id.
    Guild(String),
    /// Globally.
    Global,
}

/// Registers the slash commands and reports each registration on `out`.
///
/// # Errors
/// Configuration problems (no `[discord]`, no server configured when none is named, a
/// `--guild` that is not an id); [`AppError::Discord`] when Discord refuses.
pub async fn register_commands(
    path: &Path,
    env: &EnvVars,
    target: RegisterTarget,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let settings = config::load(path, env)?;
    let problem = |key: &str, message: String| {
        AppError::Config(config::ConfigError {
            problems: vec![Problem {
                key: key.to_owned(),
                message,
            }],
        })
    };
    let Some(discord) = &settings.discord else {
        return Err(problem(
            "discord",
            "missing: registering commands needs the [discord] table with the bot token".into(),
        ));
    };
    let targets: Vec<Target> = match target {
        RegisterTarget::Global => vec![Target::Global],
        RegisterTarget::Guild(id) => {
            let id = Snowflake::parse(&id).ok_or_else(|| {
                problem(
                    "--guild",
                    format!("\"{id}\" is not a Discord server id (digits only)"),
                )
            })?;
            vec![Target::Guild(id.get())]
        }
        RegisterTarget::ConfiguredGuilds if discord.guilds.is_empty() => {
            return Err(problem(
                "discord.guild",
                "no server configured: add a [[discord.guild]], or use --guild ID or --global"
                    .into(),
            ))
        }
        RegisterTarget::ConfiguredGuilds => discord
            .guilds
            .iter()
            .map(|g| Target::Guild(g.id.get()))
            .collect(),
    };
    let http = Connection::new(discord).http();
    for target in targets {
        let names = register(&http, target).await?;
        let place = match target {
            Target::Guild(id) => format!("in server {id} (available at once)"),
            Target::Global => "globally (available within an hour)".to_owned(),
        };
        writeln!(
            out,
            "registered {} commands {place}: /{}",
            names.len(),
            names.join(", /")
        )?;
    }
    Ok(())
}
