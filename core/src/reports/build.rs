//! The figures of a usage report from the history rows of its period. Pure.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::hours::hour_of;
use super::{RunningPoint, RunningStep, StudentUsageLine, UsageReport};
use crate::store::usage_history::{HourRow, ShutdownRow};
use crate::store::users::User;
use crate::types::{ClassName, ClassTimeZone, UsageQuota, UserId};

/// The longest period drawn hour by hour; longer ones are drawn day by day.
const HOURLY_UP_TO: SignedDuration = SignedDuration::from_hours(31 * 24);

/// What a report is computed from.
#[derive(Debug, Clone)]
pub(crate) struct ReportInput {
    pub(crate) class: ClassName,
    pub(crate) zone: ClassTimeZone,
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) history_from: Option<Timestamp>,
    /// Everyone to list (the class's students and whoever used it in the period) with their
    /// usage against the quota now.
    pub(crate) students: Vec<(User, f64)>,
    pub(crate) quota: UsageQuota,
    /// The hourly rows of the period.
    pub(crate) hours: Vec<HourRow>,
    /// The shutdowns of the period.
    pub(crate) shutdowns: Vec<ShutdownRow>,
    pub(crate) wh_per_vm_hour: u32,
}

/// Computes the report.
pub(crate) fn build(input: ReportInput) -> UsageReport {
    let mut used: HashMap<UserId, f64> = HashMap::new();
    let mut in_sessions: HashMap<UserId, f64> = HashMap::new();
    for row in &input.hours {
        *used.entry(row.user).or_default() += row.hours;
        *in_sessions.entry(row.user).or_default() += row.session_hours;
    }
    let mut idle: HashMap<UserId, u32> = HashMap::new();
    let mut shutdowns: HashMap<UserId, u32> = HashMap::new();
    for row in &input.shutdowns {
        if let Some(user) = row.user {
            *shutdowns.entry(user).or_default() += 1;
            if row.reason == "idle" {
                *idle.entry(user).or_default() += 1;
            }
        }
    }
    let limit = input.quota.limit_hours().map(f64::from);
    let mut students: Vec<StudentUsageLine> = input
        .students
        .into_iter()
        .map(|(student, usage_now)| {
            let id = student.id;
            StudentUsageLine {
                hours_used: used.get(&id).copied().unwrap_or(0.0),
                hours_in_sessions: in_sessions.get(&id).copied().unwrap_or(0.0),
                idle_shutdowns: idle.get(&id).copied().unwrap_or(0),
                automatic_shutdowns: shutdowns.get(&id).copied().unwrap_or(0),
                quota_left: limit.map(|l| (l - usage_now).max(0.0)),
                student,
            }
        })
        .collect();
    students.sort_by(|a, b| {
        let (an, bn) = (a.student.shown_name(), b.student.shown_name());
        an.to_lowercase()
            .cmp(&bn.to_lowercase())
            .then(a.student.id.get().cmp(&b.student.id.get()))
    });
    // The VMs ran in sessions too: VM-hours and energy count both kinds of time.
    // A fold from +0.0: `Sum` of no f64 is -0.0, which a report would show as "-0.0 VM-hours".
    let vm_hours = input
        .hours
        .iter()
        .fold(0.0, |sum, r| sum + r.hours + r.session_hours);
    let step = if input.to.duration_since(input.from) <= HOURLY_UP_TO {
        RunningStep::Hour
    } else {
        RunningStep::Day
    };
    UsageReport {
        class: input.class,
        zone: input.zone,
        from: input.from,
        to: input.to,
        history_from: input.history_from,
        students,
        vm_hours,
        wh_per_vm_hour: input.wh_per_vm_hour,
        energy_wh: vm_hours * f64::from(input.wh_per_vm_hour),
        running: running(&input.hours, input.from, input.to, step),
        step,
    }
}

/// The average running VMs of each step of `[from, to)`, zero where nothing ran.
fn running(
    rows: &[HourRow],
    from: Timestamp,
    to: Timestamp,
    step: RunningStep,
) -> Vec<RunningPoint> {
    let (length, start) = match step {
        RunningStep::Hour => (SignedDuration::from_hours(1), hour_of(from)),
        RunningStep::Day => (SignedDuration::from_hours(24), day_of(from)),
    };
    let mut sums: BTreeMap<Timestamp, f64> = BTreeMap::new();
    for row in rows {
        let key = match step {
            RunningStep::Hour => row.hour,
            RunningStep::Day => day_of(row.hour),
        };
        *sums.entry(key).or_default() += row.hours + row.session_hours;
    }
    let mut points = Vec::new();
    let mut at = start;
    while at < to {
        // A step the period cuts (the hour now under way) is averaged over the part inside.
        let inside = (at + length).min(to).duration_since(at.max(from));
        let inside_hours = inside.as_secs_f64() / 3600.0;
        let sum = sums.get(&at).copied().unwrap_or(0.0);
        points.push(RunningPoint {
            at,
            vms: if inside_hours > 0.0 {
                sum / inside_hours
            } else {
                0.0
            },
        });
        at += length;
    }
    points
}

