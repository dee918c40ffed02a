//! In-VM checks through the guest agent: the client's exec, exec-status, run-to-the-end and
//! get-users against outcomes scripted per VM on the simulator, and the agent's errors.

use std::time::Duration;

use pvelab_proxmox::{Client, Error, ExecParams, GuestStatus, TaskWait};
use pvelab_pve_sim::{ExecMatch, ExecOutcome, GuestUser, SimHandle};

use crate::support::{self, run_task, NO_AGENT_VM};

/// Running VMs with a ready agent: 100 on pve1, 102 on pve3.
const VM_A: (&str, u32) = ("pve1", 100);
const VM_B: (&str, u32) = ("pve3", 102);
/// A stopped VM on pve1.
const STOPPED_VM: (&str, u32) = ("pve1", 103);

const NGINX: [&str; 3] = ["systemctl", "is-active", "nginx"];

fn wait(timeout: Duration) -> TaskWait {
    TaskWait {
        timeout,
        ..support::fast_wait()
    }
}

fn vm(client: &Client, (node, vmid): (&str, u32)) -> pvelab_proxmox::Qemu {
    client.node(node).qemu(vmid)
}

fn script(sim: &SimHandle, m: ExecMatch, outcome: ExecOutcome) {
    sim.set_exec_outcome(m, outcome).expect("a valid script");
}

#[tokio::test]
async fn a_check_scripted_per_vm_runs_to_its_end_with_each_vms_answer() {
    let (sim, client) = support::sim_and_client().await;
    script(
        &sim,
        ExecMatch::vm(VM_A.1).command(NGINX),
        ExecOutcome::success("active\n"),
    );
    script(
        &sim,
        ExecMatch::vm(VM_B.1).command(NGINX),
        ExecOutcome::exit(3).with_stdout("inactive\n").taking(20.0), // 0.2 s
    );

    let up = vm(&client, VM_A)
        .agent_run(&ExecParams::new(NGINX), wait(Duration::from_secs(20)))
        .await
        .expect("VM A answers");
    let down = vm(&client, VM_B)
        .agent_run(&ExecParams::new(NGINX), wait(Duration::from_secs(20)))
        .await
        .expect("VM B answers");
    let other = vm(&client, VM_A)
        .agent_run(
            &ExecParams::new(["hostname"]),
            wait(Duration::from_secs(20)),
        )
        .await
        .expect("an unscripted command");

    assert!(up.succeeded());
    assert_eq!(up.stdout(), "active\n");
    assert_eq!(down.exitcode, Some(3));
    assert!(!down.succeeded());
    assert_eq!(down.stdout().trim(), "inactive");
    assert!(other.succeeded() && other.stdout().is_empty());
    assert_eq!(sim.exec_history(VM_B.1).len(), 1, "started once");
}

#[tokio::test]
async fn exec_status_says_running_until_the_command_ends_then_forgets_it() {
    let (sim, client) = support::sim_and_client().await;
    script(
        &sim,
        ExecMatch::any().command(["apt-get", "update"]),
        ExecOutcome::success("Reading package lists...\n").taking(600.0),
    );
    let vm = vm(&client, VM_A);

    let pid = vm
        .agent_exec(&ExecParams::new(["apt-get", "update"]))
        .await
        .expect("started");
    let running = vm.agent_exec_status(pid).await.expect("status");
    sim.advance_clock(6.0);
    let ended = vm.agent_exec_status(pid).await.expect("status");
    let again = vm.agent_exec_status(pid).await;

    assert!(!running.exited && running.exitcode.is_none());
    assert!(ended.exited && ended.succeeded());
    assert_eq!(ended.stdout(), "Reading package lists...\n");
    assert!(!ended.out_truncated);
    assert!(matches!(again, Err(Error::NotFound { .. })), "{again:?}");
}

