//! The domain of a reset: modes, services, what a reset asks and what it returns, and the
//! [`ResetAdapter`] trait each back-end implements in its own file.
//!
//! Adding a back-end touches one new file here, its variant of [`Service`] (what the
//! configuration may name) and one arm of [`adapter_for`].

use std::{
    collections::HashMap,
    fmt::Debug,
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::{display::DisplayErrorContext, metadata::ProvideErrorMetadata};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{
    config::{Backend, TargetConfig},
    error::Error,
};

/// `aws_smithy_mocks::mock_client!` without its `with_test_defaults_v2`, which needs every SDK
/// crate's `test-util` feature: with it, tests and the binary would build each SDK crate twice.
/// Retries are off, so mocked errors answer at once.
#[cfg(test)]
macro_rules! mock_client {
    ($aws_crate:ident, $rules:expr) => {
        mock_client!($aws_crate, aws_smithy_mocks::RuleMode::Sequential, $rules)
    };
    ($aws_crate:ident, $rule_mode:expr, $rules:expr) => {{
        let mut interceptor =
            aws_smithy_mocks::MockResponseInterceptor::new().rule_mode($rule_mode);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $aws_crate::config::Config::builder()
            .behavior_version($aws_crate::config::BehaviorVersion::latest())
            .region($aws_crate::config::Region::new("us-east-1"))
            .credentials_provider($aws_crate::config::Credentials::new(
                "test", "test", None, None, "mock",
            ))
            .retry_config($aws_crate::config::retry::RetryConfig::disabled())
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        $aws_crate::Client::from_conf(config)
    }};
}

mod cognito;
mod directory;
#[cfg(feature = "finspace")]
mod finspace;

pub use cognito::CognitoAdapter;
pub use directory::DirectoryAdapter;
#[cfg(feature = "finspace")]
pub use finspace::FinspaceAdapter;

/// A boxed future, so adapters can sit behind `dyn ResetAdapter` (one allocation per reset).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a password is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The back-end sends the user a code to choose a new password themselves.
    Code,
    /// A strong password is generated (by us or the back-end) and returned once.
    Generate,
    /// The caller supplies the new password.
    Set,
}

impl Mode {
    /// The mode's name in requests, responses and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Generate => "generate",
            Self::Set => "set",
        }
    }
}

/// A back-end family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Amazon Cognito user pools.
    Cognito,
    /// AWS Directory Service (Managed Microsoft AD, Simple AD).
    Directory,
    /// Amazon FinSpace.
    Finspace,
}

impl Service {
    /// The service's name in configuration, responses and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cognito => "cognito",
            Self::Directory => "directory",
            Self::Finspace => "finspace",
        }
    }

    /// Whether the back-end's API can perform `mode` at all (the contract's Modes table).
    pub fn supports(self, mode: Mode) -> bool {
        match self {
            Self::Cognito => true,
            Self::Directory => matches!(mode, Mode::Generate | Mode::Set),
            Self::Finspace => matches!(mode, Mode::Generate),
        }
    }

    /// The longest password the back-end accepts, in code points (Cognito `Password` ≤ 256,
    /// Directory Service `NewPassword` ≤ 127; FinSpace generates its own).
    pub fn max_password_chars(self) -> usize {
        match self {
            Self::Cognito => 256,
            Self::Directory => 127,
            Self::Finspace => 20,
        }
    }
}

/// What to read about an account before it is reset ([`ResetAdapter::inspect`]).
pub struct Lookup<'a> {
    /// The account as the request names it (an alias, e-mail, phone or `sub` on Cognito).
    pub username: &'a str,
    /// Read the account's back-end groups too (admin requests: a privileged account must not
    /// be reset by an admin). Self-service needs no groups.
    pub groups: bool,
    /// Whether a group makes the account privileged: a walk through nested groups stops at
    /// the first such group.
    pub is_privileged_group: &'a (dyn Fn(&str) -> bool + Sync),
    /// When a walk through nested groups must stop, to leave the reset its time.
    pub deadline: Instant,
}

