//! What an answer means, and when to try again.
//!
//! Retries keep the request's idempotency key, so a retried reset is answered from the first
//! one's record and never made twice (docs/API.md, "Idempotency key"). Retried, with backoff
//! honouring `Retry-After`, at most [`RetryPolicy::max_attempts`] attempts within
//! [`RetryPolicy::budget`]:
//!
//! - 409 `REQUEST_IN_PROGRESS`: the same key is being processed now;
//! - 503 `UPSTREAM_UNAVAILABLE`: nothing was reset, or (`outcome_unknown`) the retry checks
//!   before it resets;
//! - API Gateway's own 429, 503 and 504 (throttling, unavailable, timeout);
//! - a connection that failed or an answer that did not come in time.
//!
//! Never retried: any other answer, and 429 `RATE_LIMITED` (its `Retry-After` is the end of the
//! hour).

use std::time::Duration;

use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::{
    exit::{Failure, ServiceError},
    input::Operation,
    token::TOKEN_SOURCES,
};

/// How often and how long a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (the first included).
    pub max_attempts: u32,
    /// No retry starts after this much time since the first attempt.
    pub budget: Duration,
    /// A longer `Retry-After` is not waited for.
    pub max_wait: Duration,
    /// The first backoff without `Retry-After`; doubled each attempt, up to 8 s.
    pub base: Duration,
}

impl RetryPolicy {
    /// The defaults with `max_attempts`.
    pub fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            budget: Duration::from_secs(60),
            max_wait: Duration::from_secs(30),
            base: Duration::from_millis(500),
        }
    }

    /// The wait before attempt `next` (2, 3, ...), or `None` to give up.
    pub fn wait(
        &self,
        next: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        if next > self.max_attempts {
            return None;
        }
        let wait = match retry_after {
            Some(wait) if wait > self.max_wait => return None,
            Some(wait) => wait,
            None => {
                // Exponential backoff with "equal jitter": half fixed, half random.
                let full = self
                    .base
                    .saturating_mul(1 << (next - 2).min(4))
                    .min(Duration::from_secs(8));
                let half = full / 2;
                half + half.mul_f64(rand::random::<f64>())
            }
        };
        (elapsed + wait <= self.budget).then_some(wait)
    }
}

/// `Retry-After`: delta-seconds, or an HTTP-date (RFC 9110 section 10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date =
        aws_smithy_types::DateTime::from_str(value, aws_smithy_types::date_time::Format::HttpDate)
            .ok()?;
    let now = crate::token::now();
    Some(Duration::from_secs(
        u64::try_from(date.secs() - now).unwrap_or(0),
    ))
}

/// A success answer.
#[derive(Debug)]
pub struct ApiAnswer {
    pub body: Value,
    /// `Idempotent-Replayed: true`: the first answer to this key, again.
    pub replayed: bool,
}

/// What one attempt's answer means.
#[derive(Debug)]
pub enum Verdict {
    Success(ApiAnswer),
    /// A failure worth another attempt with the same key (after `Retry-After`, if given).
    Retry(Failure, Option<Duration>),
    Fail(Failure),
}

