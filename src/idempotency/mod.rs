//! Idempotency keys: what a client sends to make a POST safe to retry.
//!
//! A key arrives in the `Idempotency-Key` header or the body's `clientToken` (the AWS APIs'
//! name for the same thing). It is as sensitive as a session identifier for ten minutes (it
//! replays a result), so it is held in a redacting type and only its keyed hash
//! ([`IdempotencyKey::reference`]) is ever stored or logged.

use secrecy::{ExposeSecret, SecretString};

use crate::{error::Error, keys::Keyring};

/// Longest accepted key (the AWS APIs' `clientToken` limit).
pub const MAX_KEY_LEN: usize = 128;

/// A validated idempotency key. `Debug` shows nothing of it.
pub struct IdempotencyKey(SecretString);

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey([REDACTED])")
    }
}

impl IdempotencyKey {
    /// The key of a request, from the header values (all of them: a repeated header is an
    /// error) and the body's `clientToken`. One of the two is required; both must agree.
    pub fn from_request<'a>(
        header_values: impl IntoIterator<Item = &'a [u8]>,
        client_token: Option<&SecretString>,
    ) -> Result<Self, Error> {
        let mut headers = header_values.into_iter();
        let header = headers.next();
        if headers.next().is_some() {
            return Err(Error::IdempotencyKeyInvalid(
                "Send exactly one Idempotency-Key header.",
            ));
        }
        let header = header.map(validate).transpose()?;
        let body = client_token
            .map(|token| validate(token.expose_secret().as_bytes()))
            .transpose()?;
        let key = match (header, body) {
            (Some(header), Some(body)) if header != body => {
                return Err(Error::IdempotencyKeyInvalid(
                    "The Idempotency-Key header and the body's clientToken differ.",
                ));
            }
            (Some(key), _) | (None, Some(key)) => key,
            (None, None) => {
                return Err(Error::IdempotencyKeyInvalid(
                    "An Idempotency-Key header (or a clientToken in the body) is required.",
                ));
            }
        };
        Ok(Self(SecretString::from(key)))
    }

    /// The keyed hash of (caller, key): the record id in the store and the audit
    /// `idempotencyKeyRef`. Two callers sending the same key get different references.
    pub fn reference(&self, keyring: &Keyring, caller_sub: &str) -> String {
        keyring.digest_hex(
            "idempotency-key",
            &[caller_sub.as_bytes(), self.0.expose_secret().as_bytes()],
        )
    }
}

/// 1-128 visible ASCII characters (0x21-0x7E) without a comma: HTTP API joins repeated
/// headers with commas, so a comma would make a duplicated header look like one key.
fn validate(raw: &[u8]) -> Result<&str, Error> {
    if raw.is_empty() {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key is empty.",
        ));
    }
    if raw.len() > MAX_KEY_LEN {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key is longer than 128 characters.",
        ));
    }
    if raw.contains(&b',') {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key contains a comma (or the header was sent twice).",
        ));
    }
    if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key must be visible ASCII characters without spaces.",
        ));
    }
    std::str::from_utf8(raw)
        .map_err(|_| Error::IdempotencyKeyInvalid("The idempotency key is not ASCII."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(headers: &[&str], token: Option<&str>) -> Result<IdempotencyKey, Error> {
        let token = token.map(SecretString::from);
        IdempotencyKey::from_request(headers.iter().map(|h| h.as_bytes()), token.as_ref())
    }

    #[test]
    fn key_validation_table() {
        let long = ["k".repeat(128)];
        let long = [long[0].as_str()];
        let too_long = ["k".repeat(129)];
        let too_long = [too_long[0].as_str()];
        let cases: Vec<(&[&str], Option<&str>, bool)> = vec![
            (&["abc-123"], None, true),
            (&[], Some("abc-123"), true),
            (&["abc-123"], Some("abc-123"), true),
            (&long, None, true),
            (&["~!@#$%^&*()_+{}|:<>?"], None, true),
            (&[], None, false),
            (&[""], None, false),
            (&too_long, None, false),
            (&["a,b"], None, false),
            (&["has space"], None, false),
            (&["tab\t"], None, false),
            (&["café"], None, false),
            (&["one", "two"], None, false),
            (&["one", "one"], None, false),
            (&["abc"], Some("abd"), false),
            (&[], Some(""), false),
        ];
        for (headers, token, ok) in cases {
            let got = key(headers, token);
            assert_eq!(got.is_ok(), ok, "{headers:?} {token:?}");
            if let Err(error) = got {
                assert_eq!(error.code(), "IDEMPOTENCY_KEY_INVALID");
            }
        }
    }

    #[test]
    fn references_are_scoped_to_the_caller_and_never_the_raw_key() {
        let keyring = Keyring::new(&SecretString::from(
            "a-secret-of-at-least-thirty-two-chars!!",
        ));
        let k = key(&["canary-idempotency-key-7f3a"], None).expect("valid");
        let alice = k.reference(&keyring, "sub-alice");
        assert_ne!(alice, k.reference(&keyring, "sub-bob"));
        assert!(!alice.contains("canary"));
        assert!(!format!("{k:?}").contains("canary"));
    }
}
