//! Amazon Cognito user pools: `AdminGetUser`, then `AdminResetUserPassword` (mode `code`),
//! `AdminSetUserPassword` (`generate` with `Permanent=false`, `set` with `Permanent=true`), or
//! `ConfirmForgotPassword` (a confirm, through the target's recovery app client:
//! [`recovery`]); after a password change, `AdminUserGlobalSignOut`.
//!
//! Every reset is preceded by [`ResetAdapter::inspect`]: `AdminGetUser`, because
//! `AdminSetUserPassword` on a federated user (`EXTERNAL_PROVIDER`) silently creates a local
//! password that bypasses the identity provider and its MFA (docs/AWS.md). It also
//! resolves an alias (e-mail, phone, `sub`) to the canonical `Username`, which the protected
//! checks, the rate limits, the audit line and the reset call then use. For an admin request
//! it also lists the user's groups in the pool (`AdminListGroupsForUser`, every page): members
//! of privileged groups are not reset by an admin.

mod adapter;
mod recovery;

use serde::Deserialize;

pub use adapter::CognitoAdapter;
pub use recovery::{RecoveryClient, is_valid_code};

use super::{Backend, Capabilities, Mode, ResetAdapter, check_username_rules, is_invisible_format};
use crate::{
    aws::Clients,
    error::{Error, InitError},
};

/// The back-end's name in logs.
const SERVICE: &str = "cognito";

/// What Cognito can do: every mode; passwords up to 256 code points; `ClientMetadata` for the
/// pool's Lambda triggers; no built-in accounts (its administrators are the `adminGroups`,
/// made privileged by the configuration when the pool issues the callers' tokens); group names
/// compare exactly.
pub const CAPABILITIES: Capabilities = Capabilities {
    name: SERVICE,
    modes: &[Mode::Code, Mode::Generate, Mode::Set],
    max_password_chars: 256,
    client_metadata: true,
    protected_names: &[],
    privileged_groups: &[],
    folded_names: false,
};

/// A Cognito target's keys in the configuration document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The user pool, e.g. `eu-west-1_AbCdEf123`.
    #[serde(default)]
    pub user_pool_id: String,
    /// End the user's sessions after a password change (`AdminUserGlobalSignOut`: refresh
    /// tokens revoked). On unless the target turns it off.
    #[serde(default = "revoke_sessions_default")]
    pub revoke_sessions: bool,
    /// The app client users complete a `code` reset through (the confirm endpoint,
    /// `ConfirmForgotPassword`). Without it the target offers no confirm.
    #[serde(default)]
    pub recovery_client_id: Option<String>,
    /// The Secrets Manager secret whose `SecretString` is that app client's secret, where it
    /// has one (`SECRET_HASH`); read once at cold start.
    #[serde(default)]
    pub recovery_client_secret_arn: Option<String>,
}

fn revoke_sessions_default() -> bool {
    true
}

impl Backend for Settings {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    /// `UserPoolId`: `[\w-]+_[0-9a-zA-Z]+`, at most 55 characters (Cognito API reference).
    fn validate(&self) -> Result<(), String> {
        if self.user_pool_id.is_empty() {
            return Err("userPoolId is required".into());
        }
        let id = &self.user_pool_id;
        let valid = id.len() <= 55
            && id.split_once('_').is_some_and(|(region, suffix)| {
                !region.is_empty()
                    && region
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && !suffix.is_empty()
                    && suffix.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !valid {
            return Err(format!("userPoolId {id:?} is not a user pool id"));
        }
        // `ClientId`: 1-128 characters of `[\w+]+` (Cognito API reference).
        if let Some(client) = &self.recovery_client_id
            && !((1..=128).contains(&client.len())
                && client
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+'))
        {
            return Err(format!(
                "recoveryClientId {client:?} is not an app client id"
            ));
        }
        match (&self.recovery_client_id, &self.recovery_client_secret_arn) {
            (None, Some(_)) => Err(
                "recoveryClientSecretArn needs recoveryClientId: it is that client's secret".into(),
            ),
            (_, Some(arn)) if arn.trim().is_empty() || arn.len() > 2048 => Err(format!(
                "recoveryClientSecretArn {arn:?} is not a secret ARN or name"
            )),
            _ => Ok(()),
        }
    }

    fn confirms_codes(&self) -> bool {
        self.recovery_client_id.is_some()
    }

    fn secret_ids(&self) -> Vec<(&'static str, &str)> {
        self.recovery_client_secret_arn
            .as_deref()
            .map(|arn| ("recoveryClientSecretArn", arn))
            .into_iter()
            .collect()
    }

    /// The pool's own issuer: `https://cognito-idp.{region}.amazonaws.com/{id}`, the region
    /// being the pool id's prefix.
    fn own_issuer(&self) -> Option<String> {
        Some(cognito_issuer(&self.user_pool_id))
    }

    fn check_username(&self, username: &str) -> Result<(), Error> {
        check_username(username)
    }

    fn adapter(
        &self,
        target: &str,
        clients: &mut Clients<'_>,
    ) -> Result<Box<dyn ResetAdapter>, InitError> {
        Ok(Box::new(CognitoAdapter::from_settings(
            target, self, clients,
        )?))
    }
}

/// The issuer of a Cognito user pool's tokens.
pub fn cognito_issuer(user_pool_id: &str) -> String {
    let region = user_pool_id
        .split_once('_')
        .map_or(user_pool_id, |(region, _)| region);
    format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
}

/// Cognito usernames: 1-128 characters of `[\p{L}\p{M}\p{S}\p{N}\p{P}]`, so no white space,
/// control or invisible formatting characters (Cognito API reference, `Username`).
pub fn check_username(username: &str) -> Result<(), Error> {
    check_username_rules(
        username,
        128,
        |c: char| !c.is_whitespace() && !c.is_control() && !is_invisible_format(c),
        "The username is not a valid Cognito username.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in [
            "alice",
            "alice@example.com",
            "Ünïcødé",
            "a/b",
            &"x".repeat(128),
        ] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "tab\there",
            "nul\0",
            "zero\u{200B}width",
            &"x".repeat(129),
        ] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
    }
}
