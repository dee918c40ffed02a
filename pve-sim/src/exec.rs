//! Commands run through the guest agent (`agent/exec`): there is no guest to run them in, so
//! each command plays a scripted outcome. Tests script outcomes per VM and per command line
//! ([`ExecMatch`] + [`ExecOutcome`], through [`crate::SimControl::set_exec_outcome`] or
//! `PUT /_sim/exec`); anything unscripted exits 0 at once with no output.
//!
//! A started command becomes a process of the guest's agent: `exec-status` reports it running
//! (`exited: 0`) until its scripted duration has passed on the simulated clock, then its end,
//! after which the agent forgets it, as qemu-ga does. Stopping or restarting the VM ends every
//! process.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// The most output qemu-ga keeps per stream (16 MiB); beyond it the stream is cut and flagged
/// `out-truncated` / `err-truncated`.
pub const MAX_CAPTURED_OUTPUT: usize = 16 * 1024 * 1024;

/// How a scripted command ends.
///
/// ```
/// use pvelab_pve_sim::ExecOutcome;
/// let up = ExecOutcome::success("active\n");
/// let down = ExecOutcome::exit(3).with_stdout("inactive\n").taking(2.0);
/// let stuck = ExecOutcome::hang();
/// assert!(up.validate().is_ok() && down.validate().is_ok() && stuck.hang);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecOutcome {
    /// Exit code when it ends normally.
    pub exitcode: i64,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it runs, in nominal seconds (multiplied by `time_scale`, measured on the
    /// simulated clock, so advancing the clock ends it too). 0 ends it at once.
    pub duration_secs: f64,
    /// Never ends (until the VM stops): `exec-status` keeps saying `exited: 0`. For timeouts.
    pub hang: bool,
    /// Ends killed by this signal instead of with an exit code.
    pub signal: Option<i64>,
    /// The program does not exist in the guest: `exec` itself fails with the agent's error
    /// ("Agent error: Guest agent command failed, error was 'Failed to execute child process
    /// “PROGRAM” (No such file or directory)'").
    pub not_found: bool,
}

impl Default for ExecOutcome {
    /// Exit 0 at once, no output: what an unscripted command does.
    fn default() -> Self {
        ExecOutcome {
            exitcode: 0,
            stdout: String::new(),
            stderr: String::new(),
            duration_secs: 0.0,
            hang: false,
            signal: None,
            not_found: false,
        }
    }
}

impl ExecOutcome {
    /// Exit 0 with `stdout`.
    pub fn success(stdout: impl Into<String>) -> Self {
        ExecOutcome {
            stdout: stdout.into(),
            ..Self::default()
        }
    }
    /// Exit with `code` and no output.
    pub fn exit(code: i64) -> Self {
        ExecOutcome {
            exitcode: code,
            ..Self::default()
        }
    }
    /// Never end.
    pub fn hang() -> Self {
        ExecOutcome {
            hang: true,
            ..Self::default()
        }
    }
    /// Be killed by `signal` (9 for SIGKILL).
    pub fn killed(signal: i64) -> Self {
        ExecOutcome {
            signal: Some(signal),
            ..Self::default()
        }
    }
    /// The program does not exist in the guest.
    pub fn not_found() -> Self {
        ExecOutcome {
            not_found: true,
            ..Self::default()
        }
    }
    /// Also print `text` on standard output.
    pub fn with_stdout(mut self, text: impl Into<String>) -> Self {
        self.stdout = text.into();
        self
    }
    /// Also print `text` on standard error.
    pub fn with_stderr(mut self, text: impl Into<String>) -> Self {
        self.stderr = text.into();
        self
    }
    /// Run for `secs` nominal seconds before ending.
    pub fn taking(mut self, secs: f64) -> Self {
        self.duration_secs = secs;
        self
    }

    /// Check the values the simulator cannot play.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a duration that is negative, not finite or absurdly long.
    pub fn validate(&self) -> Result<()> {
        if !(self.duration_secs.is_finite() && (0.0..1e9).contains(&self.duration_secs)) {
            return Err(Error::InvalidValue {
                what: "exec duration_secs",
                value: self.duration_secs.to_string(),
                allowed: "0 or more nominal seconds, below 1e9",
            });
        }
        Ok(())
    }
}

/// Which `agent/exec` calls an outcome answers: one VM or all, one exact command line or all.
/// The most specific match wins: VM and command, then VM, then command, then everything.
///
/// ```
/// use pvelab_pve_sim::ExecMatch;
/// let nginx_on_101 = ExecMatch::vm(101).command(["systemctl", "is-active", "nginx"]);
/// assert_eq!(nginx_on_101.vmid, Some(101));
/// assert_eq!(ExecMatch::any().vmid, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecMatch {
    /// The VM, or every VM.
    pub vmid: Option<u32>,
    /// The exact program and arguments, or every command.
    pub command: Option<Vec<String>>,
}

