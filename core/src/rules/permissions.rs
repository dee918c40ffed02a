//! Who may do what: the permission table as one pure function.
//!
//! | operation | user | teacher, own or co-owned class | teacher, other class | adminer |
//! |---|---|---|---|---|
//! | join a class, look up a class one is in, see oneself, see and control own VMs, leave a class, run the class's checks on one's own VM, submit one's work | yes | yes | yes | yes |
//! | create a class, see other users | no | yes | yes | yes |
//! | class settings, tokens, pool size, assign / unassign, reset usage, publish template, list students and their VMs, control students' VMs, define and run in-VM checks, see submissions, roll a VM back to a submission, set the submission deadline, add / remove sessions, read the class's audit trail | no | yes | no | yes |
//! | delete a class, add / remove co-owners | no | primary teacher only | no | yes |
//! | clusters, system settings, users' roles and logins, templates and ISOs of all clusters, listing the classes of every scope, feeding VM usage, the whole audit trail | no | no | no | yes |
//!
//! A cluster's `admin_users` / `admin_group` make a person an administrator of that one cluster
//! ([`ClusterRelation::Admin`]): they may manage that cluster, its templates and its ISOs, but not
//! system settings, roles, or clusters they do not administer.

use std::fmt;

use crate::error::{Error, Result};
use crate::types::{Role, UserId};

/// One operation of the permission table. Rows of the table that group several operations are
/// split so that a refusal names exactly what was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Join a class with its token.
    JoinClass,
    /// See one's own VMs.
    ViewOwnVms,
    /// Look a class up by id or name (its join token is never shown). Only classes the actor
    /// teaches, co-owns or is enrolled in (adminers: all) are found; the facade reports any
    /// other as not found.
    ViewClass,
    /// Start, stop, restart, revert or reimage one's own VM.
    ControlOwnVm,
    /// Leave a class (and release its VM).
    LeaveClass,
    /// Create a class.
    CreateClass,
    /// See another user's record (a teacher picking a student or a co-owner); everyone may see
    /// their own.
    ViewOtherUsers,
    /// Change a class's settings (hours, quota, idle shutdown, sizes, description).
    EditClassSettings,
    /// Create, rotate or revoke a class's join token.
    ManageJoinToken,
    /// Change a class's pool size.
    ResizePool,
    /// Assign a VM to a student or take it back.
    AssignVm,
    /// Reset the usage hours of one or all students.
    ResetUsage,
    /// Publish a teacher VM as the class's new template.
    PublishTemplate,
    /// List a class's students and their VMs.
    ListStudents,
    /// Control a student's VM.
    ControlStudentVm,
    /// Delete a class.
    DeleteClass,
    /// Add or remove co-owners of a class.
    ManageCoOwners,
    /// Add, change, test or remove clusters.
    ManageClusters,
    /// Read or change system settings.
    ManageSettings,
    /// List the classes of every front-end scope at once (within one scope, everyone lists the
    /// classes they are in).
    ListAllClasses,
    /// Change users' roles.
    ManageRoles,
    /// Create local logins, or set a password other than one's own.
    ManageAccounts,
    /// Feed the running time of VMs into the usage quota (the monitor of the orchestration
    /// layer).
    RecordUsage,
    /// Sync and manage templates of a cluster.
    ManageTemplates,
    /// List and sync ISO images of a cluster.
    ManageIsos,
    /// Define or remove the class's in-VM checks. Their commands run as root in students' VMs,
    /// so this is for the class's teachers.
    DefineChecks,
    /// Run a check on every student VM of the class and read its results.
    RunChecks,
    /// Run the class's checks on one's own VM.
    CheckOwnVm,
    /// Snapshot one's own VM as a submission.
    SubmitWork,
    /// See the submissions of every student of the class (students see their own).
    ViewSubmissions,
    /// Roll a student's VM back to one of their submissions.
    RollbackSubmission,
    /// Set or clear the class's submission deadline.
    SetDeadline,
    /// Add or remove the class's sessions (scheduled class time).
    ManageSessions,
    /// Read the audit trail of a class.
    ViewAudit,
    /// Read the whole audit trail (every class, and changes outside classes).
    ViewAllAudit,
}

impl Action {
    /// Every action, in table order.
    pub const ALL: [Action; 35] = [
        Action::JoinClass,
        Action::ViewOwnVms,
        Action::ViewClass,
        Action::ControlOwnVm,
        Action::LeaveClass,
        Action::CreateClass,
        Action::ViewOtherUsers,
        Action::EditClassSettings,
        Action::ManageJoinToken,
        Action::ResizePool,
        Action::AssignVm,
        Action::ResetUsage,
        Action::PublishTemplate,
        Action::ListStudents,
        Action::ControlStudentVm,
        Action::DeleteClass,
        Action::ManageCoOwners,
        Action::ManageClusters,
        Action::ManageSettings,
        Action::ListAllClasses,
        Action::ManageRoles,
        Action::ManageAccounts,
        Action::RecordUsage,
        Action::ManageTemplates,
        Action::ManageIsos,
        Action::DefineChecks,
        Action::RunChecks,
        Action::CheckOwnVm,
        Action::SubmitWork,
        Action::ViewSubmissions,
        Action::RollbackSubmission,
        Action::SetDeadline,
        Action::ManageSessions,
        Action::ViewAudit,
        Action::ViewAllAudit,
    ];

