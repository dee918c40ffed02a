//! A check's definition and its validated parts.

use std::fmt;
use std::time::Duration;

use super::PassRule;
use crate::types::InvalidValue;

/// The name of a check, unique within its class (`nginx-running`, `Web server up`).
///
/// 1 to 64 characters after trimming: letters and digits of any script, spaces, and `- _ .`.
/// Like class names, it excludes control and formatting characters and the characters front
/// ends read as mentions or markup, so a name can be shown anywhere as it is.
///
/// # Examples
/// ```
/// use pvelab_core::model::CheckName;
/// assert_eq!(CheckName::parse(" nginx-running ")?.as_str(), "nginx-running");
/// assert!(CheckName::parse("<@123>").is_err());
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckName(String);

impl CheckName {
    /// The longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks a check's name; surrounding whitespace is removed first.
    ///
    /// # Errors
    /// [`InvalidValue`] when the trimmed name is empty, longer than 64 characters, or has a
    /// character other than letters, digits, spaces and `- _ .`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "1 to 64 characters: letters, digits, spaces and - _ .";
        let name = text.trim();
        let fine = |c: char| c.is_alphanumeric() || " -_.".contains(c);
        if name.is_empty() || name.chars().count() > Self::MAX_CHARS || !name.chars().all(fine) {
            return Err(InvalidValue::new("check name", text, ALLOWED));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The command of a check: a program and its arguments, run without a shell (write
/// `["sh", "-c", "..."]` for pipes and the like), as the guest agent's `exec` takes it.
///
/// 1 to 32 items; the program is not blank; each item is at most 4096 bytes and has no NUL
/// character (the guest could not pass one to a program).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckCommand(Vec<String>);

impl CheckCommand {
    /// The most items (program and arguments).
    pub const MAX_ITEMS: usize = 32;
    /// The longest item, in bytes.
    pub const MAX_ITEM_BYTES: usize = 4096;

    /// Checks a command: the program first, then its arguments.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the command (or the offending item) and the rule it breaks.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::CheckCommand;
    /// let c = CheckCommand::new(["systemctl", "is-active", "nginx"])?;
    /// assert_eq!(c.to_string(), "systemctl is-active nginx");
    /// assert!(CheckCommand::new(Vec::<String>::new()).is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn new<I, S>(items: I) -> Result<Self, InvalidValue>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items: Vec<String> = items.into_iter().map(Into::into).collect();
        let shown = || Self(items.clone()).to_string();
        if items.is_empty() || items.len() > Self::MAX_ITEMS {
            return Err(InvalidValue::new(
                "check command",
                format!("{} items", items.len()),
                "a program and its arguments: 1 to 32 items",
            ));
        }
        if items[0].trim().is_empty() {
            return Err(InvalidValue::new(
                "check command",
                shown(),
                "a command that starts with a program name",
            ));
        }
        if let Some(long) = items.iter().find(|i| i.len() > Self::MAX_ITEM_BYTES) {
            return Err(InvalidValue::new(
                "check command item",
                long,
                "at most 4096 bytes per program name or argument",
            ));
        }
        if items.iter().any(|i| i.contains('\0')) {
            return Err(InvalidValue::new(
                "check command",
                shown().replace('\0', "\\0"),
                "arguments without NUL characters",
            ));
        }
        Ok(Self(items))
    }

    /// The program and its arguments.
    pub fn items(&self) -> &[String] {
        &self.0
    }
}

/// Whether `item` can be shown without quotes: it is non-empty and has only characters no
/// shell or reader would split or interpret.
fn is_plain(item: &str) -> bool {
    !item.is_empty()
        && item
            .chars()
            .all(|c| c.is_alphanumeric() || "_-./:=@%+,^".contains(c))
}

impl fmt::Display for CheckCommand {
    /// The items separated by spaces; an item with anything but letters, digits and
    /// `_ - . / : = @ % + , ^` is put in double quotes, with `"` and `\` escaped by a
    /// backslash, so the text reads back into the same items (the bot's command reader does).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if is_plain(item) {
                f.write_str(item)?;
            } else {
                f.write_str("\"")?;
                for c in item.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")?;
            }
        }
        Ok(())
    }
}

/// How long a check may run in a VM before it counts as timed out: 1 to 600 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckTimeout(u16);

impl CheckTimeout {
    /// The shortest timeout, in seconds.
    pub const MIN_SECS: u16 = 1;
    /// The longest timeout, in seconds (ten minutes).
    pub const MAX_SECS: u16 = 600;
    /// The timeout when a teacher gives none.
    pub const DEFAULT: CheckTimeout = CheckTimeout(30);

