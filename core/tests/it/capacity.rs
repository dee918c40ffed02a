//! Capacity planning against the simulator: three nodes of 16 GiB, each running one guest of
//! 2 GiB outside the class's VMIDs (the inventory's record of it). A pool of 2 GiB VMs fits 7
//! VMs per node at 100 %; one more VM is refused with the numbers and the nodes with room; a
//! higher overcommit ratio takes it; a class names a node and only that node counts; without
//! cached template specs the plan is made from the class's settings and says so, with them the
//! template's larger disk counts; creating or growing a pool that does not fit is refused before
//! anything changes.

use pvelab_core::jobs::JobKind;
use pvelab_core::model::{Class, ClassSettings, NewClass, SpecsSource};
use pvelab_core::types::{NodeName, PoolSize};
use pvelab_core::Error;
use pvelab_pve_sim::SimConfig;

use crate::jobs_support::{jobs_world, JobsWorld, Options};
use crate::support::{name, pool_size};

async fn world() -> JobsWorld {
    let world = jobs_world(Options {
        sim: SimConfig {
            node_memory_gib: 16,
            containers: 0,
            ..SimConfig::fast()
        },
        ..Options::default()
    })
    .await;
    world.sync(JobKind::Inventory).await;
    world
}

/// A class of 2 GiB VMs at VMIDs 500-599 (the simulator's guests at 100-105 are not its own).
async fn class(world: &JobsWorld, size: u16) -> Class {
    let mut new = NewClass::new(name("net101"), pool_size(size));
    new.vmid_prefix = Some(5);
    world
        .lab()
        .create_class(&world.w.teacher, new)
        .await
        .expect("create class")
}

/// The class with the simulator's template `vmid` (recorded by a template sync first).
async fn with_template(world: &JobsWorld, class: &Class, vmid: u32) -> Class {
    world.sync(JobKind::Templates).await;
    let templates = world
        .lab()
        .templates(&world.w.admin, &[], &world.cluster)
        .await
        .unwrap();
    let template = templates
        .iter()
        .find(|t| t.vmid.get() == vmid)
        .unwrap_or_else(|| panic!("template {vmid} recorded"));
    world
        .settings(
            class,
            ClassSettings {
                template_id: Some(Some(template.id)),
                ..ClassSettings::default()
            },
        )
        .await
}

fn size(n: i64) -> PoolSize {
    PoolSize::new(n).unwrap()
}

#[tokio::test]
async fn a_pool_that_fits_is_placed_on_the_nodes_with_room() {
    let world = world().await;
    let class = class(&world, 20).await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(20))
        .await
        .unwrap();
    assert!(plan.fits(), "{plan:?}");
    assert_eq!(plan.running_vms, 21, "20 students and the teacher");
    assert_eq!(plan.memory_needed_mb, 21 * 2048);
    assert_eq!(plan.vcpus_needed, 42);
    assert_eq!(plan.disk_needed_gb, 22 * 32, "the base VM needs disk too");
    assert_eq!(plan.overcommit_percent, 100);
    assert_eq!(plan.nodes.len(), 3);
    for node in &plan.nodes {
        assert_eq!(node.memory_mb, 16 * 1024, "{node:?}");
        assert_eq!(
            node.committed_mb, 2048,
            "one running guest of 2 GiB: {node:?}"
        );
        assert_eq!(node.headroom_mb, 14 * 1024);
        assert_eq!((node.could_hold, node.vms_placed), (7, 7));
    }
    assert_eq!(plan.largest_size_that_fits, 20);
    assert_eq!(plan.short_mb, 0);
}

#[tokio::test]
async fn a_pool_that_overcommits_is_refused_saying_by_how_much_and_where_there_is_room() {
    let world = world().await;
    let class = class(&world, 20).await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(23))
        .await
        .unwrap();
    assert!(!plan.fits());
    assert_eq!((plan.unplaced_vms, plan.short_mb), (3, 3 * 2048));
    assert_eq!(plan.largest_size_that_fits, 20);
    assert_eq!(
        plan.nodes_with_room(),
        [("pve1", 7), ("pve2", 7), ("pve3", 7)]
    );

    // Growing to it is refused and nothing changes (the class gets a template to clone from
    // first: without one, growing is refused for that).
    let class = with_template(&world, &class, 9000).await;
    let refused = world
        .lab()
        .resize_pool(&world.w.teacher, class.id, size(23), false)
        .await
        .unwrap_err();
    match &refused {
        Error::Overcommitted { plan } => assert_eq!(plan.unplaced_vms, 3),
        other => panic!("{other:?}"),
    }
    let message = refused.to_string();
    assert!(message.contains("3 VMs (6144 MiB"), "{message}");
    let stored = world.lab().class(&world.w.teacher, class.id).await.unwrap();
    assert_eq!(stored.pool_size.get(), 20);

    // A higher ratio takes it: 150 % of 16 GiB less 2 GiB is 22 GiB, 11 VMs a node.
    world.set("capacity.memory_overcommit_percent", "150").await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(23))
        .await
        .unwrap();
    assert!(plan.fits(), "{plan:?}");
    assert_eq!(plan.largest_size_that_fits, 23);

    // A new class that cannot fit is not created at all.
    world.set("capacity.memory_overcommit_percent", "100").await;
    let mut big = NewClass::new(name("big"), pool_size(40));
    big.vmid_prefix = Some(7);
    let refused = world
        .lab()
        .create_and_provision_class(&world.w.teacher, big)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::Overcommitted { .. }),
        "{refused:?}"
    );
    let classes = world.lab().classes(&world.w.admin, None).await.unwrap();
    assert!(classes.iter().all(|c| c.name.as_str() != "big"));
}

#[tokio::test]
async fn a_class_that_names_a_node_is_planned_on_that_node_alone() {
    let world = world().await;
    let class = class(&world, 5).await;
    let class = world
        .settings(
            &class,
            ClassSettings {
                deployment_node: Some(Some(NodeName::parse("pve2").unwrap())),
                ..ClassSettings::default()
            },
        )
        .await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(8))
        .await
        .unwrap();
    assert_eq!(plan.nodes.len(), 1);
    assert_eq!(plan.nodes[0].node, "pve2");
    assert_eq!((plan.unplaced_vms, plan.largest_size_that_fits), (2, 6));
}

#[tokio::test]
async fn without_cached_template_specs_the_class_settings_decide_and_with_them_the_larger_disk_counts(
) {
    let world = world().await;
    let class = class(&world, 4).await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(4))
        .await
        .unwrap();
    assert_eq!(plan.specs, SpecsSource::ClassOnly);
    assert_eq!(plan.disk_per_vm_gb, 32);
    assert!(plan.fits());

    // The template sync caches the specs of 9001 (4 GiB, 40 GB disk): its disk is larger.
    let class = with_template(&world, &class, 9001).await;
    let plan = world
        .lab()
        .plan_capacity(&world.w.teacher, class.id, size(4))
        .await
        .unwrap();
    assert_eq!(plan.specs, SpecsSource::ClassAndTemplate);
    assert_eq!(plan.disk_per_vm_gb, 40);
    assert_eq!(plan.memory_per_vm_mb, 2048, "memory is the class's setting");
    assert_eq!(plan.disk_needed_gb, 6 * 40);
}
