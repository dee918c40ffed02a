//! `Client`: the cheap-to-clone handle, and the one place where requests are sent.

use std::fmt;
use std::sync::Arc;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, LoginKind, Session, SessionCache};
use crate::builder::ClientBuilder;
use crate::envelope::decode;
use crate::error::{Error, Result};
use crate::reply::ErrorReply;
use crate::task::TaskWait;
use crate::tls::PinVerifier;
use crate::transport::{self, Limits, RetryPolicy};

/// A Proxmox VE API client.
///
/// Cloning is cheap (an `Arc`); clones share the connection pool, the ticket, the rate limit
/// and the per-node caps, so one client per cluster is the intended use.
///
/// ```no_run
/// # async fn demo() -> pvelab_proxmox::Result<()> {
/// use pvelab_proxmox::{Client, CloneParams};
/// let client = Client::builder("https://pve1:8006").password("root@pam", "secret").insecure().build()?;
/// for vm in client.cluster().vms().await? {
///     println!("{} {:?} on {:?}", vm.vmid.unwrap_or_default(), vm.name, vm.node);
/// }
/// let upid = client.node("pve1").qemu(9000).clone_vm(&CloneParams::new(101).name("lab-101")).await?;
/// client.wait_for_task(&upid).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: reqwest::Url,
    pub(crate) auth: Auth,
    pub(crate) sessions: SessionCache,
    pub(crate) limits: Limits,
    pub(crate) retry: RetryPolicy,
    pub(crate) pin: Option<Arc<PinVerifier>>,
    pub(crate) task_wait: TaskWait,
    pub(crate) counter: Option<Arc<crate::counter::RequestCounter>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// One API call, before it is sent. No `Debug`: a login form holds the password.
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) form: Vec<(String, String)>,
}

impl ApiRequest {
    pub(crate) fn new(method: Method, path: &[&str]) -> Self {
        ApiRequest {
            method,
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            form: Vec::new(),
        }
    }
    /// A call on one guest: `/nodes/{node}/{kind}/{vmid}/{tail...}`, where `kind` is `qemu`
    /// or `lxc` (both handlers share this so their paths cannot drift apart).
    pub(crate) fn guest(method: Method, node: &str, kind: &str, vmid: u32, tail: &[&str]) -> Self {
        let id = vmid.to_string();
        let mut path = vec!["nodes", node, kind, id.as_str()];
        path.extend_from_slice(tail);
        Self::new(method, &path)
    }
    pub(crate) fn get(path: &[&str]) -> Self {
        Self::new(Method::GET, path)
    }
    pub(crate) fn post(path: &[&str]) -> Self {
        Self::new(Method::POST, path)
    }
    /// Add parameters: to the query for GET and DELETE (PVE refuses a DELETE with a body),
    /// to the form body otherwise.
    pub(crate) fn params<T: Serialize + ?Sized>(mut self, params: &T) -> Result<Self> {
        let pairs = crate::form::to_pairs(params)?;
        if self.method == Method::GET || self.method == Method::DELETE {
            self.query.extend(pairs);
        } else {
            self.form.extend(pairs);
        }
        Ok(self)
    }
    /// The node a request runs on (`/nodes/{node}/...`), for the per-node cap.
    fn node(&self) -> &str {
        match self.path.as_slice() {
            [first, node, ..] if first == "nodes" => node,
            _ => "",
        }
    }
}

/// A reply as received, before it is judged.
struct RawReply {
    status: u16,
    reason: String,
    /// The `Date` header as unix seconds (the server's clock).
    server_time: Option<i64>,
    /// As reqwest collected it: copying it into a `Vec` cost as much again (MBs for a
    /// `cluster/resources` of thousands of guests).
    body: bytes::Bytes,
}

