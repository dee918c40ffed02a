//! How the background jobs reach the host's network and how their ticks spread out, given once
//! in [`LabConfig::with_jobs`](crate::LabConfig::with_jobs).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;

use super::neighbours::{NeighbourSource, ProcNetArp};
use super::probe::{PortProbe, TcpProbe};
use crate::types::InvalidValue;

/// The background jobs' view of the host: where the neighbour table comes from, how remote
/// logins are probed, and how much the ticks are jittered.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub(crate) neighbours: Arc<dyn NeighbourSource>,
    pub(crate) probe: Arc<dyn PortProbe>,
    pub(crate) jitter: f64,
}

impl Default for JobsConfig {
    /// `/proc/net/arp`, TCP probes with a one-second limit, and ticks jittered by up to a tenth of
    /// their interval.
    fn default() -> Self {
        Self {
            neighbours: Arc::new(ProcNetArp::default()),
            probe: Arc::new(TcpProbe::default()),
            jitter: 0.1,
        }
    }
}

impl JobsConfig {
    /// Read the neighbour table from `source` instead of `/proc/net/arp`.
    pub fn with_neighbours(mut self, source: impl NeighbourSource + 'static) -> Self {
        self.neighbours = Arc::new(source);
        self
    }

    /// Probe SSH and RDP with `probe` instead of TCP connects.
    pub fn with_probe(mut self, probe: impl PortProbe + 'static) -> Self {
        self.probe = Arc::new(probe);
        self
    }

    /// Delay each tick by a random share of its interval, up to `fraction` (0 to 0.5), so the
    /// jobs of many clusters (and of several pvelab processes) do not hit Proxmox in step.
    ///
    /// # Errors
    /// [`InvalidValue`] outside 0 to 0.5.
    pub fn with_jitter(mut self, fraction: f64) -> Result<Self, InvalidValue> {
        if !(0.0..=0.5).contains(&fraction) {
            return Err(InvalidValue::new(
                "job jitter",
                fraction,
                "a fraction of the interval from 0 to 0.5",
            ));
        }
        self.jitter = fraction;
        Ok(self)
    }
}

/// One subnet of a cluster's `arp_subnets`: neighbour-table entries inside it may be used as VM
/// addresses, and addresses inside it may be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subnet(IpNet);

impl Subnet {
    /// Parses CIDR notation (`10.20.0.0/16`, `fd00::/64`).
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text, for anything else.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        text.trim()
            .parse::<IpNet>()
            .map(|net| Self(net.trunc()))
            .map_err(|_| {
                InvalidValue::new(
                    "ARP subnet",
                    text,
                    "a subnet in CIDR notation, e.g. 10.20.0.0/16",
                )
            })
    }

    /// Whether `ip` lies inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl FromStr for Subnet {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnet_is_read_in_cidr_notation_and_normalised() {
        let net = Subnet::parse(" 10.20.3.4/16 ").unwrap();
        assert_eq!(net.to_string(), "10.20.0.0/16");
        assert!(net.contains("10.20.200.1".parse().unwrap()));
        assert!(!net.contains("10.21.0.1".parse().unwrap()));
        let e = Subnet::parse("10.20.0.0").unwrap_err();
        assert_eq!(e.field(), "ARP subnet");
    }

    #[test]
    fn jitter_beyond_half_the_interval_is_refused() {
        assert!(JobsConfig::default().with_jitter(0.5).is_ok());
        assert!(JobsConfig::default().with_jitter(0.6).is_err());
        assert!(JobsConfig::default().with_jitter(-0.1).is_err());
    }
}
