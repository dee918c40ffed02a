//! The audit trail: an entry for each kind of change (class settings, tokens, resizes,
//! assignments, role changes, refused attempts), written with the change, and who may read it.

use pvelab_core::model::{
    AuditOutcome, AuditQuery, ClassSettings, ClusterChange, ClusterCredential, ClusterJobChange,
    TokenExpiry,
};
use pvelab_core::types::{PveUser, Role, UsageQuota};
use pvelab_core::Error;
use secrecy::SecretString;

use crate::support::{register_slot, user, world, ActorId};

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
