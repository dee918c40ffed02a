//! Shared helpers: fast clients, tickets, UPIDs, request inspection.

use std::time::Duration;

use pvelab_proxmox::{Client, CloneParams, RetryPolicy, TaskWait, Upid};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub const TOKEN: &str = "pvelab@pve!ci=6f1e2d3c-0000-4444-8888-123456789abc";
pub const CLONE_UPID: &str = "UPID:pve1:0000A1B2:0012C3D4:6650C0DE:qmclone:9000:pvelab@pve!ci:";

/// Retries with tiny delays so tests run fast; the rules are the production ones.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

pub fn fast_wait() -> TaskWait {
    TaskWait {
        initial_interval: Duration::from_millis(1),
        max_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    }
}

pub fn token_client(server: &MockServer) -> Client {
    Client::builder(&server.uri())
        .api_token(TOKEN)
        .retry_policy(fast_retry())
        .task_wait(fast_wait())
        .build()
        .expect("valid test client")
}

pub fn password_client(server: &MockServer) -> Client {
    Client::builder(&server.uri())
        .password("root@pam", "s3cret-pass")
        .retry_policy(fast_retry())
        .task_wait(fast_wait())
        .build()
        .expect("valid test client")
}

/// A mock for `verb` requests to `api_path`, still to be given further matchers and a reply.
pub fn on(verb: &str, api_path: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(api_path))
}

/// A reply with `status` and the JSON `body` (PVE wraps results in `{"data": ...}`).
pub fn json_reply(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// An error reply as PVE sends it: `status` with `{"data":null,"message":...}`.
pub fn pve_error(status: u16, message: &str) -> ResponseTemplate {
    json_reply(
        status,
        serde_json::json!({"data": null, "message": message}),
    )
}

/// Clone template 9000 on pve1 with `params` through a token client of `server`.
pub async fn clone_9000(server: &MockServer, params: CloneParams) -> pvelab_proxmox::Result<Upid> {
    token_client(server)
        .node("pve1")
        .qemu(9000)
        .clone_vm(&params)
        .await
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// A ticket issued `age_secs` ago, with a recognisable signature.
pub fn ticket(age_secs: i64, sig: &str) -> String {
    format!("PVE:root@pam:{:08X}::{sig}", unix_now() - age_secs)
}

pub fn login_reply(ticket: &str, csrf: &str) -> serde_json::Value {
    serde_json::json!({"data": {
        "username": "root@pam",
        "ticket": ticket,
        "CSRFPreventionToken": csrf,
        "cap": {"vms": {"VM.Audit": 1}}
    }})
}

/// Requests the server received for `method` + `path`.
pub async fn received(server: &MockServer, method: &str, path: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .collect()
}

pub fn header(req: &wiremock::Request, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

pub fn body(req: &wiremock::Request) -> String {
    String::from_utf8(req.body.clone()).expect("utf-8 body")
}
