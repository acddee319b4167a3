//! Password policy checks and generation.
//!
//! Policy follows NIST SP 800-63B §3.1.1.2: length counted in Unicode code points, at least 8,
//! at most what the back-end accepts, never truncated, trimmed or normalised, and no
//! composition rules of our own; context words (the username) are refused.
//!
//! Generated passwords come from the thread-local CSPRNG (`rand::rng()`, ChaCha seeded from the
//! OS) and contain an upper-case letter, a lower-case letter, a digit and a symbol, which meets
//! Cognito's default policy and Active Directory's "three of four classes".

use rand::seq::{IndexedRandom, SliceRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, PasswordRejection};

// Look-alike characters (I, l, O, 0, 1) are left out: helpdesk staff read these aloud.
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
// All in Cognito's list of special characters, and none that shells or URLs mangle.
const SYMBOLS: &[u8] = b"!#%*+-=?@^_";

/// Checks a caller-chosen password against the target's limits and the username.
pub fn check(
    password: &SecretString,
    username: &str,
    min_chars: usize,
    max_chars: usize,
) -> Result<(), Error> {
    let password = password.expose_secret();
    let length = password.chars().count();
    if length < min_chars {
        return Err(Error::PasswordRejected(PasswordRejection::TooShort));
    }
    if length > max_chars {
        return Err(Error::PasswordRejected(PasswordRejection::TooLong));
    }
    if contains_ignoring_case(password, username) {
        return Err(Error::PasswordRejected(PasswordRejection::ContainsUsername));
    }
    Ok(())
}

/// A fresh random password of `length` characters (at least 4) that does not contain
/// `username`.
pub fn generate(length: usize, username: &str) -> SecretString {
    let mut rng = rand::rng();
    let alphabet: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    loop {
        let mut chars: Vec<u8> = Vec::with_capacity(length);
        // One from each class, the rest from all of them, then shuffled so the classes do not
        // sit at predictable positions.
        for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
            chars.extend(class.choose(&mut rng));
        }
        while chars.len() < length {
            chars.extend(alphabet.choose(&mut rng));
        }
        chars.shuffle(&mut rng);
        let candidate: String = chars.into_iter().map(char::from).collect();
        // Active Directory refuses a password containing the account name (3+ characters).
        if !contains_ignoring_case(&candidate, username) {
            return SecretString::from(candidate);
        }
    }
}

/// Whether `haystack` contains `needle` (3 characters or more), ignoring case, as Active
/// Directory's complexity rule does. Shorter names are too likely to occur by chance.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    needle.chars().count() >= 3 && haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(password: &str, username: &str) -> Option<PasswordRejection> {
        check(&SecretString::from(password), username, 8, 16)
            .err()
            .and_then(|e| e.password_reason())
    }

    #[test]
    fn policy_table() {
        let cases: Vec<(&str, &str, Option<PasswordRejection>)> = vec![
            ("Seven77", "bob", Some(PasswordRejection::TooShort)),
            ("eightch8", "bob", None),
            // Code points, not bytes: 8 characters, 16 bytes.
            ("ééééééé1", "bob", None),
            ("ééééééé", "bob", Some(PasswordRejection::TooShort)),
            ("sixteen-chars-16", "bob", None),
            ("seventeen-chars17", "bob", Some(PasswordRejection::TooLong)),
            (
                "my-alice-password",
                "alice",
                Some(PasswordRejection::TooLong),
            ),
            (
                "xxALICExx",
                "alice",
                Some(PasswordRejection::ContainsUsername),
            ),
            // Never trimmed: the spaces count.
            ("   short", "bob", None),
            // Names under three characters are not context words.
            ("bo-password", "bo", None),
        ];
        for (password, username, expected) in cases {
            assert_eq!(
                reason(password, username),
                expected,
                "{password:?} / {username:?}"
            );
        }
    }

    #[test]
    fn generated_passwords_have_every_class_and_the_length() {
        for _ in 0..200 {
            let password = generate(20, "alice");
            let password = password.expose_secret();
            assert_eq!(password.len(), 20);
            assert!(password.bytes().any(|b| UPPER.contains(&b)));
            assert!(password.bytes().any(|b| LOWER.contains(&b)));
            assert!(password.bytes().any(|b| DIGITS.contains(&b)));
            assert!(password.bytes().any(|b| SYMBOLS.contains(&b)));
            assert!(!password.to_lowercase().contains("alice"));
        }
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate(20, "bob");
        let b = generate(20, "bob");
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn debug_never_shows_a_password() {
        let password = generate(20, "bob");
        assert!(!format!("{password:?}").contains(password.expose_secret()));
    }
}
