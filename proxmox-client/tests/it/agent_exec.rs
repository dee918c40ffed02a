//! Guest agent commands against the shapes PVE sends: the command as repeated form fields,
//! 0/1 booleans in exec-status, the agent's own errors, and polling to the end.

use std::time::Duration;

use pvelab_proxmox::{Error, ExecParams, TaskWait};
use serde_json::json;
use wiremock::matchers::query_param;
use wiremock::MockServer;

use crate::support::*;

const EXEC: &str = "/api2/json/nodes/pve1/qemu/101/agent/exec";
const STATUS: &str = "/api2/json/nodes/pve1/qemu/101/agent/exec-status";

fn quick(timeout: Duration) -> TaskWait {
    TaskWait {
        timeout,
        ..fast_wait()
    }
}

#[tokio::test]
async fn the_command_goes_as_repeated_fields_in_order_and_the_pid_comes_back() {
    let server = MockServer::start().await;
    on("POST", EXEC)
        .respond_with(json_reply(200, json!({"data": {"pid": "4242"}})))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let pid = vm
        .agent_exec(&ExecParams::new(["sh", "-c", "cat > /tmp/a b"]).input_data("x=1&y\n"))
        .await
        .expect("exec");

    assert_eq!(pid, 4242, "a pid sent as a string is read as a number");
    let b = body(&received(&server, "POST", EXEC).await[0]);
    assert_eq!(
        b, "command=sh&command=-c&command=cat+%3E+%2Ftmp%2Fa+b&input-data=x%3D1%26y%0A",
        "one field per item, in order, each escaped"
    );
}

#[tokio::test]
async fn a_bad_command_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let empty = vm.agent_exec(&ExecParams::new(Vec::<String>::new())).await;
    let huge = vm
        .agent_exec(&ExecParams::new(["cat"]).input_data("x".repeat(70_000)))
        .await;

    assert!(matches!(empty, Err(Error::InvalidInput(_))), "{empty:?}");
    assert!(
        matches!(&huge, Err(Error::InvalidInput(m)) if m.contains("70000")),
        "{huge:?}"
    );
    assert!(received(&server, "POST", EXEC).await.is_empty());
}

#[tokio::test]
async fn running_then_exited_with_output_is_decoded_from_zero_one_and_numeric_strings() {
    let server = MockServer::start().await;
    on("GET", STATUS)
        .and(query_param("pid", "7"))
        .respond_with(json_reply(200, json!({"data": {"exited": 0}})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    on("GET", STATUS)
        .and(query_param("pid", "7"))
        .respond_with(json_reply(
            200,
            json!({"data": {"exited": 1, "exitcode": "3", "out-data": "inactive\n",
                            "err-data": "warn\n", "out-truncated": 0}}),
        ))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let first = vm.agent_exec_status(7).await.expect("status");
    assert!(!first.exited && first.exitcode.is_none());
    let _ = vm.agent_exec_status(7).await.expect("status");
    let last = vm.agent_exec_status(7).await.expect("status");

    assert!(last.exited);
    assert_eq!(last.exitcode, Some(3));
    assert_eq!((last.stdout(), last.stderr()), ("inactive\n", "warn\n"));
    assert!(!last.succeeded());
}

#[tokio::test]
async fn agent_run_polls_until_the_process_ends() {
    let server = MockServer::start().await;
    on("POST", EXEC)
        .respond_with(json_reply(200, json!({"data": {"pid": 9}})))
        .mount(&server)
        .await;
    on("GET", STATUS)
        .respond_with(json_reply(200, json!({"data": {"exited": 0}})))
        .up_to_n_times(3)
        .mount(&server)
        .await;
    on("GET", STATUS)
        .and(query_param("pid", "9"))
        .respond_with(json_reply(
            200,
            json!({"data": {"exited": 1, "exitcode": 0, "out-data": "active\n"}}),
        ))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let done = vm
        .agent_run(
            &ExecParams::new(["systemctl", "is-active", "nginx"]),
            quick(Duration::from_secs(10)),
        )
        .await
        .expect("runs to its end");

    assert!(done.succeeded());
    assert_eq!(done.stdout(), "active\n");
    assert_eq!(received(&server, "GET", STATUS).await.len(), 4);
    assert_eq!(received(&server, "POST", EXEC).await.len(), 1);
}

#[tokio::test]
async fn agent_run_gives_up_at_the_deadline_naming_the_command_and_pid() {
    let server = MockServer::start().await;
    on("POST", EXEC)
        .respond_with(json_reply(200, json!({"data": {"pid": 31}})))
        .mount(&server)
        .await;
    on("GET", STATUS)
        .respond_with(json_reply(200, json!({"data": {"exited": 0}})))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let waited = vm
        .agent_run(
            &ExecParams::new(["sleep", "infinity"]),
            quick(Duration::from_millis(40)),
        )
        .await;

    match waited {
        Err(Error::Timeout { what }) => {
            assert!(what.contains("pid 31") && what.contains("sleep"), "{what}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_program_is_an_agent_command_error_and_a_forgotten_pid_is_not_found() {
    let server = MockServer::start().await;
    on("POST", EXEC)
        .respond_with(pve_error(
            500,
            "Agent error: Guest agent command failed, error was 'Failed to execute child process \u{201c}nginx\u{201d} (No such file or directory)'\n",
        ))
        .mount(&server)
        .await;
    on("GET", STATUS)
        .respond_with(pve_error(500, "Agent error: Invalid parameter 'pid'\n"))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let missing = vm.agent_exec(&ExecParams::new(["nginx"])).await;
    let forgotten = vm.agent_exec_status(5).await;

    assert!(
        matches!(&missing, Err(Error::AgentCommand { message }) if message.contains("nginx")),
        "{missing:?}"
    );
    assert!(
        matches!(forgotten, Err(Error::NotFound { .. })),
        "{forgotten:?}"
    );
    assert_eq!(received(&server, "POST", EXEC).await.len(), 1);
}

#[tokio::test]
async fn an_exec_that_timed_out_in_the_agent_is_not_sent_again() {
    // The command may have started in the guest: sending it again could run it twice.
    let server = MockServer::start().await;
    on("POST", EXEC)
        .respond_with(pve_error(
            500,
            "VM 101 qmp command 'guest-exec' failed - got timeout\n",
        ))
        .mount(&server)
        .await;
    let vm = token_client(&server).node("pve1").qemu(101);

    let result = vm.agent_exec(&ExecParams::new(["true"])).await;

    assert!(
        matches!(result, Err(Error::Api { status: 500, .. })),
        "{result:?}"
    );
    assert_eq!(received(&server, "POST", EXEC).await.len(), 1);
}

#[tokio::test]
async fn logged_in_users_are_unwrapped_from_the_result_object() {
    let server = MockServer::start().await;
    on("GET", "/api2/json/nodes/pve1/qemu/101/agent/get-users")
        .respond_with(json_reply(
            200,
            json!({"data": {"result": [
                {"user": "student", "login-time": 1_760_000_000.25},
                {"user": "admin", "login-time": "1760000100", "domain": "LAB"}
            ]}}),
        ))
        .mount(&server)
        .await;

    let users = token_client(&server)
        .node("pve1")
        .qemu(101)
        .agent_get_users()
        .await
        .expect("users");

    assert_eq!(users.len(), 2);
    assert_eq!(users[0].user, "student");
    assert_eq!(users[0].login_time, Some(1_760_000_000.25));
    assert_eq!(users[1].domain.as_deref(), Some("LAB"));
    assert_eq!(users[1].login_time, Some(1_760_000_100.0));
}
