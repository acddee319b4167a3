//! The directory adapter: Directory Service Data reads, then `ResetUserPassword`.

use std::{collections::HashSet, time::Instant};

use aws_sdk_directory::{Client, error::SdkError};
use aws_sdk_directoryservicedata::types::{AccessDeniedReason, ValidationExceptionReason};
use secrecy::ExposeSecret;

use super::{SERVICE, Settings};
use crate::reset::{Account, Lookup, Mode, ResetAdapter, ResetOutcome, ResetRequest};
use crate::{
    BoxFuture,
    aws::{
        Clients, OperationError, UNAVAILABLE_RETRY_AFTER_SECS, is_transient_code, sdk_error,
        send_at_most_once, send_failure,
    },
    error::{Error, Ineligible, PasswordRejection},
    password,
};

/// The most `ListGroupsForMember` calls one request makes (each page counts), so a deep or
/// cyclic group graph cannot hold a request for long.
pub(super) const MAX_GROUP_LOOKUPS: usize = 25;

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
    ListGroupsForMember,
    ResetUserPassword { generated: bool },
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::DescribeUser => "DescribeUser",
            Self::ListGroupsForMember => "ListGroupsForMember",
            Self::ResetUserPassword { .. } => "ResetUserPassword",
        }
    }
}

impl DirectoryAdapter {
    /// The adapter of a target, with the shared Directory Service (and, with
    /// `refuseDisabled`, Directory Service Data) clients.
    pub fn from_settings(settings: &Settings, clients: &mut Clients<'_>) -> Self {
        let data = settings
            .refuse_disabled
            .then(|| clients.get(aws_sdk_directoryservicedata::Client::new));
        Self::new(
            clients.get(Client::new),
            data,
            settings.directory_id.clone(),
        )
    }

    /// An adapter for `directory_id`; with `data`, accounts are read first (disabled ones are
    /// refused, groups are listed for admin requests).
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

    async fn inspect_user(&self, lookup: &Lookup<'_>) -> Result<Account, Error> {
        // Simple AD (refuseDisabled off): nothing to read; the built-in and listed names
        // are the only guard, compared on the folded name.
        let Some(data) = &self.data else {
            return Ok(Account::default());
        };
        let user = data
            .describe_user()
            .directory_id(&self.directory_id)
            .sam_account_name(lookup.username)
            .send()
            .await
            .map_err(|e| self.data_error(Operation::DescribeUser, e))?;
        if user.enabled() != Some(true) {
            return Err(Error::TargetNotEligible(Ineligible::DisabledWouldEnable));
        }
        let canonical = user
            .sam_account_name()
            .filter(|name| !name.is_empty())
            .unwrap_or(lookup.username)
            .to_owned();
        let mut account = Account {
            canonical: Some(canonical),
            personal: crate::reset::personal_words(
                [user.given_name(), user.surname()],
                user.email_address(),
            ),
            email: user
                .email_address()
                .filter(|address| address.contains('@'))
                .map(str::to_owned),
            ..Account::default()
        };
        if lookup.groups {
            self.walk_groups(data, lookup, &mut account).await?;
        }
        Ok(account)
    }

