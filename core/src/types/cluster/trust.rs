//! How pvelab trusts a cluster's TLS certificate: [`ClusterTrust`], with a pinned
//! [`Fingerprint`] or a [`CaCertificate`].
//!
//! PVE nodes present a self-signed certificate unless the operator installed another, so the
//! usual choice is to pin the SHA-256 fingerprint the web interface shows. Turning verification
//! off is possible but must be chosen by name ([`ClusterTrust::Insecure`]); nothing defaults to it.

use std::fmt;
use std::str::FromStr;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::types::InvalidValue;

/// A SHA-256 certificate fingerprint: 32 bytes, read from colon-separated hex in any case and
/// shown the way PVE shows it (`AB:CD:…:EF`, upper case).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Parses 32 two-digit hex bytes separated by colons; surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`InvalidValue`] naming the text when it is not in that form.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::types::Fingerprint;
    /// let text = ["ab"; 32].join(":");
    /// assert_eq!(Fingerprint::parse(&text)?.to_string(), ["AB"; 32].join(":"));
    /// assert!(Fingerprint::parse("AB:CD").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue::new(
                "TLS fingerprint",
                text,
                "a SHA-256 fingerprint: 32 hex bytes separated by colons, e.g. AB:CD:…:EF",
            )
        };
        let mut bytes = [0u8; 32];
        let mut parts = text.trim().split(':');
        for byte in &mut bytes {
            let part = parts.next().ok_or_else(invalid)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(Self(bytes))
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// One or more CA certificates in PEM form (a node's `/etc/pve/pve-root-ca.pem`, or a school's
/// own CA). A certificate is public, so it is stored as text, not sealed.
///
/// Parsing checks what the API client will do with it: every `CERTIFICATE` section must decode
/// and be usable as a trust anchor, and there must be at least one. Other sections (a private key
/// pasted by mistake) are ignored and not kept.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CaCertificate(String);

impl CaCertificate {
    /// Parses PEM text holding one or more certificates.
    ///
    /// # Errors
    /// [`InvalidValue`] when a certificate section is malformed or unusable, or there is none.
    /// The text itself is not echoed (it is long and may hold a pasted key).
    pub fn parse(pem: &str) -> Result<Self, InvalidValue> {
        let invalid = |why: String| InvalidValue::hidden("CA certificate", why);
        let mut roots = rustls::RootCertStore::empty();
        let mut kept = String::new();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| invalid(format!("PEM text that decodes ({e})")))?;
            roots.add(cert.clone()).map_err(|e| {
                invalid(format!(
                    "a certificate that can serve as a trust anchor ({e})"
                ))
            })?;
            kept.push_str(&pem_text(&cert));
        }
        if roots.is_empty() {
            return Err(invalid(
                "PEM text with at least one -----BEGIN CERTIFICATE----- section".into(),
            ));
        }
        Ok(Self(kept))
    }

    /// The certificates as PEM text (only their `CERTIFICATE` sections, re-encoded).
    pub fn as_pem(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CaCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.matches("-----BEGIN CERTIFICATE-----").count();
        write!(f, "CaCertificate({count} certificate(s))")
    }
}

/// A DER certificate as one PEM section with 64-character lines.
fn pem_text(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// How pvelab decides to trust a cluster's TLS certificate. Exactly one applies to a cluster;
/// the database's CHECK constraints hold the same rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClusterTrust {
    /// Certificates that chain to a CA of the machine's certificate store (where a school
    /// installs its own CA) or a public CA (Mozilla's list, built in): what the data model's
    /// `verify_ssl = 1` means without a pin or a CA. Right for a cluster behind such a
    /// certificate; a PVE node's own self-signed certificate is refused.
    SystemRoots,
    /// Only a certificate with this SHA-256 fingerprint, whoever issued it (the usual choice for
    /// PVE's self-signed certificates).
    Fingerprint(Fingerprint),
    /// Only certificates issued by these CAs.
    CaCertificate(CaCertificate),
    /// Any certificate: traffic can be read and changed by anyone on the network path. Stored as
    /// the data model's `verify_ssl = 0`.
    Insecure,
}

impl fmt::Display for ClusterTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterTrust::SystemRoots => {
                f.write_str("certificates from the machine's trusted or public CAs")
            }
            ClusterTrust::Fingerprint(fp) => write!(f, "the certificate with fingerprint {fp}"),
            ClusterTrust::CaCertificate(_) => f.write_str("certificates from its own CA"),
            ClusterTrust::Insecure => f.write_str("any certificate (verification off)"),
        }
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