/// Reads one answer: status, headers and body.
pub fn judge(
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    client_token: Option<&str>,
) -> Verdict {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if status.is_success() {
        return match json {
            Some(body @ Value::Object(_)) => Verdict::Success(ApiAnswer {
                body,
                replayed: headers
                    .get("idempotent-replayed")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
            }),
            _ => Verdict::Fail(Failure::Other(format!(
                "the {} answer ({status}) is not a JSON object: is the endpoint resetgate's API?",
                operation.name()
            ))),
        };
    }
    let member = |name: &str| {
        json.as_ref()
            .and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(crate::output::printable)
    };
    let is_problem = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
        || (member("code").is_some() && member("type").is_some());
    let retry_after = retry_after(headers);
    let error = if is_problem {
        ServiceError {
            operation: operation.name(),
            status: status.as_u16(),
            code: member("code").unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
            title: member("title"),
            detail: member("detail"),
            request_id: member("requestId"),
            reason: member("reason"),
            suggestion: member("suggestion"),
            retry_after: retry_after.map(|d| d.as_secs()),
            client_token: client_token.map(str::to_owned),
            attempts: None,
        }
    } else {
        // API Gateway's own answer ({"message": ...}), or something in front of it.
        ServiceError {
            operation: operation.name(),
            status: status.as_u16(),
            code: format!("HTTP {}", status.as_u16()),
            title: member("message")
                .or_else(|| status.canonical_reason().map(str::to_owned))
                .map(|t| format!("{t} (API Gateway)")),
            detail: None,
            request_id: headers
                .get("apigw-requestid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            reason: None,
            suggestion: None,
            retry_after: retry_after.map(|d| d.as_secs()),
            client_token: client_token.map(str::to_owned),
            attempts: None,
        }
    };
    if status == StatusCode::UNAUTHORIZED {
        let why = match (&error.detail, is_problem) {
            (Some(detail), true) => format!("{} {}: {detail}", error.status, error.code),
            _ => {
                let challenge = headers
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split("error_description=\"").nth(1))
                    .and_then(|v| v.split('"').next())
                    .filter(|v| !v.is_empty());
                match challenge {
                    Some(description) => format!("401 Unauthorized: {description}"),
                    None => "401 Unauthorized".to_owned(),
                }
            }
        };
        let request_id = error
            .request_id
            .as_ref()
            .map(|id| format!(" (requestId {id})"))
            .unwrap_or_default();
        return Verdict::Fail(Failure::Configuration(format!(
            "the API refused the token when calling the {} operation ({why}){request_id}. Sign in again and give the new ID token with {TOKEN_SOURCES}",
            operation.name()
        )));
    }
    let retryable = if is_problem {
        matches!(
            (status.as_u16(), error.code.as_str()),
            (409, "REQUEST_IN_PROGRESS") | (503, "UPSTREAM_UNAVAILABLE")
        )
    } else {
        matches!(status.as_u16(), 429 | 503 | 504)
    };
    let failure = Failure::Refused(Box::new(error));
    if retryable {
        Verdict::Retry(failure, retry_after)
    } else {
        Verdict::Fail(failure)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    const PROBLEM: (&str, &str) = ("content-type", "application/problem+json");

    fn problem(status: u16, code: &str) -> Vec<u8> {
        serde_json::json!({"type": "urn:resetgate:problem:x", "title": "T", "status": status,
                           "code": code, "detail": "D", "requestId": "req-1"})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn what_an_answer_means() {
        let op = Operation::ResetUserPassword;
        type Case = (
            u16,
            Vec<(&'static str, &'static str)>,
            Vec<u8>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (200, vec![], br#"{"target":"a"}"#.to_vec(), "success"),
            (
                202,
                vec![("idempotent-replayed", "true")],
                br#"{"mode":"code"}"#.to_vec(),
                "success",
            ),
            (200, vec![], b"<html>".to_vec(), "other"),
            (
                409,
                vec![PROBLEM, ("retry-after", "1")],
                problem(409, "REQUEST_IN_PROGRESS"),
                "retry",
            ),
            (
                503,
                vec![PROBLEM, ("retry-after", "2")],
                problem(503, "UPSTREAM_UNAVAILABLE"),
                "retry",
            ),
            (
                503,
                vec![("content-type", "application/json")],
                br#"{"message":"Service Unavailable"}"#.to_vec(),
                "retry",
            ),
            (
                504,
                vec![],
                br#"{"message":"Endpoint request timed out"}"#.to_vec(),
                "retry",
            ),
            (
                429,
                vec![("content-type", "application/json")],
                br#"{"message":"Too Many Requests"}"#.to_vec(),
                "retry",
            ),
            (
                429,
                vec![PROBLEM, ("retry-after", "3000")],
                problem(429, "RATE_LIMITED"),
                "refused",
            ),
            (
                409,
                vec![PROBLEM],
                problem(409, "SOMETHING_ELSE"),
                "refused",
            ),
            (
                422,
                vec![PROBLEM],
                problem(422, "PASSWORD_REJECTED"),
                "refused",
            ),
            (500, vec![PROBLEM], problem(500, "INTERNAL"), "refused"),
            (
                502,
                vec![],
                br#"{"message":"Internal server error"}"#.to_vec(),
                "refused",
            ),
            (
                404,
                vec![("content-type", "application/json")],
                br#"{"message":"Not Found"}"#.to_vec(),
                "refused",
            ),
            (
                401,
                vec![("content-type", "application/json")],
                br#"{"message":"Unauthorized"}"#.to_vec(),
                "configuration",
            ),
            (
                401,
                vec![PROBLEM],
                problem(401, "REAUTHENTICATION_REQUIRED"),
                "configuration",
            ),
        ];
        for (status, hs, body, expected) in cases {
            let verdict = judge(
                op,
                StatusCode::from_u16(status).unwrap(),
                &headers(&hs),
                &body,
                Some("key-1"),
            );
            let got = match &verdict {
                Verdict::Success(_) => "success",
                Verdict::Retry(Failure::Refused(_), _) => "retry",
                Verdict::Fail(Failure::Refused(_)) => "refused",
                Verdict::Fail(Failure::Configuration(_)) => "configuration",
                Verdict::Fail(Failure::Other(_)) => "other",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, expected, "{status} {}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn a_problem_becomes_an_aws_style_error_with_its_members() {
        let body = serde_json::json!({"type": "urn:resetgate:problem:password-rejected", "title": "Password rejected",
            "status": 422, "code": "PASSWORD_REJECTED", "detail": "The password is too easy to guess.",
            "reason": "weak", "suggestion": "Add another word or two.", "requestId": "8f0c"});
        let Verdict::Fail(Failure::Refused(error)) = judge(
            Operation::ResetUserPassword,
            StatusCode::UNPROCESSABLE_ENTITY,
            &headers(&[PROBLEM]),
            body.to_string().as_bytes(),
            Some("key-1"),
        ) else {
            panic!("expected a refusal");
        };
        assert_eq!(error.code, "PASSWORD_REJECTED");
        assert_eq!(error.reason.as_deref(), Some("weak"));
        assert_eq!(
            error.suggestion.as_deref(),
            Some("Add another word or two.")
        );
        assert_eq!(error.request_id.as_deref(), Some("8f0c"));
        assert_eq!(error.client_token.as_deref(), Some("key-1"));
        assert!(error.to_string().contains(
            "An error occurred (PASSWORD_REJECTED) when calling the ResetUserPassword operation: The password is too easy to guess."
        ));
    }

    #[test]
    fn a_gateway_401_names_the_reason_and_where_tokens_come_from() {
        let Verdict::Fail(Failure::Configuration(message)) = judge(
            Operation::ListTargets,
            StatusCode::UNAUTHORIZED,
            &headers(&[(
                "www-authenticate",
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"the token has expired\"",
            )]),
            br#"{"message":"Unauthorized"}"#,
            None,
        ) else {
            panic!("a 401 is a configuration error");
        };
        assert!(message.contains("the API refused the token when calling the ListTargets operation (401 Unauthorized: the token has expired)"), "{message}");
        assert!(message.contains(TOKEN_SOURCES));
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
    }

    #[test]
    fn retries_are_bounded_in_number_and_time() {
        let policy = RetryPolicy::new(5);
        let second = policy.wait(2, None, Duration::ZERO).unwrap();
        assert!(
            second >= Duration::from_millis(250) && second <= Duration::from_millis(500),
            "{second:?}"
        );
        let fifth = policy.wait(5, None, Duration::ZERO).unwrap();
        assert!(
            fifth >= Duration::from_secs(2) && fifth <= Duration::from_secs(4),
            "{fifth:?}"
        );
        assert_eq!(
            policy.wait(3, Some(Duration::from_secs(2)), Duration::ZERO),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.wait(6, Some(Duration::from_secs(1)), Duration::ZERO),
            None,
            "max attempts"
        );
        assert_eq!(
            policy.wait(2, Some(Duration::from_secs(31)), Duration::ZERO),
            None,
            "too long a Retry-After"
        );
        assert_eq!(
            policy.wait(2, Some(Duration::from_secs(5)), Duration::from_secs(56)),
            None,
            "the budget"
        );
        assert_eq!(
            RetryPolicy::new(1).wait(2, Some(Duration::ZERO), Duration::ZERO),
            None
        );
    }
}
