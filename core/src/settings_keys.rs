//! System settings: the typed keys of the `system_settings` key/value table.
//!
//! Every key has a type, a default, a description and a validation rule; a key that is not in
//! this list is refused (with the list), so a typo never silently stores a setting nobody reads.
//! Values are stored as canonical text ([`SettingValue`]'s `Display`), read back with
//! [`SettingKey::parse_value`], and gathered into [`SystemSettings`] with defaults for what is
//! not stored.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::token::TokenLifetime;
use crate::types::{ClassTimeZone, InvalidValue};

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
}

/// The kind of value a key holds, with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An interval in whole seconds within the bounds.
    Seconds {
        min: u64,
        max: u64,
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
    pub const ALL: [SettingKey; 13] = [
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
        }
    }

    /// What the setting does, for `settings get` listings and the `description` column.
    pub fn description(self) -> &'static str {
        match self {
            SettingKey::InventoryInterval => {
                "seconds between VM inventory refreshes of each cluster (10-3600)"
            }
            SettingKey::IpInterval => "seconds between VM address lookups (30-86400)",
            SettingKey::IsoInterval => "seconds between ISO image listings (60-604800)",
            SettingKey::UsageInterval => {
                "seconds between usage accounting runs for student VMs (10-3600)"
            }
            SettingKey::TemplateInterval => "seconds between template synchronisations (60-604800)",
            SettingKey::DefaultTimeZone => {
                "IANA time zone of classes that do not set their own (e.g. Europe/Berlin)"
            }
            SettingKey::JoinRateLimit => "join attempts allowed per user and minute (1-60)",
            SettingKey::CommandRateLimit => "commands allowed per user and minute (1-600)",
            SettingKey::WaitlistEnabled => {
                "true: students who find no free VM wait in line; false: they are refused"
            }
            SettingKey::DefaultTokenLifetime => {
                "lifetime of new join tokens when none is given: never, or e.g. 12h, 7d, 2w"
            }
            SettingKey::HoursWarningLead => {
                "seconds before the end of a class's hours that running VMs are warned (60-3600)"
            }
            SettingKey::IdleGrace => {
                "seconds an idle VM keeps running after its warning before it is shut down (60-3600)"
            }
            SettingKey::ShutdownForceAfter => {
                "seconds a guest may take to shut down before it is powered off (10-1800)"
            }
        }
    }

    fn kind(self) -> Kind {
        match self {
            SettingKey::InventoryInterval | SettingKey::UsageInterval => {
                Kind::Seconds { min: 10, max: 3600 }
            }
            SettingKey::IpInterval => Kind::Seconds {
                min: 30,
                max: 86_400,
            },
            SettingKey::IsoInterval | SettingKey::TemplateInterval => Kind::Seconds {
                min: 60,
                max: 7 * 86_400,
            },
            SettingKey::HoursWarningLead | SettingKey::IdleGrace => {
                Kind::Seconds { min: 60, max: 3600 }
            }
            SettingKey::ShutdownForceAfter => Kind::Seconds { min: 10, max: 1800 },
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
            SettingKey::InventoryInterval => SettingValue::Seconds(60),
            SettingKey::IpInterval => SettingValue::Seconds(300),
            SettingKey::IsoInterval => SettingValue::Seconds(3600),
            SettingKey::UsageInterval => SettingValue::Seconds(60),
            SettingKey::TemplateInterval => SettingValue::Seconds(3600),
            SettingKey::DefaultTimeZone => SettingValue::TimeZone(ClassTimeZone::utc()),
            SettingKey::JoinRateLimit => SettingValue::Count(5),
            SettingKey::CommandRateLimit => SettingValue::Count(30),
            SettingKey::WaitlistEnabled => SettingValue::Bool(true),
            SettingKey::DefaultTokenLifetime => SettingValue::Lifetime(TokenLifetime::Never),
            SettingKey::HoursWarningLead | SettingKey::IdleGrace => SettingValue::Seconds(600),
            SettingKey::ShutdownForceAfter => SettingValue::Seconds(180),
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

    /// Checks and converts a value for this key. Intervals accept whole seconds (`90`) or a
    /// number with `s`, `m` or `h` (`5m`); booleans accept `true`/`false`, `on`/`off`,
    /// `yes`/`no`.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the key, the value and the allowed form and range.
    pub fn parse_value(self, text: &str) -> Result<SettingValue, InvalidValue> {
        let t = text.trim();
        let bad = |allowed: String| InvalidValue::new(self.name(), text, allowed);
        match self.kind() {
            Kind::Seconds { min, max } => {
                let allowed =
                    || format!("whole seconds from {min} to {max}, or a number with s, m or h");
                let secs = parse_seconds(t).ok_or_else(|| bad(allowed()))?;
                if (min..=max).contains(&secs) {
                    Ok(SettingValue::Seconds(secs))
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

fn parse_seconds(t: &str) -> Option<u64> {
    let (number, unit) = match t.char_indices().last()? {
        (i, 's') => (&t[..i], 1),
        (i, 'm') => (&t[..i], 60),
        (i, 'h') => (&t[..i], 3600),
        _ => (t, 1),
    };
    number.parse::<u64>().ok()?.checked_mul(unit)
}

/// A checked setting value. Its `Display` is the canonical stored text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// An interval in seconds.
    Seconds(u64),
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
            SettingValue::Seconds(s) => write!(f, "{s}"),
            SettingValue::Count(n) => write!(f, "{n}"),
            SettingValue::Bool(b) => write!(f, "{b}"),
            SettingValue::TimeZone(z) => write!(f, "{z}"),
            SettingValue::Lifetime(l) => write!(f, "{l}"),
        }
    }
}

/// All system settings, typed, with defaults for every key that is not stored.
#[derive(Debug, Clone, Default)]
pub struct SystemSettings {
    stored: HashMap<SettingKey, SettingValue>,
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
            match SettingKey::parse(key).and_then(|k| Ok((k, k.parse_value(value)?))) {
                Ok((k, v)) => {
                    settings.stored.insert(k, v);
                }
                Err(e) => problems.push(e),
            }
        }
        (settings, problems)
    }

    /// Replaces one value (already checked by [`SettingKey::parse_value`]).
    pub fn set(&mut self, key: SettingKey, value: SettingValue) {
        self.stored.insert(key, value);
    }

    /// The value of `key`: stored, or the default.
    pub fn get(&self, key: SettingKey) -> SettingValue {
        self.stored
            .get(&key)
            .cloned()
            .unwrap_or_else(|| key.default_value())
    }

    fn interval(&self, key: SettingKey) -> Duration {
        match (self.get(key), key.default_value()) {
            (SettingValue::Seconds(s), _) | (_, SettingValue::Seconds(s)) => Duration::from_secs(s),
            // Every interval key defaults to seconds; a minute is a safe floor otherwise.
            _ => Duration::from_secs(60),
        }
    }

    fn count(&self, key: SettingKey) -> u32 {
        match (self.get(key), key.default_value()) {
            (SettingValue::Count(n), _) | (_, SettingValue::Count(n)) => n,
            _ => 1,
        }
    }

    /// Time between inventory refreshes.
    pub fn inventory_interval(&self) -> Duration {
        self.interval(SettingKey::InventoryInterval)
    }

    /// Time between address lookups.
    pub fn ip_interval(&self) -> Duration {
        self.interval(SettingKey::IpInterval)
    }

    /// Time between ISO listings.
    pub fn iso_interval(&self) -> Duration {
        self.interval(SettingKey::IsoInterval)
    }

    /// Time between usage accounting runs.
    pub fn usage_interval(&self) -> Duration {
        self.interval(SettingKey::UsageInterval)
    }

    /// Time between template synchronisations.
    pub fn template_interval(&self) -> Duration {
        self.interval(SettingKey::TemplateInterval)
    }

    /// The zone of classes without their own.
    pub fn default_time_zone(&self) -> ClassTimeZone {
        match self.get(SettingKey::DefaultTimeZone) {
            SettingValue::TimeZone(z) => z,
            _ => ClassTimeZone::utc(),
        }
    }

    /// Join attempts per user and minute.
    pub fn join_rate_limit(&self) -> u32 {
        self.count(SettingKey::JoinRateLimit)
    }

    /// Commands per user and minute.
    pub fn command_rate_limit(&self) -> u32 {
        self.count(SettingKey::CommandRateLimit)
    }

    /// Whether full pools put students on a waitlist.
    pub fn waitlist_enabled(&self) -> bool {
        !matches!(
            self.get(SettingKey::WaitlistEnabled),
            SettingValue::Bool(false)
        )
    }

    /// How long before the end of a class's hours its running VMs are warned.
    pub fn hours_warning_lead(&self) -> Duration {
        self.interval(SettingKey::HoursWarningLead)
    }

    /// How long an idle VM keeps running after its warning before it is shut down.
    pub fn idle_grace(&self) -> Duration {
        self.interval(SettingKey::IdleGrace)
    }

    /// How long a guest may take to shut down before it is powered off.
    pub fn shutdown_force_after(&self) -> Duration {
        self.interval(SettingKey::ShutdownForceAfter)
    }

    /// The lifetime of new join tokens when none is given.
    pub fn default_token_lifetime(&self) -> TokenLifetime {
        match self.get(SettingKey::DefaultTokenLifetime) {
            SettingValue::Lifetime(l) => l,
            _ => TokenLifetime::Never,
        }
    }
}

#[cfg(test)]
#[path = "settings_keys_tests.rs"]
mod tests;
