//! Join tokens: how a student proves they were invited to a class.
//!
//! A token is 128 bits from the operating system's random source, written as 22 URL-safe base64
//! characters. Only its SHA-256 hash is stored: a token has as much entropy as a key, so a fast
//! hash is enough (no dictionary to try), and lookups by hash stay cheap. The full token is
//! shown once, when it is created or rotated.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::OsRng;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::types::{DurationText, InvalidValue};

/// Random bytes per token: 128 bits.
const TOKEN_BYTES: usize = 16;
/// Length of the text form: 16 bytes in unpadded base64.
const TOKEN_CHARS: usize = 22;

/// A join token in clear. Its `Debug` hides it; call [`JoinToken::expose`] only to show it to the
/// teacher once or to hash it.
#[derive(Clone)]
pub struct JoinToken(SecretString);

impl JoinToken {
    /// A fresh token from the OS random source.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::JoinToken;
    /// let token = JoinToken::generate();
    /// let hash = token.hash();
    /// // The student types the token; the core parses it and looks its hash up.
    /// let typed = JoinToken::parse(token.expose())?;
    /// assert_eq!(typed.hash(), hash);
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Checks the shape of a typed token (surrounding whitespace from copy and paste removed).
    ///
    /// # Errors
    /// [`InvalidValue`] when the text is not 22 URL-safe base64 characters encoding 16 bytes. The
    /// text itself is never echoed.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        let ok = text.len() == TOKEN_CHARS
            && URL_SAFE_NO_PAD
                .decode(text)
                .is_ok_and(|b| b.len() == TOKEN_BYTES);
        if !ok {
            return Err(InvalidValue::hidden(
                "join token",
                "a join token is 22 characters of letters, digits, - and _; copy it exactly",
            ));
        }
        Ok(Self(SecretString::from(text)))
    }

    /// The token text, to show once or hand to the student.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash under which the token is stored and looked up.
    pub fn hash(&self) -> JoinTokenHash {
        JoinTokenHash(Sha256::digest(self.expose().as_bytes()).into())
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinToken(..)")
    }
}

impl FromStr for JoinToken {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The SHA-256 hash of a join token, stored as 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JoinTokenHash([u8; 32]);

impl JoinTokenHash {
    /// Reads a stored hash.
    ///
    /// # Errors
    /// [`InvalidValue`] when the text is not 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, InvalidValue> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| InvalidValue::new("join token hash", text, "64 hexadecimal digits"))?;
        Ok(Self(bytes))
    }

    /// The stored form: 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for JoinTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinTokenHash({})", self.to_hex())
    }
}

/// When a join token stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenExpiry {
    /// The token works until it is rotated or revoked.
    Never,
    /// The token works strictly before this instant.
    At(Timestamp),
}

impl TokenExpiry {
    /// Rebuilds the expiry from the stored columns `token_never_expires` and `token_expires_at`.
    ///
    /// # Errors
    /// [`InvalidValue`] when the columns disagree (neither "never" nor an instant).
    pub fn from_stored(
        never_expires: bool,
        expires_at: Option<Timestamp>,
    ) -> Result<Self, InvalidValue> {
        match (never_expires, expires_at) {
            (true, _) => Ok(TokenExpiry::Never),
            (false, Some(at)) => Ok(TokenExpiry::At(at)),
            (false, None) => Err(InvalidValue::new(
                "token expiry",
                "none",
                "an expiry instant when the token is not marked as never expiring",
            )),
        }
    }

    /// Whether the token no longer works at `now`.
    pub fn is_expired(self, now: Timestamp) -> bool {
        match self {
            TokenExpiry::Never => false,
            TokenExpiry::At(at) => now >= at,
        }
    }

    /// Accepts a token that has not expired at `now`.
    ///
    /// # Errors
    /// [`Error::TokenExpired`] with the expiry instant.
    pub fn check(self, now: Timestamp) -> Result<()> {
        match self {
            TokenExpiry::At(at) if self.is_expired(now) => {
                Err(Error::TokenExpired { expired_at: at })
            }
            _ => Ok(()),
        }
    }

    /// The instant for the `token_expires_at` column (`None` when it never expires).
    pub fn expires_at(self) -> Option<Timestamp> {
        match self {
            TokenExpiry::Never => None,
            TokenExpiry::At(at) => Some(at),
        }
    }
}

/// How long a new token should work, as a teacher chooses it: `never`, or a duration in the
/// core's one duration syntax ([`DurationText`]: `30m`, `12h`, `7d`, `2w`, `1h 30m`) from one
/// minute to 365 days. Front ends parse their `expires` option with this, so it means exactly
/// what the core's settings mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLifetime {
    /// No expiry.
    Never,
    /// Expires this long after creation.
    For(SignedDuration),
}

impl TokenLifetime {
    /// The shortest lifetime: one minute.
    pub const MIN: SignedDuration = SignedDuration::from_mins(1);
    /// The longest lifetime: 365 days.
    pub const MAX: SignedDuration = SignedDuration::from_hours(365 * 24);

    /// Parses `never` (any case) or a duration from one minute to 365 days.
    ///
    /// # Errors
    /// [`InvalidValue`] for other text or a lifetime outside one minute to 365 days.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::model::TokenLifetime;
    /// assert_eq!(TokenLifetime::parse("7d")?.to_string(), "1w");
    /// assert_eq!(TokenLifetime::parse("never")?, TokenLifetime::Never);
    /// assert!(TokenLifetime::parse("400d").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "never, or a duration from 1m to 365d such as 12h, 7d, 2w or \
                               1h 30m (a day is 24 hours)";
        if text.trim().eq_ignore_ascii_case("never") {
            return Ok(TokenLifetime::Never);
        }
        let bad = || InvalidValue::new("token lifetime", text, ALLOWED);
        let length = DurationText::parse(text).map_err(|_| bad())?.get();
        if !(Self::MIN..=Self::MAX).contains(&length) {
            return Err(bad());
        }
        Ok(TokenLifetime::For(length))
    }

    /// The expiry of a token created at `now`.
    pub fn expiry_from(self, now: Timestamp) -> TokenExpiry {
        match self {
            TokenLifetime::Never => TokenExpiry::Never,
            // At most 365 days after a valid timestamp; saturate rather than fail near the end
            // of jiff's range, which no real clock reaches.
            TokenLifetime::For(d) => {
                TokenExpiry::At(now.saturating_add(d).unwrap_or(Timestamp::MAX))
            }
        }
    }
}

impl fmt::Display for TokenLifetime {
    /// `never`, or the duration's canonical text ([`DurationText`]: `1w`, `12h`, `1h 30m`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenLifetime::Never => f.write_str("never"),
            TokenLifetime::For(d) => match DurationText::new(*d) {
                Ok(text) => write!(f, "{text}"),
                Err(_) => write!(f, "{d:#}"),
            },
        }
    }
}

impl FromStr for TokenLifetime {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
