//! Defects found when the core was tried adversarially, one test each (each failed before its
//! fix), and the checks that came with them: a demoted teacher's actor, a shrunk pool, a
//! co-owner without the teacher role, a deleted class's VMID range.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use pvelab_core::model::{ClassDeletion, ClassSettings, ClusterCredential, NewClass, NewCluster};
use pvelab_core::model::{IdlePolicy, IdleVerdict, NewPoolVm, QuotaLevel};
use pvelab_core::model::{StartDecision, StartRefusal, TokenExpiry, VmOutcome};
use pvelab_core::rules::idle::decide;
use pvelab_core::types::{ClassId, ClusterId, IdleMinutes, IdleThreshold, Role, TemplateId};
use pvelab_core::types::{UsageQuota, UserName, VmRef};
use pvelab_core::{Entity, Error, LabConfig};
use secrecy::SecretString;

use crate::support::{
    class_with_vms, name, planned, pool_size, scope, user, vm_of, world, world_on, ActorId, World,
};

async fn second_cluster(w: &World) -> ClusterId {
    let id = ClusterId::parse("pve2").expect("cluster id");
    let password = ClusterCredential::Password {
        user: pvelab_core::types::PveUser::parse("root@pam").expect("user"),
        password: SecretString::from("pw".to_owned()),
    };
    let host = pvelab_core::types::Host::parse("10.0.0.2").expect("host");
    w.lab
        .add_cluster(&w.admin, NewCluster::new(id.clone(), host, password))
        .await
        .expect("second cluster");
    id
}

async fn set_quota(w: &World, class: ClassId, hours: i64) {
    let change = ClassSettings {
        max_usage: Some(UsageQuota::new(hours).expect("quota")),
        ..ClassSettings::default()
    };
    w.lab
        .update_class(&w.teacher, class, change)
        .await
        .expect("quota");
}

/// Defect 1.
#[tokio::test]
async fn a_manual_vm_may_not_sit_in_another_classs_range_nor_on_its_own_teacher_or_base_vmid() {
    let w = world().await;
    let mine = w.class("mine", 5).await;
    let theirs = w.class("theirs", 5).await;
    let manual = |vmid| NewPoolVm {
        manual: true,
        ..planned(vmid)
    };
    let inside_theirs = theirs.scheme.student_vmid(50).expect("slot");

    let foreign = w
        .lab
        .register_vm(&w.teacher, mine.id, manual(inside_theirs))
        .await;
    let on_teacher = w
        .lab
        .register_vm(&w.teacher, mine.id, manual(mine.scheme.teacher_vmid()))
        .await;
    let on_base = w
        .lab
        .register_vm(&w.teacher, mine.id, manual(mine.scheme.base_vmid()))
        .await;

    assert!(
        matches!(&foreign, Err(Error::VmidOfAnotherClass { vmid, owner })
            if *vmid == inside_theirs && *owner == theirs.name),
        "{foreign:?}"
    );
    assert!(
        foreign.unwrap_err().to_string().contains("theirs"),
        "the refusal names the owner"
    );
    for refused in [on_teacher, on_base] {
        assert!(
            matches!(&refused, Err(Error::InvalidValue(e)) if e.field() == "VMID"),
            "{refused:?}"
        );
    }
    let outside = pvelab_core::types::VmId::new(900_000).expect("vmid");
    w.lab
        .register_vm(&w.teacher, mine.id, manual(outside))
        .await
        .expect("a VMID no class reserved is fine");
}

/// Defect 2.
#[tokio::test]
async fn marking_a_vm_reimaged_on_one_cluster_leaves_the_same_vmid_on_another_dirty() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    let pve2 = second_cluster(&w).await;
    let vmid = class.scheme.student_vmid(1).expect("slot");
    let twin = NewPoolVm {
        cluster_id: pve2.clone(),
        manual: true,
        ..planned(vmid)
    };
    w.lab
        .register_vm(&w.teacher, class.id, twin)
        .await
        .expect("the same VMID on another cluster");
    let leaver = w.student("leaver").await;
    w.join(&leaver, &token).await;
    w.lab.leave(&leaver, class.id).await.expect("leave");

    w.lab
        .mark_reimaged(&w.teacher, class.id, &VmRef::new(pve2, vmid))
        .await
        .expect("reimaged on pve2");
    let next = w.student("next").await;
    let joined = w.join(&next, &token).await;
    let picked = w
        .lab
        .assign(&w.teacher, class.id, next.uid(), Some(&vm_of(vmid)))
        .await;

    assert_eq!(
        joined.vm,
        VmOutcome::Waitlisted { position: 1 },
        "the previous student's VM on pve1 was not wiped"
    );
    assert!(
        matches!(
            picked,
            Err(Error::VmNotAssignable {
                reason: pvelab_core::error::NotAssignable::AwaitsReimage,
                ..
            })
        ),
        "{picked:?}"
    );
    w.lab
        .mark_reimaged(&w.teacher, class.id, &vm_of(vmid))
        .await
        .expect("reimaged on pve1");
    assert_eq!(
        w.lab.my_vms(&next).await.expect("vms")[0].vm_ref(),
        vm_of(vmid)
    );
}

