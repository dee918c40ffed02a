//! Adminers' commands: system settings, roles, clusters.

use pvelab_core::model::SettingKey;
use pvelab_core::types::Role;

use super::{CommandContext, CommandError, Reply};
use crate::parse::people::UserRef;

/// `/settings get [key]`: every system setting with its value and meaning, or one.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer; an unknown key (listing the known ones).
pub async fn settings_get(ctx: &CommandContext, key: Option<&str>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let settings = ctx.lab.settings(&actor).await?;
    let keys = match key {
        Some(text) => vec![SettingKey::parse(text).map_err(pvelab_core::Error::from)?],
        None => SettingKey::ALL.to_vec(),
    };
    let rows = keys
        .into_iter()
        .map(|k| {
            vec![
                k.name().to_owned(),
                settings.get(k).to_string(),
                k.description().to_owned(),
            ]
        })
        .collect();
    Ok(Reply::titled("System settings")
        .table(&["SETTING", "VALUE", "MEANING"], rows)
        .ephemeral())
}

/// `/settings set key value`.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer; an unknown key; a value the key does not accept.
pub async fn settings_set(
    ctx: &CommandContext,
    key: &str,
    value: &str,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let stored = ctx.lab.set_setting(&actor, key, value).await?;
    Ok(Reply::text(format!("{} is now {stored}.", key.trim())))
}

/// `/role set user role`: a person's stored role. A front end may grant a higher one from its
/// own context (Discord server roles); the higher of the two applies.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer.
pub async fn role_set(
    ctx: &CommandContext,
    who: &UserRef,
    role: Role,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let user = ctx.person(who).await?;
    let user = ctx.lab.set_role(&actor, user.id, role).await?;
    Ok(Reply::text(format!(
        "{} now has the {} role.",
        who.display(),
        user.role
    )))
}

/// `/cluster list`: the clusters, without secrets.
///
/// # Errors
/// [`CommandError::Core`]: not an adminer.
pub async fn cluster_list(ctx: &CommandContext) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let rows = ctx
        .lab
        .clusters(&actor)
        .await?
        .into_iter()
        .map(|c| {
            vec![
                c.cluster_id.to_string(),
                format!("{}:{}", c.host, c.port),
                c.api_token_id
                    .as_ref()
                    .map_or_else(|| c.user.to_string(), |t| t.as_str().to_owned()),
                yes(c.is_default),
                yes(c.is_active),
                yes(c.allow_vm_deployment),
                c.priority.to_string(),
            ]
        })
        .collect();
    Ok(Reply::titled("Clusters").table(
        &[
            "CLUSTER", "ADDRESS", "LOGIN", "DEFAULT", "ACTIVE", "NEW VMS", "PRIORITY",
        ],
        rows,
    ))
}
