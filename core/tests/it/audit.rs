//! The audit trail: an entry for each kind of change (class settings, tokens, resizes,
//! assignments, role changes, refused attempts), written with the change, and who may read it.

use pvelab_core::model::{
    AuditEntry, AuditOutcome, AuditQuery, ClassSettings, ClusterChange, ClusterCredential,
    ClusterJobChange, TokenExpiry,
};
use pvelab_core::types::{ClassId, ClassName, Cores, PoolSize, PveUser, Role, UsageQuota};
use pvelab_core::{Actor, Error, Lab};
use secrecy::SecretString;

use crate::pools_support::{bed, finish};
use crate::support::{register_slot, user, world, ActorId};

/// The trail of one class (or about one person in it), oldest first, as an adminer reads it.
async fn trail(lab: &Lab, admin: &Actor, class: ClassId, about: Option<&Actor>) -> Vec<AuditEntry> {
    let query = AuditQuery {
        class: Some(class),
        user: about.map(ActorId::uid),
        ..AuditQuery::default()
    };
    let mut entries = lab.audit(admin, query).await.expect("trail");
    entries.reverse();
    entries
}

#[tokio::test]
async fn every_kind_of_change_is_recorded_with_who_what_the_class_and_the_outcome() {
    let w = world().await;
    let class = w.class("net101", 10).await;
    w.token(&class, TokenExpiry::Never).await;
    w.lab
        .update_class(
            &w.teacher,
            class.id,
            ClassSettings {
                max_usage: Some(UsageQuota::new(5).unwrap()),
                ..ClassSettings::default()
            },
        )
        .await
        .unwrap();
    register_slot(&w, &class, 1).await;
    let student = w.student("sam").await;
    w.lab
        .assign(&w.teacher, class.id, student.uid(), None)
        .await
        .unwrap();
    let tina = user(&w.lab, "tina", Role::User).await;
    w.lab
        .set_role(&w.admin, tina.uid(), Role::Teacher)
        .await
        .unwrap();
    // A refused attempt is recorded too, after its transaction rolled back.
    let refused = w
        .lab
        .update_class(
            &student,
            class.id,
            ClassSettings {
                max_usage: Some(UsageQuota::new(50).unwrap()),
                ..ClassSettings::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");

    let all = w.lab.audit(&w.admin, AuditQuery::default()).await.unwrap();
    let actions: Vec<&str> = all.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            // The world's teacher and adminer got their roles; its cluster was added.
            "manage_roles",
            "manage_roles",
            "manage_clusters",
            "create_class",
            "manage_join_token",
            "edit_class_settings",
            "resize_pool",
            "assign_vm",
            "manage_roles",
            "edit_class_settings",
        ],
        "{all:#?}"
    );
    let role = all.iter().find(|e| e.action == "manage_roles").unwrap();
    assert_eq!(role.actor, Some(w.admin.uid()));
    assert_eq!(role.actor_role, Some(Role::Adminer));
    assert_eq!(role.subject, Some(tina.uid()));
    assert_eq!(role.detail, "role user -> teacher");
    assert_eq!(role.class_id, None);
    let created = all.iter().find(|e| e.action == "create_class").unwrap();
    assert_eq!(
        created.class_name.as_ref().map(|n| n.as_str()),
        Some("net101")
    );
    assert_eq!(created.outcome, AuditOutcome::Done);
    let attempt = &all[0];
    assert_eq!(attempt.outcome, AuditOutcome::Refused);
    assert_eq!(attempt.actor, Some(student.uid()));
    assert!(
        attempt.detail.contains("change class settings"),
        "{}",
        attempt.detail
    );

    // By or about one person.
    let about_sam = w
        .lab
        .audit(
            &w.admin,
            AuditQuery {
                user: Some(student.uid()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(about_sam.len(), 1, "{about_sam:#?}");
    assert_eq!(about_sam[0].outcome, AuditOutcome::Refused);
}

/// Adminers' changes outside classes: system settings (set, reset, a refused attempt) and
/// clusters (added, changed naming the fields but never a secret, job settings, removed).
#[tokio::test]
async fn settings_and_cluster_changes_are_recorded_without_their_secrets() {
    let w = world().await;
    w.lab
        .set_setting(&w.admin, "rate_limit.join_per_minute", "7")
        .await
        .unwrap();
    w.lab
        .reset_setting(&w.admin, "rate_limit.join_per_minute")
        .await
        .unwrap();
    let refused = w
        .lab
        .set_setting(&w.teacher, "rate_limit.join_per_minute", "9")
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");
    let cluster = crate::support::cluster_id();
    w.lab
        .update_cluster(
            &w.admin,
            &[],
            &cluster,
            ClusterChange {
                credential: Some(ClusterCredential::Password {
                    user: PveUser::parse("root@pam").unwrap(),
                    password: SecretString::from("a-new-password".to_owned()),
                }),
                priority: Some(3),
                ..ClusterChange::default()
            },
        )
        .await
        .unwrap();
    w.lab
        .change_cluster_job_settings(
            &w.admin,
            &cluster,
            ClusterJobChange {
                allow_iso_sync: Some(false),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    w.lab.remove_cluster(&w.admin, &[], &cluster).await.unwrap();

    let all = w.lab.audit(&w.admin, AuditQuery::default()).await.unwrap();
    let details: Vec<(&str, AuditOutcome)> = all
        .iter()
        .rev()
        .filter(|e| e.action != "manage_roles")
        .map(|e| (e.detail.as_str(), e.outcome))
        .collect();
    let added = format!("cluster {cluster} added (10.0.0.1:8006)");
    let changed = format!("cluster {cluster} changed: credential, priority");
    let jobs = format!("cluster {cluster} job settings changed: allow_iso_sync");
    let removed = format!("cluster {cluster} removed");
    assert_eq!(
        details[..3],
        [
            (added.as_str(), AuditOutcome::Done),
            ("setting rate_limit.join_per_minute = 7", AuditOutcome::Done),
            (
                "setting rate_limit.join_per_minute reset to its default",
                AuditOutcome::Done
            ),
        ],
        "{all:#?}"
    );
    assert_eq!(details[3].1, AuditOutcome::Refused, "{all:#?}");
    assert_eq!(
        details[4..],
        [
            (changed.as_str(), AuditOutcome::Done),
            (jobs.as_str(), AuditOutcome::Done),
            (removed.as_str(), AuditOutcome::Done),
        ],
        "{all:#?}"
    );
    assert!(
        all.iter().all(|e| !e.detail.contains("a-new-password")),
        "{all:#?}"
    );
}

#[tokio::test]
async fn teachers_read_their_classes_trail_only_and_students_none() {
    let w = world().await;
    let class = w.class("net101", 10).await;
    w.token(&class, TokenExpiry::Never).await;
    let other = user(&w.lab, "otto", Role::Teacher).await;
    let student = w.student("sam").await;

    let mine = w
        .lab
        .audit(
            &w.teacher,
            AuditQuery {
                class: Some(class.id),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|e| e.class_id == Some(class.id)));

    let everything = w
        .lab
        .audit(&w.teacher, AuditQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(everything, Error::NotPermitted { .. })
            && everything.to_string().contains("adminer"),
        "{everything}"
    );
    let theirs = w
        .lab
        .audit(
            &other,
            AuditQuery {
                class: Some(class.id),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(theirs, Error::NotPermitted { .. } | Error::NotFound { .. }),
        "{theirs:?}"
    );
    let students = w
        .lab
        .audit(
            &student,
            AuditQuery {
                class: Some(class.id),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            students,
            Error::NotPermitted { .. } | Error::NotFound { .. }
        ),
        "{students:?}"
    );

    // The feed of an audit channel: every entry once, in order, from a durable cursor.
    let feed = pvelab_core::events::ConsumerName::parse("audit-test").unwrap();
    let first = w.lab.audit_after(&feed, 100).await.unwrap();
    let total = w.lab.audit(&w.admin, AuditQuery::default()).await.unwrap();
    assert_eq!(first.len(), total.len());
    assert!(first.windows(2).all(|p| p[0].id < p[1].id), "oldest first");
    w.lab.ack_audit(&feed, first[0].id).await.unwrap();
    let rest = w.lab.audit_after(&feed, 100).await.unwrap();
    assert_eq!(rest.len(), total.len() - 1);
    assert_eq!(rest[0].id, first[1].id);
}

/// Each change is one entry, however much pool work it starts: creating a class with its pool
/// is one `create_class` entry saying what was made (not a resize), a resize one `resize_pool`
/// entry naming the sizes, a change of the VMs' specs one `edit_class_settings` entry.
#[tokio::test]
async fn a_pool_made_resized_and_reconfigured_is_one_entry_per_change() {
    let b = bed().await;
    let (class, op) = b.launch("net101", 1).await;
    finish(op).await;
    let size = PoolSize::new(2).expect("size");
    let op = b
        .lab
        .resize_pool(&b.teacher, class.id, size, false)
        .await
        .expect("resize");
    finish(op).await;
    let cores = Cores::new(2).expect("cores");
    let op = b
        .lab
        .change_vm_specs(&b.teacher, class.id, Some(cores), None, None)
        .await
        .expect("specs");
    finish(op).await;

    let entries = trail(&b.lab, &b.admin, class.id, None).await;
    let seen: Vec<(&str, Option<_>, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor, e.detail.as_str()))
        .collect();
    let created = format!(
        "class net101 with 1 student VM, built on cluster {}",
        b.cluster
    );
    let teacher = Some(b.teacher.uid());
    assert_eq!(
        seen,
        [
            ("create_class", teacher, created.as_str()),
            ("resize_pool", teacher, "pool size 1 -> 2"),
            ("edit_class_settings", teacher, ""),
        ],
        "{entries:#?}"
    );
}

/// An imported class is created like any other: one `create_class` entry naming the range.
#[tokio::test]
async fn an_imported_class_is_one_create_class_entry() {
    let b = bed().await;
    let imported = b
        .lab
        .import_class(
            &b.teacher,
            &b.cluster,
            71,
            ClassName::parse("legacy").expect("name"),
            Some(b.template),
        )
        .await
        .expect("import");
    finish(imported.operation).await;

    let entries = trail(&b.lab, &b.admin, imported.class.id, None).await;
    let seen: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.detail.as_str()))
        .collect();
    let created = format!(
        "class legacy imported from VMIDs 7100-7199 on cluster {}",
        b.cluster
    );
    assert_eq!(seen, [("create_class", created.as_str())], "{entries:#?}");
}

/// A student's reimage of the VM they hold is their own doing on their own VM, which the trail
/// leaves out; a teacher's reimage of it is recorded with the teacher, and the rebuild that
/// carries it out as the system's.
#[tokio::test]
async fn a_students_own_reimage_is_left_out_and_a_teachers_is_recorded() {
    let b = bed().await;
    let (class, op) = b.launch("reimage", 1).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("assign")
        .vmid;

    let op = b.lab.reimage_vm(&sam, class.id, vm).await.expect("own");
    let (_, summary) = finish(op).await;
    assert_eq!(summary.ready, 1, "{summary:?}");
    let entries = trail(&b.lab, &b.admin, class.id, None).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create_class", "assign_vm"], "{entries:#?}");

    let op = b
        .lab
        .reimage_vm(&b.teacher, class.id, vm)
        .await
        .expect("teacher's");
    finish(op).await;
    let about_sam = trail(&b.lab, &b.admin, class.id, Some(&sam)).await;
    let seen: Vec<(&str, Option<_>, &str)> = about_sam
        .iter()
        .map(|e| (e.action.as_str(), e.actor, e.detail.as_str()))
        .collect();
    let asked = format!("reimage of VM {vm}, held by the subject");
    let rebuilt = format!("VM {vm}: it was reimaged");
    let teacher = Some(b.teacher.uid());
    assert_eq!(
        seen,
        [
            ("control_student_vm", teacher, asked.as_str()),
            ("vm_rebuilt", None, rebuilt.as_str()),
        ],
        "{about_sam:#?}"
    );
}

/// A co-owner change names the person as its subject; adding someone who co-owns the class
/// already, or removing someone who does not, changes nothing and has no entry; the primary
/// teacher cannot become a co-owner of their own class.
#[tokio::test]
async fn co_owner_changes_name_the_person_and_changes_of_nothing_are_not_recorded() {
    let w = world().await;
    let class = w.class("net101", 10).await;
    let sue = user(&w.lab, "sue", Role::Teacher).await;
    let lab = &w.lab;

    assert!(lab
        .add_co_owner(&w.teacher, class.id, sue.uid())
        .await
        .unwrap());
    assert!(!lab
        .add_co_owner(&w.teacher, class.id, sue.uid())
        .await
        .unwrap());
    assert!(lab
        .remove_co_owner(&w.teacher, class.id, sue.uid())
        .await
        .unwrap());
    assert!(!lab
        .remove_co_owner(&w.teacher, class.id, sue.uid())
        .await
        .unwrap());
    let own = lab
        .add_co_owner(&w.teacher, class.id, w.teacher.uid())
        .await
        .unwrap_err();
    assert!(matches!(own, Error::InvalidValue(_)), "{own:?}");
    assert!(
        own.to_string()
            .contains("net101's primary teacher (teacher owns the class already)"),
        "{own}"
    );
    assert!(lab
        .co_owners(&w.teacher, class.id)
        .await
        .unwrap()
        .is_empty());

    let entries = trail(lab, &w.admin, class.id, None).await;
    let seen: Vec<(&str, Option<_>, &str, AuditOutcome)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.subject, e.detail.as_str(), e.outcome))
        .collect();
    let done = AuditOutcome::Done;
    assert_eq!(
        seen[1..3],
        [
            (
                "manage_co_owners",
                Some(sue.uid()),
                "sue added as a co-owner",
                done
            ),
            (
                "manage_co_owners",
                Some(sue.uid()),
                "sue no longer a co-owner",
                done
            ),
        ],
        "{entries:#?}"
    );
    assert_eq!(seen.len(), 4, "{entries:#?}");
    assert_eq!(seen[3].3, AuditOutcome::Failed, "{entries:#?}");
}

#[tokio::test]
async fn revoking_a_token_the_class_does_not_have_is_not_recorded() {
    let w = world().await;
    let class = w.class("net101", 10).await;
    assert!(!w.lab.revoke_token(&w.teacher, class.id).await.unwrap());
    assert!(trail(&w.lab, &w.admin, class.id, None)
        .await
        .iter()
        .all(|e| e.action != "manage_join_token"));

    w.token(&class, pvelab_core::model::TokenExpiry::Never)
        .await;
    assert!(w.lab.revoke_token(&w.teacher, class.id).await.unwrap());
    let tokens: Vec<String> = trail(&w.lab, &w.admin, class.id, None)
        .await
        .into_iter()
        .filter(|e| e.action == "manage_join_token")
        .map(|e| e.detail)
        .collect();
    assert_eq!(tokens.len(), 2, "made and revoked: {tokens:?}");
    assert_eq!(tokens[1], "join token revoked", "oldest first: {tokens:?}");
}
