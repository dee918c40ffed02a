//! The permission table of issue 4, row by row, through the facade: the core refuses with a
//! typed error naming the missing right, whatever the front end did.

use jiff::SignedDuration;
use pvelab_core::model::ClassSettings;
use pvelab_core::model::TokenExpiry;
use pvelab_core::model::{Class, NewClass};
use pvelab_core::rules::permissions::{Action, Actor};
use pvelab_core::types::{Role, UserName};
use pvelab_core::{Error, Result};
use secrecy::SecretString;

use crate::support::{class_with_vms, name, pool_size, scope, user, vm_of, world, ActorId, World};

/// The five kinds of actor of the table's columns.
struct Cast {
    student: Actor,
    other_teacher: Actor,
    co_owner: Actor,
    primary: Actor,
    adminer: Actor,
}

async fn cast(w: &World, class: &Class) -> Cast {
    let co_owner = user(&w.lab, "co-owner", Role::Teacher).await;
    w.lab
        .add_co_owner(&w.teacher, class.id, co_owner.uid())
        .await
        .expect("co-owner");
    Cast {
        student: w.student("student").await,
        other_teacher: user(&w.lab, "other-teacher", Role::Teacher).await,
        co_owner,
        primary: w.teacher,
        adminer: w.admin,
    }
}

fn password(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn login(text: &str) -> UserName {
    UserName::parse(text).expect("valid user name")
}

fn verdict<T>(result: Result<T>) -> bool {
    match result {
        Ok(_) => true,
        Err(Error::NotPermitted { .. }) => false,
        Err(other) => panic!("expected success or NotPermitted, got {other:?}"),
    }
}

/// Expected outcome per column: student, other teacher, co-owner, primary teacher, adminer.
fn actors(c: &Cast) -> [(&'static str, Actor); 5] {
    [
        ("student", c.student),
        ("other teacher", c.other_teacher),
        ("co-owner", c.co_owner),
        ("primary teacher", c.primary),
        ("adminer", c.adminer),
    ]
}

#[tokio::test]
async fn joining_seeing_own_vms_and_leaving_are_open_to_everyone() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 10, 10).await;
    let c = cast(&w, &class).await;
    for (who, actor) in actors(&c) {
        assert!(verdict(w.lab.join(&actor, &token).await), "{who} joins");
        assert!(verdict(w.lab.my_vms(&actor).await), "{who} sees own VMs");
        assert!(verdict(w.lab.leave(&actor, class.id).await), "{who} leaves");
    }
}

#[tokio::test]
async fn a_class_is_seen_by_its_teachers_its_students_and_adminers_only() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    let c = cast(&w, &class).await;
    let enrolled = w.student("enrolled").await;
    w.join(&enrolled, &token).await;
    let expected = [false, false, true, true, true];
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        let by_id = w.lab.class(&actor, class.id).await;
        let by_name = w
            .lab
            .class_by_name(&actor, class.scope.as_ref(), &class.name)
            .await;
        match (by_id, by_name) {
            (Ok(by_id), Ok(by_name)) => {
                assert!(expected[i], "{who} sees the class");
                assert_eq!(by_id.id, class.id, "{who} by id");
                assert_eq!(by_name, by_id, "{who} by name");
            }
            (Err(Error::NotFound { .. }), Err(Error::NotFound { .. })) => {
                assert!(!expected[i], "{who} is told it does not exist");
            }
            other => panic!("{who}: {other:?}"),
        }
    }
    let seen = w
        .lab
        .class(&enrolled, class.id)
        .await
        .expect("a student sees it");
    assert_eq!(seen.id, class.id);
}

#[tokio::test]
async fn everyone_reads_themselves_but_only_teachers_and_adminers_read_others() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 0).await;
    let c = cast(&w, &class).await;
    let expected = [false, true, true, true, true];
    let someone = w.student("someone").await.uid();
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        let me = w.lab.user(&actor, actor.uid()).await.expect(who);
        assert_eq!(me.id, actor.uid(), "{who} reads themselves");
        assert_eq!(
            verdict(w.lab.user(&actor, someone).await),
            expected[i],
            "{who} reads someone else"
        );
    }
}

