//! System settings: the typed keys of the `system_settings` key/value table.
//!
//! Every key has a type, a default, a description and a validation rule; a key that is not in
//! this list is refused (with the list), so a typo never silently stores a setting nobody reads.
//! Values are stored as canonical text ([`SettingValue`]'s `Display`), read back with
//! [`SettingKey::parse_value`], and gathered into the typed [`SystemSettings`] with defaults
//! for what is not stored. Intervals and the token lifetime use the core's one duration syntax
//! ([`DurationText`]: `90s`, `5m`, `1h 30m`, `7d`), so `7d` means the same in every setting and
//! in a teacher's `expires` option.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::SignedDuration;

use crate::token::TokenLifetime;
use crate::types::{ClassTimeZone, DurationText, InvalidValue};

/// A known system setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SettingKey {
    /// How often the VM inventory of each cluster is refreshed.
    InventoryInterval,
    /// How often VM addresses are looked up.
    IpInterval,
    /// How often ISO images are listed.
    IsoInterval,
    /// How often the running time of student VMs is added to their usage.
    UsageInterval,
    /// How often templates are synchronised.
    TemplateInterval,
    /// The time zone of classes that do not set their own.
    DefaultTimeZone,
    /// Join attempts allowed per user and minute (slows down token guessing).
    JoinRateLimit,
    /// Commands allowed per user and minute.
    CommandRateLimit,
    /// Whether students who find no free VM wait in line (else they are told the pool is full).
    WaitlistEnabled,
    /// How long a new join token works when the teacher does not say.
    DefaultTokenLifetime,
    /// How long before the end of a class's hours its running VMs are warned.
    HoursWarningLead,
    /// How long an idle VM keeps running after its warning before it is shut down.
    IdleGrace,
    /// How long a guest may take to shut down before it is powered off.
    ShutdownForceAfter,
    /// How long before a class session its student VMs are started (and the session
    /// announced).
    SessionLead,
    /// The estimated energy of one VM running one hour, in Wh (usage reports).
    EnergyPerVmHour,
    /// How long the usage history behind reports is kept.
    ReportRetention,
    /// How far the memory of a node's running guests plus a planned pool may exceed the node's
    /// memory, in percent of it (capacity planning).
    MemoryOvercommit,
}

/// The kind of value a key holds, with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An interval within the bounds, in seconds.
    Interval {
        min: i64,
        max: i64,
    },
    /// A count within the bounds.
    Count {
        min: u32,
        max: u32,
    },
    Bool,
    TimeZone,
    Lifetime,
}

impl SettingKey {
    /// Every key, in display order.
    pub const ALL: [SettingKey; 17] = [
        SettingKey::InventoryInterval,
        SettingKey::IpInterval,
        SettingKey::IsoInterval,
        SettingKey::UsageInterval,
        SettingKey::TemplateInterval,
        SettingKey::DefaultTimeZone,
        SettingKey::JoinRateLimit,
        SettingKey::CommandRateLimit,
        SettingKey::WaitlistEnabled,
        SettingKey::DefaultTokenLifetime,
        SettingKey::HoursWarningLead,
        SettingKey::IdleGrace,
        SettingKey::ShutdownForceAfter,
        SettingKey::SessionLead,
        SettingKey::EnergyPerVmHour,
        SettingKey::ReportRetention,
        SettingKey::MemoryOvercommit,
    ];

