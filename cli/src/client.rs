//! The API over HTTPS: one request, its retries, and what its answer means.
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

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::TokioExecutor,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::zeroize::Zeroizing;
use serde_json::Value;

use crate::{
    debug::DebugLog,
    exit::{Failure, ServiceError},
    input::Operation,
    settings::Sourced,
    token::{BearerToken, TOKEN_SOURCES, human_duration},
};

/// Larger answers are not the API's.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// What the CLI calls itself.
pub const USER_AGENT: &str = concat!("resetgate-cli/", env!("CARGO_PKG_VERSION"));

/// A path segment, percent-encoded: everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment (a target or user name), once.
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The API's base URL: scheme, host and an optional stage prefix (`/prod` on a REST API).
#[derive(Debug, Clone)]
pub struct Endpoint {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
}

impl Endpoint {
    /// Checks the URL: `https://` (or `http://` to this machine only, for local stand-ins), no
    /// query or fragment.
    pub fn parse(url: &Sourced<String>) -> Result<Self, Failure> {
        let bad = |why: &str| {
            Failure::Configuration(format!(
                "the endpoint {:?} (from {}) {why}",
                url.value, url.source
            ))
        };
        if url.value.contains('#') {
            return Err(bad("must not have a fragment"));
        }
        let uri: Uri = url.value.parse().map_err(|_| {
            bad("is not a URL such as https://abc123.execute-api.eu-west-1.amazonaws.com")
        })?;
        let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned())
        else {
            return Err(bad(
                "is not a URL such as https://abc123.execute-api.eu-west-1.amazonaws.com",
            ));
        };
        if uri.query().is_some() {
            return Err(bad("must not have a query string"));
        }
        if authority.as_str().contains('@') {
            return Err(bad("must not carry user information"));
        }
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(authority.host()) => {}
            "http" => {
                return Err(bad(
                    "must be https: a bearer token is never sent in clear text (http is accepted for this machine only)",
                ));
            }
            _ => return Err(bad("must be an https:// URL")),
        }
        Ok(Self {
            scheme,
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The URL of `path` (which starts with `/v1/`).
    pub fn url(&self, path: &str) -> Uri {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{path}", self.prefix))
            .build()
            .expect("a URL built from checked parts")
    }

    /// Whether the endpoint is https (the TLS roots are needed).
    pub fn is_https(&self) -> bool {
        self.scheme == http::uri::Scheme::HTTPS
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

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

/// One API request.
#[derive(Debug)]
pub struct ApiRequest {
    pub operation: Operation,
    pub method: Method,
    /// Starting with `/v1/`, segments already encoded.
    pub path: String,
    /// The JSON body; printed redacted under `--debug`.
    pub body: Option<Value>,
    /// The `Idempotency-Key` header, the same on every attempt.
    pub idempotency_key: Option<String>,
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
            .map(str::to_owned)
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

/// The HTTPS client for one run.
pub struct ApiClient {
    http: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Endpoint,
    token: BearerToken,
    log: DebugLog,
    policy: RetryPolicy,
    read_timeout: Duration,
}

/// Timeouts of one attempt.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
}

impl ApiClient {
    /// A client for `endpoint` sending `token`. TLS uses rustls with aws-lc-rs and the
    /// platform's root certificates (SSL_CERT_FILE and SSL_CERT_DIR are honoured).
    pub fn new(
        endpoint: Endpoint,
        token: BearerToken,
        log: DebugLog,
        policy: RetryPolicy,
        timeouts: Timeouts,
    ) -> Result<Self, Failure> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let tls = if endpoint.is_https() {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(provider)
                .map_err(|e| {
                    Failure::Configuration(format!(
                        "no trusted root certificates to check the endpoint's with ({e}): install the system's CA certificates or set SSL_CERT_FILE"
                    ))
                })?
        } else {
            let config = rustls::ClientConfig::builder_with_provider(provider.into())
                .with_safe_default_protocol_versions()
                .map_err(|e| Failure::Other(format!("TLS set-up failed: {e}")))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        };
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_connect_timeout(Some(timeouts.connect));
        let https = tls.https_or_http().enable_http1().wrap_connector(connector);
        let http = HyperClient::builder(TokioExecutor::new()).build(https);
        Ok(Self {
            http,
            endpoint,
            token,
            log,
            policy,
            read_timeout: timeouts.read,
        })
    }

    /// Sends `request`, retrying as the module says, and returns the success answer.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiAnswer, Failure> {
        let started = Instant::now();
        let url = self.endpoint.url(&request.path);
        let body = match &request.body {
            Some(body) => Some(Zeroizing::new(
                serde_json::to_vec(body).map_err(|e| Failure::Other(e.to_string()))?,
            )),
            None => None,
        };
        let mut attempt = 1;
        loop {
            self.log.line(format!(
                "attempt {attempt}/{}: {} {url}",
                self.policy.max_attempts, request.method
            ));
            self.log.line("  > authorization: Bearer <redacted>");
            if let Some(key) = &request.idempotency_key {
                self.log.line(format!("  > idempotency-key: {key}"));
            }
            if let Some(json) = &request.body {
                self.log.body("  >", json);
            }
            let sent = Instant::now();
            let (failure, retry_after) = match self
                .attempt(request, &url, body.as_ref().map(|b| b.as_slice()))
                .await
            {
                Ok((status, headers, bytes)) => {
                    self.log
                        .line(format!("  < {status} ({} ms)", sent.elapsed().as_millis()));
                    for name in [
                        "content-type",
                        "retry-after",
                        "idempotent-replayed",
                        "apigw-requestid",
                    ] {
                        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                            self.log.line(format!("  < {name}: {value}"));
                        }
                    }
                    match serde_json::from_slice::<Value>(&bytes) {
                        Ok(json) => self.log.body("  <", &json),
                        Err(_) => self
                            .log
                            .line(format!("  < body: {} bytes, not JSON", bytes.len())),
                    }
                    match judge(
                        request.operation,
                        status,
                        &headers,
                        &bytes,
                        request.idempotency_key.as_deref(),
                    ) {
                        Verdict::Success(answer) => return Ok(answer),
                        Verdict::Fail(failure) => return Err(failure),
                        Verdict::Retry(failure, retry_after) => (failure, retry_after),
                    }
                }
                Err(Transport { message, retryable }) => {
                    self.log
                        .line(format!("  ! {message} ({} ms)", sent.elapsed().as_millis()));
                    let failure = Failure::Other(self.unreachable(request, &message, attempt));
                    if !retryable {
                        return Err(failure);
                    }
                    (failure, None)
                }
            };
            let Some(wait) = self
                .policy
                .wait(attempt + 1, retry_after, started.elapsed())
            else {
                return Err(with_attempts(failure, attempt, self, request));
            };
            attempt += 1;
            self.log.line(format!(
                "retrying in {:.1} s{} with the same idempotency key",
                wait.as_secs_f64(),
                if retry_after.is_some() {
                    " (Retry-After)"
                } else {
                    ""
                }
            ));
            tokio::time::sleep(wait).await;
        }
    }

    fn unreachable(&self, request: &ApiRequest, message: &str, attempts: u32) -> String {
        let mut text = format!(
            "could not complete the {} request to {} ({message}",
            request.operation.name(),
            self.endpoint.url("")
        );
        if attempts > 1 {
            text.push_str(&format!("; {attempts} attempts"));
        }
        text.push(')');
        if let Some(key) = &request.idempotency_key {
            text.push_str(&format!(
                ". The reset may or may not have been made: to learn its outcome without a second reset, run the same command again with --client-token {key} within 10 minutes"
            ));
        }
        text
    }

    async fn attempt(
        &self,
        request: &ApiRequest,
        url: &Uri,
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Transport> {
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(url.clone())
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, "application/json, application/problem+json");
        let mut authorization =
            HeaderValue::from_str(&Zeroizing::new(format!("Bearer {}", self.token.expose())))
                .map_err(|_| Transport {
                    message: "the token is not a valid header value".into(),
                    retryable: false,
                })?;
        authorization.set_sensitive(true);
        builder = builder.header(header::AUTHORIZATION, authorization);
        if let Some(key) = &request.idempotency_key {
            builder = builder.header("idempotency-key", key.as_str());
        }
        let body = match body {
            Some(bytes) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::copy_from_slice(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let http_request = builder.body(body).map_err(|e| Transport {
            message: format!("the request could not be built: {e}"),
            retryable: false,
        })?;
        let exchange = async {
            let response = self.http.request(http_request).await.map_err(|e| {
                let tls =
                    error_chain(&e).contains("certificate") || error_chain(&e).contains("tls");
                Transport {
                    message: format!("connection failed: {}", error_chain(&e)),
                    // A refused or dropped connection is worth another try; a certificate
                    // the platform does not trust is not.
                    retryable: !tls,
                }
            })?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| Transport {
                    message: format!("the answer could not be read: {e}"),
                    retryable: true,
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, bytes))
        };
        match tokio::time::timeout(self.read_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Transport {
                message: format!(
                    "no answer within {} (--cli-read-timeout)",
                    human_duration(self.read_timeout.as_secs() as i64)
                ),
                retryable: true,
            }),
        }
    }
}

