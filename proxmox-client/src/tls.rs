//! TLS trust: the built-in web PKI roots (webpki-roots, not the system store), a custom CA file,
//! SHA-256 fingerprint pinning, or insecure.
//!
//! PVE nodes use self-signed certificates by default; the usual way to trust one is to pin the
//! SHA-256 fingerprint shown in the GUI or in `GET /nodes` (`ssl_fingerprint`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, Once};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A SHA-256 certificate fingerprint, written the way PVE shows it:
/// 32 upper-case hex bytes separated by colons.
///
/// ```
/// use pvelab_proxmox::Fingerprint;
/// let fp: Fingerprint = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89".parse()?;
/// assert!(fp.to_string().starts_with("AB:CD:EF:01"));
/// # Ok::<(), pvelab_proxmox::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Parse the colon form (also accepted: plain 64 hex digits, any case).
    ///
    /// # Errors
    /// [`Error::Config`] naming the text when it is not 32 hex bytes.
    pub fn parse(text: &str) -> Result<Self> {
        let hex: String = text.trim().chars().filter(|c| *c != ':').collect();
        let bad = || {
            Error::Config(format!(
                "{text:?} is not a SHA-256 fingerprint; expected 32 hex bytes like AB:CD:...:EF"
            ))
        };
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }

    /// The fingerprint of a DER certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }
}

impl FromStr for Fingerprint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Fingerprint::parse(s)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// How the client decides to trust the server.
#[derive(Debug, Clone, Default)]
pub(crate) enum Trust {
    /// The machine's certificate store (e.g. `/etc/ssl/certs`, or the file `SSL_CERT_FILE`
    /// names), where a school installs its own CA, and Mozilla's public roots (webpki-roots),
    /// which also serve a machine without a store.
    #[default]
    SystemRoots,
    /// Only certificates issued by the CA(s) in this PEM file (e.g. `/etc/pve/pve-root-ca.pem`).
    CaFile(PathBuf),
    /// Only certificates issued by the CA(s) in this PEM text (a CA kept in a database).
    CaPem(String),
    /// Only a leaf certificate with this SHA-256 fingerprint.
    Pinned(Fingerprint),
    /// Anything (logs a warning once).
    Insecure,
}

/// The pin check, shared with the client so a mismatch can be reported with the fingerprint
/// the server presented (rustls' own error type cannot carry it in a structured way).
#[derive(Debug)]
pub(crate) struct PinVerifier {
    expected: Fingerprint,
    last_mismatch: Mutex<Option<Fingerprint>>,
    provider: Arc<CryptoProvider>,
}

impl PinVerifier {
    /// The fingerprint of the last certificate refused, if any.
    pub(crate) fn mismatch(&self) -> Option<(Fingerprint, Fingerprint)> {
        let seen = *self
            .last_mismatch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.map(|presented| (self.expected, presented))
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // Pinning replaces chain and name validation: PVE's default certificate is
        // self-signed and often names a host other than the one we dial.
        let presented = Fingerprint::of_der(end_entity.as_ref());
        if presented == self.expected {
            return Ok(ServerCertVerified::assertion());
        }
        *self
            .last_mismatch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(presented);
        Err(rustls::Error::General(format!(
            "certificate fingerprint {presented} does not match the pinned {}",
            self.expected
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        // The handshake signature is still checked: it proves the peer holds the pinned key.
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The trust anchors in PEM text: every `CERTIFICATE` section, other sections ignored.
///
/// # Errors
/// [`Error::Config`] when a section is malformed, a certificate cannot serve as a trust anchor,
/// or there is no certificate at all.
/// Mozilla's public roots and every usable certificate of the machine's store, read once per
/// process (a store has a few hundred files; a CA installed later counts after a restart). A
/// store that cannot be read, or holds certificates rustls refuses (stores often keep ancient
/// ones), only leaves those out: the public roots remain, and the reasons are logged.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: std::sync::OnceLock<Arc<rustls::RootCertStore>> = std::sync::OnceLock::new();
    Arc::clone(ROOTS.get_or_init(|| Arc::new(read_system_roots())))
}

fn read_system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "part of the machine's certificate store could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(
        added,
        ignored,
        "certificates of the machine's store trusted beside the public roots"
    );
    roots
}

fn ca_pem_roots(pem: &str) -> Result<rustls::RootCertStore> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert =
            cert.map_err(|e| Error::Config(format!("the CA certificate is not valid PEM: {e}")))?;
        roots.add(cert).map_err(|e| {
            Error::Config(format!("the CA certificate cannot be a trust anchor: {e}"))
        })?;
    }
    if roots.is_empty() {
        return Err(Error::Config(
            "the CA certificate text holds no PEM certificate".into(),
        ));
    }
    Ok(roots)
}

