//! The VMID plan of a class: which Proxmox VMIDs its teacher, base and student VMs get.
//!
//! The established convention is one block of 100 VMIDs per class (`prefix*100`: slot 00 the
//! teacher VM, 99 the class base VM, 01-98 students). A pool above 98 students gets the wide plan
//! chosen at creation: ten consecutive blocks (`prefix*1000`: 000 teacher, 999 base, 001-998
//! students). Both plans are described in blocks of 100 so that storage can reserve them with one
//! unique row per block, which makes overlapping plans impossible whatever their kinds.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use super::{InvalidValue, PoolSize, VmId};

/// Which of the two VMID plans a class uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemeKind {
    /// One block of 100 VMIDs: up to 98 student VMs.
    Classic,
    /// Ten blocks (1000 VMIDs): up to 998 student VMs.
    Wide,
}

impl SchemeKind {
    /// The plan a new class with this pool size gets: classic up to 98 students, wide above.
    pub fn for_pool(pool: PoolSize) -> Self {
        if pool.get() <= SchemeKind::Classic.student_slots() {
            SchemeKind::Classic
        } else {
            SchemeKind::Wide
        }
    }

    /// How many student VMs the plan has room for: 98 or 998.
    pub fn student_slots(self) -> u16 {
        match self {
            SchemeKind::Classic => 98,
            SchemeKind::Wide => 998,
        }
    }

    /// VMIDs per prefix: 100 or 1000.
    fn width(self) -> u32 {
        match self {
            SchemeKind::Classic => 100,
            SchemeKind::Wide => 1000,
        }
    }

    /// The valid prefixes: from the first whose range starts at or above PVE's smallest VMID
    /// ([`VmId::MIN`]: prefix 1 for both plans) up to the last whose whole range stays within
    /// its largest ([`VmId::MAX`]).
    pub fn prefixes(self) -> RangeInclusive<u32> {
        VmId::MIN.div_ceil(self.width())..=(VmId::MAX - (self.width() - 1)) / self.width()
    }

    /// The stored name: `"classic"` or `"wide"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemeKind::Classic => "classic",
            SchemeKind::Wide => "wide",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// [`InvalidValue`] for anything but `classic` or `wide`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text {
            "classic" => Ok(SchemeKind::Classic),
            "wide" => Ok(SchemeKind::Wide),
            _ => Err(InvalidValue::new("VMID scheme", text, "classic or wide")),
        }
    }
}

impl FromStr for SchemeKind {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a VMID is for within a class's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The teacher's VM (first VMID of the range).
    Teacher,
    /// The class base VM (last VMID of the range).
    Base,
    /// A student VM, numbered from 1.
    Student(u16),
}

/// A class's VMID plan: its kind and prefix. Private fields: every value is a valid plan.
///
/// # Examples
/// ```
/// use pvelab_core::types::{PoolSize, SchemeKind, Slot, VmidScheme};
/// let kind = SchemeKind::for_pool(PoolSize::new(300)?);
/// let plan = VmidScheme::new(kind, 4)?;
/// assert_eq!(plan.teacher_vmid().get(), 4000);
/// assert_eq!(plan.base_vmid().get(), 4999);
/// assert_eq!(plan.student_vmid(300).map(|v| v.get()), Some(4300));
/// assert_eq!(plan.slot_of(plan.student_vmid(7).unwrap()), Some(Slot::Student(7)));
/// assert_eq!(plan.blocks(), 40..=49);
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VmidScheme {
    kind: SchemeKind,
    prefix: u32,
}

