//! Lab sessions: scheduled class time, weekly (a weekday) or once (a date), from a start to an
//! end time in the class's time zone.
//!
//! A session lies within one day (its end is after its start), so "Monday 09:00-11:00" is always
//! one span; a session over midnight is two sessions. Times are whole minutes. Occurrences are
//! computed in the class's zone, so a weekly 09:00 stays 09:00 local across a daylight-saving
//! change (and is one hour apart in UTC on either side of it).

use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::types::{ClassId, ClassTimeZone, InvalidValue, UserId};

/// The id of a class session (a `class_sessions` row; never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(i64);

impl SessionId {
    /// Wraps a stored row id.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The row id.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses a session number as people type it (`3`).
    ///
    /// # Errors
    /// [`InvalidValue`] when the text is not a positive whole number.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        text.trim()
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Self)
            .ok_or_else(|| {
                InvalidValue::new(
                    "session",
                    text,
                    "a session number as `/class session list` shows it, e.g. 3",
                )
            })
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A time of day in whole minutes (`09:00`), as a session's start or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionTime(u16);

impl SessionTime {
    const ALLOWED: &'static str = "a time of day HH:MM from 00:00 to 23:59, e.g. 09:00 or 14:30";

    /// Minutes after midnight, 0 to 1439.
    ///
    /// # Errors
    /// [`InvalidValue`] outside that range.
    pub fn from_minutes(field: &'static str, minutes: i64) -> Result<Self, InvalidValue> {
        u16::try_from(minutes)
            .ok()
            .filter(|m| *m < 24 * 60)
            .map(Self)
            .ok_or_else(|| InvalidValue::new(field, minutes, Self::ALLOWED))
    }

    /// Parses `09:00`, `9:00` or `9` (a whole hour); `field` names the option in the error.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the field, the text and the allowed form.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::SessionTime;
    /// assert_eq!(SessionTime::parse("start", "9:30")?.minutes(), 570);
    /// assert!(SessionTime::parse("end", "24:00").is_err());
    /// assert!(SessionTime::parse("end", "9.30").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new(field, text, Self::ALLOWED);
        let t = text.trim();
        let (h, m) = match t.split_once(':') {
            Some((h, m)) if m.len() == 2 => (h, m),
            Some(_) => return Err(bad()),
            None => (t, "00"),
        };
        if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if !m.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    fn civil(self) -> Time {
        // Hours 0-23 and minutes 0-59 by construction.
        Time::constant((self.0 / 60) as i8, (self.0 % 60) as i8, 0, 0)
    }
}

impl fmt::Display for SessionTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// When a session takes place: every week on a day, or once on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionDay {
    /// Every week on this day.
    Weekly(Weekday),
    /// Once, on this date.
    Once(Date),
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

impl SessionDay {
    /// Parses a weekday (`monday`, `Mon`, any case).
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text and the seven allowed days.
    pub fn parse_weekday(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim().to_ascii_lowercase();
        DAYS.iter()
            .find(|(name, _)| t.len() >= 3 && name.starts_with(t.as_str()))
            .map(|(_, day)| SessionDay::Weekly(*day))
            .ok_or_else(|| {
                InvalidValue::new(
                    "day",
                    text,
                    "a day of the week: monday, tuesday, wednesday, thursday, friday, saturday \
                     or sunday (or its first three letters)",
                )
            })
    }

    /// Parses a date `YYYY-MM-DD` (a real calendar date).
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text and the allowed form.
    pub fn parse_date(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim();
        let shaped = t.len() == 10
            && t.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        shaped
            .then(|| t.parse::<Date>().ok())
            .flatten()
            .map(SessionDay::Once)
            .ok_or_else(|| {
                InvalidValue::new("date", text, "a calendar date YYYY-MM-DD, e.g. 2027-01-15")
            })
    }

    /// Whether this day falls on `date`.
    fn falls_on(self, date: Date) -> bool {
        match self {
            SessionDay::Weekly(day) => date.weekday() == day,
            SessionDay::Once(once) => once == date,
        }
    }

    /// Whether the two can ever be the same day.
    fn meets(self, other: SessionDay) -> bool {
        match (self, other) {
            (SessionDay::Weekly(a), SessionDay::Weekly(b)) => a == b,
            (SessionDay::Weekly(day), SessionDay::Once(date))
            | (SessionDay::Once(date), SessionDay::Weekly(day)) => date.weekday() == day,
            (SessionDay::Once(a), SessionDay::Once(b)) => a == b,
        }
    }

    /// ISO weekday number (Monday 1) of a weekly session.
    pub(crate) fn weekday_number(self) -> Option<i8> {
        match self {
            SessionDay::Weekly(day) => Some(day.to_monday_one_offset()),
            SessionDay::Once(_) => None,
        }
    }

