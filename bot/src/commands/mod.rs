//! The front-end-neutral command layer.
//!
//! A command is a plain async function over its parsed arguments and a [`CommandContext`]
//! (the lab, the acting user, the front end's scope, a progress sink) that returns a [`Reply`].
//! The console and the Discord bot are adapters: each reads its input into an [`Invocation`]
//! (checked against the [`catalogue`]), runs it through the [`Dispatcher`] (per-user rate
//! limits, then [`dispatch`], then the command counted in the metrics), and delivers the reply
//! its own way. So the console runs exactly the code Discord runs.
//!
//! Command functions, one file per family: [`student`] join, myvm, leave; [`vm`] a student's
//! own VM (`/vm start|stop|restart|revert|reimage|rdp|ip`); [`class`] and [`class_people`] the
//! teachers' class commands, [`import`] `/class import`; [`pool`] the pool (status, resize,
//! assign ...); [`templates`] `/template list|publish` and the template `/class create` names;
//! [`admin`] settings, roles and the cluster list; [`clusters`] `/cluster test|set`; [`sync`]
//! `/sync now` and `/iso list`; [`checks`] in-VM checks (`/check`, `/vm check`);
//! [`submissions`] submissions and deadlines (`/vm submit`, `/class submissions`,
//! `/class deadline`, `/pool rollback`); [`sessions`] lab sessions (`/class session
//! add|list|remove`); [`audit`] the audit trail (`/audit`). `operations` follows the core's pool operations
//! (progress while they run, their summary once they end).
//!
//! Layout of the machinery: [`catalogue`] every command and option (the table itself is in
//! `list.rs`); [`invocation`] a command with checked
//! option names; [`context`] who runs it and where; [`reply`] the answer; [`progress`] updates
//! of long work; [`dispatch`] from invocation to command function; [`dispatcher`] what every
//! front end calls around it; [`limits`] the per-user rate limits; `error` why there is no
//! answer.

pub mod admin;
pub mod audit;
pub mod capacity;
pub mod catalogue;
pub mod checks;
pub mod class;
pub mod class_people;
pub mod clusters;
pub mod context;
mod dispatch;
pub mod dispatcher;
mod error;
pub mod import;
pub mod invocation;
pub mod limits;
mod list;
mod operations;
pub mod pool;
pub mod progress;
pub mod reply;
pub mod reports;
pub mod sessions;
pub mod student;
pub mod submissions;
pub mod sync;
pub mod templates;
pub mod vm;

pub use catalogue::{CommandId, CommandSpec};
pub use context::{CommandContext, Invoker};
pub use dispatch::dispatch;
pub use dispatcher::{Dispatcher, Outcome};
pub use error::CommandError;
pub use invocation::Invocation;
pub use limits::{CommandQuota, RateLimits};
pub use progress::{Progress, ProgressSink};
pub use reply::{Button, ButtonStyle, Reply};
