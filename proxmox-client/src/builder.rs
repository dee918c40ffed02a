//! `ClientBuilder`: every knob of a [`Client`] in one place, checked once in `build`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Auth, SessionCache};
use crate::client::{Client, Inner};
use crate::counter::RequestCounter;
use crate::error::{Error, Result};
use crate::task::TaskWait;
use crate::tls::{Fingerprint, Trust};
use crate::transport::{Limits, RateLimit, RetryPolicy, DEFAULT_PER_NODE_CONCURRENCY};

/// Builds a [`Client`]. Start with [`Client::builder`].
///
/// Setters never fail; the first invalid value is reported by [`ClientBuilder::build`].
///
/// ```no_run
/// use std::time::Duration;
/// use pvelab_proxmox::Client;
/// let client = Client::builder("https://pve1.school.example:8006")
///     .api_token("pvelab@pve!bot=00000000-1111-2222-3333-444444444444")
///     .fingerprint("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89")
///     .rate_limit(10, 20)
///     .per_node_concurrency(3)
///     .request_timeout(Duration::from_secs(30))
///     .build()?;
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    url: String,
    auth: Option<Result<Auth>>,
    trust: Result<Trust>,
    rate_limit: Result<RateLimit>,
    per_node: usize,
    retry: RetryPolicy,
    request_timeout: Duration,
    connect_timeout: Duration,
    task_wait: TaskWait,
    counter: Option<Arc<RequestCounter>>,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        ClientBuilder {
            url: url.to_owned(),
            auth: None,
            trust: Ok(Trust::SystemRoots),
            rate_limit: Ok(RateLimit::default()),
            per_node: DEFAULT_PER_NODE_CONCURRENCY,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            task_wait: TaskWait::default(),
            counter: None,
        }
    }

    /// Authenticate with an API token given as `USER@REALM!TOKENID=SECRET`.
    pub fn api_token(mut self, token: &str) -> Self {
        self.auth = Some(Auth::api_token(token));
        self
    }

    /// Authenticate with a user (`USER@REALM`) and password (tickets, renewed automatically).
    pub fn password(mut self, username: &str, password: &str) -> Self {
        self.auth = Some(Auth::password(username, password));
        self
    }

    /// Use ready-made credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(Ok(auth));
        self
    }

    /// Trust only a server whose leaf certificate has this SHA-256 fingerprint (PVE's colon form).
    pub fn fingerprint(mut self, fingerprint: &str) -> Self {
        self.trust = Fingerprint::parse(fingerprint).map(Trust::Pinned);
        self
    }

    /// Trust only certificates issued by the CA(s) in this PEM file (e.g. `pve-root-ca.pem`).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust = Ok(Trust::CaFile(path.into()));
        self
    }

    /// Trust only certificates issued by the CA(s) in this PEM text, for a CA kept somewhere
    /// other than a file (a database). Checked by [`ClientBuilder::build`].
    pub fn ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.trust = Ok(Trust::CaPem(pem.into()));
        self
    }

    /// Accept any certificate. Logs a warning once; prefer [`ClientBuilder::fingerprint`].
    pub fn insecure(mut self) -> Self {
        self.trust = Ok(Trust::Insecure);
        self
    }

    /// Cluster-wide rate limit: `per_second` sustained with bursts of `burst` (both > 0).
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limit = match (
            std::num::NonZeroU32::new(per_second),
            std::num::NonZeroU32::new(burst),
        ) {
            (Some(per_second), Some(burst)) => Ok(RateLimit { per_second, burst }),
            _ => Err(Error::Config(format!(
                "rate limit {per_second}/s with burst {burst}: both must be at least 1"
            ))),
        };
        self
    }

    /// At most `n` requests in flight per node (default 3, a node's API worker count).
    pub fn per_node_concurrency(mut self, n: usize) -> Self {
        self.per_node = n;
        self
    }

    /// How failed requests are retried (tests use tiny delays).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Time limit of one HTTP request (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Time limit of establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Default polling of [`Client::wait_for_task`].
    pub fn task_wait(mut self, wait: TaskWait) -> Self {
        self.task_wait = wait;
        self
    }

    /// Counts every request the client sends into `counter` (shared, so a rebuilt client can
    /// go on counting into the same figures).
    pub fn count_requests(mut self, counter: Arc<RequestCounter>) -> Self {
        self.counter = Some(counter);
        self
    }

    /// Check everything and build the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad URL, missing or malformed credentials, a bad fingerprint, an
    /// unreadable CA file or unusable CA text, a zero rate limit or concurrency.
    pub fn build(self) -> Result<Client> {
        let base = base_url(&self.url)?;
        let auth = self.auth.ok_or_else(|| {
            Error::Config("no credentials: call .api_token(..) or .password(..)".into())
        })??;
        let trust = self.trust?;
        let rate = self.rate_limit?;
        if self.per_node == 0 {
            return Err(Error::Config(
                "per-node concurrency 0 would block every request; use at least 1".into(),
            ));
        }
        let builder = reqwest::Client::builder()
            .timeout(self.request_timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("pvelab-proxmox/", env!("CARGO_PKG_VERSION")));
        let (builder, pin) = crate::tls::apply(builder, &trust)?;
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                sessions: SessionCache::default(),
                limits: Limits::new(rate, self.per_node),
                retry: self.retry,
                pin,
                task_wait: self.task_wait,
                counter: self.counter,
            }),
        })
    }
}

/// `https://host:8006` (with or without `/api2/json`) -> `https://host:8006/api2/json/`.
fn base_url(text: &str) -> Result<reqwest::Url> {
    let mut url = reqwest::Url::parse(text.trim()).map_err(|e| {
        Error::Config(format!(
            "server URL {text:?} is not a URL ({e}); expected https://HOST:8006"
        ))
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "server URL {text:?} must look like https://HOST:8006"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "put credentials in .api_token/.password, not in the URL".into(),
        ));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api2/json").unwrap_or(path).to_owned();
    url.set_path(&format!("{path}/api2/json/"));
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_prefix_is_added_once() {
        assert_eq!(
            base_url("https://pve:8006").expect("ok").as_str(),
            "https://pve:8006/api2/json/"
        );
        assert_eq!(
            base_url("https://pve:8006/api2/json/")
                .expect("ok")
                .as_str(),
            "https://pve:8006/api2/json/"
        );
    }

    #[test]
    fn a_url_without_scheme_is_rejected_with_a_hint() {
        let e = base_url("pve1:8006x").expect_err("bad");
        assert!(e.to_string().contains("https://HOST"), "{e}");
    }

    #[test]
    fn a_client_without_credentials_is_refused() {
        let e = ClientBuilder::new("https://pve:8006")
            .build()
            .expect_err("no auth");
        assert!(e.to_string().contains("no credentials"), "{e}");
    }

    #[test]
    fn a_zero_rate_limit_is_refused() {
        let e = ClientBuilder::new("https://pve:8006")
            .api_token("a@pve!b=c")
            .rate_limit(0, 5)
            .build()
            .expect_err("zero rate");
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}
