//! The FinSpace adapter (Cargo feature `finspace`).

// The two FinSpace Data operations are deprecated by AWS; using them is the point.
#![allow(deprecated)]

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_finspacedata::{Client, error::SdkError};
use secrecy::SecretString;
use tokio::sync::Mutex;

use super::{SERVICE, Settings};
use crate::{
    BoxFuture,
    aws::{Clients, OperationError, UNAVAILABLE_RETRY_AFTER_SECS, is_transient_code, sdk_error},
    error::{Error, Ineligible},
    reset::{Account, Lookup, Mode, ResetAdapter, ResetOutcome, ResetRequest},
};

/// How long a FinSpace temporary password works.
const TEMPORARY_PASSWORD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long environment credentials are asked for.
const CREDENTIALS_MINUTES: i64 = 60;
/// Credentials are renewed this long before they expire.
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(300);

/// Resets FinSpace users, with the function's own credentials or an environment's.
#[derive(Debug)]
pub struct FinspaceAdapter {
    client: Client,
    environment: Option<Environment>,
}

#[derive(Debug)]
struct Environment {
    id: String,
    cached: Mutex<Option<(Credentials, SystemTime)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    GetProgrammaticAccessCredentials,
    GetUser,
    ResetUserPassword,
}

impl FinspaceAdapter {
    /// The adapter of a target: FinSpace called with its environment's credentials, obtained
    /// with the shared client.
    pub fn from_settings(settings: &Settings, clients: &mut Clients<'_>) -> Self {
        Self::with_environment(clients.get(Client::new), settings.environment_id.clone())
    }

    /// An adapter calling FinSpace with `client`'s own credentials.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            environment: None,
        }
    }

    /// An adapter calling FinSpace with the programmatic-access credentials of
    /// `environment_id`, obtained with the credentials of `sdk`.
    pub fn for_environment(sdk: &SdkConfig, environment_id: String) -> Self {
        Self::with_environment(Client::new(sdk), environment_id)
    }

    /// [`FinspaceAdapter::for_environment`] with a prepared client.
    pub fn with_environment(client: Client, environment_id: String) -> Self {
        Self {
            client,
            environment: Some(Environment {
                id: environment_id,
                cached: Mutex::new(None),
            }),
        }
    }

    /// The environment's credentials, from the cache while they have more than five minutes left.
    async fn environment_credentials(
        &self,
        environment: &Environment,
    ) -> Result<Credentials, Error> {
        let mut cached = environment.cached.lock().await;
        let now = SystemTime::now();
        if let Some((credentials, renew_at)) = cached.as_ref()
            && now < *renew_at
        {
            return Ok(credentials.clone());
        }
        let output = self
            .client
            .get_programmatic_access_credentials()
            .environment_id(&environment.id)
            .duration_in_minutes(CREDENTIALS_MINUTES)
            .send()
            .await
            .map_err(|e| map_sdk_error(Operation::GetProgrammaticAccessCredentials, e))?;
        let granted = output
            .credentials()
            .ok_or_else(|| Error::internal("FinSpace returned no credentials"))?;
        let minutes = output
            .duration_in_minutes()
            .unwrap_or(CREDENTIALS_MINUTES)
            .max(1);
        let expires = now + Duration::from_secs(u64::try_from(minutes).unwrap_or(1) * 60);
        let credentials = Credentials::new(
            granted.access_key_id().unwrap_or_default(),
            granted.secret_access_key().unwrap_or_default(),
            granted.session_token().map(str::to_owned),
            Some(expires),
            "finspace-environment",
        );
        *cached = Some((
            credentials.clone(),
            expires.checked_sub(CREDENTIALS_MARGIN).unwrap_or(now),
        ));
        Ok(credentials)
    }

    /// The configuration override that makes a call with the environment's credentials.
    async fn environment_override(
        &self,
    ) -> Result<Option<aws_sdk_finspacedata::config::Builder>, Error> {
        match &self.environment {
            Some(environment) => {
                let credentials = self.environment_credentials(environment).await?;
                Ok(Some(
                    aws_sdk_finspacedata::config::Builder::default()
                        .credentials_provider(credentials),
                ))
            }
            None => Ok(None),
        }
    }

    async fn inspect_user(&self, lookup: &Lookup<'_>) -> Result<Account, Error> {
        let call = self.client.get_user().user_id(lookup.username);
        let sent = match self.environment_override().await? {
            Some(environment) => call.customize().config_override(environment).send().await,
            None => call.send().await,
        };
        let user = sent.map_err(|e| map_sdk_error(Operation::GetUser, e))?;
        if user.status() == Some(&aws_sdk_finspacedata::types::UserStatus::Disabled) {
            return Err(Error::TargetNotEligible(Ineligible::Disabled));
        }
        Ok(Account {
            canonical: user
                .user_id()
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            groups: Vec::new(),
            superuser: user.r#type() == Some(&aws_sdk_finspacedata::types::UserType::SuperUser),
            groups_incomplete: false,
            last_change: None,
            personal: crate::reset::personal_words(
                [user.first_name(), user.last_name()],
                user.email_address(),
            ),
            // FinSpace's own address of the user (it signs in with it).
            email: user
                .email_address()
                .filter(|address| address.contains('@'))
                .map(str::to_owned),
        })
    }

    async fn run(&self, request: &ResetRequest<'_>) -> Result<ResetOutcome, Error> {
        if request.mode != Mode::Generate {
            return Err(Error::ModeNotSupported);
        }
        // FinSpace may retry: the same `clientToken` returns the same temporary password
        // (docs/AWS.md, FinSpace), so the SDK's standard retries stay, all within the request's deadline.
        let left = request
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(Error::UpstreamUnavailable {
                retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
            });
        }
        let within = aws_sdk_finspacedata::config::timeout::TimeoutConfig::builder()
            .operation_timeout(left)
            .build();
        let config = self
            .environment_override()
            .await?
            .unwrap_or_default()
            .timeout_config(within);
        let sent = self
            .client
            .reset_user_password()
            .user_id(request.username)
            .client_token(request.client_token)
            .customize()
            .config_override(config)
            .send()
            .await;
        let output = sent.map_err(|e| map_sdk_error(Operation::ResetUserPassword, e))?;
        let temporary = output
            .temporary_password()
            .filter(|password| !password.is_empty())
            .ok_or_else(|| Error::internal("FinSpace returned no temporary password"))?;
        let expires_at = SystemTime::now() + TEMPORARY_PASSWORD_LIFETIME;
        Ok(ResetOutcome {
            must_change_at_next_sign_in: true,
            password: Some(SecretString::from(temporary)),
            expires_at: expires_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok()),
            delivery: None,
        })
    }
}

