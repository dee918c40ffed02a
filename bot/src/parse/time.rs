//! When VMs may run: the `hours` window and the class's `timezone`.

use pvelab_core::types::{ClassTimeZone, HoursWindow};

use super::OptionError;

/// A class's allowed hours: any time, or a daily window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursSetting {
    /// No restriction.
    Always,
    /// Only inside this window of the class's time zone.
    Window(HoursWindow),
}

/// `08-18`, `8-18`, `08:00-18:00`, a window past midnight such as `22-06`, or `always` (also
/// `any`, `off`) to lift the restriction. The window itself is the core's [`HoursWindow`].
///
/// # Errors
/// [`OptionError`] naming `option`, with the core's statement of the window's form.
pub fn hours(option: &str, text: &str) -> Result<HoursSetting, OptionError> {
    let t = text.trim();
    if ["always", "any", "off"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(HoursSetting::Always);
    }
    HoursWindow::parse(t)
        .map(HoursSetting::Window)
        .map_err(|e| {
            OptionError::new(
                option,
                text,
                format!(
                    "{} (a window may wrap past midnight: 22-06), or always",
                    e.allowed()
                ),
            )
        })
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`), from the tz database bundled with the core.
///
/// # Errors
/// [`OptionError`] naming `option` with examples of valid names.
pub fn timezone(option: &str, text: &str) -> Result<ClassTimeZone, OptionError> {
    ClassTimeZone::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_window_and_a_night_window_are_read() {
        let HoursSetting::Window(day) = hours("hours", "08-18").unwrap() else {
            panic!("a window")
        };
        assert_eq!((day.start(), day.end()), (8, 18));
        let HoursSetting::Window(night) = hours("hours", "22-06").unwrap() else {
            panic!("a window")
        };
        assert!(night.wraps_midnight());
    }

    #[test]
    fn always_lifts_the_restriction() {
        assert_eq!(hours("hours", "Always"), Ok(HoursSetting::Always));
    }

    #[test]
    fn a_window_with_equal_ends_or_minutes_is_refused_naming_the_option() {
        for bad in ["08-08", "08:30-18", "8 to 18", "25-3"] {
            let e = hours("hours", bad).unwrap_err();
            assert_eq!(e.option(), "hours", "{bad}");
            assert!(e.allowed().contains("or always"), "{e}");
        }
    }

    #[test]
    fn equal_ends_are_refused_in_one_plain_sentence() {
        let e = hours("hours", "08-08").unwrap_err().to_string();
        assert!(
            e.contains(
                "start and end must differ (a window may wrap past midnight: 22-06), or always"
            ),
            "{e}"
        );
        assert_eq!(e.matches('(').count(), 1, "{e}");
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            timezone("timezone", "Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        let e = timezone("timezone", "Berlin").unwrap_err();
        assert!(e.allowed().contains("IANA"), "{e}");
    }
}