#[tokio::test]
async fn a_hanging_command_ends_the_wait_with_a_timeout_and_is_started_only_once() {
    let (sim, client) = support::sim_and_client().await;
    script(
        &sim,
        ExecMatch::vm(VM_A.1).command(["sleep", "infinity"]),
        ExecOutcome::hang(),
    );

    let waited = vm(&client, VM_A)
        .agent_run(
            &ExecParams::new(["sleep", "infinity"]),
            wait(Duration::from_millis(150)),
        )
        .await;

    let history = sim.exec_history(VM_A.1);
    assert_eq!(history.len(), 1);
    let pid = history[0].pid.expect("it started");
    match waited {
        Err(Error::Timeout { what }) => {
            assert!(what.contains(&format!("pid {pid}")), "{what}");
            assert!(what.contains("sleep"), "{what}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn input_data_reaches_the_guest_and_a_killed_or_missing_program_is_reported() {
    let (sim, client) = support::sim_and_client().await;
    script(
        &sim,
        ExecMatch::any().command(["nginx", "-t"]),
        ExecOutcome::not_found(),
    );
    script(
        &sim,
        ExecMatch::any().command(["stress"]),
        ExecOutcome::killed(9).with_stderr("Killed\n"),
    );
    let vm = vm(&client, VM_A);
    let config = "server { listen 80; }\n";

    let wrote = vm
        .agent_run(
            &ExecParams::new(["sh", "-c", "cat > /etc/nginx/conf.d/lab.conf"]).input_data(config),
            wait(Duration::from_secs(20)),
        )
        .await
        .expect("written");
    let killed = vm
        .agent_run(&ExecParams::new(["stress"]), wait(Duration::from_secs(20)))
        .await
        .expect("ends");
    let missing = vm.agent_exec(&ExecParams::new(["nginx", "-t"])).await;

    assert!(wrote.succeeded());
    assert_eq!(
        sim.exec_history(VM_A.1)[0].input_data.as_deref(),
        Some(config)
    );
    assert_eq!((killed.signal, killed.exitcode), (Some(9), None));
    assert_eq!(killed.stderr(), "Killed\n");
    match missing {
        Err(e @ Error::AgentCommand { .. }) => {
            assert!(
                e.to_string().contains("Failed to execute child process"),
                "{e}"
            );
            assert!(!e.is_transient());
        }
        other => panic!("expected the agent's error, got {other:?}"),
    }
}

#[tokio::test]
async fn exec_fails_like_every_agent_call_while_the_agent_cannot_answer() {
    let mut cfg = support::config();
    cfg.timing.agent_delay_secs = 600.0 / cfg.time_scale; // a fresh start stays booting
    let sim = support::start(cfg).await;
    let client = support::token_client(&sim);
    let check = ExecParams::new(["true"]);

    let no_agent = client
        .node("pve1")
        .qemu(NO_AGENT_VM)
        .agent_exec(&check)
        .await;
    let stopped = vm(&client, STOPPED_VM).agent_exec(&check).await;
    let booting_vm = vm(&client, STOPPED_VM);
    run_task(&client, booting_vm.start().await.expect("start")).await;
    let booting = booting_vm
        .agent_run(&check, wait(Duration::from_secs(5)))
        .await;
    let no_users = booting_vm.agent_get_users().await;

    assert!(
        matches!(no_agent, Err(Error::AgentNotConfigured { .. })),
        "{no_agent:?}"
    );
    assert!(
        matches!(stopped, Err(Error::GuestNotRunning { vmid, .. }) if vmid == STOPPED_VM.1),
        "{stopped:?}"
    );
    assert!(
        matches!(&booting, Err(e @ Error::AgentNotRunning { .. }) if e.is_transient()),
        "{booting:?}"
    );
    assert!(
        matches!(no_users, Err(Error::AgentNotRunning { .. })),
        "{no_users:?}"
    );
    assert!(sim.exec_history(STOPPED_VM.1).is_empty(), "nothing ran");
    sim.advance_clock(600.0);
    let ready = booting_vm
        .agent_run(&check, wait(Duration::from_secs(20)))
        .await
        .expect("the agent is up");
    assert!(ready.succeeded());
}

#[tokio::test]
async fn logged_in_users_are_read_and_a_stop_logs_them_out() {
    let (sim, client) = support::sim_and_client().await;
    sim.set_guest_users(
        VM_A.1,
        vec![GuestUser {
            user: "student".into(),
            login_time: 1_760_000_000.5,
            domain: None,
        }],
    )
    .expect("users");
    let vm = vm(&client, VM_A);

    let users = vm.agent_get_users().await.expect("users");
    run_task(&client, vm.stop().await.expect("stop")).await;
    run_task(&client, vm.start().await.expect("start")).await;
    assert_eq!(support::state(vm.status()).await, GuestStatus::Running);
    sim.advance_clock(60.0);
    let after = vm.agent_get_users().await.expect("users");

    assert_eq!(users.len(), 1);
    assert_eq!(users[0].user, "student");
    assert_eq!(users[0].login_time, Some(1_760_000_000.5));
    assert!(after.is_empty(), "{after:?}");
}

#[tokio::test]
async fn a_read_only_token_may_list_users_but_not_run_commands() {
    let sim = support::sim().await;
    let audit = support::builder(&sim)
        .api_token(&sim.audit_token())
        .build()
        .expect("an audit client");
    let vm = vm(&audit, VM_A);

    let run = vm.agent_exec(&ExecParams::new(["id"])).await;
    let read = vm.agent_exec_status(1).await;
    let users = vm.agent_get_users().await;

    for denied in [run.map(|_| ()), read.map(|_| ())] {
        match denied {
            Err(Error::PermissionDenied { message }) => {
                assert!(message.contains("VM.GuestAgent.Unrestricted"), "{message}")
            }
            other => panic!("expected a 403, got {other:?}"),
        }
    }
    assert!(users.is_ok(), "{users:?}");
    assert!(sim.exec_history(VM_A.1).is_empty());
}
