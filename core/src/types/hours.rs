//! The daily window in which a class's VMs may run, and the time zone it is read in.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;

use super::InvalidValue;

/// Allowed hours of a class: running is allowed when `start <= hour < end`, and when
/// `start > end` the window wraps past midnight (`22-06` allows 23:00 and 02:00).
///
/// `start == end` is refused at input: it could mean "always" or "never", and a lab rule must not
/// be ambiguous. Hours are whole hours 0 to 23 in the class's [`ClassTimeZone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoursWindow {
    start: u8,
    end: u8,
}

impl HoursWindow {
    /// A window from `start` (inclusive) to `end` (exclusive), hours 0 to 23.
    ///
    /// # Errors
    /// [`InvalidValue`] when an hour is outside 0-23 or `start == end`.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::HoursWindow;
    /// let night = HoursWindow::new(22, 6)?;
    /// assert!(night.contains(2));
    /// assert!(!night.contains(12));
    /// assert!(HoursWindow::new(8, 8).is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn new(start: i64, end: i64) -> Result<Self, InvalidValue> {
        let hour = |field, v: i64| {
            u8::try_from(v)
                .ok()
                .filter(|h| *h < 24)
                .ok_or_else(|| InvalidValue::new(field, v, "a whole hour from 0 to 23"))
        };
        let (start, end) = (hour("start hour", start)?, hour("end hour", end)?);
        if start == end {
            return Err(InvalidValue::new(
                "hours window",
                format!("{start:02}-{end:02}"),
                "start and end must differ",
            ));
        }
        Ok(Self { start, end })
    }

    /// Parses `"8-18"`, `"08-18"` or `"08:00-18:00"` (whole hours only).
    ///
    /// # Errors
    /// [`InvalidValue`] when the text has another shape or the hours break [`HoursWindow::new`].
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "START-END in whole hours, e.g. 08-18 or 08:00-18:00";
        let bad = || InvalidValue::new("hours window", text, ALLOWED);
        let hour = |s: &str| -> Result<i64, InvalidValue> {
            let s = s.trim();
            let s = s.strip_suffix(":00").unwrap_or(s);
            if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        Self::new(hour(start)?, hour(end)?)
    }

    /// The first allowed hour.
    pub fn start(self) -> u8 {
        self.start
    }

    /// The first hour no longer allowed.
    pub fn end(self) -> u8 {
        self.end
    }

    /// Whether the window wraps past midnight.
    pub fn wraps_midnight(self) -> bool {
        self.start > self.end
    }

    /// Whether a local wall-clock `hour` (0-23) lies in the window.
    pub fn contains(self, hour: u8) -> bool {
        if self.start < self.end {
            self.start <= hour && hour < self.end
        } else {
            hour >= self.start || hour < self.end
        }
    }

    /// How many of the 24 wall-clock hours are allowed.
    pub fn allowed_hours(self) -> u8 {
        (self.end + 24 - self.start) % 24
    }
}

impl FromStr for HoursWindow {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for HoursWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:00-{:02}:00", self.start, self.end)
    }
}

/// The time zone a class's hours are read in, by IANA name (`Europe/Berlin`, `UTC`).
///
/// Resolved from the tz database bundled with the library, so the same name means the same
/// rules on every host.
#[derive(Clone)]
pub struct ClassTimeZone {
    name: String,
    tz: TimeZone,
}

impl ClassTimeZone {
    /// Looks up an IANA time zone name.
    ///
    /// # Errors
    /// [`InvalidValue`] when the tz database has no zone of that name.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::ClassTimeZone;
    /// assert_eq!(ClassTimeZone::parse("Europe/Berlin")?.name(), "Europe/Berlin");
    /// assert!(ClassTimeZone::parse("Mars/Olympus").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        let name = name.trim();
        let tz = TimeZone::get(name).map_err(|_| {
            InvalidValue::new(
                "time zone",
                name,
                "an IANA time zone name such as Europe/Berlin, America/New_York or UTC",
            )
        })?;
        // Prefer the database's own spelling so that stored names are canonical in case.
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules, for converting instants to local time.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl PartialEq for ClassTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ClassTimeZone {}

impl fmt::Debug for ClassTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClassTimeZone").field(&self.name).finish()
    }
}

impl fmt::Display for ClassTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for ClassTimeZone {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_window_allows_its_start_and_not_its_end() {
        let w = HoursWindow::new(8, 18).unwrap();
        assert!(!w.contains(7));
        assert!(w.contains(8));
        assert!(w.contains(17));
        assert!(!w.contains(18));
        assert_eq!(w.allowed_hours(), 10);
    }

    #[test]
    fn a_window_that_wraps_past_midnight_allows_two_am() {
        let w = HoursWindow::new(22, 6).unwrap();
        assert!(w.wraps_midnight());
        assert!(w.contains(2));
        assert!(w.contains(22));
        assert!(w.contains(0));
        assert!(!w.contains(6));
        assert!(!w.contains(21));
        assert_eq!(w.allowed_hours(), 8);
    }

    #[test]
    fn equal_start_and_end_is_refused_as_ambiguous() {
        let e = HoursWindow::new(9, 9).unwrap_err();
        assert_eq!(e.field(), "hours window");
        assert!(e.allowed().contains("differ"));
    }

    #[test]
    fn hours_outside_zero_to_twenty_three_are_refused() {
        assert_eq!(HoursWindow::new(24, 3).unwrap_err().field(), "start hour");
        assert_eq!(HoursWindow::new(3, -1).unwrap_err().field(), "end hour");
    }

    #[test]
    fn windows_parse_in_short_and_clock_forms() {
        let w = HoursWindow::new(8, 18).unwrap();
        assert_eq!(HoursWindow::parse("8-18"), Ok(w));
        assert_eq!(HoursWindow::parse("08:00-18:00"), Ok(w));
        assert_eq!(HoursWindow::parse(&w.to_string()), Ok(w));
        assert!(HoursWindow::parse("08:30-18").is_err());
        assert!(HoursWindow::parse("0818").is_err());
        assert!(HoursWindow::parse("-8-18").is_err());
    }

    #[test]
    fn a_known_zone_resolves_and_an_unknown_one_is_refused() {
        assert_eq!(
            ClassTimeZone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(ClassTimeZone::parse("UTC").unwrap(), ClassTimeZone::utc());
        let e = ClassTimeZone::parse("Europe/Atlantis").unwrap_err();
        assert_eq!(e.field(), "time zone");
    }
}
