//! `pvelab run` and its [`Service`]: the library service with its endpoint and direct
//! messages, and the real binary stopped by SIGTERM (the console too).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pvelab_bot::app::Service;
use pvelab_bot::config::{self, EnvVars};
use pvelab_bot::notify::{ConsumerName, DISCORD_DM};
use pvelab_core::model::JoinToken;
use tokio_util::sync::CancellationToken;

use crate::notify::{next, Recording};

const WAIT: Duration = Duration::from_secs(60);

/// A configuration with a Discord table (its token comes from the environment) and the
/// endpoint on a free port of 127.0.0.1. Discord's origin is a loopback port nobody listens on
/// (bound, then closed): the bot cannot connect, keeps retrying, and nothing leaves the machine.
fn config(dir: &Path) -> std::path::PathBuf {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let file = dir.join("pvelab.toml");
    std::fs::write(
        &file,
        format!(
            "database = \"lab.db\"\n[discord]\napi_url = \"http://{closed}\"\n\
             [http]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn the_service_serves_its_endpoint_delivers_messages_and_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let env: EnvVars = [("PVELAB_DISCORD_TOKEN", "test-token")]
        .into_iter()
        .collect();
    let settings = config::load(&config(dir.path()), &env).expect("valid configuration");
    let stop = CancellationToken::new();
    let service = Service::start(&settings, stop.clone())
        .await
        .expect("starts");
    let addr = service.http_addr().expect("[http] is configured");
    let healthz = format!("http://{addr}/healthz");

    // Discord is expected: down until the front end says it is connected.
    assert_eq!(reqwest::get(&healthz).await.unwrap().status(), 503);
    service.health().set_discord_connected(true);
    assert_eq!(reqwest::get(&healthz).await.unwrap().status(), 200);

    // Direct messages from the outbox go out through the front end's notifier.
    let (notifier, mut attempts) = Recording::new(vec![]);
    service.spawn_delivery(ConsumerName::parse(DISCORD_DM).unwrap(), notifier);
    let lab = service.lab().clone();
    let teacher = lab
        .ensure_user(
            &pvelab_core::types::ExternalId::parse("discord:1").unwrap(),
            None,
        )
        .await
        .unwrap();
    let teacher = lab.actor_with_role(teacher.id, pvelab_core::types::Role::Teacher);
    let class = lab
        .create_class(
            &teacher,
            pvelab_core::model::NewClass::new(
                pvelab_core::types::ClassName::parse("net101").unwrap(),
                pvelab_core::types::PoolSize::new(2).unwrap(),
            ),
        )
        .await
        .unwrap();
    let token: JoinToken = lab
        .rotate_token(&teacher, class.id, pvelab_core::model::TokenExpiry::Never)
        .await
        .unwrap()
        .token;
    let sam = lab
        .ensure_user(
            &pvelab_core::types::ExternalId::parse("discord:42").unwrap(),
            None,
        )
        .await
        .unwrap();
    lab.join(&lab.actor(sam.id).await.unwrap(), &token)
        .await
        .unwrap();
    let dm = next(&mut attempts).await;
    assert_eq!(dm.to, "discord:42");
    assert!(dm.text.contains("number 1 on the waitlist"), "{}", dm.text);

    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "pvelab_notifications_total{consumer=\"discord-dm\",outcome=\"delivered\"} 1"
        ),
        "{metrics}"
    );

    stop.cancel();
    tokio::time::timeout(WAIT, service.run_until_stopped())
        .await
        .expect("every task stops");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the endpoint is closed"
    );
}

/// Lines of a child's stream, read on a thread.
fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line containing `needle`, or a failure listing what came.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(WAIT) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no line with {needle:?} ({e}); got:\n{}", seen.join("\n")),
        }
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn exit_status(mut child: Child) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    rx.recv_timeout(WAIT)
        .expect("the process ends after SIGTERM")
        .expect("wait")
}

/// A plain HTTP/1.1 GET: the status code and the body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn pvelab_run_serves_healthz_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvelab"))
        .args(["run", "--config", file.to_str().unwrap()])
        .env_remove("PVELAB_LOG")
        .env("PVELAB_DISCORD_TOKEN", "test-token")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let log = lines(child.stderr.take().unwrap());
    let line = wait_for(&log, "operations endpoint on http://");
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line}"));

    let (status, body) = http_get(addr, "/healthz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"database\":{\"ok\":true}"), "{body}");
    assert!(
        body.contains("not connected to the Discord gateway"),
        "{body}"
    );
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("pvelab_build_info{version=\""), "{body}");

    sigterm(&child);
    wait_for(&log, "SIGTERM: stopping");
    wait_for(&log, "stopped");
    assert_eq!(exit_status(child).code(), Some(0));
}

#[test]
fn a_console_waiting_for_input_ends_with_status_0_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvelab"))
        .args(["console", "--sim"])
        .env_remove("PVELAB_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // Standard input stays open: the console waits for the next line when the signal comes.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "ada:adminer /cluster list").unwrap();
    let out = lines(child.stdout.take().unwrap());
    wait_for(&out, "> ada:adminer /cluster list");
    wait_for(&out, "127.0.0.1:");
    sigterm(&child);
    assert_eq!(exit_status(child).code(), Some(0));
    drop(stdin);
}