impl VmidScheme {
    /// A plan of `kind` with `prefix` (classic: VMIDs `prefix*100..`, wide: `prefix*1000..`).
    ///
    /// # Errors
    /// [`InvalidValue`] when the prefix is outside [`SchemeKind::prefixes`].
    pub fn new(kind: SchemeKind, prefix: i64) -> Result<Self, InvalidValue> {
        let range = kind.prefixes();
        match u32::try_from(prefix) {
            Ok(p) if range.contains(&p) => Ok(Self { kind, prefix: p }),
            _ => Err(InvalidValue::new(
                "VMID prefix",
                prefix,
                format!(
                    "a whole number from {} to {} for the {kind} plan",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// The plan whose first 100-wide block is `block`, if a plan of `kind` starts there (for a
    /// wide plan the block must be a multiple of ten).
    pub fn starting_at_block(kind: SchemeKind, block: u32) -> Option<Self> {
        let per = kind.width() / 100;
        if block % per != 0 {
            return None;
        }
        Self::new(kind, i64::from(block / per)).ok()
    }

    /// The plan's kind.
    pub fn kind(self) -> SchemeKind {
        self.kind
    }

    /// The prefix as stored in `vmid_prefix`.
    pub fn prefix(self) -> u32 {
        self.prefix
    }

    /// Every VMID the plan covers.
    pub fn vmids(self) -> RangeInclusive<u32> {
        let first = self.prefix * self.kind.width();
        first..=first + (self.kind.width() - 1)
    }

    /// The 100-wide VMID blocks the plan covers (block `b` = VMIDs `b*100..=b*100+99`): one for
    /// a classic plan, ten for a wide one. Two plans overlap exactly when their blocks do.
    pub fn blocks(self) -> RangeInclusive<u32> {
        let per = self.kind.width() / 100;
        self.prefix * per..=self.prefix * per + (per - 1)
    }

    /// The teacher VM's VMID (slot 0).
    pub fn teacher_vmid(self) -> VmId {
        self.vmid_at(0)
    }

    /// The class base VM's VMID (the last of the range).
    pub fn base_vmid(self) -> VmId {
        self.vmid_at(self.kind.width() - 1)
    }

    /// The VMID of student slot `slot` (1-based), or `None` outside `1..=student_slots()`.
    pub fn student_vmid(self, slot: u16) -> Option<VmId> {
        (1..=self.student_slots())
            .contains(&slot)
            .then(|| self.vmid_at(u32::from(slot)))
    }

    /// How many student VMs fit: 98 or 998.
    pub fn student_slots(self) -> u16 {
        self.kind.student_slots()
    }

    /// What `vmid` is for in this plan, or `None` when it lies outside the plan.
    pub fn slot_of(self, vmid: VmId) -> Option<Slot> {
        let range = self.vmids();
        if !range.contains(&vmid.get()) {
            return None;
        }
        let offset = vmid.get() - range.start();
        Some(match offset {
            0 => Slot::Teacher,
            o if o == self.kind.width() - 1 => Slot::Base,
            // Offsets between are below 1000 and therefore fit in u16.
            o => Slot::Student(u16::try_from(o).expect("offset inside a plan is below 1000")),
        })
    }

    fn vmid_at(self, offset: u32) -> VmId {
        VmId::from_in_range(self.vmids().start() + offset)
            .expect("prefixes are bounded so every VMID of a plan is a valid PVE VMID")
    }
}

impl fmt::Display for VmidScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.vmids();
        write!(f, "{} plan, VMIDs {}-{}", self.kind, r.start(), r.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_classic_plan_keeps_the_established_convention() {
        let p = VmidScheme::new(SchemeKind::Classic, 12).unwrap();
        assert_eq!(p.teacher_vmid().get(), 1200);
        assert_eq!(p.base_vmid().get(), 1299);
        assert_eq!(p.student_vmid(1).unwrap().get(), 1201);
        assert_eq!(p.student_vmid(98).unwrap().get(), 1298);
        assert_eq!(p.student_vmid(0), None);
        assert_eq!(p.student_vmid(99), None);
        assert_eq!(p.blocks(), 12..=12);
    }

    #[test]
    fn a_pool_of_98_is_classic_and_99_is_wide() {
        assert_eq!(
            SchemeKind::for_pool(PoolSize::new(98).unwrap()),
            SchemeKind::Classic
        );
        assert_eq!(
            SchemeKind::for_pool(PoolSize::new(99).unwrap()),
            SchemeKind::Wide
        );
        assert_eq!(
            SchemeKind::for_pool(PoolSize::new(0).unwrap()),
            SchemeKind::Classic
        );
    }

    #[test]
    fn a_pool_of_300_fits_a_wide_plan() {
        let p = VmidScheme::new(SchemeKind::for_pool(PoolSize::new(300).unwrap()), 7).unwrap();
        assert!(p.student_slots() >= 300);
        assert_eq!(p.teacher_vmid().get(), 7000);
        assert_eq!(p.base_vmid().get(), 7999);
        assert_eq!(p.student_vmid(998).unwrap().get(), 7998);
        assert_eq!(p.blocks(), 70..=79);
    }

    #[test]
    fn prefixes_keep_vmids_inside_proxmox_limits() {
        assert!(VmidScheme::new(SchemeKind::Classic, 0).is_err());
        assert!(VmidScheme::new(SchemeKind::Wide, 0).is_err());
        let last_classic = VmidScheme::new(SchemeKind::Classic, 9_999_999).unwrap();
        assert_eq!(last_classic.base_vmid().get(), 999_999_999);
        assert!(VmidScheme::new(SchemeKind::Classic, 10_000_000).is_err());
        let last_wide = VmidScheme::new(SchemeKind::Wide, 999_999).unwrap();
        assert_eq!(last_wide.base_vmid().get(), 999_999_999);
        assert!(VmidScheme::new(SchemeKind::Wide, 1_000_000).is_err());
    }

    #[test]
    fn a_vmid_outside_the_plan_has_no_slot() {
        let p = VmidScheme::new(SchemeKind::Classic, 5).unwrap();
        assert_eq!(p.slot_of(VmId::new(499).unwrap()), None);
        assert_eq!(p.slot_of(VmId::new(600).unwrap()), None);
        assert_eq!(p.slot_of(VmId::new(500).unwrap()), Some(Slot::Teacher));
        assert_eq!(p.slot_of(VmId::new(599).unwrap()), Some(Slot::Base));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in [SchemeKind::Classic, SchemeKind::Wide] {
            assert_eq!(k.as_str().parse::<SchemeKind>(), Ok(k));
        }
        assert!(SchemeKind::parse("huge").is_err());
    }

    fn any_scheme() -> impl Strategy<Value = VmidScheme> {
        prop_oneof![
            (SchemeKind::Classic.prefixes()).prop_map(|p| (SchemeKind::Classic, p)),
            (SchemeKind::Wide.prefixes()).prop_map(|p| (SchemeKind::Wide, p)),
        ]
        .prop_map(|(k, p)| VmidScheme::new(k, i64::from(p)).unwrap())
    }

    proptest! {
        #[test]
        fn every_student_slot_round_trips(s in any_scheme(), slot in 1u16..=998) {
            match s.student_vmid(slot) {
                Some(v) => prop_assert_eq!(s.slot_of(v), Some(Slot::Student(slot))),
                None => prop_assert!(slot > s.student_slots()),
            }
        }

        #[test]
        fn blocks_cover_exactly_the_plans_vmids(s in any_scheme()) {
            let v = s.vmids();
            prop_assert_eq!(*s.blocks().start() * 100, *v.start());
            prop_assert_eq!(*s.blocks().end() * 100 + 99, *v.end());
            prop_assert_eq!(VmidScheme::starting_at_block(s.kind(), *s.blocks().start()), Some(s));
        }

        #[test]
        fn plans_share_vmids_exactly_when_they_share_blocks(a in any_scheme(), b in any_scheme()) {
            let (va, vb) = (a.vmids(), b.vmids());
            let vmids_overlap = va.start() <= vb.end() && vb.start() <= va.end();
            let (ba, bb) = (a.blocks(), b.blocks());
            let blocks_overlap = ba.start() <= bb.end() && bb.start() <= ba.end();
            prop_assert_eq!(vmids_overlap, blocks_overlap);
        }

        #[test]
        fn plans_near_each_other_share_vmids_exactly_when_they_share_blocks(
            pa in 1u32..40, pb in 1u32..400, wide_a: bool, wide_b: bool
        ) {
            let kind = |w| if w { SchemeKind::Wide } else { SchemeKind::Classic };
            let a = VmidScheme::new(kind(wide_a), i64::from(pa)).unwrap();
            let b = VmidScheme::new(kind(wide_b), i64::from(pb)).unwrap();
            let shared_vmid = a.vmids().any(|v| b.vmids().contains(&v));
            let shared_block = a.blocks().any(|x| b.blocks().contains(&x));
            prop_assert_eq!(shared_vmid, shared_block);
        }
    }
}
