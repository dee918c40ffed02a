//! The marker: how pvelab recognises a VM it created, and for which class and slot.
//!
//! Every VM pvelab creates carries the PVE tag `pvelab` and one line in its description:
//!
//! ```text
//! pvelab: class=7 slot=03 cluster=pve-main
//! ```
//!
//! The clone call itself carries the description, so a VM has its marker from its first moment
//! (tags need a config call right after). pvelab never changes or deletes a VM whose config
//! lacks the marker for that class and slot: a VM someone else made at one of our VMIDs is left
//! alone, whatever its VMID. This file is the ONE printer and parser of that line.

use std::fmt;

use crate::types::{ClassId, ClusterId, Slot};

/// The tag every VM pvelab creates carries (PVE tags: lowercase letters, digits, `-`, `_`).
pub(crate) const TAG: &str = "pvelab";

/// What starts the marker line in a description.
const PREFIX: &str = "pvelab:";

/// The marker of one pool VM: its class, its slot in the class's VMID plan and its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub(crate) class: ClassId,
    pub(crate) slot: Slot,
    pub(crate) cluster: ClusterId,
}

impl Marker {
    /// The marker for `slot` of `class` on `cluster`.
    pub(crate) fn new(class: ClassId, slot: Slot, cluster: ClusterId) -> Self {
        Self {
            class,
            slot,
            cluster,
        }
    }

    /// The line as written into a description.
    pub(crate) fn line(&self) -> String {
        self.to_string()
    }

    /// The description of a VM pvelab creates: the marker line, then a sentence for people who
    /// look at the VM in the Proxmox web interface.
    pub(crate) fn description(&self) -> String {
        format!(
            "{}\nManaged by pvelab: changing or removing the line above makes pvelab leave this \
             VM alone.",
            self.line()
        )
    }

    /// `existing` with this marker as its first line: an earlier marker line is replaced, every
    /// other line is kept (used when an existing VM is adopted by an import).
    pub(crate) fn merged_into(&self, existing: Option<&str>) -> String {
        let rest: Vec<&str> = existing
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with(PREFIX))
            .collect();
        if rest.iter().all(|l| l.trim().is_empty()) {
            return self.line();
        }
        format!("{}\n{}", self.line(), rest.join("\n"))
    }

    /// The first marker line of a description, if it has one that parses. A line that starts
    /// like a marker but does not parse is no marker: such a VM is not ours.
    pub(crate) fn find(description: &str) -> Option<Marker> {
        description
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(PREFIX))
            .and_then(Self::parse_line)
    }

    /// Parses one marker line (`pvelab: class=7 slot=03 cluster=pve1`); keys may come in any
    /// order and unknown keys are ignored, so a later pvelab can add keys.
    pub(crate) fn parse_line(line: &str) -> Option<Marker> {
        let body = line.trim().strip_prefix(PREFIX)?;
        let (mut class, mut slot, mut cluster) = (None, None, None);
        for part in body.split_whitespace() {
            let (key, value) = part.split_once('=')?;
            match key {
                "class" => class = value.parse::<i64>().ok().filter(|id| *id > 0),
                "slot" => slot = parse_slot(value),
                "cluster" => cluster = ClusterId::parse(value).ok(),
                _ => {}
            }
        }
        Some(Marker {
            class: ClassId::new(class?),
            slot: slot?,
            cluster: cluster?,
        })
    }

    /// Whether this marker names exactly `slot` of `class` on `cluster`.
    pub(crate) fn is_for(&self, class: ClassId, slot: Slot, cluster: &ClusterId) -> bool {
        self.class == class && self.slot == slot && &self.cluster == cluster
    }
}

fn parse_slot(text: &str) -> Option<Slot> {
    match text {
        "teacher" => Some(Slot::Teacher),
        "base" => Some(Slot::Base),
        digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u16 = digits.parse().ok()?;
            (1..=998).contains(&n).then_some(Slot::Student(n))
        }
        _ => None,
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX} class={} slot=", self.class)?;
        match self.slot {
            Slot::Teacher => f.write_str("teacher")?,
            Slot::Base => f.write_str("base")?,
            Slot::Student(n) => write!(f, "{n:02}")?,
        }
        write!(f, " cluster={}", self.cluster)
    }
}

