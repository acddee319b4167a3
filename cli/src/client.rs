//! The API over HTTPS: one request, sent and retried as [`crate::answer`] says.
//!
//! Retries keep the request's idempotency key, so a retried reset is answered from the first
//! one's record and never made twice (docs/API.md, "Idempotency key").
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
    answer::{ApiAnswer, RetryPolicy, Verdict, judge},
    debug::DebugLog,
    exit::Failure,
    input::Operation,
    settings::Sourced,
    token::{BearerToken, human_duration},
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
}
