//! Stopping on a signal: SIGTERM (systemd, a container runtime) or Ctrl-C cancels one root
//! `CancellationToken`; everything that runs long watches a child of it and stops at its next
//! safe point (a command in hand finishes, a message in hand is acknowledged), so the process
//! ends with status 0. A second signal ends the process at once, for work that does not stop.

use std::io;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Waits for SIGTERM or SIGINT (Ctrl-C) and returns its name.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn signal() -> io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}

/// Cancels `root` at the first signal; at a second one, ends the process with status 130.
/// Must be called inside the runtime. Only for the binary's long-running subcommands: a
/// subcommand that never looks at `root` would ignore the first Ctrl-C.
pub fn cancel_on_signal(root: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        match signal().await {
            Ok(name) => {
                tracing::info!("{name}: stopping once running work reaches a safe point");
                root.cancel();
            }
            Err(e) => {
                tracing::warn!("signals cannot be caught ({e}); stop pvelab by ending it");
                return;
            }
        }
        if let Ok(name) = signal().await {
            eprintln!("{name} again: stopping now");
            std::process::exit(130);
        }
    })
}