/// Defect 3.
#[tokio::test]
async fn leaving_and_rejoining_keeps_a_students_usage_against_the_quota() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    set_quota(&w, class.id, 10).await;
    let s = w.student("s").await;
    w.join(&s, &token).await;
    let slot = vm_of(class.scheme.student_vmid(1).expect("slot"));
    w.lab
        .record_usage(&w.admin, &slot, SignedDuration::from_hours(10))
        .await
        .expect("usage");

    w.lab.leave(&s, class.id).await.expect("leave");
    let wiped = w
        .lab
        .mark_reimaged(&w.teacher, class.id, &slot)
        .await
        .expect("reimaged");
    w.join(&s, &token).await;

    assert_eq!(wiped.usage_hours, 0.0, "the VM's own hours start afresh");
    let usage = w.lab.my_usage(&s, class.id).await.expect("usage");
    assert_eq!(usage.hours, 10.0);
    let decision = w
        .lab
        .may_start(&s, class.id, &slot)
        .await
        .expect("decision");
    assert!(
        matches!(
            decision,
            StartDecision::Refused(StartRefusal::QuotaExhausted { limit: 10, .. })
        ),
        "{decision:?}"
    );
    w.lab
        .reset_usage(&w.teacher, class.id, Some(s.uid()))
        .await
        .expect("a teacher resets");
    assert_eq!(
        w.lab
            .may_start(&s, class.id, &slot)
            .await
            .expect("decision"),
        StartDecision::Allowed
    );
}

/// Defect 4.
#[tokio::test]
async fn a_user_sees_only_the_classes_they_are_in() {
    let w = world().await;
    let guild = scope("guild-1");
    let mut new = NewClass::new(name("secret"), pool_size(5));
    new.scope = Some(guild.clone());
    new.description = Some("not for everyone".to_owned());
    let class = w.lab.create_class(&w.teacher, new).await.expect("class");
    let token = w.token(&class, TokenExpiry::Never).await.token;
    let outsider = w.student("outsider").await;
    let other_teacher = user(&w.lab, "other-teacher", Role::Teacher).await;

    for (who, actor) in [("student", outsider), ("other teacher", other_teacher)] {
        let by_id = w.lab.class(&actor, class.id).await;
        let by_name = w.lab.class_by_name(&actor, Some(&guild), &class.name).await;
        let listed = w.lab.classes(&actor, Some(&guild)).await.expect("list");
        let left = w.lab.leave(&actor, class.id).await;
        for refused in [by_id.map(drop), by_name.map(drop), left.map(drop)] {
            assert!(
                matches!(
                    refused,
                    Err(Error::NotFound {
                        entity: Entity::Class,
                        ..
                    })
                ),
                "{who}: {refused:?}"
            );
        }
        assert!(listed.is_empty(), "{who}: {listed:?}");
    }

    w.join(&outsider, &token).await;
    let seen = w.lab.class(&outsider, class.id).await.expect("enrolled");
    assert_eq!(seen.id, class.id);
    let listed = w.lab.classes(&outsider, Some(&guild)).await.expect("list");
    assert_eq!(listed.len(), 1);
    let all = w.lab.classes(&w.admin, Some(&guild)).await.expect("list");
    assert_eq!(all.len(), 1, "adminers see every class");
}

