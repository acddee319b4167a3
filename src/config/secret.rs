//! Where the keyed-hash secret comes from: the environment (local runs) or Secrets Manager
//! (a deployment), read once at cold start.

use std::env;

use secrecy::SecretString;

use super::{HMAC_KEY_SECRET_VAR, HMAC_KEY_VAR, invalid};
use crate::error::InitError;

/// Where the keyed-hash secret comes from.
#[derive(Debug)]
pub enum HmacKeySource {
    /// `RESETGATE_HMAC_KEY`: the value itself (local runs and tests).
    Inline(SecretString),
    /// `RESETGATE_HMAC_KEY_SECRET_ARN`: a Secrets Manager secret, read once at cold start.
    SecretsManager {
        /// The secret's ARN (or name).
        secret_id: String,
    },
}

impl HmacKeySource {
    /// Reads `RESETGATE_HMAC_KEY_SECRET_ARN` or `RESETGATE_HMAC_KEY`: exactly one must be set.
    pub fn from_env() -> Result<Self, InitError> {
        match (env::var(HMAC_KEY_SECRET_VAR), env::var(HMAC_KEY_VAR)) {
            (Ok(_), Ok(_)) => Err(invalid(format!(
                "set {HMAC_KEY_SECRET_VAR} or {HMAC_KEY_VAR}, not both"
            ))),
            (Ok(secret_id), Err(_)) if !secret_id.trim().is_empty() => {
                Ok(Self::SecretsManager { secret_id })
            }
            (Err(_), Ok(key)) => Ok(Self::Inline(SecretString::from(key))),
            _ => Err(invalid(format!(
                "{HMAC_KEY_SECRET_VAR} (a deployment) or {HMAC_KEY_VAR} (a local run) must be set"
            ))),
        }
    }

    /// The key: as given, or with one Secrets Manager `GetSecretValue` (its `SecretString`).
    pub async fn resolve(
        self,
        secrets: &aws_sdk_secretsmanager::Client,
    ) -> Result<SecretString, InitError> {
        match self {
            Self::Inline(key) => Ok(key),
            Self::SecretsManager { secret_id } => {
                read_secret(secrets, &secret_id, HMAC_KEY_SECRET_VAR).await
            }
        }
    }
}

/// One Secrets Manager secret's `SecretString`, read at cold start; `named_by` says where the
/// configuration names it, for the init error (which never carries the value).
pub async fn read_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    named_by: &str,
) -> Result<SecretString, InitError> {
    let output = secrets
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|error| {
            // The SDK's error names the service's code and message, never the value.
            InitError::Secret(format!(
                "{named_by}={secret_id}: GetSecretValue failed: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&error)
            ))
        })?;
    output.secret_string.map(SecretString::from).ok_or_else(|| {
        InitError::Secret(format!(
            "{named_by}={secret_id}: the secret has no SecretString"
        ))
    })
}
