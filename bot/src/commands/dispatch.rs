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
///
/// Each command's future is boxed: a match over every command would otherwise be as large as
/// the largest of them (about 6 KB), and every `/myvm` in flight would carry that much.
pub async fn dispatch(ctx: &CommandContext, call: &Invocation) -> Result<Reply, CommandError> {
    let user = |name: &str| call.required(name, |o, t| ctx.parse_user(o, t));
    let text = |name: &str| -> Result<String, OptionError> {
        call.required(name, |_, t| Ok(t.to_owned()))
    };
    match call.spec.id {
        C::Join => Box::pin(student::join(ctx, &call.required("token", token)?)).await,
        C::MyVm => {
            Box::pin(student::my_vm(
                ctx,
                call.optional("class", class_name)?.as_ref(),
            ))
            .await
        }
        C::Leave => Box::pin(student::leave(ctx, &call.required("class", class_name)?)).await,
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
            Box::pin(class::create(ctx, args)).await
        }
        C::ClassList => Box::pin(class::list(ctx)).await,
        C::ClassInfo => Box::pin(class::info(ctx, &call.required("class", class_name)?)).await,
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
            Box::pin(class::settings(
                ctx,
                &call.required("class", class_name)?,
                args,
            ))
            .await
        }
        C::ClassToken => {
            let name = call.required("class", class_name)?;
            Box::pin(class_people::token(
                ctx,
                &name,
                call.optional("expires", expires)?,
            ))
            .await
        }
        C::ClassRevokeToken => {
            Box::pin(class_people::revoke_token(
                ctx,
                &call.required("class", class_name)?,
            ))
            .await
        }
        C::ClassCoownerAdd | C::ClassCoownerRemove => {
            let name = call.required("class", class_name)?;
            let add = call.spec.id == C::ClassCoownerAdd;
            Box::pin(class_people::coowner(ctx, &name, &user("user")?, add)).await
        }
        C::ClassStudents => {
            Box::pin(class_people::students(
                ctx,
                &call.required("class", class_name)?,
            ))
            .await
        }
        C::ClassDelete => {
            let name = call.required("class", class_name)?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            Box::pin(class::delete(ctx, &name, confirmed)).await
        }
        C::PoolStatus => Box::pin(pool::status_of(ctx, &call.required("class", class_name)?)).await,
        C::PoolAssign => {
            let name = call.required("class", class_name)?;
            let vm = call.optional("vm", vmid)?;
            Box::pin(pool::assign(ctx, &name, &user("user")?, vm)).await
        }
        C::PoolUnassign => {
            let name = call.required("class", class_name)?;
            Box::pin(pool::unassign(ctx, &name, &user("user")?)).await
        }
        C::PoolResetUsage => {
            let name = call.required("class", class_name)?;
            let who = call.optional("user", |o, t| ctx.parse_user(o, t))?;
            Box::pin(pool::reset_usage(ctx, &name, who.as_ref())).await
        }
        C::SettingsGet => Box::pin(admin::settings_get(ctx, call.raw("key"))).await,
        C::SettingsSet => Box::pin(admin::settings_set(ctx, &text("key")?, &text("value")?)).await,
        C::RoleSet => {
            Box::pin(admin::role_set(
                ctx,
                &user("user")?,
                call.required("role", role)?,
            ))
            .await
        }
        C::ClusterList => Box::pin(admin::cluster_list(ctx)).await,
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
            Box::pin(checks::add(ctx, &name, args, confirmed)).await
        }
        C::CheckList => Box::pin(checks::list(ctx, &call.required("class", class_name)?)).await,
        C::CheckRemove => {
            let name = call.required("class", class_name)?;
            Box::pin(checks::remove(
                ctx,
                &name,
                &call.required("name", check_options::check_name)?,
            ))
            .await
        }
        C::CheckRun => {
            let name = call.required("class", class_name)?;
            let check = call.required("check", check_options::check_name)?;
            let csv = call.optional("csv", flag)?.unwrap_or(false);
            Box::pin(checks::run(ctx, &name, &check, csv)).await
        }
        C::VmCheck => {
            Box::pin(checks::check_own(
                ctx,
                call.optional("class", class_name)?.as_ref(),
            ))
            .await
        }
        C::VmSubmit => {
            Box::pin(submissions::submit(
                ctx,
                call.optional("class", class_name)?.as_ref(),
            ))
            .await
        }
        C::ClassSubmissions => {
            Box::pin(submissions::list(ctx, &call.required("class", class_name)?)).await
        }
        C::ClassDeadline => {
            let name = call.required("class", class_name)?;
            let at = call.required("at", check_options::deadline)?;
            Box::pin(submissions::set_deadline(
                ctx,
                &name,
                at,
                call.raw("at").unwrap_or_default(),
            ))
            .await
        }
        C::PoolRollback => {
            let name = call.required("class", class_name)?;
            let snapshot = call.required("snapshot", check_options::snapshot)?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            Box::pin(submissions::rollback(
                ctx,
                &name,
                &user("user")?,
                &snapshot,
                confirmed,
            ))
            .await
        }
        C::VmStart | C::VmStop | C::VmRestart | C::VmRevert => {
            let action = match call.spec.id {
                C::VmStart => PowerAction::Start,
                C::VmStop => PowerAction::Stop,
                C::VmRestart => PowerAction::Restart,
                _ => PowerAction::Revert,
            };
            Box::pin(vm::power(
                ctx,
                action,
                call.optional("class", class_name)?.as_ref(),
            ))
            .await
        }
        C::VmReimage => {
            Box::pin(vm::reimage(
                ctx,
                call.optional("class", class_name)?.as_ref(),
            ))
            .await
        }
        C::VmRdp => Box::pin(vm::rdp(ctx, call.optional("class", class_name)?.as_ref())).await,
        C::VmIp => Box::pin(vm::ip(ctx, call.optional("class", class_name)?.as_ref())).await,
        C::ClassImport => {
            let cluster = call.required("cluster", names::cluster)?;
            Box::pin(import::import(
                ctx,
                &cluster,
                call.required("prefix", import::prefix)?,
            ))
            .await
        }
        C::PoolResize => {
            let name = call.required("class", class_name)?;
            let size = call.required("size", pool_size)?;
            let force = call.optional("force", flag)?.unwrap_or(false);
            Box::pin(pool::resize(ctx, &name, size, force)).await
        }
        C::TemplateList => Box::pin(templates::list(ctx)).await,
        C::TemplatePublish => {
            let name = call.required("class", class_name)?;
            let when = call.optional("when", |o, t| choice(o, t, super::list::PUBLISH_WHEN))?;
            let confirmed = call.optional("confirm", flag)?.unwrap_or(false);
            Box::pin(templates::publish(ctx, &name, when, confirmed)).await
        }
        C::ClusterTest => {
            Box::pin(clusters::test(
                ctx,
                call.optional("cluster", names::cluster)?.as_ref(),
            ))
            .await
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
            Box::pin(clusters::set(ctx, &id, args)).await
        }
        C::SyncNow => {
            let what = call.optional("what", |o, t| choice(o, t, super::list::SYNC_WHAT))?;
            Box::pin(sync::now(ctx, what)).await
        }
        C::IsoList => {
            Box::pin(sync::isos(
                ctx,
                call.optional("cluster", names::cluster)?.as_ref(),
            ))
            .await
        }
        C::ClassSessionAdd => {
            let name = call.required("class", class_name)?;
            let args = sessions::AddArgs {
                day: call.optional("day", sessions::day)?,
                date: call.optional("date", sessions::date)?,
                start: call.required("start", sessions::time)?,
                end: call.required("end", sessions::time)?,
            };
            Box::pin(sessions::add(ctx, &name, args)).await
        }
        C::ClassSessionList => {
            Box::pin(sessions::list(ctx, &call.required("class", class_name)?)).await
        }
        C::ClassSessionRemove => {
            let name = call.required("class", class_name)?;
            Box::pin(sessions::remove(
                ctx,
                &name,
                call.required("session", sessions::session)?,
            ))
            .await
        }
        C::Audit => {
            let name = call.optional("class", class_name)?;
            let who = call.optional("user", |o, t| ctx.parse_user(o, t))?;
            Box::pin(audit::audit(ctx, name.as_ref(), who.as_ref())).await
        }
        C::ReportUsage => {
            let name = call.required("class", class_name)?;
            let period = pvelab_core::model::ReportPeriod {
                from: call.optional("from", reports::date)?,
                to: call.optional("to", reports::date)?,
            };
            Box::pin(reports::usage(ctx, &name, period)).await
        }
        C::PoolPlan => {
            let name = call.required("class", class_name)?;
            Box::pin(capacity::plan(
                ctx,
                &name,
                call.required("size", pool_size)?,
            ))
            .await
        }
    }
}
