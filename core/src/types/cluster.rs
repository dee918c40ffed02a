//! The values of a cluster's row: where it is ([`Host`]), who pvelab is there ([`PveUser`],
//! [`ApiTokenId`]), how its certificate is trusted ([`ClusterTrust`], in `trust.rs`) and who
//! administers it ([`AdminEntry`], in `admin.rs`).
//!
//! They are parsed when an operator types them, so the rest of the core builds URLs,
//! `Authorization` headers and permission decisions from values that cannot be malformed.

mod admin;
mod trust;

pub use admin::{AdminEntry, AdminKind};
pub use trust::{CaCertificate, ClusterTrust, Fingerprint};

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use super::InvalidValue;

/// `Display`, `FromStr` and `AsRef<str>` for a type with `parse` and `as_str`.
macro_rules! text_form {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

/// The host of a cluster's API: a DNS name or an IP address, nothing else (no scheme, port,
/// path or spaces), so `https://{host}:{port}` is always a well-formed URL.
///
/// DNS names are ASCII (write international names in their `xn--` form), at most 253
/// characters, in labels of 1 to 63 letters, digits, `-` and `_` that neither start nor end with
/// `-`; they are stored in lower case because DNS ignores case. IP addresses are stored in their
/// canonical form; an IPv6 address may be given with or without brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host {
    text: String,
    ipv6: bool,
}

impl Host {
    /// The longest DNS name.
    pub const MAX_LEN: usize = 253;

    /// Parses a host name or address; surrounding whitespace is removed first.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it is neither an IP address nor a DNS name.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::Host;
    /// assert_eq!(Host::parse("PVE1.School.example")?.as_str(), "pve1.school.example");
    /// assert_eq!(Host::parse("[fd00::2]")?.url_authority(), "[fd00::2]");
    /// assert!(Host::parse("https://pve1:8006/").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        let bracketed = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
        if let Some(inner) = bracketed {
            return match inner.parse::<Ipv6Addr>() {
                Ok(ip) => Ok(Self::ip(IpAddr::V6(ip))),
                Err(_) => Err(Self::invalid(text)),
            };
        }
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return Ok(Self::ip(ip));
        }
        if is_dns_name(trimmed) {
            return Ok(Self {
                text: trimmed.to_ascii_lowercase(),
                ipv6: false,
            });
        }
        Err(Self::invalid(text))
    }

    fn ip(ip: IpAddr) -> Self {
        Self {
            text: ip.to_string(),
            ipv6: ip.is_ipv6(),
        }
    }

    fn invalid(text: &str) -> InvalidValue {
        InvalidValue::new(
            "cluster host",
            text,
            "a DNS name or IP address without scheme, port, path or spaces \
             (at most 253 characters), e.g. pve1.school.example or 10.0.0.2",
        )
    }

    /// The host as stored: a lower-case DNS name or a canonical IP address (IPv6 without
    /// brackets).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host as it appears in a URL: IPv6 addresses in brackets, everything else as is.
    pub fn url_authority(&self) -> String {
        if self.ipv6 {
            format!("[{}]", self.text)
        } else {
            self.text.clone()
        }
    }
}
text_form!(Host);

/// A DNS name as [`Host`] describes it. A name whose last label is all digits is refused: it is
/// a mistyped IPv4 address (`10.0.0.256`), not a name.
fn is_dns_name(text: &str) -> bool {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    !text.is_empty()
        && text.len() <= Host::MAX_LEN
        && text.split('.').all(label_ok)
        && !text
            .rsplit('.')
            .next()
            .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
}

/// A Proxmox VE user id, `name@realm` (`root@pam`, `pvelab@pve`), as PVE defines it: at most 64
/// characters; the name has no whitespace, `:` or `/`; the realm has at most 32 characters,
/// starts with a letter and continues with at least one letter, digit, `.`, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PveUser(String);

impl PveUser {
    /// The longest user id PVE accepts.
    pub const MAX_LEN: usize = 64;

    /// Parses `name@realm`; surrounding whitespace is removed first.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it breaks the rule above.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::PveUser;
    /// let user = PveUser::parse("pvelab@pve")?;
    /// assert_eq!((user.name(), user.realm()), ("pvelab", "pve"));
    /// assert!(PveUser::parse("root").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        if is_pve_user(trimmed) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidValue::new(
                "cluster user",
                text,
                "a Proxmox user id name@realm of at most 64 characters, e.g. root@pam",
            ))
        }
    }

    /// The whole id, `name@realm`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the realm.
    pub fn name(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(name, _)| name)
    }

    /// The realm (`pam`, `pve`, or an LDAP/AD realm's name).
    pub fn realm(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, realm)| realm)
    }
}
text_form!(PveUser);

/// PVE's `pve-userid` format.
fn is_pve_user(text: &str) -> bool {
    let Some((name, realm)) = text.rsplit_once('@') else {
        return false;
    };
    text.chars().count() <= PveUser::MAX_LEN
        && !name.is_empty()
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != ':' && c != '/')
        && realm.len() <= 32
        && is_pve_identifier(realm)
}

/// A letter followed by at least one letter, digit, `.`, `-` or `_` (PVE's realm and token-name
/// format).
fn is_pve_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && text.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A Proxmox VE API token id, `name@realm!token` (`root@pam!pvelab`): the token's user as
/// [`PveUser`] describes it, `!`, and a token name that starts with a letter and continues with at
/// least one letter, digit, `.`, `-` or `_`. Printable ASCII only, because it travels in an HTTP
/// header.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiTokenId {
    text: String,
    user: PveUser,
}

impl ApiTokenId {
    /// Parses `name@realm!token`; surrounding whitespace is removed first.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it breaks the rule above.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::ApiTokenId;
    /// let id = ApiTokenId::parse("root@pam!pvelab")?;
    /// assert_eq!((id.user().as_str(), id.token_name()), ("root@pam", "pvelab"));
    /// assert!(ApiTokenId::parse("root@pam").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        let invalid = || {
            InvalidValue::new(
                "API token id",
                text,
                "name@realm!token in printable ASCII, e.g. root@pam!pvelab",
            )
        };
        let (user, token) = trimmed.rsplit_once('!').ok_or_else(invalid)?;
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) || !is_pve_identifier(token) {
            return Err(invalid());
        }
        let user = PveUser::parse(user).map_err(|_| invalid())?;
        Ok(Self {
            text: trimmed.to_owned(),
            user,
        })
    }

    /// The whole id, `name@realm!token`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The user the token belongs to.
    pub fn user(&self) -> &PveUser {
        &self.user
    }

    /// The token's own name, after the `!`.
    pub fn token_name(&self) -> &str {
        self.text.rsplit_once('!').map_or("", |(_, name)| name)
    }
}
text_form!(ApiTokenId);

#[cfg(test)]
mod tests;
