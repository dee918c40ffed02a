//! Commands run inside a VM through the QEMU guest agent: what to run, how it ended, and who
//! is logged in.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// PVE's limit on `input-data`, in characters (its schema's `maxLength`).
pub const MAX_INPUT_DATA: usize = 64 * 1024;

/// Parameters of `POST .../qemu/{vmid}/agent/exec`: a program with its arguments (no shell:
/// use `["sh", "-c", "..."]` for one) and optional data for its standard input.
///
/// ```
/// use pvelab_proxmox::ExecParams;
/// let p = ExecParams::new(["systemctl", "is-active", "nginx"]);
/// assert_eq!(p.command, ["systemctl", "is-active", "nginx"]);
/// let p = ExecParams::new(["sh", "-c", "cat > /tmp/x"]).input_data("hello\n");
/// assert_eq!(p.input_data.as_deref(), Some("hello\n"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExecParams {
    /// Program and arguments. Sent as one `command=` field per item, in order.
    pub command: Vec<String>,
    /// Text for the program's standard input (at most [`MAX_INPUT_DATA`] characters).
    #[serde(rename = "input-data", skip_serializing_if = "Option::is_none")]
    pub input_data: Option<String>,
}

impl ExecParams {
    /// Run `command` (program first, then its arguments).
    pub fn new<I, S>(command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecParams {
            command: command.into_iter().map(Into::into).collect(),
            input_data: None,
        }
    }

    /// Pass `data` to the program's standard input.
    pub fn input_data(mut self, data: impl Into<String>) -> Self {
        self.input_data = Some(data.into());
        self
    }

    /// Check what PVE would refuse, before anything is sent.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty command, an empty program name, or input data
    /// longer than [`MAX_INPUT_DATA`] characters.
    pub fn validate(&self) -> Result<()> {
        match self.command.first() {
            None => Err(Error::InvalidInput(
                "agent exec needs a command: the program and its arguments, e.g. \
                 [\"systemctl\", \"is-active\", \"nginx\"]"
                    .into(),
            )),
            Some(program) if program.trim().is_empty() => Err(Error::InvalidInput(format!(
                "agent exec command {:?} starts with an empty program name",
                self.command
            ))),
            Some(_) => match &self.input_data {
                Some(data) if data.chars().count() > MAX_INPUT_DATA => {
                    Err(Error::InvalidInput(format!(
                        "agent exec input data has {} characters; PVE accepts at most {MAX_INPUT_DATA}",
                        data.chars().count()
                    )))
                }
                _ => Ok(()),
            },
        }
    }
}

/// `GET .../qemu/{vmid}/agent/exec-status?pid=N`: whether the process has ended, and how.
///
/// While it runs only `exited` is set. Once it has ended, `exitcode` is set if it exited
/// normally, `signal` if it was killed; output is present when there was any (PVE decodes the
/// agent's base64 for us). The agent forgets a process after reporting it ended, so ask again
/// and it answers "Invalid parameter 'pid'" ([`crate::Error::NotFound`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AgentExecStatus {
    /// Whether the process has ended (PVE sends 0/1).
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub exited: bool,
    /// Exit code, when it exited normally.
    #[serde(deserialize_with = "crate::lenient::opt_i64")]
    pub exitcode: Option<i64>,
    /// Signal number (or Windows exception code), when it was terminated abnormally.
    #[serde(deserialize_with = "crate::lenient::opt_i64")]
    pub signal: Option<i64>,
    /// Standard output, when there was any.
    #[serde(rename = "out-data")]
    pub out_data: Option<String>,
    /// Standard error, when there was any.
    #[serde(rename = "err-data")]
    pub err_data: Option<String>,
    /// Whether the agent cut standard output (it keeps at most 16 MiB).
    #[serde(rename = "out-truncated", deserialize_with = "crate::lenient::bool")]
    pub out_truncated: bool,
    /// Whether the agent cut standard error.
    #[serde(rename = "err-truncated", deserialize_with = "crate::lenient::bool")]
    pub err_truncated: bool,
}

impl AgentExecStatus {
    /// Ended with exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exited && self.exitcode == Some(0) && self.signal.is_none()
    }
    /// Standard output, empty when there was none.
    pub fn stdout(&self) -> &str {
        self.out_data.as_deref().unwrap_or("")
    }
    /// Standard error, empty when there was none.
    pub fn stderr(&self) -> &str {
        self.err_data.as_deref().unwrap_or("")
    }
}

/// One logged-in user from `GET .../qemu/{vmid}/agent/get-users`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AgentUser {
    /// User name inside the guest.
    pub user: String,
    /// Unix time of the login, with fractions of a second.
    #[serde(rename = "login-time", deserialize_with = "crate::lenient::opt_f64")]
    pub login_time: Option<f64>,
    /// Logon domain (Windows guests only).
    pub domain: Option<String>,
}

/// The `pid` answer of `agent/exec`.
#[derive(Deserialize)]
pub(crate) struct ExecStarted {
    #[serde(deserialize_with = "crate::lenient::u64")]
    pub(crate) pid: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_has_only_exited_zero() {
        let s: AgentExecStatus = serde_json::from_str(r#"{"exited":0}"#).expect("valid");
        assert!(!s.exited && s.exitcode.is_none() && !s.succeeded());
        assert_eq!(s.stdout(), "");
    }

    #[test]
    fn a_finished_process_decodes_from_zero_one_or_json_booleans() {
        for exited in ["1", "true", "\"1\""] {
            let text = format!(
                r#"{{"exited":{exited},"exitcode":"0","out-data":"active\n","out-truncated":0}}"#
            );
            let s: AgentExecStatus = serde_json::from_str(&text).expect("valid");
            assert!(s.succeeded(), "{text}");
            assert_eq!(s.stdout(), "active\n");
            assert!(!s.out_truncated);
        }
    }

    #[test]
    fn a_killed_process_has_a_signal_and_did_not_succeed() {
        let s: AgentExecStatus =
            serde_json::from_str(r#"{"exited":1,"signal":9,"err-truncated":1}"#).expect("valid");
        assert_eq!(s.signal, Some(9));
        assert!(s.err_truncated && !s.succeeded());
    }

    #[test]
    fn a_command_is_checked_before_it_is_sent() {
        let empty = ExecParams::new(Vec::<String>::new()).validate();
        assert!(matches!(empty, Err(Error::InvalidInput(m)) if m.contains("needs a command")));
        let blank = ExecParams::new(["", "x"]).validate();
        assert!(matches!(blank, Err(Error::InvalidInput(m)) if m.contains("empty program")));
        let big = ExecParams::new(["cat"]).input_data("é".repeat(MAX_INPUT_DATA + 1));
        assert!(
            matches!(big.validate(), Err(Error::InvalidInput(m)) if m.contains("65537 characters"))
        );
        let limit = ExecParams::new(["cat"]).input_data("é".repeat(MAX_INPUT_DATA));
        assert!(limit.validate().is_ok(), "the limit counts characters");
    }
}
