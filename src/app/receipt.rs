//! What a successful request answers: the receipt of a reset, the list of targets. Their JSON
//! is the contract's success bodies (`docs/API.md`); `http` only writes it out.

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};

use crate::reset::{Delivery, Mode, ResetOutcome};

/// The body of a successful reset. `Debug` redacts the password ([`SecretString`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetReceipt {
    /// The target's name.
    pub target: String,
    /// The account's canonical name.
    pub username: String,
    /// What was done.
    pub mode: Mode,
    /// Whether the user must choose a new password at their next sign-in.
    pub must_change_at_next_sign_in: bool,
    /// A generated or temporary password, delivered once.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_password"
    )]
    pub password: Option<SecretString>,
    /// When a temporary password stops working (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// How a code reached the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// On a replay of a response that delivered a password: `"earlier"` (secrets are
    /// delivered once and never stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_delivered: Option<&'static str>,
    /// Whether the account's sessions were ended after its password changed, where the
    /// back-end can do that (Cognito); absent on a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_revoked: Option<bool>,
}

/// The one place a password is written out: into the success body.
fn expose_password<S: Serializer>(
    password: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match password {
        Some(password) => serializer.serialize_str(password.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl ResetReceipt {
    /// The receipt of a reset of `username` on `target` that produced `outcome`.
    pub fn new(target: &str, username: &str, mode: Mode, outcome: ResetOutcome) -> Self {
        Self {
            target: target.to_owned(),
            username: username.to_owned(),
            mode,
            must_change_at_next_sign_in: outcome.must_change_at_next_sign_in,
            password: outcome.password,
            expires_at: outcome.expires_at.map(rfc3339),
            delivery: outcome.delivery,
            password_delivered: None,
            sessions_revoked: None,
        }
    }

    /// The JSON a replay answers with: the same, less the password, saying it was delivered.
    pub fn replay_body(&self) -> Result<String, serde_json::Error> {
        let replay = Self {
            target: self.target.clone(),
            username: self.username.clone(),
            mode: self.mode,
            must_change_at_next_sign_in: self.must_change_at_next_sign_in,
            password: None,
            expires_at: self.expires_at.clone(),
            delivery: self.delivery,
            password_delivered: self.password.as_ref().map(|_| "earlier"),
            sessions_revoked: None,
        };
        serde_json::to_string(&replay)
    }
}

/// `GET /v1/targets`.
#[derive(Debug, Serialize)]
pub struct TargetList {
    /// The targets the caller may act on.
    pub targets: Vec<TargetView>,
}

/// One target a caller may act on.
#[derive(Debug, Serialize)]
pub struct TargetView {
    /// Its name.
    pub name: String,
    /// Its back-end.
    pub service: &'static str,
    /// The modes it offers.
    pub modes: Vec<Mode>,
    /// Whether the caller may reset their own account there.
    #[serde(rename = "self")]
    pub own: bool,
    /// Whether the caller may reset other users there.
    pub admin: bool,
    /// Whether the caller can complete a code reset of their own account there (the confirm
    /// endpoint: a target with a recovery client, and the caller's own account on it).
    pub confirm: bool,
}

/// Epoch seconds as an RFC 3339 UTC timestamp.
pub(super) fn rfc3339(epoch_seconds: i64) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    DateTime::from_secs(epoch_seconds)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn a_replay_never_carries_the_password_and_says_it_was_delivered() {
        let receipt = ResetReceipt::new(
            "app-users",
            "alice",
            Mode::Generate,
            ResetOutcome {
                must_change_at_next_sign_in: true,
                password: Some(SecretString::from("Canary-Pa55word-7f3a")),
                expires_at: None,
                delivery: None,
            },
        );
        let first = serde_json::to_string(&receipt).expect("json");
        assert!(first.contains("Canary-Pa55word-7f3a"), "delivered once");
        assert!(!format!("{receipt:?}").contains("Canary"));
        let replay: serde_json::Value =
            serde_json::from_str(&receipt.replay_body().expect("json")).expect("json");
        assert!(replay.get("password").is_none());
        assert_eq!(replay["passwordDelivered"], "earlier");
        assert_eq!(replay["username"], "alice");
    }
}
