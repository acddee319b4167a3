//! The one error type of a request, and its one mapping to the contract's status codes.
//!
//! Every failure on the request path ends as an [`Error`]; [`Error::spec`] is the one table
//! that decides what a caller sees (RFC 9457 problem details, rendered by `http::response`). Variants carry only text written
//! here, never a back-end message, a password or a token: what went wrong inside is logged where
//! it happens and answered as [`Error::Internal`] or [`Error::UpstreamUnavailable`].

use std::borrow::Cow;

use serde::Serialize;

/// Why a password was refused: the `reason` member of a `PASSWORD_REJECTED` problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordRejection {
    /// Fewer code points than the configured minimum.
    TooShort,
    /// More code points than the back-end accepts.
    TooLong,
    /// A common or breached password.
    Blocklisted,
    /// Contains the account's username, or another context word: the target's name, the
    /// user's names or e-mail address.
    ContainsUsername,
    /// Guessable (zxcvbn's score below the target's `minPasswordStrength`), with a short
    /// suggestion where the estimator has one.
    Weak {
        /// What to do instead; never a part of the password.
        suggestion: Option<&'static str>,
    },
    /// The back-end's own password policy refused it.
    Policy,
}

impl PasswordRejection {
    /// The contract's `reason` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::Blocklisted => "blocklisted",
            Self::ContainsUsername => "contains_username",
            Self::Weak { .. } => "weak",
            Self::Policy => "policy",
        }
    }

    /// The caller's explanation (the problem's `detail`).
    pub fn detail(self) -> &'static str {
        match self {
            Self::TooShort => "The password is too short.",
            Self::TooLong => "The password is longer than the target accepts.",
            Self::Blocklisted => {
                "The password is a known breached or common password, or one with predictable changes (a capital, digits, a year or a symbol added); choose another."
            }
            Self::ContainsUsername => {
                "The password must not contain the username, the target's name, or your names or e-mail address."
            }
            Self::Weak { .. } => {
                "The password is easy to guess; choose a longer one, of words that do not belong together."
            }
            Self::Policy => "The target's password policy refused the password.",
        }
    }
}

/// Why an account may not be reset: the `detail` of a `TARGET_NOT_ELIGIBLE` problem. The
/// decisions are made where the facts are (auth, the adapters); the words are written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// On the target's protected list (or a directory's built-in accounts).
    Protected,
    /// An admin named a privileged account (an administrator group, FinSpace `SUPER_USER`).
    Privileged,
    /// An admin named an account whose nested groups could not all be read in time.
    Unchecked,
    /// The account signs in through an external identity provider.
    Federated,
    /// The account is disabled.
    Disabled,
    /// A disabled directory account, which `ResetUserPassword` would enable.
    DisabledWouldEnable,
    /// The back-end refused the reset in the account's current state.
    State,
    /// No verified e-mail address or phone number to receive a code.
    NoVerifiedContact,
    /// Simple AD refuses to reset an administrator.
    DirectoryAdministrator,
    /// Managed AD refused, typically an account outside the delegated OU.
    OutsideDelegatedOu,
}

impl Ineligible {
    /// The caller's explanation.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Protected => "This account is protected and cannot be reset here.",
            Self::Privileged => {
                "This account is privileged: an admin cannot reset it here. Its owner can, through self-service."
            }
            Self::Unchecked => {
                "This account's group memberships could not all be checked in time: an admin cannot reset it here. Its owner can, through self-service."
            }
            Self::Federated => {
                "This account signs in through an external identity provider; reset it there."
            }
            Self::Disabled => "This account is disabled.",
            Self::DisabledWouldEnable => {
                "This account is disabled; a reset would enable it. Enable it in the directory first."
            }
            Self::State => "The account's current state does not allow this reset.",
            Self::NoVerifiedContact => {
                "The account has no verified e-mail address or phone number to receive a code."
            }
            Self::DirectoryAdministrator => {
                "The directory does not allow resetting this account (an administrator)."
            }
            Self::OutsideDelegatedOu => {
                "The directory refused to reset this account (it may be outside the delegated OU)."
            }
        }
    }
}