    /// The stored key name.
    pub fn name(self) -> &'static str {
        match self {
            SettingKey::InventoryInterval => "sync.inventory_interval",
            SettingKey::IpInterval => "sync.ip_interval",
            SettingKey::IsoInterval => "sync.iso_interval",
            SettingKey::UsageInterval => "sync.usage_interval",
            SettingKey::TemplateInterval => "sync.template_interval",
            SettingKey::DefaultTimeZone => "default_time_zone",
            SettingKey::JoinRateLimit => "rate_limit.join_per_minute",
            SettingKey::CommandRateLimit => "rate_limit.commands_per_minute",
            SettingKey::WaitlistEnabled => "waitlist.enabled",
            SettingKey::DefaultTokenLifetime => "token.default_lifetime",
            SettingKey::HoursWarningLead => "shutdown.hours_warning_lead",
            SettingKey::IdleGrace => "shutdown.idle_grace",
            SettingKey::ShutdownForceAfter => "shutdown.force_after",
            SettingKey::SessionLead => "sessions.lead",
            SettingKey::EnergyPerVmHour => "reports.energy_wh_per_vm_hour",
            SettingKey::ReportRetention => "reports.history_retention",
            SettingKey::MemoryOvercommit => "capacity.memory_overcommit_percent",
        }
    }

    /// What the setting does, for `settings get` listings and the `description` column.
    pub fn description(self) -> &'static str {
        match self {
            SettingKey::InventoryInterval => {
                "time between VM inventory refreshes of each cluster (10s to 1h, e.g. 90s)"
            }
            SettingKey::IpInterval => "time between VM address lookups (30s to 1d, e.g. 5m)",
            SettingKey::IsoInterval => "time between ISO image listings (1m to 1w, e.g. 1h)",
            SettingKey::UsageInterval => {
                "time between usage accounting runs for student VMs (10s to 1h, e.g. 1m)"
            }
            SettingKey::TemplateInterval => {
                "time between template synchronisations (1m to 1w, e.g. 1h)"
            }
            SettingKey::DefaultTimeZone => {
                "IANA time zone of classes that do not set their own (e.g. Europe/Berlin)"
            }
            SettingKey::JoinRateLimit => "join attempts allowed per user and minute (1-60)",
            SettingKey::CommandRateLimit => "commands allowed per user and minute (1-600)",
            SettingKey::WaitlistEnabled => {
                "true: students who find no free VM wait in line; false: they are refused"
            }
            SettingKey::DefaultTokenLifetime => {
                "lifetime of new join tokens when none is given: never, or 1m to 365d, e.g. 12h, 7d"
            }
            SettingKey::HoursWarningLead => {
                "time before the end of a class's hours that its running VMs are warned \
                 (1m to 1h, e.g. 10m)"
            }
            SettingKey::IdleGrace => {
                "time an idle VM keeps running after its warning before it is shut down \
                 (1m to 1h, e.g. 10m)"
            }
            SettingKey::ShutdownForceAfter => {
                "time a guest may take to shut down before it is powered off (10s to 30m, e.g. 3m)"
            }
            SettingKey::SessionLead => {
                "time before a class session that its student VMs are started and the session \
                 announced (1m to 2h, e.g. 10m)"
            }
            SettingKey::EnergyPerVmHour => {
                "estimated energy of one VM running one hour in Wh, for usage reports \
                 (1-5000; default 30)"
            }
            SettingKey::ReportRetention => {
                "how long the usage history behind reports is kept (1d to 3650d; default 400d)"
            }
            SettingKey::MemoryOvercommit => {
                "memory a node's running VMs plus a planned pool may use, in percent of the \
                 node's memory (50-400; default 100: no overcommit)"
            }
        }
    }

    fn kind(self) -> Kind {
        match self {
            SettingKey::InventoryInterval | SettingKey::UsageInterval => {
                Kind::Interval { min: 10, max: 3600 }
            }
            SettingKey::IpInterval => Kind::Interval {
                min: 30,
                max: 86_400,
            },
            SettingKey::IsoInterval | SettingKey::TemplateInterval => Kind::Interval {
                min: 60,
                max: 7 * 86_400,
            },
            SettingKey::HoursWarningLead | SettingKey::IdleGrace => {
                Kind::Interval { min: 60, max: 3600 }
            }
            SettingKey::ShutdownForceAfter => Kind::Interval { min: 10, max: 1800 },
            SettingKey::SessionLead => Kind::Interval { min: 60, max: 7200 },
            SettingKey::EnergyPerVmHour => Kind::Count { min: 1, max: 5000 },
            SettingKey::ReportRetention => Kind::Interval {
                min: 86_400,
                max: 3650 * 86_400,
            },
            SettingKey::MemoryOvercommit => Kind::Count { min: 50, max: 400 },
            SettingKey::DefaultTimeZone => Kind::TimeZone,
            SettingKey::JoinRateLimit => Kind::Count { min: 1, max: 60 },
            SettingKey::CommandRateLimit => Kind::Count { min: 1, max: 600 },
            SettingKey::WaitlistEnabled => Kind::Bool,
            SettingKey::DefaultTokenLifetime => Kind::Lifetime,
        }
    }

    /// The value used when nothing is stored.
    pub fn default_value(self) -> SettingValue {
        match self {
            SettingKey::InventoryInterval => interval(60),
            SettingKey::IpInterval => interval(300),
            SettingKey::IsoInterval => interval(3600),
            SettingKey::UsageInterval => interval(60),
            SettingKey::TemplateInterval => interval(3600),
            SettingKey::DefaultTimeZone => SettingValue::TimeZone(ClassTimeZone::utc()),
            SettingKey::JoinRateLimit => SettingValue::Count(5),
            SettingKey::CommandRateLimit => SettingValue::Count(30),
            SettingKey::WaitlistEnabled => SettingValue::Bool(true),
            SettingKey::DefaultTokenLifetime => SettingValue::Lifetime(TokenLifetime::Never),
            SettingKey::HoursWarningLead | SettingKey::IdleGrace => interval(600),
            SettingKey::ShutdownForceAfter => interval(180),
            SettingKey::SessionLead => interval(600),
            SettingKey::EnergyPerVmHour => SettingValue::Count(30),
            SettingKey::ReportRetention => interval(400 * 86_400),
            SettingKey::MemoryOvercommit => SettingValue::Count(100),
        }
    }

    /// Looks up a key by its stored name.
    ///
    /// # Errors
    /// [`InvalidValue`] for an unknown name, listing every known one.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::{SettingKey, SettingValue};
    /// let key = SettingKey::parse("rate_limit.join_per_minute")?;
    /// assert_eq!(key.parse_value("10")?, SettingValue::Count(10));
    /// assert!(key.parse_value("1000").is_err());
    /// assert!(SettingKey::parse("rate_limit.join").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        let name = name.trim();
        SettingKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = SettingKey::ALL.iter().map(|k| k.name()).collect();
                InvalidValue::new(
                    "setting",
                    name,
                    format!("known settings are {}", known.join(", ")),
                )
            })
    }

    /// Checks and converts a value for this key. Intervals are durations in the core's one
    /// syntax ([`DurationText`]: `90s`, `5m`, `1h 30m`); booleans accept `true`/`false`,
    /// `on`/`off`, `yes`/`no`.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the key, the value and the allowed form and range.
    pub fn parse_value(self, text: &str) -> Result<SettingValue, InvalidValue> {
        let t = text.trim();
        let bad = |allowed: String| InvalidValue::new(self.name(), text, allowed);
        match self.kind() {
            Kind::Interval { min, max } => {
                let (low, high) = (interval_text(min), interval_text(max));
                let allowed = || {
                    format!(
                        "a duration from {low} to {high}, such as 90s, 5m or 1h 30m \
                         (a day is 24 hours)"
                    )
                };
                let length = DurationText::parse(t).map_err(|_| bad(allowed()))?;
                let range = SignedDuration::from_secs(min)..=SignedDuration::from_secs(max);
                if range.contains(&length.get()) {
                    Ok(SettingValue::Interval(length))
                } else {
                    Err(bad(allowed()))
                }
            }
            Kind::Count { min, max } => t
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(SettingValue::Count)
                .ok_or_else(|| bad(format!("a whole number from {min} to {max}"))),
            Kind::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" => Ok(SettingValue::Bool(true)),
                "false" | "off" | "no" => Ok(SettingValue::Bool(false)),
                _ => Err(bad("true or false".to_owned())),
            },
            Kind::TimeZone => ClassTimeZone::parse(t)
                .map(SettingValue::TimeZone)
                .map_err(|e| bad(e.allowed().to_owned())),
            Kind::Lifetime => TokenLifetime::parse(t)
                .map(SettingValue::Lifetime)
                .map_err(|e| bad(e.allowed().to_owned())),
        }
    }
}

