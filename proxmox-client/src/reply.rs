//! Error replies: the parts PVE sends (status line reason, body `message`, `errors` map) and
//! the rules that turn them into the most specific [`Error`] variant.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Error;

/// The parts of an error reply, gathered before classification.
#[derive(Debug, Default)]
pub(crate) struct ErrorReply {
    pub(crate) status: u16,
    /// Reason phrase of the status line (the actual one the server sent, not the canonical).
    pub(crate) reason: String,
    pub(crate) body_message: Option<String>,
    pub(crate) errors: BTreeMap<String, String>,
}

impl ErrorReply {
    /// Parse the body of an error reply; a non-JSON or empty body only leaves the reason.
    pub(crate) fn new(status: u16, reason: &str, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            errors: Option<BTreeMap<String, serde_json::Value>>,
        }
        let parsed: Option<Body> = serde_json::from_slice(body).ok();
        let (body_message, errors) = match parsed {
            Some(b) => (
                b.message
                    .map(|m| m.trim().to_owned())
                    .filter(|m| !m.is_empty()),
                b.errors
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s.trim().to_owned(),
                            other => other.to_string(),
                        };
                        (k, text)
                    })
                    .collect(),
            ),
            None => (None, BTreeMap::new()),
        };
        ErrorReply {
            status,
            reason: reason.trim().to_owned(),
            body_message,
            errors,
        }
    }

    /// Reason, body message (if it adds something) and `param: text` pairs, joined.
    pub(crate) fn combined_message(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.reason.is_empty() {
            parts.push(self.reason.clone());
        }
        if let Some(m) = &self.body_message {
            // Recent servers repeat the reason in `message`; do not print it twice.
            if !self.reason.contains(m.as_str()) {
                parts.push(m.clone());
            }
        }
        if !self.errors.is_empty() {
            let errs: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            parts.push(errs.join("; "));
        }
        if parts.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            parts.join(" - ")
        }
    }

    /// Whether this is a synchronous lock timeout, which PVE raises before doing any work, so
    /// a write can safely be sent again: a local file lock ("can't lock file ... got timeout")
    /// or the cluster file system's lock ("got lock request timeout", pmxcfs).
    pub(crate) fn is_lock_timeout(&self) -> bool {
        let text = self.combined_message();
        (text.contains("can't lock file") && text.contains("got timeout"))
            || text.contains("got lock request timeout")
    }

    /// Turn the reply into the most specific variant.
    pub(crate) fn into_error(self) -> Error {
        let message = self.combined_message();
        let lower = message.to_lowercase();
        match self.status {
            401 => Error::Authentication { message },
            403 => Error::PermissionDenied { message },
            595 | 596 => Error::NodeUnreachable {
                status: self.status,
                message,
            },
            _ if self.is_lock_timeout() => Error::LockTimeout { message },
            // Before the generic texts: an agent error can quote the guest ("No such file").
            _ if lower.contains("agent error: invalid parameter 'pid'") => {
                Error::NotFound { message }
            }
            _ if lower.contains("agent error:") => Error::AgentCommand { message },
            _ if lower.contains("already exists") => Error::AlreadyExists { message },
            _ if lower.contains("guest agent is not running") => Error::AgentNotRunning { message },
            _ if lower.contains("no qemu guest agent configured") => {
                Error::AgentNotConfigured { message }
            }
            _ if not_running_guest(&message).is_some() => Error::GuestNotRunning {
                vmid: not_running_guest(&message).unwrap_or_default(),
                message,
            },
            _ if lower.contains("does not exist") || lower.contains("no such") => {
                Error::NotFound { message }
            }
            _ if lock_name(&message).is_some() => Error::Locked {
                lock: lock_name(&message).unwrap_or_default(),
                message,
            },
            400 if !self.errors.is_empty() => Error::Parameter {
                errors: self.errors,
                message,
            },
            status => Error::Api { status, message },
        }
    }
}

/// The lock in "VM is locked (clone)" / "CT is locked (backup)".
fn lock_name(message: &str) -> Option<String> {
    let start = message.find("is locked (")? + "is locked (".len();
    let rest = &message[start..];
    let end = rest.find(')')?;
    Some(rest[..end].to_owned())
}

/// The guest in "VM 101 is not running" (qemu) or "CT 108 not running" (containers).
fn not_running_guest(message: &str) -> Option<u32> {
    message.split(" - ").find_map(|part| {
        let part = part.trim();
        let rest = part
            .strip_prefix("VM ")
            .and_then(|r| r.strip_suffix(" is not running"))
            .or_else(|| {
                part.strip_prefix("CT ")
                    .and_then(|r| r.strip_suffix(" not running"))
            })?;
        rest.parse().ok()
    })
}

