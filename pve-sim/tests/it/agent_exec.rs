//! Guest agent commands over raw HTTP: exec with repeated `command` fields or a JSON array,
//! exec-status while running and after the end, scripted outcomes (in process and over
//! `/_sim/`), the agent's errors, permissions, and logged-in users.

use pvelab_pve_sim::{ExecMatch, ExecOutcome, GuestUser, SimConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::Api;

/// VM 100 runs on pve1 with an agent that answers (started three hours ago).
const EXEC: &str = "/nodes/pve1/qemu/100/agent/exec";
const STATUS: &str = "/nodes/pve1/qemu/100/agent/exec-status";

fn control(api: &Api, path: &str) -> String {
    format!("{}/_sim{path}", api.sim.base_url())
}

async fn exec(api: &Api, command: &[&str]) -> u64 {
    let form: Vec<(&str, &str)> = command.iter().map(|c| ("command", *c)).collect();
    let a = api.post(EXEC, &form).await;
    assert!(a.status.is_success(), "exec: {}", a.raw);
    a.data()["pid"].as_u64().expect("an integer pid")
}

async fn status(api: &Api, pid: u64) -> Value {
    let a = api
        .call(Method::GET, STATUS, &[("pid", &pid.to_string())])
        .await;
    assert!(a.status.is_success(), "exec-status: {}", a.raw);
    a.data().clone()
}

#[tokio::test]
async fn a_scripted_command_reports_running_then_its_end_once() {
    let api = Api::fast().await;
    api.sim
        .set_exec_outcome(
            ExecMatch::vm(100).command(["systemctl", "is-active", "nginx"]),
            ExecOutcome::exit(3)
                .with_stdout("inactive\n")
                .with_stderr("hint\n")
                .taking(1000.0), // 10 s at time_scale 0.01
        )
        .expect("valid script");

    let pid = exec(&api, &["systemctl", "is-active", "nginx"]).await;
    let running = status(&api, pid).await;
    api.sim.advance_clock(10.0);
    let ended = status(&api, pid).await;
    let again = api
        .call(Method::GET, STATUS, &[("pid", &pid.to_string())])
        .await;

    assert_eq!(running, json!({ "exited": 0 }));
    assert_eq!(
        ended,
        json!({ "exited": 1, "exitcode": 3, "out-data": "inactive\n", "err-data": "hint\n" })
    );
    assert_eq!(
        again.status_line(),
        (500, "Agent error: Invalid parameter 'pid'")
    );
    let history = api.sim.exec_history(100);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].command, ["systemctl", "is-active", "nginx"]);
    assert_eq!(history[0].pid, Some(pid as u32));
}

#[tokio::test]
async fn an_unscripted_command_exits_zero_at_once_and_json_arrays_work_too() {
    let api = Api::fast().await;
    let a = api
        .send(
            api.http
                .post(api.url(EXEC))
                .header("Authorization", api.token_header())
                .json(&json!({ "command": ["sh", "-c", "cat > /tmp/x"], "input-data": "hello\n" })),
        )
        .await;
    assert!(a.status.is_success(), "{}", a.raw);
    let pid = a.data()["pid"].as_u64().expect("pid");

    assert_eq!(
        status(&api, pid).await,
        json!({ "exited": 1, "exitcode": 0 })
    );
    let history = api.sim.exec_history(100);
    assert_eq!(history[0].command, ["sh", "-c", "cat > /tmp/x"]);
    assert_eq!(history[0].input_data.as_deref(), Some("hello\n"));
}

