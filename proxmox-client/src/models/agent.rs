use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One interface from the guest agent (`GET .../agent/network-get-interfaces`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AgentInterface {
    /// Interface name inside the guest (`lo`, `eth0`, `ens18`).
    pub name: String,
    /// MAC address (absent for some virtual interfaces).
    #[serde(rename = "hardware-address")]
    pub hardware_address: Option<String>,
    /// Its addresses.
    #[serde(rename = "ip-addresses")]
    pub ip_addresses: Vec<AgentIpAddress>,
}

/// One address of an [`AgentInterface`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AgentIpAddress {
    /// The address text.
    #[serde(rename = "ip-address")]
    pub ip_address: String,
    /// `ipv4` or `ipv6`.
    #[serde(rename = "ip-address-type")]
    pub ip_address_type: String,
    /// Prefix length.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub prefix: Option<u64>,
}

impl AgentIpAddress {
    /// The parsed address, if it is one.
    pub fn addr(&self) -> Option<IpAddr> {
        self.ip_address.parse().ok()
    }
}

impl AgentInterface {
    /// Addresses a student could connect to: not loopback, not link-local IPv6.
    pub fn reachable_addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ip_addresses
            .iter()
            .filter_map(AgentIpAddress::addr)
            .filter(|ip| match ip {
                IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
                IpAddr::V6(v6) => !v6.is_loopback() && (v6.segments()[0] & 0xffc0) != 0xfe80,
            })
    }
}

/// One interface of a container (`GET .../lxc/{vmid}/interfaces`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LxcInterface {
    /// Interface name (`lo`, `eth0`).
    pub name: String,
    /// MAC address.
    pub hwaddr: Option<String>,
    /// IPv4 address with prefix (`10.0.0.5/24`).
    pub inet: Option<String>,
    /// IPv6 address with prefix.
    pub inet6: Option<String>,
}

impl LxcInterface {
    /// The IPv4 address without its prefix.
    pub fn ipv4(&self) -> Option<IpAddr> {
        let text = self.inet.as_deref()?;
        text.split('/').next()?.parse().ok()
    }
}

/// The agent wraps its answer in `{"result": ...}`.
#[derive(Deserialize)]
pub(crate) struct AgentResult<T> {
    pub(crate) result: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_link_local_addresses_are_not_reachable() {
        let iface: AgentInterface = serde_json::from_str(
            r#"{"name":"eth0","hardware-address":"bc:24:11:00:00:01","ip-addresses":[
                {"ip-address":"10.1.2.3","ip-address-type":"ipv4","prefix":24},
                {"ip-address":"fe80::1","ip-address-type":"ipv6","prefix":64},
                {"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8}]}"#,
        )
        .expect("valid");
        let addrs: Vec<IpAddr> = iface.reachable_addrs().collect();
        assert_eq!(addrs, vec!["10.1.2.3".parse::<IpAddr>().expect("ip")]);
    }

    #[test]
    fn an_interface_without_addresses_decodes() {
        let iface: AgentInterface = serde_json::from_str(r#"{"name":"lo"}"#).expect("valid");
        assert!(iface.ip_addresses.is_empty());
    }
}
