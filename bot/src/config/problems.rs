//! Configuration problems, gathered so that one run reports all of them.

use std::fmt;

/// One thing wrong with the configuration, at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key path as written in the file: `cluster[1].fingerprint`, `discord.guild[0].id`.
    pub key: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why the configuration could not be loaded: every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems (at least one).
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        writeln!(
            f,
            "the configuration has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Collects problems while the configuration is read.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    /// Records a problem at `key`.
    pub(crate) fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// How many problems were recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether a problem was already recorded at one of `keys`.
    pub(crate) fn mentions(&self, a: &str, b: &str) -> bool {
        self.0.iter().any(|p| p.key == a || p.key == b)
    }

    /// `Ok(value)` when nothing was recorded, else every problem.
    pub(crate) fn into_result<T>(self, value: T) -> Result<T, ConfigError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError { problems: self.0 })
        }
    }
}
