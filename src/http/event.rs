//! The API Gateway event, decoded by us into the few parts a request needs.
//!
//! `lambda_http`'s conversion to an `http::Request` builds a URI from the path, the query
//! string, the `Host` and `X-Forwarded-Proto` headers, and panics on characters the URI grammar
//! rejects (a `"` or `<` in `rawQueryString`, a `{` in `Host`), and on a body flagged base64
//! that is not. API Gateway delivers all of those. resetgate never needs the URI: it routes on
//! API Gateway's route key or resource, or on the raw path. So the typed events of
//! `aws_lambda_events` (their deserialisation does not panic) are read directly here, and
//! nothing on the way can panic: whatever API Gateway sends gets an answer from the contract.
//!
//! | front door | shape | repeated headers |
//! |---|---|---|
//! | HTTP API, payload 2.0 | [`ApiGatewayV2httpRequest`] | joined with commas in `headers` |
//! | HTTP API payload 1.0, REST API | [`ApiGatewayProxyRequest`] | every value in `multiValueHeaders` |

use std::{borrow::Cow, collections::HashMap};

use base64::Engine;
use lambda_http::{
    aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest},
    http::{HeaderMap, HeaderName, HeaderValue, Method},
    request::RequestContext,
};
use serde::Deserialize;
use serde_json::Value;

/// One request as API Gateway delivered it: only `context` is trusted (it holds what the
/// authorizer checked); everything else is the caller's. Its `Debug` shows neither the body
/// (a chosen password) nor the headers (`Authorization`, the idempotency key).
pub struct Incoming {
    /// The HTTP method.
    pub method: Method,
    /// The path as sent (REST and payload 1.0 may include the stage).
    pub path: String,
    /// API Gateway's decoded path parameters of the route it matched.
    pub path_parameters: HashMap<String, String>,
    /// The request's headers (for payload 1.0 and REST, the first value of each).
    pub headers: HeaderMap,
    /// The body's bytes, base64-decoded where API Gateway flagged it; `None` when the flag is
    /// set and the body is not base64.
    pub body: Option<Vec<u8>>,
    /// The authorizer's and API Gateway's context.
    pub context: RequestContext,
    /// Every value of one header as sent, repeats included (REST and payload 1.0 deliver them
    /// in `multiValueHeaders`; HTTP API joins them with commas).
    multi_value_headers: HeaderMap,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &format_args!("[{} REDACTED]", self.headers.len()),
            )
            .field(
                "body",
                &format_args!(
                    "[{} bytes REDACTED]",
                    self.body.as_ref().map_or(0, Vec::len)
                ),
            )
            .finish_non_exhaustive()
    }
}

impl Incoming {
    /// Every value the caller sent for `name`, repeats included.
    pub fn header_values(&self, name: &HeaderName) -> impl Iterator<Item = &HeaderValue> {
        let source = if self.multi_value_headers.contains_key(name) {
            &self.multi_value_headers
        } else {
            &self.headers
        };
        source.get_all(name).iter()
    }
}

