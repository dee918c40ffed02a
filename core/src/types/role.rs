//! The three roles of pvelab, ordered by the rights they carry.

use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// A person's role: `User < Teacher < Adminer`.
///
/// The order matters: every right of a lower role is also a right of a higher one, so a check is
/// `role >= Role::Teacher`. Class-specific rights (owning or co-owning a class) come on top of
/// the role and are decided by [`crate::rules::permissions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A student: joins classes and uses their own VMs.
    User,
    /// Creates classes and manages the classes they own or co-own.
    Teacher,
    /// The administrator: everything, including clusters, settings and roles.
    Adminer,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::User, Role::Teacher, Role::Adminer];

    /// The stored and displayed name: `"user"`, `"teacher"` or `"adminer"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Teacher => "teacher",
            Role::Adminer => "adminer",
        }
    }

    /// Parses a role name (exactly as [`Role::as_str`] writes it, ignoring ASCII case).
    ///
    /// # Errors
    /// [`InvalidValue`] for any other text, listing the three names.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::Role;
    /// assert_eq!(Role::parse("teacher")?, Role::Teacher);
    /// assert!(Role::parse("root").is_err());
    /// assert!(Role::Adminer > Role::Teacher);
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| InvalidValue::new("role", text, "one of user, teacher, adminer"))
    }
}

impl FromStr for Role {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_user_teacher_adminer() {
        assert!(Role::User < Role::Teacher);
        assert!(Role::Teacher < Role::Adminer);
    }

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn an_unknown_role_is_refused_with_the_allowed_names() {
        let e = Role::parse("admin").unwrap_err();
        assert_eq!(e.field(), "role");
        assert!(e.allowed().contains("adminer"));
    }
}
