//! The scenarios of the issue: parallel linked clones, a full-clone lock collision, ticket
//! expiry mid-run, and a retrying caller converging under 10 % injected faults.

use std::time::{Duration, Instant};

use pvelab_pve_sim::{FaultConfig, SimConfig};
use reqwest::Method;

use crate::support::{Answer, Api};

#[tokio::test]
async fn twenty_linked_clones_of_one_template_run_in_parallel_and_all_succeed() {
    let api = Api::fast().await;
    let started = Instant::now();
    let posts = (0..20u32).map(|i| {
        let id = (1000 + i).to_string();
        let name = format!("student-{i}");
        let api = &api;
        async move {
            api.post(
                "/nodes/pve1/qemu/9000/clone",
                &[("newid", &id), ("name", &name)],
            )
            .await
        }
    });
    let answers: Vec<Answer> = futures_join_all(posts).await;
    // While the tasks run, the new VMs exist and are locked.
    let locked = (1000..1020)
        .filter(|v| api.sim.guest_lock(*v) == Some(Some("clone".into())))
        .count();
    assert!(locked > 0, "new VMs show lock: clone while cloning");
    for a in &answers {
        let upid = a.data().as_str().expect("clone answers a UPID");
        assert!(
            upid.starts_with("UPID:pve1:") && upid.contains(":qmclone:9000:"),
            "{upid}"
        );
        assert_eq!(api.wait_task(upid).await, "OK");
    }
    let res = api
        .call(Method::GET, "/cluster/resources", &[("type", "vm")])
        .await;
    let clones: Vec<_> = res
        .data()
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| {
            r["vmid"]
                .as_u64()
                .is_some_and(|v| (1000..1020).contains(&v))
        })
        .collect();
    assert_eq!(clones.len(), 20);
    assert!(clones
        .iter()
        .all(|c| c.get("lock").is_none() && c["node"] == "pve1"));
    assert_eq!(api.sim.count("POST", "/nodes/{node}/qemu/{vmid}/clone"), 20);
    // Four clone slots on pve1: five waves at least, never faster than the capacity model.
    let best = api
        .sim
        .best_clone_time(20, 1, pvelab_pve_sim::CloneKind::Linked);
    assert!(
        started.elapsed() >= best,
        "{:?} < best possible {best:?}",
        started.elapsed()
    );
}

pub async fn futures_join_all<F: std::future::Future>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(f);
    }
    let mut out = Vec::with_capacity(set.len());
    // Poll all at once by driving them through a join on pinned boxes.
    let handles: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(
        results
            .into_iter()
            .map(|r| r.expect("every future finished")),
    );
    out
}

#[tokio::test]
async fn parallel_full_clones_on_one_storage_collide_on_the_storage_lock() {
    let api = Api::fast().await; // full clone 300 ms, lock timeout 100 ms
    let posts = (0..3u32).map(|i| {
        let id = (2000 + i).to_string();
        let api = &api;
        async move {
            api.post(
                "/nodes/pve2/qemu/101/clone",
                &[("newid", &id), ("full", "1")],
            )
            .await
        }
    });
    let answers = futures_join_all(posts).await;
    let mut ok = 0;
    let mut timeouts = 0;
    for (i, a) in answers.iter().enumerate() {
        let exit = api.wait_task(a.upid()).await;
        if exit == "OK" {
            ok += 1;
        } else {
            assert_eq!(
                exit,
                "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout"
            );
            timeouts += 1;
            assert_eq!(
                api.sim.guest_lock(2000 + i as u32),
                None,
                "a failed clone leaves no VM"
            );
        }
    }
    assert!(
        ok >= 1 && timeouts >= 1,
        "{ok} succeeded, {timeouts} timed out"
    );
}

