//! From an [`Invocation`] to the command function that answers it.

use super::catalogue::CommandId;
use super::{CommandContext, CommandError, Invocation, Reply};

/// Runs the command of `call` in `ctx`.
///
/// # Errors
/// [`CommandError`] for option values that cannot be read, refusals and failures of the core,
/// and commands this build does not run yet.
pub async fn dispatch(ctx: &CommandContext, call: &Invocation) -> Result<Reply, CommandError> {
    let _ = ctx;
    match call.spec.id {
        CommandId::Join
        | CommandId::MyVm
        | CommandId::VmStart
        | CommandId::VmStop
        | CommandId::VmRestart
        | CommandId::VmRevert
        | CommandId::VmReimage
        | CommandId::VmRdp
        | CommandId::VmIp
        | CommandId::Leave
        | CommandId::ClassCreate
        | CommandId::ClassList
        | CommandId::ClassInfo
        | CommandId::ClassSettings
        | CommandId::ClassToken
        | CommandId::ClassRevokeToken
        | CommandId::ClassCoownerAdd
        | CommandId::ClassCoownerRemove
        | CommandId::ClassStudents
        | CommandId::ClassDelete
        | CommandId::ClassImport
        | CommandId::PoolStatus
        | CommandId::PoolResize
        | CommandId::PoolAssign
        | CommandId::PoolUnassign
        | CommandId::PoolResetUsage
        | CommandId::TemplateList
        | CommandId::TemplatePublish
        | CommandId::ClusterList
        | CommandId::ClusterTest
        | CommandId::ClusterSet
        | CommandId::SettingsGet
        | CommandId::SettingsSet
        | CommandId::RoleSet
        | CommandId::SyncNow
        | CommandId::IsoList => Err(CommandError::NotAvailable {
            command: call.spec.usage_name(),
        }),
    }
}