/// A request that cannot be answered with success. [`Error::spec`] gives each variant's
/// status, code, title and detail, in one table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 `INVALID_REQUEST`: malformed JSON, unknown field, bad username, wrong field for the mode.
    #[error("invalid request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// 400 `IDEMPOTENCY_KEY_INVALID`: missing, empty, too long, non-printable or duplicated key.
    #[error("idempotency key invalid: {0}")]
    IdempotencyKeyInvalid(&'static str),
    /// 400 `INVALID_CODE`: a confirm's code is wrong (`expired: false`), or expired or
    /// already used (`expired: true`: after an unanswered confirm, possibly by that confirm).
    #[error("invalid code")]
    InvalidCode {
        /// Cognito's `ExpiredCodeException` rather than `CodeMismatchException`.
        expired: bool,
    },
    /// 401 `UNAUTHENTICATED`: no trusted identity in the authorizer context.
    #[error("unauthenticated")]
    Unauthenticated,
    /// 401 `REAUTHENTICATION_REQUIRED`: `auth_time` older than the target allows.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// 403 `FORBIDDEN`: the caller may not act on this target or this user.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404 `UNKNOWN_TARGET`: no target of that name.
    #[error("unknown target")]
    UnknownTarget,
    /// 404 `USER_NOT_FOUND`: the account does not exist on the target.
    #[error("user not found")]
    UserNotFound,
    /// 404 `NOT_FOUND`: no such route (API Gateway only forwards known routes; this is the
    /// answer to a hand-made event or a `{proxy+}` integration).
    #[error("no such route")]
    RouteNotFound,
    /// 405 `METHOD_NOT_ALLOWED`: a known path with another method; `Allow` is set.
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    /// 409 `REQUEST_IN_PROGRESS`: the same key is being processed now.
    #[error("request in progress")]
    RequestInProgress { retry_after_secs: u64 },
    /// 413 `PAYLOAD_TOO_LARGE`: body over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `UNSUPPORTED_MEDIA_TYPE`: the body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422 `IDEMPOTENCY_KEY_REUSED`: same key, different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 422 `PASSWORD_REJECTED`, with its reason.
    #[error("password rejected: {}", .0.as_str())]
    PasswordRejected(PasswordRejection),
    /// 422 `MODE_NOT_SUPPORTED`: the target does not enable the mode, or the service lacks it.
    #[error("mode not supported")]
    ModeNotSupported,
    /// 422 `TARGET_NOT_ELIGIBLE`: protected, privileged, federated, disabled or otherwise not
    /// resettable.
    #[error("target not eligible: {0:?}")]
    TargetNotEligible(Ineligible),
    /// 429 `RATE_LIMITED`: too many resets for this account or by this caller.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// 503 `UPSTREAM_UNAVAILABLE`: back-end or DynamoDB throttled, unavailable or timed out.
    #[error("upstream unavailable")]
    UpstreamUnavailable { retry_after_secs: u64 },
    /// 503 `UPSTREAM_UNAVAILABLE` with `"reason": "outcome_unknown"`: the reset call was sent
    /// and no answer came in time, so it may have taken effect. The record stays, marked
    /// unknown; a retry with the same key reconciles first (docs/IDEMPOTENCY.md).
    #[error("reset outcome unknown")]
    OutcomeUnknown { retry_after_secs: u64 },
    /// 500 `INTERNAL`: anything else. The text is for the logs only, never the response.
    #[error("internal error: {0}")]
    Internal(Cow<'static, str>),
}

/// What a caller sees of an [`Error`]: the row of the contract's error table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The HTTP status.
    pub status: u16,
    /// The contract's machine-readable `code`.
    pub code: &'static str,
    /// A short, fixed summary of the problem type (RFC 9457 `title`).
    pub title: &'static str,
    /// The explanation (RFC 9457 `detail`): written here only, never a back-end message or
    /// an internal error chain.
    pub detail: Cow<'static, str>,
}

const fn row(status: u16, code: &'static str, title: &'static str, detail: &'static str) -> Spec {
    Spec {
        status,
        code,
        title,
        detail: Cow::Borrowed(detail),
    }
}

impl Error {
    /// Shorthand for a 400 with a fixed explanation.
    pub fn invalid(detail: &'static str) -> Self {
        Self::InvalidRequest(Cow::Borrowed(detail))
    }

