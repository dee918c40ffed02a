//! Textual identifiers: class names, Proxmox node names and cluster ids.
//!
//! Each is checked once at the edge so that hostile text (control characters, right-to-left
//! marks, Discord mentions, SQL fragments) never becomes a name; a name that passed can be shown
//! anywhere without escaping worries.

use super::checked_string::checked_string;
use super::InvalidValue;

/// The name of a class, as teachers type it and students see it (`"Networks 101"`).
///
/// 1 to 64 characters after trimming: letters and digits of any script, spaces, and
/// `- _ . + ( )`. That excludes control and formatting characters (bidirectional overrides) and
/// `@`, `<`, `>`, `#`, `` ` ``, `*` which front ends interpret as mentions or markup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassName(String);

impl ClassName {
    /// The longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks a class name; surrounding whitespace is removed first.
    ///
    /// # Errors
    /// [`InvalidValue`] when the trimmed name is empty, longer than 64 characters, or contains a
    /// character other than letters, digits, spaces and `- _ . + ( )`.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::ClassName;
    /// assert_eq!(ClassName::parse("  Networks 101 ")?.as_str(), "Networks 101");
    /// assert!(ClassName::parse("@everyone").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "1 to 64 characters: letters, digits, spaces and - _ . + ( )";
        let name = text.trim();
        let fine = |c: char| c.is_alphanumeric() || " -_.+()".contains(c);
        if name.is_empty() || name.chars().count() > Self::MAX_CHARS || !name.chars().all(fine) {
            return Err(InvalidValue::new("class name", text, ALLOWED));
        }
        Ok(Self(name.to_owned()))
    }
}
checked_string!(ClassName);

/// A Proxmox VE node name: a host name label (`pve1`, `node-a`).
///
/// 1 to 63 ASCII letters, digits and hyphens, not starting or ending with a hyphen, as PVE
/// requires for node names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeName(String);

impl NodeName {
    /// Checks a node name.
    ///
    /// # Errors
    /// [`InvalidValue`] when the text is not a valid host name label.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str =
            "1 to 63 ASCII letters, digits and hyphens, not starting or ending with a hyphen";
        let ok = !text.is_empty()
            && text.len() <= 63
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if !ok {
            return Err(InvalidValue::new("node name", text, ALLOWED));
        }
        Ok(Self(text.to_owned()))
    }
}
checked_string!(NodeName);

/// The operator-chosen identifier of a configured cluster (`main`, `lab-b`), unique among
/// clusters and used to key inventory, IP cache and ISO rows.
///
/// 1 to 64 ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(String);

impl ClusterId {
    /// Checks a cluster id.
    ///
    /// # Errors
    /// [`InvalidValue`] when the text breaks the rule above.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str =
            "1 to 64 ASCII letters, digits, - _ and ., starting with a letter or digit";
        let ok = text.len() <= 64
            && text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(InvalidValue::new("cluster id", text, ALLOWED));
        }
        Ok(Self(text.to_owned()))
    }
}
checked_string!(ClusterId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_name_is_trimmed_and_may_use_any_script() {
        assert_eq!(
            ClassName::parse(" Réseaux (B+) ").unwrap().as_str(),
            "Réseaux (B+)"
        );
        assert!(ClassName::parse("Сети_2.1-a").is_ok());
    }

    #[test]
    fn an_empty_or_blank_class_name_is_refused() {
        assert!(ClassName::parse("").is_err());
        assert!(ClassName::parse("   ").is_err());
    }

    #[test]
    fn a_class_name_longer_than_64_characters_is_refused() {
        assert!(ClassName::parse(&"é".repeat(64)).is_ok());
        assert!(ClassName::parse(&"é".repeat(65)).is_err());
    }

    #[test]
    fn mentions_markup_and_control_characters_never_become_class_names() {
        for bad in [
            "@everyone",
            "<@123>",
            "net\u{202e}101",
            "net\n101",
            "x'; DROP TABLE class;--",
            "**bold**",
        ] {
            let e = ClassName::parse(bad).unwrap_err();
            assert_eq!(e.field(), "class name", "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_either_is_refused_or_becomes_a_clean_name(text in "(?s).{0,80}") {
            if let Ok(name) = ClassName::parse(&text) {
                proptest::prop_assert_eq!(name.as_str(), text.trim());
                const NEVER: [char; 5] = ['@', '<', '>', '\n', '\u{202e}'];
                proptest::prop_assert!(!name.as_str().contains(NEVER));
                proptest::prop_assert_eq!(ClassName::parse(name.as_str()), Ok(name.clone()));
            }
            let _ = NodeName::parse(&text);
            let _ = ClusterId::parse(&text);
        }
    }

    #[test]
    fn node_names_are_host_name_labels() {
        assert!(NodeName::parse("pve1").is_ok());
        assert!(NodeName::parse("node-a").is_ok());
        assert!(NodeName::parse("-pve").is_err());
        assert!(NodeName::parse("pve-").is_err());
        assert!(NodeName::parse("pve.local").is_err());
        assert!(NodeName::parse("").is_err());
        assert!(NodeName::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn cluster_ids_start_with_a_letter_or_digit() {
        assert!(ClusterId::parse("main").is_ok());
        assert!(ClusterId::parse("lab_b.2-x").is_ok());
        assert!(ClusterId::parse("_main").is_err());
        assert!(ClusterId::parse("main cluster").is_err());
        assert!(ClusterId::parse("").is_err());
        assert!(ClusterId::parse(&"c".repeat(65)).is_err());
    }
}
