//! Exit codes and failures, as the AWS CLI has them
//! (<https://docs.aws.amazon.com/cli/latest/topic/return-codes.html>): one enum of ways a
//! command can fail, one table from failure to code, one way to print each.

use std::fmt::{self, Write as _};

/// The process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Ok = 0,
    /// Ctrl-C (SIGINT): 128 + 2, what a shell reports for a process the signal ended.
    Interrupted = 130,
    /// The command line (or its `--cli-input-*`) is not valid: nothing was sent.
    Usage = 252,
    /// The client's own configuration: no endpoint, no token or an expired one, a bad profile,
    /// a 401 (sign in again), no AWS credentials or region for `check`.
    Configuration = 253,
    /// The service answered with an error (any 4xx or 5xx but 401), or `check` found a FAIL.
    Refused = 254,
    /// Anything else: the network, an answer that is not the API's.
    Other = 255,
}

impl Exit {
    /// The code as the process returns it.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why a command did not succeed. [`Failure::exit`] is the one table from failure to code.
#[derive(Debug)]
pub enum Failure {
    /// A command line or input the CLI refuses before sending anything.
    Usage(String),
    /// The CLI's configuration or credentials: what is missing and where it comes from.
    Configuration(String),
    /// The service's error answer (RFC 9457 problem details, or API Gateway's own message).
    Refused(Box<ServiceError>),
    /// `check` printed its report and found at least one FAIL.
    CheckFailed,
    /// Ctrl-C; the text says what the interrupted request may have done.
    Interrupted(String),
    /// The network, or an answer the CLI cannot read.
    Other(String),
}

impl Failure {
    /// The exit code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) => Exit::Usage,
            Self::Configuration(_) => Exit::Configuration,
            Self::Refused(_) | Self::CheckFailed => Exit::Refused,
            Self::Interrupted(_) => Exit::Interrupted,
            Self::Other(_) => Exit::Other,
        }
    }

    /// What goes on stderr (nothing for [`Failure::CheckFailed`]: the report said it).
    pub fn message(&self) -> String {
        match self {
            Self::Usage(message) => format!(
                "resetgate-cli: error: {message}\nSee 'resetgate-cli <command> --help' for the options and examples."
            ),
            Self::Configuration(message) | Self::Other(message) | Self::Interrupted(message) => {
                format!("resetgate-cli: {message}")
            }
            Self::Refused(error) => error.to_string(),
            Self::CheckFailed => String::new(),
        }
    }
}

/// An error answer of the service, printed in the AWS CLI's manner:
/// `An error occurred (CODE) when calling the OPERATION operation: DETAIL`, then the problem's
/// other members that help (title, requestId, reason, suggestion, Retry-After, client token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The operation's name, e.g. `ResetUserPassword`.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The problem's `code`, or `HTTP <status>` for an answer that is not problem details.
    pub code: String,
    /// The problem's `title`, or API Gateway's `message`.
    pub title: Option<String>,
    /// The problem's `detail`.
    pub detail: Option<String>,
    /// The problem's `requestId`: it finds the request's audit line.
    pub request_id: Option<String>,
    /// The problem's `reason` (`PASSWORD_REJECTED`, `outcome_unknown`).
    pub reason: Option<String>,
    /// The problem's `suggestion` (a weak password).
    pub suggestion: Option<String>,
    /// The `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
    /// The idempotency key the request carried (not a secret: it lets a retry get this
    /// request's answer instead of making a second reset).
    pub client_token: Option<String>,
    /// Attempts made, when the CLI retried and gave up.
    pub attempts: Option<u32>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = format!(
            "An error occurred ({}) when calling the {} operation",
            self.code, self.operation
        );
        if let Some(attempts) = self.attempts.filter(|n| *n > 1) {
            let _ = write!(line, " (reached max retries: {})", attempts - 1);
        }
        let summary = self
            .detail
            .as_deref()
            .or(self.title.as_deref())
            .unwrap_or("no detail given");
        write!(f, "\n{line}: {summary}")?;
        let mut extra = |name: &str, value: Option<String>| -> fmt::Result {
            match value {
                Some(value) => write!(f, "\n  {name}: {value}"),
                None => Ok(()),
            }
        };
        if self.detail.is_some() {
            extra("title", self.title.clone())?;
        }
        extra("status", Some(self.status.to_string()))?;
        extra("requestId", self.request_id.clone())?;
        extra("reason", self.reason.clone())?;
        extra("suggestion", self.suggestion.clone())?;
        extra("retryAfterSeconds", self.retry_after.map(|s| s.to_string()))?;
        extra("clientToken", self.client_token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> ServiceError {
        ServiceError {
            operation: "ResetUserPassword",
            status: 429,
            code: "RATE_LIMITED".into(),
            title: Some("Too many resets".into()),
            detail: Some("Too many resets of this account; retry later.".into()),
            request_id: Some("8f0c".into()),
            reason: None,
            suggestion: None,
            retry_after: Some(3600),
            client_token: Some("0b6f2d7e".into()),
            attempts: None,
        }
    }

    #[test]
    fn every_failure_has_the_aws_cli_exit_code() {
        let cases = [
            (Failure::Usage("x".into()), 252),
            (Failure::Configuration("x".into()), 253),
            (Failure::Refused(Box::new(problem())), 254),
            (Failure::CheckFailed, 254),
            (Failure::Other("x".into()), 255),
            (Failure::Interrupted("x".into()), 130),
        ];
        for (failure, code) in cases {
            assert_eq!(failure.exit().code(), code, "{failure:?}");
        }
        assert_eq!(Exit::Ok.code(), 0);
    }

    #[test]
    fn a_service_error_reads_like_the_aws_cli() {
        let text = problem().to_string();
        let mut lines = text.lines().filter(|l| !l.is_empty());
        assert_eq!(
            lines.next(),
            Some(
                "An error occurred (RATE_LIMITED) when calling the ResetUserPassword operation: Too many resets of this account; retry later."
            )
        );
        let rest: Vec<&str> = lines.collect();
        assert_eq!(
            rest,
            [
                "  title: Too many resets",
                "  status: 429",
                "  requestId: 8f0c",
                "  retryAfterSeconds: 3600",
                "  clientToken: 0b6f2d7e",
            ]
        );
    }

    #[test]
    fn retries_are_counted_as_the_aws_cli_counts_them() {
        let error = ServiceError {
            attempts: Some(5),
            ..problem()
        };
        assert!(
            error
                .to_string()
                .contains("operation (reached max retries: 4): ")
        );
        let once = ServiceError {
            attempts: Some(1),
            ..problem()
        };
        assert!(!once.to_string().contains("reached max retries"));
    }

    #[test]
    fn without_detail_the_title_is_the_summary() {
        let error = ServiceError {
            detail: None,
            title: Some("Unauthorized".into()),
            ..problem()
        };
        let text = error.to_string();
        assert!(text.contains("operation: Unauthorized\n"), "{text}");
        assert!(!text.contains("title:"), "{text}");
    }
}