/// Defect 6.
#[tokio::test]
async fn raising_the_quota_lets_the_next_warning_through() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    set_quota(&w, class.id, 10).await;
    let s = w.student("s").await;
    w.join(&s, &token).await;
    let slot = vm_of(class.scheme.student_vmid(1).expect("slot"));
    let done = w
        .lab
        .record_usage(&w.admin, &slot, SignedDuration::from_hours(10))
        .await
        .expect("usage");
    assert_eq!(done.newly_reached, Some(QuotaLevel::Exhausted));

    set_quota(&w, class.id, 20).await;
    let quiet = w
        .lab
        .record_usage(&w.admin, &slot, SignedDuration::from_hours(5))
        .await
        .expect("usage");
    let warned = w
        .lab
        .record_usage(&w.admin, &slot, SignedDuration::from_hours(1))
        .await
        .expect("usage");

    assert_eq!(quiet.newly_reached, None, "75 % of the new limit");
    assert_eq!(warned.newly_reached, Some(QuotaLevel::Warning), "80 %");
}

/// Defect 7.
#[tokio::test]
async fn a_class_may_use_neither_an_unknown_template_nor_another_classs_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = world_on(LabConfig::file(&path)).await;
    let mut ghost = NewClass::new(name("ghost"), pool_size(5));
    ghost.template_id = Some(TemplateId::new(9999));
    let unknown = w.lab.create_class(&w.teacher, ghost).await;
    let owner = w.class("owner", 5).await;
    let other = w.class("other", 5).await;
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute(
        "INSERT INTO templates (name, proxmox_vmid, is_class_template, class_id, created_at, \
         cluster_id) VALUES ('owner v2', ?1, 1, ?2, '2026-01-01T00:00:00.000000Z', 'pve1')",
        (owner.scheme.base_vmid().get(), owner.id.get()),
    )
    .expect("a class template of owner");
    let template = TemplateId::new(conn.last_insert_rowid());

    let borrowed = w
        .lab
        .update_class(
            &w.teacher,
            other.id,
            ClassSettings {
                template_id: Some(Some(template)),
                ..ClassSettings::default()
            },
        )
        .await;
    let mut created = NewClass::new(name("copycat"), pool_size(5));
    created.template_id = Some(template);
    let copied = w.lab.create_class(&w.teacher, created).await;
    let own = w
        .lab
        .update_class(
            &w.teacher,
            owner.id,
            ClassSettings {
                template_id: Some(Some(template)),
                ..ClassSettings::default()
            },
        )
        .await
        .expect("a class uses its own template");

    assert!(
        matches!(&unknown, Err(Error::NotFound { entity: Entity::Template, key }) if key == "9999"),
        "{unknown:?}"
    );
    for refused in [borrowed, copied] {
        assert!(
            matches!(&refused, Err(Error::InvalidValue(e))
                if e.field() == "template" && e.value().contains("owner")),
            "{refused:?}"
        );
    }
    assert_eq!(own.template_id, Some(template));
    w.lab
        .delete_class(&w.teacher, owner.id)
        .await
        .expect("the owner can still be deleted");
}

/// Defect 8.
#[tokio::test]
async fn an_idle_policy_whose_gap_spans_the_whole_window_is_refused() {
    let threshold = IdleThreshold::new(5).expect("threshold");
    let span = IdleMinutes::new(30).expect("span");

    let refused = IdlePolicy::new(threshold, span, SignedDuration::from_mins(30));
    let policy =
        IdlePolicy::new(threshold, span, SignedDuration::from_mins(2)).expect("a 2-minute gap");

    let e = refused.expect_err("a gap as long as the span");
    assert_eq!(e.field(), "idle sample gap");
    assert!(e.allowed().contains("shorter than the idle span"), "{e}");
    assert_eq!(
        decide(&[], &policy, Timestamp::now()),
        IdleVerdict::NotCovered,
        "no samples are never idleness"
    );
}

/// The CPU time this thread has used, from the scheduler's own count (nanoseconds; unlike wall
/// time it does not grow while the thread waits for a core on a busy machine).
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux)");
    let nanos = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("the first field is the time on the CPU in nanoseconds");
    Duration::from_nanos(nanos)
}

/// Defect 9: an argon2 hash takes tens of milliseconds of CPU. Every poll of the login future
/// runs on this (async) thread; none may do that work, whether or not the name exists.
#[tokio::test]
async fn the_first_login_with_an_unknown_name_hashes_off_the_async_thread() {
    let w = world().await;
    let password = SecretString::from("guess".to_owned());
    let nobody = UserName::parse("nobody").expect("name");
    let mut login = pin!(w.lab.login(&nobody, &password));
    let mut longest = Duration::ZERO;

    let result = std::future::poll_fn(|cx| {
        let before = thread_cpu_time();
        let polled = login.as_mut().poll(cx);
        longest = longest.max(thread_cpu_time().saturating_sub(before));
        polled
    })
    .await;

    assert!(matches!(result, Err(Error::LoginFailed)), "{result:?}");
    assert!(
        longest < Duration::from_millis(10),
        "a poll of the login used {longest:?} of CPU on the async thread"
    );
}

