//! Credentials, PVE tickets, and the single-flight ticket cache.
//!
//! A ticket is valid for two hours and nothing warns before it expires, so the client reads the
//! issue time embedded in the ticket and renews it once it is an hour old. The age is measured
//! on the server's clock, as the `Date` header of its latest reply shows it, because the server
//! judges expiry by its own clock. Renewal and re-login happen under one async mutex: concurrent
//! requests that find the ticket old wait for the one renewal in flight and then share its result.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// Age after which a ticket is renewed (PVE tickets live 2 hours).
pub(crate) const RENEW_AFTER_SECS: i64 = 3600;

/// How the client authenticates. Secrets are held in [`SecretString`] and never printed.
///
/// ```
/// use pvelab_proxmox::Auth;
/// let auth = Auth::api_token("pvelab@pve!bot=00000000-1111-2222-3333-444444444444")?;
/// assert!(!format!("{auth:?}").contains("1111"));
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Auth {
    /// An API token: header `Authorization: PVEAPIToken=USER@REALM!ID=SECRET`; no CSRF needed.
    ApiToken {
        /// `USER@REALM!TOKENID`.
        token_id: String,
        /// The token's secret UUID.
        secret: SecretString,
    },
    /// A user and password, exchanged for a ticket cookie plus a CSRF token.
    Password {
        /// `USER@REALM`, e.g. `root@pam`.
        username: String,
        /// The password.
        password: SecretString,
    },
}

impl Auth {
    /// Parse an API token in the form PVE prints it: `USER@REALM!TOKENID=SECRET`.
    ///
    /// # Errors
    /// [`Error::Config`] when the shape is wrong (the secret is never echoed).
    pub fn api_token(text: &str) -> Result<Self> {
        let (id, secret) = text.split_once('=').ok_or_else(|| {
            Error::Config(
                "an API token must look like USER@REALM!TOKENID=SECRET (no '=' found)".into(),
            )
        })?;
        Auth::api_token_parts(id, secret)
    }

    /// Build an API token from its id (`USER@REALM!TOKENID`) and secret.
    ///
    /// # Errors
    /// [`Error::Config`] when the id lacks `@` or `!`, or the secret is empty.
    pub fn api_token_parts(token_id: &str, secret: &str) -> Result<Self> {
        let (user, name) = token_id.split_once('!').ok_or_else(|| {
            Error::Config(format!(
                "API token id {token_id:?} must look like USER@REALM!TOKENID (no '!' found)"
            ))
        })?;
        if !user.contains('@') || name.is_empty() {
            return Err(Error::Config(format!(
                "API token id {token_id:?} must look like USER@REALM!TOKENID"
            )));
        }
        if secret.trim().is_empty() {
            return Err(Error::Config(format!(
                "API token {token_id:?} has an empty secret"
            )));
        }
        // Both go into an HTTP header; the secret is not echoed in the message.
        if !token_id.chars().all(|c| c.is_ascii_graphic())
            || !secret.trim().chars().all(|c| c.is_ascii_graphic())
        {
            return Err(Error::Config(format!(
                "API token {token_id:?} may only contain printable ASCII without spaces"
            )));
        }
        Ok(Auth::ApiToken {
            token_id: token_id.to_owned(),
            secret: SecretString::from(secret.trim().to_owned()),
        })
    }

    /// A user (`USER@REALM`) and password.
    ///
    /// # Errors
    /// [`Error::Config`] when the user name has no realm.
    pub fn password(username: &str, password: &str) -> Result<Self> {
        if !username.contains('@') {
            return Err(Error::Config(format!(
                "user {username:?} needs a realm, e.g. {username}@pam or {username}@pve"
            )));
        }
        Ok(Auth::Password {
            username: username.to_owned(),
            password: SecretString::from(password.to_owned()),
        })
    }

