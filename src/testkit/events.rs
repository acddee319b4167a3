//! API Gateway events for tests: the sample events of `events/`, and an HTTP API (payload
//! 2.0) event for any path, caller, headers and body.

use serde_json::{Value, json};

/// A sample event from `events/`.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("a sample event"))
        .expect("a JSON sample event")
}

/// An HTTP API payload 2.0 event (the shape of `events/self-generate.json`) behind a
/// `$default` route, so the function routes by `path`, from a caller whose token carried
/// `claims` (exactly these: no issuer is added), with `headers` and `body`.
pub fn http_api(path: &str, claims: Value, headers: Value, body: &str) -> Value {
    let mut event = sample("self-generate.json");
    event["rawPath"] = path.into();
    event["routeKey"] = "$default".into();
    event["requestContext"]["routeKey"] = "$default".into();
    event["pathParameters"] = Value::Null;
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims;
    event["headers"] = headers;
    event["body"] = body.into();
    event
}

/// A JSON `POST` to `path` with the idempotency key `key`, as [`http_api`].
pub fn post(path: &str, claims: Value, key: &str, body: &str) -> String {
    let headers = json!({"content-type": "application/json", "idempotency-key": key});
    http_api(path, claims, headers, body).to_string()
}

/// The problem `code` of a response body, if it is a problem.
pub fn code_of(body: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    body["code"].as_str().map(str::to_owned)
}