/// What the back-end says about an account before it is reset. A state that must never be
/// reset (disabled, federated) is an error of [`ResetAdapter::inspect`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The name the back-end knows the account by: Cognito's `Username` (also for an alias,
    /// e-mail, phone or `sub`), the directory's `SAMAccountName`, FinSpace's `userId`. `None`
    /// where the back-end cannot be read (Simple AD, which has no Directory Service Data).
    pub canonical: Option<String>,
    /// The account's back-end groups (with [`Lookup::groups`]): Cognito groups of the target
    /// pool; directory groups, direct and nested as far as the deadline allowed.
    pub groups: Vec<String>,
    /// Whether the back-end itself marks the account an administrator (FinSpace `SUPER_USER`).
    pub superuser: bool,
    /// Whether a walk through nested groups stopped at its deadline or its bound before it
    /// was complete (logged; docs/SECURITY.md says what is not covered).
    pub groups_incomplete: bool,
    /// The account's last change, where the back-end shows it (Cognito): what reconciles a
    /// reset whose call went unanswered.
    pub last_change: Option<LastChange>,
    /// Words a chosen password must not contain, from the back-end's read: the user's given
    /// and family names and the e-mail address's local part.
    pub personal: Vec<String>,
}

/// The context words of a user from the back-end's attributes: names as given, and the
/// e-mail address's local part.
pub(crate) fn personal_words<'a>(
    names: impl IntoIterator<Item = Option<&'a str>>,
    email: Option<&'a str>,
) -> Vec<String> {
    names
        .into_iter()
        .flatten()
        .chain(email.and_then(|email| email.split('@').next()))
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// When an account last changed and the password state it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastChange {
    /// Epoch milliseconds (Cognito `UserLastModifiedDate`).
    pub at_ms: u64,
    /// The state the account is in.
    pub state: PasswordState,
}

/// The password state an account is in, as far as a reset is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Waiting for the user to use a code (Cognito `RESET_REQUIRED`).
    ResetRequired,
    /// A permanent password (Cognito `CONFIRMED`).
    Permanent,
    /// A temporary password (Cognito `FORCE_CHANGE_PASSWORD`).
    Temporary,
    /// Anything else.
    Other,
}

/// How far the back-end's modification time may lag our clock's record of an attempt.
const CLOCK_SKEW_MS: u64 = 1_000;

impl Account {
    /// The name to act on: the canonical one where the back-end gave it, else as requested.
    pub fn name<'a>(&'a self, requested: &'a str) -> &'a str {
        self.canonical.as_deref().unwrap_or(requested)
    }

    /// Whether the back-end shows that a reset in `mode`, whose call was sent at
    /// `attempted_at` (epoch ms) and went unanswered, took effect: changed since, and in the
    /// state that mode leads to (`code`: reset required; `set`: a permanent password). A
    /// `generate` never counts: its password was never delivered, so it runs again with a new
    /// one. Where nothing can be read (directories), nothing counts either.
    pub fn shows_reset(&self, mode: Mode, attempted_at: u64) -> bool {
        let Some(change) = self.last_change else {
            return false;
        };
        let after = change.at_ms + CLOCK_SKEW_MS >= attempted_at;
        after
            && matches!(
                (mode, change.state),
                (Mode::Code, PasswordState::ResetRequired) | (Mode::Set, PasswordState::Permanent)
            )
    }
}

/// One reset, after authorization, the account read and validation: everything an adapter
/// needs.
pub struct ResetRequest<'a> {
    /// The account on the target, by its canonical name where the back-end gave one.
    pub username: &'a str,
    /// What to do.
    pub mode: Mode,
    /// The caller's password, with `set` only.
    pub password: Option<&'a SecretString>,
    /// Cognito `ClientMetadata` for `code`, passed to the pool's Lambda triggers.
    pub client_metadata: Option<&'a HashMap<String, String>>,
    /// Length of a password to generate.
    pub generated_password_length: usize,
    /// A token unique to this request's idempotency record (64 hex digits), for APIs that
    /// deduplicate retries themselves (FinSpace `clientToken`).
    pub client_token: &'a str,
    /// When the reset call must have answered, leaving the record's completion its time: one
    /// attempt gets what is left ([`send_at_most_once`]).
    pub deadline: Instant,
}