impl FromStr for SettingKey {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An interval of `secs` seconds (a positive constant of this file).
fn interval(secs: i64) -> SettingValue {
    SettingValue::Interval(interval_text(secs))
}

fn interval_text(secs: i64) -> DurationText {
    DurationText::new(SignedDuration::from_secs(secs)).expect("interval bounds are positive")
}

/// A checked setting value. Its `Display` is the canonical stored text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// An interval.
    Interval(DurationText),
    /// A count.
    Count(u32),
    /// On or off.
    Bool(bool),
    /// A time zone.
    TimeZone(ClassTimeZone),
    /// A token lifetime.
    Lifetime(TokenLifetime),
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Interval(d) => write!(f, "{d}"),
            SettingValue::Count(n) => write!(f, "{n}"),
            SettingValue::Bool(b) => write!(f, "{b}"),
            SettingValue::TimeZone(z) => write!(f, "{z}"),
            SettingValue::Lifetime(l) => write!(f, "{l}"),
        }
    }
}

/// All system settings, typed: one field per key, each holding the stored value or the key's
/// default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSettings {
    inventory_interval: DurationText,
    ip_interval: DurationText,
    iso_interval: DurationText,
    usage_interval: DurationText,
    template_interval: DurationText,
    default_time_zone: ClassTimeZone,
    join_rate_limit: u32,
    command_rate_limit: u32,
    waitlist_enabled: bool,
    default_token_lifetime: TokenLifetime,
    hours_warning_lead: DurationText,
    idle_grace: DurationText,
    shutdown_force_after: DurationText,
    session_lead: DurationText,
    energy_wh_per_vm_hour: u32,
    report_retention: DurationText,
    memory_overcommit_percent: u32,
}