    /// What the action needs, i.e. its row in the table.
    pub fn requirement(self) -> Requirement {
        use Action::*;
        match self {
            JoinClass | ViewOwnVms | ViewClass | ControlOwnVm | LeaveClass | CheckOwnVm
            | SubmitWork => Requirement::AnyUser,
            CreateClass | ViewOtherUsers => Requirement::TeacherRole,
            EditClassSettings | ManageJoinToken | ResizePool | AssignVm | ResetUsage
            | PublishTemplate | ListStudents | ControlStudentVm | DefineChecks | RunChecks
            | ViewSubmissions | RollbackSubmission | SetDeadline | ManageSessions | ViewAudit => {
                Requirement::ClassTeacher
            }
            DeleteClass | ManageCoOwners => Requirement::PrimaryTeacher,
            ManageClusters | ManageSettings | ListAllClasses | ManageRoles | ManageAccounts
            | RecordUsage | ManageTemplates | ManageIsos | ViewAllAudit => Requirement::Adminer,
        }
    }

    /// Whether the core's background work (the system actor) may do this: keeping pools and
    /// inventory in line with intent, accounting usage, enforcing hours, quotas and idle
    /// shutdown. It never joins, creates or deletes classes, hands out tokens, or changes roles,
    /// settings or accounts: those are people's decisions.
    pub fn system_may(self) -> bool {
        use Action::*;
        matches!(
            self,
            ViewClass
                | ListStudents
                | ListAllClasses
                | ResizePool
                | ControlStudentVm
                | RecordUsage
                | ManageTemplates
                | ManageIsos
                | PublishTemplate
        )
    }

    /// Whether administering the cluster concerned is enough (clusters, templates, ISOs).
    pub fn is_cluster_scoped(self) -> bool {
        matches!(
            self,
            Action::ManageClusters | Action::ManageTemplates | Action::ManageIsos
        )
    }

    /// A short English description ("join a class").
    pub fn describe(self) -> &'static str {
        use Action::*;
        match self {
            JoinClass => "join a class",
            ViewOwnVms => "see your own VMs",
            ViewClass => "look up a class",
            ControlOwnVm => "control your own VM",
            LeaveClass => "leave a class",
            CreateClass => "create a class",
            ViewOtherUsers => "see other users",
            EditClassSettings => "change class settings",
            ManageJoinToken => "manage the join token",
            ResizePool => "resize the pool",
            AssignVm => "assign or unassign VMs",
            ResetUsage => "reset usage",
            PublishTemplate => "publish the class template",
            ListStudents => "list students and their VMs",
            ControlStudentVm => "control a student's VM",
            DeleteClass => "delete a class",
            ManageCoOwners => "add or remove co-owners",
            ManageClusters => "manage clusters",
            ManageSettings => "manage system settings",
            ListAllClasses => "list the classes of every scope",
            ManageRoles => "change users' roles",
            ManageAccounts => "create logins or set other users' passwords",
            RecordUsage => "record VM running time",
            ManageTemplates => "manage templates",
            ManageIsos => "manage ISO images",
            DefineChecks => "define or remove in-VM checks",
            RunChecks => "run checks on students' VMs",
            CheckOwnVm => "run the class's checks on your VM",
            SubmitWork => "submit your work",
            ViewSubmissions => "see the students' submissions",
            RollbackSubmission => "roll a student's VM back to a submission",
            SetDeadline => "set the submission deadline",
            ManageSessions => "add or remove class sessions",
            ViewAudit => "read the class's audit trail",
            ViewAllAudit => "read the whole audit trail",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The right an action needs: named in every refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Anyone known to pvelab.
    AnyUser,
    /// The teacher role (or adminer).
    TeacherRole,
    /// Teacher or co-owner of this class, or adminer.
    ClassTeacher,
    /// The class's primary teacher, or adminer.
    PrimaryTeacher,
    /// The adminer role (or, for cluster-scoped actions, administering that cluster).
    Adminer,
    /// A person (the system actor may not do this).
    Person,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Requirement::AnyUser => "a known user",
            Requirement::TeacherRole => "the teacher role",
            Requirement::ClassTeacher => {
                "the teacher role and being this class's teacher or co-owner, or the adminer role"
            }
            Requirement::PrimaryTeacher => {
                "being this class's primary teacher, or the adminer role"
            }
            Requirement::Adminer => "the adminer role",
            Requirement::Person => "a person (not the system's background work)",
        })
    }
}

/// How the actor relates to the class an action concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassRelation {
    /// Not a teacher of this class (or no class concerned).
    None,
    /// A co-owner of the class.
    CoOwner,
    /// The class's primary teacher (`teacher_id`).
    PrimaryTeacher,
}

/// How the actor relates to the cluster an action concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClusterRelation {
    /// No special rights on this cluster (or no cluster concerned).
    None,
    /// Listed in the cluster's `admin_users` or member of its `admin_group`.
    Admin,
}

