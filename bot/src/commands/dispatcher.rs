//! The dispatcher every front end runs commands through: the per-user rate limit first, then
//! [`dispatch`], then the command counted by name and outcome. One place, so the console,
//! Discord's slash commands and its button presses are limited and counted the same way.

use std::sync::Arc;

use pvelab_core::Error;

use super::limits::RateLimits;
use super::{dispatch, CommandContext, CommandError, Invocation, Reply};
use crate::http::metrics::Metrics;

/// How a command ended, as counted in `pvelab_commands_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It answered.
    Ok,
    /// The core or the command refused it (permissions, a wrong token, no free VM, outside
    /// hours, a template nobody recorded ...).
    Refused,
    /// Its options could not be read, or it named no command.
    Invalid,
    /// The person ran too many commands in a short time.
    RateLimited,
    /// Something broke that is nobody's fault in the request: storage, a cluster, the sealing
    /// key. Worth an alert.
    Failed,
}

impl Outcome {
    /// Of a command's result.
    pub fn of(result: &Result<Reply, CommandError>) -> Self {
        match result {
            Ok(_) => Outcome::Ok,
            Err(CommandError::Usage(_) | CommandError::Option(_)) => Outcome::Invalid,
            Err(CommandError::RateLimited { .. }) => Outcome::RateLimited,
            Err(CommandError::Refused { .. }) => Outcome::Refused,
            Err(CommandError::Core(e)) => match e {
                Error::RateLimited { .. } => Outcome::RateLimited,
                Error::Internal { .. }
                | Error::Cluster { .. }
                | Error::Sealing { .. }
                | Error::NoSealingKey
                | Error::SchemaTooNew { .. } => Outcome::Failed,
                _ => Outcome::Refused,
            },
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Invalid => "invalid",
            Outcome::RateLimited => "rate_limited",
            Outcome::Failed => "failed",
        }
    }
}

/// Runs commands for a front end: rate limit, command, count. Cheap to clone; clones share
/// limits and counts.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limits: RateLimits,
    metrics: Metrics,
}

impl Dispatcher {
    /// A dispatcher with these limits, counting into `metrics`.
    pub fn new(limits: RateLimits, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Inner { limits, metrics }),
        }
    }

    /// No limits and metrics nobody reads: the console.
    pub fn unlimited() -> Self {
        Self::new(RateLimits::off(), Metrics::new())
    }

    /// The metrics it counts into.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Runs `call` in `ctx` unless the invoker is over their limit, and counts it.
    ///
    /// # Errors
    /// [`CommandError::RateLimited`] with the wait when the invoker ran too many commands;
    /// otherwise whatever [`dispatch`] returns.
    pub async fn run(
        &self,
        ctx: &CommandContext,
        call: &Invocation,
    ) -> Result<Reply, CommandError> {
        let who = ctx.invoker.who.external_id();
        let result = match self.inner.limits.check(&who) {
            Ok(()) => dispatch(ctx, call).await,
            Err(retry_after) => {
                tracing::info!(user = %who, command = %call.spec.usage_name(), ?retry_after,
                    "command refused: rate limit");
                Err(CommandError::RateLimited { retry_after })
            }
        };
        self.inner
            .metrics
            .count_command(&call.spec.usage_name(), Outcome::of(&result).as_str());
        result
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::parse::OptionError;

    fn outcome(error: CommandError) -> &'static str {
        Outcome::of(&Err(error)).as_str()
    }

    #[test]
    fn outcomes_tell_refusals_from_failures() {
        assert_eq!(Outcome::of(&Ok(Reply::text("hi"))).as_str(), "ok");
        assert_eq!(outcome(Error::NoFreeVm.into()), "refused");
        assert_eq!(outcome(Error::TokenInvalid.into()), "refused");
        assert_eq!(
            outcome(
                Error::Internal {
                    reason: "disk".into()
                }
                .into()
            ),
            "failed"
        );
        assert_eq!(outcome(Error::NoSealingKey.into()), "failed");
        assert_eq!(
            outcome(OptionError::new("pool", "x", "a number").into()),
            "invalid"
        );
        assert_eq!(
            outcome(CommandError::refused("two classes", "name one")),
            "refused"
        );
        for limited in [
            CommandError::RateLimited {
                retry_after: Duration::from_secs(3),
            },
            Error::RateLimited {
                retry_after: Duration::from_secs(3),
            }
            .into(),
        ] {
            assert_eq!(outcome(limited), "rate_limited");
        }
    }
}
