//! The authorization sweep: every command of the bot's catalogue, run by every kind of caller
//! (a student of the class, a teacher who does not own it, the teacher who does, an adminer)
//! through the command code both front ends share, answers as the core's permission table
//! says: a permitted caller is never refused for permissions, anyone else gets the permission
//! refusal, rendered as "You may not ...".
//!
//! The sweep walks the catalogue (`COMMANDS`); each command's row in the table is the core
//! action it performs ([`action_of`]), an exhaustive match, so a command added to the
//! catalogue does not compile here until it has its row.
//!
//! Each command runs in a world of its own (a lab on a SQLite file, a simulated cluster over
//! HTTPS on 127.0.0.1, one class with four student VMs, three of them held), callers from the
//! least to the most privileged, so a refused caller cannot have changed anything the next one
//! sees. Every option gets a value (confirmations included), so a command reaches the core's
//! decision instead of stopping at a question.

use pvelab_bot::app::clusters::operator;
use pvelab_bot::commands::catalogue::{CommandId, OptionKind, COMMANDS};
use pvelab_bot::commands::{dispatch, CommandContext, CommandError, CommandSpec, Invocation};
use pvelab_bot::commands::{Invoker, Reply};
use pvelab_bot::parse::people::{ConsoleName, UserRef};
use pvelab_bot::render::errors::error_reply;
use pvelab_bot::render::text::plain;
use pvelab_core::model::{
    ClusterCredential, NewClass, NewCluster, NewPoolVm, SettingKey, TokenExpiry,
};
use pvelab_core::rules::permissions::{is_permitted, Action, ClassRelation, ClusterRelation};
use pvelab_core::types::{
    ApiTokenId, ClassName, ClusterId, ClusterTrust, ExternalId, Fingerprint, Host, NodeName,
    PoolSize, Role, VmId,
};
use pvelab_core::{Error, Lab, LabConfig, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use secrecy::SecretString;

/// The class every world has, and the cluster it lives on.
const CLASS: &str = "net101";
const CLUSTER: &str = "pve1";

/// The core action a command performs: its row in the permission table. `class` tells whether
/// the caller's relation to the command's class matters (the table's "own or co-owned class"
/// columns).
struct Row {
    action: Action,
    class: bool,
}

fn action_of(id: CommandId) -> Row {
    use CommandId as C;
    let (action, class) = match id {
        C::Join => (Action::JoinClass, false),
        C::MyVm => (Action::ViewOwnVms, false),
        C::VmStart | C::VmStop | C::VmRestart | C::VmRevert | C::VmReimage | C::VmRdp | C::VmIp => {
            (Action::ControlOwnVm, false)
        }
        C::VmCheck => (Action::CheckOwnVm, false),
        C::VmSubmit => (Action::SubmitWork, false),
        C::Leave => (Action::LeaveClass, false),
        C::ClassCreate | C::ClassImport => (Action::CreateClass, false),
        // The console has no front-end scope: an adminer's class list is every scope's, anyone
        // else's the classes they see among those made without a scope.
        C::ClassList => (Action::ViewClass, false),
        C::ClassInfo | C::ClassStudents | C::PoolStatus => (Action::ListStudents, true),
        C::ClassSettings => (Action::EditClassSettings, true),
        C::ClassToken | C::ClassRevokeToken => (Action::ManageJoinToken, true),
        C::ClassCoownerAdd | C::ClassCoownerRemove => (Action::ManageCoOwners, true),
        C::ClassDelete => (Action::DeleteClass, true),
        C::PoolResize => (Action::ResizePool, true),
        C::PoolAssign | C::PoolUnassign => (Action::AssignVm, true),
        C::PoolResetUsage => (Action::ResetUsage, true),
        C::PoolRollback => (Action::RollbackSubmission, true),
        C::TemplatePublish => (Action::PublishTemplate, true),
        C::CheckAdd | C::CheckRemove => (Action::DefineChecks, true),
        C::CheckList | C::CheckRun => (Action::RunChecks, true),
        // Everyone in the class may list submissions; the core shows a student only their own
        // (`Lab::submissions`), the class's teachers everyone's (`Action::ViewSubmissions`).
        C::ClassSubmissions => (Action::ViewClass, false),
        C::ClassDeadline => (Action::SetDeadline, true),
        // The templates a class may be created from: what `/class create` needs to name one.
        C::TemplateList => (Action::CreateClass, false),
        C::ClassSessionAdd | C::ClassSessionRemove => (Action::ManageSessions, true),
        // Like submissions: everyone in the class sees its sessions.
        C::ClassSessionList => (Action::ViewClass, false),
        // Named with a class, the trail is the class's (its teachers); without, everyone's.
        C::Audit => (Action::ViewAudit, true),
        C::ReportUsage => (Action::ListStudents, true),
        C::PoolPlan => (Action::ResizePool, true),
        C::IsoList => (Action::ManageIsos, false),
        C::ClusterList | C::ClusterTest | C::ClusterSet | C::SyncNow => {
            (Action::ManageClusters, false)
        }
        C::SettingsGet | C::SettingsSet => (Action::ManageSettings, false),
        C::RoleSet => (Action::ManageRoles, false),
    };
    Row { action, class }
}

/// A kind of caller: their console name, the role the front end grants, and how they relate
/// to the world's class.
#[derive(Debug, Clone, Copy)]
struct Caller {
    name: &'static str,
    role: Role,
    owns: bool,
}

/// From the least to the most privileged. The student and the other teacher are enrolled in
/// the class (each holds a VM), so the class is visible to them and a refusal can only be the
/// permission table's.
const CALLERS: [Caller; 4] = [
    Caller {
        name: "alice",
        role: Role::User,
        owns: false,
    },
    Caller {
        name: "sue",
        role: Role::Teacher,
        owns: false,
    },
    Caller {
        name: "tom",
        role: Role::Teacher,
        owns: true,
    },
    Caller {
        name: "ada",
        role: Role::Adminer,
        owns: false,
    },
];

/// The person the `user` options name: a student of the class holding a VM.
const TARGET: &str = "bob";

/// A lab with the simulator as cluster `pve1`, class `net101` of tom with four student VMs
/// registered (slots 1 to 4); alice, sue and bob joined and hold slots 1 to 3.
struct World {
    _sim: SimHandle,
    _dir: tempfile::TempDir,
    lab: Lab,
    token: String,
    free_vm: VmId,
}

fn console_id(name: &str) -> ExternalId {
    ExternalId::parse(&format!("console:{name}")).expect("external id")
}

async fn world() -> World {
    let sim = Sim::start(SimConfig::fast()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = Lab::open(
        LabConfig::file(dir.path().join("lab.db")).with_sealing_key(SealingKey::generate()),
    )
    .await
    .expect("lab");
    let admin = operator(&lab).await.expect("operator");
    let token = sim.api_token();
    let (id, secret) = token.split_once('=').expect("token");
    let new = NewCluster::new(
        ClusterId::parse(CLUSTER).expect("cluster"),
        Host::parse(&sim.addr().ip().to_string()).expect("host"),
        ClusterCredential::ApiToken {
            id: ApiTokenId::parse(id).expect("token id"),
            secret: SecretString::from(secret.to_owned()),
        },
    )
    .port(sim.addr().port())
    .trust(ClusterTrust::Fingerprint(
        Fingerprint::parse(&sim.fingerprint()).expect("pin"),
    ));
    lab.add_cluster(&admin, new).await.expect("cluster");

    let tom = lab
        .ensure_user(&console_id("tom"), Some("tom"))
        .await
        .expect("tom");
    let tom = lab.actor_with_role(tom.id, Role::Teacher);
    let class = lab
        .create_class(
            &tom,
            NewClass::new(
                ClassName::parse(CLASS).expect("name"),
                PoolSize::new(4).expect("size"),
            ),
        )
        .await
        .expect("class");
    for slot in 1..=4 {
        let vm = NewPoolVm {
            cluster_id: ClusterId::parse(CLUSTER).expect("cluster"),
            vmid: class.scheme.student_vmid(slot).expect("slot"),
            manual: false,
            node: Some(NodeName::parse("pve1").expect("node")),
            name: Some(format!("{CLASS}-{slot:02}")),
            mac_address: None,
        };
        lab.register_vm(&tom, class.id, vm).await.expect("vm");
    }
    let token = lab
        .rotate_token(&tom, class.id, TokenExpiry::Never)
        .await
        .expect("token")
        .token;
    for name in ["alice", "sue", TARGET] {
        let user = lab
            .ensure_user(&console_id(name), Some(name))
            .await
            .expect("user");
        let actor = lab.actor(user.id).await.expect("actor");
        lab.join(&actor, &token).await.expect("join");
    }
    World {
        _sim: sim,
        _dir: dir,
        lab,
        token: token.expose().to_owned(),
        free_vm: class.scheme.student_vmid(4).expect("slot 4"),
    }
}

/// A valid value for every option, naming the world's class, cluster and people.
fn value(world: &World, name: &str, kind: OptionKind) -> String {
    use OptionKind as K;
    match kind {
        K::TimeOfDay if name == "end" => "11:00".into(),
        K::TimeOfDay => "09:00".into(),
        K::Weekday => "monday".into(),
        // A day in the past: a report's period, never a session's (see `options_of`).
        K::Date => "2026-11-30".into(),
        K::Token => world.token.clone(),
        K::Class => CLASS.into(),
        K::ClassName => "net102".into(),
        K::Template => "9000".into(),
        K::PoolSize => "2".into(),
        K::Cores => "2".into(),
        K::Memory => "2048".into(),
        K::Disk => "32".into(),
        K::Node => "pve1".into(),
        K::Cluster => CLUSTER.into(),
        K::Hours => "08-18".into(),
        K::TimeZone => "Europe/Berlin".into(),
        K::Quota => "10".into(),
        K::Idle => "30m".into(),
        K::Expires => "7d".into(),
        K::User => TARGET.into(),
        K::Role => "teacher".into(),
        K::Flag => "yes".into(),
        K::Vmid => world.free_vm.to_string(),
        K::VmidPrefix => "12".into(),
        K::Integer => "1".into(),
        K::SettingKey => SettingKey::JoinRateLimit.name().into(),
        K::SettingValue => "30".into(),
        K::Choice(choices) => choices[0].into(),
        K::Check => "web-up".into(),
        K::Command => "systemctl is-active nginx".into(),
        K::Timeout => "30".into(),
        K::Pattern => "^active$".into(),
        K::Deadline => "2d".into(),
        K::Snapshot => "submit-20260131T081530Z".into(),
    }
}

async fn run(
    world: &World,
    spec: &'static CommandSpec,
    caller: Caller,
) -> Result<Reply, CommandError> {
    let options = spec
        .options
        .iter()
        // A session is weekly (day) or once (date), never both: the sweep adds a weekly one.
        .filter(|o| !(spec.id == CommandId::ClassSessionAdd && o.name == "date"))
        .map(|o| (o.name.to_owned(), value(world, o.name, o.kind)))
        .collect();
    let call = Invocation::new(spec, options).expect("every option is the command's own");
    let ctx = CommandContext::new(
        world.lab.clone(),
        Invoker {
            who: UserRef::Console(ConsoleName::parse(caller.name).expect("console name")),
            display_name: caller.name.to_owned(),
            role: caller.role,
        },
        None,
    );
    dispatch(&ctx, &call).await
}

/// What the table says of `caller` running a command of row `row`.
fn permitted(row: &Row, caller: Caller) -> bool {
    let relation = if row.class && caller.owns {
        ClassRelation::PrimaryTeacher
    } else {
        ClassRelation::None
    };
    is_permitted(caller.role, row.action, relation, ClusterRelation::None)
}

/// How the outcome disagrees with the table, if it does.
fn disagreement(allowed: bool, result: &Result<Reply, CommandError>) -> Option<String> {
    let refused = matches!(result, Err(CommandError::Core(Error::NotPermitted { .. })));
    match (allowed, result) {
        (true, _) if refused => Some(format!("permitted but refused: {result:?}")),
        (true, _) => None,
        (false, Err(e)) if refused => {
            let text = plain(&error_reply(e));
            (!text.starts_with("You may not "))
                .then(|| format!("refused, but rendered as {text:?}"))
        }
        (false, other) => Some(format!("not permitted, yet answered {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_and_every_caller_agree_with_the_permission_table() {
    let mut wrong = Vec::new();
    let (mut allowed_runs, mut refused_runs) = (0, 0);
    for spec in COMMANDS {
        let row = action_of(spec.id);
        let world = world().await;
        for caller in CALLERS {
            let allowed = permitted(&row, caller);
            let result = run(&world, spec, caller).await;
            if allowed {
                allowed_runs += 1;
            } else {
                refused_runs += 1;
            }
            if let Some(why) = disagreement(allowed, &result) {
                wrong.push(format!(
                    "{} as {} ({:?}, row {:?}): {why}",
                    spec.usage_name(),
                    caller.name,
                    caller.role,
                    row.action
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The sweep is not vacuous: both sides of the table were exercised.
    assert!(
        allowed_runs > COMMANDS.len(),
        "{allowed_runs} permitted runs"
    );
    assert!(refused_runs > COMMANDS.len(), "{refused_runs} refused runs");
}

/// The judge itself: a refusal where the table allows, or an answer where it forbids, is
/// reported; the permission refusal where it forbids is not.
#[test]
fn the_sweep_reports_both_kinds_of_disagreement() {
    let refusal = || {
        Err(CommandError::Core(Error::NotPermitted {
            action: Action::ManageSettings,
            needed: pvelab_core::rules::permissions::Requirement::Adminer,
        }))
    };
    assert!(disagreement(true, &refusal()).is_some());
    assert!(disagreement(false, &refusal()).is_none());
    assert!(disagreement(false, &Ok(Reply::text("done"))).is_some());
    assert!(disagreement(true, &Ok(Reply::text("done"))).is_none());
    assert!(disagreement(false, &Err(CommandError::Core(Error::NoFreeVm))).is_some());
}
