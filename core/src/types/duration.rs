//! The one duration syntax of pvelab: intervals of system settings and join token lifetimes are
//! read and written the same way, so `7d` means the same everywhere.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Span, SpanRelativeTo, SpanRound, Unit};

use super::InvalidValue;

const ALLOWED: &str = "a duration such as 90s, 5m, 12h, 7d, 2w or 1h 30m (a day is 24 hours; \
                       months and years are not accepted)";

/// A positive length of time in jiff's "friendly" format: `90s`, `5m`, `12h`, `7d`, `2w`,
/// `1h 30m`, `1.5h`, `2 hours 30 minutes` (ISO 8601 such as `PT5M` works too). Days are 24
/// hours and weeks 7 days; months and years are refused because their length varies, and so are
/// zero and negative lengths.
///
/// jiff's format was chosen over humantime's: humantime accepts months and years as 30.44 and
/// 365.25 days (a silent surprise for "1 month") and prints 365 days as "11months 30days 3h 50m
/// 24s", while jiff refuses the ambiguous units and prints the shortest exact form (`52w 1d`),
/// and is a dependency already.
///
/// Its `Display` is the canonical text, largest unit weeks (`1w`, `1h 30m`), which parses back
/// to the same duration.
///
/// # Examples
/// ```
/// use pvelab_core::types::DurationText;
/// let d = DurationText::parse("90m")?;
/// assert_eq!(d.as_std(), std::time::Duration::from_secs(5400));
/// assert_eq!(d.to_string(), "1h 30m");
/// assert_eq!(DurationText::parse("7d")?.to_string(), "1w");
/// assert!(DurationText::parse("1 month").is_err());
/// assert!(DurationText::parse("90").is_err());
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DurationText(SignedDuration);

impl DurationText {
    /// Parses a duration (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`InvalidValue`] for text that is not a duration, uses months or years, or is not
    /// positive.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new("duration", text, ALLOWED);
        let span: Span = text.trim().parse().map_err(|_| bad())?;
        let length = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|_| bad())?;
        Self::new(length).map_err(|_| bad())
    }

    /// A duration from its length.
    ///
    /// # Errors
    /// [`InvalidValue`] when it is zero or negative.
    pub fn new(length: SignedDuration) -> Result<Self, InvalidValue> {
        if length.is_positive() {
            Ok(Self(length))
        } else {
            Err(InvalidValue::new(
                "duration",
                format!("{length:#}"),
                "a positive duration",
            ))
        }
    }

    /// The length.
    pub fn get(self) -> SignedDuration {
        self.0
    }

    /// The length as a standard library duration.
    pub fn as_std(self) -> std::time::Duration {
        // Positive by construction, so the conversion cannot fail.
        std::time::Duration::try_from(self.0).unwrap_or_default()
    }
}

impl From<DurationText> for SignedDuration {
    fn from(d: DurationText) -> Self {
        d.0
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = Span::try_from(self.0)
            .and_then(|span| span.round(SpanRound::new().largest(Unit::Week).days_are_24_hours()));
        match rounded {
            Ok(span) => write!(f, "{span:#}"),
            // Not reachable for lengths jiff parsed; hours are exact either way.
            Err(_) => write!(f, "{:#}", self.0),
        }
    }
}

impl FromStr for DurationText {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> i64 {
        DurationText::parse(text).unwrap().get().as_secs()
    }

    #[test]
    fn the_friendly_forms_mean_the_same_length() {
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("5m"), 300);
        assert_eq!(secs("5min"), 300);
        assert_eq!(secs("1h 30m"), 5400);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("1.5h"), 5400);
        assert_eq!(secs("7d"), 7 * 86_400);
        assert_eq!(secs("1w"), 7 * 86_400);
        assert_eq!(secs(" 2w "), 14 * 86_400);
        assert_eq!(secs("PT5M"), 300);
    }

    #[test]
    fn ambiguous_empty_zero_and_negative_durations_are_refused() {
        for bad in [
            "", "90", "1 month", "1y", "0s", "-5m", "5m ago", "soon", "7x",
        ] {
            let e = DurationText::parse(bad).unwrap_err();
            assert_eq!(e.field(), "duration", "{bad:?}");
            assert!(e.allowed().contains("7d"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_canonical_text_is_the_shortest_exact_form() {
        for (text, shown) in [
            ("90m", "1h 30m"),
            ("7d", "1w"),
            ("14d", "2w"),
            ("365d", "52w 1d"),
            ("60s", "1m"),
            ("3600s", "1h"),
        ] {
            assert_eq!(
                DurationText::parse(text).unwrap().to_string(),
                shown,
                "{text}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn every_length_round_trips_through_its_text(secs in 1i64..=10 * 365 * 86_400) {
            let d = DurationText::new(SignedDuration::from_secs(secs)).unwrap();
            proptest::prop_assert_eq!(DurationText::parse(&d.to_string()), Ok(d));
        }

        #[test]
        fn parsing_any_text_never_panics(text in ".{0,30}") {
            let _ = DurationText::parse(&text);
        }
    }
}