impl Incoming {
    /// The claims API Gateway's authorizer validated, as text (see [`claim_text`]); `None`
    /// without a JWT or Cognito authorizer (none, IAM, a Lambda authorizer, an unknown shape).
    ///
    /// | front door | claims | array claims |
    /// |---|---|---|
    /// | HTTP API, payload 2.0, JWT authorizer | `authorizer.jwt.claims` | one string `"[a b]"` |
    /// | HTTP API, payload 1.0 | `authorizer.claims` | one string `"[a b]"` |
    /// | REST API, Cognito authorizer | `authorizer.claims` | one string `"a,b"` |
    pub fn claims(&self) -> Option<HashMap<String, String>> {
        match &self.context {
            RequestContext::ApiGatewayV2(context) => context
                .authorizer
                .as_ref()
                .and_then(|authorizer| authorizer.jwt.as_ref())
                .map(|jwt| jwt.claims.clone()),
            RequestContext::ApiGatewayV1(context) => {
                match context.authorizer.fields.get("claims") {
                    Some(Value::Object(claims)) => Some(
                        claims
                            .iter()
                            .filter_map(|(name, value)| {
                                claim_text(value).map(|text| (name.clone(), text))
                            })
                            .collect(),
                    ),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The route template API Gateway matched: an HTTP API's route key without its method, a
    /// REST API's resource path.
    pub fn route_template(&self) -> Option<&str> {
        match &self.context {
            RequestContext::ApiGatewayV2(context) => context
                .route_key
                .as_deref()
                .and_then(|key| key.split_once(' '))
                .map(|(_, template)| template),
            RequestContext::ApiGatewayV1(context) => context.resource_path.as_deref(),
            _ => None,
        }
    }

    /// The stage, API Gateway's request id and the client address it saw.
    pub fn origin(&self) -> Origin<'_> {
        match &self.context {
            RequestContext::ApiGatewayV2(context) => Origin {
                stage: context.stage.as_deref(),
                api_request_id: context.request_id.as_deref(),
                source_ip: context.http.source_ip.as_deref(),
            },
            RequestContext::ApiGatewayV1(context) => Origin {
                stage: context.stage.as_deref(),
                api_request_id: context.request_id.as_deref(),
                source_ip: context.identity.source_ip.as_deref(),
            },
            _ => Origin::default(),
        }
    }
}

/// Where a request came from, as API Gateway recorded it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Origin<'a> {
    /// The API's stage (REST and payload 1.0 paths may start with it).
    pub stage: Option<&'a str>,
    /// API Gateway's request id.
    pub api_request_id: Option<&'a str>,
    /// The client address.
    pub source_ip: Option<&'a str>,
}

/// A claim's value as text. Payload 1.0 and REST pass strings; JSON numbers and booleans are
/// rendered, and a JSON array becomes the HTTP API's `"[a b]"` form.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().filter_map(claim_text).collect();
            Some(format!("[{}]", items.join(" ")))
        }
        Value::Null | Value::Object(_) => None,
    }
}

/// Decodes a raw invocation event; `None` when it is not an API Gateway proxy event (a console
/// test, a direct invocation, an unknown shape).
///
/// A payload 2.0 event says `"version": "2.0"` and is parsed once as such; anything else is
/// tried as the REST / payload 1.0 shape (BENCHMARKS.md: recognising 2.0 first halves its
/// parsing).
pub fn decode(event: &str) -> Option<Incoming> {
    #[derive(Deserialize)]
    struct Shape<'a> {
        #[serde(borrow, default)]
        version: Option<Cow<'a, str>>,
    }
    let v2 = serde_json::from_str::<Shape>(event)
        .is_ok_and(|shape| shape.version.as_deref() == Some("2.0"));
    if v2 && let Ok(event) = serde_json::from_str::<ApiGatewayV2httpRequest>(event) {
        return Some(from_v2(event));
    }
    serde_json::from_str::<ApiGatewayProxyRequest>(event)
        .ok()
        .map(from_v1)
}

fn from_v2(event: ApiGatewayV2httpRequest) -> Incoming {
    Incoming {
        method: event.request_context.http.method.clone(),
        path: event
            .raw_path
            .or_else(|| event.request_context.http.path.clone())
            .unwrap_or_default(),
        path_parameters: event.path_parameters,
        headers: event.headers,
        body: body(event.body, event.is_base64_encoded),
        context: RequestContext::ApiGatewayV2(event.request_context),
        multi_value_headers: HeaderMap::new(),
    }
}

fn from_v1(event: ApiGatewayProxyRequest) -> Incoming {
    Incoming {
        method: event.http_method,
        path: event.path.unwrap_or_default(),
        path_parameters: event.path_parameters,
        headers: event.headers,
        body: body(event.body, event.is_base64_encoded),
        context: RequestContext::ApiGatewayV1(event.request_context),
        multi_value_headers: event.multi_value_headers,
    }
}

