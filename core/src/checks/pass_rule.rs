//! What counts as passing: an exit code, output matching a pattern, or both.

use std::fmt;

use regex::{Regex, RegexBuilder};

use super::CommandEnd;
use crate::types::InvalidValue;

/// An exit code a check expects: a 32-bit signed number, as the guest agent reports it (Linux
/// programs exit with 0 to 255; Windows codes such as `0xC0000005` come as negative numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExitCode(i32);

impl ExitCode {
    /// Success.
    pub const SUCCESS: ExitCode = ExitCode(0);

    /// The exit code `code`.
    ///
    /// # Errors
    /// [`InvalidValue`] outside the 32-bit signed range.
    pub fn new(code: i64) -> Result<Self, InvalidValue> {
        i32::try_from(code).map(Self).map_err(|_| {
            InvalidValue::new(
                "expected exit code",
                code,
                "a whole number from -2147483648 to 2147483647 (0 is success)",
            )
        })
    }

    /// The code.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A regular expression a check's standard output must match somewhere (anchor it with `^`
/// and `$` to match the whole output; `(?m)` makes them match at each line).
///
/// The syntax is the `regex` crate's (Perl-like, without look-around and backreferences). Its
/// matching takes time linear in the output, so no pattern a teacher writes can make a check
/// run hang the lab. At most 1024 characters, and the compiled pattern must stay small.
#[derive(Debug, Clone)]
pub struct OutputPattern(Regex);

impl OutputPattern {
    /// The longest pattern, in characters.
    pub const MAX_CHARS: usize = 1024;

    /// Compiles `pattern`.
    ///
    /// # Errors
    /// [`InvalidValue`] for an empty or too long pattern, or one the regex syntax refuses
    /// (with the reason).
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::OutputPattern;
    /// let p = OutputPattern::parse("^active$")?;
    /// assert!(p.matches("active\n"));
    /// assert!(OutputPattern::parse("(unclosed").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(pattern: &str) -> Result<Self, InvalidValue> {
        if pattern.is_empty() || pattern.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(
                "expected output",
                pattern,
                "a regular expression of 1 to 1024 characters",
            ));
        }
        RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map(Self)
            .map_err(|e| {
                let reason = match e {
                    regex::Error::Syntax(text) => {
                        // The crate's message spans lines with a caret under the fault; its
                        // last line says what is wrong.
                        let last = text.lines().rev().find(|l| !l.trim().is_empty());
                        last.unwrap_or("not a valid pattern").trim().to_owned()
                    }
                    regex::Error::CompiledTooBig(_) => "the pattern is too large".to_owned(),
                    other => other.to_string(),
                };
                InvalidValue::new(
                    "expected output",
                    pattern,
                    format!("a valid regular expression ({reason})"),
                )
            })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether `output` matches somewhere. One line ending at the very end of the output is
    /// left out first, so `^active$` matches `active\n` as a program prints it (`$` without
    /// `(?m)` only matches at the very end).
    pub fn matches(&self, output: &str) -> bool {
        let trimmed = output
            .strip_suffix("\r\n")
            .or_else(|| output.strip_suffix('\n'))
            .unwrap_or(output);
        self.0.is_match(trimmed)
    }
}

impl PartialEq for OutputPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for OutputPattern {}

impl fmt::Display for OutputPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What counts as passing. A check that names neither an exit code nor a pattern expects
/// exit code 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassRule {
    /// The command exits with this code.
    ExitCode(ExitCode),
    /// Its standard output matches the pattern (whatever the exit code).
    OutputMatches(OutputPattern),
    /// Both.
    ExitCodeAndOutput(ExitCode, OutputPattern),
}

impl Default for PassRule {
    fn default() -> Self {
        PassRule::ExitCode(ExitCode::SUCCESS)
    }
}

impl PassRule {
    /// The rule for what a teacher gave: an exit code, a pattern, both, or neither (exit code
    /// 0).
    pub fn new(exit_code: Option<ExitCode>, output: Option<OutputPattern>) -> Self {
        match (exit_code, output) {
            (Some(code), Some(pattern)) => PassRule::ExitCodeAndOutput(code, pattern),
            (Some(code), None) => PassRule::ExitCode(code),
            (None, Some(pattern)) => PassRule::OutputMatches(pattern),
            (None, None) => PassRule::default(),
        }
    }

    /// The expected exit code, if the rule has one.
    pub fn exit_code(&self) -> Option<ExitCode> {
        match self {
            PassRule::ExitCode(code) | PassRule::ExitCodeAndOutput(code, _) => Some(*code),
            PassRule::OutputMatches(_) => None,
        }
    }

