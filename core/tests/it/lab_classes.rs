//! Classes through the facade: VMID allocation, names, settings, tokens, co-owners, deletion.

use jiff::SignedDuration;
use pvelab_core::model::ClassSettings;
use pvelab_core::model::NewClass;
use pvelab_core::model::{JoinToken, TokenExpiry};
use pvelab_core::types::{HoursWindow, Role, SchemeKind};
use pvelab_core::Error;

use crate::support::{assert_token_invalid, name, pool_size, scope, user, world, ActorId};

#[tokio::test]
async fn classes_get_disjoint_vmid_ranges_and_a_large_pool_gets_the_wide_plan() {
    let w = world().await;
    let small = w.class("small", 30).await;
    let large = w.class("large", 300).await;
    let next = w.class("next", 98).await;

    assert_eq!(small.scheme.kind(), SchemeKind::Classic);
    assert_eq!(large.scheme.kind(), SchemeKind::Wide);
    assert_eq!(large.scheme.student_slots(), 998);
    let ranges = [
        small.scheme.vmids(),
        large.scheme.vmids(),
        next.scheme.vmids(),
    ];
    for (i, a) in ranges.iter().enumerate() {
        for b in ranges.iter().skip(i + 1) {
            assert!(
                a.end() < b.start() || b.end() < a.start(),
                "{a:?} overlaps {b:?}"
            );
        }
    }
    assert_eq!(
        *small.scheme.vmids().start(),
        100,
        "lowest free range first"
    );
}

#[tokio::test]
async fn a_requested_prefix_overlapping_another_class_is_a_conflict() {
    let w = world().await;
    let mut classic = NewClass::new(name("classic"), pool_size(10));
    classic.vmid_prefix = Some(15); // VMIDs 1500-1599
    w.lab
        .create_class(&w.teacher, classic)
        .await
        .expect("classic");
    let mut wide = NewClass::new(name("wide"), pool_size(200));
    wide.vmid_prefix = Some(1); // VMIDs 1000-1999 would cover 1500-1599

    let refused = w
        .lab
        .create_class(&w.teacher, wide)
        .await
        .expect_err("overlap");

    assert!(
        matches!(&refused, Error::VmidRangeTaken { by, .. } if by.contains("classic")),
        "{refused:?}"
    );
    let all = w.lab.classes(&w.admin, None).await.expect("list");
    assert_eq!(all.len(), 1, "the refused class left nothing behind");
}

