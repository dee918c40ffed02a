//! The one rejection of a typed option value.

use std::borrow::Cow;
use std::fmt;

use pvelab_core::types::InvalidValue;

/// Longest part of a rejected value that is echoed back, so a pasted essay never becomes an
/// error message of the same size.
const ECHO_LIMIT: usize = 64;

/// An option value that could not be read: names the option, the value (shortened, or hidden
/// for secrets such as join tokens) and what the option accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    option: String,
    value: Option<String>,
    allowed: Cow<'static, str>,
}

impl OptionError {
    /// A rejection of `value` for `option`; `allowed` says what would have been accepted.
    pub fn new(option: &str, value: &str, allowed: impl Into<Cow<'static, str>>) -> Self {
        let mut shown: String = value.chars().take(ECHO_LIMIT).collect();
        if value.chars().count() > ECHO_LIMIT {
            shown.push('…');
        }
        Self {
            option: option.to_owned(),
            value: Some(shown),
            allowed: allowed.into(),
        }
    }

    /// A rejection that must not echo the value (join tokens: a mistyped token is still close
    /// to a secret).
    pub fn hidden(option: &str, allowed: impl Into<Cow<'static, str>>) -> Self {
        Self {
            option: option.to_owned(),
            value: None,
            allowed: allowed.into(),
        }
    }

    /// Rewords a core type's rejection for the option it came from, keeping the core's
    /// statement of what is allowed.
    pub fn from_invalid(option: &str, value: &str, invalid: &InvalidValue) -> Self {
        if invalid.value() == "(hidden)" {
            Self::hidden(option, invalid.allowed().to_owned())
        } else {
            Self::new(option, value, invalid.allowed().to_owned())
        }
    }

    /// The option's name as people type it (`memory`).
    pub fn option(&self) -> &str {
        &self.option
    }

    /// The rejected value as shown (shortened), or `None` when it is hidden.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What the option accepts.
    pub fn allowed(&self) -> &str {
        &self.allowed
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "option `{}`: \"{v}\" is not valid; {}",
                self.option, self.allowed
            ),
            None => write!(
                f,
                "option `{}`: the value is not valid; {}",
                self.option, self.allowed
            ),
        }
    }
}

impl std::error::Error for OptionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_option_the_value_and_what_is_allowed() {
        let e = OptionError::new("memory", "4X", "a size such as 4G");
        assert_eq!(
            e.to_string(),
            "option `memory`: \"4X\" is not valid; a size such as 4G"
        );
    }

    #[test]
    fn a_hidden_value_is_never_echoed() {
        let e = OptionError::hidden("token", "22 characters");
        assert_eq!(e.value(), None);
        assert_eq!(
            e.to_string(),
            "option `token`: the value is not valid; 22 characters"
        );
    }

    #[test]
    fn a_long_value_is_shortened() {
        let e = OptionError::new("class", &"x".repeat(500), "a class name");
        assert_eq!(e.value().map(|v| v.chars().count()), Some(ECHO_LIMIT + 1));
    }

    #[test]
    fn a_core_rejection_keeps_its_allowed_text_and_hides_what_the_core_hid() {
        let invalid = pvelab_core::types::Cores::parse("99").unwrap_err();
        let e = OptionError::from_invalid("cpu", "99", &invalid);
        assert_eq!(e.option(), "cpu");
        assert!(e.allowed().contains("1 to 64"), "{e}");
        let hidden = pvelab_core::model::JoinToken::parse("nope").unwrap_err();
        assert_eq!(
            OptionError::from_invalid("token", "nope", &hidden).value(),
            None
        );
    }
}
