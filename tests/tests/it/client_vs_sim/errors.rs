//! Error mapping from the simulator's real error shapes: not found, locked while a clone runs,
//! already exists, parameter errors, a digest mismatch, 595/596, an offline node, and a failed
//! task with its log tail.

use pvelab_proxmox::{CloneParams, ConfigUpdate, DeleteParams, Error, GuestStatus, Upid};
use pvelab_pve_sim::{FaultConfig, SimConfig};

use crate::support::{self, TEMPLATE};

#[tokio::test]
async fn a_missing_vm_and_an_unknown_task_are_not_found() {
    let (sim, client) = support::sim_and_client().await;

    let missing = client.node("pve1").qemu(999).status().await;
    match missing {
        Err(Error::NotFound { message }) => assert!(
            message.contains("Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"),
            "{message}"
        ),
        other => panic!("expected NotFound, got {other:?}"),
    }
    // The template lives on pve1: asking pve2 for it is asking for a config that is not there.
    let elsewhere = client.node("pve2").qemu(TEMPLATE).config().await;
    assert!(
        matches!(elsewhere, Err(Error::NotFound { .. })),
        "{elsewhere:?}"
    );

    let unknown = Upid::parse("UPID:pve1:00001234:00005678:6650C0DE:qmstart:100:root@pam:")
        .expect("a well-formed UPID");
    let status = client.task(&unknown).status().await;
    assert!(matches!(status, Err(Error::NotFound { .. })), "{status:?}");
    assert_eq!(
        sim.count("GET", "/nodes/{node}/qemu/{vmid}/status/current"),
        1,
        "a semantic error is not retried"
    );
}

