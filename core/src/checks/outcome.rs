//! How a check ended on one VM, and the one line of output shown for it.

use std::fmt;

use crate::error::{Error, Result};

/// How a program run through the guest agent ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandEnd {
    /// Its exit code, when it exited normally.
    pub exit_code: Option<i64>,
    /// The signal that ended it, when it was killed.
    pub signal: Option<i64>,
    /// Its standard output (empty when there was none).
    pub stdout: String,
    /// Its standard error (empty when there was none).
    pub stderr: String,
}

/// How a check ended on one VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The command ended as the check's rule expects.
    Pass,
    /// It ended otherwise, was killed, or its program could not be started in the guest.
    Fail,
    /// The VM's guest agent does not answer (not installed, not configured, or still
    /// starting), so nothing ran.
    NoAgent,
    /// The VM is not running, so nothing ran.
    Stopped,
    /// The command was still running when the check's timeout passed (it may still run in the
    /// guest: the agent cannot stop it).
    Timeout,
    /// Proxmox could not be asked (unreachable, refused, the VM is missing there).
    Error,
}

impl CheckOutcome {
    /// Every outcome, in the order tables sort them.
    pub const ALL: [CheckOutcome; 6] = [
        CheckOutcome::Pass,
        CheckOutcome::Fail,
        CheckOutcome::NoAgent,
        CheckOutcome::Stopped,
        CheckOutcome::Timeout,
        CheckOutcome::Error,
    ];

    /// The stored and exported form: `pass`, `fail`, `no_agent`, `stopped`, `timeout`,
    /// `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "fail",
            CheckOutcome::NoAgent => "no_agent",
            CheckOutcome::Stopped => "stopped",
            CheckOutcome::Timeout => "timeout",
            CheckOutcome::Error => "error",
        }
    }

    /// Reads the stored form back.
    ///
    /// # Errors
    /// [`Error::Internal`] for text no outcome has (a database edited by hand).
    pub(crate) fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == text)
            .ok_or_else(|| Error::internal(format!("unknown check outcome {text:?} stored")))
    }
}

impl fmt::Display for CheckOutcome {
    /// Words for people: `pass`, `fail`, `no agent`, `stopped`, `timeout`, `error`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckOutcome::NoAgent => "no agent",
            other => other.as_str(),
        })
    }
}

/// The longest line kept, in characters (a table cell, a CSV cell).
pub const MAX_LINE_CHARS: usize = 200;

/// The line a table shows for a run: the first non-blank line of standard output, else of
/// standard error, else how the program ended when it was killed; trimmed, control characters
/// replaced by spaces, and cut to 200 characters.
///
/// # Examples
/// ```
/// use pvelab_core::model::{summary_line, CommandEnd};
/// let end = CommandEnd { exit_code: Some(3), stdout: "\ninactive\nmore\n".into(), ..Default::default() };
/// assert_eq!(summary_line(&end), "inactive");
/// ```
pub fn summary_line(end: &CommandEnd) -> String {
    let first = |text: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(clean_line)
    };
    first(&end.stdout)
        .or_else(|| first(&end.stderr))
        .or_else(|| end.signal.map(|s| format!("killed by signal {s}")))
        .unwrap_or_default()
}

/// One line for a table: control characters become spaces, runs of spaces one, and it is cut
/// to [`MAX_LINE_CHARS`] characters with `…` at the cut.
pub(crate) fn clean_line(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || is_format_control(c) {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == MAX_LINE_CHARS {
            out.push('…');
            return out.trim_end().to_owned();
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out.trim_end().to_owned()
}

/// Bidirectional overrides and similar invisible characters that would reorder a table row.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_from_their_stored_form() {
        for o in CheckOutcome::ALL {
            assert_eq!(CheckOutcome::parse(o.as_str()).unwrap(), o);
        }
        assert!(CheckOutcome::parse("maybe").is_err());
        assert_eq!(CheckOutcome::NoAgent.to_string(), "no agent");
    }

    #[test]
    fn the_line_is_the_first_non_blank_one_of_stdout_then_stderr() {
        let mut end = CommandEnd {
            stdout: "  \n  active  \nsecond\n".into(),
            stderr: "warning\n".into(),
            ..CommandEnd::default()
        };
        assert_eq!(summary_line(&end), "active");
        end.stdout.clear();
        assert_eq!(summary_line(&end), "warning");
        end.stderr.clear();
        assert_eq!(summary_line(&end), "");
        end.signal = Some(9);
        assert_eq!(summary_line(&end), "killed by signal 9");
    }

    #[test]
    fn control_characters_are_blanked_and_long_lines_cut() {
        let end = CommandEnd {
            stdout: "a\tb\u{1b}[31mred\u{202e}x\n".into(),
            ..CommandEnd::default()
        };
        assert_eq!(summary_line(&end), "a b [31mred x");
        let long = clean_line(&"é".repeat(500));
        assert_eq!(long.chars().count(), MAX_LINE_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
