//! The front-end scope a class belongs to.

use super::checked_string::checked_string;
use super::InvalidValue;

/// A front end's scope for classes, e.g. the Discord server a class was created in. Opaque to
/// the core; class names are unique within a scope because front ends address classes by name.
/// A class without a scope has `None` where a `Scope` is expected, never an empty one.
///
/// 1 to 128 characters without control characters and without spaces at either end (so that
/// `guild-1` and `guild-1 ` are never two scopes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// The longest accepted scope, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks a scope.
    ///
    /// # Errors
    /// [`InvalidValue`] when the text is empty, longer than 128 characters, has a control
    /// character or starts or ends with whitespace.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::Scope;
    /// assert_eq!(Scope::parse("guild-1")?.as_str(), "guild-1");
    /// assert!(Scope::parse("").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let fine = !text.is_empty()
            && text.chars().count() <= Self::MAX_CHARS
            && !text.chars().any(char::is_control)
            && text.trim() == text;
        if !fine {
            return Err(InvalidValue::new(
                "scope",
                text,
                "1 to 128 characters without control characters or spaces at either end",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}
checked_string!(Scope);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_a_non_blank_id_without_control_characters() {
        assert!(Scope::parse("123456789012345678").is_ok());
        for bad in ["", " ", "guild ", "g\u{0}", &"s".repeat(129)] {
            assert_eq!(Scope::parse(bad).unwrap_err().field(), "scope", "{bad:?}");
        }
    }
}
