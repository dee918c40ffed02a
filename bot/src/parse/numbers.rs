//! Counts and switches: cpu cores, pool sizes, quotas, VMIDs, yes/no, and fixed choices.

use pvelab_core::types::{Cores, PoolSize, UsageQuota, VmId};

use super::OptionError;

/// CPU cores of each VM: a whole number from 1 to 64.
///
/// # Errors
/// [`OptionError`] naming `option` with the core's allowed range.
pub fn cores(option: &str, text: &str) -> Result<Cores, OptionError> {
    Cores::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// The number of student VMs of a class: 0 to 998.
///
/// # Errors
/// [`OptionError`] naming `option` with the core's allowed range.
pub fn pool_size(option: &str, text: &str) -> Result<PoolSize, OptionError> {
    PoolSize::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A usage quota in hours: `0` (or `none`) for no limit, else `40` or `40h`.
///
/// # Errors
/// [`OptionError`] naming `option` for other text or more than 10000 hours.
pub fn quota(option: &str, text: &str) -> Result<UsageQuota, OptionError> {
    let t = text.trim();
    if ["none", "off", "unlimited"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(UsageQuota::UNLIMITED);
    }
    let number = t.strip_suffix(['h', 'H']).unwrap_or(t);
    UsageQuota::parse(number).map_err(|_| {
        OptionError::new(
            option,
            text,
            "running hours per student as a whole number (40 or 40h), 0 or none for no limit, \
             at most 10000",
        )
    })
}

/// A Proxmox VMID: 100 to 999999999.
///
/// # Errors
/// [`OptionError`] naming `option` with the allowed range.
pub fn vmid(option: &str, text: &str) -> Result<VmId, OptionError> {
    VmId::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A switch: `yes`/`no`, `true`/`false`, `on`/`off` (any case).
///
/// # Errors
/// [`OptionError`] naming `option` for other text.
pub fn flag(option: &str, text: &str) -> Result<bool, OptionError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        _ => Err(OptionError::new(option, text, "yes or no")),
    }
}

/// One of a fixed list of words (any case), returned as the list spells it.
///
/// # Errors
/// [`OptionError`] naming `option` and listing the choices.
pub fn choice(
    option: &str,
    text: &str,
    choices: &'static [&'static str],
) -> Result<&'static str, OptionError> {
    choices
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| OptionError::new(option, text, format!("one of {}", choices.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_and_pool_sizes_keep_the_cores_ranges() {
        assert_eq!(cores("cpu", "4").unwrap().get(), 4);
        assert!(cores("cpu", "0").unwrap_err().allowed().contains("1 to 64"));
        assert_eq!(pool_size("pool", "30").unwrap().get(), 30);
        let e = pool_size("pool", "1000").unwrap_err();
        assert_eq!(e.option(), "pool");
        assert!(e.allowed().contains("998"), "{e}");
    }

    #[test]
    fn a_zero_or_none_quota_means_no_limit() {
        assert!(quota("quota", "0").unwrap().is_unlimited());
        assert!(quota("quota", "none").unwrap().is_unlimited());
        assert_eq!(quota("quota", "40h").unwrap().limit_hours(), Some(40));
        assert_eq!(quota("quota", "40").unwrap().limit_hours(), Some(40));
    }

    #[test]
    fn a_negative_or_fractional_quota_is_refused() {
        for bad in ["-1", "1.5", "10001", "lots", "h"] {
            assert!(quota("quota", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_vmid_below_100_is_refused_with_the_range() {
        assert_eq!(vmid("vm", "101").unwrap().get(), 101);
        assert!(vmid("vm", "99").unwrap_err().allowed().contains("100"));
    }

    #[test]
    fn switches_read_yes_no_true_false_on_off() {
        assert_eq!(flag("force", "YES"), Ok(true));
        assert_eq!(flag("force", "off"), Ok(false));
        assert_eq!(flag("force", "maybe").unwrap_err().allowed(), "yes or no");
    }

    #[test]
    fn a_choice_is_returned_as_listed_and_others_are_refused_with_the_list() {
        const WHEN: &[&str] = &["now", "next-stop"];
        assert_eq!(choice("when", "NOW", WHEN), Ok("now"));
        let e = choice("when", "later", WHEN).unwrap_err();
        assert_eq!(e.allowed(), "one of now, next-stop");
    }
}
