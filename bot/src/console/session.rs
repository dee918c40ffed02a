//! A console session: lines in, replies out, until the input ends.
//!
//! Each line is read by the grammar, looked up in the catalogue, checked against the command's
//! options, and run through the same [`Dispatcher`] as Discord; the reply is printed as plain
//! text. A bad line prints one error line naming the line, the problem and, for grammar
//! problems, the column; the session goes on. Long work prints its progress while it runs, and
//! the next line is read only when the command is done, so a script reads like a session.
//!
//! Direct messages show too: after each command, before the next line is read, the session
//! settles everything the outbox holds for its consumer ([`CONSOLE_DM`]) and prints each
//! message for a console user as `[dm to NAME] …` lines. So a waitlisted student's "your VM is
//! ready" appears right after the command that caused it, with no timing involved. (Messages
//! written by background work appear after the next command.)
//!
//! The session ends at the end of the input, or when its shutdown token is cancelled (Ctrl-C,
//! SIGTERM): a command in progress finishes first.

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use pvelab_core::events::ConsumerName;
use pvelab_core::Lab;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::grammar::{parse_line, ConsoleLine};
use crate::commands::catalogue::find;
use crate::commands::progress::ChannelProgress;
use crate::commands::{CommandContext, Dispatcher, Invocation, Invoker};
use crate::notify::{ClassFeed, ConsoleNotifier, Courier, CONSOLE_DM};
use crate::parse::people::UserRef;
use crate::render::errors::{error_reply, unexpected};
use crate::render::sanitize::sanitize;
use crate::render::text::plain;

/// How a session behaves.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Print each command line before its reply (`> alice /myvm`), so the output of a script
    /// reads on its own. Off for people typing at a terminal, who see their own typing.
    pub echo: bool,
    /// Print a prompt (`pvelab> `) whenever the session waits for a line: for people at a
    /// terminal.
    pub prompt: bool,
    /// Ends the session when cancelled (the binary cancels it on Ctrl-C or SIGTERM): a
    /// command in progress finishes, then no more lines are read. Never cancelled by default.
    pub shutdown: CancellationToken,
}

/// What a prompting session prints while it waits for a line.
pub const PROMPT: &str = "pvelab> ";

/// What a session did, for callers and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionSummary {
    /// Lines read, blank and comment lines included.
    pub lines: usize,
    /// Commands run (whatever they answered).
    pub commands: usize,
    /// Lines refused before running (grammar, unknown command or option).
    pub refused: usize,
}

/// Runs every line of `input` against `lab`, printing to `out`, until the input ends.
///
/// The input is read on a blocking thread, so a terminal waiting for a person never blocks
/// the runtime; `input` must therefore own its data (`std::io::stdin().lock()` or a
/// `Cursor<Vec<u8>>`).
///
/// # Errors
/// Only when writing to `out` or reading `input` fails; whatever commands answer, the session
/// itself succeeds.
pub async fn run_session<R, W>(
    lab: &Lab,
    input: R,
    out: &mut W,
    options: &SessionOptions,
) -> io::Result<SessionSummary>
where
    R: BufRead + Send + 'static,
    W: Write,
{
    let (tx, mut rx) = mpsc::channel::<io::Result<String>>(16);
    let reader = tokio::task::spawn_blocking(move || {
        for line in input.lines() {
            let failed = line.is_err();
            if tx.blocking_send(line).is_err() || failed {
                break;
            }
        }
    });
    let dispatcher = Dispatcher::unlimited();
    let consumer = ConsumerName::parse(CONSOLE_DM).expect("a valid consumer name");
    let dms = Courier::new(lab.clone(), consumer, ConsoleNotifier::default());
    let feed = ClassFeed::new(lab.clone(), "console").expect("valid consumer names");
    // The audit trail from before the session is `/audit`'s business; new entries are printed.
    if let Err(e) = feed.skip_audit_backlog().await {
        tracing::warn!("the audit trail could not be read: {e}");
    }
    // Messages from before the session (another run, background work) come first.
    print_dms(&dms, out).await?;
    print_feed(&feed, out).await?;
    let mut summary = SessionSummary::default();
    let mut stopped = false;
    loop {
        if options.shutdown.is_cancelled() {
            stopped = true;
            break;
        }
        if options.prompt {
            write!(out, "{PROMPT}")?;
            out.flush()?;
        }
        let line = tokio::select! {
            biased;
            () = options.shutdown.cancelled() => {
                stopped = true;
                break;
            }
            line = rx.recv() => line,
        };
        let Some(line) = line else {
            break;
        };
        let line = line?;
        summary.lines += 1;
        let commands = summary.commands;
        run_line(
            &dispatcher,
            lab,
            &line,
            summary.lines,
            out,
            options,
            &mut summary,
        )
        .await?;
        if summary.commands > commands {
            print_dms(&dms, out).await?;
            print_feed(&feed, out).await?;
        }
        out.flush()?;
    }
    if options.prompt {
        // End the prompt's line, so the shell's own prompt starts on a fresh one.
        writeln!(out)?;
    }
    if stopped {
        // The reader may be blocked on a terminal nobody types at; it ends with the process.
        drop(rx);
    } else {
        // The reader ended with the input; a panic there would be a bug worth surfacing.
        reader.await.map_err(io::Error::other)?;
    }
    Ok(summary)
}

