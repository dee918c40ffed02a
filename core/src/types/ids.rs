//! Identifiers: database row ids of users, classes and templates, and Proxmox VMIDs.

use std::fmt;

use super::bounded::bounded_int;
use super::InvalidValue;

/// Declares an id newtype over a database row id. Row ids are made by the database, never typed
/// by people, so construction is infallible; the type only keeps a user id from being passed
/// where a class id is expected.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // Serialized as the bare number (stored events carry ids).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a row id read from the database.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The row id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

row_id! {
    /// The core's own id of a person (front ends map their external ids to it).
    UserId
}

row_id! {
    /// The id of a class.
    ClassId
}

row_id! {
    /// The id of a template (a `templates` row: a cluster's base image or a class's own
    /// published version).
    TemplateId
}

bounded_int! {
    /// A Proxmox VE VMID: 100 to 999,999,999 (PVE reserves 0-99 and allows nine digits).
    ///
    /// The range is defined once, by the Proxmox client ([`pvelab_proxmox::MIN_VMID`] and
    /// [`pvelab_proxmox::MAX_VMID`]); [`VmId::MIN`] and [`VmId::MAX`] are those constants, the
    /// VMID plans derive their prefixes from them, and a test checks that the schema's CHECKs
    /// agree.
    VmId(u32), field = "VMID", min = pvelab_proxmox::MIN_VMID, max = pvelab_proxmox::MAX_VMID,
    allowed = "a whole number from 100 to 999999999"
}

impl VmId {
    /// Builds a VMID from a number already known to be in range; used by the VMID plans, whose
    /// arithmetic keeps every id inside PVE's range.
    pub(crate) fn from_in_range(value: u32) -> Result<Self, InvalidValue> {
        Self::new(i64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vmid_below_100_is_reserved_by_proxmox() {
        assert!(VmId::new(99).is_err());
        assert_eq!(VmId::new(100).map(VmId::get), Ok(100));
    }

    #[test]
    fn a_vmid_has_at_most_nine_digits() {
        assert!(VmId::new(999_999_999).is_ok());
        assert!(VmId::new(1_000_000_000).is_err());
    }

    #[test]
    fn the_vmid_range_is_the_proxmox_clients_and_its_message_says_so() {
        assert_eq!(
            (VmId::MIN, VmId::MAX),
            (pvelab_proxmox::MIN_VMID, pvelab_proxmox::MAX_VMID)
        );
        let e = VmId::new(i64::from(VmId::MAX) + 1).unwrap_err();
        assert!(e.allowed().contains(&VmId::MIN.to_string()), "{e}");
        assert!(e.allowed().contains(&VmId::MAX.to_string()), "{e}");
    }

    #[test]
    fn row_ids_keep_their_value() {
        assert_eq!(UserId::new(7).get(), 7);
        assert_eq!(ClassId::new(9).to_string(), "9");
        assert_eq!(TemplateId::new(3).get(), 3);
    }
}