#[tokio::test]
async fn a_student_reading_another_user_is_told_it_needs_the_teacher_role() {
    let w = world().await;
    let student = w.student("s").await;
    let refused = w
        .lab
        .user(&student, w.teacher.uid())
        .await
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "you may not see other users: that needs the teacher role"
    );
}

#[tokio::test]
async fn creating_a_class_needs_the_teacher_role() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 0).await;
    let c = cast(&w, &class).await;
    let expected = [false, true, true, true, true];
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        let created = w
            .lab
            .create_class(
                &actor,
                NewClass::new(name(&format!("new {i}")), pool_size(1)),
            )
            .await;
        assert_eq!(verdict(created), expected[i], "{who} creates a class");
    }
}

#[tokio::test]
async fn managing_a_class_needs_being_its_teacher_or_co_owner_or_adminer() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 2).await;
    let c = cast(&w, &class).await;
    let expected = [false, false, true, true, true];
    let target = w.student("target").await.uid();
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        let id = class.id;
        let describe = ClassSettings {
            description: Some(Some(format!("by {who}"))),
            ..ClassSettings::default()
        };
        let settings = w.lab.update_class(&actor, id, describe).await;
        assert_eq!(verdict(settings), expected[i], "{who}: settings");
        let resize = ClassSettings {
            pool_size: Some(pool_size(6)),
            ..ClassSettings::default()
        };
        assert_eq!(
            verdict(w.lab.update_class(&actor, id, resize).await),
            expected[i],
            "{who}: pool size"
        );
        let token = w.lab.rotate_token(&actor, id, TokenExpiry::Never).await;
        assert_eq!(verdict(token), expected[i], "{who}: token");
        assert_eq!(
            verdict(w.lab.students(&actor, id).await),
            expected[i],
            "{who}: students"
        );
        assert_eq!(
            verdict(w.lab.pool(&actor, id).await),
            expected[i],
            "{who}: pool"
        );
        assert_eq!(
            verdict(w.lab.reset_usage(&actor, id, None).await),
            expected[i],
            "{who}: usage"
        );
        let assigned = w.lab.assign(&actor, id, target, None).await;
        assert_eq!(verdict(assigned), expected[i], "{who}: assign");
        if expected[i] {
            w.lab.unassign(&actor, id, target).await.expect("unassign");
            let vm = w.lab.pool(&actor, id).await.expect("pool");
            for vm in vm.iter().filter(|vm| vm.needs_reimage) {
                w.lab
                    .mark_reimaged(&actor, id, &vm.vm_ref())
                    .await
                    .expect("reimaged");
            }
        } else {
            assert!(
                !verdict(w.lab.unassign(&actor, id, target).await),
                "{who}: unassign"
            );
        }
    }
}

#[tokio::test]
async fn deleting_a_class_and_managing_co_owners_need_the_primary_teacher_or_adminer() {
    let w = world().await;
    let expected = [false, false, false, true, true];
    for (i, allowed) in expected.into_iter().enumerate() {
        let (class, _) = class_with_vms(&w, &format!("c{i}"), 5, 0).await;
        let c = cast(&w, &class).await;
        let (who, actor) = actors(&c)[i];
        let someone = user(&w.lab, &format!("x{i}"), Role::Teacher).await.uid();
        let added = w.lab.add_co_owner(&actor, class.id, someone).await;
        assert_eq!(verdict(added), allowed, "{who}: add co-owner");
        let removed = w
            .lab
            .remove_co_owner(&actor, class.id, c.co_owner.uid())
            .await;
        assert_eq!(verdict(removed), allowed, "{who}: remove co-owner");
        assert_eq!(
            verdict(w.lab.delete_class(&actor, class.id).await),
            allowed,
            "{who}: delete"
        );
    }
}

