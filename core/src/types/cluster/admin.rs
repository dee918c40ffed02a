//! One entry of a cluster's `admin_users`: a person named by their local user name OR by their
//! front end's external id, never by a bare string that could be either.
//!
//! Why typed: user names are chosen by whoever creates local accounts, external ids by the front
//! end (a Discord user id). An untyped entry `4242` meant for the Discord user 4242 would also
//! match a local account someone named `4242`, handing them the cluster. A typed entry matches
//! only the identity of its own kind (see [`crate::rules::cluster_admin`]).

use std::fmt;
use std::str::FromStr;

use crate::types::InvalidValue;

/// Which identity an [`AdminEntry`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdminKind {
    /// A local user name (front ends with logins). Written `user:<name>`.
    LocalUser,
    /// A front end's external id (e.g. a Discord user id). Written `ext:<id>`.
    External,
}

impl AdminKind {
    /// The prefix of the entry's text form, `user` or `ext`.
    pub fn prefix(self) -> &'static str {
        match self {
            AdminKind::LocalUser => "user",
            AdminKind::External => "ext",
        }
    }
}

/// A cluster administrator: a kind and an id of that kind.
///
/// Text form `user:<local user name>` or `ext:<external id>`, which is also how it is stored
/// (one entry per line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdminEntry {
    kind: AdminKind,
    id: String,
}

const ALLOWED_FORM: &str = "user:<local user name> or ext:<external id>, e.g. ext:123456789";

impl AdminEntry {
    /// The local user `name`: 1 to 64 ASCII letters, digits and `. _ @ -` (the rule of local
    /// user names).
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it is not a possible user name.
    pub fn local_user(name: &str) -> Result<Self, InvalidValue> {
        let ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
        if !ok {
            return Err(InvalidValue::new(
                "cluster admin user name",
                name,
                "1 to 64 ASCII letters, digits and . _ @ -",
            ));
        }
        Ok(Self {
            kind: AdminKind::LocalUser,
            id: name.to_owned(),
        })
    }

    /// The person a front end knows by `id`: 1 to 128 characters without control characters,
    /// the rule of external ids (so every user's id can be named, and one entry is one line).
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it is empty, too long or has control characters.
    pub fn external(id: &str) -> Result<Self, InvalidValue> {
        let ok = (1..=128).contains(&id.chars().count()) && !id.chars().any(char::is_control);
        if !ok {
            return Err(InvalidValue::new(
                "cluster admin external id",
                id,
                "1 to 128 characters without control characters",
            ));
        }
        Ok(Self {
            kind: AdminKind::External,
            id: id.to_owned(),
        })
    }

    /// Parses the text form `user:<name>` or `ext:<id>`; surrounding whitespace is removed.
    ///
    /// # Errors
    /// [`InvalidValue`] for text without one of the two prefixes, or an id its kind refuses.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::{AdminEntry, AdminKind};
    /// let entry = AdminEntry::parse("ext:123456789")?;
    /// assert_eq!((entry.kind(), entry.id()), (AdminKind::External, "123456789"));
    /// assert!(AdminEntry::parse("123456789").is_err(), "a bare id is ambiguous");
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        match trimmed.split_once(':') {
            Some(("user", name)) => Self::local_user(name),
            Some(("ext", id)) => Self::external(id),
            _ => Err(InvalidValue::new("cluster admin", text, ALLOWED_FORM)),
        }
    }

    /// Which identity the entry names.
    pub fn kind(&self) -> AdminKind {
        self.kind
    }

    /// The user name or external id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for AdminEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.id)
    }
}

impl FromStr for AdminEntry {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_through_its_text_form() {
        for text in ["user:ops-anna", "ext:123456789012345678", "ext:console:tom"] {
            let entry = AdminEntry::parse(text).expect(text);
            assert_eq!(entry.to_string(), text);
            assert_eq!(AdminEntry::parse(&entry.to_string()), Ok(entry));
        }
    }

    #[test]
    fn a_bare_name_without_a_kind_is_refused_because_it_is_ambiguous() {
        let e = AdminEntry::parse("4242").unwrap_err();
        assert_eq!(e.field(), "cluster admin");
        assert!(e.allowed().contains("user:"), "{e}");
        assert!(AdminEntry::parse("admin:4242").is_err());
    }

    #[test]
    fn a_local_user_entry_follows_the_user_name_rule() {
        assert!(AdminEntry::local_user("a.b_c@d-e").is_ok());
        assert!(AdminEntry::local_user("").is_err());
        assert!(AdminEntry::local_user("anna smith").is_err());
        assert!(AdminEntry::local_user(&"a".repeat(65)).is_err());
        assert_eq!(
            AdminEntry::parse("user:").unwrap_err().field(),
            "cluster admin user name"
        );
    }

    #[test]
    fn an_external_id_is_one_line_of_at_most_128_characters() {
        assert!(AdminEntry::external("discord:123").is_ok());
        assert!(AdminEntry::external("console:Tom Smith").is_ok());
        assert!(AdminEntry::external("12\n34").is_err());
        assert!(AdminEntry::external("12\u{7}34").is_err());
        assert!(AdminEntry::external("").is_err());
        assert!(AdminEntry::external(&"9".repeat(129)).is_err());
    }

    #[test]
    fn the_same_id_of_two_kinds_makes_two_different_entries() {
        let user = AdminEntry::local_user("4242").expect("user");
        let ext = AdminEntry::external("4242").expect("ext");
        assert_ne!(user, ext);
        assert_eq!(user.kind(), AdminKind::LocalUser);
        assert_eq!(ext.kind(), AdminKind::External);
    }
}
