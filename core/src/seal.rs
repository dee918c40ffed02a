//! Sealing secrets at rest: a cluster's password or API token secret is stored encrypted under a
//! key the operator provides, so a leaked database file alone reveals no credential.
//!
//! XChaCha20-Poly1305 (an AEAD): its 192-bit nonce is drawn at random for every seal, which is
//! safe at any realistic number of seals without a nonce counter to persist. The stored form is
//! `version byte (1) || nonce (24) || ciphertext+tag`. The cluster id and the column name are
//! bound as associated data, so a sealed value copied into another row or column does not open.
//!
//! The library never reads environment variables or picks key files on its own (DESIGN): the
//! front end reads `PVELAB_SEALING_KEY` or a key file and hands the key over with
//! [`SealingKey::from_text`] or [`SealingKey::from_key_file`].

use std::fmt;
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::error::{Error, Result};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// The operator's 256-bit sealing key. Its `Debug` never shows the key.
pub struct SealingKey(SecretBox<[u8; KEY_LEN]>);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([hidden])")
    }
}

impl Clone for SealingKey {
    fn clone(&self) -> Self {
        Self(SecretBox::new(Box::new(*self.0.expose_secret())))
    }
}

impl SealingKey {
    /// A key from exactly 32 raw bytes.
    ///
    /// # Errors
    /// [`Error::Sealing`] when the slice is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::Sealing {
            reason: format!(
                "a sealing key is {KEY_LEN} bytes; {} bytes were given",
                bytes.len()
            ),
        })?;
        Ok(Self(SecretBox::new(Box::new(array))))
    }

    /// A key from its text form: 64 hexadecimal digits, or 32 bytes in base64 (standard or
    /// URL-safe, padding optional). Surrounding whitespace is ignored, so a key file with a
    /// trailing newline works. This is what the front end passes from `PVELAB_SEALING_KEY`.
    ///
    /// # Errors
    /// [`Error::Sealing`] saying which forms are accepted (never echoing the text, which may be a
    /// mistyped key).
    pub fn from_text(text: &str) -> Result<Self> {
        let text = text.trim();
        let decoded = if text.len() == 2 * KEY_LEN {
            hex::decode(text).ok()
        } else {
            None
        };
        let decoded = decoded.or_else(|| {
            let unpadded = text.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
                .ok()
        });
        match decoded {
            Some(bytes) if bytes.len() == KEY_LEN => Self::from_bytes(&bytes),
            _ => Err(Error::Sealing {
                reason: format!(
                    "a sealing key is {KEY_LEN} random bytes written as 64 hexadecimal digits or \
                     in base64 (generate one with `openssl rand -hex 32`)"
                ),
            }),
        }
    }

    /// Reads a key file holding the key in text form (see [`SealingKey::from_text`]) or as
    /// exactly 32 raw bytes.
    ///
    /// # Errors
    /// [`Error::Sealing`] when the file cannot be read or holds no valid key (naming the file).
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Sealing {
            reason: format!("cannot read the sealing key file {}: {e}", path.display()),
        })?;
        if bytes.len() == KEY_LEN {
            return Self::from_bytes(&bytes);
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::Sealing {
            reason: format!(
                "the sealing key file {} holds neither 32 raw bytes nor a key in text form",
                path.display()
            ),
        })?;
        Self::from_text(text).map_err(|e| match e {
            Error::Sealing { reason } => Error::Sealing {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })
    }

    /// A new random key from the operating system (for `pvelab` to create a key file).
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut array = [0u8; KEY_LEN];
        array.copy_from_slice(&key);
        Self(SecretBox::new(Box::new(array)))
    }

    /// The key as 64 hexadecimal digits, to write into a key file once. Handle with care.
    pub fn to_hex(&self) -> SecretString {
        SecretString::from(hex::encode(self.0.expose_secret()))
    }
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([hidden])")
    }
}

impl Sealer {
    pub(crate) fn new(key: &SealingKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.0.expose_secret())),
        }
    }

    /// Seals `secret`, binding `context` (e.g. `"cluster:pve1:password"`) as associated data.
    ///
    /// # Errors
    /// [`Error::Sealing`] if the cipher fails (it cannot for inputs below gigabytes).
    pub(crate) fn seal(&self, secret: &SecretString, context: &str) -> Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Sealing {
                reason: "sealing a secret failed".into(),
            })?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed by [`Sealer::seal`] with the same key and context.
    ///
    /// # Errors
    /// [`Error::Sealing`] when the value was sealed under another key or context, or was altered.
    pub(crate) fn open(&self, sealed: &[u8], context: &str) -> Result<SecretString> {
        let wrong = || Error::Sealing {
            reason: format!(
                "the stored secret for {context} cannot be opened: it was sealed with another \
                     key or altered; provide the key it was sealed with, or store the secret again"
            ),
        };
        let (version, rest) = sealed.split_first().ok_or_else(wrong)?;
        if *version != FORMAT_VERSION || rest.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let clear = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| wrong())?;
        let text = String::from_utf8(clear).map_err(|_| wrong())?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_and_context() {
        let sealer = Sealer::new(&SealingKey::generate());
        let sealed = sealer
            .seal(&secret("hunter2"), "cluster:a:password")
            .expect("seal");
        let opened = sealer.open(&sealed, "cluster:a:password").expect("open");
        assert_eq!(opened.expose_secret(), "hunter2");
    }

    #[test]
    fn sealing_twice_gives_different_bytes_because_the_nonce_is_random() {
        let sealer = Sealer::new(&SealingKey::generate());
        let a = sealer.seal(&secret("same"), "c").expect("seal");
        let b = sealer.seal(&secret("same"), "c").expect("seal");
        assert_ne!(a, b);
    }

    #[test]
    fn another_key_or_another_context_cannot_open_a_sealed_secret() {
        let sealer = Sealer::new(&SealingKey::generate());
        let sealed = sealer
            .seal(&secret("s3cret"), "cluster:a:password")
            .expect("seal");
        assert!(matches!(
            Sealer::new(&SealingKey::generate()).open(&sealed, "cluster:a:password"),
            Err(Error::Sealing { .. })
        ));
        assert!(matches!(
            sealer.open(&sealed, "cluster:b:password"),
            Err(Error::Sealing { .. })
        ));
    }

    #[test]
    fn a_tampered_sealed_value_is_refused() {
        let sealer = Sealer::new(&SealingKey::generate());
        let mut sealed = sealer.seal(&secret("s3cret"), "c").expect("seal");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(sealer.open(&sealed, "c").is_err());
        assert!(sealer.open(&[], "c").is_err());
    }

    #[test]
    fn a_key_is_read_from_hex_or_base64_text_and_other_lengths_are_refused() {
        let key = SealingKey::generate();
        let hex_text = key.to_hex();
        let again = SealingKey::from_text(&format!("{}\n", hex_text.expose_secret())).expect("hex");
        assert_eq!(again.0.expose_secret(), key.0.expose_secret());
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.0.expose_secret());
        assert!(SealingKey::from_text(&b64).is_ok());
        assert!(SealingKey::from_text("abcd").is_err());
        assert!(SealingKey::from_bytes(&[0; 16]).is_err());
    }

    #[test]
    fn the_key_never_appears_in_debug_output() {
        let key = SealingKey::generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.to_hex().expose_secret()));
    }
}
