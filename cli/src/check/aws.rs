//! What an AWS call's error means to a check.

use aws_sdk_dynamodb::error::SdkError;
use aws_smithy_types::error::{display::DisplayErrorContext, metadata::ProvideErrorMetadata};

/// An AWS call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The error code, e.g. `ResourceNotFoundException`.
    pub code: Option<String>,
    pub kind: Kind,
    /// For people: the code and message, or the transport error.
    pub message: String,
}

/// The kinds of failure a check tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The service answered that the resource does not exist.
    NotFound,
    /// The operator's credentials may not make the call.
    Denied,
    /// No answer: the network, a timeout.
    Unreachable,
    /// Any other error answer.
    Other,
}

impl CallError {
    /// Whether the service said the resource does not exist (by one of `codes`, or the
    /// generic not-found codes).
    pub fn is_not_found(&self) -> bool {
        self.kind == Kind::NotFound
    }

    /// The reason a check gives when it could not look (`what` is the call).
    pub fn could_not(&self, what: &str) -> String {
        match self.kind {
            Kind::Denied => format!(
                "{what} was denied to your credentials ({}): check with credentials that may call it",
                self.message
            ),
            Kind::Unreachable => format!("{what} got no answer: {}", self.message),
            Kind::NotFound | Kind::Other => format!("{what} failed: {}", self.message),
        }
    }
}

/// Codes that say "no such resource" across the services `check` calls.
const NOT_FOUND: [&str; 5] = [
    "ResourceNotFoundException",
    "EntityDoesNotExistException",
    "DirectoryDoesNotExistException",
    "UserPoolNotFound",
    "NotFoundException",
];

/// Reads an SDK error (any service's: the type is shared by every SDK crate).
pub fn call_error<E, R>(error: SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().map(str::to_owned);
            let message = match (inner.code(), inner.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                (None, Some(message)) => message.to_owned(),
                (None, None) => DisplayErrorContext(&error).to_string(),
            };
            let kind = match code.as_deref() {
                Some(c) if NOT_FOUND.contains(&c) => Kind::NotFound,
                Some(c)
                    if c.contains("AccessDenied")
                        || c.contains("UnauthorizedOperation")
                        || c == "NotAuthorizedException"
                        || c == "UnrecognizedClientException"
                        || c.contains("InvalidSignature")
                        || c == "ExpiredTokenException" =>
                {
                    Kind::Denied
                }
                _ => Kind::Other,
            };
            CallError {
                code,
                kind,
                message,
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            CallError {
                code: None,
                kind: Kind::Unreachable,
                message: DisplayErrorContext(&error).to_string(),
            }
        }
        _ => CallError {
            code: None,
            kind: Kind::Other,
            message: DisplayErrorContext(&error).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_says_what_to_do() {
        let denied = CallError {
            code: Some("AccessDeniedException".into()),
            kind: Kind::Denied,
            message: "AccessDeniedException: not allowed".into(),
        };
        assert_eq!(
            denied.could_not("DescribeTable"),
            "DescribeTable was denied to your credentials (AccessDeniedException: not allowed): check with credentials that may call it"
        );
        let gone = CallError {
            code: None,
            kind: Kind::Unreachable,
            message: "io error".into(),
        };
        assert_eq!(
            gone.could_not("GetEnvironment"),
            "GetEnvironment got no answer: io error"
        );
        assert!(!gone.is_not_found());
    }
}
