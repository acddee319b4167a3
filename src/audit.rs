//! The audit line: one JSON log line per request, on every path, with `"audit": true`.
//!
//! The event names follow the OWASP Logging Vocabulary. The line is written once, at the end
//! ([`emit`]), from the use case's [`Facts`] and the request's [`Envelope`]. Neither has a
//! field that could carry a secret: there is no place for a password, a token, a header or a
//! body, and the idempotency key appears only as its keyed hash.

use std::time::Instant;

use crate::{app::Facts, error::Error, reset::Mode};

/// The `event` of an audit line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// A user's own password was reset (`authn_password_change`).
    PasswordChange,
    /// A reset was attempted and failed for a reason other than authorization.
    PasswordChangeFail,
    /// The caller was not authenticated or not allowed (`authz_fail`).
    AuthzFail,
    /// An admin reset another user's password (`authz_admin`).
    AuthzAdmin,
    /// The caller listed the targets they may act on (`targets_list`, our addition).
    TargetsList,
}

impl AuditEvent {
    /// The event's name in the audit line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChange => "authn_password_change",
            Self::PasswordChangeFail => "authn_password_change_fail",
            Self::AuthzFail => "authz_fail",
            Self::AuthzAdmin => "authz_admin",
            Self::TargetsList => "targets_list",
        }
    }
}

/// Where a request came from: what the audit line records besides the [`Facts`].
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// When the invocation started.
    pub started: Instant,
    /// Lambda's request id (also the problem body's `requestId`).
    pub request_id: &'a str,
    /// API Gateway's request id.
    pub api_request_id: Option<&'a str>,
    /// The client address API Gateway saw.
    pub source_ip: Option<&'a str>,
}

/// The event for a request found to be `facts`, answered with `outcome` (the success status,
/// or the error).
pub fn event(facts: &Facts, outcome: Result<u16, &Error>) -> AuditEvent {
    match outcome {
        Err(error) if error.is_authz_failure() => AuditEvent::AuthzFail,
        _ if facts.listing => AuditEvent::TargetsList,
        Err(_) => AuditEvent::PasswordChangeFail,
        Ok(_) if facts.admin => AuditEvent::AuthzAdmin,
        Ok(_) => AuditEvent::PasswordChange,
    }
}

/// Writes the audit line of a request: its envelope, what it was found to be, and how it was
/// answered.
pub fn emit(envelope: &Envelope<'_>, facts: &Facts, outcome: Result<u16, &Error>) {
    let event = event(facts, outcome).as_str();
    let (result, code, status) = match outcome {
        Ok(status) => ("success", "OK", status),
        Err(error) => {
            let spec = error.spec();
            ("failure", spec.code, spec.status)
        }
    };
    let duration_ms = u64::try_from(envelope.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "audit",
        audit = true,
        event,
        outcome = result,
        code,
        status,
        actor = facts.actor.as_deref(),
        admin = facts.admin,
        target = facts.target.as_deref(),
        service = facts.service,
        username = facts.username.as_deref(),
        requestedUsername = facts.requested_username.as_deref(),
        mode = facts.mode.map(Mode::as_str),
        replayed = facts.replayed,
        idempotencyKeyRef = facts.idempotency_key_ref.as_deref(),
        requestId = envelope.request_id,
        apiRequestId = envelope.api_request_id,
        sourceIp = envelope.source_ip,
        durationMs = duration_ms,
        "audit"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_table() {
        let mut record = Facts::default();
        assert_eq!(event(&record, Ok(200)), AuditEvent::PasswordChange);
        assert_eq!(
            event(&record, Err(&Error::UserNotFound)),
            AuditEvent::PasswordChangeFail
        );
        assert_eq!(
            event(&record, Err(&Error::Forbidden("x"))),
            AuditEvent::AuthzFail
        );
        assert_eq!(
            event(&record, Err(&Error::Unauthenticated)),
            AuditEvent::AuthzFail
        );
        assert_eq!(
            event(&record, Err(&Error::ReauthenticationRequired)),
            AuditEvent::AuthzFail
        );
        record.admin = true;
        assert_eq!(event(&record, Ok(200)), AuditEvent::AuthzAdmin);
        assert_eq!(
            event(&record, Err(&Error::UserNotFound)),
            AuditEvent::PasswordChangeFail
        );
        let listing = Facts {
            listing: true,
            ..Facts::default()
        };
        assert_eq!(event(&listing, Ok(200)), AuditEvent::TargetsList);
        assert_eq!(
            event(&listing, Err(&Error::Unauthenticated)),
            AuditEvent::AuthzFail
        );
    }
}
