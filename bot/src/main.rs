//! The `pvelab` binary: parses the command line, sets up logs, and calls the library's
//! functions in `pvelab_bot::app`, which tests call too.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use pvelab_bot::app;
use pvelab_bot::cli::{Cli, Command};
use pvelab_bot::config::EnvVars;
use pvelab_bot::console::SessionOptions;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli
        .log
        .clone()
        .unwrap_or_else(|| cli.command.default_log_filter().to_owned());
    if let Err(e) = pvelab_bot::logging::init(cli.log_format, &filter) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    // The environment is read here, once; the library only sees this snapshot.
    let env: EnvVars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // `Stdin` (not its lock) is `Send`: the session reads it on a blocking thread.
    let stdin = std::io::stdin();
    // People at a terminal see what they type; a script's output should show its commands.
    let interactive = stdin.is_terminal();
    // SIGTERM / Ctrl-C cancel this; the long-running subcommands stop at a safe point.
    let stop = CancellationToken::new();
    let options = SessionOptions {
        echo: !interactive,
        prompt: interactive,
        shutdown: stop.clone(),
    };
    let mut stdout = std::io::stdout();
    let long_running = matches!(
        command,
        Command::Run { .. } | Command::Console { .. } | Command::Demo
    );
    let result = runtime.block_on(async move {
        if long_running {
            pvelab_bot::app::shutdown::cancel_on_signal(stop.clone());
        }
        match command {
            Command::CheckConfig { config } => {
                let ok = app::check_config(&config, &env, &mut stdout)?;
                return Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            Command::Migrate { config } => app::migrate(&config, &env, &mut stdout).await?,
            Command::Run { config } => app::run(&config, &env, stop).await?,
            Command::RegisterCommands {
                config,
                guild,
                global,
            } => {
                let target = match (guild, global) {
                    (Some(id), _) => app::RegisterTarget::Guild(id),
                    (None, true) => app::RegisterTarget::Global,
                    (None, false) => app::RegisterTarget::ConfiguredGuilds,
                };
                app::register_commands(&config, &env, target, &mut stdout).await?;
            }
            Command::Console {
                config: Some(config),
                ..
            } => {
                app::console(
                    &config,
                    &env,
                    std::io::BufReader::new(stdin),
                    &mut stdout,
                    &options,
                )
                .await?;
            }
            Command::Console { config: None, .. } => {
                app::sim_console(std::io::BufReader::new(stdin), &mut stdout, &options).await?;
            }
            Command::Demo => {
                app::demo(std::io::BufReader::new(stdin), &mut stdout, &options).await?;
            }
        }
        Ok(ExitCode::SUCCESS)
    });
    // Everything that matters was awaited; a console reader still blocked on a terminal after
    // Ctrl-C must not hold the process.
    runtime.shutdown_background();
    result
}
