//! Metrics in CloudWatch's Embedded Metric Format: one JSON line per request in the function's
//! log stream, which CloudWatch turns into metrics without an API call (no client, no
//! dependency, no latency). Namespace `resetgate`; dimension sets `[Target, Outcome]` and
//! `[Outcome]` (the contract's code, `OK` on success), never a username.
//!
//! The line goes through `tracing` (target `emf`) and the logging layer writes it raw, next to
//! the JSON log lines: tests capture it like any other line.

use serde_json::{Map, Value, json};

/// The namespace of every metric.
pub const NAMESPACE: &str = "resetgate";

/// What one request counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestMetrics<'a> {
    /// Epoch milliseconds.
    pub timestamp_ms: u64,
    /// The target, where the request named a configured one (`-` otherwise: a made-up name
    /// must not become a metric of its own).
    pub target: Option<&'a str>,
    /// The contract's code (`OK` on success).
    pub outcome: &'a str,
    /// The answer's HTTP status.
    pub status: u16,
    /// Whether a reset was made (not a replay, not the target list).
    pub reset: bool,
    /// Whether the answer was a replay.
    pub replayed: bool,
    /// The request's whole time in the function.
    pub duration_ms: u64,
    /// Time spent waiting on the back-end's calls (reads, reset, sign-out).
    pub backend_ms: Option<u64>,
    /// A password changed but the sessions could not be ended.
    pub session_revocation_failed: bool,
    /// The decision's event could not be published.
    pub event_publish_failed: bool,
    /// The user could not be told of the reset.
    pub notification_failed: bool,
}

/// The EMF line of a request.
pub fn line(metrics: &RequestMetrics<'_>) -> String {
    let refused = (400..500).contains(&metrics.status);
    let mut names = vec![
        ("Resets", "Count"),
        ("Refusals", "Count"),
        ("Throttles", "Count"),
        ("Replays", "Count"),
        ("SessionRevocationFailures", "Count"),
        ("EventPublishFailures", "Count"),
        ("NotificationFailures", "Count"),
        ("DurationMs", "Milliseconds"),
    ];
    let mut values = Map::new();
    values.insert("Target".into(), metrics.target.unwrap_or("-").into());
    values.insert("Outcome".into(), metrics.outcome.into());
    values.insert("Resets".into(), u8::from(metrics.reset).into());
    values.insert("Refusals".into(), u8::from(refused).into());
    values.insert(
        "Throttles".into(),
        u8::from(metrics.outcome == "RATE_LIMITED").into(),
    );
    values.insert("Replays".into(), u8::from(metrics.replayed).into());
    values.insert(
        "SessionRevocationFailures".into(),
        u8::from(metrics.session_revocation_failed).into(),
    );
    values.insert(
        "EventPublishFailures".into(),
        u8::from(metrics.event_publish_failed).into(),
    );
    values.insert(
        "NotificationFailures".into(),
        u8::from(metrics.notification_failed).into(),
    );
    values.insert("DurationMs".into(), metrics.duration_ms.into());
    if let Some(backend) = metrics.backend_ms {
        names.push(("BackendLatencyMs", "Milliseconds"));
        values.insert("BackendLatencyMs".into(), backend.into());
    }
    let definitions: Vec<Value> = names
        .iter()
        .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    values.insert(
        "_aws".into(),
        json!({
            "Timestamp": metrics.timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                // Per target, and over all targets (what the template's alarms read).
                "Dimensions": [["Target", "Outcome"], ["Outcome"]],
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(values).to_string()
}

/// Writes the request's EMF line (through the logging layer, raw).
pub fn emit(metrics: &RequestMetrics<'_>) {
    tracing::info!(target: "emf", emf = %line(metrics));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EMF specification's shape: `_aws.CloudWatchMetrics[].{Namespace, Dimensions,
    /// Metrics}`, every dimension and metric a member of the root object.
    #[test]
    fn a_request_is_one_emf_object() {
        let emf: Value = serde_json::from_str(&line(&RequestMetrics {
            timestamp_ms: 1_750_000_000_000,
            target: Some("app-users"),
            outcome: "OK",
            status: 200,
            reset: true,
            duration_ms: 31,
            backend_ms: Some(22),
            ..RequestMetrics::default()
        }))
        .expect("JSON");
        let directive = &emf["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "resetgate");
        assert_eq!(
            directive["Dimensions"],
            json!([["Target", "Outcome"], ["Outcome"]])
        );
        assert_eq!(emf["_aws"]["Timestamp"], 1_750_000_000_000u64);
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("name");
            assert!(emf[name].is_number(), "{name} has a value");
        }
        for dimension in ["Target", "Outcome"] {
            assert!(emf[dimension].is_string(), "{dimension}");
        }
        assert_eq!(emf["Resets"], 1);
        assert_eq!(emf["Refusals"], 0);
        assert_eq!(emf["BackendLatencyMs"], 22);
    }

    #[test]
    fn refusals_and_throttles_count_by_code() {
        let throttled: Value = serde_json::from_str(&line(&RequestMetrics {
            target: Some("app-users"),
            outcome: "RATE_LIMITED",
            status: 429,
            ..RequestMetrics::default()
        }))
        .expect("JSON");
        assert_eq!(throttled["Outcome"], "RATE_LIMITED");
        assert_eq!(
            (
                throttled["Refusals"].clone(),
                throttled["Throttles"].clone()
            ),
            (json!(1), json!(1))
        );
        assert!(throttled.get("BackendLatencyMs").is_none());
        let unknown: Value = serde_json::from_str(&line(&RequestMetrics {
            outcome: "UNAUTHENTICATED",
            status: 401,
            ..RequestMetrics::default()
        }))
        .expect("JSON");
        assert_eq!(unknown["Target"], "-");
    }
}
