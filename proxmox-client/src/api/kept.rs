//! Keeping only what a caller needs of a large list while it is decoded.
//!
//! # Why
//! `cluster/resources` of a cluster of 10,000 guests is a reply of about 3 MB. Decoded whole,
//! it becomes a `Vec<ClusterResource>` of several MB (the vector doubles as it grows), and a
//! caller that turns each entry into its own smaller record holds both at its peak. Decoding
//! each entry and handing it over at once keeps one [`ClusterResource`] alive at a time.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use crate::models::ClusterResource;

/// What a caller makes of one `cluster/resources` entry: `None` drops the entry.
pub trait FromResource: Sized {
    /// The caller's record of `resource`, or `None` to skip it.
    fn from_resource(resource: ClusterResource) -> Option<Self>;
}

/// The records of a list of resources, built as the list is decoded.
pub(crate) struct Kept<T>(pub(crate) Vec<T>);

impl<'de, T: FromResource> Deserialize<'de> for Kept<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(KeptVisitor(PhantomData))
    }
}

struct KeptVisitor<T>(PhantomData<T>);

impl<'de, T: FromResource> Visitor<'de> for KeptVisitor<T> {
    type Value = Kept<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of cluster resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept<T>, A::Error> {
        let mut kept = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(resource) = seq.next_element::<ClusterResource>()? {
            kept.extend(T::from_resource(resource));
        }
        Ok(Kept(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The VMIDs of guests, skipping nodes.
    struct Vmid(u32);

    impl FromResource for Vmid {
        fn from_resource(resource: ClusterResource) -> Option<Self> {
            resource.vmid.map(Vmid)
        }
    }

    #[test]
    fn each_entry_is_turned_into_a_record_or_skipped() {
        let body = br#"[{"id":"qemu/100","type":"qemu","vmid":100},
            {"id":"node/a","type":"node"},{"id":"lxc/7","type":"lxc","vmid":"7"}]"#;
        let Kept(ids) = serde_json::from_slice::<Kept<Vmid>>(body).expect("valid");
        assert_eq!(ids.iter().map(|v| v.0).collect::<Vec<_>>(), [100, 7]);
    }

    #[test]
    fn a_bad_entry_names_its_path() {
        let body = br#"{"data":[{"id":"qemu/100","type":"qemu","vmid":100},{"vmid":"abc"}]}"#;
        match crate::envelope::decode::<Kept<Vmid>>("u", body) {
            Err(crate::Error::Decode { path, .. }) => assert_eq!(path, "data[1].vmid"),
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("a VMID of \"abc\" was accepted"),
        }
    }
}
