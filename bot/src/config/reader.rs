//! Reading the merged configuration tree key by key, so a wrong type, a missing key or a typo
//! becomes a problem at its key path rather than the end of reading.
//!
//! serde would stop at the first error; this reader records each problem and goes on, which is
//! what lets `check-config` report everything at once.

use figment::value::{Dict, Value};

use super::problems::Problems;

/// One table of the configuration with its key path.
pub(crate) struct Table<'a> {
    path: String,
    dict: &'a Dict,
    read: Vec<&'static str>,
}

/// What a value is, for "expected X, found Y".
fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(..) | Value::Char(..) => "text",
        Value::Bool(..) => "true or false",
        Value::Num(..) => "a number",
        Value::Empty(..) => "nothing",
        Value::Dict(..) => "a table",
        Value::Array(..) => "a list",
    }
}

impl<'a> Table<'a> {
    /// The top-level table.
    pub(crate) fn root(dict: &'a Dict) -> Self {
        Self::at(String::new(), dict)
    }

    fn at(path: String, dict: &'a Dict) -> Self {
        Self {
            path,
            dict,
            read: Vec::new(),
        }
    }

    /// The full key path of `name` in this table. A name that is not a bare TOML key (an
    /// unknown key written `""` or `"a.b"` in the file) is shown quoted, as TOML writes it.
    pub(crate) fn key(&self, name: &str) -> String {
        let bare = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let name = if bare {
            name.to_owned()
        } else {
            format!("{name:?}")
        };
        if self.path.is_empty() {
            name
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// This table's own path (`cluster[0]`).
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.read.push(name);
        self.dict.get(name)
    }

    fn wrong(&self, p: &mut Problems, name: &str, expected: &str, found: &Value) {
        p.add(
            self.key(name),
            format!("expected {expected}, found {}", kind(found)),
        );
    }

    /// A text value.
    pub(crate) fn string(&mut self, name: &'static str, p: &mut Problems) -> Option<String> {
        match self.get(name)? {
            Value::String(_, s) => Some(s.clone()),
            Value::Char(_, c) => Some(c.to_string()),
            other => {
                self.wrong(p, name, "text in quotes", other);
                None
            }
        }
    }

    /// A boolean.
    pub(crate) fn bool(&mut self, name: &'static str, p: &mut Problems) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(_, b) => Some(*b),
            other => {
                self.wrong(p, name, "true or false", other);
                None
            }
        }
    }

    /// A whole number.
    pub(crate) fn int(&mut self, name: &'static str, p: &mut Problems) -> Option<i64> {
        let value = self.get(name)?;
        let number = match value {
            Value::Num(..) => value.to_i128().and_then(|n| i64::try_from(n).ok()),
            _ => None,
        };
        if number.is_none() {
            self.wrong(p, name, "a whole number", value);
        }
        number
    }

    /// A list of texts (an absent key is an empty list).
    pub(crate) fn strings(&mut self, name: &'static str, p: &mut Problems) -> Vec<String> {
        let Some(value) = self.get(name) else {
            return Vec::new();
        };
        let Value::Array(_, items) = value else {
            self.wrong(p, name, "a list of texts such as [\"a\", \"b\"]", value);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(_, s) => out.push(s.clone()),
                other => p.add(
                    format!("{}[{i}]", self.key(name)),
                    format!("expected text in quotes, found {}", kind(other)),
                ),
            }
        }
        out
    }

    /// A sub-table (`[discord]`).
    pub(crate) fn table(&mut self, name: &'static str, p: &mut Problems) -> Option<Table<'a>> {
        match self.get(name)? {
            Value::Dict(_, dict) => Some(Table::at(self.key(name), dict)),
            other => {
                self.wrong(p, name, "a table", other);
                None
            }
        }
    }

    /// An array of tables (`[[cluster]]`), each with its index in its path.
    pub(crate) fn tables(&mut self, name: &'static str, p: &mut Problems) -> Vec<Table<'a>> {
        let Some(value) = self.get(name) else {
            return Vec::new();
        };
        let Value::Array(_, items) = value else {
            self.wrong(p, name, &format!("a list of tables ([[{name}]])"), value);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let key = format!("{}[{i}]", self.key(name));
            match item {
                Value::Dict(_, dict) => out.push(Table::at(key, dict)),
                other => p.add(key, format!("expected a table, found {}", kind(other))),
            }
        }
        out
    }

    /// Reports every key of this table that nobody read: a typo, or a key of another version.
    pub(crate) fn finish(self, p: &mut Problems) {
        for name in self.dict.keys() {
            if !self.read.contains(&name.as_str()) {
                let mut known: Vec<&str> = self.read.clone();
                known.sort_unstable();
                known.dedup();
                p.add(
                    self.key(name),
                    format!("unknown key (known keys here: {})", known.join(", ")),
                );
            }
        }
    }
}
