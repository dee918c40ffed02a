//! The front-end-neutral command layer.
//!
//! A command is a plain async function over its parsed arguments and a [`CommandContext`]
//! (the lab, the acting user, the front end's scope, a progress sink) that returns a [`Reply`].
//! The console and the Discord bot are adapters: each reads its input into an [`Invocation`]
//! (checked against the [`catalogue`]), runs it through the [`Dispatcher`] (per-user rate
//! limits, then [`dispatch`], then the command counted in the metrics), and delivers the reply
//! its own way. So the console runs exactly the code Discord runs.
//!
//! Command functions, one file per family: [`student`] join, myvm, leave; [`class`] and
//! [`class_people`] the teachers' class commands; [`pool`] the pool; [`admin`] settings, roles
//! and clusters; [`checks`] in-VM checks (`/check`, `/vm check`); [`submissions`] submissions
//! and deadlines (`/vm submit`, `/class submissions`, `/class deadline`, `/pool rollback`).
//!
//! Layout of the machinery: [`catalogue`] every command and option (the table itself is in
//! `list.rs`); [`invocation`] a command with checked
//! option names; [`context`] who runs it and where; [`reply`] the answer; [`progress`] updates
//! of long work; [`dispatch`] from invocation to command function; [`dispatcher`] what every
//! front end calls around it; [`limits`] the per-user rate limits; `error` why there is no
//! answer.

pub mod admin;
pub mod capacity;
pub mod catalogue;
pub mod checks;
pub mod class;
pub mod class_people;
pub mod context;
mod dispatch;
pub mod dispatcher;
mod error;
pub mod invocation;
pub mod limits;
mod list;
pub mod pool;
pub mod progress;
pub mod reply;
pub mod reports;
pub mod student;
pub mod submissions;

pub use catalogue::{CommandId, CommandSpec};
pub use context::{CommandContext, Invoker};
pub use dispatch::dispatch;
pub use dispatcher::{Dispatcher, Outcome};
pub use error::CommandError;
pub use invocation::Invocation;
pub use limits::{CommandQuota, RateLimits};
pub use progress::{Progress, ProgressSink};
pub use reply::{Button, ButtonStyle, Reply};
