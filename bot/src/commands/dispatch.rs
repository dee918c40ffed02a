//! From an [`Invocation`] to the command function that answers it: options are read into
//! typed arguments here, so every command function takes values that are already valid.

use super::catalogue::CommandId as C;
use super::vm::PowerAction;
use super::{admin, audit, capacity, checks, class, class_people, clusters, import, pool};
use super::{reports, sessions, student, submissions, sync, templates, vm};
use super::{CommandContext, CommandError, Invocation, Reply};
use crate::parse::durations::{expires, idle};
use crate::parse::names::{class as class_name, role, template, token};
use crate::parse::numbers::{choice, cores, flag, pool_size, quota, vmid};
use crate::parse::sizes::{disk, memory};
use crate::parse::time::{hours, timezone};
use crate::parse::{checks as check_options, names, OptionError};

/// Runs the command of `call` in `ctx`.
///
/// # Errors
/// [`CommandError`] for option values that cannot be read, refusals of the command layer, and
/// refusals and failures of the core.
pub async fn dispatch(ctx: &CommandContext, call: &Invocation) -> Result<Reply, CommandError> {
    let user = |name: &str| call.required(name, |o, t| ctx.parse_user(o, t));
    let text = |name: &str| -> Result<String, OptionError> {
        call.required(name, |_, t| Ok(t.to_owned()))
    };
    match call.spec.id {
        C::Join => student::join(ctx, &call.required("token", token)?).await,
        C::MyVm => student::my_vm(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::Leave => student::leave(ctx, &call.required("class", class_name)?).await,
        C::ClassCreate => {
            let args = class::CreateArgs {
                name: call.required("name", class_name)?,
                template: call.required("template", template)?,
                pool: call.required("pool", pool_size)?,
                cpu: call.optional("cpu", cores)?,
                memory: call.optional("memory", memory)?,
                disk: call.optional("disk", disk)?,
                node: call.optional("node", names::node)?,
                cluster: call.optional("cluster", names::cluster)?,
            };
            class::create(ctx, args).await
        }
        C::ClassList => class::list(ctx).await,
        C::ClassInfo => class::info(ctx, &call.required("class", class_name)?).await,
        C::ClassSettings => {
            let args = class::SettingsArgs {
                hours: call.optional("hours", hours)?,
                timezone: call.optional("timezone", timezone)?,
                quota: call.optional("quota", quota)?,
                idle: call.optional("idle", idle)?,
                cpu: call.optional("cpu", cores)?,
                memory: call.optional("memory", memory)?,
                disk: call.optional("disk", disk)?,
            };
            class::settings(ctx, &call.required("class", class_name)?, args).await
        }
        C::ClassToken => {
            let name = call.required("class", class_name)?;
            class_people::token(ctx, &name, call.optional("expires", expires)?).await
        }
        C::ClassRevokeToken => {
            class_people::revoke_token(ctx, &call.required("class", class_name)?).await
        }
        C::ClassCoownerAdd | C::ClassCoownerRemove => {
            let name = call.required("class", class_name)?;
            let add = call.spec.id == C::ClassCoownerAdd;
            class_people::coowner(ctx, &name, &user("user")?, add).await
        }
        C::ClassStudents => class_people::students(ctx, &call.required("class", class_name)?).await,
        C::ClassDelete => {
            let name = call.required("class", class_name)?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            class::delete(ctx, &name, confirmed).await
        }
        C::PoolStatus => pool::status_of(ctx, &call.required("class", class_name)?).await,
        C::PoolAssign => {
            let name = call.required("class", class_name)?;
            let vm = call.optional("vm", vmid)?;
            pool::assign(ctx, &name, &user("user")?, vm).await
        }
        C::PoolUnassign => {
            let name = call.required("class", class_name)?;
            pool::unassign(ctx, &name, &user("user")?).await
        }
        C::PoolResetUsage => {
            let name = call.required("class", class_name)?;
            let who = call.optional("user", |o, t| ctx.parse_user(o, t))?;
            pool::reset_usage(ctx, &name, who.as_ref()).await
        }
        C::SettingsGet => admin::settings_get(ctx, call.raw("key")).await,
        C::SettingsSet => admin::settings_set(ctx, &text("key")?, &text("value")?).await,
        C::RoleSet => admin::role_set(ctx, &user("user")?, call.required("role", role)?).await,
        C::ClusterList => admin::cluster_list(ctx).await,
        C::CheckAdd => {
            let name = call.required("class", class_name)?;
            let args = checks::AddArgs {
                name: call.required("name", check_options::check_name)?,
                command: call.required("command", check_options::command)?,
                timeout: call.optional("timeout", check_options::timeout)?,
                expect_exit: call.optional("expect-exit", check_options::exit_code)?,
                expect_output: call.optional("expect-output", check_options::pattern)?,
            };
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            checks::add(ctx, &name, args, confirmed).await
        }
        C::CheckList => checks::list(ctx, &call.required("class", class_name)?).await,
        C::CheckRemove => {
            let name = call.required("class", class_name)?;
            checks::remove(
                ctx,
                &name,
                &call.required("name", check_options::check_name)?,
            )
            .await
        }
        C::CheckRun => {
            let name = call.required("class", class_name)?;
            let check = call.required("check", check_options::check_name)?;
            let csv = call.optional("csv", flag)?.unwrap_or(false);
            checks::run(ctx, &name, &check, csv).await
        }
        C::VmCheck => checks::check_own(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::VmSubmit => submissions::submit(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::ClassSubmissions => submissions::list(ctx, &call.required("class", class_name)?).await,
        C::ClassDeadline => {
            let name = call.required("class", class_name)?;
            let at = call.required("at", check_options::deadline)?;
            submissions::set_deadline(ctx, &name, at, call.raw("at").unwrap_or_default()).await
        }
        C::PoolRollback => {
            let name = call.required("class", class_name)?;
            let snapshot = call.required("snapshot", check_options::snapshot)?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            submissions::rollback(ctx, &name, &user("user")?, &snapshot, confirmed).await
        }
        C::VmStart | C::VmStop | C::VmRestart | C::VmRevert => {
            let action = match call.spec.id {
                C::VmStart => PowerAction::Start,
                C::VmStop => PowerAction::Stop,
                C::VmRestart => PowerAction::Restart,
                _ => PowerAction::Revert,
            };
            vm::power(ctx, action, call.optional("class", class_name)?.as_ref()).await
        }
        C::VmReimage => vm::reimage(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::VmRdp => vm::rdp(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::VmIp => vm::ip(ctx, call.optional("class", class_name)?.as_ref()).await,
        C::ClassImport => {
            let cluster = call.required("cluster", names::cluster)?;
            import::import(ctx, &cluster, call.required("prefix", import::prefix)?).await
        }
        C::PoolResize => {
            let name = call.required("class", class_name)?;
            let size = call.required("size", pool_size)?;
            let force = call.optional("force", flag)?.unwrap_or(false);
            pool::resize(ctx, &name, size, force).await
        }
        C::TemplateList => templates::list(ctx).await,
        C::TemplatePublish => {
            let name = call.required("class", class_name)?;
            let when = call.optional("when", |o, t| choice(o, t, super::list::PUBLISH_WHEN))?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            templates::publish(ctx, &name, when, confirmed).await
        }
        C::ClusterTest => {
            clusters::test(ctx, call.optional("cluster", names::cluster)?.as_ref()).await
        }
        C::ClusterSet => {
            let id = call.required("cluster", names::cluster)?;
            let args = clusters::SetArgs {
                active: call.optional("active", flag)?,
                deployment: call.optional("deployment", flag)?,
                priority: call.optional("priority", clusters::priority)?,
                template_sync: call.optional("template-sync", flag)?,
                iso_sync: call.optional("iso-sync", flag)?,
                idle_shutdown: call.optional("idle-shutdown", flag)?,
                ip_lookup: call.optional("ip-lookup", flag)?,
                cache_ttl: call.optional("cache-ttl", clusters::cache_ttl)?,
            };
            clusters::set(ctx, &id, args).await
        }
        C::SyncNow => {
            let what = call.optional("what", |o, t| choice(o, t, super::list::SYNC_WHAT))?;
            sync::now(ctx, what).await
        }
        C::IsoList => sync::isos(ctx, call.optional("cluster", names::cluster)?.as_ref()).await,
        C::ClassSessionAdd => {
            let name = call.required("class", class_name)?;
            let args = sessions::AddArgs {
                day: call.optional("day", sessions::day)?,
                date: call.optional("date", sessions::date)?,
                start: call.required("start", sessions::time)?,
                end: call.required("end", sessions::time)?,
            };
            sessions::add(ctx, &name, args).await
        }
        C::ClassSessionList => sessions::list(ctx, &call.required("class", class_name)?).await,
        C::ClassSessionRemove => {
            let name = call.required("class", class_name)?;
            sessions::remove(ctx, &name, call.required("session", sessions::session)?).await
        }
        C::Audit => {
            let name = call.optional("class", class_name)?;
            let who = call.optional("user", |o, t| ctx.parse_user(o, t))?;
            audit::audit(ctx, name.as_ref(), who.as_ref()).await
        }
        C::ReportUsage => {
            let name = call.required("class", class_name)?;
            let period = pvelab_core::model::ReportPeriod {
                from: call.optional("from", reports::date)?,
                to: call.optional("to", reports::date)?,
            };
            reports::usage(ctx, &name, period).await
        }
        C::PoolPlan => {
            let name = call.required("class", class_name)?;
            capacity::plan(ctx, &name, call.required("size", pool_size)?).await
        }
    }
}
