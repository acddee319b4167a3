//! Keyed hashes (HMAC-SHA256) under the deployment's secret: the only way a caller-supplied
//! value that must stay private (an idempotency key, later a password fingerprint) is turned
//! into something that may be stored or logged.
//!
//! Each use has its own domain label and every part is length-prefixed, so two different
//! inputs can never produce the same message.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The HMAC key of one deployment, keyed once at cold start.
#[derive(Clone)]
pub struct Keyring {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring([REDACTED])")
    }
}

impl Keyring {
    /// A keyring for `secret` (validated by `Config`: at least 32 characters).
    pub fn new(secret: &SecretString) -> Self {
        // HMAC accepts keys of any length (RFC 2104), so this cannot fail.
        let mac = match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        Self { mac }
    }

    /// The keyed digest of `parts` under the label `domain`, as 64 lower-case hex digits.
    pub fn digest_hex(&self, domain: &str, parts: &[&[u8]]) -> String {
        let mut mac = self.mac.clone();
        mac.update(&(domain.len() as u64).to_be_bytes());
        mac.update(domain.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(secret: &str) -> Keyring {
        Keyring::new(&SecretString::from(secret))
    }

    #[test]
    fn digests_are_keyed_labelled_and_unambiguous() {
        let a = keyring("a-secret-of-at-least-thirty-two-chars!!");
        let b = keyring("another-secret-of-at-least-thirty-two-c");
        let base = a.digest_hex("ref", &[b"sub", b"key"]);
        assert_eq!(base.len(), 64);
        assert_eq!(base, a.digest_hex("ref", &[b"sub", b"key"]));
        assert_ne!(base, b.digest_hex("ref", &[b"sub", b"key"]), "another key");
        assert_ne!(
            base,
            a.digest_hex("other", &[b"sub", b"key"]),
            "another label"
        );
        assert_ne!(
            base,
            a.digest_hex("ref", &[b"su", b"bkey"]),
            "parts are length-prefixed"
        );
    }

    #[test]
    fn hex_known_answer() {
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", keyring("a-secret-of-at-least-thirty-two-chars!!")),
            "Keyring([REDACTED])"
        );
    }
}
