//! The Cognito adapter: the account read, the reset calls (one of them at most once), the
//! confirm, the sign-out, and the one table mapping Cognito's errors to the contract.

use aws_sdk_cognitoidentityprovider::{Client, error::SdkError, types::UserStatusType};
use secrecy::ExposeSecret;

use super::{RecoveryClient, SERVICE, Settings};
use crate::{
    BoxFuture,
    aws::{
        Clients, OUTCOME_UNKNOWN_RETRY_AFTER_SECS, OperationError, UNAVAILABLE_RETRY_AFTER_SECS,
        is_transient_code, sdk_error, send_at_most_once, send_failure,
    },
    error::{Error, Ineligible, InitError},
    password,
    reset::{
        Account, Delivery, LastChange, Lookup, Mode, PasswordState, ResetAdapter, ResetOutcome,
        ResetRequest,
    },
};

/// Seconds after Cognito's per-user `LimitExceededException` (codes sent to one user): the
/// limit is not transient, so the wait is long.
const LIMIT_EXCEEDED_RETRY_AFTER_SECS: u64 = 900;

/// Resets passwords in one user pool.
#[derive(Debug, Clone)]
pub struct CognitoAdapter {
    client: Client,
    user_pool_id: String,
    revoke_sessions: bool,
    recovery: Option<RecoveryClient>,
}

/// The Cognito operation an error came from: the same error code means different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    GetUser,
    ListGroupsForUser,
    ResetUserPassword,
    SetUserPassword { generated: bool },
    ConfirmForgotPassword,
    GlobalSignOut,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::GetUser => "AdminGetUser",
            Self::ListGroupsForUser => "AdminListGroupsForUser",
            Self::ResetUserPassword => "AdminResetUserPassword",
            Self::SetUserPassword { .. } => "AdminSetUserPassword",
            Self::ConfirmForgotPassword => "ConfirmForgotPassword",
            Self::GlobalSignOut => "AdminUserGlobalSignOut",
        }
    }
}

impl CognitoAdapter {
    /// The adapter of `target`, with the shared Cognito client and, for a recovery client
    /// with a secret, that secret (read at cold start).
    pub fn from_settings(
        target: &str,
        settings: &Settings,
        clients: &mut Clients<'_>,
    ) -> Result<Self, InitError> {
        let recovery = match (
            &settings.recovery_client_id,
            &settings.recovery_client_secret_arn,
        ) {
            (Some(client_id), arn) => {
                let secret = match arn {
                    Some(arn) => {
                        let secret = clients.secret(arn).ok_or_else(|| InitError::Target {
                            target: target.to_owned(),
                            detail: format!("recoveryClientSecretArn {arn} was not read"),
                        })?;
                        RecoveryClient::check_secret(secret).map_err(|why| InitError::Target {
                            target: target.to_owned(),
                            detail: format!("recoveryClientSecretArn {arn}: {why}"),
                        })?;
                        Some(secret)
                    }
                    None => None,
                };
                Some(RecoveryClient::new(client_id.clone(), secret))
            }
            (None, _) => None,
        };
        Ok(Self {
            revoke_sessions: settings.revoke_sessions,
            recovery,
            ..Self::new(clients.get(Client::new), settings.user_pool_id.clone())
        })
    }

    /// With `recovery` as the app client of confirms.
    pub fn with_recovery(mut self, recovery: RecoveryClient) -> Self {
        self.recovery = Some(recovery);
        self
    }

    /// An adapter for the pool `user_pool_id`, sharing `client`, that revokes sessions after
    /// a password change.
    pub fn new(client: Client, user_pool_id: String) -> Self {
        Self {
            client,
            user_pool_id,
            revoke_sessions: true,
            recovery: None,
        }
    }

    async fn inspect_user(&self, lookup: &Lookup<'_>) -> Result<Account, Error> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(lookup.username)
            .send()
            .await
            .map_err(|e| map_sdk_error(Operation::GetUser, e))?;
        if user.user_status() == Some(&UserStatusType::ExternalProvider) {
            return Err(Error::TargetNotEligible(Ineligible::Federated));
        }
        if !user.enabled() {
            return Err(Error::TargetNotEligible(Ineligible::Disabled));
        }
        // The name Cognito knows the user by, even when the request named an alias.
        let username = user.username().to_owned();
        let last_change = user
            .user_last_modified_date()
            .and_then(|date| date.to_millis().ok())
            .and_then(|millis| u64::try_from(millis).ok())
            .map(|at_ms| LastChange {
                at_ms,
                state: match user.user_status() {
                    Some(UserStatusType::ResetRequired) => PasswordState::ResetRequired,
                    Some(UserStatusType::Confirmed) => PasswordState::Permanent,
                    Some(UserStatusType::ForceChangePassword) => PasswordState::Temporary,
                    _ => PasswordState::Other,
                },
            });
        let groups = if lookup.groups {
            self.groups(&username).await?
        } else {
            Vec::new()
        };
        let attribute = |name: &str| {
            user.user_attributes()
                .iter()
                .find(|attribute| attribute.name() == name)
                .and_then(|attribute| attribute.value())
        };
        let personal = crate::reset::personal_words(
            [
                attribute("given_name"),
                attribute("family_name"),
                attribute("middle_name"),
                attribute("nickname"),
            ],
            attribute("email"),
        );
        // Only a verified address: a user may write an unverified one themselves.
        let email = attribute("email")
            .filter(|_| attribute("email_verified") == Some("true"))
            .map(str::to_owned);
        Ok(Account {
            canonical: Some(username),
            groups,
            superuser: false,
            groups_incomplete: false,
            last_change,
            personal,
            email,
        })
    }

