//! Disk property strings (`scsi0`, `virtio0`, `ide2`, `rootfs`, `mp0`, ...).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A parsed disk value such as `local-lvm:vm-100-disk-0,size=32G,format=raw` or
/// `local:iso/debian.iso,media=cdrom`.
///
/// The volume comes first (bare, or as `file=` / `volume=`); `size` is converted to bytes.
///
/// ```
/// use pvelab_proxmox::Disk;
/// let d: Disk = "local-lvm:vm-100-disk-0,iothread=1,size=32G".parse()?;
/// assert_eq!(d.storage(), Some("local-lvm"));
/// assert_eq!(d.volume(), "local-lvm:vm-100-disk-0");
/// assert_eq!(d.size_bytes(), Some(32 * 1024 * 1024 * 1024));
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    volume: String,
    size: Option<String>,
    size_bytes: Option<u64>,
    format: Option<String>,
    media: Option<String>,
    other: BTreeMap<String, String>,
}

impl Disk {
    /// Parse a disk property string.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the volume is missing or the size is malformed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut volume = None;
        let mut size = None;
        let mut format = None;
        let mut media = None;
        let mut other = BTreeMap::new();
        for (key, value) in super::split(text)? {
            match key {
                None | Some("file") | Some("volume") if volume.is_none() => {
                    volume = Some(value.to_owned())
                }
                None => {
                    return Err(Error::InvalidInput(format!(
                        "disk {text:?}: second bare item {value:?}; only the volume may be bare"
                    )))
                }
                Some("size") => size = Some(value.to_owned()),
                Some("format") => format = Some(value.to_owned()),
                Some("media") => media = Some(value.to_owned()),
                Some(k) => {
                    other.insert(k.to_owned(), value.to_owned());
                }
            }
        }
        // `file=` with nothing after it names no volume either.
        let volume = volume.filter(|v| !v.is_empty()).ok_or_else(|| {
            Error::InvalidInput(format!(
                "disk {text:?} names no volume; expected STORAGE:VOLUME first"
            ))
        })?;
        let size_bytes = match &size {
            Some(s) => Some(parse_size(s).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "disk {text:?}: size {s:?} is not a size (expected a number with K, M, G or T)"
                ))
            })?),
            None => None,
        };
        Ok(Disk {
            volume,
            size,
            size_bytes,
            format,
            media,
            other,
        })
    }

    /// Storage id (`local-lvm`), or `None` for `none` (an empty CD drive) or a raw path.
    pub fn storage(&self) -> Option<&str> {
        let (storage, _) = self.volume.split_once(':')?;
        (!storage.starts_with('/')).then_some(storage)
    }
    /// The whole volume id as written (`local-lvm:vm-100-disk-0`, `none`, `/dev/sdb`).
    pub fn volume(&self) -> &str {
        &self.volume
    }
    /// The size as written (`32G`).
    pub fn size(&self) -> Option<&str> {
        self.size.as_deref()
    }
    /// The size in bytes.
    pub fn size_bytes(&self) -> Option<u64> {
        self.size_bytes
    }
    /// Image format (`raw`, `qcow2`, `vmdk`), when given.
    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }
    /// Media (`cdrom` for ISO drives; absent for disks).
    pub fn media(&self) -> Option<&str> {
        self.media.as_deref()
    }
    /// Whether this is a CD/DVD drive rather than a disk.
    pub fn is_cdrom(&self) -> bool {
        self.media.as_deref() == Some("cdrom")
    }
    /// Every other property (`iothread`, `cache`, `discard`, `mp`, ...), verbatim.
    pub fn other(&self) -> &BTreeMap<String, String> {
        &self.other
    }
}

/// `32G` -> bytes; a bare number is bytes (PVE's disk-size format).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1u64 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        'T' | 't' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some((n * mult as f64).round() as u64)
}

impl FromStr for Disk {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Disk::parse(s)
    }
}

impl fmt::Display for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.volume)?;
        if let Some(m) = &self.media {
            write!(f, ",media={m}")?;
        }
        if let Some(fm) = &self.format {
            write!(f, ",format={fm}")?;
        }
        for (k, v) in &self.other {
            write!(f, ",{k}={v}")?;
        }
        if let Some(s) = &self.size {
            write!(f, ",size={s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thin_volume_yields_storage_volume_size_and_format() {
        let d = Disk::parse("local-lvm:vm-100-disk-0,format=raw,size=32G").expect("ok");
        assert_eq!(d.storage(), Some("local-lvm"));
        assert_eq!(d.volume(), "local-lvm:vm-100-disk-0");
        assert_eq!(d.size(), Some("32G"));
        assert_eq!(d.size_bytes(), Some(34_359_738_368));
        assert_eq!(d.format(), Some("raw"));
    }

    #[test]
    fn a_linked_clone_volume_keeps_its_base_image() {
        let d = Disk::parse("local-lvm:base-9000-disk-0/vm-101-disk-0,size=8G").expect("ok");
        assert_eq!(d.storage(), Some("local-lvm"));
        assert_eq!(d.volume(), "local-lvm:base-9000-disk-0/vm-101-disk-0");
    }

    #[test]
    fn an_iso_drive_is_a_cdrom() {
        let d = Disk::parse("local:iso/debian-12.iso,media=cdrom,size=628M").expect("ok");
        assert!(d.is_cdrom());
        assert_eq!(d.size_bytes(), Some(628 * 1024 * 1024));
        let empty = Disk::parse("none,media=cdrom").expect("ok");
        assert_eq!(empty.storage(), None);
    }

    #[test]
    fn the_file_key_form_is_accepted() {
        let d = Disk::parse("file=ceph:vm-5-disk-1,cache=writeback").expect("ok");
        assert_eq!(d.storage(), Some("ceph"));
        assert_eq!(d.other()["cache"], "writeback");
    }

    #[test]
    fn a_container_rootfs_is_read() {
        let d = Disk::parse("local-lvm:vm-200-disk-0,size=8G").expect("ok");
        assert_eq!(d.size_bytes(), Some(8 << 30));
    }

    #[test]
    fn a_bad_size_is_rejected_and_named() {
        let e = Disk::parse("local:vm-1-disk-0,size=big").expect_err("bad size");
        assert!(e.to_string().contains("\"big\""), "{e}");
    }

    #[test]
    fn fractional_sizes_are_converted() {
        assert_eq!(parse_size("1.5G"), Some(1_610_612_736));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("-1G"), None);
    }
}
