//! The `Upid` newtype: a parsed PVE task id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A unique process id of a PVE task:
/// `UPID:<node>:<pid hex>:<pstart hex>:<starttime hex>:<type>:<id>:<user>:`.
///
/// Only a well-formed UPID can be built, so the node to poll (the one named inside, which is
/// not necessarily the node the request went to) is always known. The original text is kept
/// verbatim because the server looks tasks up by it.
///
/// ```
/// use pvelab_proxmox::Upid;
/// let upid: Upid = "UPID:pve1:00001234:0000ABCD:65F0A1B2:qmclone:100:root@pam:".parse()?;
/// assert_eq!(upid.node(), "pve1");
/// assert_eq!(upid.task_type(), "qmclone");
/// assert_eq!(upid.id(), "100");
/// assert_eq!(upid.start_time(), 0x65F0A1B2);
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Upid {
    raw: String,
    node: String,
    pid: u32,
    pstart: u64,
    start_time: i64,
    task_type: String,
    id: String,
    user: String,
}

impl Upid {
    /// Parse a UPID.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the text and the expected shape.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::InvalidInput(format!(
                "{text:?} is not a UPID ({why}); expected \
                 UPID:<node>:<pid hex>:<pstart hex>:<starttime hex>:<type>:<id>:<user>:"
            ))
        };
        let body = text
            .strip_prefix("UPID:")
            .ok_or_else(|| bad("it must start with \"UPID:\""))?;
        let body = body
            .strip_suffix(':')
            .ok_or_else(|| bad("it must end with a colon"))?;
        let parts: Vec<&str> = body.split(':').collect();
        let [node, pid, pstart, start, task_type, id, user] = parts[..] else {
            return Err(bad("it must have 7 colon-separated fields after \"UPID:\""));
        };
        if node.is_empty() {
            return Err(bad("the node is empty"));
        }
        if task_type.is_empty() {
            return Err(bad("the task type is empty"));
        }
        if user.is_empty() {
            return Err(bad("the user is empty"));
        }
        let hex = |field: &str, v: &str| {
            u64::from_str_radix(v, 16).map_err(|_| bad(&format!("{field} {v:?} is not hex")))
        };
        let pid = u32::try_from(hex("pid", pid)?).map_err(|_| bad("pid is too large"))?;
        let pstart = hex("pstart", pstart)?;
        let start_time =
            i64::try_from(hex("start time", start)?).map_err(|_| bad("start time is too large"))?;
        Ok(Upid {
            raw: text.to_owned(),
            node: node.to_owned(),
            pid,
            pstart,
            start_time,
            task_type: task_type.to_owned(),
            id: id.to_owned(),
            user: user.to_owned(),
        })
    }

    /// The node that runs the task; its status must be polled there.
    pub fn node(&self) -> &str {
        &self.node
    }
    /// Process id of the worker on that node.
    pub fn pid(&self) -> u32 {
        self.pid
    }
    /// Process start time (in clock ticks since boot); with `pid` it makes the id unique.
    pub fn pstart(&self) -> u64 {
        self.pstart
    }
    /// Unix time when the task started.
    pub fn start_time(&self) -> i64 {
        self.start_time
    }
    /// Task type, e.g. `qmclone`, `qmstart`, `vzcreate`.
    pub fn task_type(&self) -> &str {
        &self.task_type
    }
    /// Object the task works on, e.g. the (source) VMID; may be empty.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// User (or token) that started the task, e.g. `root@pam`.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The UPID exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl FromStr for Upid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Upid::parse(s)
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Upid({})", self.raw)
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Upid::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLONE: &str = "UPID:pve2:000A1B2C:01F2E3D4:6650C0DE:qmclone:9000:teacher@pve!pvelab:";

    #[test]
    fn a_clone_upid_yields_all_its_fields() {
        let u = Upid::parse(CLONE).expect("valid");
        assert_eq!(u.node(), "pve2");
        assert_eq!(u.pid(), 0x000A_1B2C);
        assert_eq!(u.pstart(), 0x01F2_E3D4);
        assert_eq!(u.start_time(), 0x6650_C0DE);
        assert_eq!(u.task_type(), "qmclone");
        assert_eq!(u.id(), "9000");
        assert_eq!(u.user(), "teacher@pve!pvelab");
        assert_eq!(u.to_string(), CLONE);
    }

    #[test]
    fn a_task_without_an_object_id_is_valid() {
        let u = Upid::parse("UPID:pve1:00000001:00000002:00000003:aptupdate::root@pam:")
            .expect("valid");
        assert_eq!(u.id(), "");
    }

    #[test]
    fn a_upid_without_the_trailing_colon_is_rejected() {
        let e = Upid::parse(CLONE.trim_end_matches(':')).expect_err("invalid");
        assert!(e.to_string().contains("end with a colon"), "{e}");
    }

    #[test]
    fn a_non_hex_pid_is_rejected_and_named() {
        let e = Upid::parse("UPID:pve1:zz:00000002:00000003:qmstart:100:root@pam:")
            .expect_err("invalid");
        assert!(e.to_string().contains("pid \"zz\""), "{e}");
    }

    #[test]
    fn text_that_is_not_a_upid_is_rejected() {
        assert!(Upid::parse("OK").is_err());
        assert!(Upid::parse("UPID:pve1:1:2:3:qmstart:100:").is_err());
    }

    #[test]
    fn a_upid_round_trips_through_json() {
        let u: Upid = serde_json::from_str(&format!("\"{CLONE}\"")).expect("valid");
        assert_eq!(
            serde_json::to_string(&u).expect("serializes"),
            format!("\"{CLONE}\"")
        );
    }
}