/// What a successful reset produced.
#[derive(Debug)]
pub struct ResetOutcome {
    /// Whether the user must choose a new password when they next sign in.
    pub must_change_at_next_sign_in: bool,
    /// A generated or temporary password, delivered once and never stored.
    pub password: Option<SecretString>,
    /// When a temporary password stops working, in epoch seconds.
    pub expires_at: Option<i64>,
    /// How a code reached the user, for `code`.
    pub delivery: Option<Delivery>,
}

impl ResetOutcome {
    /// The answer of a reset that the back-end shows took effect after its call went
    /// unanswered ([`Account::shows_reset`]); `None` for `generate`, which runs again.
    pub fn already_done(mode: Mode) -> Option<Self> {
        match mode {
            Mode::Code => Some(Self {
                must_change_at_next_sign_in: true,
                password: None,
                expires_at: None,
                delivery: Some(Delivery::VerifiedContact),
            }),
            Mode::Set => Some(Self {
                must_change_at_next_sign_in: false,
                password: None,
                expires_at: None,
                delivery: None,
            }),
            Mode::Generate => None,
        }
    }
}

/// Where a reset code was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// To the user's verified e-mail address or phone number, as the pool's account recovery
    /// setting chooses (Cognito does not say which).
    VerifiedContact,
}

/// A back-end that can reset passwords. Implementations map every error of their API to
/// [`Error`] themselves, so the contract's codes are decided next to the API that causes them.
pub trait ResetAdapter: Send + Sync {
    /// Checks a username against the back-end API's own format before any call.
    fn check_username(&self, username: &str) -> Result<(), Error>;

    /// Reads the account before a reset: its canonical name, and (with [`Lookup::groups`])
    /// what makes it privileged. Only reads, so the SDK's standard retries are safe. A state
    /// that must never be reset (disabled, federated) is `TARGET_NOT_ELIGIBLE`; a back-end
    /// that cannot be read as configured is `INTERNAL`, with the operator's fix in the error.
    fn inspect<'a>(&'a self, lookup: &'a Lookup<'a>) -> BoxFuture<'a, Result<Account, Error>>;

    /// Performs the reset.
    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, Error>>;
}

/// Builds the adapter for a target from the shared SDK configuration (at cold start).
pub fn adapter_for(
    target: &TargetConfig,
    sdk: &SdkConfig,
    clients: &mut Clients,
) -> Result<Box<dyn ResetAdapter>, String> {
    match &target.backend {
        Backend::Cognito { user_pool_id } => {
            let client = clients
                .cognito
                .get_or_insert_with(|| aws_sdk_cognitoidentityprovider::Client::new(sdk));
            Ok(Box::new(CognitoAdapter::new(
                client.clone(),
                user_pool_id.clone(),
            )))
        }
        Backend::Directory {
            directory_id,
            refuse_disabled,
        } => {
            let client = clients
                .directory
                .get_or_insert_with(|| aws_sdk_directory::Client::new(sdk))
                .clone();
            let data = refuse_disabled.then(|| {
                clients
                    .directory_data
                    .get_or_insert_with(|| aws_sdk_directoryservicedata::Client::new(sdk))
                    .clone()
            });
            Ok(Box::new(DirectoryAdapter::new(
                client,
                data,
                directory_id.clone(),
            )))
        }
        #[cfg(feature = "finspace")]
        Backend::Finspace { environment_id } => Ok(Box::new(FinspaceAdapter::for_environment(
            sdk,
            environment_id.clone(),
        ))),
        #[cfg(not(feature = "finspace"))]
        Backend::Finspace { .. } => Err(format!(
            "target {}: this build has no FinSpace support (Cargo feature `finspace`)",
            target.name
        )),
    }
}

