//! What a command runs with: the lab, who is acting, where, and where progress goes.

use std::sync::Arc;

use pvelab_core::types::Role;
use pvelab_core::Lab;

use super::progress::{NoProgress, ProgressSink};
use crate::parse::people::{console_user, discord_user, UserRef};
use crate::parse::OptionError;

/// The person running a command, as the front end identified them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoker {
    /// Who they are (their external id follows from it).
    pub who: UserRef,
    /// A name to store and show (Discord's display name; the console name).
    pub display_name: String,
    /// The role the front end grants them (from Discord server roles, or the console line).
    /// The core checks every operation against it.
    pub role: Role,
}

/// The context of one command run.
#[derive(Clone)]
pub struct CommandContext {
    /// The lab everything goes through.
    pub lab: Lab,
    /// Who is acting.
    pub invoker: Invoker,
    /// The front end's scope the command runs in (a Discord server); classes created here
    /// belong to it. `None` in the console, which sees everything its role allows.
    pub scope: Option<String>,
    /// Where progress of long work goes.
    pub progress: Arc<dyn ProgressSink>,
}

impl std::fmt::Debug for CommandContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandContext")
            .field("invoker", &self.invoker)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl CommandContext {
    /// A context that drops progress updates.
    pub fn new(lab: Lab, invoker: Invoker, scope: Option<String>) -> Self {
        Self {
            lab,
            invoker,
            scope,
            progress: Arc::new(NoProgress),
        }
    }

    /// The same context reporting progress to `sink`.
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = sink;
        self
    }

    /// Reads a `user` option the way the invoker's front end writes people: a mention or id
    /// on Discord, a console user name in the console.
    ///
    /// # Errors
    /// [`OptionError`] naming `option` and the accepted form.
    pub fn parse_user(&self, option: &str, text: &str) -> Result<UserRef, OptionError> {
        match self.invoker.who {
            UserRef::Discord(_) => discord_user(option, text),
            UserRef::Console(_) => console_user(option, text),
        }
    }
}