impl ExecMatch {
    /// Every command in every VM.
    pub fn any() -> Self {
        Self::default()
    }
    /// Every command in VM `vmid` (which may not exist yet: a clone made later).
    pub fn vm(vmid: u32) -> Self {
        ExecMatch {
            vmid: Some(vmid),
            command: None,
        }
    }
    /// Only this exact command line (program first).
    pub fn command<I, S>(mut self, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.command = Some(command.into_iter().map(Into::into).collect());
        self
    }

    fn validate(&self) -> Result<()> {
        if let Some(c) = &self.command {
            if c.is_empty() {
                return Err(Error::InvalidValue {
                    what: "exec command",
                    value: "[]".into(),
                    allowed: "a program and its arguments, or no command to match every one",
                });
            }
        }
        Ok(())
    }

    /// 3 for VM and command, 2 for VM, 1 for command, 0 for everything; `None` if it does not
    /// apply to this call.
    fn rank(&self, vmid: u32, command: &[String]) -> Option<u8> {
        let vm_ok = self.vmid.is_none_or(|v| v == vmid);
        let cmd_ok = self.command.as_deref().is_none_or(|c| c == command);
        (vm_ok && cmd_ok)
            .then(|| u8::from(self.vmid.is_some()) * 2 + u8::from(self.command.is_some()))
    }
}

/// One `agent/exec` call the simulator received, for tests to check what ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRecord {
    /// Program and arguments.
    pub command: Vec<String>,
    /// The `input-data` sent, if any.
    #[serde(rename = "input-data")]
    pub input_data: Option<String>,
    /// The guest pid it got; `None` when it could not start (a missing program).
    pub pid: Option<u32>,
}

/// A user logged in to a guest, as `agent/get-users` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestUser {
    /// User name.
    pub user: String,
    /// Unix time of the login (fractions allowed).
    #[serde(rename = "login-time")]
    pub login_time: f64,
    /// Logon domain (Windows guests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The scripted outcomes and the record of every exec, shared by all guests.
#[derive(Debug, Default)]
pub(crate) struct ExecScript {
    rules: Vec<(ExecMatch, ExecOutcome)>,
    history: BTreeMap<u32, Vec<ExecRecord>>,
}

impl ExecScript {
    /// Add or replace the outcome for `m`.
    pub(crate) fn set(&mut self, m: ExecMatch, outcome: ExecOutcome) -> Result<()> {
        m.validate()?;
        outcome.validate()?;
        self.rules.retain(|(existing, _)| *existing != m);
        self.rules.push((m, outcome));
        Ok(())
    }

    /// Forget every scripted outcome (the record stays).
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The outcome for `command` in `vmid`: the most specific rule, else the default.
    pub(crate) fn outcome(&self, vmid: u32, command: &[String]) -> ExecOutcome {
        self.rules
            .iter()
            .filter_map(|(m, o)| m.rank(vmid, command).map(|r| (r, o)))
            .max_by_key(|(r, _)| *r)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }

    pub(crate) fn record(&mut self, vmid: u32, rec: ExecRecord) {
        self.history.entry(vmid).or_default().push(rec);
    }

    pub(crate) fn history(&self, vmid: u32) -> Vec<ExecRecord> {
        self.history.get(&vmid).cloned().unwrap_or_default()
    }
}

/// A process the guest agent started.
#[derive(Debug, Clone)]
pub(crate) struct AgentProcess {
    outcome: ExecOutcome,
    /// Simulated time at which it ends; `None` for a process that hangs.
    ends_at: Option<f64>,
}

/// The guest agent's state inside one running guest.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentState {
    processes: BTreeMap<u32, AgentProcess>,
    next_pid: u32,
    /// Who is logged in (set through the control API).
    pub(crate) users: Vec<GuestUser>,
}

impl AgentState {
    /// Start a process playing `outcome` at simulated time `now`; its pid.
    pub(crate) fn spawn(&mut self, outcome: ExecOutcome, now: f64, time_scale: f64) -> u32 {
        // Guest pids: small numbers above the boot-time daemons, growing per command.
        self.next_pid = self.next_pid.max(1200) + 1 + self.next_pid % 3;
        let ends_at = (!outcome.hang).then_some(now + outcome.duration_secs * time_scale);
        self.processes
            .insert(self.next_pid, AgentProcess { outcome, ends_at });
        self.next_pid
    }

    /// `exec-status` of `pid` at simulated time `now`, in PVE's shape; an ended process is
    /// forgotten once reported. `None` for a pid the agent does not know.
    pub(crate) fn status(&mut self, pid: u32, now: f64) -> Option<Value> {
        let p = self.processes.get(&pid)?;
        if p.ends_at.is_none_or(|t| now < t) {
            return Some(json!({ "exited": 0 }));
        }
        let p = self.processes.remove(&pid)?;
        let mut m = Map::new();
        m.insert("exited".into(), 1.into());
        match p.outcome.signal {
            Some(sig) => m.insert("signal".into(), sig.into()),
            None => m.insert("exitcode".into(), p.outcome.exitcode.into()),
        };
        for (text, data, truncated) in [
            (&p.outcome.stdout, "out-data", "out-truncated"),
            (&p.outcome.stderr, "err-data", "err-truncated"),
        ] {
            let (kept, cut) = capture(text);
            if !kept.is_empty() {
                m.insert(data.into(), kept.into());
            }
            if cut {
                m.insert(truncated.into(), 1.into());
            }
        }
        Some(Value::Object(m))
    }

