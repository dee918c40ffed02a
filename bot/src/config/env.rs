//! The environment as the configuration sees it: a snapshot taken once by the binary, so the
//! library never reads the process environment itself and tests pass their own.
//!
//! Two uses: overrides of configuration keys (`PVELAB_DATABASE`, `PVELAB_DISCORD__API_URL`:
//! prefix `PVELAB_`, `__` between nested keys), merged over the file by figment; and secrets
//! (`PVELAB_SEALING_KEY`, `PVELAB_DISCORD_TOKEN`, a cluster's `secret_env`).

use std::collections::BTreeMap;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

/// Tables and keys that environment variables may override. Lists of tables (`[[cluster]]`)
/// cannot be addressed by a variable name, and the secrets' own variables
/// (`PVELAB_SEALING_KEY`, `PVELAB_DISCORD_TOKEN`) are not keys: both are left out.
const OVERRIDABLE: [&str; 4] = ["database", "sealing_key_file", "discord", "http"];

/// A snapshot of environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvVars(BTreeMap<String, String>);

impl std::fmt::Debug for EnvVars {
    /// Names only: values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EnvVars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl EnvVars {
    /// The value of `name`, if set and not empty (an empty variable counts as unset, as shells
    /// make it easy to set one by accident).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The configuration overrides: each `PVELAB_A__B` of an overridable table as key `a.b`.
    fn overrides(&self) -> Dict {
        let mut dict = Dict::new();
        for (name, value) in &self.0 {
            let Some(rest) = name.strip_prefix("PVELAB_") else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace("__", ".");
            let top = key.split('.').next().unwrap_or_default();
            if !OVERRIDABLE.contains(&top) || key.split('.').any(str::is_empty) {
                continue;
            }
            let nested = figment::util::nest(&key, Value::from(value.clone()));
            if let Value::Dict(_, nested) = nested {
                dict = merge(dict, nested);
            }
        }
        dict
    }
}

/// Merges `b` into `a`, recursing into tables (later wins).
fn merge(mut a: Dict, b: Dict) -> Dict {
    for (key, value) in b {
        let merged = match (a.remove(&key), value) {
            (Some(Value::Dict(_, old)), Value::Dict(tag, new)) => Value::Dict(tag, merge(old, new)),
            (_, new) => new,
        };
        a.insert(key, merged);
    }
    a
}

/// The environment overrides as a figment provider.
pub(crate) struct Overrides<'a>(pub(crate) &'a EnvVars);

impl Provider for Overrides<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable(s) PVELAB_*")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut map = Map::new();
        map.insert(Profile::Default, self.0.overrides());
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_underscores_nest_and_names_are_read_in_lower_case() {
        let env: EnvVars = [
            ("PVELAB_DISCORD__API_URL", "http://127.0.0.1:9"),
            ("PVELAB_DATABASE", "/var/lib/pvelab/lab.db"),
        ]
        .into_iter()
        .collect();
        let dict = env.overrides();
        assert_eq!(
            dict.get("database").and_then(Value::as_str),
            Some("/var/lib/pvelab/lab.db")
        );
        let api = Value::from(dict).find("discord.api_url");
        assert_eq!(
            api.as_ref().and_then(Value::as_str),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn secret_variables_and_unrelated_variables_are_not_keys() {
        let env: EnvVars = [
            ("PVELAB_SEALING_KEY", "00"),
            ("PVELAB_DISCORD_TOKEN", "t"),
            ("PVELAB_LOG", "debug"),
            ("PVELAB_CLUSTER__0__URL", "https://x"),
            ("PVELAB_HTTP____LISTEN", "x"),
            ("HOME", "/root"),
        ]
        .into_iter()
        .collect();
        assert!(env.overrides().is_empty());
    }

    #[test]
    fn an_empty_variable_counts_as_unset_and_debug_shows_no_values() {
        let env: EnvVars = [("PVELAB_SEALING_KEY", ""), ("SECRET", "hunter2")]
            .into_iter()
            .collect();
        assert_eq!(env.get("PVELAB_SEALING_KEY"), None);
        assert!(!format!("{env:?}").contains("hunter2"));
    }
}
