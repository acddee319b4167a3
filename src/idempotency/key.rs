//! Idempotency keys (validated, redacted, referenced only by their keyed hash), record ids,
//! and the fingerprint that tells one request from another under the same key.

use std::collections::BTreeMap;

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

/// The request's fingerprint: a keyed hash of everything that makes it this request (target,
/// account, mode, password, a confirm's code, client metadata), so a reused key with another request is caught
/// and no digest a dictionary could reverse is stored (the password is hashed under the
/// deployment's key, never plainly).
pub fn fingerprint(
    keyring: &Keyring,
    target: &str,
    username: &str,
    mode: &str,
    password: Option<&SecretString>,
    code: Option<&SecretString>,
    client_metadata: Option<&std::collections::HashMap<String, String>>,
) -> String {
    let password = password
        .map(|p| keyring.digest_hex("password", &[p.expose_secret().as_bytes()]))
        .unwrap_or_default();
    let metadata: BTreeMap<&str, &str> = client_metadata
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut parts: Vec<&[u8]> = vec![
        target.as_bytes(),
        username.as_bytes(),
        mode.as_bytes(),
        password.as_bytes(),
    ];
    // A confirm's code, as its own keyed hash (never the code); only where there is one, so
    // the fingerprints of records written before confirms existed are unchanged.
    let code = code.map(|c| keyring.digest_hex("code", &[c.expose_secret().as_bytes()]));
    if let Some(code) = &code {
        parts.push(b"code");
        parts.push(code.as_bytes());
    }
    for (key, value) in &metadata {
        parts.push(key.as_bytes());
        parts.push(value.as_bytes());
    }
    keyring.digest_hex("request", &parts)
}

/// The record id for a key reference.
pub fn record_id(reference: &str) -> String {
    format!("idem#{reference}")
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
        // A canary of hex digits only: a reference (hex) could contain it, were it copied in.
        const CANARY: &str = "c0ffee0ddba11c0ffee0ddba11c0ffee";
        let k = key(&[CANARY], None).expect("valid");
        let alice = k.reference(&keyring, "sub-alice");
        assert_ne!(alice, k.reference(&keyring, "sub-bob"));
        assert_eq!(alice.len(), 64, "a SHA-256 digest in hex");
        assert!(!alice.contains(CANARY), "the reference holds the raw key");
        assert!(
            !alice.contains(&CANARY[..16]),
            "the reference holds part of the raw key"
        );
        assert!(!format!("{k:?}").contains(CANARY));
        // Keyed: the same key under another deployment's secret is another reference.
        let other = Keyring::new(&SecretString::from(
            "another-secret-of-at-least-thirty-two!!",
        ));
        assert_ne!(alice, k.reference(&other, "sub-alice"));
    }

    #[test]
    fn fingerprints_cover_the_request_and_hide_the_password() {
        let keyring = Keyring::new(&SecretString::from(
            "a-secret-of-at-least-thirty-two-chars!!",
        ));
        let password = SecretString::from("Canary-Pa55word");
        let base = fingerprint(&keyring, "t", "alice", "set", Some(&password), None, None);
        assert_eq!(
            base,
            fingerprint(&keyring, "t", "alice", "set", Some(&password), None, None)
        );
        let other = SecretString::from("Canary-Pa55word!");
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "alice", "set", Some(&other), None, None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "bob", "set", Some(&password), None, None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "u", "alice", "set", Some(&password), None, None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "alice", "generate", None, None, None)
        );
        let metadata = std::collections::HashMap::from([("a".to_owned(), "b".to_owned())]);
        assert_ne!(
            fingerprint(&keyring, "t", "alice", "code", None, None, None),
            fingerprint(&keyring, "t", "alice", "code", None, None, Some(&metadata))
        );
        assert!(!base.contains("Canary"));
        // A confirm's code is part of the request: another code is another request.
        let code = SecretString::from("123456");
        let confirm = fingerprint(
            &keyring,
            "t",
            "alice",
            "confirm",
            Some(&password),
            Some(&code),
            None,
        );
        assert_ne!(
            confirm,
            fingerprint(
                &keyring,
                "t",
                "alice",
                "confirm",
                Some(&password),
                None,
                None
            )
        );
        assert_ne!(
            confirm,
            fingerprint(
                &keyring,
                "t",
                "alice",
                "confirm",
                Some(&password),
                Some(&SecretString::from("123457")),
                None
            )
        );
    }
}
