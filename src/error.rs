//! The one error type of a request, and its one mapping to the contract's status codes.
//!
//! Every failure on the request path ends as an [`Error`]; [`Error::status`], [`Error::code`],
//! [`Error::title`] and [`Error::detail`] are the only places that decide what a caller sees
//! (RFC 9457 problem details, rendered by `http::response`). Variants carry only text written
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
}

/// A request that cannot be answered with success. Each variant documents its status and code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 `INVALID_REQUEST`: malformed JSON, unknown field, bad username, wrong field for the mode.
    #[error("invalid request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// 400 `IDEMPOTENCY_KEY_INVALID`: missing, empty, too long, non-printable or duplicated key.
    #[error("idempotency key invalid: {0}")]
    IdempotencyKeyInvalid(&'static str),
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
    /// 422 `TARGET_NOT_ELIGIBLE`: protected, federated, disabled or otherwise not resettable.
    #[error("target not eligible: {0}")]
    TargetNotEligible(&'static str),
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

impl Error {
    /// Shorthand for a 400 with a fixed explanation.
    pub fn invalid(detail: &'static str) -> Self {
        Self::InvalidRequest(Cow::Borrowed(detail))
    }

    /// Shorthand for a 500 whose explanation goes to the logs only.
    pub fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal(detail.into())
    }

    /// The HTTP status of the problem response.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) | Self::IdempotencyKeyInvalid(_) => 400,
            Self::Unauthenticated | Self::ReauthenticationRequired => 401,
            Self::Forbidden(_) => 403,
            Self::UnknownTarget | Self::UserNotFound | Self::RouteNotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::RequestInProgress { .. } => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::IdempotencyKeyReused
            | Self::PasswordRejected(_)
            | Self::ModeNotSupported
            | Self::TargetNotEligible(_) => 422,
            Self::RateLimited { .. } => 429,
            Self::UpstreamUnavailable { .. } | Self::OutcomeUnknown { .. } => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The contract's machine-readable `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::IdempotencyKeyInvalid(_) => "IDEMPOTENCY_KEY_INVALID",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::ReauthenticationRequired => "REAUTHENTICATION_REQUIRED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::UnknownTarget => "UNKNOWN_TARGET",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::RouteNotFound => "NOT_FOUND",
            Self::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            Self::RequestInProgress { .. } => "REQUEST_IN_PROGRESS",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::PasswordRejected(_) => "PASSWORD_REJECTED",
            Self::ModeNotSupported => "MODE_NOT_SUPPORTED",
            Self::TargetNotEligible(_) => "TARGET_NOT_ELIGIBLE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::UpstreamUnavailable { .. } | Self::OutcomeUnknown { .. } => {
                "UPSTREAM_UNAVAILABLE"
            }
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// A short, fixed summary of the problem type (RFC 9457 `title`).
    pub fn title(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "Invalid request",
            Self::IdempotencyKeyInvalid(_) => "Invalid idempotency key",
            Self::Unauthenticated => "Authentication required",
            Self::ReauthenticationRequired => "Recent sign-in required",
            Self::Forbidden(_) => "Forbidden",
            Self::UnknownTarget => "Unknown target",
            Self::UserNotFound => "User not found",
            Self::RouteNotFound => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::RequestInProgress { .. } => "Request in progress",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::PasswordRejected(_) => "Password rejected",
            Self::ModeNotSupported => "Mode not supported",
            Self::TargetNotEligible(_) => "Account not eligible",
            Self::RateLimited { .. } => "Too many resets",
            Self::UpstreamUnavailable { .. } | Self::OutcomeUnknown { .. } => {
                "Back-end unavailable"
            }
            Self::Internal(_) => "Internal error",
        }
    }

    /// The human-readable explanation for the caller (RFC 9457 `detail`). Written here only;
    /// never a back-end message or an internal error chain.
    pub fn detail(&self) -> Cow<'static, str> {
        match self {
            Self::InvalidRequest(detail) => detail.clone(),
            Self::IdempotencyKeyInvalid(detail) | Self::Forbidden(detail) => Cow::Borrowed(detail),
            Self::TargetNotEligible(detail) => Cow::Borrowed(detail),
            Self::Unauthenticated => {
                Cow::Borrowed("The request carries no identity from a trusted authorizer.")
            }
            Self::ReauthenticationRequired => {
                Cow::Borrowed("Sign in again: this change needs a recent authentication.")
            }
            Self::UnknownTarget => Cow::Borrowed("No target of that name is configured."),
            Self::UserNotFound => Cow::Borrowed("The account does not exist on the target."),
            Self::RouteNotFound => Cow::Borrowed("No resource at this path."),
            Self::MethodNotAllowed { .. } => {
                Cow::Borrowed("This method is not allowed on this path.")
            }
            Self::RequestInProgress { .. } => Cow::Borrowed(
                "A request with this idempotency key is being processed; retry after the indicated time.",
            ),
            Self::PayloadTooLarge => Cow::Borrowed("The request body is larger than 16 KiB."),
            Self::UnsupportedMediaType => {
                Cow::Borrowed("Send the request body as application/json.")
            }
            Self::IdempotencyKeyReused => Cow::Borrowed(
                "This idempotency key was already used for a different request; use a new key.",
            ),
            Self::PasswordRejected(reason) => Cow::Borrowed(match reason {
                PasswordRejection::TooShort => "The password is too short.",
                PasswordRejection::TooLong => "The password is longer than the target accepts.",
                PasswordRejection::Blocklisted => {
                    "The password is a known breached or common password, or one with predictable changes (a capital, digits, a year or a symbol added); choose another."
                }
                PasswordRejection::ContainsUsername => {
                    "The password must not contain the username, the target's name, or your names or e-mail address."
                }
                PasswordRejection::Weak { .. } => {
                    "The password is easy to guess; choose a longer one, of words that do not belong together."
                }
                PasswordRejection::Policy => "The target's password policy refused the password.",
            }),
            Self::ModeNotSupported => Cow::Borrowed("This target does not offer that mode."),
            Self::RateLimited { .. } => {
                Cow::Borrowed("Too many resets; retry after the indicated time.")
            }
            Self::UpstreamUnavailable { .. } => {
                Cow::Borrowed("The account store is unavailable; retry after the indicated time.")
            }
            Self::OutcomeUnknown { .. } => Cow::Borrowed(
                "The account store did not confirm the reset in time, so it may have happened. Retry with the same idempotency key: the retry checks first and never resets twice.",
            ),
            Self::Internal(_) => {
                Cow::Borrowed("An internal error occurred; quote the requestId if you report it.")
            }
        }
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

    /// The `reason` member of a `PASSWORD_REJECTED` problem.
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
            (Error::TargetNotEligible("x"), 422, "TARGET_NOT_ELIGIBLE"),
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
            assert!(!error.title().is_empty());
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
        assert!(!error.detail().contains("10.0.0.1"));
    }
}
