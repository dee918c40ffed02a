//! Local passwords for front ends with logins (a web portal, a CLI): argon2id hashes in the PHC
//! string format, stored in `users.password_hash`.
//!
//! An empty password can never be set and never verifies, so an account created without a
//! password (a Discord user) cannot be logged into with an empty one.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use rand::rngs::OsRng;
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::{Error, Result};
use crate::types::InvalidValue;

/// The longest accepted password in bytes: enough for any passphrase, small enough that hashing
/// cannot be abused to burn CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes a new password with argon2id (the crate's default, OWASP-recommended parameters) and a
/// fresh random salt, returning the PHC string to store.
///
/// # Errors
/// [`Error::InvalidValue`] when the password is empty or longer than [`MAX_PASSWORD_BYTES`] (the
/// password itself is never echoed).
pub fn hash_password(password: &SecretString) -> Result<String> {
    let clear = password.expose_secret();
    if clear.is_empty() || clear.len() > MAX_PASSWORD_BYTES {
        return Err(InvalidValue::hidden(
            "password",
            "a password must not be empty and may have at most 1024 bytes",
        )
        .into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(clear.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only reachable with invalid parameters, which the defaults are not; report, don't panic.
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the stored PHC string. An empty or oversized password, or a stored
/// value that is not a valid hash (for example the empty string of an account without a
/// password), never verifies. The comparison inside argon2 is constant-time.
pub fn verify_password(password: &SecretString, stored: &str) -> bool {
    let clear = password.expose_secret();
    if clear.is_empty() || clear.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(clear.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash_password(&secret("s3cret pass")).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password(&secret("s3cret pass"), &stored));
        assert!(!verify_password(&secret("s3cret pas"), &stored));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let a = hash_password(&secret("same")).unwrap();
        let b = hash_password(&secret("same")).unwrap();
        assert_ne!(a, b);
        assert!(verify_password(&secret("same"), &a) && verify_password(&secret("same"), &b));
    }

    #[test]
    fn an_empty_password_cannot_be_set() {
        let e = hash_password(&secret("")).unwrap_err();
        match e {
            Error::InvalidValue(v) => {
                assert_eq!(v.field(), "password");
                assert_eq!(v.value(), "(hidden)");
            }
            other => panic!("expected InvalidValue, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_password_never_verifies_not_even_against_an_empty_hash() {
        assert!(!verify_password(&secret(""), ""));
        let stored = hash_password(&secret("x")).unwrap();
        assert!(!verify_password(&secret(""), &stored));
    }

    #[test]
    fn a_damaged_stored_hash_never_verifies() {
        assert!(!verify_password(&secret("pw"), "not a hash"));
        assert!(!verify_password(&secret("pw"), "$argon2id$v=19$garbage"));
    }

    #[test]
    fn an_oversized_password_is_refused_without_hashing() {
        let huge = "p".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(hash_password(&secret(&huge)).is_err());
        assert!(!verify_password(
            &secret(&huge),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
        ));
    }
}
