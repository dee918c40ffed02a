//! PVE property strings (`virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1`) parsed into types.
//!
//! Only the properties the product needs are typed; every other key is kept in an `other` map so
//! that nothing is lost when a value is written back.

mod disk;
mod net;

pub use disk::Disk;
pub use net::NetDevice;

use crate::error::{Error, Result};

/// Split a property string into `(key, value)` pairs; a bare item has key `None`.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty string or an empty item (`a=1,,b=2`).
pub(crate) fn split(text: &str) -> Result<Vec<(Option<&str>, &str)>> {
    if text.trim().is_empty() {
        return Err(Error::InvalidInput("empty property string".into()));
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "property string {text:?} has an empty item"
                )));
            }
            Ok(match item.split_once('=') {
                Some((k, v)) => (Some(k.trim()), v.trim()),
                None => (None, item),
            })
        })
        .collect()
}
