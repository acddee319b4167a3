//! Completing a `code` reset: `ConfirmForgotPassword` through the target's recovery app
//! client, with the `SECRET_HASH` where that client has a secret.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The app client a target's users complete a code reset through (`recoveryClientId`), keyed
/// with its secret where it has one. `Debug` never shows the key.
#[derive(Clone)]
pub struct RecoveryClient {
    client_id: String,
    /// HMAC-SHA256 keyed with the app client's secret, once at cold start.
    secret: Option<Hmac<Sha256>>,
}

impl std::fmt::Debug for RecoveryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryClient")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl RecoveryClient {
    /// Checks a client secret as read from Secrets Manager: a JSON document (the console's
    /// key/value form), white space around the value (a trailing newline) or anything longer
    /// than Cognito's 64 characters would only fail every confirm later, so it is refused at
    /// cold start instead. Cognito's own secrets are `[\w+]`; the check refuses what cannot be
    /// one rather than pinning the charset (emulators issue UUIDs). The message never quotes
    /// the secret.
    pub fn check_secret(secret: &SecretString) -> Result<(), &'static str> {
        let value = secret.expose_secret();
        if value.starts_with('{') {
            Err(
                "the secret is a JSON document; store the app client's secret itself, as plain text",
            )
        } else if !(1..=64).contains(&value.chars().count())
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            Err(
                "the secret is not an app client secret (1-64 characters, no white space); store the secret itself, nothing around it",
            )
        } else {
            Ok(())
        }
    }

    /// The app client `client_id`, with its secret where it has one.
    pub fn new(client_id: String, secret: Option<&SecretString>) -> Self {
        let secret = secret.map(|secret| {
            // HMAC accepts keys of any length (RFC 2104), so this cannot fail.
            match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
                Ok(mac) => mac,
                Err(_) => unreachable!("HMAC takes keys of any length"),
            }
        });
        Self { client_id, secret }
    }

    /// The app client's id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `SECRET_HASH` of a request for `username`, where the client has a secret:
    /// Base64(HMAC-SHA256(client secret, username + client id)) (Cognito Developer Guide,
    /// "Computing secret hash values"). `username` is the name the request sends.
    pub fn secret_hash(&self, username: &str) -> Option<String> {
        self.secret.as_ref().map(|mac| {
            let mut mac = mac.clone();
            mac.update(username.as_bytes());
            mac.update(self.client_id.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        })
    }
}

/// `ConfirmationCode`: 1-2048 characters of `[\S]+` (Cognito API reference). Anything else is
/// refused before a call, so it spends no attempt of the user's.
pub fn is_valid_code(code: &str) -> bool {
    (1..=2048).contains(&code.chars().count()) && !code.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value Cognito expects, computed independently (Python:
    /// `base64.b64encode(hmac.new(b"s3cr3t-of-the-client", b"alice" + b"3n4b5urk1ft4fl3mm3ke7ii9jl", hashlib.sha256).digest())`).
    #[test]
    fn the_secret_hash_is_cognitos() {
        let secret = SecretString::from("s3cr3t-of-the-client");
        let client = RecoveryClient::new("3n4b5urk1ft4fl3mm3ke7ii9jl".into(), Some(&secret));
        assert_eq!(
            client.secret_hash("alice").as_deref(),
            Some("JmfeJ4c3/bnbRpogcl1OQylvVs5f7JbpScRrUJsp9L8=")
        );
        assert_eq!(
            RecoveryClient::new("3n4b5urk1ft4fl3mm3ke7ii9jl".into(), None).secret_hash("alice"),
            None
        );
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }

    #[test]
    fn a_secret_must_be_the_client_secret_itself() {
        let check = |s: &str| RecoveryClient::check_secret(&SecretString::from(s));
        assert!(check("1q2w3e4r5t6y7u8i9o0pabcdefghijklmnopqrstuvwxyz12345").is_ok());
        let long = "a".repeat(65);
        for bad in [
            "",
            "{\"clientSecret\":\"abc\"}",
            "abc\n",
            " abc",
            "abc\tdef",
            &long,
        ] {
            let error = check(bad).expect_err(bad);
            assert!(!error.contains("abc"), "{error}");
        }
    }

    #[test]
    fn codes_are_checked_for_form_only() {
        assert!(is_valid_code("123456"));
        assert!(is_valid_code(&"9".repeat(2048)));
        for bad in ["", " 123456", "123 456", "123456\n", &"9".repeat(2049)] {
            assert!(!is_valid_code(bad), "{bad:?}");
        }
    }
}
