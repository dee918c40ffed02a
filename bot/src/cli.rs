//! The `pvelab` command line (clap derive). Parsing only: `main.rs` hands the parsed command
//! to the functions of [`crate::app`].

use std::path::PathBuf;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};

/// Proxmox VE classroom labs: students get VMs from Discord, teachers manage classes.
///
/// Start with `pvelab demo`: it needs no Discord and no Proxmox.
#[derive(Debug, Parser)]
#[command(name = "pvelab", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Which logs to show, as a filter like RUST_LOG: a level (warn, info, debug) or
    /// per-module levels (info,pvelab_core=debug). Default: info for run and migrate, warn
    /// otherwise.
    #[arg(long, global = true, env = "PVELAB_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// How logs are written (to standard error): lines for people, or JSON for a log
    /// collector.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

/// The two log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per event.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Discord bot.
    ///
    /// Opens the configured database, registers the configured clusters and serves the
    /// configured Discord servers until stopped (SIGTERM or Ctrl-C).
    Run {
        /// The configuration file (see pvelab.example.toml).
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
    /// Try pvelab in one command, without Discord or Proxmox.
    ///
    /// Starts a simulated Proxmox cluster and a throw-away lab, prints a short guide, and opens
    /// the console. Everything is gone when the console ends.
    Demo,
    /// Type bot commands in the terminal, as any user.
    ///
    /// Reads one command per line from standard input, `USER[:ROLE] /command [subcommand]
    /// [option:value ...]` (for example `alice /myvm` or `tom:teacher /class list`), so a
    /// script of commands works too. Runs the same command code as the Discord bot.
    #[command(group(ArgGroup::new("lab").required(true).args(["config", "sim"])))]
    Console {
        /// Use the configured database and clusters (state persists between runs).
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Use a simulated cluster and a lab in a temporary folder, gone after this run.
        #[arg(long)]
        sim: bool,
    },
    /// Create the database or upgrade its schema, then exit.
    Migrate {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
    /// Register the bot's slash commands with Discord.
    ///
    /// In every configured server by default (they appear at once), in one server with
    /// --guild, or globally with --global (they appear within an hour).
    #[command(group(ArgGroup::new("where").args(["guild", "global"])))]
    RegisterCommands {
        /// Only in this server (guild) id.
        #[arg(long, value_name = "ID")]
        guild: Option<String>,
        /// For every server the bot is in.
        #[arg(long)]
        global: bool,
        /// The configuration file.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
    /// Check the configuration file and show what it sets up.
    ///
    /// Prints "configuration OK" and a summary, or every problem with its key, and exits
    /// with status 1.
    CheckConfig {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
}

impl Command {
    /// The log filter used when none is given: `info` for the long-running service and
    /// migrations, `warn` for interactive commands whose output is the point.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Command::Run { .. } | Command::Migrate { .. } => "info",
            _ => "warn",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("pvelab").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_a_one_line_description() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(!about.is_empty(), "{} has no description", sub.get_name());
        }
    }

    #[test]
    fn the_console_needs_a_configuration_or_the_simulator_but_not_both() {
        assert!(parse(&["console"]).is_err());
        assert!(parse(&["console", "--sim", "--config", "x.toml"]).is_err());
        assert!(matches!(
            parse(&["console", "--sim"]).unwrap().command,
            Command::Console {
                sim: true,
                config: None
            }
        ));
    }

    #[test]
    fn register_commands_takes_a_guild_or_global_but_not_both() {
        assert!(parse(&["register-commands", "-c", "x", "--guild", "1", "--global"]).is_err());
        let cli = parse(&["register-commands", "--config", "x", "--guild", "123"]).unwrap();
        assert!(
            matches!(cli.command, Command::RegisterCommands { guild: Some(ref g), global: false, .. } if g == "123")
        );
    }

    #[test]
    fn log_options_are_accepted_after_the_subcommand() {
        let cli = parse(&[
            "check-config",
            "-c",
            "x",
            "--log",
            "debug",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.log.as_deref(), Some("debug"));
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(cli.command.default_log_filter(), "warn");
    }
}