    /// Shorthand for a 500 whose explanation goes to the logs only.
    pub fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal(detail.into())
    }

    /// The one table: status, code, title and detail of every error.
    pub fn spec(&self) -> Spec {
        match self {
            Self::InvalidRequest(detail) => Spec {
                detail: detail.clone(),
                ..row(400, "INVALID_REQUEST", "Invalid request", "")
            },
            Self::IdempotencyKeyInvalid(detail) => row(
                400,
                "IDEMPOTENCY_KEY_INVALID",
                "Invalid idempotency key",
                detail,
            ),
            Self::InvalidCode { .. } => row(
                400,
                "INVALID_CODE",
                "Invalid code",
                "The code is wrong or has expired; check it, or request a new one.",
            ),
            Self::Unauthenticated => row(
                401,
                "UNAUTHENTICATED",
                "Authentication required",
                "The request carries no identity from a trusted authorizer.",
            ),
            Self::ReauthenticationRequired => row(
                401,
                "REAUTHENTICATION_REQUIRED",
                "Recent sign-in required",
                "Sign in again: this change needs a recent authentication.",
            ),
            Self::Forbidden(detail) => row(403, "FORBIDDEN", "Forbidden", detail),
            Self::UnknownTarget => row(
                404,
                "UNKNOWN_TARGET",
                "Unknown target",
                "No target of that name is configured.",
            ),
            Self::UserNotFound => row(
                404,
                "USER_NOT_FOUND",
                "User not found",
                "The account does not exist on the target.",
            ),
            Self::RouteNotFound => row(404, "NOT_FOUND", "Not found", "No resource at this path."),
            Self::MethodNotAllowed { .. } => row(
                405,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
                "This method is not allowed on this path.",
            ),
            Self::RequestInProgress { .. } => row(
                409,
                "REQUEST_IN_PROGRESS",
                "Request in progress",
                "A request with this idempotency key is being processed; retry after the indicated time.",
            ),
            Self::PayloadTooLarge => row(
                413,
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
                "The request body is larger than 16 KiB.",
            ),
            Self::UnsupportedMediaType => row(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "Unsupported media type",
                "Send the request body as application/json.",
            ),
            Self::IdempotencyKeyReused => row(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "Idempotency key reused",
                "This idempotency key was already used for a different request; use a new key.",
            ),
            Self::PasswordRejected(reason) => row(
                422,
                "PASSWORD_REJECTED",
                "Password rejected",
                reason.detail(),
            ),
            Self::ModeNotSupported => row(
                422,
                "MODE_NOT_SUPPORTED",
                "Mode not supported",
                "This target does not offer that mode.",
            ),
            Self::TargetNotEligible(why) => row(
                422,
                "TARGET_NOT_ELIGIBLE",
                "Account not eligible",
                why.detail(),
            ),
            Self::RateLimited { .. } => row(
                429,
                "RATE_LIMITED",
                "Too many resets",
                "Too many resets; retry after the indicated time.",
            ),
            Self::UpstreamUnavailable { .. } => row(
                503,
                "UPSTREAM_UNAVAILABLE",
                "Back-end unavailable",
                "The account store is unavailable; retry after the indicated time.",
            ),
            Self::OutcomeUnknown { .. } => row(
                503,
                "UPSTREAM_UNAVAILABLE",
                "Back-end unavailable",
                "The account store did not confirm the reset in time, so it may have happened. Retry with the same idempotency key: the retry checks first and never resets twice.",
            ),
            Self::Internal(_) => row(
                500,
                "INTERNAL",
                "Internal error",
                "An internal error occurred; quote the requestId if you report it.",
            ),
        }
    }

    /// The HTTP status of the problem response.
    pub fn status(&self) -> u16 {
        self.spec().status
    }

    /// The contract's machine-readable `code`.
    pub fn code(&self) -> &'static str {
        self.spec().code
    }

    /// Seconds for the `Retry-After` header, where the contract sets one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RequestInProgress { retry_after_secs }
            | Self::RateLimited { retry_after_secs }
            | Self::UpstreamUnavailable { retry_after_secs }
            | Self::OutcomeUnknown { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Why a password was rejected, for a `PASSWORD_REJECTED` problem.
    pub fn password_reason(&self) -> Option<PasswordRejection> {
        match self {
            Self::PasswordRejected(reason) => Some(*reason),
            _ => None,
        }
    }

    /// The problem's `reason` member: why a password was rejected, or `outcome_unknown`.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::PasswordRejected(reason) => Some(reason.as_str()),
            Self::OutcomeUnknown { .. } => Some("outcome_unknown"),
            _ => None,
        }
    }

    /// The problem's `suggestion` member: what to do instead of a weak password.
    pub fn suggestion(&self) -> Option<&'static str> {
        match self {
            Self::PasswordRejected(PasswordRejection::Weak { suggestion }) => *suggestion,
            _ => None,
        }
    }

    /// Whether this is an authorization failure (audit event `authz_fail`).
    pub fn is_authz_failure(&self) -> bool {
        matches!(
            self,
            Self::Unauthenticated | Self::ReauthenticationRequired | Self::Forbidden(_)
        )
    }
}