/// A header value that HTTP libraries must not print (`Debug` shows "Sensitive").
/// A value with bytes a header cannot carry becomes empty, which the server then refuses.
fn sensitive(value: String) -> reqwest::header::HeaderValue {
    let mut v = reqwest::header::HeaderValue::from_str(&value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// A decoded successful reply.
struct Decoded<T> {
    data: T,
    total: Option<u64>,
}

impl Client {
    /// Start building a client for `url` (`https://HOST:8006`).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// The API root this client talks to (`https://HOST:8006/api2/json/`).
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Send a request and return its `data`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T> {
        Ok(self.execute(&req, true).await?.data)
    }

    /// Send a request and return its `data` and `total`.
    pub(crate) async fn call_with_total<T: DeserializeOwned>(
        &self,
        req: ApiRequest,
    ) -> Result<(T, Option<u64>)> {
        let reply = self.execute(&req, true).await?;
        Ok((reply.data, reply.total))
    }

    fn url(&self, req: &ApiRequest) -> reqwest::Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            // Segments are percent-encoded here, so a UPID or volume id is one segment.
            segments.pop_if_empty().extend(&req.path);
        }
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        url
    }

    /// The retry loop: auth, one re-login on 401, retries as [`transport`] allows.
    async fn execute<T: DeserializeOwned>(
        &self,
        req: &ApiRequest,
        authenticated: bool,
    ) -> Result<Decoded<T>> {
        let url = self.url(req);
        let idempotent = req.method == Method::GET;
        let password_auth = matches!(self.inner.auth, Auth::Password { .. });
        let mut attempt = 0u32;
        let mut refused: Option<Arc<Session>> = None;
        let mut relogged = false;
        loop {
            let session = if authenticated && password_auth {
                Some(self.session(refused.as_ref()).await?)
            } else {
                None
            };
            let sent = self
                .send_once(req, &url, authenticated, session.as_deref())
                .await;
            if let Some(counter) = &self.inner.counter {
                counter.sent(sent.as_ref().is_ok_and(|r| (200..300).contains(&r.status)));
            }
            let reply = match sent {
                Ok(reply) => {
                    if let Some(server_now) = reply.server_time {
                        self.inner.sessions.observe_server_time(server_now);
                    }
                    reply
                }
                Err(err) => {
                    if let Some(pin) = &self.inner.pin {
                        if let Some((expected, presented)) = pin.mismatch() {
                            if transport::is_tls_failure(&err) {
                                return Err(Error::FingerprintMismatch {
                                    expected: expected.to_string(),
                                    presented: presented.to_string(),
                                });
                            }
                        }
                    }
                    if transport::transport_is_retryable(&err, idempotent)
                        && attempt < self.inner.retry.max_retries
                    {
                        tracing::debug!(%url, error = %err, attempt, "retrying after transport error");
                        tokio::time::sleep(self.inner.retry.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    if err.is_timeout() {
                        return Err(Error::Timeout {
                            what: format!("{} {}", req.method, url),
                        });
                    }
                    return Err(Error::transport(url.as_str(), err));
                }
            };
            if (200..300).contains(&reply.status) {
                let (data, total) = decode(url.as_str(), &reply.body)?;
                return Ok(Decoded { data, total });
            }
            let error = ErrorReply::new(reply.status, &reply.reason, &reply.body);
            if reply.status == 401 && session.is_some() && !relogged {
                // The ticket was refused (server restart, key rotation, clock skew): log in
                // again once; concurrent callers share that login.
                tracing::debug!(%url, "ticket refused, logging in again");
                relogged = true;
                refused = session;
                continue;
            }
            if transport::reply_is_retryable(&error, idempotent)
                && attempt < self.inner.retry.max_retries
            {
                tracing::debug!(%url, status = reply.status, attempt, "retrying after {error}");
                tokio::time::sleep(self.inner.retry.delay(attempt)).await;
                attempt += 1;
                continue;
            }
            return Err(error.into_error());
        }
    }

    async fn send_once(
        &self,
        req: &ApiRequest,
        url: &reqwest::Url,
        authenticated: bool,
        session: Option<&Session>,
    ) -> std::result::Result<RawReply, reqwest::Error> {
        let _permit = self.inner.limits.admit(req.node()).await;
        let mut builder = self.inner.http.request(req.method.clone(), url.clone());
        if authenticated {
            if let Some(header) = self.inner.auth.token_header() {
                builder = builder.header(reqwest::header::AUTHORIZATION, sensitive(header));
            }
        }
        if let Some(s) = session {
            builder = builder.header(
                reqwest::header::COOKIE,
                sensitive(format!("PVEAuthCookie={}", s.ticket.expose_secret())),
            );
            if req.method != Method::GET {
                builder = builder.header(
                    "CSRFPreventionToken",
                    sensitive(s.csrf.expose_secret().to_owned()),
                );
            }
        }
        if !req.form.is_empty() {
            builder = builder.form(&req.form);
        }
        tracing::trace!(method = %req.method, %url, "sending");
        let response = builder.send().await?;
        let status = response.status();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(str::to_owned))
            .unwrap_or_default();
        let server_time = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        let body = response.bytes().await?;
        Ok(RawReply {
            status: status.as_u16(),
            reason,
            server_time,
            body,
        })
    }

    /// The current ticket, renewing or logging in first when needed (single flight).
    async fn session(&self, refused: Option<&Arc<Session>>) -> Result<Arc<Session>> {
        self.inner
            .sessions
            .get(refused, |kind| self.login(kind))
            .await
    }

    /// `POST /access/ticket`, with the current ticket as password for a renewal.
    async fn login(&self, kind: LoginKind) -> Result<Session> {
        let Auth::Password { username, password } = &self.inner.auth else {
            return Err(Error::Config("tickets need password credentials".into()));
        };
        if let LoginKind::Renew(current) = &kind {
            match self
                .ticket_request(username, current.ticket.expose_secret())
                .await
            {
                Ok(session) => return Ok(session),
                Err(Error::Authentication { message }) => {
                    tracing::debug!(
                        "ticket renewal refused ({message}); logging in with the password"
                    )
                }
                Err(other) => return Err(other),
            }
        }
        self.ticket_request(username, password.expose_secret())
            .await
    }

    async fn ticket_request(&self, username: &str, password: &str) -> Result<Session> {
        #[derive(Deserialize)]
        struct TicketReply {
            ticket: String,
            #[serde(rename = "CSRFPreventionToken")]
            csrf: String,
        }
        let mut req = ApiRequest::post(&["access", "ticket"]);
        req.form = vec![
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ];
        // Boxed: `execute` may itself call this (to log in), a recursive future.
        let reply = Box::pin(self.execute::<TicketReply>(&req, false)).await?;
        tracing::debug!(username, "obtained a PVE ticket");
        Session::new(reply.data.ticket, reply.data.csrf)
    }
}
