//! Events for SIEMs: one OCSF 1.x Account Change object per decision on a target, published
//! best-effort to an EventBridge bus (`events.eventBusName`; contract: "Events and
//! notifications").
//!
//! The mapping is pure ([`account_change`]); [`EventBus`] is where the object goes
//! ([`EventBridgeBus`] in a deployment, an in-memory bus in tests). A failed publication is
//! logged (ERROR, `metric: EventPublishFailures`) and never changes the answer. The object
//! holds no secret and no raw key: it is built from the same facts as the audit line.

use serde_json::{Value, json};

use crate::{BoxFuture, error::InitError};

/// The OCSF version the objects follow.
pub const OCSF_VERSION: &str = "1.1.0";
/// `source` of every event.
pub const SOURCE: &str = "resetgate";
/// `detail-type` of every event.
pub const DETAIL_TYPE: &str = "Account Change";

/// OCSF Account Change (`class_uid` 3001) in the Identity & Access Management category (3).
const CLASS_UID: u32 = 3001;
const CATEGORY_UID: u32 = 3;
/// `activity_id` 4: Password Reset; 3: Password Change (a confirmed code).
const PASSWORD_RESET: u32 = 4;
const PASSWORD_CHANGE: u32 = 3;

/// What a decision on a target was, for its event (the audit line's facts and the request's
/// origin).
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// Epoch milliseconds of the decision.
    pub time_ms: u64,
    /// Lambda's request id (`metadata.uid`).
    pub request_id: &'a str,
    /// API Gateway's request id.
    pub api_request_id: Option<&'a str>,
    /// The client address API Gateway saw.
    pub source_ip: Option<&'a str>,
    /// The caller's `sub`.
    pub actor: Option<&'a str>,
    /// Whether the caller acted through an admin group.
    pub admin: bool,
    /// The target's name.
    pub target: &'a str,
    /// The target's back-end (`cognito`, `directory`, `finspace`), once known.
    pub service: Option<&'a str>,
    /// The account: its canonical name, or the one requested.
    pub username: Option<&'a str>,
    /// The mode (`code`, `generate`, `set`, `confirm`).
    pub mode: Option<&'a str>,
    /// Whether the answer replayed an earlier one.
    pub replayed: bool,
    /// The answer's status.
    pub status: u16,
    /// The contract's code (`OK` on success).
    pub code: &'a str,
    /// The problem's `reason`, where it has one (`outcome_unknown`: the reset may have
    /// happened).
    pub reason: Option<&'a str>,
}

/// The OCSF Account Change object of a decision.
pub fn account_change(decision: &Decision<'_>) -> Value {
    let activity_id = if decision.mode == Some("confirm") {
        PASSWORD_CHANGE
    } else {
        PASSWORD_RESET
    };
    let succeeded = decision.status < 400;
    let unknown = decision.reason == Some("outcome_unknown");
    // OCSF status_id: 0 Unknown, 1 Success, 2 Failure.
    let status_id = match (succeeded, unknown) {
        (_, true) => 0,
        (true, false) => 1,
        (false, false) => 2,
    };
    let status = ["Unknown", "Success", "Failure"][status_id];
    // OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High.
    let severity_id = match decision.code {
        "OK" => 1,
        // What someone trying to take an account over meets.
        "UNAUTHENTICATED"
        | "FORBIDDEN"
        | "REAUTHENTICATION_REQUIRED"
        | "TARGET_NOT_ELIGIBLE"
        | "RATE_LIMITED"
        | "IDEMPOTENCY_KEY_REUSED" => 3,
        // The service could not do its job: an operator should look.
        "INTERNAL" => 4,
        _ if unknown => 3,
        _ => 2,
    };
    let severity = ["Unknown", "Informational", "Low", "Medium", "High"][severity_id];
    let activity = if activity_id == PASSWORD_CHANGE {
        "Password Change"
    } else {
        "Password Reset"
    };
    let mut event = json!({
        "class_uid": CLASS_UID,
        "class_name": "Account Change",
        "category_uid": CATEGORY_UID,
        "category_name": "Identity & Access Management",
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": format!("Account Change: {activity}"),
        "status_id": status_id,
        "status": status,
        "severity_id": severity_id,
        "severity": severity,
        "time": decision.time_ms,
        "message": format!("{activity} on {}: {}", decision.target, decision.code),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": decision.request_id,
            "product": {
                "name": "resetgate",
                "vendor_name": "resetgate",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "user": {
            "name": decision.username.unwrap_or("unknown"),
            "domain": decision.target,
        },
        "actor": {
            "user": {
                "uid": decision.actor.unwrap_or("unknown"),
                "type_id": if decision.admin { 2 } else { 1 },
                "type": if decision.admin { "Admin" } else { "User" },
            },
        },
        "unmapped": {
            "target": decision.target,
            "service": decision.service,
            "mode": decision.mode,
            "code": decision.code,
            "admin": decision.admin,
            "replayed": decision.replayed,
            "apiRequestId": decision.api_request_id,
        },
    });
    if !succeeded {
        event["status_code"] = decision.code.into();
        if let Some(reason) = decision.reason {
            event["status_detail"] = reason.into();
        }
    }
    if let Some(ip) = decision.source_ip {
        event["src_endpoint"] = json!({"ip": ip});
    }
    event
}

/// Where events go.
pub trait EventBus: Send + Sync {
    /// Publishes one event's `detail` (a JSON object); the error is for the log.
    fn publish<'a>(&'a self, detail: String) -> BoxFuture<'a, Result<(), String>>;
}