/// A demoted teacher: actors are built per request (`Lab::actor` reads the stored role), so the
/// next actor has lost the class rights at once.
#[tokio::test]
async fn a_demoted_teachers_next_actor_has_lost_the_class_rights() {
    let w = world().await;
    let class = w.class("c", 5).await;
    let co = user(&w.lab, "co", Role::Teacher).await;
    w.lab
        .add_co_owner(&w.teacher, class.id, co.uid())
        .await
        .expect("co-owner");

    for demoted in [w.teacher.uid(), co.uid()] {
        w.lab
            .set_role(&w.admin, demoted, Role::User)
            .await
            .expect("demote");
        let next = w.lab.actor(demoted).await.expect("actor");
        let refused = w
            .lab
            .rotate_token(&next, class.id, TokenExpiry::Never)
            .await;
        assert!(
            matches!(refused, Err(Error::NotPermitted { .. })),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_shrunk_pool_never_hands_out_slots_above_its_new_size() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 3, 3).await;
    let shrink = ClassSettings {
        pool_size: Some(pool_size(1)),
        ..ClassSettings::default()
    };
    w.lab
        .update_class(&w.teacher, class.id, shrink)
        .await
        .expect("shrink");
    let first = w.student("first").await;
    let second = w.student("second").await;

    w.join(&first, &token).await;
    let joined = w.join(&second, &token).await;
    let picked = w
        .lab
        .assign(
            &w.teacher,
            class.id,
            second.uid(),
            Some(&vm_of(class.scheme.student_vmid(3).expect("slot"))),
        )
        .await;

    assert_eq!(joined.vm, VmOutcome::Waitlisted { position: 1 });
    assert!(
        matches!(
            picked,
            Err(Error::VmNotAssignable {
                reason: pvelab_core::error::NotAssignable::BeyondPoolSize,
                ..
            })
        ),
        "{picked:?}"
    );
}

#[tokio::test]
async fn a_co_owner_gets_the_class_rights_only_while_acting_as_a_teacher() {
    let w = world().await;
    let class = w.class("c", 5).await;
    let student = w.student("s").await;

    let added = w
        .lab
        .add_co_owner(&w.teacher, class.id, student.uid())
        .await
        .expect("any known person may be listed");

    assert!(added);
    // As a student (the role of this request), co-owning grants nothing.
    let as_student = w.lab.students(&student, class.id).await;
    assert!(
        matches!(
            as_student,
            Err(Error::NotPermitted { .. }) | Err(Error::NotFound { .. })
        ),
        "{as_student:?}"
    );
    // Acting as a teacher (a front end mapped the teacher role for this request), it does.
    let as_teacher = w
        .lab
        .actor_with_role(student.uid(), pvelab_core::types::Role::Teacher);
    w.lab
        .students(&as_teacher, class.id)
        .await
        .expect("a co-owner acting as a teacher manages the class");
}

#[tokio::test]
async fn a_deleted_classs_vmid_range_stays_reserved_while_its_vms_may_exist() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 2).await;

    let deleted = w
        .lab
        .delete_class(&w.teacher, class.id)
        .await
        .expect("delete");

    assert_eq!(deleted, ClassDeletion::VmsPending { vms: 2 });
    assert!(matches!(
        w.lab.class(&w.teacher, class.id).await,
        Err(Error::NotFound { .. })
    ));
    let mut same_range = NewClass::new(name("again"), pool_size(5));
    same_range.vmid_prefix = Some(class.scheme.prefix());
    let taken = w.lab.create_class(&w.teacher, same_range).await;
    assert!(
        matches!(&taken, Err(Error::VmidRangeTaken { by, .. }) if by.contains('c')),
        "{taken:?}"
    );
    let next = w.class("next", 5).await;
    assert_ne!(next.scheme, class.scheme, "the lowest free range skips it");
    let same_name = w
        .lab
        .create_class(&w.teacher, NewClass::new(name("c"), pool_size(5)))
        .await;
    assert!(
        matches!(same_name, Err(Error::NameTaken { .. })),
        "{same_name:?}"
    );
}