    /// The `Authorization` header value for a token (`None` for password auth).
    pub(crate) fn token_header(&self) -> Option<String> {
        match self {
            Auth::ApiToken { token_id, secret } => {
                Some(format!("PVEAPIToken={token_id}={}", secret.expose_secret()))
            }
            Auth::Password { .. } => None,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ApiToken { token_id, .. } => f
                .debug_struct("ApiToken")
                .field("token_id", token_id)
                .field("secret", &"[redacted]")
                .finish(),
            Auth::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}

/// A ticket and its CSRF token, as returned by `POST /access/ticket`.
pub(crate) struct Session {
    pub(crate) ticket: SecretString,
    pub(crate) csrf: SecretString,
    /// Unix time read from the ticket (`PVE:<user>:<hex time>::<sig>`), on the server's clock.
    pub(crate) issued_at: i64,
}

impl Session {
    /// Build a session from the login reply.
    ///
    /// # Errors
    /// [`Error::Decode`] when the ticket has no readable issue time (the ticket itself is not
    /// put into the message: it is a credential).
    pub(crate) fn new(ticket: String, csrf: String) -> Result<Self> {
        let issued_at = ticket_time(&ticket).ok_or_else(|| Error::Decode {
            url: "access/ticket".into(),
            path: "data.ticket".into(),
            message: "expected PVE:<user>:<hex time>::<signature>".into(),
        })?;
        Ok(Session {
            ticket: SecretString::from(ticket),
            csrf: SecretString::from(csrf),
            issued_at,
        })
    }

    /// Whether the ticket is old enough to renew at `server_now` (the server's clock).
    pub(crate) fn is_due(&self, server_now: i64) -> bool {
        server_now - self.issued_at >= RENEW_AFTER_SECS
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("issued_at", &self.issued_at)
            .finish_non_exhaustive()
    }
}

/// The issue time inside `PVE:<user>:<8 hex digits>::<signature>`.
pub(crate) fn ticket_time(ticket: &str) -> Option<i64> {
    let mut parts = ticket.split(':');
    let _prefix = parts.next()?;
    let _user = parts.next()?;
    let hex = parts.next()?;
    i64::from_str_radix(hex, 16).ok()
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What the cache asks its login function to do.
pub(crate) enum LoginKind {
    /// Exchange the current (still valid) ticket for a fresh one.
    Renew(Arc<Session>),
    /// Log in with the password.
    Fresh,
}

/// Holds the current session; all renewals go through one async mutex (single flight).
#[derive(Default)]
pub(crate) struct SessionCache {
    slot: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// Server clock minus local clock in seconds, from the `Date` of the latest reply (0 until
    /// one arrives), so that neither a skewed local clock nor a server clock that moved since
    /// the login makes the client misjudge a ticket's age.
    clock_offset: AtomicI64,
}

impl SessionCache {
    /// Note the server's clock from a reply's `Date` header (unix seconds).
    pub(crate) fn observe_server_time(&self, server_now: i64) {
        self.clock_offset
            .store(server_now - unix_now(), Ordering::Relaxed);
    }

    /// Now on the server's clock, as far as its replies have shown it.
    pub(crate) fn server_now(&self) -> i64 {
        unix_now() + self.clock_offset.load(Ordering::Relaxed)
    }

    /// A session usable now. `refused` is a session the server just answered 401 to: if the
    /// cache still holds it, a fresh login replaces it; if someone already replaced it, the
    /// replacement is returned without another login.
    pub(crate) async fn get<F, Fut>(
        &self,
        refused: Option<&Arc<Session>>,
        login: F,
    ) -> Result<Arc<Session>>
    where
        F: FnOnce(LoginKind) -> Fut,
        Fut: Future<Output = Result<Session>>,
    {
        let mut slot = self.slot.lock().await;
        let kind = match (&*slot, refused) {
            (Some(current), Some(bad)) if Arc::ptr_eq(current, bad) => LoginKind::Fresh,
            (Some(current), Some(_)) => return Ok(current.clone()),
            (Some(current), None) if !current.is_due(self.server_now()) => {
                return Ok(current.clone())
            }
            (Some(current), None) => LoginKind::Renew(current.clone()),
            (None, _) => LoginKind::Fresh,
        };
        let session = Arc::new(login(kind).await?);
        *slot = Some(session.clone());
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_time_is_read_from_the_ticket() {
        assert_eq!(
            ticket_time("PVE:root@pam:6650C0DE::c2lnbmF0dXJl"),
            Some(0x6650_C0DE)
        );
        assert_eq!(ticket_time("garbage"), None);
    }

    #[test]
    fn a_ticket_becomes_due_after_one_hour() {
        let s = Session::new(format!("PVE:root@pam:{:08X}::sig", 1000), "x".into())
            .expect("valid ticket");
        assert!(!s.is_due(1000 + 3599));
        assert!(s.is_due(1000 + 3600));
    }

    #[test]
    fn age_is_measured_on_the_server_clock() {
        // The server runs two hours behind us and has just issued the ticket.
        let cache = SessionCache::default();
        let server_now = unix_now() - 7200;
        cache.observe_server_time(server_now);
        let ticket = format!("PVE:root@pam:{server_now:08X}::sig");
        let s = Session::new(ticket, "x".into()).expect("valid ticket");
        assert!(!s.is_due(cache.server_now()));
        // Later replies show the server's clock an hour further on.
        cache.observe_server_time(server_now + 3600);
        assert!(s.is_due(cache.server_now()));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let token = Auth::api_token("u@pve!t=supersecret-uuid").expect("valid");
        let pass = Auth::password("root@pam", "hunter2").expect("valid");
        let s = Session::new("PVE:root@pam:00000001::topsig".into(), "1:csrfsig".into())
            .expect("valid");
        let text = format!("{token:?} {pass:?} {s:?}");
        for secret in ["supersecret", "hunter2", "topsig", "csrfsig"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn a_token_without_a_secret_is_rejected() {
        assert!(Auth::api_token("u@pve!t=").is_err());
        assert!(Auth::api_token("u@pve=abc").is_err());
        assert!(Auth::api_token("u@pve!t=s\u{e9}cret").is_err());
    }
}
