//! Contention as a real cluster shows it: creators that picked the same VMID (nextid reserves
//! nothing) and parallel full clones that fight over one storage lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pvelab_proxmox::{CloneParams, Error};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::support::{self, run_task, TEMPLATE};

const CLONE: (&str, &str) = ("POST", "/nodes/{node}/qemu/{vmid}/clone");

#[tokio::test]
async fn creators_that_picked_the_same_vmid_each_end_up_with_their_own() {
    let (sim, client) = support::sim_and_client().await;
    let before = sim.guest_count();
    const CREATORS: usize = 8;
    // Every creator picks its id before any of them creates, so all pick the same one.
    let barrier = Arc::new(Barrier::new(CREATORS));
    let collisions = Arc::new(AtomicU64::new(0));

    let mut creators = JoinSet::new();
    for _ in 0..CREATORS {
        let client = client.clone();
        let barrier = barrier.clone();
        let collisions = collisions.clone();
        creators.spawn(async move {
            let template = client.node("pve1").qemu(TEMPLATE);
            let mut first = true;
            client
                .with_free_vmid(Some(300), 20, |id| {
                    let template = template.clone();
                    let barrier = barrier.clone();
                    let collisions = collisions.clone();
                    let wait = std::mem::replace(&mut first, false);
                    async move {
                        if wait {
                            barrier.wait().await;
                        }
                        let sent = template.clone_vm(&CloneParams::new(id)).await;
                        if matches!(sent, Err(Error::AlreadyExists { .. })) {
                            collisions.fetch_add(1, Ordering::SeqCst);
                        }
                        sent
                    }
                })
                .await
        });
    }
    let mut created = Vec::new();
    while let Some(done) = creators.join_next().await {
        created.push(done.expect("no panic").expect("every creator converges"));
    }
    for (_, upid) in &created {
        run_task(&client, upid.clone()).await;
    }

    let mut ids: Vec<u32> = created.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), CREATORS, "distinct VMIDs: {ids:?}");
    assert_eq!(ids[0], 300, "one creator won the id they all picked");
    let collisions = collisions.load(Ordering::SeqCst);
    assert!(
        collisions >= (CREATORS - 1) as u64,
        "the seven losers of the first round were told the id exists ({collisions})"
    );
    assert_eq!(
        sim.count(CLONE.0, CLONE.1),
        CREATORS as u64 + collisions,
        "one request per attempt: the client never repeats a create itself"
    );
    assert_eq!(sim.guest_count(), before + CREATORS);
}

#[tokio::test]
async fn parallel_full_clones_on_one_storage_fail_with_the_lock_timeout_and_succeed_when_repeated()
{
    // A full clone holds local-lvm's lock for 0.4 s; a waiter gives up after 0.05 s.
    let mut cfg = support::config();
    cfg.timing.full_clone_secs = 40.0;
    cfg.timing.storage_lock_timeout_secs = 5.0;
    let sim = support::start(cfg).await;
    let client = support::token_client(&sim);
    let template = client.node("pve1").qemu(TEMPLATE);
    let ids = [400, 401, 402];

    let mut clones = JoinSet::new();
    for id in ids {
        let client = client.clone();
        let upid = template
            .clone_vm(&CloneParams::new(id).full(true))
            .await
            .expect("each clone is accepted");
        clones.spawn(async move { (id, client.wait_for_task(&upid).await) });
    }
    let mut failed = Vec::new();
    let mut succeeded = Vec::new();
    while let Some(done) = clones.join_next().await {
        match done.expect("no panic") {
            (id, Ok(_)) => succeeded.push(id),
            (id, Err(Error::TaskFailed { exit_status, .. })) => {
                assert_eq!(
                    exit_status,
                    "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' \
                     - got timeout"
                );
                failed.push(id);
            }
            (id, Err(other)) => panic!("clone to {id}: unexpected {other}"),
        }
    }
    assert_eq!(succeeded.len(), 1, "one clone held the lock: {succeeded:?}");
    assert_eq!(failed.len(), 2, "the others timed out: {failed:?}");
    for id in &failed {
        let gone = client.node("pve1").qemu(*id).status().await;
        assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
    }

    // Repeated one after another, each gets the lock.
    for id in failed {
        let upid = template
            .clone_vm(&CloneParams::new(id).full(true))
            .await
            .expect("accepted");
        run_task(&client, upid).await;
    }
    for id in ids {
        let config = client.node("pve1").qemu(id).config().await.expect("exists");
        assert_eq!(config.lock(), None);
    }
}
