//! What a command runs with: the lab, who is acting, where, and where progress goes.

use std::sync::Arc;

use pvelab_core::model::{Class, User};
use pvelab_core::types::{ClassName, ExternalId, Role, Scope};
use pvelab_core::{Actor, Lab};

use super::progress::{NoProgress, ProgressSink};
use super::CommandError;
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
    pub scope: Option<Scope>,
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
    pub fn new(lab: Lab, invoker: Invoker, scope: Option<Scope>) -> Self {
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

impl CommandContext {
    /// The front-end scope classes live in: the Discord server's, or none in the console.
    pub fn scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// The acting user as the core knows them: created on first contact, their display name
    /// refreshed, acting with the higher of their stored role (set with `/role set`) and the
    /// role the front end grants (Discord server roles, the console's `:ROLE`). The core checks
    /// every operation against it.
    ///
    /// # Errors
    /// [`CommandError::Core`] when the user cannot be stored.
    pub async fn actor(&self) -> Result<Actor, CommandError> {
        let user = self
            .lab
            .ensure_user(
                &external_id(&self.invoker.who)?,
                Some(&self.invoker.display_name),
            )
            .await?;
        Ok(self
            .lab
            .actor_with_role(user.id, user.role.max(self.invoker.role)))
    }

    /// The person a `user` option names, known to the core from now on. Console names become
    /// their display name; Discord users keep theirs (the mention shows the current one).
    ///
    /// # Errors
    /// [`CommandError::Core`] when the user cannot be stored.
    pub async fn person(&self, who: &UserRef) -> Result<User, CommandError> {
        let name = match who {
            UserRef::Console(name) => Some(name.as_str()),
            UserRef::Discord(_) => None,
        };
        Ok(self.lab.ensure_user(&external_id(who)?, name).await?)
    }

    /// The person a `user` option names, who must be known already: for commands about
    /// someone's VM, usage or history, where a typo must not leave a new user behind.
    ///
    /// # Errors
    /// [`CommandError::Refused`] naming them when nobody by that name has used pvelab;
    /// [`CommandError::Core`] when the caller may not look people up.
    pub async fn known_person(&self, actor: &Actor, who: &UserRef) -> Result<User, CommandError> {
        match self
            .lab
            .user_by_external_id(actor, &external_id(who)?)
            .await
        {
            Err(pvelab_core::Error::NotFound { .. }) => Err(CommandError::refused(
                format!(
                    "{} has not used pvelab yet, so there is nothing of theirs here.",
                    who.display()
                ),
                "Check the name.",
            )),
            found => Ok(found?),
        }
    }

    /// The class called `name` in this front end's scope.
    ///
    /// # Errors
    /// [`CommandError::Core`] with [`pvelab_core::Error::NotFound`] when there is none.
    pub async fn class(&self, actor: &Actor, name: &ClassName) -> Result<Class, CommandError> {
        Ok(self.lab.class_by_name(actor, self.scope(), name).await?)
    }
}

/// The core's id of a person a front end names (`discord:<id>`, `console:<name>`).
fn external_id(who: &UserRef) -> Result<ExternalId, CommandError> {
    ExternalId::parse(&who.external_id())
        .map_err(|e| CommandError::Core(pvelab_core::Error::from(e)))
}
