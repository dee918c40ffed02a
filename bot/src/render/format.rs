//! Small, consistent wordings of the core's facts: times, hours, quotas, sizes, people.

use jiff::Timestamp;
use pvelab_core::model::{AutoShutdown, Class, TokenExpiry, User};
use pvelab_core::types::{ClassTimeZone, HoursWindow, UsageQuota};

/// An instant for people: `2025-03-01 14:05 UTC`.
pub fn instant(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// Used hours against a quota: `3.5 of 40 hours`, or `3.5 hours (no limit)`.
pub fn usage(used: f64, quota: UsageQuota) -> String {
    match quota.limit_hours() {
        Some(limit) => format!("{used:.1} of {limit} hours"),
        None => format!("{used:.1} hours (no limit)"),
    }
}

/// A quota on its own: `40 hours per student` or `no limit`.
pub fn quota(quota: UsageQuota) -> String {
    match quota.limit_hours() {
        Some(limit) => format!("{limit} hours per student"),
        None => "no limit".to_owned(),
    }
}

/// Allowed hours with their zone: `08:00-18:00 Europe/Berlin`, or `any time`.
pub fn hours(window: Option<HoursWindow>, zone: Option<&ClassTimeZone>) -> String {
    match window {
        Some(w) => format!(
            "{w} {}",
            zone.map_or("(the lab's default time zone)", |z| z.name())
        ),
        None => "any time".to_owned(),
    }
}

/// Idle shutdown: `after 30 min below 5% CPU`, or `off`.
pub fn idle(auto: AutoShutdown) -> String {
    if auto.enabled {
        format!(
            "after {} min below {}% CPU",
            auto.idle_minutes, auto.threshold
        )
    } else {
        "off".to_owned()
    }
}

/// A class's VM size: `2 cores, 2048 MiB, 32 GB disk`.
pub fn resources(class: &Class) -> String {
    format!(
        "{} cores, {} MiB memory, {} GB disk",
        class.cpu_cores, class.memory_mb, class.disk_gb
    )
}

/// The state of a class's join token: `none`, `works until …`, `never expires`.
pub fn token(token: Option<TokenExpiry>) -> String {
    match token {
        None => "none".to_owned(),
        Some(TokenExpiry::Never) => "active, never expires".to_owned(),
        Some(TokenExpiry::At(at)) => format!("active until {}", instant(at)),
    }
}

/// A person as shown in replies: their display name (console names and Discord names alike).
pub fn person(user: &User) -> String {
    user.shown_name().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_shows_the_limit_or_says_there_is_none() {
        assert_eq!(usage(3.46, UsageQuota::new(40).unwrap()), "3.5 of 40 hours");
        assert_eq!(usage(0.0, UsageQuota::UNLIMITED), "0.0 hours (no limit)");
    }

    #[test]
    fn hours_show_the_window_and_zone_or_any_time() {
        let zone = ClassTimeZone::parse("Europe/Berlin").unwrap();
        let window = HoursWindow::new(8, 18).unwrap();
        assert_eq!(
            hours(Some(window), Some(&zone)),
            "08:00-18:00 Europe/Berlin"
        );
        assert_eq!(hours(None, Some(&zone)), "any time");
    }

    #[test]
    fn instants_are_minutes_in_utc() {
        let at: Timestamp = "2025-03-01T14:05:59Z".parse().unwrap();
        assert_eq!(instant(at), "2025-03-01 14:05 UTC");
    }
}
