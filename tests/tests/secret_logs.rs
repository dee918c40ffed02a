//! No secret reaches the logs, at any level of any crate: a lab with a sealing key registers a
//! simulated cluster by its API token and checks it over HTTPS, a teacher makes a class and a
//! join token at the console, and students join with it and with a wrong one, while every log
//! line of the process is captured (TRACE, every target, the `log` records of reqwest and
//! rustls included). None of them holds the cluster's token secret, the sealing key or the
//! join token.
//!
//! Its own test binary, because it installs the process-wide log subscriber.

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, PoisonError};

use pvelab_bot::app::clusters::operator;
use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::types::{ApiTokenId, ClusterId, ClusterTrust, Fingerprint, Host};
use pvelab_core::{Lab, LabConfig, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig};
use secrecy::{ExposeSecret, SecretString};

/// Every log line written, shared with the subscriber's writer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

async fn console(lab: &Lab, script: &str) -> String {
    let mut out = Vec::new();
    run_session(
        lab,
        Cursor::new(script.as_bytes().to_vec()),
        &mut out,
        &SessionOptions {
            echo: true,
            ..SessionOptions::default()
        },
    )
    .await
    .expect("session");
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_at_any_level() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let sim = Sim::start(SimConfig::fast()).await.expect("simulator");
    let full = sim.api_token();
    let (token_id, token_secret) = full.split_once('=').expect("ID=SECRET");
    let key = SealingKey::generate();
    let key_hex = key.to_hex();
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = Lab::open(LabConfig::file(dir.path().join("lab.db")).with_sealing_key(key))
        .await
        .expect("lab");
    let admin = operator(&lab).await.expect("operator");
    let addr = sim.addr();
    let cluster = NewCluster::new(
        ClusterId::parse("sim").expect("id"),
        Host::parse(&addr.ip().to_string()).expect("host"),
        ClusterCredential::ApiToken {
            id: ApiTokenId::parse(token_id).expect("token id"),
            secret: SecretString::from(token_secret.to_owned()),
        },
    )
    .port(addr.port())
    .trust(ClusterTrust::Fingerprint(
        Fingerprint::parse(&sim.fingerprint()).expect("fingerprint"),
    ));
    let id = cluster.cluster_id.clone();
    lab.add_cluster(&admin, cluster).await.expect("cluster");
    // Logs in with the token and asks for the version and the nodes, over HTTPS.
    let check = lab.test_cluster(&admin, &[], &id).await.expect("a check");
    assert!(!check.nodes.is_empty(), "{check:?}");

    let out = console(
        &lab,
        "tom:teacher /class create name:net101 template:9000 pool:1\n\
         tom:teacher /class token class:net101\n",
    )
    .await;
    let join_token = out
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_owned();
    let joins = console(
        &lab,
        &format!(
            "alice /join token:{join_token}\nbob /join token:{}\n",
            "A".repeat(22)
        ),
    )
    .await;
    assert!(joins.contains("You joined net101"), "{joins}");
    assert!(joins.contains("not valid"), "{joins}");

    let logs = logs.text();
    // The capture works and saw the cluster being reached over HTTPS.
    assert!(logs.contains("TRACE"), "nothing was logged at TRACE");
    assert!(
        logs.contains(&addr.port().to_string()),
        "the request to the simulator left no log line:\n{logs}"
    );
    for (what, secret) in [
        ("the cluster's token secret", token_secret),
        ("the sealing key", key_hex.expose_secret()),
        ("the join token", join_token.as_str()),
    ] {
        assert!(!logs.contains(secret), "{what} is in the logs");
    }
}
