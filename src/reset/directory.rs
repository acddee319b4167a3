//! AWS Directory Service (Managed Microsoft AD, Simple AD): `ResetUserPassword`, modes `set`
//! and `generate`.
//!
//! `ResetUserPassword` **enables a disabled account** (AWS behaviour): a reset would quietly
//! bring back an account someone switched off, for example a leaver's. So by default
//! (`refuseDisabled`, on unless the target turns it off) the adapter first asks Directory
//! Service Data `DescribeUser` and refuses a disabled account with `TARGET_NOT_ELIGIBLE`. That
//! API must be enabled on the directory (Managed Microsoft AD); Simple AD has no Directory
//! Service Data, so a Simple AD target must set `refuseDisabled: false` and accept the AWS
//! behaviour (documented in `docs/CONFIG.md`). There is no "must change at next logon" in the
//! API: `mustChangeAtNextSignIn` is always false.

use aws_sdk_directory::{Client, error::SdkError};
use secrecy::ExposeSecret;

use super::{
    BoxFuture, Mode, OperationError, ResetAdapter, ResetOutcome, ResetRequest, Service,
    UNAVAILABLE_RETRY_AFTER_SECS, check_username_rules, sdk_error,
};
use crate::{
    error::{Error, PasswordRejection},
    password,
};

/// Characters `UserName` may not contain (Directory Service API reference, `ResetUserPassword`).
const FORBIDDEN_IN_USERNAME: &[char] = &[
    '\\', '"', '/', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@',
];

/// Resets passwords in one directory.
#[derive(Debug, Clone)]
pub struct DirectoryAdapter {
    client: Client,
    data: Option<aws_sdk_directoryservicedata::Client>,
    directory_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    DescribeUser,
    ResetUserPassword { generated: bool },
}

impl DirectoryAdapter {
    /// An adapter for `directory_id`; with `data`, disabled accounts are refused.
    pub fn new(
        client: Client,
        data: Option<aws_sdk_directoryservicedata::Client>,
        directory_id: String,
    ) -> Self {
        Self {
            client,
            data,
            directory_id,
        }
    }

    async fn run(&self, request: &ResetRequest<'_>) -> Result<ResetOutcome, Error> {
        if let Some(data) = &self.data {
            let user = data
                .describe_user()
                .directory_id(&self.directory_id)
                .sam_account_name(request.username)
                .send()
                .await
                .map_err(|e| map_sdk_error(Operation::DescribeUser, e))?;
            // The canonical name, against the protected list once more (AD compares names
            // case-insensitively; the list does too).
            if user
                .sam_account_name()
                .is_some_and(|name| (request.is_protected)(name))
            {
                return Err(Error::TargetNotEligible(crate::auth::PROTECTED_ACCOUNT));
            }
            if user.enabled() != Some(true) {
                return Err(Error::TargetNotEligible(
                    "This account is disabled; a reset would enable it. Enable it in the directory first.",
                ));
            }
        }
        let (new_password, generated) = match request.mode {
            Mode::Set => (
                request
                    .password
                    .ok_or_else(|| {
                        Error::internal("mode set reached the adapter without a password")
                    })?
                    .clone(),
                false,
            ),
            Mode::Generate => (
                password::generate(request.generated_password_length, request.username),
                true,
            ),
            Mode::Code => return Err(Error::ModeNotSupported),
        };
        self.client
            .reset_user_password()
            .directory_id(&self.directory_id)
            .user_name(request.username)
            .new_password(new_password.expose_secret())
            .send()
            .await
            .map_err(|e| map_sdk_error(Operation::ResetUserPassword { generated }, e))?;
        Ok(ResetOutcome {
            must_change_at_next_sign_in: false,
            password: generated.then_some(new_password),
            expires_at: None,
            delivery: None,
        })
    }
}

impl ResetAdapter for DirectoryAdapter {
    /// `UserName`: 1-64 characters, none of `\ " / [ ] : ; | = , + * ? < > @`, and no control
    /// characters.
    fn check_username(&self, username: &str) -> Result<(), Error> {
        check_username_rules(
            username,
            64,
            |c: char| !c.is_control() && !FORBIDDEN_IN_USERNAME.contains(&c),
            "The username is not a valid directory user name.",
        )
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
        Operation::DescribeUser => "DescribeUser",
        Operation::ResetUserPassword { .. } => "ResetUserPassword",
    };
    sdk_error(Service::Directory, name, error, |code, message| {
        classify(operation, code, message)
    })
}

