//! Who runs a command on Discord and where: the invoker with the role their server grants, the
//! scope classes live in, and the refusals that come before any command runs (a server that
//! is not configured, a command that needs a server, `/join` without the student role).
//!
//! Pure: it works on ids and names taken from the interaction, so the mapping is tested
//! without Discord.

use std::collections::HashMap;

use pvelab_core::types::{Role, Scope};

use crate::commands::catalogue::{CommandId, CommandSpec};
use crate::commands::{Invoker, Reply};
use crate::config::GuildSettings;
use crate::parse::people::{Snowflake, UserRef};

/// A refusal before any command runs: the reply that says why (boxed: it travels in
/// `Result`s).
pub type Refusal = Box<Reply>;

/// The configured servers by id, with their role mapping.
#[derive(Debug, Clone, Default)]
pub struct GuildRoles {
    guilds: HashMap<u64, GuildSettings>,
}

impl GuildRoles {
    /// The mapping of these servers.
    pub fn new(guilds: &[GuildSettings]) -> Self {
        Self {
            guilds: guilds.iter().map(|g| (g.id.get(), g.clone())).collect(),
        }
    }

    /// The settings of server `id`, when it is configured.
    pub fn guild(&self, id: u64) -> Option<&GuildSettings> {
        self.guilds.get(&id)
    }

    /// The configured server ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.guilds.keys().copied()
    }
}

/// The role a member holding `member_roles` has in `guild`: adminer over teacher over user.
pub fn role_in(guild: &GuildSettings, member_roles: &[u64]) -> Role {
    let holds = |roles: &[Snowflake]| roles.iter().any(|r| member_roles.contains(&r.get()));
    if holds(&guild.adminer_roles) {
        Role::Adminer
    } else if holds(&guild.teacher_roles) {
        Role::Teacher
    } else {
        Role::User
    }
}

/// What an interaction says about the person and the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user's id.
    pub user_id: u64,
    /// The name to show: the server nickname, else the global display name, else the user
    /// name.
    pub display_name: String,
    /// The server, or `None` in a direct message with the bot.
    pub guild_id: Option<u64>,
    /// The member's role ids in that server (empty in a direct message).
    pub member_roles: Vec<u64>,
}

/// Who runs a command, with what role, in which scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The person, as the command layer knows them (`discord:<id>`).
    pub invoker: Invoker,
    /// The server's scope (its id); `None` in a direct message.
    pub scope: Option<Scope>,
    /// The server's settings; `None` in a direct message.
    pub guild: Option<GuildSettings>,
    /// The member's role ids.
    pub member_roles: Vec<u64>,
}

impl Caller {
    /// The caller of an interaction from `origin`.
    ///
    /// # Errors
    /// A reply for the person when the server is not configured for pvelab (then nobody's
    /// roles there mean anything) or the ids are not Discord ids.
    pub fn of(roles: &GuildRoles, origin: Origin) -> Result<Self, Refusal> {
        let id = Snowflake::parse(&origin.user_id.to_string()).ok_or_else(|| {
            Box::new(Reply::text("This Discord account has no valid id.").ephemeral())
        })?;
        let (role, scope, guild) = match origin.guild_id {
            None => (Role::User, None, None),
            Some(guild_id) => {
                let Some(guild) = roles.guild(guild_id) else {
                    return Err(Box::new(Reply::text(
                        "pvelab is not set up for this server. An administrator adds it to the \
                         bot's configuration as a [[discord.guild]] with this server's id.",
                    )
                    .line(format!("Server id: {guild_id}"))
                    .ephemeral()));
                };
                let scope = Scope::parse(&guild_id.to_string())
                    .map_err(|e| Box::new(Reply::text(e.to_string()).ephemeral()))?;
                (
                    role_in(guild, &origin.member_roles),
                    Some(scope),
                    Some(guild.clone()),
                )
            }
        };
        Ok(Self {
            invoker: Invoker {
                who: UserRef::Discord(id),
                display_name: origin.display_name,
                role,
            },
            scope,
            guild,
            member_roles: origin.member_roles,
        })
    }

