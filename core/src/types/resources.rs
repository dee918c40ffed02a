//! Sizes of a class's VMs and of its pool.

use super::bounded::bounded_int;

bounded_int! {
    /// CPU cores of each VM of a class: 1 to 64.
    Cores(u16), field = "cpu cores", min = 1, max = 64, allowed = "a whole number from 1 to 64"
}

bounded_int! {
    /// Memory of each VM in MiB: 256 MiB to 512 GiB (524288 MiB).
    MemoryMb(u32), field = "memory (MiB)", min = 256, max = 524_288,
    allowed = "a whole number of MiB from 256 to 524288 (512 GiB)"
}

bounded_int! {
    /// Disk size of each VM in GB: 1 to 4096. The upper bound is a sanity limit for a lab VM
    /// (4 TB), far above what a classroom needs and below what a typo like `40000` would ask for.
    DiskGb(u32), field = "disk size (GB)", min = 1, max = 4096,
    allowed = "a whole number of GB from 1 to 4096"
}

bounded_int! {
    /// The number of student VMs of a class: 0 to 998.
    ///
    /// Up to 98 the class uses the classic VMID plan (one block of 100), above that the wide plan
    /// (ten blocks of 100); see [`VmidScheme`](crate::types::VmidScheme).
    PoolSize(u16), field = "pool size", min = 0, max = 998,
    allowed = "a whole number of student VMs from 0 to 998"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_accept_one_to_sixty_four_only() {
        assert!(Cores::new(0).is_err());
        assert_eq!(Cores::new(1).map(Cores::get), Ok(1));
        assert_eq!(Cores::new(64).map(Cores::get), Ok(64));
        assert!(Cores::new(65).is_err());
        assert!(Cores::new(-4).is_err());
    }

    #[test]
    fn memory_accepts_256_mib_to_512_gib() {
        assert!(MemoryMb::new(255).is_err());
        assert!(MemoryMb::new(256).is_ok());
        assert!(MemoryMb::new(512 * 1024).is_ok());
        assert!(MemoryMb::new(512 * 1024 + 1).is_err());
    }

    #[test]
    fn disk_accepts_one_to_4096_gb() {
        assert!(DiskGb::new(0).is_err());
        assert!(DiskGb::new(1).is_ok());
        assert!(DiskGb::new(4096).is_ok());
        assert!(DiskGb::new(4097).is_err());
    }

    #[test]
    fn a_pool_may_be_empty_or_hold_up_to_998_vms() {
        assert_eq!(PoolSize::new(0).map(PoolSize::get), Ok(0));
        assert!(PoolSize::new(300).is_ok());
        assert!(PoolSize::new(998).is_ok());
        assert!(PoolSize::new(999).is_err());
    }

    #[test]
    fn a_number_is_parsed_from_text_and_junk_is_refused_by_name() {
        assert_eq!(Cores::parse(" 8 ").map(Cores::get), Ok(8));
        let e = Cores::parse("eight").unwrap_err();
        assert_eq!(e.field(), "cpu cores");
        assert_eq!(e.value(), "eight");
        assert!(e.allowed().contains("1 to 64"));
    }

    #[test]
    fn a_value_far_outside_the_integer_type_is_refused_not_wrapped() {
        assert!(Cores::new(i64::from(u16::MAX) + 2).is_err());
        assert!(PoolSize::new(65_536 + 5).is_err());
    }
}