/// The start of the UTC day that holds `at`.
fn day_of(at: Timestamp) -> Timestamp {
    let secs = at.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(86_400)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Role;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn person(id: i64, name: &str) -> User {
        User {
            id: UserId::new(id),
            username: None,
            external_id: None,
            display_name: Some(name.to_owned()),
            role: Role::User,
            created_at: at("2027-01-01T00:00:00Z"),
        }
    }

    fn row(user: i64, hour: &str, hours: f64) -> HourRow {
        HourRow {
            user: UserId::new(user),
            hour: at(hour),
            hours,
            session_hours: 0.0,
        }
    }

    fn input() -> ReportInput {
        ReportInput {
            class: ClassName::parse("net101").unwrap(),
            zone: ClassTimeZone::utc(),
            from: at("2027-01-15T08:00:00Z"),
            to: at("2027-01-15T12:00:00Z"),
            history_from: Some(at("2027-01-15T08:00:00Z")),
            students: vec![(person(2, "zoe"), 3.0), (person(1, "Ann"), 9.5)],
            quota: UsageQuota::new(10).unwrap(),
            hours: vec![
                row(1, "2027-01-15T08:00:00Z", 1.0),
                row(2, "2027-01-15T08:00:00Z", 0.5),
                row(1, "2027-01-15T09:00:00Z", 1.0),
            ],
            shutdowns: vec![
                ShutdownRow {
                    user: Some(UserId::new(2)),
                    reason: "idle".into(),
                    at: at("2027-01-15T09:10:00Z"),
                },
                ShutdownRow {
                    user: Some(UserId::new(2)),
                    reason: "outside_hours".into(),
                    at: at("2027-01-15T11:10:00Z"),
                },
            ],
            wh_per_vm_hour: 40,
        }
    }

    #[test]
    fn students_get_their_hours_shutdowns_and_quota_left_sorted_by_name() {
        let report = build(input());
        let names: Vec<&str> = report
            .students
            .iter()
            .map(|s| s.student.shown_name())
            .collect();
        assert_eq!(names, ["Ann", "zoe"]);
        let (ann, zoe) = (&report.students[0], &report.students[1]);
        assert_eq!(ann.hours_used, 2.0);
        assert_eq!(ann.quota_left, Some(0.5));
        assert_eq!((ann.idle_shutdowns, ann.automatic_shutdowns), (0, 0));
        assert_eq!(zoe.hours_used, 0.5);
        assert_eq!((zoe.idle_shutdowns, zoe.automatic_shutdowns), (1, 2));
        assert_eq!(zoe.hours_in_sessions, 0.0);
    }

    #[test]
    fn a_class_without_usage_has_zero_vm_hours_not_minus_zero() {
        let report = build(ReportInput {
            hours: Vec::new(),
            ..input()
        });
        assert_eq!(report.vm_hours, 0.0);
        assert!(report.vm_hours.is_sign_positive(), "{:?}", report.vm_hours);
        assert!(
            report.energy_wh.is_sign_positive(),
            "{:?}",
            report.energy_wh
        );
    }

    #[test]
    fn the_class_gets_vm_hours_energy_and_running_vms_per_hour_with_zeros() {
        let report = build(input());
        assert_eq!(report.vm_hours, 2.5);
        assert_eq!(report.energy_wh, 100.0);
        assert_eq!(report.step, RunningStep::Hour);
        let vms: Vec<f64> = report.running.iter().map(|p| p.vms).collect();
        assert_eq!(vms, [1.5, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn an_unlimited_quota_leaves_nothing_to_count_down_and_long_periods_go_by_day() {
        let mut long = input();
        long.quota = UsageQuota::UNLIMITED;
        long.from = at("2027-01-01T00:00:00Z");
        long.to = at("2027-03-01T00:00:00Z");
        let report = build(long);
        assert!(report.students.iter().all(|s| s.quota_left.is_none()));
        assert_eq!(report.step, RunningStep::Day);
        assert_eq!(report.running.len(), 59);
        let day = report
            .running
            .iter()
            .find(|p| p.at == at("2027-01-15T00:00:00Z"))
            .unwrap();
        assert!((day.vms - 2.5 / 24.0).abs() < 1e-12);
    }
}
