//! The one rejection every newtype constructor returns.

use std::borrow::Cow;
use std::fmt;

/// Longest part of a rejected value that is echoed back; hostile or huge input is cut here so an
/// error message never grows without bound.
const ECHO_LIMIT: usize = 64;

/// A value that does not satisfy a type's rules.
///
/// It names the field, the offending value (shortened, and replaced for secrets) and what is
/// allowed, so a front end can tell the person exactly what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    field: &'static str,
    value: String,
    allowed: Cow<'static, str>,
}

impl InvalidValue {
    /// A rejection of `value` for `field`; `allowed` says what would have been accepted.
    pub fn new(
        field: &'static str,
        value: impl fmt::Display,
        allowed: impl Into<Cow<'static, str>>,
    ) -> Self {
        let mut shown = value.to_string();
        if shown.chars().count() > ECHO_LIMIT {
            shown = shown.chars().take(ECHO_LIMIT).collect::<String>() + "…";
        }
        Self {
            field,
            value: shown,
            allowed: allowed.into(),
        }
    }

    /// A rejection that must not echo the value (tokens, passwords).
    pub fn hidden(field: &'static str, allowed: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field,
            value: "(hidden)".to_owned(),
            allowed: allowed.into(),
        }
    }

    /// The name of the rejected field, e.g. `"cpu cores"`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rejected value as it is shown (shortened, or `(hidden)` for secrets).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What the field accepts.
    pub fn allowed(&self) -> &str {
        &self.allowed
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: {:?} is not allowed; {}",
            self.field, self.value, self.allowed
        )
    }
}

impl std::error::Error for InvalidValue {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_field_value_and_what_is_allowed() {
        let e = InvalidValue::new("cpu cores", 65, "between 1 and 64");
        assert_eq!(
            e.to_string(),
            "invalid cpu cores: \"65\" is not allowed; between 1 and 64"
        );
    }

    #[test]
    fn a_huge_value_is_shortened_in_the_message() {
        let e = InvalidValue::new("class name", "x".repeat(10_000), "at most 64 characters");
        assert_eq!(e.value().chars().count(), ECHO_LIMIT + 1);
        assert!(e.value().ends_with('…'));
    }

    #[test]
    fn a_hidden_value_is_never_echoed() {
        let e = InvalidValue::hidden("join token", "22 URL-safe characters");
        assert_eq!(e.value(), "(hidden)");
    }
}
