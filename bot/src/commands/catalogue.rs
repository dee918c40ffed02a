//! The static catalogue of every command: names, descriptions, options, and the role a command
//! is meant for. The console checks typed lines against it (and lists what exists when a name
//! is wrong); the Discord registration builds its slash commands from it. One list, so the two
//! front ends can never disagree about what a command is called or which options it takes.
//!
//! Commands are leaves of at most three names (`/class coowner add`), as Discord allows: a
//! command, an optional subcommand group, and a subcommand.

use pvelab_core::types::Role;

pub use super::list::{COMMANDS, GROUPS};

/// Every command that does something. Dispatch matches on it exhaustively, so a command added
/// here cannot be forgotten there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the command of the same name in the catalogue
pub enum CommandId {
    Join,
    MyVm,
    VmStart,
    VmStop,
    VmRestart,
    VmRevert,
    VmReimage,
    VmRdp,
    VmIp,
    Leave,
    ClassCreate,
    ClassList,
    ClassInfo,
    ClassSettings,
    ClassToken,
    ClassRevokeToken,
    ClassCoownerAdd,
    ClassCoownerRemove,
    ClassStudents,
    ClassDelete,
    ClassImport,
    PoolStatus,
    PoolResize,
    PoolAssign,
    PoolUnassign,
    PoolResetUsage,
    TemplateList,
    TemplatePublish,
    ClusterList,
    ClusterTest,
    ClusterSet,
    SettingsGet,
    SettingsSet,
    RoleSet,
    SyncNow,
    IsoList,
    CheckAdd,
    CheckList,
    CheckRemove,
    CheckRun,
    VmCheck,
    VmSubmit,
    ClassSubmissions,
    ClassDeadline,
    PoolRollback,
    ClassSessionAdd,
    ClassSessionList,
    ClassSessionRemove,
    Audit,
    ReportUsage,
    PoolPlan,
}

/// What an option holds, which decides how its text is parsed (see [`crate::parse`]) and which
/// Discord option type and autocomplete it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A join token (never echoed).
    Token,
    /// A class the caller may see (autocompleted on Discord).
    Class,
    /// A new class's name.
    ClassName,
    /// A template's VMID or name.
    Template,
    /// A number of student VMs.
    PoolSize,
    /// CPU cores.
    Cores,
    /// Memory (`4096`, `4G`).
    Memory,
    /// Disk size (`32G`).
    Disk,
    /// A Proxmox node.
    Node,
    /// A configured cluster.
    Cluster,
    /// Allowed hours (`08-18`).
    Hours,
    /// An IANA time zone.
    TimeZone,
    /// Usage quota in hours.
    Quota,
    /// Idle shutdown delay.
    Idle,
    /// Token lifetime (`never`, `7d`).
    Expires,
    /// A person (Discord mention or id; console user name).
    User,
    /// `user`, `teacher` or `adminer`.
    Role,
    /// yes / no.
    Flag,
    /// A VMID.
    Vmid,
    /// A VMID prefix of existing VMs to import.
    VmidPrefix,
    /// A whole number (priority).
    Integer,
    /// A system setting's key.
    SettingKey,
    /// A system setting's value (checked against the key by the core).
    SettingValue,
    /// One of a fixed list.
    Choice(&'static [&'static str]),
    /// An in-VM check's name (a class's existing checks are autocompleted on Discord).
    Check,
    /// A command run in VMs: a program and its arguments.
    Command,
    /// A check's timeout (`30`, `2m`).
    Timeout,
    /// A regular expression.
    Pattern,
    /// A submission deadline (`2026-02-01 18:00`, `2d`, `none`).
    Deadline,
    /// A snapshot's name (`submit-20260131T081530Z`).
    Snapshot,
    /// A day of the week (`monday`).
    Weekday,
    /// A calendar date (`2027-01-15`).
    Date,
    /// A time of day (`09:00`).
    TimeOfDay,
}

/// One option of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name people type (`pool`).
    pub name: &'static str,
    /// One line for help and Discord's option description (at most 100 characters).
    pub description: &'static str,
    /// Whether the command needs it.
    pub required: bool,
    /// How its text is read.
    pub kind: OptionKind,
}

