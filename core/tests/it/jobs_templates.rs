//! ISO and template sync against the simulator, per-node template replicas made on request and
//! recognised as replicas, and publishing a teacher VM as the class's new template version.

use pvelab_core::error::ClusterProblem;
use pvelab_core::jobs::{JobKind, RunOutcome, SyncWhat};
use pvelab_core::model::{ClusterJobChange, PublishMode, TemplateRecord, VmStatus};
use pvelab_core::types::{TemplateId, VmId};
use pvelab_core::Error;

use crate::jobs_support::{jobs_world, minutes, JobsWorld, Options};

fn vmid(n: i64) -> VmId {
    VmId::new(n).unwrap()
}

async fn templates(world: &JobsWorld) -> Vec<TemplateRecord> {
    world
        .lab()
        .templates(&world.w.admin, &[], &world.cluster)
        .await
        .unwrap()
}

fn find(list: &[TemplateRecord], n: i64) -> TemplateRecord {
    list.iter()
        .find(|t| t.vmid == vmid(n))
        .unwrap_or_else(|| panic!("template {n} in {list:?}"))
        .clone()
}

#[tokio::test]
async fn iso_images_are_listed_once_per_storage_and_volume_and_vanished_ones_removed() {
    let dir = tempfile::tempdir().unwrap();
    let world = jobs_world(Options {
        db_dir: Some(dir.path().to_owned()),
        ..Options::default()
    })
    .await;

    let report = world.sync(JobKind::Isos).await;
    assert_eq!(
        report.stats(JobKind::Isos, &world.cluster).unwrap().written,
        12,
        "4 ISOs on 3 nodes"
    );
    let isos = world
        .lab()
        .isos(&world.w.admin, &[], &world.cluster)
        .await
        .unwrap();
    assert_eq!(
        isos.len(),
        4,
        "one row per (cluster, storage, volid): {isos:?}"
    );
    let debian = isos
        .iter()
        .find(|i| i.name == "debian-13.1.0-amd64-netinst.iso")
        .unwrap();
    assert_eq!(debian.volid, "local:iso/debian-13.1.0-amd64-netinst.iso");
    assert_eq!(
        (debian.storage.as_str(), debian.size),
        ("local", Some(784_334_848))
    );
    assert!(debian.node.is_some());
    let first_seen = debian.discovered_at;

    // An image that is gone (written here as a storage once showed it) is removed; the others
    // keep their discovery time and move their last sighting.
    rusqlite::Connection::open(dir.path().join("lab.db"))
        .unwrap()
        .execute(
            "INSERT INTO iso_images (volid, name, size, node, storage, cluster_id, discovered_at, last_seen) \
             VALUES ('local:iso/old.iso', 'old.iso', 1, 'pve2', 'local', 'pve1', 'x', 'x')",
            [],
        )
        .unwrap();
    world.advance(minutes(60));
    let report = world.sync(JobKind::Isos).await;
    assert_eq!(
        report.stats(JobKind::Isos, &world.cluster).unwrap().removed,
        1
    );
    let isos = world
        .lab()
        .isos(&world.w.admin, &[], &world.cluster)
        .await
        .unwrap();
    assert_eq!(isos.len(), 4);
    let debian = isos
        .iter()
        .find(|i| i.name == "debian-13.1.0-amd64-netinst.iso")
        .unwrap();
    assert_eq!(debian.discovered_at, first_seen);
    assert!(debian.last_seen > first_seen);

    // A cluster that does not allow ISO sync is skipped.
    world
        .lab()
        .change_cluster_job_settings(
            &world.w.admin,
            &world.cluster,
            ClusterJobChange {
                allow_iso_sync: Some(false),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    let report = world
        .lab()
        .sync_now(&world.w.admin, SyncWhat::Job(JobKind::Isos), None)
        .await
        .unwrap();
    assert!(matches!(report.runs[0].outcome, RunOutcome::Skipped { .. }));
}

#[tokio::test]
async fn templates_are_synchronised_with_their_specs() {
    let world = jobs_world(Options::default()).await;
    let report = world.sync(JobKind::Templates).await;
    assert_eq!(
        report
            .stats(JobKind::Templates, &world.cluster)
            .unwrap()
            .written,
        4
    );
    assert_eq!(world.sim.count("GET", "/cluster/resources"), 1);
    assert_eq!(
        world.sim.count("GET", "/nodes/{node}/qemu/{vmid}/config"),
        4
    );

    let list = templates(&world).await;
    assert_eq!(list.len(), 4);
    let debian = find(&list, 9000);
    assert_eq!(debian.name, "debian-13-tmpl");
    assert_eq!(debian.node.as_deref(), Some("pve1"));
    assert_eq!(debian.specs.cpu_cores, Some(2));
    assert_eq!(debian.specs.cpu_sockets, Some(1));
    assert_eq!(debian.specs.memory_mb, Some(2048));
    assert_eq!(debian.specs.disk_size_gb, Some(32.0));
    assert_eq!(debian.specs.disk_storage.as_deref(), Some("local-lvm"));
    assert_eq!(debian.specs.disk_path.as_deref(), Some("base-9000-disk-0"));
    assert_eq!(debian.specs.network_bridge.as_deref(), Some("vmbr0"));
    assert_eq!(debian.specs.os_type.as_deref(), Some("l26"));
    assert_eq!(debian.specs_cached_at, Some(world.w.clock.now()));
    assert_eq!(debian.last_verified_at, Some(world.w.clock.now()));
    assert!(!debian.is_replica && !debian.is_class_template);
    let windows = find(&list, 9002);
    assert_eq!(
        (windows.specs.os_type.as_deref(), windows.specs.cpu_cores),
        (Some("win11"), Some(4))
    );

    // A template deleted behind our back leaves the records at the next sync.
    world.sim.delete_guest(9001).unwrap();
    world.advance(minutes(60));
    let report = world.sync(JobKind::Templates).await;
    assert_eq!(
        report
            .stats(JobKind::Templates, &world.cluster)
            .unwrap()
            .removed,
        1
    );
    assert!(templates(&world).await.iter().all(|t| t.vmid != vmid(9001)));
}

#[tokio::test]
async fn replicas_are_made_on_nodes_that_lack_one_and_recognised_as_replicas() {
    let world = jobs_world(Options::default()).await;
    world
        .lab()
        .change_cluster_job_settings(
            &world.w.admin,
            &world.cluster,
            ClusterJobChange {
                template_storage: Some(Some("local-lvm".into())),
                ..ClusterJobChange::default()
            },
        )
        .await
        .unwrap();
    world.sync(JobKind::Templates).await;
    let original = find(&templates(&world).await, 9010);

    // 9010 lives on shared storage on pve1: pve2 and pve3 get a copy on their local storage.
    let made = world
        .lab()
        .replicate_template(&world.w.admin, &[], &world.cluster, vmid(9010), None)
        .await
        .unwrap();
    let mut nodes: Vec<&str> = made.iter().filter_map(|t| t.node.as_deref()).collect();
    nodes.sort_unstable();
    assert_eq!(nodes, ["pve2", "pve3"]);
    for replica in &made {
        assert!(replica.is_replica);
        assert_eq!(replica.source_vmid, Some(vmid(9010)));
        assert_eq!(replica.source_node.as_deref(), Some("pve1"));
        assert_eq!(replica.original_template_id, Some(original.id));
        assert_eq!(replica.specs.disk_storage.as_deref(), Some("local-lvm"));
        assert_eq!(replica.created_by, world.w.admin.user_id());
    }
    // Every node has one now: nothing more to make.
    let again = world
        .lab()
        .replicate_template(&world.w.admin, &[], &world.cluster, vmid(9010), None)
        .await
        .unwrap();
    assert!(again.is_empty());

    // The sync recognises them from their marker, as replicas of their original.
    world.advance(minutes(60));
    world.sync(JobKind::Templates).await;
    let list = templates(&world).await;
    assert_eq!(list.len(), 6);
    for replica in &made {
        let synced = find(&list, i64::from(replica.vmid.get()));
        assert!(synced.is_replica, "{synced:?}");
        assert_eq!(synced.original_template_id, Some(original.id));
        assert_eq!(synced.last_verified_at, Some(world.w.clock.now()));
    }

    // A template on storage that only its node has cannot be copied to another node.
    let refused = world
        .lab()
        .replicate_template(
            &world.w.admin,
            &[],
            &world.cluster,
            vmid(9000),
            Some(vec![pvelab_core::types::NodeName::parse("pve2").unwrap()]),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Cluster {
                problem: ClusterProblem::Refused { .. },
                ..
            })
        ),
        "{refused:?}"
    );
    // Only adminers and the cluster's administrators manage templates.
    assert!(matches!(
        world
            .lab()
            .templates(&world.w.teacher, &[], &world.cluster)
            .await,
        Err(Error::NotPermitted { .. })
    ));
}