    /// The output pattern, if the rule has one.
    pub fn output(&self) -> Option<&OutputPattern> {
        match self {
            PassRule::OutputMatches(p) | PassRule::ExitCodeAndOutput(_, p) => Some(p),
            PassRule::ExitCode(_) => None,
        }
    }

    /// Whether a command that ended like `end` passes. A program killed by a signal has no
    /// exit code, so it never passes a rule that expects one.
    pub fn passes(&self, end: &CommandEnd) -> bool {
        let code_ok = self
            .exit_code()
            .is_none_or(|want| end.exit_code == Some(i64::from(want.get())));
        let output_ok = self.output().is_none_or(|p| p.matches(&end.stdout));
        code_ok && output_ok
    }
}

impl fmt::Display for PassRule {
    /// `exit code 0`, `output matches ^active$`, or both joined by `and`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassRule::ExitCode(code) => write!(f, "exit code {code}"),
            PassRule::OutputMatches(p) => write!(f, "output matches {p}"),
            PassRule::ExitCodeAndOutput(code, p) => {
                write!(f, "exit code {code} and output matches {p}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(code: Option<i64>, stdout: &str) -> CommandEnd {
        CommandEnd {
            exit_code: code,
            signal: None,
            stdout: stdout.to_owned(),
            stderr: String::new(),
        }
    }

    #[test]
    fn no_expectation_means_exit_code_zero() {
        let rule = PassRule::new(None, None);
        assert_eq!(rule, PassRule::ExitCode(ExitCode::SUCCESS));
        assert!(rule.passes(&ended(Some(0), "")));
        assert!(!rule.passes(&ended(Some(3), "")));
        assert_eq!(rule.to_string(), "exit code 0");
    }

    #[test]
    fn a_killed_program_has_no_exit_code_and_fails_an_exit_rule() {
        let mut end = ended(None, "");
        end.signal = Some(9);
        assert!(!PassRule::default().passes(&end));
        let any_output = PassRule::new(None, Some(OutputPattern::parse(".*").unwrap()));
        assert!(
            any_output.passes(&end),
            "an output rule ignores how it ended"
        );
    }

    #[test]
    fn an_output_rule_matches_anywhere_and_dollar_allows_the_final_newline() {
        let active = PassRule::new(None, Some(OutputPattern::parse("^active$").unwrap()));
        assert!(active.passes(&ended(Some(3), "active\n")));
        assert!(active.passes(&ended(Some(0), "active")));
        assert!(!active.passes(&ended(Some(0), "inactive\n")));
        assert!(!active.passes(&ended(Some(0), "active\nmore\n")));
        let anywhere = OutputPattern::parse("listening on :80").unwrap();
        assert!(anywhere.matches("nginx: listening on :80 (pid 7)\n"));
        let per_line = OutputPattern::parse("(?m)^ok$").unwrap();
        assert!(per_line.matches("first\nok\nlast\n"));
        assert_eq!(
            OutputPattern::parse("^active$").unwrap().as_str(),
            "^active$"
        );
        assert_eq!(
            OutputPattern::parse("cost \\$").unwrap().as_str(),
            "cost \\$"
        );
    }

    #[test]
    fn both_must_hold_when_both_are_given() {
        let rule = PassRule::new(
            Some(ExitCode::new(0).unwrap()),
            Some(OutputPattern::parse("^ok").unwrap()),
        );
        assert!(rule.passes(&ended(Some(0), "ok\n")));
        assert!(!rule.passes(&ended(Some(1), "ok\n")));
        assert!(!rule.passes(&ended(Some(0), "no\n")));
        assert_eq!(rule.to_string(), "exit code 0 and output matches ^ok");
    }

    #[test]
    fn a_bad_pattern_is_refused_with_the_reason() {
        let e = OutputPattern::parse("(unclosed").unwrap_err();
        assert_eq!(e.field(), "expected output");
        assert!(
            e.allowed().starts_with("a valid regular expression ("),
            "{e}"
        );
        assert!(e.allowed().contains("unclosed"), "{e}");
        assert!(OutputPattern::parse("").is_err());
        assert!(OutputPattern::parse(&"a".repeat(1025)).is_err());
        let huge = OutputPattern::parse("\\w{1000}\\w{1000}").unwrap_err();
        assert!(huge.allowed().contains("too large"), "{huge}");
    }

    #[test]
    fn exit_codes_are_32_bit_signed() {
        assert_eq!(ExitCode::new(-1073741819).unwrap().get(), -1073741819);
        assert!(ExitCode::new(1 << 31).is_err());
        assert_eq!(ExitCode::new(3).unwrap().to_string(), "3");
    }
}