/// Why the function could not start: the one ERROR line of a failed init names the key or
/// the resource at fault, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The configuration document or the environment is invalid.
    #[error("invalid resetgate configuration: {0}")]
    Config(String),
    /// A secret (the keyed-hash secret, a back-end's) could not be read.
    #[error("a secret read at cold start: {0}")]
    Secret(String),
    /// A target's back-end cannot be served by this build or these clients.
    #[error("target {target}: {detail}")]
    Target {
        /// The target's name.
        target: String,
        /// What is missing.
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's error table, row by row.
    #[test]
    fn every_variant_maps_to_the_contract_table() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (Error::invalid("x"), 400, "INVALID_REQUEST"),
            (
                Error::IdempotencyKeyInvalid("x"),
                400,
                "IDEMPOTENCY_KEY_INVALID",
            ),
            (Error::Unauthenticated, 401, "UNAUTHENTICATED"),
            (
                Error::ReauthenticationRequired,
                401,
                "REAUTHENTICATION_REQUIRED",
            ),
            (Error::Forbidden("x"), 403, "FORBIDDEN"),
            (Error::UnknownTarget, 404, "UNKNOWN_TARGET"),
            (Error::UserNotFound, 404, "USER_NOT_FOUND"),
            (Error::RouteNotFound, 404, "NOT_FOUND"),
            (
                Error::MethodNotAllowed { allow: "GET" },
                405,
                "METHOD_NOT_ALLOWED",
            ),
            (
                Error::RequestInProgress {
                    retry_after_secs: 2,
                },
                409,
                "REQUEST_IN_PROGRESS",
            ),
            (Error::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
            (Error::UnsupportedMediaType, 415, "UNSUPPORTED_MEDIA_TYPE"),
            (Error::IdempotencyKeyReused, 422, "IDEMPOTENCY_KEY_REUSED"),
            (
                Error::PasswordRejected(PasswordRejection::Policy),
                422,
                "PASSWORD_REJECTED",
            ),
            (Error::ModeNotSupported, 422, "MODE_NOT_SUPPORTED"),
            (
                Error::TargetNotEligible(Ineligible::Protected),
                422,
                "TARGET_NOT_ELIGIBLE",
            ),
            (
                Error::RateLimited {
                    retry_after_secs: 60,
                },
                429,
                "RATE_LIMITED",
            ),
            (
                Error::UpstreamUnavailable {
                    retry_after_secs: 5,
                },
                503,
                "UPSTREAM_UNAVAILABLE",
            ),
            (Error::internal("boom"), 500, "INTERNAL"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
            assert!(!error.spec().title.is_empty());
        }
    }

    #[test]
    fn retry_after_is_set_exactly_where_the_contract_says() {
        assert_eq!(
            Error::RequestInProgress {
                retry_after_secs: 3
            }
            .retry_after_secs(),
            Some(3)
        );
        assert_eq!(
            Error::RateLimited {
                retry_after_secs: 60
            }
            .retry_after_secs(),
            Some(60)
        );
        assert_eq!(
            Error::UpstreamUnavailable {
                retry_after_secs: 5
            }
            .retry_after_secs(),
            Some(5)
        );
        assert_eq!(Error::UserNotFound.retry_after_secs(), None);
    }

    #[test]
    fn internal_detail_never_reaches_the_caller() {
        let error = Error::internal("dispatch failure: connection refused to 10.0.0.1");
        assert!(!error.spec().detail.contains("10.0.0.1"));
    }
}
