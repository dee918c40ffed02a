//! Options of in-VM checks and submissions: a check's name, command, timeout, expected exit
//! code and output; a snapshot name; a submission deadline.

use jiff::civil::DateTime;
use jiff::Timestamp;
use pvelab_core::model::{CheckCommand, CheckName, CheckTimeout, ExitCode, OutputPattern};
use pvelab_core::types::SnapshotName;

use super::durations::friendly_duration;
use super::OptionError;

/// A check's name (the core's rule: 1 to 64 letters, digits, spaces and `- _ .`).
///
/// # Errors
/// [`OptionError`] naming `option` with the core's rule.
pub fn check_name(option: &str, text: &str) -> Result<CheckName, OptionError> {
    CheckName::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

const COMMAND_ALLOWED: &str = "a program and its arguments separated by spaces, e.g. systemctl \
                               is-active nginx; quote an argument with spaces in \"...\" or \
                               '...', and use sh -c '...' for pipes";

/// A check's command as people write it: words separated by spaces, as a shell splits them.
/// `"..."` keeps spaces (with `\"` and `\\` inside), `'...'` keeps everything as it is, a
/// backslash outside quotes keeps the next character, and quoted and bare parts next to each
/// other make one word. No shell runs it: for pipes and redirections write `sh -c '...'`.
/// This reads back what the core shows ([`CheckCommand`]'s text).
///
/// # Errors
/// [`OptionError`] naming `option` for an unclosed quote, a trailing backslash, or a command
/// the core refuses (no program, too many or too long arguments).
pub fn command(option: &str, text: &str) -> Result<CheckCommand, OptionError> {
    let words = split_words(text).ok_or_else(|| OptionError::new(option, text, COMMAND_ALLOWED))?;
    CheckCommand::new(words).map_err(|e| {
        OptionError::new(
            option,
            text,
            format!("{} ({})", COMMAND_ALLOWED, e.allowed()),
        )
    })
}

/// Splits a command line into words; `None` for an unclosed quote or a trailing backslash.
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    // Whether a word has begun: `""` is an empty word, plain spaces are none.
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                word.push(chars.next()?);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

const TIMEOUT_ALLOWED: &str = "seconds (30) or a duration such as 90s or 2m, from 1 second to \
                               10 minutes";

/// A check's timeout: a bare number of seconds (`30`) or a duration (`90s`, `2m`).
///
/// # Errors
/// [`OptionError`] naming `option` for other text or a timeout outside 1 s to 10 min.
pub fn timeout(option: &str, text: &str) -> Result<CheckTimeout, OptionError> {
    let bad = || OptionError::new(option, text, TIMEOUT_ALLOWED);
    let t = text.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return CheckTimeout::from_secs(secs).map_err(|_| bad());
    }
    let length = friendly_duration(t).ok_or_else(bad)?;
    let length = std::time::Duration::try_from(length).map_err(|_| bad())?;
    CheckTimeout::from_duration(length).map_err(|_| bad())
}