fn with_attempts(
    failure: Failure,
    attempts: u32,
    client: &ApiClient,
    request: &ApiRequest,
) -> Failure {
    match failure {
        Failure::Refused(mut error) => {
            error.attempts = Some(attempts);
            Failure::Refused(error)
        }
        Failure::Other(_) if attempts > 1 => {
            Failure::Other(client.unreachable(request, "every attempt failed", attempts))
        }
        other => other,
    }
}

/// A request that got no answer.
#[derive(Debug)]
struct Transport {
    message: String,
    retryable: bool,
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Source;

    fn endpoint(url: &str) -> Result<Endpoint, Failure> {
        Endpoint::parse(&Sourced {
            value: url.to_owned(),
            source: Source::Flag("--endpoint-url"),
        })
    }

    #[test]
    fn path_segments_are_encoded_once() {
        assert_eq!(segment("app-users"), "app-users");
        assert_eq!(segment("bob@example.com"), "bob%40example.com");
        assert_eq!(segment("bob jones/../x"), "bob%20jones%2F..%2Fx");
        assert_eq!(segment("ünïcode%"), "%C3%BCn%C3%AFcode%25");
        assert_eq!(segment("a~b_c.d-e"), "a~b_c.d-e");
    }

    #[test]
    fn endpoints_keep_their_stage_and_refuse_clear_text_elsewhere() {
        let e = endpoint("https://abc123.execute-api.eu-west-1.amazonaws.com/prod/").unwrap();
        assert_eq!(
            e.url("/v1/targets").to_string(),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/targets"
        );
        assert!(e.is_https());
        let e = endpoint("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            e.url("/v1/targets").to_string(),
            "http://127.0.0.1:8080/v1/targets"
        );
        assert!(endpoint("http://localhost:1").is_ok());
        assert!(endpoint("http://[::1]:1").is_ok());
        for (url, why) in [
            ("http://api.example.com", "must be https"),
            ("ftp://api.example.com", "must be an https:// URL"),
            ("https://api.example.com/?x=1", "query string"),
            ("https://api.example.com/#x", "fragment"),
            ("https://user:pw@api.example.com", "user information"),
            ("api.example.com", "is not a URL"),
            ("", "is not a URL"),
        ] {
            let Err(Failure::Configuration(message)) = endpoint(url) else {
                panic!("{url} was accepted");
            };
            assert!(message.contains(why), "{url}: {message}");
        }
    }

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