/// Whether a PVE tag list (`a;b;c`, also `,` or space separated) holds the pvelab tag.
pub(crate) fn has_tag(tags: &str) -> bool {
    tags.split([';', ',', ' ']).any(|t| t.trim() == TAG)
}

/// The tag list with the pvelab tag added (kept as it is when already there).
pub(crate) fn with_tag(tags: Option<&str>) -> String {
    let mut list: Vec<&str> = tags
        .unwrap_or_default()
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if !list.contains(&TAG) {
        list.push(TAG);
    }
    list.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ClusterId {
        ClusterId::parse("pve-main").unwrap()
    }

    #[test]
    fn a_marker_prints_as_one_line_naming_class_slot_and_cluster() {
        let m = Marker::new(ClassId::new(7), Slot::Student(3), cluster());
        assert_eq!(m.line(), "pvelab: class=7 slot=03 cluster=pve-main");
        let t = Marker::new(ClassId::new(7), Slot::Teacher, cluster());
        assert_eq!(t.line(), "pvelab: class=7 slot=teacher cluster=pve-main");
        let b = Marker::new(ClassId::new(7), Slot::Base, cluster());
        assert_eq!(b.line(), "pvelab: class=7 slot=base cluster=pve-main");
    }

    #[test]
    fn every_slot_round_trips_through_a_description() {
        for slot in [
            Slot::Teacher,
            Slot::Base,
            Slot::Student(1),
            Slot::Student(98),
            Slot::Student(998),
        ] {
            let m = Marker::new(ClassId::new(12), slot, cluster());
            assert_eq!(Marker::find(&m.description()), Some(m.clone()), "{slot:?}");
        }
    }

    #[test]
    fn keys_may_come_in_any_order_and_unknown_keys_are_ignored() {
        let m = Marker::parse_line("pvelab: cluster=pve-main future=1 slot=5 class=3").unwrap();
        assert_eq!(m, Marker::new(ClassId::new(3), Slot::Student(5), cluster()));
    }

    #[test]
    fn a_description_without_a_valid_marker_line_has_no_marker() {
        for text in [
            "",
            "Debian 13 lab VM",
            "pvelab: class=7 slot=03",
            "pvelab: class=x slot=03 cluster=a",
            "pvelab: class=7 slot=999 cluster=a",
            "pvelab: class=7 slot=0 cluster=a",
            "pvelab: class=7 slot=03 cluster=-bad",
            "pvelab: class=7 slot cluster=a",
            "made by pvelab: class=7 slot=03 cluster=a",
        ] {
            assert_eq!(Marker::find(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_marker_is_for_exactly_one_class_slot_and_cluster() {
        let m = Marker::new(ClassId::new(7), Slot::Student(3), cluster());
        assert!(m.is_for(ClassId::new(7), Slot::Student(3), &cluster()));
        assert!(!m.is_for(ClassId::new(8), Slot::Student(3), &cluster()));
        assert!(!m.is_for(ClassId::new(7), Slot::Student(4), &cluster()));
        assert!(!m.is_for(
            ClassId::new(7),
            Slot::Student(3),
            &ClusterId::parse("other").unwrap()
        ));
    }

    #[test]
    fn adopting_a_vm_keeps_its_description_below_the_marker() {
        let m = Marker::new(ClassId::new(2), Slot::Base, cluster());
        let text = m.merged_into(Some("Base image\npvelab: class=1 slot=base cluster=x"));
        assert_eq!(
            text,
            "pvelab: class=2 slot=base cluster=pve-main\nBase image"
        );
        assert_eq!(m.merged_into(None), m.line());
        assert_eq!(Marker::find(&text), Some(m));
    }

    #[test]
    fn the_tag_is_found_in_any_separator_style_and_added_once() {
        assert!(has_tag("lab;pvelab"));
        assert!(has_tag("pvelab"));
        assert!(has_tag("a, pvelab"));
        assert!(!has_tag("pvelab2;x"));
        assert_eq!(with_tag(None), "pvelab");
        assert_eq!(with_tag(Some("lab;exam")), "lab;exam;pvelab");
        assert_eq!(with_tag(Some("pvelab;lab")), "pvelab;lab");
    }
}