/// The exit code a check expects (`0`, `3`).
///
/// # Errors
/// [`OptionError`] naming `option` for text that is not a 32-bit whole number.
pub fn exit_code(option: &str, text: &str) -> Result<ExitCode, OptionError> {
    let allowed = "a whole number such as 0 (success) or 3";
    let code: i64 = text
        .trim()
        .parse()
        .map_err(|_| OptionError::new(option, text, allowed))?;
    ExitCode::new(code).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// The pattern a check's output must match (a regular expression, taken as typed).
///
/// # Errors
/// [`OptionError`] naming `option` with why the pattern is not valid.
pub fn pattern(option: &str, text: &str) -> Result<OutputPattern, OptionError> {
    OutputPattern::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A snapshot's name as `/class submissions` lists it (`submit-20260131T081530Z`).
///
/// # Errors
/// [`OptionError`] naming `option` with PVE's rule for snapshot names.
pub fn snapshot(option: &str, text: &str) -> Result<SnapshotName, OptionError> {
    SnapshotName::parse(text.trim()).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A submission deadline as typed, before the class's time zone is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineSetting {
    /// No deadline (`none`).
    Clear,
    /// An instant: a time with an offset or `Z`.
    At(Timestamp),
    /// A wall-clock time, read in the class's time zone (UTC when it has none).
    Local(DateTime),
    /// A duration from now (`2d`, `90m`).
    In(jiff::SignedDuration),
}

const DEADLINE_ALLOWED: &str = "none, a date and time such as 2026-02-01 18:00 (in the class's \
                                time zone, UTC if it has none), a time with an offset such as \
                                2026-02-01T18:00+01:00, or a duration from now such as 2d";

/// `none` (also `off`), `2026-02-01 18:00` or `2026-02-01T18:00` (the class's wall clock),
/// `2026-02-01T17:00Z` or with an offset (an instant), or `2d`, `36h` (from now).
///
/// # Errors
/// [`OptionError`] naming `option` for other text.
pub fn deadline(option: &str, text: &str) -> Result<DeadlineSetting, OptionError> {
    let t = text.trim();
    if ["none", "off"].iter().any(|w| t.eq_ignore_ascii_case(w)) {
        return Ok(DeadlineSetting::Clear);
    }
    if let Ok(at) = t.parse::<Timestamp>() {
        return Ok(DeadlineSetting::At(at));
    }
    if let Ok(local) = t.replacen(' ', "T", 1).parse::<DateTime>() {
        return Ok(DeadlineSetting::Local(local));
    }
    match friendly_duration(t) {
        Some(d) if d.is_positive() => Ok(DeadlineSetting::In(d)),
        _ => Err(OptionError::new(option, text, DEADLINE_ALLOWED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        command("command", text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .items()
            .to_vec()
    }

    #[test]
    fn commands_split_on_spaces_and_keep_quoted_text_together() {
        assert_eq!(
            words("systemctl  is-active nginx"),
            ["systemctl", "is-active", "nginx"]
        );
        assert_eq!(
            words(r#"sh -c 'ss -ltn | grep -q ":80"'"#),
            ["sh", "-c", r#"ss -ltn | grep -q ":80""#]
        );
        assert_eq!(
            words(r#"echo "a \"b\" \\ c\n" ''"#),
            ["echo", r#"a "b" \ c\n"#, ""]
        );
        assert_eq!(words(r"--name=a\ b x"), ["--name=a b", "x"]);
        assert_eq!(words(r#"--opt="x y"z"#), ["--opt=x yz"]);
        assert_eq!(words("[ -f /etc/motd ]"), ["[", "-f", "/etc/motd", "]"]);
    }

    #[test]
    fn a_broken_command_names_the_option_and_how_to_write_one() {
        for bad in ["echo 'open", "echo \"open", "echo \\", "", "   ", "'' x"] {
            let e = command("command", bad).unwrap_err();
            assert_eq!(e.option(), "command", "{bad:?}");
            assert!(
                e.allowed().starts_with("a program and its arguments"),
                "{e}"
            );
        }
    }

    proptest! {
        #[test]
        fn what_the_core_shows_reads_back_as_the_same_command(
            items in proptest::collection::vec("[ -~éß\t]{0,12}", 1..6),
        ) {
            prop_assume!(!items[0].trim().is_empty());
            let command = CheckCommand::new(items.clone()).unwrap();
            let back = super::command("command", &command.to_string()).unwrap();
            prop_assert_eq!(back.items(), &items[..]);
        }
    }

    #[test]
    fn timeouts_are_seconds_or_durations_up_to_ten_minutes() {
        assert_eq!(timeout("timeout", "30").unwrap().secs(), 30);
        assert_eq!(timeout("timeout", "2m").unwrap().secs(), 120);
        assert_eq!(timeout("timeout", "10m").unwrap().secs(), 600);
        for bad in ["0", "11m", "1.5s", "soon", "-3"] {
            assert_eq!(
                timeout("timeout", bad).unwrap_err().option(),
                "timeout",
                "{bad}"
            );
        }
    }

    #[test]
    fn exit_codes_patterns_and_snapshot_names_use_the_cores_rules() {
        assert_eq!(exit_code("expect-exit", " 3 ").unwrap().get(), 3);
        assert!(exit_code("expect-exit", "three").is_err());
        assert!(exit_code("expect-exit", "9999999999").is_err());
        assert_eq!(
            pattern("expect-output", "^active$").unwrap().as_str(),
            "^active$"
        );
        let e = pattern("expect-output", "(").unwrap_err();
        assert!(e.allowed().contains("regular expression"), "{e}");
        assert!(snapshot("snapshot", "submit-20260131T081530Z").is_ok());
        assert!(snapshot("snapshot", "current").is_err());
    }

    #[test]
    fn deadlines_are_none_an_instant_a_wall_clock_time_or_a_duration() {
        assert_eq!(deadline("at", "None").unwrap(), DeadlineSetting::Clear);
        assert_eq!(
            deadline("at", "2026-02-01T17:00Z").unwrap(),
            DeadlineSetting::At("2026-02-01T17:00Z".parse().unwrap())
        );
        assert_eq!(
            deadline("at", "2026-02-01 18:00").unwrap(),
            DeadlineSetting::Local("2026-02-01T18:00".parse().unwrap())
        );
        assert_eq!(
            deadline("at", "2d").unwrap(),
            DeadlineSetting::In(jiff::SignedDuration::from_hours(48))
        );
        for bad in ["tomorrow", "0s", "2026-13-01 10:00"] {
            let e = deadline("at", bad).unwrap_err();
            assert!(
                e.allowed().starts_with("none, a date and time"),
                "{bad}: {e}"
            );
        }
    }
}
