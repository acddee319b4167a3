//! Password policy checks and generation.
//!
//! Policy follows NIST SP 800-63B §3.1.1.2: length counted in Unicode code points, at least 8,
//! at most what the back-end accepts, never truncated, trimmed or normalised, and no
//! composition rules of our own; passwords from a list of common and breached ones are refused,
//! and so are context words (the username, the target's name).
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

/// The common-password list: 8,346 entries of 8+ characters from Django's
/// `CommonPasswordValidator` list (breach corpora), lower case, sorted (see `data/README.md`).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// What a chosen password is checked against besides its length.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The account's username.
    pub username: &'a str,
    /// The target's name.
    pub target: &'a str,
}

/// Checks a caller-chosen password against the target's limits, the common-password list and
/// the context words.
pub fn check(
    password: &SecretString,
    context: Context<'_>,
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
    if contains_ignoring_case(password, context.username) {
        return Err(Error::PasswordRejected(PasswordRejection::ContainsUsername));
    }
    if is_common(password) || contains_ignoring_case(password, context.target) {
        return Err(Error::PasswordRejected(PasswordRejection::Blocklisted));
    }
    Ok(())
}

/// Whether the password, ignoring case, is on the common-password list: a binary search over
/// the sorted lines of the list, in place (nothing is built at start-up).
fn is_common(password: &str) -> bool {
    let needle = password.to_lowercase();
    let list = COMMON_PASSWORDS.as_bytes();
    let (mut low, mut high) = (0, list.len());
    while low < high {
        let middle = low + (high - low) / 2;
        // The line around `middle`: after the previous newline, up to the next.
        let start = list[..middle]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = list[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(list.len(), |i| start + i);
        match list[start..end].cmp(needle.as_bytes()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => low = end + 1,
            std::cmp::Ordering::Greater => high = start,
        }
    }
    false
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
        let context = Context {
            username,
            target: "app-users",
        };
        check(&SecretString::from(password), context, 8, 16)
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
            ("bo-pa55word", "bo", None),
            // Common and breached passwords, in any case; the target's name.
            ("password", "bob", Some(PasswordRejection::Blocklisted)),
            ("PassWord1", "bob", Some(PasswordRejection::Blocklisted)),
            ("qwertyuiop", "bob", Some(PasswordRejection::Blocklisted)),
            ("iloveyou", "bob", Some(PasswordRejection::Blocklisted)),
            (
                "my-app-users-1",
                "bob",
                Some(PasswordRejection::Blocklisted),
            ),
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
    fn the_list_is_sorted_and_every_entry_is_found() {
        let entries: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(entries.len() > 8_000);
        assert!(
            entries.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, no duplicates"
        );
        for entry in &entries {
            assert!(is_common(entry), "{entry}");
            assert!(is_common(&entry.to_uppercase()), "{entry}");
        }
        for absent in [
            "",
            "a",
            "zzzzzzzzzzzzzzzzzzzzz",
            "Violet-Lantern-Passw0rd-88!",
            "00000000a",
        ] {
            assert!(!is_common(absent), "{absent}");
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