    /// A timeout of `secs` seconds.
    ///
    /// # Errors
    /// [`InvalidValue`] outside 1 to 600 seconds.
    pub fn from_secs(secs: i64) -> Result<Self, InvalidValue> {
        match u16::try_from(secs) {
            Ok(s) if (Self::MIN_SECS..=Self::MAX_SECS).contains(&s) => Ok(Self(s)),
            _ => Err(InvalidValue::new(
                "check timeout",
                format!("{secs} s"),
                "1 to 600 seconds",
            )),
        }
    }

    /// A timeout of this length; it must be whole seconds.
    ///
    /// # Errors
    /// [`InvalidValue`] for fractions of a second, or outside 1 to 600 seconds.
    pub fn from_duration(length: Duration) -> Result<Self, InvalidValue> {
        if length.subsec_nanos() != 0 {
            return Err(InvalidValue::new(
                "check timeout",
                format!("{length:?}"),
                "whole seconds from 1 to 600",
            ));
        }
        Self::from_secs(i64::try_from(length.as_secs()).unwrap_or(i64::MAX))
    }

    /// The timeout in seconds.
    pub fn secs(self) -> u16 {
        self.0
    }

    /// The timeout as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(u64::from(self.0))
    }
}

impl fmt::Display for CheckTimeout {
    /// `30 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// Everything a teacher decides about a check. Each part was validated when it was made, so a
/// definition is always one the lab can store and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDefinition {
    /// Its name, unique within the class.
    pub name: CheckName,
    /// What runs in the VM.
    pub command: CheckCommand,
    /// How long it may run.
    pub timeout: CheckTimeout,
    /// What counts as passing.
    pub pass: PassRule,
}

impl CheckDefinition {
    /// A definition of these parts.
    pub fn new(
        name: CheckName,
        command: CheckCommand,
        timeout: CheckTimeout,
        pass: PassRule,
    ) -> Self {
        Self {
            name,
            command,
            timeout,
            pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited_to_safe_characters() {
        assert_eq!(CheckName::parse("  web up ").unwrap().as_str(), "web up");
        assert!(CheckName::parse("Prüfung-1.2_a").is_ok());
        for bad in ["", "   ", "@everyone", "a`b", "x\u{202e}y", "line\nbreak"] {
            let e = CheckName::parse(bad).unwrap_err();
            assert_eq!(e.field(), "check name", "{bad:?}");
        }
        assert!(CheckName::parse(&"n".repeat(64)).is_ok());
        assert!(CheckName::parse(&"n".repeat(65)).is_err());
    }

    #[test]
    fn a_command_has_a_program_and_at_most_32_items_of_4096_bytes() {
        assert!(CheckCommand::new(["true"]).is_ok());
        let none = CheckCommand::new(Vec::<String>::new()).unwrap_err();
        assert_eq!(none.value(), "0 items");
        let blank = CheckCommand::new([" ", "x"]).unwrap_err();
        assert!(blank.allowed().contains("program name"), "{blank}");
        assert!(CheckCommand::new(vec!["a"; 32]).is_ok());
        assert!(CheckCommand::new(vec!["a"; 33]).is_err());
        assert!(CheckCommand::new(["echo".to_owned(), "é".repeat(2048)]).is_ok());
        let long = CheckCommand::new(["echo".to_owned(), "é".repeat(2049)]).unwrap_err();
        assert_eq!(long.field(), "check command item");
        let nul = CheckCommand::new(["echo", "a\0b"]).unwrap_err();
        assert!(nul.value().contains("\\0"), "{nul}");
    }

    #[test]
    fn a_command_is_shown_with_quotes_only_where_needed() {
        let c = CheckCommand::new(["sh", "-c", "ss -ltn | grep -q \":80\""]).unwrap();
        assert_eq!(c.to_string(), r#"sh -c "ss -ltn | grep -q \":80\"""#);
        let c = CheckCommand::new(["test", "-f", "/etc/nginx/nginx.conf", "", "a\\b"]).unwrap();
        assert_eq!(c.to_string(), r#"test -f /etc/nginx/nginx.conf "" "a\\b""#);
    }

    #[test]
    fn timeouts_are_whole_seconds_from_1_to_600() {
        assert_eq!(CheckTimeout::from_secs(1).unwrap().secs(), 1);
        assert_eq!(
            CheckTimeout::from_secs(600).unwrap().duration(),
            Duration::from_secs(600)
        );
        for bad in [0, 601, -5, i64::MAX] {
            let e = CheckTimeout::from_secs(bad).unwrap_err();
            assert_eq!(e.allowed(), "1 to 600 seconds", "{bad}");
        }
        assert!(CheckTimeout::from_duration(Duration::from_millis(1500)).is_err());
        assert_eq!(
            CheckTimeout::from_duration(Duration::from_secs(90))
                .unwrap()
                .to_string(),
            "90 s"
        );
    }
}