    /// A weekly session's day from its ISO number (Monday 1).
    pub(crate) fn from_weekday_number(n: i64) -> Option<Self> {
        i8::try_from(n)
            .ok()
            .and_then(|n| Weekday::from_monday_one_offset(n).ok())
            .map(SessionDay::Weekly)
    }
}

impl fmt::Display for SessionDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionDay::Weekly(day) => {
                let name = DAYS.iter().find(|(_, d)| d == day).map_or("?", |(n, _)| n);
                write!(f, "every {name}")
            }
            SessionDay::Once(date) => write!(f, "on {date}"),
        }
    }
}

/// What a session is: its day and its times, checked to form one span within the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionPlan {
    day: SessionDay,
    start: SessionTime,
    end: SessionTime,
}

impl SessionPlan {
    /// A session on `day` from `start` to `end`.
    ///
    /// # Errors
    /// [`InvalidValue`] when `end` is not after `start` (a session over midnight is two
    /// sessions).
    pub fn new(
        day: SessionDay,
        start: SessionTime,
        end: SessionTime,
    ) -> Result<Self, InvalidValue> {
        if end <= start {
            return Err(InvalidValue::new(
                "end",
                end,
                format!(
                    "a time after the start ({start}); a session lies within one day, so one \
                     over midnight is added as two sessions"
                ),
            ));
        }
        Ok(Self { day, start, end })
    }

    /// The day.
    pub fn day(&self) -> SessionDay {
        self.day
    }

    /// The start time in the class's zone.
    pub fn start(&self) -> SessionTime {
        self.start
    }

    /// The end time in the class's zone.
    pub fn end(&self) -> SessionTime {
        self.end
    }

    /// Whether the two sessions can ever run at the same time (touching, one ending when the
    /// other starts, is not overlapping).
    pub fn overlaps(&self, other: &SessionPlan) -> bool {
        self.day.meets(other.day) && self.start < other.end && other.start < self.end
    }

    /// The occurrence on `date` in `zone`, if the session takes place that day.
    fn on(&self, date: Date, zone: &ClassTimeZone) -> Option<(Timestamp, Timestamp)> {
        if !self.day.falls_on(date) {
            return None;
        }
        // A local time that does not exist (skipped by a DST change) is taken as the time it
        // would have been (jiff's compatible rule: later in a gap, earlier in a fold).
        let at = |t: SessionTime| {
            date.to_datetime(t.civil())
                .to_zoned(zone.tz().clone())
                .ok()
                .map(|z| z.timestamp())
        };
        Some((at(self.start)?, at(self.end)?))
    }

    /// For a one-off session, its start or end if that local time does not exist on its day in
    /// `zone` (the clocks skip it at a daylight-saving change). A weekly session keeps the rule
    /// of [`SessionPlan::next_after`] for the one week it meets a gap.
    pub fn skipped_time(&self, zone: &ClassTimeZone) -> Option<SessionTime> {
        let SessionDay::Once(date) = self.day else {
            return None;
        };
        [self.start, self.end].into_iter().find(|t| {
            matches!(
                zone.tz()
                    .to_ambiguous_zoned(date.to_datetime(t.civil()))
                    .offset(),
                jiff::tz::AmbiguousOffset::Gap { .. }
            )
        })
    }

    /// The first occurrence that has not ended at `after` (one running at `after` included), in
    /// the class's zone; `None` for a one-off session that is over.
    pub fn next_after(&self, after: Timestamp, zone: &ClassTimeZone) -> Option<SessionSpan> {
        let today = after.to_zoned(zone.tz().clone()).date();
        let first = match self.day {
            SessionDay::Once(date) => date,
            SessionDay::Weekly(_) => today.checked_sub(1.day()).ok()?,
        };
        let days = match self.day {
            SessionDay::Once(_) => 1,
            SessionDay::Weekly(_) => 9,
        };
        let mut date = first;
        for _ in 0..days {
            if let Some((starts_at, ends_at)) = self.on(date, zone) {
                if ends_at > after {
                    return Some(SessionSpan { starts_at, ends_at });
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

impl fmt::Display for SessionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}-{}", self.day, self.start, self.end)
    }
}

/// One occurrence of a session: when it starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionSpan {
    /// Its start.
    pub starts_at: Timestamp,
    /// Its end.
    pub ends_at: Timestamp,
}

impl SessionSpan {
    /// Whether `at` lies in `[starts_at - lead, ends_at)`.
    pub fn covers(&self, at: Timestamp, lead: jiff::SignedDuration) -> bool {
        at >= self.starts_at - lead && at < self.ends_at
    }
}

/// A session of a class as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSession {
    /// Its number.
    pub id: SessionId,
    /// The class.
    pub class_id: ClassId,
    /// When it takes place.
    pub plan: SessionPlan,
    /// Who added it (`None` once that user is gone).
    pub created_by: Option<UserId>,
    /// When it was added.
    pub created_at: Timestamp,
}