#[tokio::test]
async fn outcomes_scripted_over_http_apply_until_cleared() {
    let api = Api::fast().await;
    let put = api
        .http
        .put(control(&api, "/exec"))
        .json(&json!({ "command": ["hostname"], "outcome": { "stdout": "lab-vm\n" } }))
        .send()
        .await
        .expect("control API");
    assert!(put.status().is_success());
    let bad = api
        .http
        .put(control(&api, "/exec"))
        .json(&json!({ "outcome": { "duration_secs": -1 } }))
        .send()
        .await
        .expect("control API");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap_or_default().contains("-1"));

    let scripted = exec(&api, &["hostname"]).await;
    let scripted = status(&api, scripted).await;
    api.http
        .delete(control(&api, "/exec"))
        .send()
        .await
        .expect("control API");
    let cleared = exec(&api, &["hostname"]).await;
    let cleared = status(&api, cleared).await;
    let history: Value = api
        .http
        .get(control(&api, "/guests/100/exec"))
        .send()
        .await
        .expect("control API")
        .json()
        .await
        .expect("JSON");

    assert_eq!(scripted["out-data"], "lab-vm\n");
    assert!(cleared.get("out-data").is_none(), "{cleared}");
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    assert_eq!(history[0]["command"], json!(["hostname"]));
}

#[tokio::test]
async fn a_hanging_command_runs_until_the_vm_stops_and_a_killed_one_shows_its_signal() {
    let api = Api::fast().await;
    api.sim
        .set_exec_outcome(
            ExecMatch::any().command(["sleep", "inf"]),
            ExecOutcome::hang(),
        )
        .expect("script");
    api.sim
        .set_exec_outcome(ExecMatch::any().command(["oom"]), ExecOutcome::killed(9))
        .expect("script");

    let hung = exec(&api, &["sleep", "inf"]).await;
    let killed = exec(&api, &["oom"]).await;
    api.sim.advance_clock(86_400.0);
    assert_eq!(status(&api, hung).await, json!({ "exited": 0 }));
    assert_eq!(
        status(&api, killed).await,
        json!({ "exited": 1, "signal": 9 })
    );

    api.sim.stop_guest(100).expect("stop");
    api.sim.start_guest(100).expect("start");
    api.sim.advance_clock(60.0); // past the agent's boot delay
    let after = api
        .call(Method::GET, STATUS, &[("pid", &hung.to_string())])
        .await;
    assert_eq!(
        after.status_line(),
        (500, "Agent error: Invalid parameter 'pid'"),
        "a restarted guest has no old processes"
    );
}

#[tokio::test]
async fn a_missing_program_fails_the_exec_with_the_agents_text() {
    let api = Api::fast().await;
    api.sim
        .set_exec_outcome(
            ExecMatch::vm(100).command(["nginx", "-t"]),
            ExecOutcome::not_found(),
        )
        .expect("script");

    let a = api
        .post(EXEC, &[("command", "nginx"), ("command", "-t")])
        .await;

    assert_eq!(a.status, 500);
    assert_eq!(
        a.body["message"].as_str().map(str::trim_end),
        Some("Agent error: Guest agent command failed, error was 'Failed to execute child process \u{201c}nginx\u{201d} (No such file or directory)'")
    );
    assert_eq!(api.sim.exec_history(100)[0].pid, None);
}

#[tokio::test]
async fn bad_parameters_get_pves_400s() {
    let api = Api::fast().await;
    let missing = api.post(EXEC, &[("input-data", "x")]).await;
    let long = "x".repeat(65_537);
    let too_long = api
        .post(EXEC, &[("command", "cat"), ("input-data", &long)])
        .await;
    let unknown = api.post(EXEC, &[("command", "ls"), ("cwd", "/")]).await;
    let no_pid = api.get(STATUS).await;
    let huge = "x".repeat(600 * 1024);
    let too_big = api
        .post(EXEC, &[("command", "cat"), ("input-data", &huge)])
        .await;

    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.body["errors"]["command"],
        "property is missing and it is not optional"
    );
    assert_eq!(
        too_long.body["errors"]["input-data"],
        "value may only be 65536 characters long"
    );
    assert!(unknown.body["errors"]["cwd"].is_string(), "{}", unknown.raw);
    assert_eq!(
        no_pid.body["errors"]["pid"],
        "property is missing and it is not optional"
    );
    assert_eq!(too_big.status_line(), (501, "for data too large"));
}

