//! `--debug`: what the CLI does, on stderr, and never a secret.
//!
//! Secrets are kept out in two ways. By construction: the bearer token, passwords and the
//! confirmation code live in [`secrecy::SecretString`]s, the `Authorization` header is printed
//! as `Bearer <redacted>`, and every JSON body goes through [`redact_json`] first (`password`,
//! `code`, `clientSecret` and `SecretString` members). And as a backstop: every line written
//! here (and every error message) goes through a [`Redactor`] holding the run's secrets, which
//! masks them wherever they appear, in case a server or a bug echoed one.

use std::{
    io::Write as _,
    sync::{Arc, Mutex},
    time::Instant,
};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// The members whose values are never printed (request and response bodies).
pub const SECRET_MEMBERS: [&str; 4] = ["password", "code", "clientSecret", "SecretString"];
/// Shorter secrets are not masked in free text (they would mask ordinary words); the API
/// refuses passwords under 8 characters anyway.
const MIN_MASKED_LEN: usize = 6;
/// What stands for a secret.
pub const REDACTED: &str = "<redacted>";

/// A copy of `value` with the members in [`SECRET_MEMBERS`] replaced by [`REDACTED`], at any
/// depth.
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if SECRET_MEMBERS.contains(&k.as_str()) && !v.is_null() {
                        (k.clone(), Value::String(REDACTED.to_owned()))
                    } else {
                        (k.clone(), redact_json(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

/// The run's secrets, masked wherever they appear in text meant for stderr.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<SecretString>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor([REDACTED])")
    }
}

impl Redactor {
    /// Adds a secret to mask from now on.
    pub fn add(&self, secret: &SecretString) {
        if secret.expose_secret().len() >= MIN_MASKED_LEN {
            self.lock().push(secret.clone());
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn mask(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self.lock().iter() {
            let secret = secret.expose_secret();
            if text.contains(secret) {
                text = text.replace(secret, REDACTED);
            }
        }
        text
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SecretString>> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `--debug` log: `debug: ` lines on stderr, with the time since start.
#[derive(Clone, Debug)]
pub struct DebugLog {
    enabled: bool,
    started: Instant,
    redactor: Redactor,
}

impl DebugLog {
    /// A log that writes only when `enabled`, masking the redactor's secrets.
    pub fn new(enabled: bool, redactor: Redactor) -> Self {
        Self {
            enabled,
            started: Instant::now(),
            redactor,
        }
    }

    /// Whether `--debug` was given.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Writes one line (or several) if enabled.
    pub fn line(&self, message: impl AsRef<str>) {
        if !self.enabled {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let masked = self.redactor.mask(message.as_ref());
        let mut stderr = std::io::stderr().lock();
        for line in masked.lines() {
            let _ = writeln!(stderr, "debug: [{elapsed:7.3}s] {line}");
        }
    }

    /// A JSON body, redacted, on one line.
    pub fn body(&self, direction: &str, body: &Value) {
        if self.enabled {
            self.line(format!("{direction} body: {}", redact_json(body)));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_members_are_redacted_at_any_depth() {
        let body = json!({"mode": "set", "password": "Canary-Pw-1", "nested": [{"code": "123456"}],
                          "clientSecret": "s3cr3t", "SecretString": "hmac", "passwordDelivered": "earlier",
                          "absent": null, "password2": "kept"});
        let redacted = redact_json(&body);
        assert_eq!(
            redacted,
            json!({"mode": "set", "password": REDACTED, "nested": [{"code": REDACTED}],
                   "clientSecret": REDACTED, "SecretString": REDACTED, "passwordDelivered": "earlier",
                   "absent": null, "password2": "kept"})
        );
    }

    #[test]
    fn the_redactor_masks_every_known_secret_and_nothing_else() {
        let redactor = Redactor::default();
        redactor.add(&SecretString::from("Canary-Pw-7f3kZq"));
        redactor.add(&SecretString::from("eyJhbGciOi.payload.signature"));
        redactor.add(&SecretString::from("abc"));
        let masked = redactor.mask(
            "sent Canary-Pw-7f3kZq with Bearer eyJhbGciOi.payload.signature; abc stays; Canary-Pw-7f3kZq again",
        );
        assert_eq!(
            masked,
            "sent <redacted> with Bearer <redacted>; abc stays; <redacted> again"
        );
    }

    #[test]
    fn the_redactor_does_not_print_its_secrets_in_debug() {
        let redactor = Redactor::default();
        redactor.add(&SecretString::from("Canary-Pw-7f3kZq"));
        assert!(!format!("{redactor:?}").contains("Canary"));
        let log = DebugLog::new(true, redactor);
        assert!(!format!("{log:?}").contains("Canary"));
    }
}
