//! Running one command for Discord, the same way for a slash command and a button press:
//! refusals that need no core first, then a deferral for anything that may call Proxmox, the
//! command through the [`Dispatcher`](crate::commands::Dispatcher) on a task of its own (so a
//! panic becomes "something went wrong (ref …)"), progress edits while it runs, and the
//! answer laid out within Discord's limits.

use std::sync::Arc;

use super::bot::DiscordBot;
use super::caller::{Caller, Refusal};
use super::message::Message;
use super::progress::progress_editor;
use super::respond::{Outgoing, Responder};
use crate::commands::catalogue::CommandSpec;
use crate::commands::{CommandContext, CommandError, Invocation, Reply};
use crate::render::errors::{error_reply, unexpected};
use crate::render::sanitize::sanitize_reply;

/// One command to run.
pub(super) struct Run {
    /// What it is.
    pub spec: &'static CommandSpec,
    /// Its options, or why they could not be read.
    pub call: Result<Invocation, CommandError>,
    /// Who runs it, or why they may not run anything here.
    pub caller: Result<Caller, Refusal>,
    /// A button press: the answer goes to the presser alone.
    pub pressed: bool,
}

impl DiscordBot {
    /// Runs `run` and answers through `responder`. Never fails: whatever goes wrong becomes
    /// an answer, or a log line when Discord itself cannot be reached.
    pub(super) async fn execute(
        &self,
        responder: &Responder,
        run: Run,
        role_name: impl Fn(u64) -> Option<String>,
    ) {
        let Run {
            spec,
            call,
            caller,
            pressed,
        } = run;
        let caller = match caller.and_then(|c| c.may_run(spec, role_name).map(|()| c)) {
            Ok(caller) => caller,
            Err(refusal) => return self.answer(responder, *refusal, false, true).await,
        };
        let call = match call {
            Ok(call) => call,
            Err(e) => return self.answer(responder, error_reply(&e), false, true).await,
        };
        // A command above the caller's role will most likely be refused, and a refusal is
        // personal: defer it privately (the core still decides).
        let private = spec.personal || pressed || caller.invoker.role < spec.role;
        let deferred = spec.may_call_proxmox;
        let mut ctx = CommandContext::new(self.lab().clone(), caller.invoker, caller.scope);
        let mut progress = None;
        if deferred {
            if let Err(e) = responder.defer(private).await {
                tracing::warn!(command = %spec.usage_name(), "could not defer a command: {e}");
                return;
            }
            let (sink, task) = progress_editor(responder.clone(), self.progress_every());
            ctx = ctx.with_progress(sink);
            progress = Some(task);
        }
        let dispatcher = self.dispatcher().clone();
        // The context (and with it the progress sink) lives only in this task, so the
        // progress editor ends when the command does, even by a panic.
        let outcome = tokio::spawn(async move { dispatcher.run(&ctx, &call).await }).await;
        let reply = match outcome {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => error_reply(&e),
            Err(e) => unexpected(&format!("{} stopped: {e}", spec.usage_name())),
        };
        if let Some(task) = progress {
            // A late progress edit must not overwrite the answer.
            let _ = task.await;
        }
        self.answer(responder, reply, deferred, private).await;
    }

    /// Sends `reply`: as the first response, or after a deferral as the edit of the original
    /// response. A private answer after a public deferral (an error) goes as a private
    /// follow-up, and the public "thinking…" is removed.
    pub(super) async fn answer(
        &self,
        responder: &Responder,
        reply: Reply,
        deferred: bool,
        private: bool,
    ) {
        let mut reply = sanitize_reply(reply);
        reply.ephemeral |= private;
        let message = Arc::new(Message::of(&reply));
        let pages =
            (message.pages.len() > 1).then(|| self.stash().keep_pages(Arc::clone(&message)));
        let out = Outgoing::page(self.stash(), &message, 0, pages, true);
        let sent = if !deferred {
            responder.respond(out).await
        } else if out.is_ephemeral() && !private {
            match responder.followup(out).await {
                Ok(()) => responder.delete_original().await,
                Err(e) => Err(e),
            }
        } else {
            responder.edit(out).await
        };
        if let Err(e) = sent {
            tracing::warn!("could not deliver an answer on Discord: {e}");
        }
    }
}