/// Who performs an operation: a person with the role a front end vouched for, or the core's
/// own background work (the system actor).
///
/// Actors are made only by the [`Lab`](crate::Lab) (`Lab::actor`, `Lab::actor_with_role`), so
/// no caller can forge one. They are meant to be short-lived: a front end builds one per
/// request from the roles it sees right then (a Discord member's roles in that interaction), so a
/// demoted person loses their rights with their next request. The core still checks every
/// operation against the actor's role and the relations it reads inside the operation's
/// transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    who: Who,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Person(UserId),
    System,
}

impl Actor {
    /// A person with a role the caller vouches for.
    pub(crate) fn new(user_id: UserId, role: Role) -> Self {
        Self {
            who: Who::Person(user_id),
            role,
        }
    }

    /// The core's background work: reconciliation, the scheduler's jobs, automatic shutdowns.
    /// The permission table gives it exactly what that work needs ([`Action::system_may`]).
    pub(crate) fn system() -> Self {
        Self {
            who: Who::System,
            // Not used for the system's rights (see `is_permitted_for`); the lowest role, so a
            // mistake can only ever take rights away.
            role: Role::User,
        }
    }

    /// The person's user id; `None` for the system actor.
    pub fn user_id(&self) -> Option<UserId> {
        match self.who {
            Who::Person(id) => Some(id),
            Who::System => None,
        }
    }

    /// Whether this is the core's own background work.
    pub fn is_system(&self) -> bool {
        self.who == Who::System
    }

    /// The person's role (the system actor reports `user`; its rights come from the table).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The person behind the actor, or a refusal of `action` for the system actor (operations
    /// that only make sense for a person: joining, "my VMs").
    ///
    /// # Errors
    /// [`Error::NotPermitted`] for the system actor.
    pub(crate) fn person(&self, action: Action) -> Result<UserId> {
        self.user_id().ok_or(Error::NotPermitted {
            action,
            needed: Requirement::Person,
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.who {
            Who::Person(id) => write!(f, "user {id} ({})", self.role),
            Who::System => f.write_str("system"),
        }
    }
}

/// The permission table itself: whether `role` with these relations may perform `action`.
pub fn is_permitted(
    role: Role,
    action: Action,
    class: ClassRelation,
    cluster: ClusterRelation,
) -> bool {
    if role == Role::Adminer {
        return true;
    }
    match action.requirement() {
        Requirement::AnyUser => true,
        Requirement::TeacherRole => role >= Role::Teacher,
        // A demoted teacher who is still listed as co-owner loses the class rights with the role.
        Requirement::ClassTeacher => role >= Role::Teacher && class != ClassRelation::None,
        Requirement::PrimaryTeacher => {
            role >= Role::Teacher && class == ClassRelation::PrimaryTeacher
        }
        Requirement::Adminer => action.is_cluster_scoped() && cluster == ClusterRelation::Admin,
        // No action requires this of people; it only names the system actor's refusals.
        Requirement::Person => true,
    }
}

/// Checks that `actor` may perform `action` on a class they relate to as `class` (use
/// [`ClassRelation::None`] when no class is concerned).
///
/// # Errors
/// [`Error::NotPermitted`] naming the action and the missing right.
///
/// # Examples
/// ```
/// use pvelab_core::rules::permissions::{authorize, Action, ClassRelation};
/// use pvelab_core::types::{ExternalId, Role};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lab = pvelab_core::Lab::open_in_memory().await?;
/// let tom = lab.ensure_user(&ExternalId::parse("discord:2")?, Some("Tom")).await?;
/// let teacher = lab.actor_with_role(tom.id, Role::Teacher);
/// assert!(authorize(&teacher, Action::ResizePool, ClassRelation::CoOwner).is_ok());
/// assert!(authorize(&teacher, Action::DeleteClass, ClassRelation::CoOwner).is_err());
/// # Ok::<(), pvelab_core::Error>(())
/// # }).unwrap();
/// ```
pub fn authorize(actor: &Actor, action: Action, class: ClassRelation) -> Result<()> {
    check(actor, action, class, ClusterRelation::None)
}

/// Checks a cluster-scoped action (clusters, templates, ISOs) on a cluster the actor relates to
/// as `cluster`; for other actions the relation grants nothing.
///
/// # Errors
/// [`Error::NotPermitted`] naming the action and the missing right.
pub fn authorize_on_cluster(actor: &Actor, action: Action, cluster: ClusterRelation) -> Result<()> {
    check(actor, action, ClassRelation::None, cluster)
}

fn check(
    actor: &Actor,
    action: Action,
    class: ClassRelation,
    cluster: ClusterRelation,
) -> Result<()> {
    let permitted = if actor.is_system() {
        action.system_may()
    } else {
        is_permitted(actor.role, action, class, cluster)
    };
    if permitted {
        Ok(())
    } else {
        Err(Error::NotPermitted {
            action,
            needed: if actor.is_system() {
                Requirement::Person
            } else {
                action.requirement()
            },
        })
    }
}

#[cfg(test)]
#[path = "permissions_tests.rs"]
mod tests;