    /// Every group of the user in the pool (all pages).
    async fn groups(&self, username: &str) -> Result<Vec<String>, Error> {
        let mut groups = Vec::new();
        let mut pages = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .limit(60)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map_sdk_error(Operation::ListGroupsForUser, e))?;
            groups.extend(
                page.groups()
                    .iter()
                    .filter_map(|group| group.group_name().map(str::to_owned)),
            );
        }
        Ok(groups)
    }

    async fn run(&self, request: &ResetRequest<'_>) -> Result<ResetOutcome, Error> {
        let username = request.username;
        match request.mode {
            Mode::Code => {
                send_at_most_once(request.deadline, is_throttling, |timeout| {
                    self.client
                        .admin_reset_user_password()
                        .user_pool_id(&self.user_pool_id)
                        .username(username)
                        .set_client_metadata(request.client_metadata.cloned())
                        .customize()
                        .config_override(once(timeout))
                        .send()
                })
                .await
                .map_err(|failure| {
                    send_failure(SERVICE, "AdminResetUserPassword", failure, |e| {
                        map_sdk_error(Operation::ResetUserPassword, e)
                    })
                })?;
                Ok(ResetOutcome {
                    must_change_at_next_sign_in: true,
                    password: None,
                    expires_at: None,
                    delivery: Some(Delivery::VerifiedContact),
                })
            }
            Mode::Generate => {
                let generated = password::generate(request.generated_password_length, username);
                self.set_password(username, generated.expose_secret(), false, request.deadline)
                    .await?;
                Ok(ResetOutcome {
                    must_change_at_next_sign_in: true,
                    password: Some(generated),
                    expires_at: None,
                    delivery: None,
                })
            }
            Mode::Set => {
                let chosen = request.password.ok_or_else(|| {
                    Error::internal("mode set reached the adapter without a password")
                })?;
                self.set_password(username, chosen.expose_secret(), true, request.deadline)
                    .await?;
                Ok(ResetOutcome {
                    must_change_at_next_sign_in: false,
                    password: None,
                    expires_at: None,
                    delivery: None,
                })
            }
            Mode::Confirm => {
                self.confirm(request).await?;
                Ok(ResetOutcome {
                    must_change_at_next_sign_in: false,
                    password: None,
                    expires_at: None,
                    delivery: None,
                })
            }
        }
    }

    /// `ConfirmForgotPassword` through the recovery app client: one of the at-most-once
    /// calls, like the resets (a code is spent by its first use).
    async fn confirm(&self, request: &ResetRequest<'_>) -> Result<(), Error> {
        let recovery = self.recovery.as_ref().ok_or_else(|| {
            Error::internal("a confirm reached a target without recoveryClientId")
        })?;
        let (Some(code), Some(password)) = (request.code, request.password) else {
            return Err(Error::internal(
                "a confirm reached the adapter without its code and password",
            ));
        };
        let operation = Operation::ConfirmForgotPassword;
        send_at_most_once(request.deadline, is_throttling, |timeout| {
            self.client
                .confirm_forgot_password()
                .client_id(recovery.client_id())
                .username(request.username)
                .confirmation_code(code.expose_secret())
                .password(password.expose_secret())
                .set_secret_hash(recovery.secret_hash(request.username))
                .customize()
                .config_override(once(timeout))
                .send()
        })
        .await
        .map(drop)
        .map_err(|failure| {
            send_failure(SERVICE, operation.name(), failure, |e| {
                map_sdk_error(operation, e)
            })
        })
    }

    async fn set_password(
        &self,
        username: &str,
        password: &str,
        permanent: bool,
        deadline: std::time::Instant,
    ) -> Result<(), Error> {
        let operation = Operation::SetUserPassword {
            generated: !permanent,
        };
        send_at_most_once(deadline, is_throttling, |timeout| {
            self.client
                .admin_set_user_password()
                .user_pool_id(&self.user_pool_id)
                .username(username)
                .password(password)
                .permanent(permanent)
                .customize()
                .config_override(once(timeout))
                .send()
        })
        .await
        .map(drop)
        .map_err(|failure| {
            send_failure(SERVICE, operation.name(), failure, |e| {
                map_sdk_error(operation, e)
            })
        })
    }
}

