//! Memory and disk sizes as people type them.
//!
//! Units are binary throughout, as in Proxmox VE itself: PVE's `memory` is in MiB and its disk
//! sizes such as `32G` mean GiB. So `4G`, `4GB` and `4GiB` all mean 4096 MiB; insisting on the
//! difference would only produce errors for people who mean the same thing. A bare number is
//! in the unit the option is stored in: MiB for memory (`4096`), GB for disk (`32`).

use pvelab_core::types::{DiskGb, MemoryMb};

use super::OptionError;

const MEMORY_ALLOWED: &str = "MiB as a number (4096) or a size with a unit such as 512M or 4G \
                              (binary units: 1G = 1024 MiB), from 256M to 512G";
const DISK_ALLOWED: &str =
    "GB as a number (32) or a size with a unit such as 32G or 1T, from 1G to 4T";

/// Splits `"4 GiB"` into `(4, "gib")`: digits, optional spaces, optional ASCII letters.
fn number_and_unit(text: &str) -> Option<(u64, String)> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits_end == 0 {
        return None;
    }
    let number = t[..digits_end].parse::<u64>().ok()?;
    let unit = t[digits_end..].trim_start();
    if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((number, unit.to_ascii_lowercase()))
}

/// Memory of each VM: `4096` (MiB), `512M`, `4G`, `4GB`, `4GiB`, `1T`.
///
/// # Errors
/// [`OptionError`] naming `option` for another shape, an unknown unit or a size outside what
/// the core accepts (256 MiB to 512 GiB).
pub fn memory(option: &str, text: &str) -> Result<MemoryMb, OptionError> {
    let bad = || OptionError::new(option, text, MEMORY_ALLOWED);
    let (number, unit) = number_and_unit(text).ok_or_else(bad)?;
    let factor: u64 = match unit.as_str() {
        "" | "m" | "mb" | "mib" => 1,
        "g" | "gb" | "gib" => 1024,
        "t" | "tb" | "tib" => 1024 * 1024,
        _ => return Err(bad()),
    };
    let mib = number.checked_mul(factor).ok_or_else(bad)?;
    let mib = i64::try_from(mib).map_err(|_| bad())?;
    MemoryMb::new(mib).map_err(|_| bad())
}

/// Disk size of each VM: `32` (GB), `32G`, `32GB`, `32GiB`, `1T`.
///
/// # Errors
/// [`OptionError`] naming `option` for another shape, an unknown unit (megabytes included: a
/// disk is sized in whole GB) or a size outside 1 GB to 4 TB.
pub fn disk(option: &str, text: &str) -> Result<DiskGb, OptionError> {
    let bad = || OptionError::new(option, text, DISK_ALLOWED);
    let (number, unit) = number_and_unit(text).ok_or_else(bad)?;
    let factor: u64 = match unit.as_str() {
        "" | "g" | "gb" | "gib" => 1,
        "t" | "tb" | "tib" => 1024,
        _ => return Err(bad()),
    };
    let gb = number.checked_mul(factor).ok_or_else(bad)?;
    let gb = i64::try_from(gb).map_err(|_| bad())?;
    DiskGb::new(gb).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mib(text: &str) -> u32 {
        memory("memory", text).expect(text).get()
    }

    #[test]
    fn a_bare_memory_number_is_mib() {
        assert_eq!(mib("4096"), 4096);
    }

    #[test]
    fn memory_units_are_binary_and_case_insensitive() {
        assert_eq!(mib("512M"), 512);
        assert_eq!(mib("4G"), 4096);
        assert_eq!(mib("4gb"), 4096);
        assert_eq!(mib("4 GiB"), 4096);
        assert_eq!(mib("512G"), 512 * 1024);
    }

    #[test]
    fn memory_outside_256_mib_to_512_gib_is_refused_with_the_range() {
        let e = memory("memory", "128M").unwrap_err();
        assert_eq!(e.option(), "memory");
        assert!(e.allowed().contains("from 256M to 512G"), "{e}");
        assert!(memory("memory", "513G").is_err());
        assert!(memory("memory", "1T").is_err());
        assert!(memory("memory", "99999999999999999999").is_err());
        assert!(memory("memory", "18446744073709551615T").is_err());
    }

    #[test]
    fn memory_with_an_unknown_unit_or_no_number_is_refused() {
        for bad in ["4X", "G", "", "4.5G", "-4G", "4 G B", "four"] {
            let e = memory("memory", bad).unwrap_err();
            assert_eq!(e.value(), Some(bad));
        }
    }

    #[test]
    fn a_bare_disk_number_is_gb_and_terabytes_are_1024_gb() {
        assert_eq!(disk("disk", "32").unwrap().get(), 32);
        assert_eq!(disk("disk", "32G").unwrap().get(), 32);
        assert_eq!(disk("disk", "32GiB").unwrap().get(), 32);
        assert_eq!(disk("disk", "2T").unwrap().get(), 2048);
    }

    #[test]
    fn a_disk_in_megabytes_or_beyond_4_tb_is_refused() {
        assert!(disk("disk", "512M").is_err());
        assert!(disk("disk", "0").is_err());
        let e = disk("disk", "5T").unwrap_err();
        assert!(e.to_string().contains("from 1G to 4T"), "{e}");
    }
}
