//! Network device property strings (`net0` of VMs and containers).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// NIC models QEMU offers; in `net[n]` the MAC follows the model name (`virtio=BC:24:...`).
const MODELS: &[&str] = &[
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
];

/// A parsed `net[n]` value.
///
/// Accepts both VM forms (`virtio=MAC,...` and `model=virtio,macaddr=MAC,...`) and the container
/// form (`name=eth0,bridge=vmbr0,hwaddr=MAC,ip=dhcp,type=veth`, where `type` is the model).
///
/// ```
/// use pvelab_proxmox::NetDevice;
/// let n: NetDevice = "virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1".parse()?;
/// assert_eq!(n.model(), "virtio");
/// assert_eq!(n.mac(), Some("BC:24:11:2E:C5:4A"));
/// assert_eq!(n.bridge(), Some("vmbr0"));
/// assert_eq!(n.other().get("firewall").map(String::as_str), Some("1"));
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    model: String,
    mac: Option<String>,
    bridge: Option<String>,
    other: BTreeMap<String, String>,
}

impl NetDevice {
    /// Parse a network property string.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no model can be found or a MAC is malformed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut model = None;
        let mut mac = None;
        let mut bridge = None;
        let mut other = BTreeMap::new();
        for (key, value) in super::split(text)? {
            match key {
                Some(k) if MODELS.contains(&k) => {
                    model = Some(k.to_owned());
                    if !value.is_empty() {
                        mac = Some(value.to_owned());
                    }
                }
                Some("model") | Some("type") if model.is_none() => model = Some(value.to_owned()),
                Some("macaddr") | Some("hwaddr") => mac = Some(value.to_owned()),
                Some("bridge") => bridge = Some(value.to_owned()),
                Some(k) => {
                    other.insert(k.to_owned(), value.to_owned());
                }
                // A bare model name without a MAC (`virtio,bridge=vmbr0`): PVE generates one.
                None if MODELS.contains(&value) => model = Some(value.to_owned()),
                None => {
                    return Err(Error::InvalidInput(format!(
                        "network device {text:?}: unexpected item {value:?}; expected key=value \
                         or a model name ({})",
                        MODELS.join(", ")
                    )))
                }
            }
        }
        // `model=` with nothing after it names no model either.
        let model = model.filter(|m| !m.is_empty()).ok_or_else(|| {
            Error::InvalidInput(format!(
                "network device {text:?} names no model; expected one of {} (or model=/type=)",
                MODELS.join(", ")
            ))
        })?;
        if let Some(m) = &mac {
            if !is_mac(m) {
                return Err(Error::InvalidInput(format!(
                    "network device {text:?}: {m:?} is not a MAC address (expected XX:XX:XX:XX:XX:XX)"
                )));
            }
        }
        Ok(NetDevice {
            model,
            mac,
            bridge,
            other,
        })
    }

    /// NIC model (`virtio`, `e1000`, or `veth` for containers).
    pub fn model(&self) -> &str {
        &self.model
    }
    /// MAC address as written in the config, if assigned.
    pub fn mac(&self) -> Option<&str> {
        self.mac.as_deref()
    }
    /// Bridge the NIC is plugged into.
    pub fn bridge(&self) -> Option<&str> {
        self.bridge.as_deref()
    }
    /// Every other property (`firewall`, `tag`, `rate`, `ip`, ...), verbatim.
    pub fn other(&self) -> &BTreeMap<String, String> {
        &self.other
    }
    /// Replace the bridge, e.g. to move a clone onto a class network.
    pub fn set_bridge(&mut self, bridge: impl Into<String>) {
        self.bridge = Some(bridge.into());
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

impl FromStr for NetDevice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        NetDevice::parse(s)
    }
}

impl fmt::Display for NetDevice {
    /// The VM form: `model=MAC,bridge=...,other...` (keys of `other` in sorted order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mac {
            Some(mac) => write!(f, "{}={}", self.model, mac)?,
            None => f.write_str(&self.model)?,
        }
        if let Some(b) = &self.bridge {
            write!(f, ",bridge={b}")?;
        }
        for (k, v) in &self.other {
            write!(f, ",{k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_after_the_model_name_is_read() {
        let n = NetDevice::parse("virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1").expect("ok");
        assert_eq!(n.model(), "virtio");
        assert_eq!(n.mac(), Some("BC:24:11:2E:C5:4A"));
        assert_eq!(n.bridge(), Some("vmbr0"));
        assert_eq!(n.other()["firewall"], "1");
    }

    #[test]
    fn the_explicit_model_and_macaddr_form_is_read() {
        let n = NetDevice::parse("model=e1000,macaddr=AA:BB:CC:DD:EE:FF,bridge=vmbr1,tag=20")
            .expect("ok");
        assert_eq!(n.model(), "e1000");
        assert_eq!(n.mac(), Some("AA:BB:CC:DD:EE:FF"));
        assert_eq!(n.bridge(), Some("vmbr1"));
        assert_eq!(n.other()["tag"], "20");
    }

    #[test]
    fn a_container_nic_uses_hwaddr_and_type() {
        let n =
            NetDevice::parse("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth")
                .expect("ok");
        assert_eq!(n.model(), "veth");
        assert_eq!(n.mac(), Some("BC:24:11:00:00:01"));
        assert_eq!(n.other()["ip"], "dhcp");
        assert_eq!(n.other()["name"], "eth0");
    }

    #[test]
    fn a_device_without_a_model_is_rejected_with_the_allowed_models() {
        let e = NetDevice::parse("bridge=vmbr0").expect_err("no model");
        assert!(e.to_string().contains("virtio"), "{e}");
    }

    #[test]
    fn a_malformed_mac_is_rejected_and_named() {
        let e = NetDevice::parse("virtio=BC:24:11,bridge=vmbr0").expect_err("bad mac");
        assert!(e.to_string().contains("\"BC:24:11\""), "{e}");
    }

    #[test]
    fn display_writes_a_string_pve_accepts_back() {
        let text = "virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1";
        let mut n = NetDevice::parse(text).expect("ok");
        assert_eq!(n.to_string(), text);
        n.set_bridge("vmbr9");
        assert_eq!(
            n.to_string(),
            "virtio=BC:24:11:2E:C5:4A,bridge=vmbr9,firewall=1"
        );
    }
}
