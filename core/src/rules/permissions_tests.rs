//! The permission table of the issue, written out row by row and checked for every role and
//! every relation to the class and to the cluster.

use super::*;

use ClassRelation as C;
use ClusterRelation as K;

/// Columns: user (any relation), teacher primary, teacher co-owner, teacher of another class,
/// adminer; then whether administering the cluster concerned grants it to a user or teacher.
/// `Y` = allowed, `.` = refused. Written by hand from the table, not derived from code.
const TABLE: &[(Action, &str, bool)] = &[
    (Action::JoinClass, "YYYYY", false),
    (Action::ViewOwnVms, "YYYYY", false),
    (Action::ViewClass, "YYYYY", false),
    (Action::ControlOwnVm, "YYYYY", false),
    (Action::LeaveClass, "YYYYY", false),
    (Action::CreateClass, ".YYYY", false),
    (Action::ViewOtherUsers, ".YYYY", false),
    (Action::EditClassSettings, ".YY.Y", false),
    (Action::ManageJoinToken, ".YY.Y", false),
    (Action::ResizePool, ".YY.Y", false),
    (Action::AssignVm, ".YY.Y", false),
    (Action::ResetUsage, ".YY.Y", false),
    (Action::PublishTemplate, ".YY.Y", false),
    (Action::ListStudents, ".YY.Y", false),
    (Action::ControlStudentVm, ".YY.Y", false),
    (Action::DeleteClass, ".Y..Y", false),
    (Action::ManageCoOwners, ".Y..Y", false),
    (Action::ManageClusters, "....Y", true),
    (Action::ManageSettings, "....Y", false),
    (Action::ListAllClasses, "....Y", false),
    (Action::ManageRoles, "....Y", false),
    (Action::ManageAccounts, "....Y", false),
    (Action::RecordUsage, "....Y", false),
    (Action::ManageTemplates, "....Y", true),
    (Action::ManageIsos, "....Y", true),
    (Action::DefineChecks, ".YY.Y", false),
    (Action::RunChecks, ".YY.Y", false),
    (Action::CheckOwnVm, "YYYYY", false),
    (Action::SubmitWork, "YYYYY", false),
    (Action::ViewSubmissions, ".YY.Y", false),
    (Action::RollbackSubmission, ".YY.Y", false),
    (Action::SetDeadline, ".YY.Y", false),
    (Action::ManageSessions, ".YY.Y", false),
    (Action::ViewAudit, ".YY.Y", false),
    (Action::ViewAllAudit, "....Y", false),
];

fn actor(role: Role) -> Actor {
    Actor::new(UserId::new(42), role)
}

#[test]
fn the_table_lists_every_action_once() {
    let listed: Vec<Action> = TABLE.iter().map(|(a, _, _)| *a).collect();
    assert_eq!(listed, Action::ALL.to_vec());
}

#[test]
fn every_row_of_the_permission_table_holds_for_every_role_and_relation() {
    for &(action, row, _) in TABLE {
        let cells: Vec<bool> = row.chars().map(|c| c == 'Y').collect();
        let [user, primary, co_owner, other, adminer] = cells[..] else {
            panic!("row of {action:?} must have five cells");
        };
        // A user's relation to a class never grants anything; try them all.
        for rel in [C::None, C::CoOwner, C::PrimaryTeacher] {
            let got = authorize(&actor(Role::User), action, rel).is_ok();
            assert_eq!(got, user, "user, {rel:?}, {action:?}");
            let got = authorize(&actor(Role::Adminer), action, rel).is_ok();
            assert_eq!(got, adminer, "adminer, {rel:?}, {action:?}");
        }
        let teacher = |rel| authorize(&actor(Role::Teacher), action, rel).is_ok();
        assert_eq!(
            teacher(C::PrimaryTeacher),
            primary,
            "primary teacher, {action:?}"
        );
        assert_eq!(teacher(C::CoOwner), co_owner, "co-owner, {action:?}");
        assert_eq!(
            teacher(C::None),
            other,
            "teacher of another class, {action:?}"
        );
    }
}

#[test]
fn administering_a_cluster_grants_only_that_clusters_actions() {
    for &(action, row, cluster_admin_grants) in TABLE {
        let everyone = row == "YYYYY";
        // Rows open to the teacher role (creating a class, seeing other users).
        let teacher_role = row == ".YYYY";
        for role in [Role::User, Role::Teacher] {
            let got = authorize_on_cluster(&actor(role), action, K::Admin).is_ok();
            let expected =
                cluster_admin_grants || everyone || (teacher_role && role == Role::Teacher);
            assert_eq!(
                got, expected,
                "{role} administering the cluster, {action:?}"
            );
            let got = authorize_on_cluster(&actor(role), action, K::None).is_ok();
            let expected = everyone || (teacher_role && role == Role::Teacher);
            assert_eq!(
                got, expected,
                "{role} not administering the cluster, {action:?}"
            );
        }
        assert!(authorize_on_cluster(&actor(Role::Adminer), action, K::None).is_ok());
    }
}

#[test]
fn a_refusal_names_the_action_and_the_right_it_needs() {
    let err = authorize(&actor(Role::Teacher), Action::ManageCoOwners, C::CoOwner).unwrap_err();
    match err {
        Error::NotPermitted { action, needed } => {
            assert_eq!(action, Action::ManageCoOwners);
            assert_eq!(needed, Requirement::PrimaryTeacher);
        }
        other => panic!("expected NotPermitted, got {other:?}"),
    }
}

#[test]
fn a_refused_user_is_told_a_teacher_role_is_needed_to_create_a_class() {
    let err = authorize(&actor(Role::User), Action::CreateClass, C::None).unwrap_err();
    assert!(err.to_string().contains("the teacher role"), "{err}");
}

#[test]
fn the_system_actor_may_do_exactly_what_background_work_needs() {
    let system = Actor::system();
    for action in Action::ALL {
        let got = authorize(&system, action, C::None).is_ok();
        assert_eq!(got, action.system_may(), "system, {action:?}");
    }
    // Keeping pools and usage in line: yes. People's decisions: never.
    for allowed in [
        Action::ResizePool,
        Action::ControlStudentVm,
        Action::RecordUsage,
    ] {
        assert!(authorize(&system, allowed, C::None).is_ok(), "{allowed:?}");
    }
    for refused in [
        Action::JoinClass,
        Action::CreateClass,
        Action::DeleteClass,
        Action::ManageJoinToken,
        Action::ManageRoles,
        Action::ManageSettings,
        Action::ManageAccounts,
        // Commands that run as root in students' VMs, and students' submissions, are people's
        // decisions too (deadline snapshots are taken as control of the students' VMs).
        Action::DefineChecks,
        Action::RunChecks,
        Action::SubmitWork,
        Action::RollbackSubmission,
        Action::SetDeadline,
        Action::ManageSessions,
        Action::ViewAllAudit,
    ] {
        let err = authorize(&system, refused, C::PrimaryTeacher).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotPermitted {
                    needed: Requirement::Person,
                    ..
                }
            ),
            "{refused:?}: {err:?}"
        );
    }
}

#[test]
fn the_system_actor_is_named_as_such_and_has_no_user_id() {
    let system = Actor::system();
    assert!(system.is_system());
    assert_eq!(system.user_id(), None);
    assert_eq!(system.to_string(), "system");
    assert!(system.person(Action::JoinClass).is_err());
    let person = actor(Role::Teacher);
    assert!(!person.is_system());
    assert!(person.to_string().starts_with("user "), "{person}");
}