impl ResetAdapter for FinspaceAdapter {
    fn inspect<'a>(&'a self, lookup: &'a Lookup<'a>) -> BoxFuture<'a, Result<Account, Error>> {
        Box::pin(self.inspect_user(lookup))
    }

    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, Error>> {
        Box::pin(self.run(request))
    }
}

fn map_sdk_error<E, R>(operation: Operation, error: SdkError<E, R>) -> Error
where
    E: OperationError,
    R: std::fmt::Debug,
{
    let name = match operation {
        Operation::GetProgrammaticAccessCredentials => "GetProgrammaticAccessCredentials",
        Operation::GetUser => "GetUser",
        Operation::ResetUserPassword => "ResetUserPassword",
    };
    sdk_error(SERVICE, name, error, |code, _| classify(operation, code))
}

/// The contract's answer to a FinSpace Data error: the one table for FinSpace.
fn classify(operation: Operation, code: &str) -> Error {
    match (code, operation) {
        ("ResourceNotFoundException", Operation::ResetUserPassword | Operation::GetUser) => {
            Error::UserNotFound
        }
        // The user's state (for example not yet active) does not allow a reset.
        ("ConflictException", Operation::ResetUserPassword) => {
            Error::TargetNotEligible(Ineligible::State)
        }
        ("ValidationException", Operation::ResetUserPassword | Operation::GetUser) => {
            Error::invalid("The username is not valid for this target.")
        }
        (code, _) if is_transient_code(code) => Error::UpstreamUnavailable {
            retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
        },
        // A wrong environment id, credentials without superuser rights, anything unknown.
        (other, _) => Error::internal(format!("FinSpace {operation:?} failed with {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_the_contract() {
        let reset = Operation::ResetUserPassword;
        let credentials = Operation::GetProgrammaticAccessCredentials;
        let cases: Vec<(Operation, &str, &str, u16)> = vec![
            (reset, "ResourceNotFoundException", "USER_NOT_FOUND", 404),
            (credentials, "ResourceNotFoundException", "INTERNAL", 500),
            (reset, "ConflictException", "TARGET_NOT_ELIGIBLE", 422),
            (reset, "ValidationException", "INVALID_REQUEST", 400),
            (reset, "ThrottlingException", "UPSTREAM_UNAVAILABLE", 503),
            (
                credentials,
                "ThrottlingException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                reset,
                "InternalServerException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (reset, "AccessDeniedException", "INTERNAL", 500),
            (credentials, "AccessDeniedException", "INTERNAL", 500),
        ];
        for (operation, code, expected, status) in cases {
            let error = classify(operation, code);
            assert_eq!(
                (error.code(), error.status()),
                (expected, status),
                "{operation:?} {code}"
            );
        }
    }
}