    /// The account's groups, breadth first through nested groups, until a privileged one is
    /// found or the walk's bounds are reached (then `groups_incomplete`).
    async fn walk_groups(
        &self,
        data: &aws_sdk_directoryservicedata::Client,
        lookup: &Lookup<'_>,
        account: &mut Account,
    ) -> Result<(), Error> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut queue =
            std::collections::VecDeque::from([account.name(lookup.username).to_owned()]);
        let mut lookups = 0;
        let mut first = true;
        while let Some(member) = queue.pop_front() {
            let mut next_token: Option<String> = None;
            loop {
                // The account's own groups are always read; nested ones as time allows.
                if !first && (lookups >= MAX_GROUP_LOOKUPS || Instant::now() >= lookup.deadline) {
                    account.groups_incomplete = true;
                    return Ok(());
                }
                lookups += 1;
                let page = data
                    .list_groups_for_member()
                    .directory_id(&self.directory_id)
                    .sam_account_name(&member)
                    .set_next_token(next_token.take())
                    .send()
                    .await;
                let page = match page {
                    Ok(page) => page,
                    // A nested group that vanished meanwhile is no membership.
                    Err(SdkError::ServiceError(context))
                        if !first && context.err().is_resource_not_found_exception() =>
                    {
                        break;
                    }
                    Err(error) => {
                        return Err(self.data_error(Operation::ListGroupsForMember, error));
                    }
                };
                for group in page.groups() {
                    let name = group.sam_account_name();
                    if seen.insert(name.to_lowercase()) {
                        account.groups.push(name.to_owned());
                        if (lookup.is_privileged_group)(name) {
                            return Ok(());
                        }
                        queue.push_back(name.to_owned());
                    }
                }
                next_token = page.next_token().map(str::to_owned);
                if next_token.is_none() {
                    break;
                }
            }
            first = false;
        }
        Ok(())
    }

    /// A Directory Service Data error: the reasons that mean "cannot be checked as configured"
    /// first, then the one table.
    fn data_error<E, R>(&self, operation: Operation, error: SdkError<E, R>) -> Error
    where
        E: OperationError + DataReason,
        R: std::fmt::Debug,
    {
        if let SdkError::ServiceError(context) = &error {
            match context.err().data_reason() {
                Some(DataFailure::NotAvailable) => {
                    return Error::internal(format!(
                        "directory {}: Directory Service Data is not available on this directory \
                         (Simple AD). Set \"refuseDisabled\": false on the target (only built-in \
                         and listed names are then checked), or use AWS Managed Microsoft AD",
                        self.directory_id
                    ));
                }
                Some(DataFailure::Disabled) => {
                    return Error::internal(format!(
                        "directory {}: Directory Service Data is disabled. Enable it \
                         (aws ds enable-directory-data-access --directory-id {}), or set \
                         \"refuseDisabled\": false on the target",
                        self.directory_id, self.directory_id
                    ));
                }
                None => {}
            }
        }
        map_sdk_error(operation, error)
    }

    async fn run(&self, request: &ResetRequest<'_>) -> Result<ResetOutcome, Error> {
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
            Mode::Code | Mode::Confirm => return Err(Error::ModeNotSupported),
        };
        let operation = Operation::ResetUserPassword { generated };
        send_at_most_once(request.deadline, is_throttling, |timeout| {
            self.client
                .reset_user_password()
                .directory_id(&self.directory_id)
                .user_name(request.username)
                .new_password(new_password.expose_secret())
                .customize()
                .config_override(
                    aws_sdk_directory::config::Builder::default()
                        .retry_config(aws_sdk_directory::config::retry::RetryConfig::disabled())
                        .timeout_config(
                            aws_sdk_directory::config::timeout::TimeoutConfig::builder()
                                .operation_attempt_timeout(timeout)
                                .operation_timeout(timeout)
                                .build(),
                        ),
                )
                .send()
        })
        .await
        .map_err(|failure| {
            send_failure(SERVICE, operation.name(), failure, |e| {
                map_sdk_error(operation, e)
            })
        })?;
        Ok(ResetOutcome {
            must_change_at_next_sign_in: false,
            password: generated.then_some(new_password),
            expires_at: None,
            delivery: None,
        })
    }
}

/// Why Directory Service Data cannot serve this directory at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataFailure {
    /// `ValidationException` `INVALID_DIRECTORY_TYPE`: Simple AD (or AD Connector).
    NotAvailable,
    /// `AccessDeniedException` `DATA_DISABLED`: not enabled on the directory.
    Disabled,
}

/// The `Reason` member of a Directory Service Data operation's error.
trait DataReason {
    fn data_reason(&self) -> Option<DataFailure>;
}

macro_rules! data_reason {
    ($($error:ty),*) => {$(
        impl DataReason for $error {
            fn data_reason(&self) -> Option<DataFailure> {
                match self {
                    Self::ValidationException(e)
                        if e.reason() == Some(&ValidationExceptionReason::InvalidDirectoryType) =>
                    {
                        Some(DataFailure::NotAvailable)
                    }
                    Self::AccessDeniedException(e)
                        if e.reason() == Some(&AccessDeniedReason::DataDisabled) =>
                    {
                        Some(DataFailure::Disabled)
                    }
                    _ => None,
                }
            }
        }
    )*};
}