/// One command people can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// What it does, for dispatch.
    pub id: CommandId,
    /// Its names: command, then subcommand group and subcommand when it has them.
    pub path: &'static [&'static str],
    /// One line for help and Discord (at most 100 characters).
    pub description: &'static str,
    /// Who it is meant for: the front end shows it to this role and above. The core decides
    /// what is actually permitted.
    pub role: Role,
    /// Its options, required ones first (Discord insists on that order).
    pub options: &'static [OptionSpec],
    /// It may wait on a Proxmox cluster (power, clones, live state, synchronisation), so a
    /// front end with a deadline (Discord's 3 seconds) acknowledges it first and answers later.
    pub may_call_proxmox: bool,
    /// Its answer is about the caller alone (their VM, a join token), so a front end shows it
    /// only to them from the start. A deferred Discord answer cannot become private later.
    pub personal: bool,
}

impl CommandSpec {
    /// The same command marked as one that may call Proxmox.
    pub(crate) const fn proxmox(mut self) -> Self {
        self.may_call_proxmox = true;
        self
    }

    /// The same command marked as answering about the caller alone.
    pub(crate) const fn personal(mut self) -> Self {
        self.personal = true;
        self
    }

    /// The command as typed: `/class coowner add`.
    pub fn usage_name(&self) -> String {
        format!("/{}", self.path.join(" "))
    }

    /// The option called `name`, if the command has it.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// A command name, subcommand or option that does not exist, with what does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No command of that name.
    #[error("unknown command `/{name}`; the commands are {known}")]
    UnknownCommand {
        /// What was typed.
        name: String,
        /// The commands, as `/join, /myvm, ...`.
        known: String,
    },
    /// A command that needs a subcommand got none.
    #[error("`{command}` needs a subcommand: {known}")]
    MissingSubcommand {
        /// The command so far (`/class`).
        command: String,
        /// Its subcommands.
        known: String,
    },
    /// A subcommand that does not exist.
    #[error("`{command}` has no subcommand `{name}`; it has {known}")]
    UnknownSubcommand {
        /// The command so far.
        command: String,
        /// What was typed.
        name: String,
        /// Its subcommands.
        known: String,
    },
    /// Words after a command that takes no subcommand.
    #[error("`{command}` takes no subcommand `{name}`; options are written name:value")]
    NoSubcommands {
        /// The command.
        command: String,
        /// The extra word.
        name: String,
    },
    /// An option the command does not have.
    #[error("`{command}` has no option `{name}`; {known}")]
    UnknownOption {
        /// The command.
        command: String,
        /// What was typed.
        name: String,
        /// Its options, or that it has none.
        known: String,
    },
    /// A required option is missing.
    #[error("`{command}` needs option `{name}` (write {name}:VALUE)")]
    MissingOption {
        /// The command.
        command: String,
        /// The missing option.
        name: &'static str,
    },
}

/// The distinct names at `depth` of the commands whose path starts with `prefix`, in order.
fn names_under(prefix: &[&str]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for spec in COMMANDS {
        if spec.path.len() > prefix.len() && spec.path[..prefix.len()] == *prefix {
            let name = spec.path[prefix.len()];
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Finds the command named by `command` and the words after it.
///
/// # Errors
/// [`LookupError`] saying which name is wrong and listing the names that exist there.
pub fn find(command: &str, words: &[String]) -> Result<&'static CommandSpec, LookupError> {
    let mut path: Vec<&str> = vec![command];
    loop {
        let here = format!("/{}", path.join(" "));
        if let Some(spec) = COMMANDS.iter().find(|s| s.path == path.as_slice()) {
            return match words.get(path.len() - 1) {
                None => Ok(spec),
                Some(extra) => Err(LookupError::NoSubcommands {
                    command: here,
                    name: extra.clone(),
                }),
            };
        }
        let below = names_under(&path);
        if below.is_empty() {
            return Err(if path.len() == 1 {
                LookupError::UnknownCommand {
                    name: command.to_owned(),
                    known: names_under(&[])
                        .iter()
                        .map(|n| format!("/{n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            } else {
                // Only reachable through a typo one level up, which is reported there.
                LookupError::UnknownCommand {
                    name: path.join(" "),
                    known: String::new(),
                }
            });
        }
        match words.get(path.len() - 1) {
            None => {
                return Err(LookupError::MissingSubcommand {
                    command: here,
                    known: below.join(", "),
                })
            }
            Some(word) if below.contains(&word.as_str()) => path.push(word),
            Some(word) => {
                return Err(LookupError::UnknownSubcommand {
                    command: here,
                    name: word.clone(),
                    known: below.join(", "),
                })
            }
        }
    }
}

/// The spec of a command id (every id has exactly one).
pub fn spec(id: CommandId) -> &'static CommandSpec {
    COMMANDS
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| unreachable!("the catalogue has an entry for {id:?} (tested)"))
}

#[cfg(test)]
#[path = "catalogue_tests.rs"]
mod tests;
