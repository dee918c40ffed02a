//! The one error type of the client; `reply.rs` classifies PVE's error replies into it.

use std::collections::BTreeMap;

use crate::upid::Upid;

/// Everything that can go wrong when talking to Proxmox VE.
///
/// Variants are chosen so that a caller can act on them: retry later (`Locked`, `LockTimeout`,
/// `AgentNotRunning`, `NodeUnreachable`, `Timeout`), fix its input (`Parameter`), give up on
/// this object (`NotFound`, `AlreadyExists`), change the guest first (`GuestNotRunning`,
/// `AgentNotConfigured`, `AgentCommand`), or fix its credentials (`Authentication`, `PermissionDenied`).
/// Messages combine the status line's reason, the body's `message` and its `errors` map.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused our credentials (HTTP 401), even after one fresh login.
    #[error("authentication failed: {message}")]
    Authentication {
        /// The reason given in the status line (a 401 has an empty body).
        message: String,
    },
    /// The credentials are valid but lack a privilege (HTTP 403).
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// Server text, e.g. "Permission check failed (/vms/100, VM.Clone)".
        message: String,
    },
    /// The object (VM, task, storage, ...) does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// Server text, e.g. "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist".
        message: String,
    },
    /// The guest is locked by a running operation; retry after it finishes.
    #[error("locked ({lock}): {message}")]
    Locked {
        /// The lock name PVE reports, e.g. `clone`, `backup`, `migrate`.
        lock: String,
        /// Full server text.
        message: String,
    },
    /// The server could not take a lock in time and did nothing; safe to retry, writes too.
    ///
    /// Two texts mean this: a local file lock ("can't lock file '...' - got timeout") and the
    /// cluster file system's lock ("got lock request timeout"). Both fail before any work.
    #[error("lock timeout: {message}")]
    LockTimeout {
        /// Full server text, e.g. "can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout".
        message: String,
    },
    /// The object to create already exists (e.g. a VMID taken by someone else).
    #[error("already exists: {message}")]
    AlreadyExists {
        /// Full server text.
        message: String,
    },
    /// The server rejected parameters (HTTP 400 with an `errors` map).
    #[error("invalid parameters: {message}")]
    Parameter {
        /// Parameter name to the server's complaint about it.
        errors: BTreeMap<String, String>,
        /// Reason, body message and errors combined.
        message: String,
    },
    /// The VM's guest agent does not answer (yet): normal while a VM boots; poll again later.
    #[error("guest agent not running: {message}")]
    AgentNotRunning {
        /// Full server text, e.g. "QEMU guest agent is not running".
        message: String,
    },
    /// The VM has no guest agent in its configuration, so it can never report an address:
    /// enable the agent (`agent: 1`) in the VM or its template. Polling again does not help.
    #[error("no guest agent configured: {message}")]
    AgentNotConfigured {
        /// Full server text, "No QEMU guest agent configured".
        message: String,
    },
    /// The guest agent answered, with an error of its own (PVE's "Agent error: ..."): e.g. the
    /// program to execute does not exist in the guest. Final for this request. (The one agent
    /// error about an unknown process id is [`Error::NotFound`] instead.)
    #[error("guest agent error: {message}")]
    AgentCommand {
        /// Full server text, e.g. "Agent error: Guest agent command failed, error was 'Failed to
        /// execute child process “nginx” (No such file or directory)'".
        message: String,
    },
    /// The guest is not running, so its agent cannot answer: start it first.
    #[error("guest {vmid} is not running: {message}")]
    GuestNotRunning {
        /// The guest the server named.
        vmid: u32,
        /// Full server text, e.g. "VM 101 is not running".
        message: String,
    },
    /// The API proxy could not reach the node or its daemon (HTTP 595 / 596); transient.
    #[error("node unreachable ({status}): {message}")]
    NodeUnreachable {
        /// 595 or 596.
        status: u16,
        /// Server text, e.g. "Connection refused".
        message: String,
    },
    /// Any other error reply.
    #[error("API error {status}: {message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// Reason, body message and errors combined.
        message: String,
    },
    /// A request or a wait took longer than allowed.
    #[error("timed out: {what}")]
    Timeout {
        /// What timed out.
        what: String,
    },
    /// The server presented a certificate whose SHA-256 fingerprint is not the pinned one.
    #[error(
        "TLS fingerprint mismatch: the server presented {presented}, but {expected} was pinned \
         (if the server is the right one, pin {presented})"
    )]
    FingerprintMismatch {
        /// The pinned fingerprint.
        expected: String,
        /// The fingerprint of the leaf certificate the server actually sent.
        presented: String,
    },
    /// The connection failed (DNS, TCP, TLS, or a broken response).
    #[error("transport error talking to {url}: {detail}")]
    Transport {
        /// The request URL (no credentials are ever part of it).
        url: String,
        /// The underlying causes in one line, outermost first, without repetitions.
        detail: String,
        /// The underlying error. Deliberately not exposed as `source()`: `detail` already
        /// carries its text, and error reporters would print the chain twice.
        cause: reqwest::Error,
    },
    /// A reply did not have the expected shape.
    #[error("cannot decode reply of {url} at `{path}`: {message}")]
    Decode {
        /// The request URL.
        url: String,
        /// JSON path of the value that failed, e.g. `data[3].maxmem`.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// A task ended with an exit status other than "OK" or "WARNINGS: N".
    #[error("task {upid} failed: {exit_status}")]
    TaskFailed {
        /// The task.
        upid: Box<Upid>,
        /// The task's exit status (the error text).
        exit_status: String,
        /// The last lines of the task log, oldest first (empty when the log was unreadable).
        log_tail: Vec<String>,
    },
    /// A value given to the client itself was invalid (before anything was sent).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client could not be set up (bad URL, unreadable CA file, bad fingerprint, ...).
    #[error("configuration error: {0}")]
    Config(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether trying the same thing again later may succeed without changing anything.
    ///
    /// True for locks, lock timeouts, unreachable nodes, timeouts and connection failures.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Locked { .. }
            | Error::LockTimeout { .. }
            | Error::AgentNotRunning { .. }
            | Error::NodeUnreachable { .. }
            | Error::Timeout { .. } => true,
            Error::Transport { cause, .. } => cause.is_connect() || cause.is_timeout(),
            Error::Api { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// Whether this is PVE's refusal of a stale `digest`: the configuration changed since it
    /// was read. A VM says "checksum mismatch (file change by other user?)", a container (and
    /// other config files) "detected modified configuration - file changed by other user? Try
    /// again.". Read the config again and retry.
    pub fn is_stale_digest(&self) -> bool {
        match self {
            Error::Api { message, .. }
            | Error::TaskFailed {
                exit_status: message,
                ..
            } => {
                message.contains("checksum mismatch (file change by other user?)")
                    || message.contains("checksum missmatch (file change by other user?)")
                    || message.contains("detected modified configuration")
            }
            _ => false,
        }
    }

    /// The HTTP status of an error reply, if this error came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Authentication { .. } => Some(401),
            Error::PermissionDenied { .. } => Some(403),
            Error::NodeUnreachable { status, .. } | Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Error {
    /// A transport error whose message lists the causes once each.
    pub(crate) fn transport(url: &str, cause: reqwest::Error) -> Self {
        let mut parts: Vec<String> = Vec::new();
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&cause);
        while let Some(e) = current {
            let text = e.to_string();
            // reqwest repeats the URL in its outer messages; the variant already names it.
            if !text.contains(url) && !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
            current = e.source();
        }
        if parts.is_empty() {
            parts.push(cause.to_string());
        }
        Error::Transport {
            url: url.to_owned(),
            detail: parts.join(": "),
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wordings_of_a_stale_digest_are_recognised() {
        for message in [
            "checksum mismatch (file change by other user?)",
            "detected modified configuration - file changed by other user? Try again.",
        ] {
            let e = Error::Api {
                status: 500,
                message: message.to_owned(),
            };
            assert!(e.is_stale_digest(), "{message}");
        }
        let other = Error::Api {
            status: 500,
            message: "VM is locked (clone)".into(),
        };
        assert!(!other.is_stale_digest());
    }

    #[test]
    fn errors_and_clients_can_cross_threads() {
        // Compile-time check: callers keep them in spawned tasks and anyhow chains.
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
        check::<crate::Client>();
        check::<crate::Qemu>();
    }
}
