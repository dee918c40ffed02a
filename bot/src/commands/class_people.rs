//! Teachers' class commands about people: join tokens, co-owners, the student list.

use pvelab_core::model::{TokenExpiry, TokenLifetime};
use pvelab_core::types::ClassName;

use super::{CommandContext, CommandError, Reply};
use crate::parse::people::UserRef;
use crate::render::format;

/// `/class token class [expires]`: a new join token, shown once, only to the caller. Without
/// `expires` the token never expires.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn token(
    ctx: &CommandContext,
    name: &ClassName,
    expires: Option<TokenLifetime>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let had_token = class.token.is_some();
    let expiry = expires
        .unwrap_or(TokenLifetime::Never)
        .expiry_from(ctx.lab.clock().now());
    let rotation = ctx.lab.rotate_token(&actor, class.id, expiry).await?;
    let token = rotation.token.expose();
    let mut reply = Reply::titled(format!("Join token for {}", class.name))
        .line(format!("token: {token}"))
        .line(format!("Students type: /join token:{token}"))
        .line(match rotation.expiry {
            TokenExpiry::Never => {
                "It never expires; revoke it with /class revoke-token.".to_owned()
            }
            TokenExpiry::At(at) => format!("It works until {}.", format::instant(at)),
        })
        .line("It is shown only now: pvelab keeps only a fingerprint of it.")
        .ephemeral();
    if had_token {
        reply = reply.line("The previous token no longer works.");
    }
    Ok(reply)
}

/// `/class revoke-token class`: nobody can join until a new token is made.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn revoke_token(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let text = if ctx.lab.revoke_token(&actor, class.id).await? {
        format!(
            "The join token of {} no longer works; make a new one with /class token.",
            class.name
        )
    } else {
        format!("{} has no join token; nothing changed.", class.name)
    };
    Ok(Reply::text(text))
}

/// `/class coowner add|remove class user`.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not its primary teacher.
pub async fn coowner(
    ctx: &CommandContext,
    name: &ClassName,
    who: &UserRef,
    add: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let user = ctx.person(who).await?;
    let shown = who.display();
    let text = if add {
        if ctx.lab.add_co_owner(&actor, class.id, user.id).await? {
            format!(
                "{shown} now co-owns {}: with the teacher role they manage it like you.",
                class.name
            )
        } else {
            format!("{shown} co-owns {} already.", class.name)
        }
    } else if ctx.lab.remove_co_owner(&actor, class.id, user.id).await? {
        format!("{shown} no longer co-owns {}.", class.name)
    } else {
        format!(
            "{shown} was not a co-owner of {}; nothing changed.",
            class.name
        )
    };
    Ok(Reply::text(text))
}

/// `/class students class`: each student with their VM or waitlist place.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn students(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let rows = ctx
        .lab
        .students(&actor, class.id)
        .await?
        .into_iter()
        .map(|s| {
            let (vm, usage) = match (&s.vm, s.waitlist_position) {
                (Some(vm), _) => (
                    vm.vmid.to_string(),
                    format::usage(vm.usage_hours, class.max_usage),
                ),
                (None, Some(place)) => (format!("waitlist #{place}"), String::new()),
                (None, None) => ("none".to_owned(), String::new()),
            };
            vec![
                format::person(&s.user),
                vm,
                usage,
                format::instant(s.enrolled_at),
            ]
        })
        .collect();
    Ok(Reply::titled(format!("Students of {}", class.name))
        .table(&["STUDENT", "VM", "USAGE", "JOINED"], rows)
        .ephemeral())
}
