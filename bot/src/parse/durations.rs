//! Durations people type: a token's `expires` and a class's `idle` shutdown delay.
//!
//! One syntax for every duration of pvelab: the core's [`DurationText`] (jiff's "friendly"
//! format: `90m`, `12h`, `7d`, `2w`, `1h 30m`, `3 days`; days of 24 hours; months and years
//! refused). The bot only adds the option-specific ranges and words (`never`, `off`).

use jiff::SignedDuration;
use pvelab_core::model::TokenLifetime;
use pvelab_core::types::{DurationText, IdleMinutes};

use super::OptionError;

const EXPIRES_ALLOWED: &str = "never, or a duration such as 90m, 12h, 7d or 2w \
                               (from 1 minute to 365 days, whole minutes)";
const IDLE_ALLOWED: &str = "off, minutes as a number (30), or a duration such as 45m or 2h \
                            (from 5 minutes to 24 hours)";

/// Reads a positive duration with the core's one syntax ([`DurationText`]). `None` for other
/// text, zero or negative lengths, and years or months.
pub fn friendly_duration(text: &str) -> Option<SignedDuration> {
    DurationText::parse(text).ok().map(DurationText::get)
}

/// When a new join token stops working: `never` or a duration from now (`90m`, `12h`, `7d`).
///
/// # Errors
/// [`OptionError`] naming `option` for other text, or a duration below one minute, above 365
/// days or with leftover seconds.
pub fn expires(option: &str, text: &str) -> Result<TokenLifetime, OptionError> {
    if text.trim().eq_ignore_ascii_case("never") {
        return Ok(TokenLifetime::Never);
    }
    let bad = || OptionError::new(option, text, EXPIRES_ALLOWED);
    let d = friendly_duration(text).ok_or_else(bad)?;
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs % 60 != 0 || !(60..=365 * 86_400).contains(&secs) {
        return Err(bad());
    }
    Ok(TokenLifetime::For(d))
}

/// The idle shutdown of a class: switched off, or after some minutes without activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleSetting {
    /// Idle VMs keep running.
    Off,
    /// Idle VMs are shut down after this long.
    After(IdleMinutes),
}

/// `off`, a bare number of minutes (`30`) or a duration (`45m`, `2h`).
///
/// # Errors
/// [`OptionError`] naming `option` for other text or a delay outside 5 minutes to 24 hours.
pub fn idle(option: &str, text: &str) -> Result<IdleSetting, OptionError> {
    let t = text.trim();
    if ["off", "never", "no"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(IdleSetting::Off);
    }
    let bad = || OptionError::new(option, text, IDLE_ALLOWED);
    let minutes = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<i64>().map_err(|_| bad())?
    } else {
        let d = friendly_duration(t).ok_or_else(bad)?;
        if d.subsec_nanos() != 0 || d.as_secs() % 60 != 0 {
            return Err(bad());
        }
        d.as_secs() / 60
    };
    IdleMinutes::new(minutes)
        .map(IdleSetting::After)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifetime_secs(text: &str) -> i64 {
        match expires("expires", text).expect(text) {
            TokenLifetime::For(d) => d.as_secs(),
            TokenLifetime::Never => -1,
        }
    }

    #[test]
    fn never_means_a_token_without_expiry_in_any_case() {
        assert_eq!(expires("expires", "never"), Ok(TokenLifetime::Never));
        assert_eq!(expires("expires", " Never "), Ok(TokenLifetime::Never));
    }

    #[test]
    fn minutes_hours_days_and_weeks_are_read_with_24_hour_days() {
        assert_eq!(lifetime_secs("90m"), 90 * 60);
        assert_eq!(lifetime_secs("12h"), 12 * 3600);
        assert_eq!(lifetime_secs("7d"), 7 * 86_400);
        assert_eq!(lifetime_secs("2w"), 14 * 86_400);
        assert_eq!(lifetime_secs("1h 30m"), 90 * 60);
        assert_eq!(lifetime_secs("3 days"), 3 * 86_400);
    }

    #[test]
    fn the_core_shows_a_parsed_lifetime_in_its_own_short_form() {
        assert_eq!(expires("expires", "7d").unwrap().to_string(), "1w");
        assert_eq!(expires("expires", "90m").unwrap().to_string(), "1h 30m");
    }

    #[test]
    fn lifetimes_below_a_minute_above_a_year_or_in_months_are_refused() {
        for bad in [
            "30s", "366d", "1mo", "1y", "-1h", "90", "soon", "", "1m 30s",
        ] {
            let e = expires("expires", bad).unwrap_err();
            assert_eq!(e.option(), "expires", "{bad}");
            assert!(e.allowed().contains("never, or a duration"), "{bad}");
        }
        assert!(expires("expires", "365d").is_ok());
    }

    #[test]
    fn idle_accepts_off_bare_minutes_and_durations() {
        let after = |m| IdleSetting::After(IdleMinutes::new(m).unwrap());
        assert_eq!(idle("idle", "off"), Ok(IdleSetting::Off));
        assert_eq!(idle("idle", "30"), Ok(after(30)));
        assert_eq!(idle("idle", "45m"), Ok(after(45)));
        assert_eq!(idle("idle", "2h"), Ok(after(120)));
    }

    #[test]
    fn idle_outside_five_minutes_to_a_day_is_refused() {
        assert!(idle("idle", "4").is_err());
        assert!(idle("idle", "25h").is_err());
        assert!(idle("idle", "90s").is_err());
        assert!(idle("idle", "lots").is_err());
    }
}