data_reason!(
    aws_sdk_directoryservicedata::operation::describe_user::DescribeUserError,
    aws_sdk_directoryservicedata::operation::list_groups_for_member::ListGroupsForMemberError
);

impl ResetAdapter for DirectoryAdapter {
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

/// Directory Service's throttles, which it did not execute: a `ClientException` "Rate
/// exceeded" (its documented throttling answer), or a throttling code.
fn is_throttling(code: &str, message: &str) -> bool {
    matches!(code, "ThrottlingException" | "TooManyRequestsException")
        || (code == "ClientException" && message.to_ascii_lowercase().contains("rate exceeded"))
}

fn map_sdk_error<E, R>(operation: Operation, error: SdkError<E, R>) -> Error
where
    E: OperationError,
    R: std::fmt::Debug,
{
    sdk_error(SERVICE, operation.name(), error, |code, message| {
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
        ("UnsupportedOperationException", _) => {
            Error::TargetNotEligible(Ineligible::DirectoryAdministrator)
        }
        // Directory Service reports throttling as a ClientException "Rate exceeded".
        ("ClientException", _) if message.to_ascii_lowercase().contains("rate exceeded") => {
            unavailable
        }
        // Managed AD only resets users in the OU named after the NetBIOS name.
        ("ClientException", Operation::ResetUserPassword { .. }) => {
            Error::TargetNotEligible(Ineligible::OutsideDelegatedOu)
        }
        ("ValidationException", _) => {
            Error::invalid("The username is not valid for this directory.")
        }
        (code, _) if is_transient_code(code) => unavailable,
        // A wrong directory id (EntityDoesNotExist), anything unknown.
        (other, _) => Error::internal(format!(
            "Directory Service {} failed with {other:?}",
            operation.name()
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
            code: None,
            client_metadata: None,
            generated_password_length: 20,
            client_token: "0123456789abcdef",
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(5),
        }
    }

    fn lookup<'a>(
        username: &'a str,
        groups: bool,
        privileged: &'a (dyn Fn(&str) -> bool + Sync),
    ) -> Lookup<'a> {
        Lookup {
            username,
            groups,
            is_privileged_group: privileged,
            deadline: Instant::now() + std::time::Duration::from_secs(5),
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
            .inspect(&lookup("alice", false, &|_| false))
            .await
            .expect_err("disabled");
        assert_eq!(error.code(), "TARGET_NOT_ELIGIBLE");
        assert_eq!(reset.num_calls(), 0);

        let enabled = adapter(&reset, Some(true));
        let account = enabled
            .inspect(&lookup("ALICE", false, &|_| false))
            .await
            .expect("enabled");
        assert_eq!(account.canonical.as_deref(), Some("alice"));
        let outcome = enabled
            .reset(&request(Mode::Generate, None))
            .await
            .expect("enabled");
        assert!(!outcome.must_change_at_next_sign_in);
        assert_eq!(outcome.password.map(|p| p.expose_secret().len()), Some(20));
        assert_eq!(reset.num_calls(), 1);
    }

    mod data_errors {
        use aws_sdk_directoryservicedata::{
            error::ErrorMetadata,
            operation::describe_user::DescribeUserError,
            types::{
                AccessDeniedReason, ValidationExceptionReason,
                error::{AccessDeniedException, ValidationException},
            },
        };

        fn meta(code: &str) -> ErrorMetadata {
            ErrorMetadata::builder().code(code).build()
        }

        pub fn simple_ad() -> DescribeUserError {
            DescribeUserError::ValidationException(
                ValidationException::builder()
                    .reason(ValidationExceptionReason::InvalidDirectoryType)
                    .meta(meta("ValidationException"))
                    .build(),
            )
        }

        pub fn data_disabled() -> DescribeUserError {
            DescribeUserError::AccessDeniedException(
                AccessDeniedException::builder()
                    .reason(AccessDeniedReason::DataDisabled)
                    .meta(meta("AccessDeniedException"))
                    .build(),
            )
        }

        pub fn iam_denied() -> DescribeUserError {
            DescribeUserError::AccessDeniedException(
                AccessDeniedException::builder()
                    .reason(AccessDeniedReason::IamAuth)
                    .meta(meta("AccessDeniedException"))
                    .build(),
            )
        }
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_checked_fails_closed_with_the_fix() {
        type Make =
            fn() -> aws_sdk_directoryservicedata::operation::describe_user::DescribeUserError;
        let cases: [(Make, &str); 3] = [
            (data_errors::simple_ad, "refuseDisabled"),
            (data_errors::data_disabled, "enable-directory-data-access"),
            (data_errors::iam_denied, "IAM AccessDenied"),
        ];
        for (make, fix) in cases {
            let describe =
                mock!(aws_sdk_directoryservicedata::Client::describe_user).then_error(make);
            let reset = mock!(Client::reset_user_password)
                .then_output(|| ResetUserPasswordOutput::builder().build());
            let adapter = DirectoryAdapter::new(
                mock_client!(aws_sdk_directory, [&reset]),
                Some(mock_client!(aws_sdk_directoryservicedata, [&describe])),
                "d-1234567890".into(),
            );
            let error = adapter
                .inspect(&lookup("alice", false, &|_| false))
                .await
                .expect_err("fails closed");
            assert_eq!((error.status(), error.code()), (500, "INTERNAL"));
            let Error::Internal(detail) = &error else {
                panic!("{error:?}")
            };
            assert!(detail.contains(fix), "{detail}");
            assert_eq!(reset.num_calls(), 0);
        }
    }

    #[tokio::test]
    async fn nested_groups_are_walked_until_a_privileged_one() {
        use aws_sdk_directoryservicedata::{
            operation::list_groups_for_member::ListGroupsForMemberOutput, types::GroupSummary,
        };
        let group = |name: &str| {
            GroupSummary::builder()
                .sam_account_name(name)
                .group_type(aws_sdk_directoryservicedata::types::GroupType::Security)
                .group_scope(aws_sdk_directoryservicedata::types::GroupScope::Global)
                .sid("S-1-5-21-1")
                .build()
                .expect("group")
        };
        let describe =
            mock!(aws_sdk_directoryservicedata::Client::describe_user).then_output(|| {
                DescribeUserOutput::builder()
                    .sam_account_name("carol")
                    .enabled(true)
                    .build()
            });
        let own = mock!(aws_sdk_directoryservicedata::Client::list_groups_for_member)
            .match_requests(|input| input.sam_account_name() == Some("carol"))
            .then_output(move || {
                ListGroupsForMemberOutput::builder()
                    .groups(group("Staff"))
                    .groups(group("IT Ops"))
                    .build()
            });
        let staff = mock!(aws_sdk_directoryservicedata::Client::list_groups_for_member)
            .match_requests(|input| input.sam_account_name() == Some("Staff"))
            .then_output(|| ListGroupsForMemberOutput::builder().build());
        let ops = mock!(aws_sdk_directoryservicedata::Client::list_groups_for_member)
            .match_requests(|input| input.sam_account_name() == Some("IT Ops"))
            .then_output(move || {
                ListGroupsForMemberOutput::builder()
                    .groups(group("Domain Admins"))
                    .build()
            });
        let reset = mock!(Client::reset_user_password)
            .then_output(|| ResetUserPasswordOutput::builder().build());
        let adapter = DirectoryAdapter::new(
            mock_client!(aws_sdk_directory, [&reset]),
            Some(mock_client!(
                aws_sdk_directoryservicedata,
                RuleMode::MatchAny,
                [&describe, &own, &staff, &ops]
            )),
            "d-1234567890".into(),
        );
        let privileged = |group: &str| group.eq_ignore_ascii_case("domain admins");
        let account = adapter
            .inspect(&lookup("carol", true, &privileged))
            .await
            .expect("read");
        assert_eq!(account.groups, vec!["Staff", "IT Ops", "Domain Admins"]);
        assert!(!account.groups_incomplete);

        // Past the deadline only the account's own groups are read.
        let mut late = lookup("carol", true, &privileged);
        late.deadline = Instant::now();
        let account = adapter.inspect(&late).await.expect("read");
        assert_eq!(account.groups, vec!["Staff", "IT Ops"]);
        assert!(account.groups_incomplete);
    }
}
