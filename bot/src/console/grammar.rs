//! The console's line grammar (pure; no I/O):
//!
//! ```text
//! USER[:ROLE] /command [group] [subcommand] [option:value ...]   # comment
//! ```
//!
//! - `USER` is a console user name ([`ConsoleName`]); `ROLE` is `user`, `teacher` or `adminer`
//!   (default `user`).
//! - `/command` and up to two words after it (`/class coowner add`) name the command as Discord
//!   would: a command, an optional subcommand group and a subcommand. Names are read in lower
//!   case, as Discord's are.
//! - `option:value` pairs follow. A value runs to the next whitespace, or is quoted in double
//!   quotes when it holds spaces (`name:"Networks 101"`), where `\"` is a quote and `\\` a
//!   backslash. An option may appear once.
//! - `#` outside quotes starts a comment; blank and comment-only lines are skipped.
//!
//! Which commands and options exist is not the grammar's business: the catalogue checks that
//! afterwards, so these errors are only about the shape of the line. Each names its column.

use std::fmt;

use pvelab_core::types::Role;

use crate::parse::people::ConsoleName;

/// One parsed console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLine {
    /// Who types the command.
    pub user: ConsoleName,
    /// The role they act with (the console's stand-in for Discord's server roles).
    pub role: Role,
    /// The command without its slash (`class`).
    pub command: String,
    /// Subcommand group and subcommand, in order (`["coowner", "add"]`); at most two.
    pub path: Vec<String>,
    /// `name:value` pairs in the order given; names are unique.
    pub options: Vec<(String, String)>,
}

/// Why a line could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarError {
    /// 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a line. The `Display` texts say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The user part is not a console user name.
    BadUser(String),
    /// The role after `USER:` is not one of the three.
    UnknownRole(String),
    /// The line has a user but no command.
    MissingCommand,
    /// The word after the user does not start with `/`.
    NotACommand(String),
    /// A command, subcommand or option name with characters names cannot have.
    BadName(String),
    /// `name:` with nothing after the colon.
    OptionWithoutValue(String),
    /// `:value` with nothing before the colon.
    OptionWithoutName,
    /// An option given a second time.
    OptionTwice(String),
    /// A quoted value that never closes.
    UnterminatedQuote,
    /// A backslash in a quoted value before something other than `"` or `\`.
    UnknownEscape(char),
    /// A quote inside a bare word or value, or text glued to a closing quote.
    MisplacedQuote,
    /// A word where an option was expected (after options, or a third subcommand word).
    StrayWord(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadUser(u) => write!(
                f,
                "`{u}` is not a console user name ({})",
                ConsoleName::ALLOWED
            ),
            Problem::UnknownRole(r) => write!(f, "unknown role `{r}` (user, teacher or adminer)"),
            Problem::MissingCommand => {
                f.write_str("a command is missing after the user (write e.g. alice /myvm)")
            }
            Problem::NotACommand(w) => write!(
                f,
                "`{w}` is not a command: commands start with / (write /{})",
                w.trim_start_matches('/')
            ),
            Problem::BadName(n) => write!(
                f,
                "`{n}` is not a valid name (letters, digits, - and _, starting with a letter)"
            ),
            Problem::OptionWithoutValue(n) => {
                write!(f, "option `{n}` has no value (write {n}:VALUE)")
            }
            Problem::OptionWithoutName => {
                f.write_str("a value without an option name (write name:VALUE)")
            }
            Problem::OptionTwice(n) => write!(f, "option `{n}` is given twice"),
            Problem::UnterminatedQuote => {
                f.write_str("unterminated quote (close the value with \")")
            }
            Problem::UnknownEscape(c) => write!(
                f,
                "unknown escape `\\{c}` in a quoted value (only \\\" and \\\\ are escapes)"
            ),
            Problem::MisplacedQuote => f.write_str(
                "a quote may only enclose a whole value (write name:\"a value with spaces\")",
            ),
            Problem::StrayWord(w) => write!(
                f,
                "unexpected `{w}`: options are written name:value, after the subcommand"
            ),
        }
    }
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.problem)
    }
}

impl std::error::Error for GrammarError {}

/// Reads one line. `Ok(None)` for a blank or comment-only line.
///
/// # Errors
/// [`GrammarError`] naming the first problem and its column.
///
/// # Examples
/// ```
/// use pvelab_bot::console::grammar::parse_line;
/// let line = parse_line(r#"tom:teacher /class create name:"Networks 101" pool:20"#)?
///     .expect("a command");
/// assert_eq!(line.command, "class");
/// assert_eq!(line.path, ["create"]);
/// assert_eq!(line.options[0], ("name".to_owned(), "Networks 101".to_owned()));
/// # Ok::<(), pvelab_bot::console::grammar::GrammarError>(())
/// ```
pub fn parse_line(text: &str) -> Result<Option<ConsoleLine>, GrammarError> {
    Scanner::new(text).line()
}