impl ResetAdapter for CognitoAdapter {
    /// `AdminUserGlobalSignOut`: the user's refresh tokens stop working (their ID and access
    /// tokens stay valid until they expire, and an API Gateway JWT authorizer never asks
    /// Cognito: docs/SECURITY.md). Idempotent, so the SDK's standard retries stay.
    fn revoke_sessions<'a>(
        &'a self,
        username: &'a str,
    ) -> Option<BoxFuture<'a, Result<(), Error>>> {
        self.revoke_sessions.then(|| {
            Box::pin(async move {
                self.client
                    .admin_user_global_sign_out()
                    .user_pool_id(&self.user_pool_id)
                    .username(username)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| map_sdk_error(Operation::GlobalSignOut, e))
            }) as BoxFuture<'a, Result<(), Error>>
        })
    }

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

/// One attempt of a reset call, with all of `timeout`: the SDK's retries off
/// ([`send_at_most_once`] decides what is sent again).
fn once(timeout: std::time::Duration) -> aws_sdk_cognitoidentityprovider::config::Builder {
    aws_sdk_cognitoidentityprovider::config::Builder::default()
        .retry_config(aws_sdk_cognitoidentityprovider::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_cognitoidentityprovider::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
}

/// Cognito's throttles, which the service did not execute. Not `LimitExceededException`: a
/// per-user limit that a second attempt only meets again.
fn is_throttling(code: &str, _message: &str) -> bool {
    matches!(code, "TooManyRequestsException" | "ThrottlingException")
}

/// Maps one failed Cognito call to the contract.
fn map_sdk_error<E, R>(operation: Operation, error: SdkError<E, R>) -> Error
where
    E: OperationError,
    R: std::fmt::Debug,
{
    sdk_error(SERVICE, operation.name(), error, |code, message| {
        classify(operation, Some(code), message)
    })
}

/// The contract's answer to a Cognito error code (and, where the code alone is ambiguous, its
/// message) from `operation`: the one table for Cognito.
fn classify(operation: Operation, code: Option<&str>, message: &str) -> Error {
    let confirm = operation == Operation::ConfirmForgotPassword;
    match (code.unwrap_or_default(), operation) {
        ("UserNotFoundException", _) => Error::UserNotFound,
        // The user's code: wrong; or spent, expired, or never sent.
        ("CodeMismatchException", Operation::ConfirmForgotPassword) => {
            Error::InvalidCode { expired: false }
        }
        ("ExpiredCodeException", Operation::ConfirmForgotPassword) => {
            Error::InvalidCode { expired: true }
        }
        // The pool's Lambda trigger (PostConfirmation, run after the change) failed: the
        // password may have changed. Unknown, so the retry reconciles, never "nothing changed".
        (
            "UnexpectedLambdaException"
            | "UserLambdaValidationException"
            | "InvalidLambdaResponseException",
            Operation::ConfirmForgotPassword,
        ) => {
            tracing::error!(
                service = SERVICE,
                operation = operation.name(),
                error_code = code.unwrap_or_default(),
                "the user pool's Lambda trigger failed after ConfirmForgotPassword; the password may have changed; fix the trigger"
            );
            Error::OutcomeUnknown {
                retry_after_secs: OUTCOME_UNKNOWN_RETRY_AFTER_SECS,
            }
        }
        // A state the operation refuses.
        ("UserNotConfirmedException", _) => Error::TargetNotEligible(Ineligible::State),
        // The pool's password history refused a chosen password: its own policy.
        (
            "PasswordHistoryPolicyViolationException",
            Operation::SetUserPassword { generated: false },
        )
        | ("PasswordHistoryPolicyViolationException", Operation::ConfirmForgotPassword) => {
            Error::PasswordRejected(crate::error::PasswordRejection::Policy)
        }
        // The app client's secret did not match (or none was sent): the operator's fix.
        ("NotAuthorizedException", Operation::ConfirmForgotPassword)
            if message.to_ascii_lowercase().contains("secret") =>
        {
            Error::internal(
                "Cognito ConfirmForgotPassword refused the recovery app client's SECRET_HASH: \
                 set recoveryClientSecretArn to a secret holding that client's secret",
            )
        }
        // A user's wrong codes (ConfirmForgotPassword: five), or codes sent to one user: a
        // per-user limit, not a transient throttle.
        ("LimitExceededException" | "TooManyFailedAttemptsException", _) => Error::RateLimited {
            retry_after_secs: LIMIT_EXCEEDED_RETRY_AFTER_SECS,
        },
        // A code Cognito's own pattern refuses (the function checks only its form): a wrong
        // code. Otherwise the caller's password failed the pool's policy, or Cognito's
        // `Password` pattern (leading or trailing white space, which NIST-style checks rightly
        // leave alone).
        ("InvalidParameterException", Operation::ConfirmForgotPassword)
            if message.to_ascii_lowercase().contains("confirmationcode") =>
        {
            Error::InvalidCode { expired: false }
        }
        ("InvalidPasswordException" | "InvalidParameterException", _) if confirm => {
            Error::PasswordRejected(crate::error::PasswordRejection::Policy)
        }
        // The caller's password failed the pool's policy; a generated one failing it means the
        // pool's policy is stricter than `generatedPasswordLength` allows: an operator's fix.
        ("InvalidPasswordException", Operation::SetUserPassword { generated: false }) => {
            Error::PasswordRejected(crate::error::PasswordRejection::Policy)
        }
        ("InvalidPasswordException", _) => Error::internal(
            "a generated password failed the pool's policy; raise generatedPasswordLength",
        ),
        // Disabled user, or a state the operation refuses (FORCE_CHANGE_PASSWORD for a code).
        ("NotAuthorizedException", _) => Error::TargetNotEligible(Ineligible::State),
        // After a successful AdminGetUser the username is well-formed, so on a reset this is
        // Cognito's "no registered/verified email or phone_number".
        ("InvalidParameterException", Operation::ResetUserPassword) => {
            Error::TargetNotEligible(Ineligible::NoVerifiedContact)
        }
        // After AdminGetUser accepted the username, what AdminSetUserPassword can still find
        // invalid is the caller's password: Cognito's `Password` pattern refuses leading and
        // trailing white space, which NIST-style checks rightly leave alone.
        ("InvalidParameterException", Operation::SetUserPassword { generated: false }) => {
            Error::PasswordRejected(crate::error::PasswordRejection::Policy)
        }
        ("InvalidParameterException", _) => {
            Error::invalid("The username is not valid for this target.")
        }
        (code, _) if is_transient_code(code) => Error::UpstreamUnavailable {
            retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
        },
        // Everything else is the deployment's fault, not the caller's: a wrong pool id, our IAM
        // role, or the pool's triggers and messaging roles (UnexpectedLambda,
        // UserLambdaValidation, InvalidLambdaResponse, InvalidSmsRoleAccessPolicy,
        // InvalidSmsRoleTrustRelationship, InvalidEmailRoleAccessPolicy, ResourceNotFound,
        // AccessDenied).
        (other, _) => Error::internal(format!(
            "Cognito {} failed with {other:?}",
            operation.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cognitoidentityprovider::{
        operation::{
            admin_get_user::{AdminGetUserError, AdminGetUserOutput},
            admin_reset_user_password::{
                AdminResetUserPasswordError, AdminResetUserPasswordOutput,
            },
            admin_set_user_password::{AdminSetUserPasswordError, AdminSetUserPasswordOutput},
        },
        types::error::{
            InvalidPasswordException, LimitExceededException, TooManyRequestsException,
            UserNotFoundException,
        },
    };
    use aws_smithy_mocks::{RuleMode, mock};
    use secrecy::SecretString;

    use super::*;
    use crate::error::PasswordRejection;

    #[test]
    fn error_codes_map_to_the_contract() {
        let set = Operation::SetUserPassword { generated: false };
        let generated = Operation::SetUserPassword { generated: true };
        let reset = Operation::ResetUserPassword;
        let get = Operation::GetUser;
        let confirm = Operation::ConfirmForgotPassword;
        let cases: Vec<(Operation, &str, &str, u16)> = vec![
            (get, "UserNotFoundException", "USER_NOT_FOUND", 404),
            (set, "UserNotFoundException", "USER_NOT_FOUND", 404),
            (set, "InvalidPasswordException", "PASSWORD_REJECTED", 422),
            (generated, "InvalidPasswordException", "INTERNAL", 500),
            (reset, "NotAuthorizedException", "TARGET_NOT_ELIGIBLE", 422),
            (set, "NotAuthorizedException", "TARGET_NOT_ELIGIBLE", 422),
            (
                reset,
                "InvalidParameterException",
                "TARGET_NOT_ELIGIBLE",
                422,
            ),
            (get, "InvalidParameterException", "INVALID_REQUEST", 400),
            (set, "InvalidParameterException", "PASSWORD_REJECTED", 422),
            (reset, "LimitExceededException", "RATE_LIMITED", 429),
            (set, "TooManyRequestsException", "UPSTREAM_UNAVAILABLE", 503),
            (get, "InternalErrorException", "UPSTREAM_UNAVAILABLE", 503),
            (get, "ResourceNotFoundException", "INTERNAL", 500),
            (reset, "UnexpectedLambdaException", "INTERNAL", 500),
            (reset, "UserLambdaValidationException", "INTERNAL", 500),
            (reset, "InvalidLambdaResponseException", "INTERNAL", 500),
            (
                reset,
                "InvalidSmsRoleAccessPolicyException",
                "INTERNAL",
                500,
            ),
            (
                reset,
                "InvalidSmsRoleTrustRelationshipException",
                "INTERNAL",
                500,
            ),
            (
                reset,
                "InvalidEmailRoleAccessPolicyException",
                "INTERNAL",
                500,
            ),
            (set, "AccessDeniedException", "INTERNAL", 500),
            (confirm, "CodeMismatchException", "INVALID_CODE", 400),
            (confirm, "ExpiredCodeException", "INVALID_CODE", 400),
            (
                confirm,
                "TooManyFailedAttemptsException",
                "RATE_LIMITED",
                429,
            ),
            (confirm, "LimitExceededException", "RATE_LIMITED", 429),
            (
                confirm,
                "InvalidPasswordException",
                "PASSWORD_REJECTED",
                422,
            ),
            (
                confirm,
                "InvalidParameterException",
                "PASSWORD_REJECTED",
                422,
            ),
            (confirm, "UserNotFoundException", "USER_NOT_FOUND", 404),
            (
                confirm,
                "NotAuthorizedException",
                "TARGET_NOT_ELIGIBLE",
                422,
            ),
            (confirm, "ResourceNotFoundException", "INTERNAL", 500),
            (
                confirm,
                "TooManyRequestsException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                confirm,
                "UnexpectedLambdaException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                confirm,
                "UserLambdaValidationException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                confirm,
                "InvalidLambdaResponseException",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                confirm,
                "PasswordHistoryPolicyViolationException",
                "PASSWORD_REJECTED",
                422,
            ),
            (
                set,
                "PasswordHistoryPolicyViolationException",
                "PASSWORD_REJECTED",
                422,
            ),
            (
                generated,
                "PasswordHistoryPolicyViolationException",
                "INTERNAL",
                500,
            ),
            (
                confirm,
                "UserNotConfirmedException",
                "TARGET_NOT_ELIGIBLE",
                422,
            ),
        ];
        for (operation, code, expected_code, expected_status) in cases {
            let error = classify(operation, Some(code), "");
            assert_eq!(
                (error.code(), error.status()),
                (expected_code, expected_status),
                "{operation:?} {code}"
            );
        }
        // A trigger failing after the change leaves the outcome unknown: the retry reconciles.
        assert!(matches!(
            classify(confirm, Some("UserLambdaValidationException"), ""),
            Error::OutcomeUnknown { .. }
        ));
        // A wrong or missing SECRET_HASH is the deployment's to fix, never the user's state.
        for message in [
            "Unable to verify secret hash for client 3n4b5urk1ft4fl3mm3ke7ii9jl",
            "Client 3n4b5urk1ft4fl3mm3ke7ii9jl is configured with secret but SECRET_HASH was not received",
        ] {
            let error = classify(confirm, Some("NotAuthorizedException"), message);
            assert_eq!(error.code(), "INTERNAL", "{message}");
            assert!(
                error.to_string().contains("recoveryClientSecretArn"),
                "{error}"
            );
        }
        // A parameter error names its member: the code's is a wrong code, never the password's.
        assert_eq!(
            classify(
                confirm,
                Some("InvalidParameterException"),
                "1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint"
            )
            .code(),
            "INVALID_CODE"
        );
        // Elsewhere the same code with that word stays what it was.
        assert_eq!(
            classify(set, Some("NotAuthorizedException"), "secret").code(),
            "TARGET_NOT_ELIGIBLE"
        );
        assert_eq!(
            classify(set, Some("InvalidPasswordException"), "").password_reason(),
            Some(PasswordRejection::Policy)
        );
        assert!(
            classify(reset, Some("LimitExceededException"), "")
                .retry_after_secs()
                .is_some()
        );
        assert!(
            classify(set, Some("TooManyRequestsException"), "")
                .retry_after_secs()
                .is_some()
        );
    }

    /// Error metadata as the SDK's deserialiser sets it from `x-amzn-errortype` / `__type`.
    fn meta(code: &str) -> aws_sdk_cognitoidentityprovider::error::ErrorMetadata {
        aws_sdk_cognitoidentityprovider::error::ErrorMetadata::builder()
            .code(code)
            .build()
    }

    fn get_user(status: UserStatusType, enabled: bool) -> AdminGetUserOutput {
        AdminGetUserOutput::builder()
            .username("alice")
            .user_status(status)
            .enabled(enabled)
            .build()
            .expect("username set")
    }

    fn request<'a>(mode: Mode, password: Option<&'a SecretString>) -> ResetRequest<'a> {
        ResetRequest {
            username: "alice",
            mode,
            password,
            code: None,
            client_metadata: None,
            generated_password_length: 20,
            client_token: "0123456789abcdef",
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(5),
        }
    }

    fn lookup(username: &str, groups: bool) -> Lookup<'_> {
        Lookup {
            username,
            groups,
            is_privileged_group: &|_: &str| false,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(5),
        }
    }

    /// What the handler does: read the account, then reset it by its canonical name.
    async fn inspect_then_reset(
        adapter: &CognitoAdapter,
        request: ResetRequest<'_>,
    ) -> Result<ResetOutcome, Error> {
        let account = adapter.inspect(&lookup(request.username, false)).await?;
        let request = ResetRequest {
            username: account.name(request.username),
            ..request
        };
        adapter.reset(&request).await
    }

    #[tokio::test]
    async fn a_federated_user_is_refused_without_a_set_call() {
        let get = mock!(Client::admin_get_user)
            .then_output(|| get_user(UserStatusType::ExternalProvider, true));
        let set = mock!(Client::admin_set_user_password)
            .then_output(|| AdminSetUserPasswordOutput::builder().build());
        let client = mock_client!(aws_sdk_cognitoidentityprovider, [&get, &set]);
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());

        let error = inspect_then_reset(&adapter, request(Mode::Generate, None))
            .await
            .expect_err("federated");
        assert_eq!(error.code(), "TARGET_NOT_ELIGIBLE");
        assert_eq!(set.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_disabled_user_is_refused_without_a_reset_call() {
        let get = mock!(Client::admin_get_user)
            .then_output(|| get_user(UserStatusType::Confirmed, false));
        let reset = mock!(Client::admin_reset_user_password)
            .then_output(|| AdminResetUserPasswordOutput::builder().build());
        let client = mock_client!(aws_sdk_cognitoidentityprovider, [&get, &reset]);
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());

        let error = inspect_then_reset(&adapter, request(Mode::Code, None))
            .await
            .expect_err("disabled");
        assert_eq!(error.code(), "TARGET_NOT_ELIGIBLE");
        assert_eq!(reset.num_calls(), 0);
    }

    #[tokio::test]
    async fn an_alias_resolves_to_the_canonical_name_and_the_reset_uses_it() {
        let get = mock!(Client::admin_get_user)
            .match_requests(|input| input.username() == Some("bg@example.com"))
            .then_output(|| {
                AdminGetUserOutput::builder()
                    .username("break-glass")
                    .user_status(UserStatusType::Confirmed)
                    .enabled(true)
                    .build()
                    .expect("username set")
            });
        let set = mock!(Client::admin_set_user_password)
            .match_requests(|input| input.username() == Some("break-glass"))
            .then_output(|| AdminSetUserPasswordOutput::builder().build());
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &set]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());

        let account = adapter
            .inspect(&lookup("bg@example.com", false))
            .await
            .expect("read");
        assert_eq!(account.canonical.as_deref(), Some("break-glass"));
        let outcome = inspect_then_reset(
            &adapter,
            ResetRequest {
                username: "bg@example.com",
                ..request(Mode::Generate, None)
            },
        )
        .await
        .expect("reset by the canonical name");
        assert!(outcome.password.is_some());
        assert_eq!(set.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_admin_lookup_reads_every_page_of_groups() {
        use aws_sdk_cognitoidentityprovider::{
            operation::admin_list_groups_for_user::AdminListGroupsForUserOutput, types::GroupType,
        };
        let get =
            mock!(Client::admin_get_user).then_output(|| get_user(UserStatusType::Confirmed, true));
        let first = mock!(Client::admin_list_groups_for_user)
            .match_requests(|input| input.next_token().is_none())
            .then_output(|| {
                AdminListGroupsForUserOutput::builder()
                    .groups(GroupType::builder().group_name("readers").build())
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::admin_list_groups_for_user)
            .match_requests(|input| input.next_token() == Some("page-2"))
            .then_output(|| {
                AdminListGroupsForUserOutput::builder()
                    .groups(GroupType::builder().group_name("helpdesk").build())
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &first, &second]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());
        let account = adapter.inspect(&lookup("alice", true)).await.expect("read");
        assert_eq!(account.groups, vec!["readers", "helpdesk"]);
        // Self-service reads no groups.
        let account = adapter
            .inspect(&lookup("alice", false))
            .await
            .expect("read");
        assert!(account.groups.is_empty());
        assert_eq!(first.num_calls() + second.num_calls(), 2);
    }

    #[tokio::test]
    async fn sdk_errors_reach_the_contract() {
        let get =
            mock!(Client::admin_get_user).then_output(|| get_user(UserStatusType::Confirmed, true));
        let set_policy = mock!(Client::admin_set_user_password).then_error(|| {
            AdminSetUserPasswordError::InvalidPasswordException(
                InvalidPasswordException::builder()
                    .meta(meta("InvalidPasswordException"))
                    .build(),
            )
        });
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &set_policy]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());
        let password = SecretString::from("Canary-Pa55word-Policy!");
        let error = inspect_then_reset(&adapter, request(Mode::Set, Some(&password)))
            .await
            .expect_err("policy");
        assert_eq!(error.password_reason(), Some(PasswordRejection::Policy));

        let missing = mock!(Client::admin_get_user).then_error(|| {
            AdminGetUserError::UserNotFoundException(
                UserNotFoundException::builder()
                    .meta(meta("UserNotFoundException"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_cognitoidentityprovider, [&missing]);
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());
        let error = inspect_then_reset(&adapter, request(Mode::Code, None))
            .await
            .expect_err("missing");
        assert_eq!(error.code(), "USER_NOT_FOUND");

        let get =
            mock!(Client::admin_get_user).then_output(|| get_user(UserStatusType::Confirmed, true));
        let limited = mock!(Client::admin_reset_user_password).then_error(|| {
            AdminResetUserPasswordError::LimitExceededException(
                LimitExceededException::builder()
                    .meta(meta("LimitExceededException"))
                    .build(),
            )
        });
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &limited]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());
        let error = inspect_then_reset(&adapter, request(Mode::Code, None))
            .await
            .expect_err("limited");
        assert_eq!(error.code(), "RATE_LIMITED");

        let get =
            mock!(Client::admin_get_user).then_output(|| get_user(UserStatusType::Confirmed, true));
        let throttled = mock!(Client::admin_set_user_password).then_error(|| {
            AdminSetUserPasswordError::TooManyRequestsException(
                TooManyRequestsException::builder()
                    .meta(meta("TooManyRequestsException"))
                    .build(),
            )
        });
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &throttled]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());
        let error = inspect_then_reset(&adapter, request(Mode::Generate, None))
            .await
            .expect_err("throttled");
        assert_eq!(error.code(), "UPSTREAM_UNAVAILABLE");
        assert!(error.retry_after_secs().is_some());
    }

    #[tokio::test]
    async fn generate_sets_a_temporary_password_and_returns_it() {
        let get =
            mock!(Client::admin_get_user).then_output(|| get_user(UserStatusType::Confirmed, true));
        let set = mock!(Client::admin_set_user_password)
            .match_requests(|input| {
                input.permanent() == Some(false) && input.username() == Some("alice")
            })
            .then_output(|| AdminSetUserPasswordOutput::builder().build());
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::MatchAny,
            [&get, &set]
        );
        let adapter = CognitoAdapter::new(client, "us-east-1_Pool".into());

        let outcome = inspect_then_reset(&adapter, request(Mode::Generate, None))
            .await
            .expect("generated");
        assert!(outcome.must_change_at_next_sign_in);
        assert_eq!(
            outcome
                .password
                .as_ref()
                .map(|p| p.expose_secret().chars().count()),
            Some(20)
        );
        assert_eq!(set.num_calls(), 1);
    }

    /// At most once: a throttle (which Cognito did not execute) is sent again, up to three
    /// attempts; any other failure is not, though the SDK's standard retry would re-send it.
    #[tokio::test]
    async fn only_a_throttled_reset_call_is_sent_again() {
        use aws_sdk_cognitoidentityprovider::types::error::InternalErrorException;
        let throttled = || {
            AdminSetUserPasswordError::TooManyRequestsException(
                TooManyRequestsException::builder()
                    .meta(meta("TooManyRequestsException"))
                    .build(),
            )
        };
        let adapter_with = |set: &aws_smithy_mocks::Rule| {
            let get = mock!(Client::admin_get_user)
                .then_output(|| get_user(UserStatusType::Confirmed, true));
            CognitoAdapter::new(
                mock_client!(
                    aws_sdk_cognitoidentityprovider,
                    RuleMode::MatchAny,
                    [&get, set]
                ),
                "us-east-1_Pool".into(),
            )
        };

        let once = mock!(Client::admin_set_user_password)
            .sequence()
            .error(throttled)
            .output(|| AdminSetUserPasswordOutput::builder().build())
            .build();
        inspect_then_reset(&adapter_with(&once), request(Mode::Generate, None))
            .await
            .expect("sent again after the throttle");
        assert_eq!(once.num_calls(), 2);

        let always = mock!(Client::admin_set_user_password)
            .sequence()
            .error(throttled)
            .times(10)
            .build();
        let error = inspect_then_reset(&adapter_with(&always), request(Mode::Generate, None))
            .await
            .expect_err("throttled");
        assert_eq!(error.code(), "UPSTREAM_UNAVAILABLE");
        assert!(error.retry_after_secs().is_some());
        assert_eq!(always.num_calls(), 3);

        let internal = mock!(Client::admin_set_user_password)
            .sequence()
            .error(|| {
                AdminSetUserPasswordError::InternalErrorException(
                    InternalErrorException::builder()
                        .meta(meta("InternalErrorException"))
                        .build(),
                )
            })
            .times(10)
            .build();
        let password = SecretString::from("Chosen-Passw0rd-Once!");
        let error = inspect_then_reset(
            &adapter_with(&internal),
            request(Mode::Set, Some(&password)),
        )
        .await
        .expect_err("internal");
        assert_eq!(error.code(), "UPSTREAM_UNAVAILABLE");
        assert_eq!(internal.num_calls(), 1, "not sent again");

        // No time left: not sent at all.
        let unsent = mock!(Client::admin_set_user_password)
            .then_output(|| AdminSetUserPasswordOutput::builder().build());
        let late = ResetRequest {
            deadline: std::time::Instant::now(),
            ..request(Mode::Generate, None)
        };
        let error = inspect_then_reset(&adapter_with(&unsent), late)
            .await
            .expect_err("no time");
        assert_eq!(error.code(), "UPSTREAM_UNAVAILABLE");
        assert_eq!(unsent.num_calls(), 0);
    }

    /// A confirm goes through the recovery client with the code, the password and the
    /// client's `SECRET_HASH`; a wrong code is `INVALID_CODE` after exactly one call (a code
    /// is spent by its first use, so it is never sent again).
    #[tokio::test]
    async fn a_confirm_carries_the_secret_hash_and_is_sent_once() {
        use aws_sdk_cognitoidentityprovider::{
            operation::confirm_forgot_password::{
                ConfirmForgotPasswordError, ConfirmForgotPasswordOutput,
            },
            types::error::CodeMismatchException,
        };
        let secret = SecretString::from("s3cr3t-of-the-client");
        let recovery = RecoveryClient::new("recoveryclient1".into(), Some(&secret));
        let expected = recovery.secret_hash("alice");
        let code = SecretString::from("731904");
        let password = SecretString::from("Quiet-Harbour-Lantern-42");
        let confirm = |code: &'static str| {
            let expected = expected.clone();
            mock!(Client::confirm_forgot_password)
                .match_requests(move |r| {
                    r.client_id() == Some("recoveryclient1")
                        && r.username() == Some("alice")
                        && r.confirmation_code() == Some(code)
                        && r.password() == Some("Quiet-Harbour-Lantern-42")
                        && r.secret_hash() == expected.as_deref()
                })
                .then_output(|| ConfirmForgotPasswordOutput::builder().build())
        };
        let adapter_with = |rules: &[&aws_smithy_mocks::Rule]| {
            CognitoAdapter::new(
                mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, rules),
                "us-east-1_Pool".into(),
            )
            .with_recovery(recovery.clone())
        };
        let request = ResetRequest {
            code: Some(&code),
            ..request(Mode::Confirm, Some(&password))
        };
        let right = confirm("731904");
        let outcome = adapter_with(&[&right])
            .reset(&request)
            .await
            .expect("confirmed");
        assert!(!outcome.must_change_at_next_sign_in && outcome.password.is_none());
        assert_eq!(right.num_calls(), 1);

        let mismatch = mock!(Client::confirm_forgot_password).then_error(|| {
            ConfirmForgotPasswordError::CodeMismatchException(
                CodeMismatchException::builder()
                    .meta(meta("CodeMismatchException"))
                    .build(),
            )
        });
        let error = adapter_with(&[&mismatch])
            .reset(&request)
            .await
            .expect_err("a wrong code");
        assert_eq!(error.code(), "INVALID_CODE");
        assert_eq!(mismatch.num_calls(), 1);

        // A target without a recovery client never calls.
        let none = confirm("731904");
        let plain = CognitoAdapter::new(
            mock_client!(aws_sdk_cognitoidentityprovider, [&none]),
            "us-east-1_Pool".into(),
        );
        assert_eq!(
            plain.reset(&request).await.map(drop).map_err(|e| e.code()),
            Err("INTERNAL")
        );
        assert_eq!(none.num_calls(), 0);
    }
}