/// An EventBridge bus: `PutEvents` with `source` `resetgate` and `detail-type` `Account
/// Change`.
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeBus {
    /// The bus named `bus` (a name or an ARN), through `client`.
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        Self { client, bus }
    }
}

impl EventBus for EventBridgeBus {
    fn publish<'a>(&'a self, detail: String) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(&self.bus)
                .source(SOURCE)
                .detail_type(DETAIL_TYPE)
                .detail(detail)
                .build();
            let output = self
                .client
                .put_events()
                .entries(entry)
                .send()
                .await
                .map_err(|error| {
                    format!(
                        "PutEvents: {}",
                        aws_smithy_types::error::display::DisplayErrorContext(&error)
                    )
                })?;
            // PutEvents answers 200 with per-entry failures.
            match output.failed_entry_count() {
                0 => Ok(()),
                _ => Err(format!(
                    "PutEvents: the entry failed: {}",
                    output
                        .entries()
                        .first()
                        .and_then(|entry| entry.error_code())
                        .unwrap_or("unknown error")
                )),
            }
        })
    }
}

/// The `events` part of the configuration document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventsConfig {
    /// The bus's name or ARN.
    pub event_bus_name: String,
}

impl EventsConfig {
    /// EventBridge bus names: 1-256 of `[/\.\-_A-Za-z0-9]`, or an ARN.
    pub fn validate(&self) -> Result<(), InitError> {
        let name = &self.event_bus_name;
        let valid = name.starts_with("arn:")
            || (!name.is_empty()
                && name.len() <= 256
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)));
        if valid {
            Ok(())
        } else {
            Err(InitError::Config(format!(
                "events.eventBusName {name:?} is not an EventBridge bus name or ARN"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(code: &'static str, status: u16) -> Decision<'static> {
        Decision {
            time_ms: 1_750_000_000_123,
            request_id: "lambda-request-1",
            api_request_id: Some("api-1"),
            source_ip: Some("198.51.100.23"),
            actor: Some("sub-helen"),
            admin: true,
            target: "app-users",
            service: Some("cognito"),
            username: Some("bob"),
            mode: Some("generate"),
            replayed: false,
            status,
            code,
            reason: None,
        }
    }

    /// The OCSF 1.1 Account Change class's required attributes, and resetgate's own.
    #[test]
    fn a_decision_is_an_ocsf_account_change() {
        let event = account_change(&decision("OK", 200));
        for required in [
            "activity_id",
            "category_uid",
            "class_uid",
            "metadata",
            "severity_id",
            "time",
            "type_uid",
            "user",
        ] {
            assert!(event.get(required).is_some(), "{required}: {event}");
        }
        assert_eq!(event["class_uid"], 3001);
        assert_eq!(event["category_uid"], 3);
        assert_eq!(event["activity_id"], 4);
        assert_eq!(event["type_uid"], 300104);
        assert_eq!(event["status_id"], 1);
        assert_eq!(event["severity_id"], 1);
        assert_eq!(event["time"], 1_750_000_000_123u64);
        assert_eq!(event["metadata"]["uid"], "lambda-request-1");
        assert_eq!(event["metadata"]["product"]["name"], "resetgate");
        assert_eq!(event["metadata"]["version"], OCSF_VERSION);
        assert_eq!(event["user"], json!({"name": "bob", "domain": "app-users"}));
        assert_eq!(event["actor"]["user"]["uid"], "sub-helen");
        assert_eq!(event["src_endpoint"]["ip"], "198.51.100.23");
        assert_eq!(event["unmapped"]["apiRequestId"], "api-1");
        assert_eq!(event["unmapped"]["admin"], true);
    }

    #[test]
    fn statuses_and_activities() {
        struct Case {
            why: &'static str,
            code: &'static str,
            status: u16,
            reason: Option<&'static str>,
            mode: &'static str,
            status_id: u64,
            activity_id: u64,
        }
        let cases = [
            Case {
                why: "a refusal is a failure",
                code: "TARGET_NOT_ELIGIBLE",
                status: 422,
                reason: None,
                mode: "generate",
                status_id: 2,
                activity_id: 4,
            },
            Case {
                why: "a reset whose outcome is unknown is neither",
                code: "UPSTREAM_UNAVAILABLE",
                status: 503,
                reason: Some("outcome_unknown"),
                mode: "set",
                status_id: 0,
                activity_id: 4,
            },
            Case {
                why: "a confirmed code is a password change",
                code: "OK",
                status: 200,
                reason: None,
                mode: "confirm",
                status_id: 1,
                activity_id: 3,
            },
        ];
        for case in cases {
            let event = account_change(&Decision {
                reason: case.reason,
                mode: Some(case.mode),
                ..decision(case.code, case.status)
            });
            assert_eq!(event["status_id"], case.status_id, "{}", case.why);
            assert_eq!(event["activity_id"], case.activity_id, "{}", case.why);
            assert_eq!(event["unmapped"]["code"], case.code, "{}", case.why);
        }
    }

    #[test]
    fn an_unknown_account_is_named_unknown() {
        let event = account_change(&Decision {
            username: None,
            ..decision("UNKNOWN_TARGET", 404)
        });
        assert_eq!(event["user"]["name"], "unknown");
    }
}
