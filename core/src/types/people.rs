//! How people are identified: the id a front end knows them by, and a local login name.

use super::checked_string::checked_string;
use super::InvalidValue;

/// The identity a front end knows a person by (`discord:1234`), opaque to the core: it is never
/// interpreted, only compared, so no front end's types leak into the core.
///
/// 1 to 128 characters without control characters (the schema's limit), taken as given: no
/// trimming, because two ids that differ only in spaces are two people to the front end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// The longest accepted id, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks an external id.
    ///
    /// # Errors
    /// [`InvalidValue`] when the id is empty, longer than 128 characters or contains a control
    /// character.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::ExternalId;
    /// assert_eq!(ExternalId::parse("discord:1234")?.as_str(), "discord:1234");
    /// assert!(ExternalId::parse("").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let fine = !text.is_empty()
            && text.chars().count() <= Self::MAX_CHARS
            && !text.chars().any(char::is_control);
        if !fine {
            return Err(InvalidValue::new(
                "external id",
                text,
                "1 to 128 characters without control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}
checked_string!(ExternalId);

/// A local login name, for front ends with logins (a web portal, a CLI).
///
/// 1 to 64 ASCII letters, digits and `. _ @ -`: safe in any log line, URL or shell, and the
/// same bytes whatever the keyboard or normalisation of the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(String);

impl UserName {
    /// The longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks a login name.
    ///
    /// # Errors
    /// [`InvalidValue`] when the name is empty, longer than 64 characters or has a character
    /// other than ASCII letters, digits and `. _ @ -`.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::UserName;
    /// assert_eq!(UserName::parse("anna.b")?.as_str(), "anna.b");
    /// assert!(UserName::parse("an na").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let fine = !text.is_empty()
            && text.len() <= Self::MAX_CHARS
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
        if !fine {
            return Err(InvalidValue::new(
                "user name",
                text,
                "1 to 64 ASCII letters, digits and . _ @ -",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}
checked_string!(UserName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_id_is_kept_exactly_as_given() {
        assert_eq!(ExternalId::parse(" x ").unwrap().as_str(), " x ");
        assert!(ExternalId::parse(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn an_empty_over_long_or_control_character_external_id_is_refused() {
        for bad in [String::new(), "é".repeat(129), "discord:1\n2".to_owned()] {
            let e = ExternalId::parse(&bad).unwrap_err();
            assert_eq!(e.field(), "external id", "{bad:?}");
        }
    }

    #[test]
    fn user_names_are_short_ascii_words() {
        assert!(UserName::parse("a.b_c@d-e1").is_ok());
        assert!(UserName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "an na", "ännа", "a/b", &"a".repeat(65)] {
            let e = UserName::parse(bad).unwrap_err();
            assert_eq!(e.field(), "user name", "{bad:?}");
        }
    }
}