/// SDK clients, each built at most once and shared by every target of its service.
#[derive(Default)]
pub struct Clients {
    cognito: Option<aws_sdk_cognitoidentityprovider::Client>,
    directory: Option<aws_sdk_directory::Client>,
    directory_data: Option<aws_sdk_directoryservicedata::Client>,
}

/// Checks a username's length (in characters) and characters against a back-end API's rules,
/// answering `INVALID_REQUEST` with `message` otherwise.
pub(crate) fn check_username_rules(
    username: &str,
    max_chars: usize,
    allowed: impl Fn(char) -> bool,
    message: &'static str,
) -> Result<(), Error> {
    let length = username.chars().count();
    if (1..=max_chars).contains(&length) && username.chars().all(allowed) {
        Ok(())
    } else {
        Err(Error::invalid(message))
    }
}

/// Unicode format characters (category Cf) that are common in pasted text: invisible, so a
/// name holding one looks like another.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// The most times a reset call is sent when the service answers that it throttled it (and so
/// did not act), or when no connection could be opened (so nothing was sent).
const RESET_ATTEMPTS: u32 = 3;
/// No attempt is started with less time than this left: it could not finish.
const MIN_ATTEMPT: Duration = Duration::from_millis(300);
/// Seconds a caller should wait before retrying after an unknown outcome: the retry reconciles
/// first, so it can come soon.
pub(crate) const OUTCOME_UNKNOWN_RETRY_AFTER_SECS: u64 = 2;

/// Why a reset call sent at most once failed.
pub(crate) enum SendFailure<E, R> {
    /// The service answered (an error it returned, or a throttle on the last attempt), or
    /// nothing could be sent: the adapter's own error table applies.
    Answered(SdkError<E, R>),
    /// The call may have reached the service and no answer came: outcome unknown.
    Unknown(SdkError<E, R>),
    /// No time was left to send it at all.
    NoTime,
}

/// Sends a reset call (`AdminResetUserPassword`, `AdminSetUserPassword`, `ResetUserPassword`)
/// at most once per request (contract: Errors). The SDK's standard retry re-sends an attempt
/// that timed out although the first may have taken effect (a second code mailed, or a
/// password-history refusal of a password that was set), so the call is made with SDK
/// retries off, by `send(timeout)` with one attempt's whole time, and sent again here only
/// when it surely did not act: a throttling error (`is_throttling(code, message)`), or a
/// connection that could not be opened. A timeout after sending, a broken response or a
/// connection lost mid-request is [`SendFailure::Unknown`].
pub(crate) async fn send_at_most_once<T, E, R, F, Fut>(
    deadline: Instant,
    is_throttling: impl Fn(&str, &str) -> bool,
    mut send: F,
) -> Result<T, SendFailure<E, R>>
where
    E: OperationError,
    R: Debug,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left < MIN_ATTEMPT {
            return Err(SendFailure::NoTime);
        }
        let error = match send(left).await {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        let again = match &error {
            SdkError::ServiceError(context) => is_throttling(
                context.err().code().unwrap_or_default(),
                context.err().message().unwrap_or_default(),
            ),
            SdkError::DispatchFailure(failure) => never_sent(failure),
            SdkError::ConstructionFailure(_) => false,
            // An attempt timeout, an unreadable answer, anything else after sending.
            _ => return Err(SendFailure::Unknown(error)),
        };
        if !again {
            return match &error {
                SdkError::DispatchFailure(_) => Err(SendFailure::Unknown(error)),
                _ => Err(SendFailure::Answered(error)),
            };
        }
        if attempt >= RESET_ATTEMPTS {
            return Err(SendFailure::Answered(error));
        }
        // Exponential backoff with full jitter, as the SDK's standard retry mode does.
        let cap = Duration::from_millis(100 << attempt);
        tokio::time::sleep(cap.mul_f64(rand::random::<f64>())).await;
    }
}