    /// The guest stopped or restarted: its processes are gone.
    pub(crate) fn reset_processes(&mut self) {
        self.processes.clear();
    }
}

/// What qemu-ga keeps of a stream: at most [`MAX_CAPTURED_OUTPUT`] bytes (cut at a character
/// boundary), and whether it had to cut.
fn capture(text: &str) -> (&str, bool) {
    if text.len() <= MAX_CAPTURED_OUTPUT {
        return (text, false);
    }
    let mut end = MAX_CAPTURED_OUTPUT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_most_specific_rule_wins_and_unscripted_commands_exit_zero() {
        let mut s = ExecScript::default();
        let nginx = cmd(&["systemctl", "is-active", "nginx"]);
        s.set(ExecMatch::any(), ExecOutcome::exit(9)).unwrap();
        s.set(
            ExecMatch::any().command(nginx.clone()),
            ExecOutcome::exit(3),
        )
        .unwrap();
        s.set(ExecMatch::vm(101), ExecOutcome::exit(1)).unwrap();
        s.set(
            ExecMatch::vm(101).command(nginx.clone()),
            ExecOutcome::success("active\n"),
        )
        .unwrap();

        assert_eq!(s.outcome(101, &nginx).stdout, "active\n");
        assert_eq!(s.outcome(101, &cmd(&["true"])).exitcode, 1);
        assert_eq!(s.outcome(102, &nginx).exitcode, 3);
        assert_eq!(s.outcome(102, &cmd(&["true"])).exitcode, 9);
        s.clear();
        assert_eq!(s.outcome(101, &nginx), ExecOutcome::default());
    }

    #[test]
    fn setting_the_same_match_again_replaces_its_outcome() {
        let mut s = ExecScript::default();
        s.set(ExecMatch::vm(7), ExecOutcome::exit(1)).unwrap();
        s.set(ExecMatch::vm(7), ExecOutcome::exit(2)).unwrap();
        assert_eq!(s.outcome(7, &cmd(&["x"])).exitcode, 2);
        assert_eq!(s.rules.len(), 1);
    }

    #[test]
    fn bad_scripts_are_refused_with_the_value_named() {
        let mut s = ExecScript::default();
        let e = s
            .set(ExecMatch::any(), ExecOutcome::exit(0).taking(-1.0))
            .unwrap_err();
        assert!(e.to_string().contains("-1"), "{e}");
        let e = s
            .set(
                ExecMatch::any().command(Vec::<String>::new()),
                ExecOutcome::default(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("[]"), "{e}");
    }

    #[test]
    fn a_process_runs_for_its_scaled_duration_then_reports_once() {
        let mut a = AgentState::default();
        let pid = a.spawn(
            ExecOutcome::exit(4).with_stderr("oops\n").taking(10.0),
            1000.0,
            0.5,
        );
        assert_eq!(a.status(pid, 1004.9), Some(json!({ "exited": 0 })));
        assert_eq!(
            a.status(pid, 1005.0),
            Some(json!({ "exited": 1, "exitcode": 4, "err-data": "oops\n" }))
        );
        assert_eq!(a.status(pid, 1006.0), None, "reported once, then forgotten");
    }

    #[test]
    fn a_hanging_process_never_ends_and_a_killed_one_reports_its_signal() {
        let mut a = AgentState::default();
        let hung = a.spawn(ExecOutcome::hang(), 0.0, 1.0);
        let killed = a.spawn(ExecOutcome::killed(9), 0.0, 1.0);
        assert_ne!(hung, killed);
        assert_eq!(a.status(hung, 1e8), Some(json!({ "exited": 0 })));
        assert_eq!(
            a.status(killed, 0.0),
            Some(json!({ "exited": 1, "signal": 9 }))
        );
        a.reset_processes();
        assert_eq!(a.status(hung, 1e8), None);
    }

    #[test]
    fn output_beyond_sixteen_mebibytes_is_cut_at_a_character_and_flagged() {
        let mut a = AgentState::default();
        let big = "é".repeat(MAX_CAPTURED_OUTPUT / 2 + 1);
        let pid = a.spawn(ExecOutcome::success(big), 0.0, 1.0);
        let status = a.status(pid, 0.0).unwrap();
        let out = status["out-data"].as_str().unwrap();
        assert!(out.len() <= MAX_CAPTURED_OUTPUT && out.len() >= MAX_CAPTURED_OUTPUT - 1);
        assert_eq!(status["out-truncated"], 1);
        assert!(status.get("err-truncated").is_none());
    }
}