/// The trust anchors in a PEM file: every `CERTIFICATE` section, other sections ignored (a PVE
/// node's `pve-root-ca.pem` holds one certificate; a bundle may hold several).
///
/// # Errors
/// [`Error::Config`] naming the file when it cannot be read, a section is malformed, a
/// certificate cannot serve as a trust anchor, or there is no certificate at all.
fn ca_file_roots(path: &Path) -> Result<rustls::RootCertStore> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::Config(format!("cannot read CA file {}: {e}", path.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| {
            Error::Config(format!("CA file {} is not valid PEM: {e}", path.display()))
        })?;
        roots.add(cert).map_err(|e| {
            Error::Config(format!(
                "CA file {} holds an unusable certificate: {e}",
                path.display()
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(Error::Config(format!(
            "CA file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(roots)
}

static INSECURE_WARNING: Once = Once::new();

/// Apply `trust` to a reqwest builder. Returns the pin verifier when pinning, so the client can
/// turn a handshake failure into [`Error::FingerprintMismatch`].
///
/// # Errors
/// [`Error::Config`] when the CA file cannot be read or holds no certificate.
pub(crate) fn apply(
    builder: reqwest::ClientBuilder,
    trust: &Trust,
) -> Result<(reqwest::ClientBuilder, Option<Arc<PinVerifier>>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_builder = || {
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))
    };
    match trust {
        Trust::SystemRoots => {
            let config = tls_builder()?
                .with_root_certificates(system_roots())
                .with_no_client_auth();
            Ok((builder.use_preconfigured_tls(config), None))
        }
        Trust::Insecure => {
            INSECURE_WARNING.call_once(|| {
                tracing::warn!(
                    "TLS certificate verification is DISABLED (insecure mode); anyone on the \
                     network path can read and change API traffic. Pin the fingerprint instead."
                )
            });
            Ok((builder.danger_accept_invalid_certs(true), None))
        }
        Trust::CaFile(path) => {
            let roots = ca_file_roots(path)?;
            let config = tls_builder()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok((builder.use_preconfigured_tls(config), None))
        }
        Trust::CaPem(pem) => {
            let config = tls_builder()?
                .with_root_certificates(ca_pem_roots(pem)?)
                .with_no_client_auth();
            Ok((builder.use_preconfigured_tls(config), None))
        }
        Trust::Pinned(expected) => {
            let verifier = Arc::new(PinVerifier {
                expected: *expected,
                last_mismatch: Mutex::new(None),
                provider: provider.clone(),
            });
            let config = tls_builder()?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            Ok((builder.use_preconfigured_tls(config), Some(verifier)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_in_pve_form_round_trips() {
        let text = (0..32)
            .map(|i| format!("{i:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let fp = Fingerprint::parse(&text).expect("valid");
        assert_eq!(fp.to_string(), text);
        assert_eq!(Fingerprint::parse(&text.to_lowercase()).expect("valid"), fp);
        assert_eq!(
            Fingerprint::parse(&text.replace(':', "")).expect("valid"),
            fp
        );
    }

    #[test]
    fn a_short_fingerprint_is_rejected_and_named() {
        let e = Fingerprint::parse("AB:CD").expect_err("too short");
        assert!(e.to_string().contains("\"AB:CD\""), "{e}");
    }

    #[test]
    fn ca_pem_text_gives_one_anchor_per_certificate_and_nothing_else_passes() {
        let ca = rcgen::generate_simple_self_signed(vec!["pve1".to_owned()]).expect("cert");
        let text = format!("{}{}", ca.key_pair.serialize_pem(), ca.cert.pem());
        assert_eq!(ca_pem_roots(&text).expect("one certificate").len(), 1);
        for bad in [
            "",
            "not pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let e = ca_pem_roots(bad).expect_err(bad);
            assert!(matches!(e, Error::Config(_)), "{e:?}");
        }
    }

    #[test]
    fn a_fingerprint_is_the_sha256_of_the_der_bytes() {
        // SHA-256 of the empty input, a well-known value.
        assert!(Fingerprint::of_der(b"")
            .to_string()
            .starts_with("E3:B0:C4:42:98:FC:1C:14"));
    }
    /// Write `text` to a file in a fresh folder and read it as a CA file.
    fn roots_of(text: &str) -> (Result<rustls::RootCertStore>, PathBuf, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pve-root-ca.pem");
        std::fs::write(&path, text).expect("write");
        (ca_file_roots(&path), path, dir)
    }

    /// The error of a CA file that must be refused, checked to name the file and the problem.
    fn refused(text: &str, problem: &str) {
        let (result, path, _dir) = roots_of(text);
        let e = result.expect_err("refused").to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains(problem), "{e}");
    }

    #[test]
    fn a_ca_file_yields_each_certificate_and_skips_other_sections() {
        let ca = rcgen::generate_simple_self_signed(vec!["pve1".to_owned()]).expect("ca");
        let other = rcgen::generate_simple_self_signed(vec!["pve2".to_owned()]).expect("ca");
        let text = format!(
            "{}{}{}",
            ca.key_pair.serialize_pem(),
            ca.cert.pem(),
            other.cert.pem()
        );
        let (roots, _, _dir) = roots_of(&text);
        assert_eq!(roots.expect("two certificates").len(), 2);
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        refused("not a certificate\n", "holds no PEM certificate");
    }

    #[test]
    fn a_truncated_pem_section_is_refused() {
        refused(
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "is not valid PEM: missing section end marker",
        );
    }

    #[test]
    fn a_certificate_that_is_not_der_is_refused() {
        refused(
            "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
            "holds an unusable certificate",
        );
    }
}
