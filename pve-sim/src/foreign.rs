//! Guests created behind the product's back through the control API: a colleague's VM at a
//! VMID the product wanted, a leftover container, a template someone else made.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Guest, Kind, World};
use crate::populate::{guest, lxc_config, qemu_config, QemuSpec};

/// VM or container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestKind {
    /// A QEMU VM.
    #[default]
    Qemu,
    /// An LXC container.
    Lxc,
}

/// A guest to create at once, at any free VMID, as if someone used the web UI.
///
/// JSON for `POST /_sim/guests`: `{"vmid": 250, "node": "pve2", "kind": "qemu", "name":
/// "someone-elses", "running": true, "tags": "other", "description": "...", "template":
/// false}` (only `vmid` is required; the node defaults to `pve1`).
///
/// ```
/// use pvelab_pve_sim::ForeignGuest;
/// let g = ForeignGuest::qemu(250).node("pve2").name("not-ours").running(true);
/// assert_eq!(g.vmid, 250);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignGuest {
    /// Its VMID (100..=999999999, free).
    pub vmid: u32,
    /// The node it lives on.
    #[serde(default = "first_node")]
    pub node: String,
    /// VM or container.
    #[serde(default)]
    pub kind: GuestKind,
    /// Name (hostname for a container); `foreign-<vmid>` when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it runs (its agent answers after `agent_delay_secs`, as after any start).
    #[serde(default)]
    pub running: bool,
    /// Its `tags` value.
    #[serde(default)]
    pub tags: Option<String>,
    /// Its `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it is a template (then it cannot run).
    #[serde(default)]
    pub template: bool,
}

fn first_node() -> String {
    "pve1".to_owned()
}

impl ForeignGuest {
    fn new(vmid: u32, kind: GuestKind) -> Self {
        ForeignGuest {
            vmid,
            node: first_node(),
            kind,
            name: None,
            running: false,
            tags: None,
            description: None,
            template: false,
        }
    }
    /// A stopped VM on `pve1`.
    pub fn qemu(vmid: u32) -> Self {
        Self::new(vmid, GuestKind::Qemu)
    }
    /// A stopped container on `pve1`.
    pub fn lxc(vmid: u32) -> Self {
        Self::new(vmid, GuestKind::Lxc)
    }
    /// Put it on `node`.
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.node = node.into();
        self
    }
    /// Name it.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Running or not.
    pub fn running(mut self, running: bool) -> Self {
        self.running = running;
        self
    }
    /// Give it tags.
    pub fn tags(mut self, tags: impl Into<String>) -> Self {
        self.tags = Some(tags.into());
        self
    }
    /// Give it a description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    /// Make it a template.
    pub fn template(mut self, template: bool) -> Self {
        self.template = template;
        self
    }

    /// Build the guest into `w` at simulated time `now`.
    pub(crate) fn create(
        &self,
        w: &mut World,
        rng: &mut rand::rngs::StdRng,
        now: f64,
    ) -> Result<()> {
        let vmid = self.vmid;
        if !(100..=999_999_999).contains(&vmid) {
            return Err(Error::InvalidValue {
                what: "vmid",
                value: vmid.to_string(),
                allowed: "100 to 999999999",
            });
        }
        if w.guests.contains_key(&vmid) {
            return Err(Error::GuestExists { vmid });
        }
        if w.node(&self.node).is_none() {
            return Err(Error::NoSuchNode {
                node: self.node.clone(),
            });
        }
        if self.template && self.running {
            return Err(Error::InvalidValue {
                what: "running",
                value: "true".into(),
                allowed: "false for a template",
            });
        }
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("foreign-{vmid}"));
        let created = now.floor() as i64;
        let (kind, mut config) = match self.kind {
            GuestKind::Qemu => {
                let prefix = if self.template { "base" } else { "vm" };
                let spec = QemuSpec {
                    name: &name,
                    memory_mib: 2048,
                    cores: 2,
                    disk: format!("local-lvm:{prefix}-{vmid}-disk-0,iothread=1,size=32G"),
                    ostype: "l26",
                    agent: true,
                    template: self.template,
                    tags: None,
                };
                (Kind::Qemu, qemu_config(&spec, rng, created))
            }
            GuestKind::Lxc => {
                let mut c = lxc_config(vmid, &name, rng);
                if self.template {
                    c.insert("template".into(), 1.into());
                }
                (Kind::Lxc, c)
            }
        };
        if let Some(t) = &self.tags {
            let tags = crate::tags::unique_tags(t).map_err(|_| Error::InvalidValue {
                what: "tags",
                value: t.clone(),
                allowed: "tags of letters, digits, _ - + . separated by ; , or spaces",
            })?;
            if !tags.is_empty() {
                config.insert("tags".into(), tags.into());
            }
        }
        if let Some(d) = &self.description {
            config.insert("description".into(), d.clone().into());
        }
        let mut g: Guest = guest(kind, vmid, &self.node, config, created);
        if self.running {
            g.set_running(true, now);
        }
        w.guests.insert(vmid, g);
        Ok(())
    }
}
