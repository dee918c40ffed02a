//! The name of a Proxmox VE snapshot.

use jiff::Timestamp;

use super::checked_string::checked_string;
use super::InvalidValue;

/// A snapshot name as PVE accepts it (its `pve-configid` format for `snapname`): a letter, then
/// ASCII letters, digits, `-` and `_`, at most 40 characters. `current` is refused: PVE uses it
/// for the live state in snapshot lists.
///
/// # Examples
/// ```
/// use pvelab_core::types::SnapshotName;
/// let at: jiff::Timestamp = "2026-01-31T08:15:30.25Z".parse().unwrap();
/// assert_eq!(SnapshotName::submission(at).as_str(), "submit-20260131T081530Z");
/// assert!(SnapshotName::parse("9lives").is_err());
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotName(String);

impl SnapshotName {
    /// The longest name PVE accepts.
    pub const MAX_CHARS: usize = 40;

    /// Checks a snapshot name.
    ///
    /// # Errors
    /// [`InvalidValue`] for a name PVE would refuse, or `current`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "a letter, then ASCII letters, digits, - and _ (at most 40 \
                               characters; not \"current\")";
        let ok = text.len() <= Self::MAX_CHARS
            && text.starts_with(|c: char| c.is_ascii_alphabetic())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && text != "current";
        if !ok {
            return Err(InvalidValue::new("snapshot name", text, ALLOWED));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name of a submission taken at `at`: `submit-` and the UTC time to the second
    /// (`submit-20260131T081530Z`), so names sort in time order.
    pub fn submission(at: Timestamp) -> Self {
        Self(format!("submit-{}", at.strftime("%Y%m%dT%H%M%SZ")))
    }

    /// The same name with `-n` appended, for a second snapshot within the same second
    /// (`submit-20260131T081530Z-2`). Submission names stay far below the length limit.
    pub(crate) fn numbered(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }
}
checked_string!(SnapshotName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pves_rule() {
        for good in ["baseline", "submit-20260131T081530Z", "a", "A_b-9"] {
            assert!(SnapshotName::parse(good).is_ok(), "{good}");
        }
        assert!(SnapshotName::parse(&"a".repeat(40)).is_ok());
        for bad in [
            "",
            "-a",
            "1a",
            "a b",
            "a.b",
            "current",
            "ä",
            &"a".repeat(41),
        ] {
            let e = SnapshotName::parse(bad).unwrap_err();
            assert_eq!(e.field(), "snapshot name", "{bad:?}");
        }
    }

    #[test]
    fn submission_names_are_valid_and_numbered_ones_too() {
        let at: Timestamp = "2026-12-31T23:59:59.999Z".parse().unwrap();
        let name = SnapshotName::submission(at);
        assert_eq!(name.as_str(), "submit-20261231T235959Z");
        assert!(SnapshotName::parse(name.as_str()).is_ok());
        let second = name.numbered(12);
        assert_eq!(second.as_str(), "submit-20261231T235959Z-12");
        assert!(SnapshotName::parse(second.as_str()).is_ok());
    }
}