/// The next occurrence of any session of a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextSession {
    /// The session.
    pub session: ClassSession,
    /// The occurrence (it may be running now).
    pub span: SessionSpan,
    /// The class's zone, to show the times in.
    pub zone: ClassTimeZone,
}

impl NextSession {
    /// `Mon 2027-01-11 09:00-11:00 Europe/Berlin`, in the class's zone.
    pub fn describe(&self) -> String {
        let start = self.span.starts_at.to_zoned(self.zone.tz().clone());
        let end = self.span.ends_at.to_zoned(self.zone.tz().clone());
        format!(
            "{} {}-{} {}",
            start.strftime("%a %Y-%m-%d"),
            start.strftime("%H:%M"),
            end.strftime("%H:%M"),
            self.zone.name()
        )
    }
}

/// The next occurrence among `sessions` after `after` (one running now included).
pub(crate) fn next_of(
    sessions: &[ClassSession],
    after: Timestamp,
    zone: &ClassTimeZone,
) -> Option<NextSession> {
    sessions
        .iter()
        .filter_map(|s| s.plan.next_after(after, zone).map(|span| (span, s)))
        .min_by_key(|(span, s)| (*span, s.id))
        .map(|(span, s)| NextSession {
            session: s.clone(),
            span,
            zone: zone.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(day: &str, start: &str, end: &str) -> SessionPlan {
        let day = SessionDay::parse_weekday(day)
            .or_else(|_| SessionDay::parse_date(day))
            .unwrap();
        SessionPlan::new(
            day,
            SessionTime::parse("start", start).unwrap(),
            SessionTime::parse("end", end).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn bad_days_dates_and_times_name_the_value_and_what_is_allowed() {
        let e = SessionDay::parse_weekday("funday").unwrap_err();
        assert_eq!(e.field(), "day");
        assert!(e.allowed().contains("monday"), "{e}");
        let e = SessionDay::parse_date("2027-02-30").unwrap_err();
        assert!(e.to_string().contains("2027-02-30") && e.allowed().contains("YYYY-MM-DD"));
        assert!(SessionDay::parse_date("15.01.2027").is_err());
        let e = SessionTime::parse("start", "25:00").unwrap_err();
        assert!(e.to_string().contains("start") && e.allowed().contains("HH:MM"));
        let e = SessionPlan::new(
            SessionDay::parse_weekday("mon").unwrap(),
            SessionTime::parse("start", "11:00").unwrap(),
            SessionTime::parse("end", "09:00").unwrap(),
        )
        .unwrap_err();
        assert!(e.allowed().contains("after the start (11:00)"), "{e}");
    }

    #[test]
    fn sessions_overlap_only_when_they_share_a_day_and_time() {
        let monday = plan("monday", "09:00", "11:00");
        assert!(monday.overlaps(&plan("monday", "10:00", "12:00")));
        assert!(
            !monday.overlaps(&plan("monday", "11:00", "12:00")),
            "touching is fine"
        );
        assert!(!monday.overlaps(&plan("tuesday", "09:00", "11:00")));
        // 2027-01-11 is a Monday.
        assert!(monday.overlaps(&plan("2027-01-11", "10:30", "12:00")));
        assert!(!monday.overlaps(&plan("2027-01-12", "10:30", "12:00")));
    }

    #[test]
    fn a_weekly_session_keeps_its_local_time_across_a_dst_change() {
        let zone = ClassTimeZone::parse("Europe/Berlin").unwrap();
        let monday = plan("monday", "09:00", "11:00");
        // Berlin moves to summer time on Sunday 2027-03-28.
        let before = monday
            .next_after("2027-03-22T00:00:00Z".parse().unwrap(), &zone)
            .unwrap();
        assert_eq!(before.starts_at.to_string(), "2027-03-22T08:00:00Z");
        let after = monday.next_after(before.ends_at, &zone).unwrap();
        assert_eq!(after.starts_at.to_string(), "2027-03-29T07:00:00Z");
        assert_eq!(after.ends_at.to_string(), "2027-03-29T09:00:00Z");
    }

    #[test]
    fn a_running_occurrence_is_the_next_and_a_past_one_off_has_none() {
        let zone = ClassTimeZone::utc();
        let once = plan("2027-01-15", "09:00", "11:00");
        let during = once
            .next_after("2027-01-15T10:00:00Z".parse().unwrap(), &zone)
            .unwrap();
        assert_eq!(during.starts_at.to_string(), "2027-01-15T09:00:00Z");
        assert!(once
            .next_after("2027-01-15T11:00:00Z".parse().unwrap(), &zone)
            .is_none());
    }
}