#[tokio::test]
async fn deleting_a_class_frees_its_vmid_range() {
    let w = world().await;
    let first = w.class("first", 10).await;
    w.lab
        .delete_class(&w.teacher, first.id)
        .await
        .expect("delete");
    let again = w.class("again", 10).await;
    assert_eq!(again.scheme, first.scheme);
    assert!(matches!(
        w.lab.class(&w.teacher, first.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn class_names_are_unique_within_a_scope_only() {
    let w = world().await;
    let mut a = NewClass::new(name("net101"), pool_size(5));
    a.scope = Some(scope("guild-1"));
    w.lab
        .create_class(&w.teacher, a.clone())
        .await
        .expect("first");
    let refused = w
        .lab
        .create_class(&w.teacher, a.clone())
        .await
        .expect_err("dup");
    assert!(
        matches!(
            &refused,
            Error::NameTaken {
                entity: pvelab_core::Entity::Class,
                ..
            }
        ),
        "{refused:?}"
    );
    a.scope = Some(scope("guild-2"));
    w.lab
        .create_class(&w.teacher, a)
        .await
        .expect("other scope");
    let found = w
        .lab
        .class_by_name(&w.teacher, Some(&scope("guild-2")), &name("net101"))
        .await
        .expect("by name");
    assert_eq!(found.scope, Some(scope("guild-2")));
    assert_eq!(
        w.lab
            .classes(&w.teacher, Some(&scope("guild-1")))
            .await
            .expect("list")
            .len(),
        1
    );
}

#[tokio::test]
async fn settings_change_and_a_pool_beyond_the_plan_is_refused_with_the_limit() {
    let w = world().await;
    let class = w.class("c", 20).await;
    let changed = w
        .lab
        .update_class(
            &w.teacher,
            class.id,
            ClassSettings {
                hours: Some(Some(HoursWindow::new(8, 18).expect("window"))),
                pool_size: Some(pool_size(98)),
                ..ClassSettings::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(
        changed.hours,
        Some(HoursWindow::new(8, 18).expect("window"))
    );
    assert_eq!(changed.pool_size.get(), 98);

    let refused = w
        .lab
        .update_class(
            &w.teacher,
            class.id,
            ClassSettings {
                pool_size: Some(pool_size(99)),
                ..ClassSettings::default()
            },
        )
        .await
        .expect_err("beyond plan");
    assert!(refused.to_string().contains("98"), "{refused}");
}

#[tokio::test]
async fn a_settings_change_that_sets_nothing_is_refused_and_changes_nothing() {
    let w = world().await;
    let class = w.class("c", 5).await;

    let refused = w
        .lab
        .update_class(&w.teacher, class.id, ClassSettings::default())
        .await
        .expect_err("empty change");

    match &refused {
        Error::InvalidValue(e) => {
            assert_eq!(e.field(), "class settings");
            assert!(e.allowed().contains("at least one setting"), "{refused}");
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    let after = w.lab.class(&w.teacher, class.id).await.expect("class");
    assert_eq!(after.updated_at, class.updated_at, "nothing was written");
}

#[tokio::test]
async fn a_wrong_token_and_an_expired_token_are_told_apart() {
    let w = world().await;
    let class = w.class("c", 5).await;
    let student = w.student("s").await;
    let soon = w.clock.now() + SignedDuration::from_secs(60);
    let expired = w.token(&class, TokenExpiry::At(soon)).await;
    w.clock.advance(SignedDuration::from_secs(61));

    let wrong = w.lab.join(&student, &JoinToken::generate()).await;
    let late = w
        .lab
        .join(&student, &expired.token)
        .await
        .expect_err("expired");

    assert_token_invalid(wrong);
    let TokenExpiry::At(stored) = expired.expiry else {
        panic!("expected an expiry instant")
    };
    assert!(stored.duration_since(soon).abs() < SignedDuration::from_millis(1));
    assert!(
        matches!(late, Error::TokenExpired { expired_at } if expired_at == stored),
        "{late:?}"
    );
}

#[tokio::test]
async fn rotating_revokes_the_old_token_and_revoking_stops_joins() {
    let w = world().await;
    let class = w.class("c", 5).await;
    let student = w.student("s").await;
    let old = w.token(&class, TokenExpiry::Never).await;
    let new = w.token(&class, TokenExpiry::Never).await;

    assert_token_invalid(w.lab.join(&student, &old.token).await);
    w.lab
        .join(&student, &new.token)
        .await
        .expect("new token works");
    assert!(
        w.lab
            .revoke_token(&w.teacher, class.id)
            .await
            .expect("revoke"),
        "a token was revoked"
    );
    assert_token_invalid(w.lab.join(&student, &new.token).await);
    assert_eq!(
        w.lab.class(&student, class.id).await.expect("class").token,
        None
    );
    assert!(
        !w.lab
            .revoke_token(&w.teacher, class.id)
            .await
            .expect("revoke again"),
        "revoking again says there was nothing to revoke"
    );
}

#[tokio::test]
async fn a_co_owner_manages_the_class_but_only_the_primary_teacher_deletes_it() {
    let w = world().await;
    let class = w.class("c", 5).await;
    let co = user(&w.lab, "co", Role::Teacher).await;
    assert!(w
        .lab
        .add_co_owner(&w.teacher, class.id, co.uid())
        .await
        .expect("add"));
    assert!(
        !w.lab
            .add_co_owner(&w.teacher, class.id, co.uid())
            .await
            .expect("again"),
        "adding twice says so"
    );

    w.lab
        .rotate_token(&co, class.id, TokenExpiry::Never)
        .await
        .expect("co-owner manages tokens");
    let owners = w.lab.co_owners(&co, class.id).await.expect("list");
    assert_eq!(owners.len(), 1);
    assert!(matches!(
        w.lab.delete_class(&co, class.id).await,
        Err(Error::NotPermitted { .. })
    ));
    assert!(w
        .lab
        .remove_co_owner(&w.teacher, class.id, co.uid())
        .await
        .expect("remove"));
    assert!(matches!(
        w.lab.rotate_token(&co, class.id, TokenExpiry::Never).await,
        Err(Error::NotPermitted { .. })
    ));
}

#[tokio::test]
async fn a_name_differing_only_in_letter_case_is_taken_and_finds_its_class() {
    let w = world().await;
    let mut first = NewClass::new(name("Net101"), pool_size(2));
    first.scope = Some(scope("guild-1"));
    let created = w.lab.create_class(&w.teacher, first).await.expect("first");

    let mut same = NewClass::new(name("NET101"), pool_size(2));
    same.scope = Some(scope("guild-1"));
    let refused = w.lab.create_class(&w.teacher, same.clone()).await;
    assert!(
        matches!(refused, Err(Error::NameTaken { .. })),
        "{refused:?}"
    );
    // Another scope may use it.
    same.scope = Some(scope("guild-2"));
    w.lab
        .create_class(&w.teacher, same)
        .await
        .expect("other scope");

    // Typed in any case, the name finds the class of its scope.
    let found = w
        .lab
        .class_by_name(&w.teacher, Some(&scope("guild-1")), &name("net101"))
        .await
        .expect("by name in another case");
    assert_eq!(found.id, created.id);
}
