//! The `pve` example program, run as a real process against wiremock: a table, JSON output, a
//! clone that waits for its task, and errors that are one clear line on stderr with exit code 1.
//!
//! A plain `cargo test` builds the examples before it runs integration tests, so the binary sits
//! beside this test's executable: `target/<profile>/examples/pve`.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header};
use wiremock::MockServer;

use crate::support::{json_reply, on, received, TOKEN};

const UPID: &str = "UPID:pve1:0000C0DE:0012C3D4:6650C0DE:qmclone:9000:pvelab@pve!ci:";

/// `target/<profile>/examples/pve`, found from this test binary (`target/<profile>/deps/it-*`).
fn pve_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let bin = profile_dir
        .join("examples")
        .join(format!("pve{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the example binary {} is missing; run these tests with `cargo test -p pvelab-proxmox` \
         (cargo builds the examples first, but not with `--test it` or a test-name filter), or \
         build it with `cargo build -p pvelab-proxmox --example pve`",
        bin.display()
    );
    bin
}

/// Run `pve --url <server> --token <TOKEN> <args>` with a clean environment for its options.
async fn pve(server: &MockServer, args: &[&str]) -> Output {
    let mut cmd = Command::new(pve_binary());
    cmd.arg("--url")
        .arg(server.uri())
        .arg("--token")
        .arg(TOKEN)
        .args(args);
    for var in [
        "PVE_URL",
        "PVE_TOKEN",
        "PVE_USER",
        "PVE_PASSWORD",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    // Were anything to panic, the backtrace would show; the error tests check that it does not.
    cmd.env("RUST_BACKTRACE", "1");
    tokio::task::spawn_blocking(move || cmd.output().expect("the example binary runs"))
        .await
        .expect("the blocking task finishes")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 output")
}

fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

async fn nodes_mock(server: &MockServer) {
    on("GET", "/api2/json/nodes")
        .and(header(
            "Authorization",
            format!("PVEAPIToken={TOKEN}").as_str(),
        ))
        .respond_with(json_reply(
            200,
            json!({"data": [
                {"node": "pve1", "status": "online", "cpu": 0.25, "maxcpu": 32,
                 "mem": "17179869184", "maxmem": 274877906944_u64, "uptime": 93784,
                 "ssl_fingerprint": "AB:CD"},
                {"node": "pve2", "status": "offline"}
            ]}),
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn nodes_print_as_an_aligned_table() {
    let server = MockServer::start().await;
    nodes_mock(&server).await;

    let out = pve(&server, &["nodes"]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["NODE", "STATUS", "CPU", "CORES", "MEMORY", "UPTIME"]
    );
    assert!(lines[1].starts_with("pve1  "), "{text}");
    assert!(
        lines[1].contains("online") && lines[1].contains("25%"),
        "{text}"
    );
    assert!(lines[1].contains("16.0 GiB / 256.0 GiB"), "{text}");
    assert!(lines[1].contains("1d 2h"), "{text}");
    assert!(
        lines[2].starts_with("pve2  ") && lines[2].contains("offline"),
        "{text}"
    );
    let status_col = lines[0].find("STATUS").expect("STATUS column");
    assert_eq!(lines[1].find("online"), Some(status_col), "columns line up");
    assert_eq!(
        lines[2].find("offline"),
        Some(status_col),
        "columns line up"
    );
}

#[tokio::test]
async fn json_output_is_machine_readable_with_loose_values_decoded() {
    let server = MockServer::start().await;
    on("GET", "/api2/json/cluster/resources")
        .respond_with(json_reply(
            200,
            json!({"data": [
                {"id": "qemu/101", "type": "qemu", "vmid": "101", "node": "pve1", "name": "lab-101",
                 "status": "running", "mem": "1073741824", "maxmem": 2147483648_u64},
                {"id": "qemu/9000", "type": "qemu", "vmid": 9000, "node": "pve1",
                 "name": "debian-13-tmpl", "status": "stopped", "template": 1}
            ]}),
        ))
        .mount(&server)
        .await;

    let out = pve(&server, &["--json", "vms"]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    let parsed: Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    let list = parsed.as_array().expect("a JSON array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["vmid"], 101, "a string VMID became a number");
    assert_eq!(list[0]["mem"], 1_073_741_824_u64);
    assert_eq!(list[1]["vmid"], 9000);
    assert_eq!(list[1]["template"], true, "0/1 became a boolean");
}

#[tokio::test]
async fn a_clone_waits_for_its_task_and_prints_the_exit_status() {
    let server = MockServer::start().await;
    on("POST", "/api2/json/nodes/pve1/qemu/9000/clone")
        .and(body_string_contains("newid=123"))
        .and(body_string_contains("full=1"))
        .respond_with(json_reply(200, json!({"data": UPID})))
        .expect(1)
        .mount(&server)
        .await;
    let status = format!("/api2/json/nodes/pve1/tasks/{UPID}/status");
    on("GET", status.as_str())
        .respond_with(json_reply(
            200,
            json!({"data": {"status": "running", "upid": UPID}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("GET", status.as_str())
        .respond_with(json_reply(
            200,
            json!({"data": {"status": "stopped", "exitstatus": "WARNINGS: 1", "upid": UPID}}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;

    let out = pve(
        &server,
        &[
            "clone", "pve1", "9000", "123", "--name", "lab-123", "--full",
        ],
    )
    .await;

    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("task {UPID}")), "{text}");
    assert_eq!(
        text.lines().last(),
        Some("exit status: WARNINGS: 1"),
        "{text}"
    );
    assert_eq!(
        received(&server, "GET", &status).await.len(),
        2,
        "polled until the task stopped"
    );
    let posts = received(&server, "POST", "/api2/json/nodes/pve1/qemu/9000/clone").await;
    assert!(crate::support::body(&posts[0]).contains("name=lab-123"));
}

#[tokio::test]
async fn a_server_error_is_one_line_on_stderr_with_exit_code_one() {
    let server = MockServer::start().await;
    let text = "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist";
    on("GET", "/api2/json/nodes/pve1/qemu/999/status/current")
        .respond_with(json_reply(
            500,
            json!({"data": null, "message": format!("{text}\n")}),
        ))
        .mount(&server)
        .await;

    let out = pve(&server, &["status", "pve1", "999"]).await;

    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("VM 999") && err.contains(text), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_no_panic(&out);
}

#[tokio::test]
async fn a_failed_task_exits_with_one_and_shows_the_log_tail() {
    let server = MockServer::start().await;
    let upid = "UPID:pve1:0000C0DF:0012C3D4:6650C0DF:qmstart:101:pvelab@pve!ci:";
    on("POST", "/api2/json/nodes/pve1/qemu/101/status/start")
        .respond_with(json_reply(200, json!({"data": upid})))
        .mount(&server)
        .await;
    on("GET", format!("/api2/json/nodes/pve1/tasks/{upid}/status"))
        .respond_with(json_reply(
            200,
            json!({"data": {"status": "stopped", "exitstatus": "VM 101 already running"}}),
        ))
        .mount(&server)
        .await;
    on("GET", format!("/api2/json/nodes/pve1/tasks/{upid}/log"))
        .respond_with(json_reply(
            200,
            json!({"total": 2, "data": [
                {"n": 1, "t": "VM 101 already running"},
                {"n": 2, "t": "TASK ERROR: VM 101 already running"}
            ]}),
        ))
        .mount(&server)
        .await;

    let out = pve(&server, &["start", "pve1", "101"]).await;

    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("failed: VM 101 already running"), "{err}");
    assert!(err.contains("TASK ERROR: VM 101 already running"), "{err}");
    assert_no_panic(&out);
}

#[tokio::test]
async fn a_malformed_token_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let mut cmd = Command::new(pve_binary());
    cmd.args(["--url", &server.uri(), "--token", "not-a-token", "nextid"]);
    for var in [
        "PVE_URL",
        "PVE_TOKEN",
        "PVE_USER",
        "PVE_PASSWORD",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("finishes");

    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("USER@REALM!TOKENID=SECRET"), "{err}");
    assert_no_panic(&out);
    let sent = server.received_requests().await.expect("recording is on");
    assert!(sent.is_empty(), "{sent:?}");
}