impl Default for SystemSettings {
    /// Every key at its default ([`SettingKey::default_value`]).
    fn default() -> Self {
        let mut settings = Self {
            inventory_interval: interval_text(60),
            ip_interval: interval_text(60),
            iso_interval: interval_text(60),
            usage_interval: interval_text(60),
            template_interval: interval_text(60),
            default_time_zone: ClassTimeZone::utc(),
            join_rate_limit: 1,
            command_rate_limit: 1,
            waitlist_enabled: true,
            default_token_lifetime: TokenLifetime::Never,
            hours_warning_lead: interval_text(60),
            idle_grace: interval_text(60),
            shutdown_force_after: interval_text(60),
            session_lead: interval_text(60),
            energy_wh_per_vm_hour: 1,
            report_retention: interval_text(60),
            memory_overcommit_percent: 100,
        };
        // The defaults are stated once, in `default_value`.
        for key in SettingKey::ALL {
            settings.put(key, key.default_value());
        }
        settings
    }
}

impl SystemSettings {
    /// Builds the settings from stored `(key, value)` rows.
    ///
    /// Reading never fails: a row with an unknown key (written by a newer version) is skipped,
    /// and a row whose value no longer validates keeps the default; both are returned as
    /// problems for the caller to log.
    pub fn from_stored<'a>(
        rows: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Self, Vec<InvalidValue>) {
        let mut settings = Self::default();
        let mut problems = Vec::new();
        for (key, value) in rows {
            if let Err(e) = SettingKey::parse(key).and_then(|k| settings.set(k, value)) {
                problems.push(e);
            }
        }
        (settings, problems)
    }

    /// Checks `text` for `key` ([`SettingKey::parse_value`]) and stores it; returns the value.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the key, the value and what is allowed; nothing changes then.
    pub fn set(&mut self, key: SettingKey, text: &str) -> Result<SettingValue, InvalidValue> {
        let value = key.parse_value(text)?;
        self.put(key, value.clone());
        Ok(value)
    }

    /// Stores a value that `parse_value` made for `key` (so its kind matches the key's).
    fn put(&mut self, key: SettingKey, value: SettingValue) {
        use SettingKey as K;
        use SettingValue as V;
        match (key, value) {
            (K::InventoryInterval, V::Interval(d)) => self.inventory_interval = d,
            (K::IpInterval, V::Interval(d)) => self.ip_interval = d,
            (K::IsoInterval, V::Interval(d)) => self.iso_interval = d,
            (K::UsageInterval, V::Interval(d)) => self.usage_interval = d,
            (K::TemplateInterval, V::Interval(d)) => self.template_interval = d,
            (K::DefaultTimeZone, V::TimeZone(z)) => self.default_time_zone = z,
            (K::JoinRateLimit, V::Count(n)) => self.join_rate_limit = n,
            (K::CommandRateLimit, V::Count(n)) => self.command_rate_limit = n,
            (K::WaitlistEnabled, V::Bool(b)) => self.waitlist_enabled = b,
            (K::DefaultTokenLifetime, V::Lifetime(l)) => self.default_token_lifetime = l,
            (K::HoursWarningLead, V::Interval(d)) => self.hours_warning_lead = d,
            (K::IdleGrace, V::Interval(d)) => self.idle_grace = d,
            (K::ShutdownForceAfter, V::Interval(d)) => self.shutdown_force_after = d,
            (K::SessionLead, V::Interval(d)) => self.session_lead = d,
            (K::EnergyPerVmHour, V::Count(n)) => self.energy_wh_per_vm_hour = n,
            (K::ReportRetention, V::Interval(d)) => self.report_retention = d,
            (K::MemoryOvercommit, V::Count(n)) => self.memory_overcommit_percent = n,
            // `parse_value` gives each key its own kind of value; nothing else reaches here.
            (key, value) => {
                tracing::error!(%key, %value, "a setting value of the wrong kind was ignored");
            }
        }
    }

    /// The value of `key`, as text-ready [`SettingValue`].
    pub fn get(&self, key: SettingKey) -> SettingValue {
        match key {
            SettingKey::InventoryInterval => SettingValue::Interval(self.inventory_interval),
            SettingKey::IpInterval => SettingValue::Interval(self.ip_interval),
            SettingKey::IsoInterval => SettingValue::Interval(self.iso_interval),
            SettingKey::UsageInterval => SettingValue::Interval(self.usage_interval),
            SettingKey::TemplateInterval => SettingValue::Interval(self.template_interval),
            SettingKey::DefaultTimeZone => SettingValue::TimeZone(self.default_time_zone.clone()),
            SettingKey::JoinRateLimit => SettingValue::Count(self.join_rate_limit),
            SettingKey::CommandRateLimit => SettingValue::Count(self.command_rate_limit),
            SettingKey::WaitlistEnabled => SettingValue::Bool(self.waitlist_enabled),
            SettingKey::DefaultTokenLifetime => SettingValue::Lifetime(self.default_token_lifetime),
            SettingKey::HoursWarningLead => SettingValue::Interval(self.hours_warning_lead),
            SettingKey::IdleGrace => SettingValue::Interval(self.idle_grace),
            SettingKey::ShutdownForceAfter => SettingValue::Interval(self.shutdown_force_after),
            SettingKey::SessionLead => SettingValue::Interval(self.session_lead),
            SettingKey::EnergyPerVmHour => SettingValue::Count(self.energy_wh_per_vm_hour),
            SettingKey::ReportRetention => SettingValue::Interval(self.report_retention),
            SettingKey::MemoryOvercommit => SettingValue::Count(self.memory_overcommit_percent),
        }
    }

    /// Time between inventory refreshes.
    pub fn inventory_interval(&self) -> Duration {
        self.inventory_interval.as_std()
    }

    /// Time between address lookups.
    pub fn ip_interval(&self) -> Duration {
        self.ip_interval.as_std()
    }

    /// Time between ISO listings.
    pub fn iso_interval(&self) -> Duration {
        self.iso_interval.as_std()
    }

    /// Time between usage accounting runs.
    pub fn usage_interval(&self) -> Duration {
        self.usage_interval.as_std()
    }

    /// Time between template synchronisations.
    pub fn template_interval(&self) -> Duration {
        self.template_interval.as_std()
    }

    /// The zone of classes without their own.
    pub fn default_time_zone(&self) -> ClassTimeZone {
        self.default_time_zone.clone()
    }

    /// Join attempts per user and minute (at least 1).
    pub fn join_rate_limit(&self) -> u32 {
        self.join_rate_limit
    }

    /// Commands per user and minute (at least 1).
    pub fn command_rate_limit(&self) -> u32 {
        self.command_rate_limit
    }

    /// Whether full pools put students on a waitlist.
    pub fn waitlist_enabled(&self) -> bool {
        self.waitlist_enabled
    }

    /// How long before the end of a class's hours its running VMs are warned.
    pub fn hours_warning_lead(&self) -> Duration {
        self.hours_warning_lead.as_std()
    }

    /// How long an idle VM keeps running after its warning before it is shut down.
    pub fn idle_grace(&self) -> Duration {
        self.idle_grace.as_std()
    }

    /// How long a guest may take to shut down before it is powered off.
    pub fn shutdown_force_after(&self) -> Duration {
        self.shutdown_force_after.as_std()
    }

    /// How long before a class session its student VMs are started.
    pub fn session_lead(&self) -> Duration {
        self.session_lead.as_std()
    }

    /// The lifetime of new join tokens when none is given.
    pub fn default_token_lifetime(&self) -> TokenLifetime {
        self.default_token_lifetime
    }

    /// The estimated energy of one VM running one hour, in Wh.
    pub fn energy_wh_per_vm_hour(&self) -> u32 {
        self.energy_wh_per_vm_hour
    }

    /// How long the usage history behind reports is kept.
    pub fn report_retention(&self) -> Duration {
        self.report_retention.as_std()
    }

    /// How much memory a node's running VMs plus a planned pool may use, in percent of the
    /// node's memory (100: no overcommit).
    pub fn memory_overcommit_percent(&self) -> u32 {
        self.memory_overcommit_percent
    }
}

#[cfg(test)]
#[path = "settings_keys_tests.rs"]
mod tests;
