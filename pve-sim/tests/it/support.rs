//! Test helpers: a started simulator and a raw HTTP client.

use std::time::{Duration, Instant};

use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Api {
    pub sim: SimHandle,
    pub http: reqwest::Client,
}

/// An answer: status, the reason phrase of the status line, and the body (Null when empty).
pub struct Answer {
    pub status: StatusCode,
    pub reason: String,
    pub body: Value,
    pub raw: String,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The UPID a task-starting call answered with; anything else fails the test.
    pub fn upid(&self) -> &str {
        self.data().as_str().expect("a UPID")
    }

    /// The status code and reason phrase, compared together so a failure shows both.
    pub fn status_line(&self) -> (u16, &str) {
        (self.status.as_u16(), self.reason.as_str())
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client builds")
}

impl Api {
    pub async fn start(cfg: SimConfig) -> Self {
        let sim = Sim::start(cfg).await.expect("the simulator starts");
        Self {
            sim,
            http: client(),
        }
    }

    pub async fn fast() -> Self {
        Self::start(SimConfig::fast()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api2/json{path}", self.sim.base_url())
    }

    pub fn token_header(&self) -> String {
        format!("PVEAPIToken={}", self.sim.api_token())
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.expect("the request reaches the simulator");
        let status = resp.status();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or_default().to_owned());
        let raw = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Answer {
            status,
            reason,
            body,
            raw,
        }
    }

    pub async fn call(&self, method: Method, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut req = self
            .http
            .request(method.clone(), self.url(path))
            .header("Authorization", self.token_header());
        if !form.is_empty() {
            req = if method == Method::GET || method == Method::DELETE {
                req.query(form)
            } else {
                req.form(form)
            };
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.call(Method::POST, path, form).await
    }

    /// POST a task-starting call and wait for its task; its exit status.
    pub async fn post_and_wait(&self, path: &str, form: &[(&str, &str)]) -> String {
        self.wait_task(self.post(path, form).await.upid()).await
    }

    /// The VM `vmid` as `GET /cluster/resources?type=vm` lists it; a missing VM fails the test.
    pub async fn vm_resource(&self, vmid: u64) -> Value {
        let res = self
            .call(Method::GET, "/cluster/resources", &[("type", "vm")])
            .await;
        res.data()
            .as_array()
            .expect("a list")
            .iter()
            .find(|r| r["vmid"] == vmid)
            .cloned()
            .unwrap_or_else(|| panic!("VM {vmid} in the resources: {}", res.raw))
    }

    /// Poll a task until it stops; its exit status.
    pub async fn wait_task(&self, upid: &str) -> String {
        let node = upid.split(':').nth(1).expect("a UPID names its node");
        let path = format!("/nodes/{node}/tasks/{upid}/status");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let a = self.get(&path).await;
            if a.status.is_success() && a.data()["status"] == "stopped" {
                return a.data()["exitstatus"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "task {upid} did not finish in time"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
