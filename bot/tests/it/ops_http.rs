//! `/healthz` and `/metrics` over real HTTP on 127.0.0.1, against a lab on a SQLite file with
//! the simulated cluster registered.

use std::net::SocketAddr;

use pvelab_bot::app::clusters::operator;
use pvelab_bot::app::SimLab;
use pvelab_bot::commands::catalogue::find;
use pvelab_bot::commands::{CommandContext, Dispatcher, Invocation, Invoker, RateLimits};
use pvelab_bot::console::grammar::parse_line;
use pvelab_bot::http::{Health, Metrics, OpsServer, OpsState};
use pvelab_bot::parse::people::UserRef;
use pvelab_core::model::{ClusterCredential, NewCluster};
use pvelab_core::types::{ClassName, ClusterId};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

struct Ops {
    lab: SimLab,
    health: Health,
    metrics: Metrics,
    server: OpsServer,
    stop: CancellationToken,
}

impl Ops {
    async fn start(expect_discord: bool) -> Self {
        let lab = SimLab::start().await.expect("simulated lab");
        let mut health = Health::new(lab.lab.clone());
        if expect_discord {
            health = health.expecting_discord();
        }
        let metrics = Metrics::new();
        let stop = CancellationToken::new();
        let state = OpsState {
            lab: lab.lab.clone(),
            health: health.clone(),
            metrics: metrics.clone(),
        };
        let server = OpsServer::start("127.0.0.1:0".parse().unwrap(), state, stop.clone())
            .await
            .expect("the endpoint listens");
        Self {
            lab,
            health,
            metrics,
            server,
            stop,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let response = reqwest::get(self.url(path)).await.expect("an answer");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    async fn health(&self) -> (u16, Value) {
        let (status, content_type, body) = self.get("/healthz").await;
        assert_eq!(content_type, "application/json");
        (status, serde_json::from_str(&body).expect("JSON"))
    }

    /// Runs console-style lines through a dispatcher counting into these metrics.
    async fn commands(&self, lines: &[&str]) {
        let dispatcher = Dispatcher::new(RateLimits::off(), self.metrics.clone());
        for text in lines {
            let line = parse_line(text).unwrap().unwrap();
            let call = find(&line.command, &line.path)
                .and_then(|spec| Invocation::new(spec, line.options.clone()))
                .unwrap();
            let invoker = Invoker {
                who: UserRef::Console(line.user.clone()),
                display_name: line.user.to_string(),
                role: line.role,
            };
            let ctx = CommandContext::new(self.lab.lab.clone(), invoker, None);
            let _ = dispatcher.run(&ctx, &call).await;
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.server
            .stopped()
            .await
            .expect("the endpoint stops cleanly");
        self.lab.stop().await;
    }
}

#[tokio::test]
async fn healthz_answers_200_with_every_check_when_all_is_well() {
    let ops = Ops::start(false).await;
    let (status, body) = ops.health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"status": "ok", "database": {"ok": true}, "clusters": {"sim": {"ok": true}}})
    );
    ops.stop().await;
}

#[tokio::test]
async fn healthz_answers_503_until_the_discord_front_end_says_it_is_connected() {
    let ops = Ops::start(true).await;
    let (status, body) = ops.health().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "down");
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["discord"]["ok"], false);
    assert_eq!(
        body["discord"]["error"],
        "not connected to the Discord gateway"
    );

    ops.health.set_discord_connected(true);
    let (status, body) = ops.health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["discord"], json!({"ok": true}));

    ops.health.set_discord_connected(false);
    assert_eq!(ops.health().await.0, 503);
    ops.stop().await;
}

#[tokio::test]
async fn healthz_names_a_cluster_that_does_not_answer() {
    let ops = Ops::start(false).await;
    // A port nobody listens on: bound, then released.
    let closed: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let admin = operator(&ops.lab.lab).await.unwrap();
    let gone = NewCluster::new(
        ClusterId::parse("gone").unwrap(),
        pvelab_core::types::Host::parse("127.0.0.1").unwrap(),
        ClusterCredential::Password {
            user: pvelab_core::types::PveUser::parse("root@pam").unwrap(),
            password: SecretString::from("x".to_owned()),
        },
    )
    .port(closed.port());
    ops.lab.lab.add_cluster(&admin, gone).await.unwrap();

    let (status, body) = ops.health().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["clusters"]["sim"], json!({"ok": true}));
    assert_eq!(body["clusters"]["gone"]["ok"], false);
    let error = body["clusters"]["gone"]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("127.0.0.1:{}", closed.port())),
        "{error}"
    );
    ops.stop().await;
}

