//! The host's neighbour table (ARP / NDP): the last way to find a VM's address, for guests
//! without an agent. The table is read through [`NeighbourSource`] so tests hand in a fake one;
//! the default reads Linux's `/proc/net/arp`.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::types::InvalidValue;

/// A MAC address in one canonical form (upper-case hex pairs separated by colons), so the
/// neighbour table, the guest config and the guest agent compare equal whatever case they use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress(String);

impl MacAddress {
    /// Parses `bc:24:11:2e:c5:4a`, `BC-24-11-2E-C5-4A` and the like.
    ///
    /// # Errors
    /// [`InvalidValue`] unless the text is six hex pairs separated by `:` or `-`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || {
            InvalidValue::new(
                "MAC address",
                text,
                "six hex pairs such as BC:24:11:2E:C5:4A",
            )
        };
        let pairs: Vec<&str> = text.trim().split([':', '-']).collect();
        if pairs.len() != 6
            || pairs
                .iter()
                .any(|p| p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(bad());
        }
        Ok(Self(pairs.join(":").to_ascii_uppercase()))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The all-zero address that incomplete neighbour entries and loopback devices show.
    pub fn is_zero(&self) -> bool {
        self.0 == "00:00:00:00:00:00"
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One resolved entry of the neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The address.
    pub ip: IpAddr,
    /// The link-layer address it resolved to.
    pub mac: MacAddress,
}

/// Where the host's neighbour table comes from. Called on a blocking thread, at most once per
/// address lookup run of a cluster.
pub trait NeighbourSource: Send + Sync + fmt::Debug {
    /// The resolved entries (incomplete ones left out).
    ///
    /// # Errors
    /// When the table cannot be read; the lookup then goes on without it.
    fn neighbours(&self) -> std::io::Result<Vec<Neighbour>>;
}

/// The kernel's IPv4 neighbour table as Linux shows it in `/proc/net/arp`.
#[derive(Debug, Clone)]
pub struct ProcNetArp {
    path: PathBuf,
}

impl Default for ProcNetArp {
    fn default() -> Self {
        Self {
            path: PathBuf::from("/proc/net/arp"),
        }
    }
}

impl ProcNetArp {
    /// A table read from another file in the same format (tests, containers).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl NeighbourSource for ProcNetArp {
    fn neighbours(&self) -> std::io::Result<Vec<Neighbour>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(parse_proc_net_arp(&text)),
            // A host without the file (not Linux, a sandbox) simply has no table to offer.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// A fixed table (tests and demos).
#[derive(Debug, Clone, Default)]
pub struct StaticNeighbours {
    entries: Vec<Neighbour>,
}

impl StaticNeighbours {
    /// A table with these entries.
    pub fn new(entries: Vec<Neighbour>) -> Self {
        Self { entries }
    }
}

impl NeighbourSource for StaticNeighbours {
    fn neighbours(&self) -> std::io::Result<Vec<Neighbour>> {
        Ok(self.entries.clone())
    }
}

/// Parses `/proc/net/arp`: a header line, then `IP  HW-type  Flags  HW-address  Mask  Device`.
/// Entries without the "complete" flag (0x2) or with an all-zero address are unresolved and
/// left out, as are lines that do not parse.
pub(crate) fn parse_proc_net_arp(text: &str) -> Vec<Neighbour> {
    const COMPLETE: u32 = 0x2;
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [ip, _hw_type, flags, mac, ..] = fields.as_slice() else {
                return None;
            };
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            let mac = MacAddress::parse(mac).ok().filter(|m| !m.is_zero())?;
            (flags & COMPLETE != 0).then_some(Neighbour {
                ip: ip.parse().ok()?,
                mac,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_entries_of_proc_net_arp_are_read_and_incomplete_ones_skipped() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device
10.0.0.7         0x1         0x2         bc:24:11:2e:c5:4a     *        vmbr0
10.0.0.8         0x1         0x0         00:00:00:00:00:00     *        vmbr0
10.0.0.9         0x1         0x6         BC:24:11:00:00:09     *        vmbr0
garbage
";
        let table = parse_proc_net_arp(text);
        assert_eq!(
            table,
            vec![
                Neighbour {
                    ip: "10.0.0.7".parse().unwrap(),
                    mac: MacAddress::parse("BC:24:11:2E:C5:4A").unwrap()
                },
                Neighbour {
                    ip: "10.0.0.9".parse().unwrap(),
                    mac: MacAddress::parse("bc:24:11:00:00:09").unwrap()
                },
            ]
        );
    }

    #[test]
    fn mac_addresses_compare_equal_whatever_their_case_and_separator() {
        assert_eq!(
            MacAddress::parse("bc-24-11-2e-c5-4a").unwrap(),
            MacAddress::parse("BC:24:11:2E:C5:4A").unwrap()
        );
        for bad in [
            "",
            "bc:24:11:2e:c5",
            "bc:24:11:2e:c5:4g",
            "bc:24:11:2e:c5:4a:00",
        ] {
            let e = MacAddress::parse(bad).unwrap_err();
            assert_eq!(e.field(), "MAC address", "{bad}");
        }
    }

    #[test]
    fn a_missing_table_file_is_an_empty_table() {
        let dir = tempfile::tempdir().unwrap();
        let source = ProcNetArp::at(dir.path().join("absent"));
        assert!(source.neighbours().unwrap().is_empty());
    }
}