/// The contract's answer to a failed [`send_at_most_once`]: the adapter's table for what
/// the service answered, `OutcomeUnknown` when the call may have taken effect.
pub(crate) fn send_failure<E, R>(
    service: Service,
    operation: &'static str,
    failure: SendFailure<E, R>,
    answered: impl FnOnce(SdkError<E, R>) -> Error,
) -> Error
where
    E: OperationError,
    R: Debug,
{
    match failure {
        SendFailure::Answered(error) => answered(error),
        SendFailure::Unknown(error) => {
            tracing::warn!(
                service = service.as_str(),
                operation,
                error = %DisplayErrorContext(&error),
                "reset call sent, outcome unknown; not sent again"
            );
            Error::OutcomeUnknown {
                retry_after_secs: OUTCOME_UNKNOWN_RETRY_AFTER_SECS,
            }
        }
        SendFailure::NoTime => {
            tracing::warn!(
                service = service.as_str(),
                operation,
                "no time left in the invocation for the reset call; not sent"
            );
            Error::UpstreamUnavailable {
                retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
            }
        }
    }
}

/// Whether a dispatch failure happened before any byte of the request left: the connection
/// could not be opened (refused, DNS, connect timeout), so sending again is safe.
fn never_sent(failure: &aws_smithy_runtime_api::client::result::DispatchFailure) -> bool {
    let Some(connector) = failure.as_connector_error() else {
        return false;
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(connector);
    while let Some(error) = source {
        if let Some(client) = error.downcast_ref::<hyper_util::client::legacy::Error>() {
            return client.is_connect();
        }
        source = error.source();
    }
    false
}

/// Seconds a caller should wait after a back-end was unavailable or throttled us.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// What every SDK crate's operation error is: the bound each adapter's error mapping needs,
/// named once.
pub(crate) trait OperationError:
    ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
}

impl<T: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static> OperationError for T {}

/// A failed SDK call, classified the same way for every adapter: the service's error code and
/// message go through the adapter's own table (`classify`); timeouts, connection failures and
/// unreadable responses are 503; a request that could not be built is 500. The SDK's error
/// text (the service's own message, never our input) is logged, never returned.
pub(crate) fn sdk_error<E, R>(
    service: Service,
    operation: &'static str,
    error: SdkError<E, R>,
    classify: impl FnOnce(&str, &str) -> Error,
) -> Error
where
    E: OperationError,
    R: Debug,
{
    let mapped = match &error {
        // IAM denied the function's role: the deployment must change, whatever the call. The
        // ERROR line of the 500 says so (fail closed, loudly: never a reset, never the
        // caller's fault).
        SdkError::ServiceError(context)
            if context
                .err()
                .code()
                .is_some_and(|code| code.starts_with("AccessDenied")) =>
        {
            Error::internal(format!(
                "{} {operation}: the function's role is denied this call (IAM AccessDenied); \
                 grant it in the function's policy (template.yaml)",
                service.as_str()
            ))
        }
        SdkError::ServiceError(context) => classify(
            context.err().code().unwrap_or_default(),
            context.err().message().unwrap_or_default(),
        ),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Error::UpstreamUnavailable {
                retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
            }
        }
        _ => Error::internal(format!(
            "{} {operation}: the request could not be built",
            service.as_str()
        )),
    };
    let detail = DisplayErrorContext(&error);
    let service = service.as_str();
    match mapped.status() {
        // The request's one ERROR line comes from the handler, with the operator's fix.
        500 => tracing::warn!(service, operation, error = %detail, "back-end call failed"),
        503 => tracing::warn!(service, operation, error = %detail, "back-end unavailable"),
        _ => {
            tracing::info!(service, operation, code = mapped.code(), error = %detail, "back-end refused")
        }
    }
    mapped
}
