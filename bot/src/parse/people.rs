//! Who people are in the front ends: Discord ids, console user names, and the `user` option
//! that names one of them.
//!
//! The core knows people by an opaque external id; this is the one place that decides its
//! shape: `discord:<snowflake>` for Discord users and `console:<name>` for console users, so a
//! console user and a Discord user can never be confused.

use std::fmt;

use super::OptionError;

/// A Discord id ("snowflake"): a non-zero 64-bit number written in decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(u64);

impl Snowflake {
    /// Reads decimal digits (1 to 20 of them, non-zero, within 64 bits); `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u64>().ok().filter(|n| *n != 0).map(Self)
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A console user's name: 1 to 32 ASCII letters, digits, `.`, `_` and `-`.
///
/// Kept this narrow so a name is safe in any output and maps to a stable external id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsoleName(String);

impl ConsoleName {
    /// What a console user name may contain, for error messages.
    pub const ALLOWED: &'static str = "1 to 32 letters, digits, '.', '_' or '-'";

    /// Checks a console user name; `None` when it breaks [`ConsoleName::ALLOWED`].
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= 32
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        ok.then(|| Self(text.to_owned()))
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConsoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person named in a `user` option, or the person acting.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    /// A Discord user by id.
    Discord(Snowflake),
    /// A console user by name.
    Console(ConsoleName),
}

impl UserRef {
    /// The core's external id of this person: `discord:<id>` or `console:<name>`.
    pub fn external_id(&self) -> String {
        match self {
            UserRef::Discord(id) => format!("discord:{id}"),
            UserRef::Console(name) => format!("console:{name}"),
        }
    }

    /// How the person is shown in replies: a mention on Discord (which also shows their
    /// current name), the plain name in the console.
    pub fn display(&self) -> String {
        match self {
            UserRef::Discord(id) => format!("<@{id}>"),
            UserRef::Console(name) => name.to_string(),
        }
    }
}

/// A `user` option on Discord: a mention (`<@123>`, `<@!123>`) or a bare id (`123`).
///
/// # Errors
/// [`OptionError`] naming `option` for anything else (role and channel mentions included).
pub fn discord_user(option: &str, text: &str) -> Result<UserRef, OptionError> {
    let t = text.trim();
    let id = t
        .strip_prefix("<@")
        .and_then(|rest| rest.strip_suffix('>'))
        .map(|inner| inner.strip_prefix('!').unwrap_or(inner))
        .unwrap_or(t);
    Snowflake::parse(id).map(UserRef::Discord).ok_or_else(|| {
        OptionError::new(
            option,
            text,
            "a user mention such as @name (written <@123>) or a Discord user id (digits only)",
        )
    })
}

/// A `user` option in the console: a console user name (`alice`).
///
/// # Errors
/// [`OptionError`] naming `option` when the name breaks [`ConsoleName::ALLOWED`].
pub fn console_user(option: &str, text: &str) -> Result<UserRef, OptionError> {
    ConsoleName::parse(text.trim())
        .map(UserRef::Console)
        .ok_or_else(|| {
            OptionError::new(
                option,
                text,
                format!("a console user name: {}", ConsoleName::ALLOWED),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snowflake_is_non_zero_digits_within_64_bits() {
        assert_eq!(Snowflake::parse("123").map(Snowflake::get), Some(123));
        assert_eq!(
            Snowflake::parse("18446744073709551615").map(Snowflake::get),
            Some(u64::MAX)
        );
        for bad in ["", "0", "abc", "12a", "-1", " 1", "18446744073709551616"] {
            assert_eq!(Snowflake::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_discord_user_is_a_mention_a_nickname_mention_or_an_id() {
        let want = UserRef::Discord(Snowflake(42));
        assert_eq!(discord_user("user", "<@42>"), Ok(want.clone()));
        assert_eq!(discord_user("user", "<@!42>"), Ok(want.clone()));
        assert_eq!(discord_user("user", " 42 "), Ok(want.clone()));
        assert_eq!(want.external_id(), "discord:42");
    }

    #[test]
    fn role_and_channel_mentions_are_not_users() {
        for bad in ["<@&42>", "<#42>", "@everyone", "alice", "<@42"] {
            let e = discord_user("user", bad).unwrap_err();
            assert_eq!(e.option(), "user");
        }
    }

    #[test]
    fn console_names_allow_letters_digits_dot_underscore_and_dash() {
        assert!(ConsoleName::parse("alice.b_c-1").is_some());
        assert!(ConsoleName::parse(&"a".repeat(32)).is_some());
        for bad in ["", "al ice", "bob:teacher", "é", &"a".repeat(33)] {
            assert!(ConsoleName::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_console_user_maps_to_a_stable_external_id() {
        let bob = console_user("user", "bob").unwrap();
        assert_eq!(bob.external_id(), "console:bob");
        assert_eq!(bob.display(), "bob");
        assert!(console_user("user", "<@42>").is_err());
    }
}