#[tokio::test]
async fn a_ticket_renewed_in_time_survives_the_expiry_of_the_first_one() {
    let api = Api::fast().await;
    let login = |password: String| {
        let api = &api;
        async move {
            let user = api.sim.username();
            api.send(
                api.http
                    .post(api.url("/access/ticket"))
                    .form(&[("username", user.as_str()), ("password", password.as_str())]),
            )
            .await
        }
    };
    let first = login(api.sim.password()).await;
    assert!(first.status.is_success(), "{}", first.raw);
    let ticket = first.data()["ticket"]
        .as_str()
        .expect("a ticket")
        .to_owned();
    let csrf = first.data()["CSRFPreventionToken"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();
    assert!(ticket.starts_with(&format!("PVE:{}:", api.sim.username())));
    let with_ticket = |t: &str, c: &str, method: Method, path: &str| {
        api.http
            .request(method, api.url(path))
            .header("Cookie", format!("PVEAuthCookie={t}"))
            .header("CSRFPreventionToken", c)
    };
    // Start a clone with the first ticket (a POST needs the CSRF token).
    let a = api
        .send(
            with_ticket(&ticket, &csrf, Method::POST, "/nodes/pve1/qemu/9000/clone")
                .form(&[("newid", "3000")]),
        )
        .await;
    let upid = a.upid().to_owned();
    assert!(
        upid.ends_with(":root@pam:"),
        "ticket tasks run as the user: {upid}"
    );

    api.sim.advance_clock(3600.0);
    let renewed = login(ticket.clone()).await;
    assert!(
        renewed.status.is_success(),
        "a valid ticket renews: {}",
        renewed.raw
    );
    let ticket2 = renewed.data()["ticket"]
        .as_str()
        .expect("a ticket")
        .to_owned();
    let csrf2 = renewed.data()["CSRFPreventionToken"]
        .as_str()
        .expect("csrf")
        .to_owned();

    api.sim.advance_clock(3700.0); // the first ticket is now 2 h 1 min old
    let old = api
        .send(with_ticket(&ticket, &csrf, Method::GET, "/version"))
        .await;
    assert_eq!(old.status, 401);
    assert_eq!(old.reason, "permission denied - invalid PVE ticket");
    assert!(old.raw.is_empty(), "401 bodies are empty");
    let stale_renewal = login(ticket).await;
    assert_eq!(stale_renewal.status, 401);

    // The renewed ticket keeps the run going: poll the task and clone again.
    let status = api
        .send(with_ticket(
            &ticket2,
            &csrf2,
            Method::GET,
            &format!("/nodes/pve1/tasks/{upid}/status"),
        ))
        .await;
    assert!(status.status.is_success(), "{}", status.raw);
    let b = api
        .send(
            with_ticket(
                &ticket2,
                &csrf2,
                Method::POST,
                "/nodes/pve1/qemu/9000/clone",
            )
            .form(&[("newid", "3001")]),
        )
        .await;
    assert!(b.status.is_success(), "{}", b.raw);
    assert_eq!(api.wait_task(&upid).await, "OK");
}

#[tokio::test]
async fn a_retrying_caller_converges_under_ten_percent_injected_faults() {
    let api = Api::start(SimConfig {
        faults: FaultConfig {
            seed: Some(42),
            error_500_rate: 0.05,
            error_595_rate: 0.03,
            error_596_rate: 0.02,
            task_failure_rate: 0.1,
            ..FaultConfig::default()
        },
        ..SimConfig::fast()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut faults_seen = 0;
    for i in 0..15u32 {
        let newid = (4000 + i).to_string();
        loop {
            assert!(Instant::now() < deadline, "the caller did not converge");
            let a = api
                .post("/nodes/pve1/qemu/9000/clone", &[("newid", &newid)])
                .await;
            if a.status.is_server_error() || a.status.as_u16() >= 595 {
                faults_seen += 1;
                if a.raw.contains("config file already exists") {
                    break; // an earlier attempt went through
                }
                continue;
            }
            let upid = a.upid().to_owned();
            // Poll with retries: the status call itself may hit a fault.
            let exit = loop {
                let node = "pve1";
                let s = api.get(&format!("/nodes/{node}/tasks/{upid}/status")).await;
                if !s.status.is_success() {
                    faults_seen += 1;
                    continue;
                }
                if s.data()["status"] == "stopped" {
                    break s.data()["exitstatus"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            if exit == "OK" || exit.starts_with("WARNINGS") {
                break;
            }
            faults_seen += 1; // a failed task: the clone was undone, try again
        }
    }
    for id in 4000..4015 {
        assert_eq!(
            api.sim.guest_lock(id),
            Some(None),
            "VM {id} exists, unlocked"
        );
    }
    assert!(faults_seen > 0, "the faults were felt");
    let posts = api.sim.count("POST", "/nodes/{node}/qemu/{vmid}/clone");
    assert!(posts > 15, "retries cost extra clone calls: {posts}");
}

#[tokio::test]
async fn ten_thousand_vms_over_ten_nodes_list_in_one_call() {
    let api = Api::start(SimConfig {
        nodes: 10,
        vms: 10_000,
        ..SimConfig::fast()
    })
    .await;
    let res = api
        .call(Method::GET, "/cluster/resources", &[("type", "vm")])
        .await;
    let list = res.data().as_array().expect("a list");
    assert_eq!(list.len(), 10_000 + 4 + 2, "VMs, templates and containers");
    let on_pve10 = list
        .iter()
        .filter(|r| r["node"] == "pve10" && r["type"] == "qemu" && r["template"] == 0)
        .count();
    assert_eq!(on_pve10, 1_000, "round-robin placement");
    assert_eq!(api.sim.count("GET", "/cluster/resources"), 1);
    assert_eq!(
        api.sim.total_requests(),
        1,
        "the whole inventory costs one call"
    );
}
