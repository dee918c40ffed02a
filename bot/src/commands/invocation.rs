//! A command with its option values, checked against the catalogue: every option exists and
//! every required one is there. Reading the values into types is left to the command, through
//! [`Invocation::required`] and [`Invocation::optional`] with a parser of [`crate::parse`].

use std::fmt;

use super::catalogue::{CommandSpec, LookupError};
use crate::console::grammar::quote_value;
use crate::parse::OptionError;

/// A command and its options as text, known to fit the command's spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The command.
    pub spec: &'static CommandSpec,
    values: Vec<(&'static str, String)>,
}

impl Invocation {
    /// Checks `options` against `spec`.
    ///
    /// # Errors
    /// [`LookupError::UnknownOption`] listing the command's options;
    /// [`LookupError::MissingOption`] for the first required option not given.
    pub fn new(
        spec: &'static CommandSpec,
        options: Vec<(String, String)>,
    ) -> Result<Self, LookupError> {
        let mut values = Vec::with_capacity(options.len());
        for (name, value) in options {
            let Some(known) = spec.option(&name) else {
                let known = if spec.options.is_empty() {
                    "it takes no options".to_owned()
                } else {
                    let names: Vec<_> = spec.options.iter().map(|o| o.name).collect();
                    format!("its options are {}", names.join(", "))
                };
                return Err(LookupError::UnknownOption {
                    command: spec.usage_name(),
                    name,
                    known,
                });
            };
            values.push((known.name, value));
        }
        if let Some(missing) = spec
            .options
            .iter()
            .find(|o| o.required && !values.iter().any(|(n, _)| *n == o.name))
        {
            return Err(LookupError::MissingOption {
                command: spec.usage_name(),
                name: missing.name,
            });
        }
        Ok(Self { spec, values })
    }

    /// The text of option `name`, if given.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Reads a required option with `parse`.
    ///
    /// # Errors
    /// The parser's [`OptionError`]; also one saying the option is needed if a command asks
    /// for a value its spec does not require and it was left out.
    pub fn required<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, OptionError>,
    ) -> Result<T, OptionError> {
        match self.raw(name) {
            Some(text) => parse(name, text),
            None => Err(OptionError::new(name, "", "this option is needed")),
        }
    }

    /// Reads an optional option with `parse`; `None` when it was not given.
    ///
    /// # Errors
    /// The parser's [`OptionError`].
    pub fn optional<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, OptionError>,
    ) -> Result<Option<T>, OptionError> {
        self.raw(name).map(|text| parse(name, text)).transpose()
    }
}

impl fmt::Display for Invocation {
    /// The command line (without a user), quoting values as the console grammar does, so it
    /// can serve as a button's command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec.usage_name())?;
        for (name, value) in &self.values {
            write!(f, " {name}:{}", quote_value(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::catalogue::{spec, CommandId};
    use crate::parse::numbers::pool_size;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_unknown_option_lists_the_commands_options() {
        let e = Invocation::new(
            spec(CommandId::PoolResize),
            pairs(&[("class", "a"), ("sise", "3")]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`/pool resize` has no option `sise`; its options are class, size, force"
        );
        let e = Invocation::new(spec(CommandId::ClassList), pairs(&[("all", "yes")])).unwrap_err();
        assert!(e.to_string().ends_with("it takes no options"), "{e}");
    }

    #[test]
    fn a_missing_required_option_is_named_with_how_to_write_it() {
        let e = Invocation::new(spec(CommandId::PoolResize), pairs(&[("class", "a")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`/pool resize` needs option `size` (write size:VALUE)"
        );
    }

    #[test]
    fn values_are_read_with_the_given_parser() {
        let call = Invocation::new(
            spec(CommandId::PoolResize),
            pairs(&[("class", "net101"), ("size", "12")]),
        )
        .unwrap();
        assert_eq!(call.required("size", pool_size).unwrap().get(), 12);
        assert_eq!(
            call.optional("force", crate::parse::numbers::flag),
            Ok(None)
        );
        let bad = Invocation::new(
            spec(CommandId::PoolResize),
            pairs(&[("class", "net101"), ("size", "lots")]),
        )
        .unwrap();
        assert_eq!(
            bad.required("size", pool_size).unwrap_err().option(),
            "size"
        );
    }

    #[test]
    fn an_invocation_prints_as_a_command_line_with_quotes_where_needed() {
        let call = Invocation::new(
            spec(CommandId::ClassInfo),
            pairs(&[("class", "Networks 101")]),
        )
        .unwrap();
        assert_eq!(call.to_string(), "/class info class:\"Networks 101\"");
    }
}