    /// Whether this caller may run `spec` here, before the core is asked: in a direct message
    /// only the commands about one's own VMs (`/myvm`, `/vm ...`) run, since everything else
    /// belongs to a server's classes; `/join` needs the server's student role when one is
    /// configured. `role_name` names a role id for the refusal (the server's role names are
    /// in the gateway cache).
    ///
    /// # Errors
    /// The refusal, saying what to do instead.
    pub fn may_run(
        &self,
        spec: &CommandSpec,
        role_name: impl Fn(u64) -> Option<String>,
    ) -> Result<(), Refusal> {
        let Some(guild) = &self.guild else {
            return if works_in_dms(spec) {
                Ok(())
            } else {
                Err(Box::new(
                    Reply::text(format!(
                        "{} works only in a server: run it in your class's Discord server. In a \
                     direct message with the bot, /myvm and /vm work.",
                        spec.usage_name()
                    ))
                    .ephemeral(),
                ))
            };
        };
        if spec.id == CommandId::Join {
            if let Some(student) = guild.student_role {
                if !self.member_roles.contains(&student.get()) {
                    let name = role_name(student.get())
                        .map_or_else(|| format!("with id {student}"), |n| format!("\"{n}\""));
                    return Err(Box::new(Reply::text(format!(
                        "Joining a class in this server needs the student role {name}."
                    ))
                    .line(
                        "Ask your teacher or a server moderator to give it to you, then try again.",
                    )
                    .ephemeral()));
                }
            }
        }
        Ok(())
    }
}

/// Commands about the caller's own VMs, which need no server.
pub fn works_in_dms(spec: &CommandSpec) -> bool {
    spec.id == CommandId::MyVm || spec.path.first() == Some(&"vm")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::catalogue::spec;

    const GUILD: u64 = 1000;

    fn guilds() -> GuildRoles {
        let sf = |n: u64| Snowflake::parse(&n.to_string()).unwrap();
        GuildRoles::new(&[GuildSettings {
            id: sf(GUILD),
            adminer_roles: vec![sf(1)],
            teacher_roles: vec![sf(2), sf(3)],
            student_role: Some(sf(4)),
            audit_channel: None,
            announce_channel: None,
        }])
    }

    fn origin(guild_id: Option<u64>, roles: &[u64]) -> Origin {
        Origin {
            user_id: 42,
            display_name: "ada".into(),
            guild_id,
            member_roles: roles.to_vec(),
        }
    }

    fn caller(guild_id: Option<u64>, roles: &[u64]) -> Caller {
        Caller::of(&guilds(), origin(guild_id, roles)).unwrap()
    }

    fn text(reply: &Reply) -> String {
        crate::render::text::plain(reply)
    }

    #[test]
    fn roles_map_by_id_with_the_highest_winning() {
        assert_eq!(caller(Some(GUILD), &[]).invoker.role, Role::User);
        assert_eq!(caller(Some(GUILD), &[3]).invoker.role, Role::Teacher);
        assert_eq!(caller(Some(GUILD), &[3, 1]).invoker.role, Role::Adminer);
        assert_eq!(caller(Some(GUILD), &[4]).invoker.role, Role::User);
    }

    #[test]
    fn the_invoker_is_the_discord_user_and_the_scope_is_the_server() {
        let c = caller(Some(GUILD), &[]);
        assert_eq!(c.invoker.who.external_id(), "discord:42");
        assert_eq!(c.invoker.display_name, "ada");
        assert_eq!(c.scope.unwrap().as_str(), "1000");
        let dm = caller(None, &[]);
        assert_eq!((dm.scope, dm.invoker.role), (None, Role::User));
    }

    #[test]
    fn a_server_that_is_not_configured_is_refused_with_its_id() {
        let refusal = Caller::of(&guilds(), origin(Some(7), &[1])).unwrap_err();
        assert!(refusal.ephemeral);
        assert!(text(&refusal).contains("not set up for this server"));
        assert!(text(&refusal).contains("Server id: 7"));
    }

    #[test]
    fn only_commands_about_ones_own_vm_run_in_direct_messages() {
        let dm = caller(None, &[]);
        assert!(dm.may_run(spec(CommandId::MyVm), |_| None).is_ok());
        assert!(dm.may_run(spec(CommandId::VmStart), |_| None).is_ok());
        let refusal = dm
            .may_run(spec(CommandId::ClassList), |_| None)
            .unwrap_err();
        assert!(text(&refusal).starts_with("/class list works only in a server"));
        assert!(dm.may_run(spec(CommandId::Join), |_| None).is_err());
    }

    #[test]
    fn join_needs_the_student_role_and_the_refusal_names_it() {
        let without = caller(Some(GUILD), &[2]);
        let refusal = without
            .may_run(spec(CommandId::Join), |id| {
                (id == 4).then(|| "Students".into())
            })
            .unwrap_err();
        assert!(text(&refusal).contains("needs the student role \"Students\""));
        let unnamed = without
            .may_run(spec(CommandId::Join), |_| None)
            .unwrap_err();
        assert!(text(&unnamed).contains("student role with id 4"));
        assert!(caller(Some(GUILD), &[4])
            .may_run(spec(CommandId::Join), |_| None)
            .is_ok());
        // Other commands do not need it.
        assert!(without.may_run(spec(CommandId::MyVm), |_| None).is_ok());
    }
}
