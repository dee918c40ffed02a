use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether a task still runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Still running.
    Running,
    /// Finished; `exitstatus` says how.
    Stopped,
    /// Anything else.
    #[default]
    #[serde(other)]
    Unknown,
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TaskStatus {
    /// Running or stopped.
    pub status: TaskState,
    /// Exit status, present once stopped: `OK`, `WARNINGS: N`, or the error text.
    pub exitstatus: Option<String>,
    /// Node running the task.
    pub node: Option<String>,
    /// Task type (`qmclone`, `qmstart`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Object id (VMID).
    pub id: Option<String>,
    /// User that started it.
    pub user: Option<String>,
    /// Unix start time.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub starttime: Option<u64>,
}

impl TaskStatus {
    /// The outcome, once the task has stopped.
    pub fn exit(&self) -> Option<ExitStatus> {
        match self.status {
            TaskState::Stopped => Some(ExitStatus::parse(self.exitstatus.as_deref().unwrap_or(""))),
            _ => None,
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    /// `OK`.
    Ok,
    /// `WARNINGS: N`: finished, with N warnings in the log. Counts as success.
    Warnings(u32),
    /// Anything else: the error text.
    Failed(String),
}

impl ExitStatus {
    /// Read PVE's exit status text.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text == "OK" {
            return ExitStatus::Ok;
        }
        if let Some(n) = text.strip_prefix("WARNINGS:") {
            if let Ok(n) = n.trim().parse() {
                return ExitStatus::Warnings(n);
            }
        }
        ExitStatus::Failed(if text.is_empty() {
            "stopped without an exit status".to_owned()
        } else {
            text.to_owned()
        })
    }

    /// `OK` and `WARNINGS: N` are success.
    pub fn is_success(&self) -> bool {
        !matches!(self, ExitStatus::Failed(_))
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Ok => f.write_str("OK"),
            ExitStatus::Warnings(n) => write!(f, "WARNINGS: {n}"),
            ExitStatus::Failed(text) => f.write_str(text),
        }
    }
}

/// One line of `GET .../tasks/{upid}/log`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TaskLogLine {
    /// Line number (1-based).
    #[serde(deserialize_with = "crate::lenient::u64")]
    pub n: u64,
    /// Text.
    pub t: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_and_warnings_are_success_and_anything_else_fails() {
        assert_eq!(ExitStatus::parse("OK"), ExitStatus::Ok);
        assert_eq!(ExitStatus::parse("WARNINGS: 1"), ExitStatus::Warnings(1));
        assert!(ExitStatus::parse("WARNINGS: 3").is_success());
        let failed = ExitStatus::parse("VM 100 already running");
        assert!(!failed.is_success());
        assert_eq!(failed.to_string(), "VM 100 already running");
        assert!(!ExitStatus::parse("").is_success());
    }
}