#[tokio::test]
async fn metrics_show_commands_pools_and_waitlists_in_the_prometheus_text_format() {
    let ops = Ops::start(false).await;
    ops.commands(&[
        "tom:teacher /class create name:net101 template:9000 pool:3",
        "tom:teacher /class create name:net101 template:9000 pool:3",
        "alice /class create name:mine template:9000 pool:1",
        "alice /myvm",
    ])
    .await;
    // A student joins: the class's pool was built when it was created, so a VM is hers.
    let admin = operator(&ops.lab.lab).await.unwrap();
    let class = ops
        .lab
        .lab
        .class_by_name(&admin, None, &ClassName::parse("net101").unwrap())
        .await
        .unwrap();
    let token = ops
        .lab
        .lab
        .rotate_token(&admin, class.id, pvelab_core::model::TokenExpiry::Never)
        .await
        .unwrap()
        .token;
    let bob = ops
        .lab
        .lab
        .ensure_user(
            &pvelab_core::types::ExternalId::parse("console:bob").unwrap(),
            None,
        )
        .await
        .unwrap();
    let bob = ops.lab.lab.actor(bob.id).await.unwrap();
    ops.lab.lab.join(&bob, &token).await.unwrap();
    // One inventory run on the simulated cluster, as the scheduler would make.
    let report = ops
        .lab
        .lab
        .sync_now(
            &admin,
            pvelab_core::jobs::SyncWhat::Job(pvelab_core::jobs::JobKind::Inventory),
            None,
        )
        .await
        .unwrap();
    assert!(report.all_ok(), "{report:?}");

    let (status, content_type, text) = ops.get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let id = class.id;
    for line in [
        "pvelab_commands_total{command=\"/class create\",outcome=\"ok\"} 1",
        "pvelab_commands_total{command=\"/class create\",outcome=\"refused\"} 2",
        "pvelab_commands_total{command=\"/myvm\",outcome=\"ok\"} 1",
        &format!("pvelab_pool_size{{class_id=\"{id}\",class=\"net101\"}} 3"),
        &format!("pvelab_waitlist_length{{class_id=\"{id}\",class=\"net101\"}} 0"),
        &format!("pvelab_pool_vms{{class_id=\"{id}\",class=\"net101\",status=\"assigned\"}} 1"),
        &format!("pvelab_pool_vms{{class_id=\"{id}\",class=\"net101\",status=\"available\"}} 2"),
        "pvelab_job_consecutive_failures{cluster=\"sim\",job=\"inventory\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing in:\n{text}"
        );
    }
    assert!(text.contains("# TYPE pvelab_pool_size gauge"), "{text}");
    // The pool was built and the inventory read through the lab's client of `sim`.
    let sent: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("pvelab_proxmox_requests_total{cluster=\"sim\"} "))
        .unwrap_or_else(|| panic!("no request count for sim in:\n{text}"))
        .parse()
        .unwrap();
    assert!(sent >= 2, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("pvelab_proxmox_errors_total{cluster=\"sim\"} ")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .starts_with("pvelab_job_last_duration_seconds{cluster=\"sim\",job=\"inventory\"} ")),
        "{text}"
    );

    // A deleted class leaves the figures at the next scrape.
    ops.commands(&["tom:teacher /class delete class:net101 confirm:yes"])
        .await;
    let (_, _, text) = ops.get("/metrics").await;
    assert!(!text.contains("class=\"net101\""), "{text}");
    ops.stop().await;
}

#[tokio::test]
async fn the_endpoint_stops_when_told_and_serves_nothing_else() {
    let ops = Ops::start(false).await;
    let (status, _, _) = ops.get("/admin").await;
    assert_eq!(status, 404);
    let addr = ops.server.addr();
    ops.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after the stop"
    );
}

#[tokio::test]
async fn an_address_in_use_is_named_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let lab = SimLab::start().await.unwrap();
    let state = OpsState {
        lab: lab.lab.clone(),
        health: Health::new(lab.lab.clone()),
        metrics: Metrics::new(),
    };
    let e = OpsServer::start(addr, state, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "cannot listen on {addr} for /healthz and /metrics"
        )),
        "{e}"
    );
    lab.stop().await;
    drop(taken);
}