impl fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.combined_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_already_existing_vmid_in_the_errors_map_is_already_exists() {
        let r = ErrorReply::new(
            400,
            "Parameter verification failed.",
            br#"{"errors":{"vmid":"VM 218 already exists"},"data":null}"#,
        );
        let e = r.into_error();
        assert!(matches!(e, Error::AlreadyExists { .. }), "{e:?}");
        assert!(e.to_string().contains("vmid: VM 218 already exists"));
    }

    #[test]
    fn a_parameter_error_keeps_the_field_map() {
        let r = ErrorReply::new(
            400,
            "Parameter verification failed.",
            br#"{"errors":{"full":"type check ('boolean') failed - got 'true'"},"data":null}"#,
        );
        match r.into_error() {
            Error::Parameter { errors, message } => {
                assert_eq!(errors["full"], "type check ('boolean') failed - got 'true'");
                assert!(message.starts_with("Parameter verification failed."));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_locked_vm_names_its_lock() {
        let r = ErrorReply::new(500, "VM is locked (clone)", b"{\"data\":null}");
        match r.into_error() {
            Error::Locked { lock, .. } => assert_eq!(lock, "clone"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_lock_file_timeout_in_the_reason_is_recognised() {
        let r = ErrorReply::new(
            500,
            "can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout",
            b"",
        );
        assert!(r.is_lock_timeout());
        assert!(matches!(r.into_error(), Error::LockTimeout { .. }));
    }

    #[test]
    fn a_cluster_lock_request_timeout_is_a_lock_timeout_and_transient() {
        let body = br#"{"data":null,"message":"cfs-lock 'file-user_cfg' error: got lock request timeout\n"}"#;
        let r = ErrorReply::new(500, "Internal Server Error", body);
        assert!(r.is_lock_timeout());
        let e = r.into_error();
        assert!(matches!(e, Error::LockTimeout { .. }), "{e:?}");
        assert!(e.is_transient());
    }

    #[test]
    fn an_agent_missing_from_the_config_is_agent_not_configured_and_final() {
        let body = br#"{"data":null,"message":"No QEMU guest agent configured\n"}"#;
        let e = ErrorReply::new(500, "No QEMU guest agent configured", body).into_error();
        assert!(matches!(e, Error::AgentNotConfigured { .. }), "{e:?}");
        assert!(!e.is_transient());
    }

    #[test]
    fn a_stopped_vm_or_container_is_guest_not_running_with_its_id() {
        for (text, id) in [("VM 101 is not running", 101), ("CT 108 not running", 108)] {
            let body = format!("{{\"data\":null,\"message\":\"{text}\\n\"}}");
            match ErrorReply::new(500, "Internal Server Error", body.as_bytes()).into_error() {
                Error::GuestNotRunning { vmid, message } => {
                    assert_eq!(vmid, id);
                    assert!(message.contains(text), "{message}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn an_agent_error_is_an_agent_command_error_even_when_it_quotes_no_such_file() {
        let text = "Agent error: Guest agent command failed, error was 'Failed to execute child \
                    process \u{201c}nginx\u{201d} (No such file or directory)'";
        let body = serde_json::json!({"data": null, "message": format!("{text}\n")});
        let e =
            ErrorReply::new(500, "Internal Server Error", body.to_string().as_bytes()).into_error();
        assert!(matches!(e, Error::AgentCommand { .. }), "{e:?}");
        assert!(!e.is_transient());
    }

    #[test]
    fn an_unknown_exec_pid_is_not_found() {
        let e = ErrorReply::new(500, "Agent error: Invalid parameter 'pid'", b"").into_error();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    }

    #[test]
    fn a_booting_agent_is_not_mistaken_for_a_stopped_guest() {
        let e = ErrorReply::new(500, "QEMU guest agent is not running", b"").into_error();
        assert!(matches!(e, Error::AgentNotRunning { .. }), "{e:?}");
    }

    #[test]
    fn a_missing_config_file_is_not_found_and_the_message_is_not_repeated() {
        let text = "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist";
        let body = format!("{{\"data\":null,\"message\":\"{text}\\n\"}}");
        let r = ErrorReply::new(500, text, body.as_bytes());
        assert_eq!(r.combined_message(), text);
        assert!(matches!(r.into_error(), Error::NotFound { .. }));
    }

    #[test]
    fn a_595_is_node_unreachable_and_transient() {
        let e = ErrorReply::new(595, "Connection refused", b"").into_error();
        assert!(matches!(e, Error::NodeUnreachable { status: 595, .. }));
        assert!(e.is_transient());
    }

    #[test]
    fn an_empty_401_keeps_the_reason_phrase() {
        let e = ErrorReply::new(401, "No ticket", b"").into_error();
        assert_eq!(e.to_string(), "authentication failed: No ticket");
    }
}
