//! The configuration file's clusters reach the database at every start: added the first time,
//! brought up to the file's values afterwards (a corrected fingerprint or a flag takes effect
//! by restarting), with the flags and job settings the file states.

use pvelab_bot::app::clusters::{operator, register};
use pvelab_bot::app::open_lab;
use pvelab_bot::config::{self, EnvVars};
use pvelab_core::model::AuditQuery;
use pvelab_core::types::{ClusterId, ClusterTrust};

const KEY: &str = "abababababababababababababababababababababababababababababababab";
const PIN: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

fn settings(dir: &std::path::Path, cluster: &str) -> config::Settings {
    settings_with_secret(dir, cluster, "a-secret")
}

fn settings_with_secret(dir: &std::path::Path, cluster: &str, secret: &str) -> config::Settings {
    let env: EnvVars = [("PVELAB_SEALING_KEY", KEY), ("PVE1_SECRET", secret)]
        .into_iter()
        .collect();
    let text = format!(
        "database = \"lab.db\"\n\
         [[cluster]]\n\
         id = \"pve1\"\n\
         url = \"https://pve1.lab.example:8006\"\n\
         api_token = \"pvelab@pve!bot\"\n\
         secret_env = \"PVE1_SECRET\"\n\
         is_default = true\n\
         {cluster}"
    );
    config::parse_toml(&text, dir, &env).expect("a valid configuration")
}

#[tokio::test]
async fn a_restart_applies_the_files_changed_cluster_values_and_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = settings(dir.path(), "insecure = true\n");
    let lab = open_lab(&first).await.expect("the lab");
    let done = register(&lab, &first.clusters).await.expect("registered");
    assert_eq!(done.added, ["pve1"]);
    let admin = operator(&lab).await.expect("operator");
    let id = ClusterId::parse("pve1").expect("id");
    let jobs = lab.cluster_job_settings(&admin, &id).await.expect("jobs");
    assert!(jobs.allow_iso_sync && jobs.allow_template_sync && jobs.arp_subnets.is_empty());

    let second = settings(
        dir.path(),
        &format!(
            "fingerprint = \"{PIN}\"\n\
             priority = 5\n\
             is_active = false\n\
             allow_vm_deployment = false\n\
             allow_iso_sync = false\n\
             auto_shutdown_enabled = false\n\
             arp_subnets = [\"10.20.0.0/16\"]\n\
             description = \"Room 3.14\"\n"
        ),
    );
    let done = register(&lab, &second.clusters).await.expect("registered");
    assert_eq!(done.updated, ["pve1"]);
    assert!(done.added.is_empty());
    let stored = lab
        .clusters(&admin)
        .await
        .expect("clusters")
        .into_iter()
        .find(|c| c.cluster_id == id)
        .expect("pve1");
    assert!(
        matches!(stored.trust, ClusterTrust::Fingerprint(_)),
        "{:?}",
        stored.trust
    );
    assert_eq!(stored.priority, 5);
    assert!(!stored.is_active && !stored.allow_vm_deployment);
    assert!(stored.is_default, "the default is kept");
    assert_eq!(stored.description.as_deref(), Some("Room 3.14"));
    let jobs = lab.cluster_job_settings(&admin, &id).await.expect("jobs");
    assert!(!jobs.allow_iso_sync && !jobs.auto_shutdown_enabled);
    assert!(jobs.allow_template_sync, "unchanged where the file says so");
    assert_eq!(jobs.arp_subnets.len(), 1);

    // The same file again changes nothing, so nothing is written or recorded.
    let trail = lab
        .audit(&admin, AuditQuery::default())
        .await
        .expect("trail");
    let done = register(&lab, &second.clusters).await.expect("registered");
    assert!(done.added.is_empty() && done.updated.is_empty(), "{done:?}");
    let again = lab
        .audit(&admin, AuditQuery::default())
        .await
        .expect("trail");
    assert_eq!(again.len(), trail.len(), "{again:#?}");
    assert!(
        trail
            .iter()
            .any(|e| e.detail.starts_with("cluster pve1 changed: ")
                && e.detail.contains("trust")
                && e.detail.contains("priority")),
        "{trail:#?}"
    );

    // A new secret in the environment replaces the stored one (compared inside the core).
    let rotated = settings_with_secret(dir.path(), "insecure = true\n", "a-new-secret");
    let done = register(&lab, &rotated.clusters).await.expect("registered");
    assert_eq!(done.updated, ["pve1"]);
    let trail = lab
        .audit(&admin, AuditQuery::default())
        .await
        .expect("trail");
    let last = trail
        .iter()
        .find(|e| e.detail.starts_with("cluster pve1 changed: "))
        .expect("the change is recorded");
    assert!(last.detail.contains("credential"), "{last:?}");
    assert!(!last.detail.contains("a-new-secret"), "{last:?}");
    let done = register(&lab, &rotated.clusters).await.expect("registered");
    assert!(done.updated.is_empty(), "the same secret again: {done:?}");
}