#[tokio::test]
async fn publishing_makes_a_new_version_and_schedules_reimages_now_or_at_the_next_stop() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    // The teacher VM (100) and two students: 102 runs, 103 is stopped.
    let teacher_vm = class.scheme.teacher_vmid();
    let mut vm = crate::support::planned(teacher_vm);
    vm.cluster_id = world.cluster.clone();
    world
        .lab()
        .register_vm(&world.w.teacher, class.id, vm)
        .await
        .unwrap();
    let (_sam, running) = world.student_on(&class, 2, "sam").await;
    let (_bea, stopped) = world.student_on(&class, 3, "bea").await;
    world.sync(JobKind::Inventory).await;

    let first = world
        .lab()
        .publish_template(&world.w.teacher, class.id, PublishMode::AtNextStop)
        .await
        .unwrap();
    assert_eq!(first.previous, None);
    assert_eq!(first.vms.len(), 2);
    assert_eq!(first.due_now, 1, "only the stopped VM");
    assert!(first.template.is_class_template);
    assert_eq!(first.template.class_id, Some(class.id));
    assert_eq!(first.template.specs.memory_mb, Some(2048));
    let updated = world.lab().class(&world.w.teacher, class.id).await.unwrap();
    assert_eq!(updated.template_id, Some(first.template.id));
    // It is a template on Proxmox now.
    world.sync(JobKind::Inventory).await;
    let rows = world
        .lab()
        .inventory(&world.w.admin, &world.cluster)
        .await
        .unwrap();
    assert!(rows
        .iter()
        .any(|r| r.vmid == first.template.vmid && r.is_template));

    let due = |waits: &[pvelab_core::model::ReimageWait], v: VmId| {
        waits
            .iter()
            .find(|w| w.vm.vmid == v)
            .unwrap()
            .due_at
            .is_some()
    };
    let waits = world
        .lab()
        .pending_reimages(&world.w.teacher, class.id)
        .await
        .unwrap();
    assert!(due(&waits, stopped) && !due(&waits, running));
    assert!(waits
        .iter()
        .all(|w| w.template == first.template.id && w.mode == PublishMode::AtNextStop));

    // The running VM becomes due when the inventory sees it stopped.
    world.sim.stop_guest(running.get()).unwrap();
    world.advance(minutes(1));
    world.sync(JobKind::Inventory).await;
    let waits = world
        .lab()
        .pending_reimages(&world.w.teacher, class.id)
        .await
        .unwrap();
    assert!(due(&waits, running));

    // A second version, now: both are due at once; the students keep their VMs.
    world.sim.start_guest(running.get()).unwrap();
    let second = world
        .lab()
        .publish_template(&world.w.teacher, class.id, PublishMode::Now)
        .await
        .unwrap();
    assert_eq!(second.previous, Some(first.template.id));
    assert_eq!(
        second.template.original_template_id,
        Some(first.template.id)
    );
    assert_eq!(second.due_now, 2);
    let pool = world.lab().pool(&world.w.teacher, class.id).await.unwrap();
    assert!(pool
        .iter()
        .filter(|v| v.vmid == running || v.vmid == stopped)
        .all(|v| v.status == VmStatus::Assigned));

    // The first version stays while the students' VMs still run on it.
    world.sync(JobKind::Templates).await;
    let list = templates(&world).await;
    assert!(list.iter().any(|t| t.id == first.template.id));
    assert!(list.iter().any(|t| t.id == second.template.id));

    // Students may not publish.
    let refused = world
        .lab()
        .publish_template(&_sam, class.id, PublishMode::Now)
        .await;
    assert!(matches!(
        refused,
        Err(Error::NotPermitted { .. }) | Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn an_old_version_that_no_vm_uses_is_removed_by_the_template_sync() {
    let world = jobs_world(Options::default()).await;
    let class = world.class_at_100("net101").await;
    let mut vm = crate::support::planned(class.scheme.teacher_vmid());
    vm.cluster_id = world.cluster.clone();
    world
        .lab()
        .register_vm(&world.w.teacher, class.id, vm)
        .await
        .unwrap();
    world.sync(JobKind::Inventory).await;
    let first = world
        .lab()
        .publish_template(&world.w.teacher, class.id, PublishMode::Now)
        .await
        .unwrap();
    let second = world
        .lab()
        .publish_template(&world.w.teacher, class.id, PublishMode::Now)
        .await
        .unwrap();
    let guests = world.sim.guest_count();

    let report = world.sync(JobKind::Templates).await;

    assert_eq!(
        report
            .stats(JobKind::Templates, &world.cluster)
            .unwrap()
            .removed,
        1
    );
    assert_eq!(world.sim.guest_count(), guests - 1, "deleted from Proxmox");
    let ids: Vec<TemplateId> = templates(&world).await.iter().map(|t| t.id).collect();
    assert!(!ids.contains(&first.template.id));
    assert!(
        ids.contains(&second.template.id),
        "the class's current version stays"
    );
}

#[tokio::test]
async fn a_class_disk_is_never_below_its_templates_disk() {
    let world = jobs_world(Options::default()).await;
    world.sync(JobKind::Templates).await;
    let debian = find(&templates(&world).await, 9000);
    assert_eq!(debian.specs.disk_size_gb, Some(32.0));
    let mut new = pvelab_core::model::NewClass::new(
        crate::support::name("net101"),
        crate::support::pool_size(2),
    );
    new.template_id = Some(debian.id);
    new.disk_gb = pvelab_core::types::DiskGb::new(8).unwrap();

    // Created asking for less: the class says what its VMs will have, the template's 32 GB.
    let class = world
        .lab()
        .create_class(&world.w.teacher, new)
        .await
        .unwrap();
    assert_eq!(class.disk_gb.get(), 32);

    // Changed to less: refused, naming the least.
    let change = pvelab_core::model::ClassSettings {
        disk_gb: Some(pvelab_core::types::DiskGb::new(16).unwrap()),
        ..Default::default()
    };
    let refused = world
        .lab()
        .update_class(&world.w.teacher, class.id, change)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::InvalidValue(v) if v.to_string().contains("at least 32 GB")),
        "{refused:?}"
    );
    let grown = pvelab_core::model::ClassSettings {
        disk_gb: Some(pvelab_core::types::DiskGb::new(40).unwrap()),
        ..Default::default()
    };
    let class = world
        .lab()
        .update_class(&world.w.teacher, class.id, grown)
        .await
        .unwrap();
    assert_eq!(class.disk_gb.get(), 40);
}