#[tokio::test]
async fn clusters_roles_logins_and_usage_feeds_are_for_adminers_only() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 1).await;
    let vmid = class.scheme.student_vmid(1).expect("slot");
    let local = w
        .lab
        .create_local_user(&w.admin, &login("local"), &password("pw"), Role::User)
        .await
        .expect("local login");
    let c = cast(&w, &class).await;
    let expected = [false, false, false, false, true];
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        assert_eq!(
            verdict(w.lab.clusters(&actor).await),
            expected[i],
            "{who}: clusters"
        );
        let promote = w.lab.set_role(&actor, c.student.uid(), Role::User).await;
        assert_eq!(verdict(promote), expected[i], "{who}: roles");
        assert_eq!(
            verdict(w.lab.classes(&actor, None).await),
            expected[i],
            "{who}: all classes"
        );
        let login = w
            .lab
            .create_local_user(
                &actor,
                &login(&format!("login{i}")),
                &password("pw"),
                Role::User,
            )
            .await;
        assert_eq!(verdict(login), expected[i], "{who}: create a login");
        let other_password = w.lab.set_password(&actor, local.id, &password("new")).await;
        assert_eq!(
            verdict(other_password),
            expected[i],
            "{who}: someone else's password"
        );
        let usage = w
            .lab
            .record_usage(&actor, &vm_of(vmid), SignedDuration::from_mins(1))
            .await;
        assert_eq!(verdict(usage), expected[i], "{who}: usage feed");
    }
}

#[tokio::test]
async fn a_teacher_listing_every_scope_is_told_it_needs_the_adminer_role() {
    let w = world().await;
    let refused = w.lab.classes(&w.teacher, None).await.expect_err("refused");
    assert!(
        matches!(
            refused,
            Error::NotPermitted {
                action: Action::ListAllClasses,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "you may not list the classes of every scope: that needs the adminer role"
    );
    let own_scope = w.lab.classes(&w.teacher, Some(&scope("guild-1"))).await;
    assert!(own_scope.is_ok(), "one scope is open: {own_scope:?}");
}

/// `classes_in(None)` is a console's "my classes": the unscoped classes each person sees, for
/// every role, and never a scoped class (that stays `classes(None)`, the adminers').
#[tokio::test]
async fn the_classes_without_a_scope_are_listed_for_whoever_sees_them() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    let mut scoped = NewClass::new(name("d"), pool_size(1));
    scoped.scope = Some(scope("guild-1"));
    w.lab
        .create_class(&w.teacher, scoped)
        .await
        .expect("a class of a scope");
    let c = cast(&w, &class).await;
    let enrolled = w.student("enrolled").await;
    w.join(&enrolled, &token).await;
    let names = |classes: Vec<Class>| -> Vec<String> {
        classes.into_iter().map(|c| c.name.to_string()).collect()
    };
    let expected: [&[&str]; 5] = [&[], &[], &["c"], &["c"], &["c"]];
    for (i, (who, actor)) in actors(&c).into_iter().enumerate() {
        let listed = w.lab.classes_in(&actor, None).await.expect("listed");
        assert_eq!(names(listed), expected[i], "{who}");
    }
    let listed = w.lab.classes_in(&enrolled, None).await.expect("listed");
    assert_eq!(names(listed), ["c"], "an enrolled student");
    let scoped = w.lab.classes_in(&w.teacher, Some(&scope("guild-1"))).await;
    assert_eq!(names(scoped.expect("listed")), ["d"], "one scope");
}

#[tokio::test]
async fn a_refusal_names_the_action_and_the_missing_right() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 0).await;
    let student = w.student("s").await;
    let refused = w
        .lab
        .rotate_token(&student, class.id, TokenExpiry::Never)
        .await
        .expect_err("refused");
    let text = refused.to_string();
    assert!(
        text.contains("join token") && text.contains("teacher"),
        "{text}"
    );
}
