//! Calling AWS: the SDK clients (built once, shared by every target of a service), the one
//! rule for what is transient, the one mapping of a failed call to the contract, and sending a
//! reset call at most once.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt::Debug,
    future::Future,
    time::{Duration, Instant},
};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::{display::DisplayErrorContext, metadata::ProvideErrorMetadata};
use secrecy::SecretString;

use crate::error::Error;

/// What adapters are built from at cold start: SDK clients, each built at most once from the
/// shared configuration and shared by every target of its service (a client holds the
/// connection pool: one per service keeps connections warm across targets and invocations),
/// and the secrets the back-ends named ([`crate::reset::Backend::secret_ids`]), already read.
pub struct Clients<'a> {
    sdk: &'a SdkConfig,
    built: HashMap<TypeId, Box<dyn Any>>,
    secrets: HashMap<String, SecretString>,
}

impl<'a> Clients<'a> {
    /// No client yet; each is built from `sdk` on first use.
    pub fn new(sdk: &'a SdkConfig) -> Self {
        Self {
            sdk,
            built: HashMap::new(),
            secrets: HashMap::new(),
        }
    }

    /// With the secrets read at cold start, by secret id.
    pub fn with_secrets(mut self, secrets: HashMap<String, SecretString>) -> Self {
        self.secrets = secrets;
        self
    }

    /// A secret read at cold start, by the id its back-end named.
    pub fn secret(&self, secret_id: &str) -> Option<&SecretString> {
        self.secrets.get(secret_id)
    }

    /// The shared client of type `C`, built with `new` the first time.
    pub fn get<C: Clone + 'static>(&mut self, new: fn(&SdkConfig) -> C) -> C {
        let sdk = self.sdk;
        let client = self
            .built
            .entry(TypeId::of::<C>())
            .or_insert_with(|| Box::new(new(sdk)));
        match client.downcast_ref::<C>() {
            Some(client) => client.clone(),
            // Unreachable: the entry of `TypeId::of::<C>()` holds a `C`.
            None => new(sdk),
        }
    }

    /// The shared configuration (region, credentials, timeouts).
    pub fn sdk(&self) -> &'a SdkConfig {
        self.sdk
    }
}

/// Error codes that mean "not now": throttled, or a server-side failure worth a later retry.
/// The one list, for every service (DynamoDB, Cognito, Directory Service, FinSpace).
const TRANSIENT_CODES: [&str; 13] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "InternalServerError",
    "InternalErrorException",
    "InternalServerException",
    "ServiceException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "DirectoryUnavailableException",
];

/// Whether a service's error code means "not now" (see [`is_transient`]).
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

/// Whether a failed call is worth retrying later (503 `UPSTREAM_UNAVAILABLE`): a timeout, a
/// connection failure, an unreadable answer, or a throttling or server-side error code. The
/// one rule, for the adapters and the idempotency store alike.
pub fn is_transient<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => context.err().code().is_some_and(is_transient_code),
        _ => false,
    }
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
    service: &'static str,
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
                service,
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
                service,
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
    service: &'static str,
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
                "{service} {operation}: the function's role is denied this call (IAM AccessDenied); \
                 grant it in the function's policy (template.yaml)"
            ))
        }
        SdkError::ServiceError(context) => classify(
            context.err().code().unwrap_or_default(),
            context.err().message().unwrap_or_default(),
        ),
        _ if is_transient(&error) => Error::UpstreamUnavailable {
            retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
        },
        _ => Error::internal(format!(
            "{service} {operation}: the request could not be built"
        )),
    };
    let detail = DisplayErrorContext(&error);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What is "not now" for every service, and what is the deployment's or the caller's
    /// problem (never retried, never 503).
    #[test]
    fn transient_codes() {
        for code in [
            "ThrottlingException",
            "TooManyRequestsException",
            "ProvisionedThroughputExceededException",
            "InternalErrorException",
            "InternalServerException",
            "ServiceException",
            "DirectoryUnavailableException",
        ] {
            assert!(is_transient_code(code), "{code}");
        }
        for code in [
            "AccessDeniedException",
            "ResourceNotFoundException",
            "ConditionalCheckFailedException",
            "LimitExceededException",
            "ValidationException",
            "UserNotFoundException",
            "",
        ] {
            assert!(!is_transient_code(code), "{code}");
        }
    }
}