/// The contract's answer to a Directory Service (or Directory Service Data) error: the one
/// table for directories.
fn classify(operation: Operation, code: &str, message: &str) -> Error {
    let unavailable = Error::UpstreamUnavailable {
        retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
    };
    match (code, operation) {
        ("UserDoesNotExistException" | "ResourceNotFoundException", _) => Error::UserNotFound,
        ("InvalidPasswordException", Operation::ResetUserPassword { generated: false }) => {
            Error::PasswordRejected(PasswordRejection::Policy)
        }
        ("InvalidPasswordException", _) => Error::internal(
            "a generated password failed the directory's policy; raise generatedPasswordLength",
        ),
        // Simple AD refuses members of Domain Admins and Enterprise Admins.
        ("UnsupportedOperationException", _) => Error::TargetNotEligible(
            "The directory does not allow resetting this account (an administrator).",
        ),
        // Directory Service reports throttling as a ClientException "Rate exceeded".
        ("ClientException", _) if message.to_ascii_lowercase().contains("rate exceeded") => {
            unavailable
        }
        // Managed AD only resets users in the OU named after the NetBIOS name.
        ("ClientException", Operation::ResetUserPassword { .. }) => Error::TargetNotEligible(
            "The directory refused to reset this account (it may be outside the delegated OU).",
        ),
        ("ValidationException", _) => {
            Error::invalid("The username is not valid for this directory.")
        }
        (
            "DirectoryUnavailableException"
            | "ServiceException"
            | "ThrottlingException"
            | "InternalServerException"
            | "TooManyRequestsException",
            _,
        ) => unavailable,
        // A wrong directory id (EntityDoesNotExist), our IAM role (AccessDenied, also when
        // Directory Service Data is not enabled on the directory), anything unknown.
        (other, _) => Error::internal(format!(
            "Directory Service {operation:?} failed with {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_directory::{
        operation::reset_user_password::{ResetUserPasswordError, ResetUserPasswordOutput},
        types::error::{InvalidPasswordException, UserDoesNotExistException},
    };
    use aws_sdk_directoryservicedata::operation::describe_user::DescribeUserOutput;
    use aws_smithy_mocks::{RuleMode, mock};
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn error_codes_map_to_the_contract() {
        let set = Operation::ResetUserPassword { generated: false };
        let generated = Operation::ResetUserPassword { generated: true };
        let describe = Operation::DescribeUser;
        let cases: Vec<(Operation, &str, &str, &str, u16)> = vec![
            (set, "UserDoesNotExistException", "", "USER_NOT_FOUND", 404),
            (
                describe,
                "ResourceNotFoundException",
                "",
                "USER_NOT_FOUND",
                404,
            ),
            (
                set,
                "InvalidPasswordException",
                "",
                "PASSWORD_REJECTED",
                422,
            ),
            (generated, "InvalidPasswordException", "", "INTERNAL", 500),
            (
                set,
                "UnsupportedOperationException",
                "",
                "TARGET_NOT_ELIGIBLE",
                422,
            ),
            (
                set,
                "ClientException",
                "User is not in the delegated OU",
                "TARGET_NOT_ELIGIBLE",
                422,
            ),
            (
                set,
                "ClientException",
                "Rate exceeded",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                set,
                "DirectoryUnavailableException",
                "",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                describe,
                "DirectoryUnavailableException",
                "",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (set, "ServiceException", "", "UPSTREAM_UNAVAILABLE", 503),
            (
                describe,
                "ThrottlingException",
                "",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (
                describe,
                "InternalServerException",
                "",
                "UPSTREAM_UNAVAILABLE",
                503,
            ),
            (describe, "ValidationException", "", "INVALID_REQUEST", 400),
            (set, "EntityDoesNotExistException", "", "INTERNAL", 500),
            (describe, "AccessDeniedException", "", "INTERNAL", 500),
            (set, "SomethingNew", "", "INTERNAL", 500),
        ];
        for (operation, code, message, expected, status) in cases {
            let error = classify(operation, code, message);
            assert_eq!(
                (error.code(), error.status()),
                (expected, status),
                "{operation:?} {code} {message}"
            );
        }
        assert!(
            classify(set, "ClientException", "Rate exceeded")
                .retry_after_secs()
                .is_some()
        );
    }

    fn meta(code: &str) -> aws_sdk_directory::error::ErrorMetadata {
        aws_sdk_directory::error::ErrorMetadata::builder()
            .code(code)
            .build()
    }

    fn request<'a>(mode: Mode, password: Option<&'a SecretString>) -> ResetRequest<'a> {
        ResetRequest {
            username: "alice",
            mode,
            password,
            client_metadata: None,
            generated_password_length: 20,
            is_protected: &|name: &str| name.eq_ignore_ascii_case("administrator"),
            client_token: "0123456789abcdef",
        }
    }

    fn adapter(reset: &aws_smithy_mocks::Rule, enabled: Option<bool>) -> DirectoryAdapter {
        let client = mock_client!(aws_sdk_directory, RuleMode::MatchAny, [reset]);
        let data = enabled.map(|enabled| {
            let describe =
                mock!(aws_sdk_directoryservicedata::Client::describe_user).then_output(move || {
                    DescribeUserOutput::builder()
                        .sam_account_name("alice")
                        .enabled(enabled)
                        .build()
                });
            mock_client!(aws_sdk_directoryservicedata, [&describe])
        });
        DirectoryAdapter::new(client, data, "d-1234567890".into())
    }

    #[tokio::test]
    async fn sdk_errors_reach_the_contract() {
        let policy = mock!(Client::reset_user_password).then_error(|| {
            ResetUserPasswordError::InvalidPasswordException(
                InvalidPasswordException::builder()
                    .meta(meta("InvalidPasswordException"))
                    .build(),
            )
        });
        let password = SecretString::from("Chosen-Passw0rd!");
        let error = adapter(&policy, None)
            .reset(&request(Mode::Set, Some(&password)))
            .await
            .expect_err("policy");
        assert_eq!(error.password_reason(), Some(PasswordRejection::Policy));

        let missing = mock!(Client::reset_user_password).then_error(|| {
            ResetUserPasswordError::UserDoesNotExistException(
                UserDoesNotExistException::builder()
                    .meta(meta("UserDoesNotExistException"))
                    .build(),
            )
        });
        let error = adapter(&missing, None)
            .reset(&request(Mode::Generate, None))
            .await
            .expect_err("missing");
        assert_eq!(error.code(), "USER_NOT_FOUND");
    }

    #[tokio::test]
    async fn a_disabled_account_is_not_re_enabled() {
        let reset = mock!(Client::reset_user_password)
            .then_output(|| ResetUserPasswordOutput::builder().build());
        let error = adapter(&reset, Some(false))
            .reset(&request(Mode::Generate, None))
            .await
            .expect_err("disabled");
        assert_eq!(error.code(), "TARGET_NOT_ELIGIBLE");
        assert_eq!(reset.num_calls(), 0);

        let outcome = adapter(&reset, Some(true))
            .reset(&request(Mode::Generate, None))
            .await
            .expect("enabled");
        assert!(!outcome.must_change_at_next_sign_in);
        assert_eq!(outcome.password.map(|p| p.expose_secret().len()), Some(20));
        assert_eq!(reset.num_calls(), 1);
    }

    #[test]
    fn usernames() {
        let reset = mock!(Client::reset_user_password)
            .then_output(|| ResetUserPasswordOutput::builder().build());
        let adapter = adapter(&reset, None);
        for good in ["alice", "Alice.Smith", "a b", "ünïcødé", &"x".repeat(64)] {
            assert!(adapter.check_username(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a@b",
            "a/b",
            "a\\b",
            "a,b",
            "a+b",
            "a*b",
            "a?b",
            "a<b",
            "a>b",
            "a;b",
            "a:b",
            "a|b",
            "a=b",
            "a[b]",
            "a\"b",
            "nul\0",
            &"x".repeat(65),
        ] {
            assert!(adapter.check_username(bad).is_err(), "{bad:?}");
        }
    }
}