/// Settles the console's pending direct messages and prints those for console users.
async fn print_dms<W: Write>(dms: &Courier<ConsoleNotifier>, out: &mut W) -> io::Result<()> {
    if let Err(e) = dms.drain().await {
        // The console notifier never fails: this is the lab. Commands go on regardless.
        tracing::warn!("direct messages could not be read: {e}");
    }
    for line in dms.notifier().take_lines() {
        writeln!(out, "{}", for_terminal(&line))?;
    }
    Ok(())
}

/// Prints what classes hear (session announcements) and the audit trail's new entries, as
/// `[class …]` and `[audit] …` lines.
async fn print_feed<W: Write>(feed: &ClassFeed, out: &mut W) -> io::Result<()> {
    match feed.drain().await {
        Ok(items) => {
            for item in items {
                writeln!(out, "{}", for_terminal(&item.console_line()))?;
            }
        }
        Err(e) => tracing::warn!("class announcements could not be read: {e}"),
    }
    Ok(())
}

async fn run_line<W: Write>(
    dispatcher: &Dispatcher,
    lab: &Lab,
    text: &str,
    number: usize,
    out: &mut W,
    options: &SessionOptions,
    summary: &mut SessionSummary,
) -> io::Result<()> {
    if super::help::is_help(text) {
        if options.echo {
            writeln!(out, "> {}", text.trim())?;
        }
        return writeln!(out, "{}", super::help::help(text));
    }
    let line = match parse_line(text) {
        Ok(None) => return Ok(()),
        Ok(Some(line)) => line,
        Err(e) => {
            if options.echo {
                writeln!(out, "> {}", text.trim())?;
            }
            summary.refused += 1;
            return writeln!(out, "line {number}, {}", for_terminal(&e.to_string()));
        }
    };
    if options.echo {
        writeln!(out, "> {}", text.trim())?;
    }
    let call = match find(&line.command, &line.path)
        .and_then(|spec| Invocation::new(spec, line.options.clone()))
    {
        Ok(call) => call,
        Err(e) => {
            summary.refused += 1;
            return writeln!(out, "line {number}: {}", for_terminal(&e.to_string()));
        }
    };
    summary.commands += 1;
    let text = run_command(dispatcher, lab, &line, call, out).await?;
    match text {
        Ok(reply) => writeln!(out, "{reply}"),
        Err(error) => {
            let mut lines = error.lines();
            writeln!(out, "line {number}: {}", lines.next().unwrap_or_default())?;
            for rest in lines {
                writeln!(out, "  {rest}")?;
            }
            Ok(())
        }
    }
}

/// Runs one command in its own task (so a panic in it cannot end the session), printing its
/// progress as it comes. `Ok(text)` is the reply, `Err(text)` a refusal or failure.
async fn run_command<W: Write>(
    dispatcher: &Dispatcher,
    lab: &Lab,
    line: &ConsoleLine,
    call: Invocation,
    out: &mut W,
) -> io::Result<Result<String, String>> {
    let (sink, mut progress) = ChannelProgress::new();
    let invoker = Invoker {
        who: UserRef::Console(line.user.clone()),
        display_name: line.user.to_string(),
        role: line.role,
    };
    let ctx = CommandContext::new(lab.clone(), invoker, None).with_progress(Arc::new(sink));
    let dispatcher = dispatcher.clone();
    let mut task = tokio::spawn(async move { dispatcher.run(&ctx, &call).await });
    let joined = loop {
        tokio::select! {
            biased;
            Some(update) = progress.recv() => writeln!(out, "  … {update}")?,
            joined = &mut task => break joined,
        }
    };
    while let Ok(update) = progress.try_recv() {
        writeln!(out, "  … {update}")?;
    }
    Ok(match joined {
        Ok(Ok(reply)) => Ok(for_terminal(&plain(&reply))),
        Ok(Err(error)) => Err(for_terminal(&plain(&error_reply(&error)))),
        Err(join_error) => Err(for_terminal(&plain(&unexpected(&join_error)))),
    })
}

/// A reply or error as the session prints it: mentions broken as on Discord (so text copied
/// from a terminal pings nobody either), and control characters other than line breaks
/// written as escapes (`\u{1b}`), so a value someone typed cannot drive the terminal.
fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in sanitize(text).chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
