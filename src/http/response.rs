//! Responses: the success bodies and RFC 9457 problem details, in the one proxy-response shape
//! that REST APIs, HTTP API payload 1.0 and payload 2.0 all accept.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{app::Answer, error::Error};

/// A Lambda proxy integration response (`statusCode`, `headers`, `body`). `Debug` leaves the
/// body out: a success body may deliver a generated password.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyResponse {
    /// The HTTP status.
    pub status_code: u16,
    /// Single-valued headers.
    pub headers: BTreeMap<&'static str, String>,
    /// The JSON body.
    pub body: String,
    /// Always false: bodies are JSON text.
    pub is_base64_encoded: bool,
}

impl std::fmt::Debug for ProxyResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyResponse")
            .field("status_code", &self.status_code)
            .field("headers", &self.headers)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

impl ProxyResponse {
    /// A JSON response. Every response is `no-store`: success bodies may hold a password, and
    /// nothing here is worth caching (OWASP REST Security Cheat Sheet).
    fn json(status_code: u16, content_type: &'static str, body: String) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("content-type", content_type.to_owned());
        headers.insert("cache-control", "no-store".to_owned());
        headers.insert("x-content-type-options", "nosniff".to_owned());
        Self {
            status_code,
            headers,
            body,
            is_base64_encoded: false,
        }
    }

    /// A stored response replayed: the same status and body, marked `Idempotent-Replayed`.
    pub fn replay(status_code: u16, body: String) -> Self {
        let mut response = Self::json(status_code, "application/json", body);
        response
            .headers
            .insert("idempotent-replayed", "true".to_owned());
        response
    }

    /// The answer of a successful request.
    pub fn answer(answer: &Answer, request_id: &str) -> Self {
        let written = match answer {
            Answer::Reset { status, receipt } => Self::success(*status, receipt, request_id),
            Answer::Replay(stored) => Ok(Self::replay(stored.status, stored.body.clone())),
            Answer::Targets(list) => Self::success(200, list, request_id),
        };
        written.unwrap_or_else(|problem| problem)
    }

    /// Serialises `body` as the response; a serialisation failure (none is possible for these
    /// types) becomes a 500 problem rather than a panic.
    pub fn success(
        status_code: u16,
        body: &impl Serialize,
        request_id: &str,
    ) -> Result<Self, Self> {
        serde_json::to_string(body)
            .map(|body| Self::json(status_code, "application/json", body))
            .map_err(|_| {
                Self::problem(
                    &Error::internal("response serialisation failed"),
                    request_id,
                )
            })
    }

    /// The problem+json answer for `error`.
    pub fn problem(error: &Error, request_id: &str) -> Self {
        let spec = error.spec();
        let problem = Problem {
            kind: ProblemType(spec.code),
            title: spec.title,
            status: spec.status,
            code: spec.code,
            detail: &spec.detail,
            reason: error.reason(),
            suggestion: error.suggestion(),
            request_id,
        };
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| String::from("{}"));
        let mut response = Self::json(spec.status, "application/problem+json", body);
        if let Some(seconds) = error.retry_after_secs() {
            response.headers.insert("retry-after", seconds.to_string());
        }
        if let Error::MethodNotAllowed { allow } = error {
            response.headers.insert("allow", (*allow).to_owned());
        }
        response
    }
}

/// RFC 9457 problem details with the contract's extension members.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: ProblemType,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<&'a str>,
    request_id: &'a str,
}

/// The problem `type`: a URN per code (RFC 9457 §3.1.1 allows non-resolvable URIs).
struct ProblemType(&'static str);

impl Serialize for ProblemType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!(
            "urn:resetgate:problem:{}",
            self.0.to_ascii_lowercase().replace('_', "-")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_follow_rfc_9457_and_the_contract() {
        let response = ProxyResponse::problem(
            &Error::RateLimited {
                retry_after_secs: 60,
            },
            "req-1",
        );
        assert_eq!(response.status_code, 429);
        assert_eq!(response.headers["content-type"], "application/problem+json");
        assert_eq!(response.headers["retry-after"], "60");
        assert_eq!(response.headers["cache-control"], "no-store");
        let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
        assert_eq!(body["type"], "urn:resetgate:problem:rate-limited");
        assert_eq!(body["status"], 429);
        assert_eq!(body["code"], "RATE_LIMITED");
        assert_eq!(body["requestId"], "req-1");
        assert!(body["title"].is_string() && body["detail"].is_string());

        let rejected = ProxyResponse::problem(
            &Error::PasswordRejected(crate::error::PasswordRejection::ContainsUsername),
            "req-2",
        );
        let body: serde_json::Value = serde_json::from_str(&rejected.body).expect("json");
        assert_eq!(body["reason"], "contains_username");

        let not_allowed =
            ProxyResponse::problem(&Error::MethodNotAllowed { allow: "POST" }, "req-3");
        assert_eq!(not_allowed.headers["allow"], "POST");
    }
}