#[tokio::test]
async fn a_vm_being_cloned_is_locked_and_its_id_already_exists() {
    // A linked clone that takes 100 s of real time: it is surely running during this test.
    let mut cfg = support::config();
    cfg.timing.linked_clone_secs = 100.0 / cfg.time_scale;
    let sim = support::start(cfg).await;
    let client = support::token_client(&sim);
    let id = client.free_vmid(Some(200)).await.expect("free id");
    let template = client.node("pve1").qemu(TEMPLATE);
    let upid = template
        .clone_vm(&CloneParams::new(id))
        .await
        .expect("clone accepted");

    let vm = client.node("pve1").qemu(id);
    let status = vm.status().await.expect("the new VM exists at once");
    assert_eq!(status.lock.as_deref(), Some("clone"));
    assert_eq!(sim.guest_lock(id), Some(Some("clone".to_owned())));

    let update = vm.update_config(&ConfigUpdate::new().set("cores", 4)).await;
    match &update {
        Err(e @ Error::Locked { lock, message }) => {
            assert_eq!(lock, "clone");
            assert!(message.contains("VM is locked (clone)"), "{message}");
            assert!(e.is_transient());
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let delete = vm.delete(&DeleteParams::default()).await;
    assert!(matches!(delete, Err(Error::Locked { .. })), "{delete:?}");

    // Power actions accept the request and fail inside the task, as PVE does.
    let start = vm.start().await.expect("start is accepted");
    match client.wait_for_task(&start).await {
        Err(Error::TaskFailed {
            exit_status,
            log_tail,
            ..
        }) => {
            assert_eq!(exit_status, "VM is locked (clone)");
            assert!(
                log_tail.iter().any(|l| l.contains("VM is locked (clone)")),
                "{log_tail:?}"
            );
        }
        other => panic!("expected the start task to fail, got {other:?}"),
    }

    let again = template.clone_vm(&CloneParams::new(id)).await;
    match again {
        Err(Error::AlreadyExists { message }) => assert!(
            message.contains(&format!(
                "unable to create VM {id}: config file already exists"
            )),
            "{message}"
        ),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(!client.cluster().is_vmid_free(id).await.expect("probe"));
    let still = client.task(&upid).status().await.expect("clone status");
    assert!(still.exit().is_none(), "the clone is still running");
}

#[tokio::test]
async fn rejected_parameters_keep_the_servers_field_map() {
    let (_sim, client) = support::sim_and_client().await;
    let vm = client.node("pve1").qemu(100);

    let small = vm
        .update_config(&ConfigUpdate::new().set("memory", 8))
        .await;
    match small {
        Err(Error::Parameter { errors, message }) => {
            assert_eq!(errors["memory"], "value must have a minimum value of 16");
            assert!(
                message.starts_with("Parameter verification failed."),
                "{message}"
            );
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }

    let unknown = vm
        .update_config(&ConfigUpdate::new().set("colour", "blue"))
        .await;
    match unknown {
        Err(Error::Parameter { errors, .. }) => assert!(
            errors["colour"].contains("property is not defined in schema"),
            "{errors:?}"
        ),
        other => panic!("expected a parameter error, got {other:?}"),
    }

    let stale = vm
        .update_config(&ConfigUpdate::new().set("cores", 2).digest("0".repeat(40)))
        .await;
    match stale {
        Err(Error::Api {
            status: 500,
            message,
        }) => {
            assert!(
                message.contains("checksum mismatch (file change by other user?)"),
                "{message}"
            )
        }
        other => panic!("expected the digest mismatch, got {other:?}"),
    }

    let digest = vm.config().await.expect("config").digest().expect("digest");
    vm.update_config(&ConfigUpdate::new().set("cores", 3).digest(digest))
        .await
        .expect("an update with the current digest");
    assert_eq!(vm.config().await.expect("config").cores(), Some(3));
}

#[tokio::test]
async fn an_unreachable_node_is_retried_for_reads_and_never_for_writes() {
    let (sim, client) = support::sim_and_client().await;
    sim.set_faults(FaultConfig {
        error_595_rate: 1.0,
        ..FaultConfig::default()
    })
    .expect("faults");

    let read = client.version().await;
    let write = client.node("pve1").qemu(100).start().await;

    for result in [read.map(|_| ()), write.map(|_| ())] {
        match result {
            Err(e @ Error::NodeUnreachable { status: 595, .. }) => {
                assert!(e.to_string().contains("No route to host"), "{e}");
                assert!(e.is_transient());
            }
            other => panic!("expected 595, got {other:?}"),
        }
    }
    let retries = u64::from(support::fast_retry().max_retries);
    assert_eq!(sim.count("GET", "/version"), 1 + retries);
    assert_eq!(
        sim.count("POST", "/nodes/{node}/qemu/{vmid}/status/start"),
        1
    );

    sim.set_faults(FaultConfig {
        error_596_rate: 1.0,
        ..FaultConfig::default()
    })
    .expect("faults");
    let busy = client.nodes().await;
    assert!(
        matches!(busy, Err(Error::NodeUnreachable { status: 596, .. })),
        "{busy:?}"
    );
}

#[tokio::test]
async fn an_offline_node_answers_595_and_its_guests_show_an_unknown_status() {
    let (sim, client) = support::sim_and_client().await;
    sim.set_node_online("pve2", false).expect("pve2 goes away");

    let list = client.node("pve2").qemu_list().await;
    assert!(
        matches!(list, Err(Error::NodeUnreachable { status: 595, .. })),
        "{list:?}"
    );
    let nodes = client.nodes().await.expect("nodes");
    let pve2 = nodes
        .iter()
        .find(|n| n.node == "pve2")
        .expect("pve2 listed");
    assert_eq!(pve2.status, pvelab_proxmox::NodeStatus::Offline);
    let guests = client.cluster().vms().await.expect("vms");
    let on_pve2: Vec<_> = guests
        .iter()
        .filter(|g| g.node.as_deref() == Some("pve2"))
        .collect();
    assert!(!on_pve2.is_empty());
    assert!(on_pve2
        .iter()
        .all(|g| g.guest_status() == GuestStatus::Unknown));

    sim.set_node_online("pve2", true).expect("pve2 is back");
    assert!(client.node("pve2").qemu_list().await.is_ok());
}

#[tokio::test]
async fn a_failed_clone_task_is_task_failed_with_the_log_tail_and_leaves_no_vm() {
    let (sim, client) = support::sim_and_client().await;
    let id = client.free_vmid(Some(200)).await.expect("free id");
    sim.set_faults(FaultConfig {
        task_failure_rate: 1.0,
        ..FaultConfig::default()
    })
    .expect("faults");

    let upid =
        support::clone_template(&client, CloneParams::new(id), "the clone is accepted").await;
    let failed = client.wait_for_task(&upid).await;

    match failed {
        Err(Error::TaskFailed {
            upid: failed_upid,
            exit_status,
            log_tail,
        }) => {
            assert_eq!(*failed_upid, upid);
            assert!(
                exit_status.contains("simulated task failure"),
                "{exit_status}"
            );
            let last = log_tail.last().expect("a log tail");
            assert!(last.starts_with("TASK ERROR:"), "{log_tail:?}");
            assert!(last.contains(&exit_status), "{log_tail:?}");
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(
        sim.count("GET", "/nodes/{node}/tasks/{upid}/log"),
        1,
        "a short log is read once for its tail"
    );
    let gone = client.node("pve1").qemu(id).status().await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
}

#[tokio::test]
async fn the_older_error_body_without_a_message_is_classified_from_the_reason_phrase() {
    let sim = support::start(SimConfig {
        legacy_error_body: true,
        ..support::config()
    })
    .await;
    let client = support::token_client(&sim);

    let missing = client.node("pve1").qemu(999).status().await;
    let taken = client
        .node("pve1")
        .qemu(TEMPLATE)
        .clone_vm(&CloneParams::new(100))
        .await;

    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    assert!(
        matches!(taken, Err(Error::AlreadyExists { .. })),
        "{taken:?}"
    );
}