#[tokio::test]
async fn the_agent_errors_come_in_pves_order() {
    let mut cfg = SimConfig::fast();
    cfg.vms = 8; // VM 106 (offset 6) has no agent; 101 is stopped
    cfg.timing.agent_delay_secs = 60_000.0; // 600 s: a fresh start stays booting
    let api = Api::start(cfg).await;
    api.sim.start_guest(103).expect("start 103");

    let no_agent = api
        .post("/nodes/pve1/qemu/106/agent/exec", &[("command", "true")])
        .await;
    let stopped = api.get("/nodes/pve2/qemu/101/agent/get-users").await;
    let booting = api
        .post("/nodes/pve1/qemu/103/agent/exec", &[("command", "true")])
        .await;
    let missing = api
        .post("/nodes/pve1/qemu/99999/agent/exec", &[("command", "true")])
        .await;

    assert_eq!(
        no_agent.status_line(),
        (500, "No QEMU guest agent configured")
    );
    assert_eq!(stopped.status_line(), (500, "VM 101 is not running"));
    assert_eq!(
        booting.status_line(),
        (500, "QEMU guest agent is not running")
    );
    assert_eq!(
        missing.status_line(),
        (
            500,
            "Configuration file 'nodes/pve1/qemu-server/99999.conf' does not exist"
        )
    );
    api.sim
        .set_faults(pvelab_pve_sim::FaultConfig {
            agent_never_answers: true,
            ..Default::default()
        })
        .expect("faults");
    let silent = api.post(EXEC, &[("command", "true")]).await;
    assert_eq!(
        silent.status_line(),
        (500, "VM 100 qmp command 'guest-exec' failed - got timeout")
    );
    assert!(api.sim.exec_history(103).is_empty(), "nothing ran");
}

#[tokio::test]
async fn the_audit_token_may_list_users_but_not_run_commands_or_read_their_output() {
    let api = Api::fast().await;
    let audit = format!("PVEAPIToken={}", api.sim.audit_token());
    let as_audit = |m: Method, path: &str| {
        api.http
            .request(m, api.url(path))
            .header("Authorization", &audit)
    };

    let run = api
        .send(as_audit(Method::POST, EXEC).form(&[("command", "id")]))
        .await;
    let read = api
        .send(as_audit(Method::GET, STATUS).query(&[("pid", "1")]))
        .await;
    let users = api
        .send(as_audit(
            Method::GET,
            "/nodes/pve1/qemu/100/agent/get-users",
        ))
        .await;

    let denied = (
        403,
        "Permission check failed (/vms/100, VM.GuestAgent.Unrestricted)",
    );
    assert_eq!(run.status_line(), denied);
    assert_eq!(read.status_line(), denied);
    assert!(users.status.is_success(), "{}", users.raw);
    assert!(api.sim.exec_history(100).is_empty());
}

#[tokio::test]
async fn logged_in_users_are_set_over_http_and_a_stop_logs_them_out() {
    let api = Api::fast().await;
    let path = "/nodes/pve1/qemu/100/agent/get-users";
    assert_eq!(api.get(path).await.data()["result"], json!([]));

    let put = api
        .http
        .put(control(&api, "/guests/100/users"))
        .json(&json!([{ "user": "student", "login-time": 1_760_000_000.5 }]))
        .send()
        .await
        .expect("control API");
    assert!(put.status().is_success());
    let listed = api.get(path).await;
    api.sim.stop_guest(100).expect("stop");
    api.sim.start_guest(100).expect("start");
    api.sim.advance_clock(60.0);
    let after_restart = api.get(path).await;
    let unknown = api.sim.set_guest_users(
        4242,
        vec![GuestUser {
            user: "x".into(),
            login_time: 0.0,
            domain: None,
        }],
    );

    assert_eq!(
        listed.data()["result"],
        json!([{ "user": "student", "login-time": 1_760_000_000.5 }])
    );
    assert_eq!(after_restart.data()["result"], json!([]));
    assert!(unknown.is_err());
}