/// The body's bytes; `None` for a body flagged base64 that is not (RFC 4648 standard
/// alphabet, padded, as API Gateway encodes).
fn body(body: Option<String>, base64: bool) -> Option<Vec<u8>> {
    let body = body.unwrap_or_default();
    if base64 {
        base64::engine::general_purpose::STANDARD.decode(body).ok()
    } else {
        Some(body.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> serde_json::Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("event")).expect("json")
    }

    /// What made `lambda_http` panic (a 502 at the gateway), decoded without one.
    #[test]
    fn what_api_gateway_delivers_decodes_without_a_panic() {
        let mut cases: Vec<(&str, serde_json::Value)> = Vec::new();
        let mut quote = sample("self-generate.json");
        quote["rawQueryString"] = r#"a="b"&c=<d>"#.into();
        cases.push(("a quote in the query", quote));
        let mut host = sample("self-generate.json");
        host["headers"]["host"] = "ex{ample}.com".into();
        host["headers"]["x-forwarded-proto"] = "not a scheme".into();
        cases.push(("a brace in Host", host));
        let mut port = sample("rest-self-generate.json");
        port["path"] = ":99999".into();
        port["headers"]["Host"] = "a b".into();
        cases.push(("a REST path that reads as a port", port));
        for (name, event) in cases {
            let incoming = decode(&event.to_string()).expect(name);
            assert_eq!(
                incoming.body.as_deref(),
                Some(&br#"{"mode":"generate"}"#[..]),
                "{name}"
            );
        }
    }

    #[test]
    fn base64_bodies() {
        let mut event = sample("self-generate.json");
        event["isBase64Encoded"] = true.into();
        event["body"] = "eyJtb2RlIjoiZ2VuZXJhdGUifQ==".into();
        let incoming = decode(&event.to_string()).expect("decoded");
        assert_eq!(
            incoming.body.as_deref(),
            Some(&br#"{"mode":"generate"}"#[..])
        );
        event["body"] = "!!! not base64".into();
        assert_eq!(decode(&event.to_string()).expect("decoded").body, None);
    }

    #[test]
    fn repeated_headers_are_all_seen() {
        let key = HeaderName::from_static("idempotency-key");
        let mut rest = sample("rest-self-generate.json");
        rest["multiValueHeaders"]["idempotency-key"] = serde_json::json!(["k-1", "k-2"]);
        rest["headers"]["idempotency-key"] = "k-2".into();
        let incoming = decode(&rest.to_string()).expect("decoded");
        assert_eq!(incoming.header_values(&key).count(), 2);
        let v2 = sample("self-generate.json");
        let incoming = decode(&v2.to_string()).expect("decoded");
        assert_eq!(incoming.header_values(&key).count(), 1);
    }

    #[test]
    fn debug_shows_no_body_and_no_header() {
        let mut event = sample("self-set.json");
        event["headers"]["authorization"] = "Bearer canary-token-123".into();
        event["body"] = r#"{"mode":"set","password":"Canary-Passw0rd-Value"}"#.into();
        let incoming = decode(&event.to_string()).expect("decoded");
        let shown = format!("{incoming:?}");
        assert!(!shown.contains("canary-token-123"), "{shown}");
        assert!(!shown.contains("Canary-Passw0rd-Value"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn other_events_are_not_api_gateway() {
        for event in ["{}", "[]", "null", r#"{"key1":"value1"}"#, "not json"] {
            assert!(decode(event).is_none(), "{event}");
        }
    }

    #[test]
    fn claims_come_only_from_a_jwt_or_cognito_authorizer() {
        use crate::auth::Caller;
        let from = |event: &str| {
            let claims = decode(event).and_then(|request| request.claims());
            Caller::from_claims(claims, "cognito:groups")
        };
        let v2 = from(include_str!("../../events/admin-generate.json")).expect("v2 caller");
        assert_eq!(v2.sub, "7d5f2c1e-2222-4b4b-9d9d-4e1e00000002");
        assert!(v2.in_any_group(&["helpdesk".into()]));
        let rest = from(include_str!("../../events/rest-admin-set.json")).expect("REST caller");
        assert_eq!(rest.sub, "7d5f2c1e-2222-4b4b-9d9d-4e1e00000002");
        assert!(rest.in_any_group(&["helpdesk".into()]));
        assert!(rest.in_any_group(&["auditors".into()]));
        assert!(!rest.in_any_group(&["helpdesk,auditors".into()]));
        let v1 = from(include_str!("../../events/payload-v1-self-code.json"))
            .expect("payload 1.0 caller");
        assert_eq!(v1.sub, "7d5f2c1e-1111-4a4a-9c9c-a11ce0000001");
        assert_eq!(v1.claim("cognito:username"), Some("alice"));
        assert_eq!(
            from(include_str!("../../events/no-authorizer.json"))
                .expect_err("none")
                .code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Caller::from_claims(None, "cognito:groups")
                .expect_err("none")
                .code(),
            "UNAUTHENTICATED"
        );
    }

    #[test]
    fn array_claims_from_payload_1_0_render_like_http_api() {
        assert_eq!(
            claim_text(&serde_json::json!(["a", "b"])),
            Some("[a b]".into())
        );
        assert_eq!(
            claim_text(&serde_json::json!(1700000000)),
            Some("1700000000".into())
        );
        assert_eq!(claim_text(&Value::Null), None);
    }
}