/// Whether `name` can be a command, subcommand or option name: ASCII letters (read in lower
/// case), digits, `-` and `_`, starting with a letter.
fn is_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn err<T>(&self, column: usize, problem: Problem) -> Result<T, GrammarError> {
        Err(GrammarError { column, problem })
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Whether the rest of the line is empty or a comment.
    fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some('#'))
    }

    /// Reads a bare word up to whitespace, `#` or a `stop` character; a quote inside is an error.
    fn bare(&mut self, stop: Option<char>) -> Result<String, GrammarError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '#' || Some(c) == stop {
                break;
            }
            if c == '"' {
                return self.err(self.column(), Problem::MisplacedQuote);
            }
            out.push(c);
            self.pos += 1;
        }
        Ok(out)
    }

    /// Reads a quoted value; the scanner is at the opening quote.
    fn quoted(&mut self) -> Result<String, GrammarError> {
        let open = self.column();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return self.err(open, Problem::UnterminatedQuote),
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    let at = self.column();
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        Some(c) => return self.err(at, Problem::UnknownEscape(c)),
                        None => return self.err(open, Problem::UnterminatedQuote),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        if !(self.at_end() || self.peek().is_some_and(char::is_whitespace)) {
            return self.err(self.column(), Problem::MisplacedQuote);
        }
        Ok(out)
    }

    fn line(mut self) -> Result<Option<ConsoleLine>, GrammarError> {
        self.skip_space();
        if self.at_end() {
            return Ok(None);
        }
        let (user, role) = self.speaker()?;
        self.skip_space();
        if self.at_end() {
            return self.err(self.column(), Problem::MissingCommand);
        }
        let at = self.column();
        let word = self.bare(None)?;
        let Some(command) = word.strip_prefix('/') else {
            return self.err(at, Problem::NotACommand(word));
        };
        if !is_name(command) {
            return self.err(at, Problem::BadName(word));
        }
        let mut line = ConsoleLine {
            user,
            role,
            command: command.to_ascii_lowercase(),
            path: Vec::new(),
            options: Vec::new(),
        };
        loop {
            self.skip_space();
            if self.at_end() {
                return Ok(Some(line));
            }
            self.item(&mut line)?;
        }
    }

    /// `USER` or `USER:ROLE`.
    fn speaker(&mut self) -> Result<(ConsoleName, Role), GrammarError> {
        let at = self.column();
        let name = self.bare(Some(':'))?;
        let Some(user) = ConsoleName::parse(&name) else {
            return self.err(at, Problem::BadUser(name));
        };
        if self.peek() != Some(':') {
            return Ok((user, Role::User));
        }
        self.pos += 1;
        let at = self.column();
        let role = self.bare(None)?;
        let role = match role.as_str() {
            "user" => Role::User,
            "teacher" => Role::Teacher,
            "adminer" => Role::Adminer,
            _ => return self.err(at, Problem::UnknownRole(role)),
        };
        Ok((user, role))
    }

    /// A subcommand word or a `name:value` option.
    fn item(&mut self, line: &mut ConsoleLine) -> Result<(), GrammarError> {
        let at = self.column();
        let name = self.bare(Some(':'))?;
        if self.peek() != Some(':') {
            if !line.options.is_empty() || line.path.len() == 2 {
                return self.err(at, Problem::StrayWord(name));
            }
            if !is_name(&name) {
                return self.err(at, Problem::BadName(name));
            }
            line.path.push(name.to_ascii_lowercase());
            return Ok(());
        }
        if name.is_empty() {
            return self.err(at, Problem::OptionWithoutName);
        }
        if !is_name(&name) {
            return self.err(at, Problem::BadName(name));
        }
        let name = name.to_ascii_lowercase();
        self.pos += 1; // the colon
        let value = match self.peek() {
            Some('"') => self.quoted()?,
            Some(c) if !c.is_whitespace() && c != '#' => self.bare(None)?,
            _ => return self.err(at, Problem::OptionWithoutValue(name)),
        };
        if line.options.iter().any(|(n, _)| *n == name) {
            return self.err(at, Problem::OptionTwice(name));
        }
        line.options.push((name, value));
        Ok(())
    }
}

/// A value as the grammar reads it back: bare when it can be, else in double quotes with `"`
/// and `\` escaped. Used to print lines and the command lines of buttons.
pub fn quote_value(value: &str) -> String {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || "\"\\#".contains(c))
    {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

impl fmt::Display for ConsoleLine {
    /// The line in the grammar's own form; parsing it gives back an equal [`ConsoleLine`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} /{}", self.user, self.role, self.command)?;
        for word in &self.path {
            write!(f, " {word}")?;
        }
        for (name, value) in &self.options {
            write!(f, " {name}:{}", quote_value(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "grammar_tests.rs"]
mod tests;
