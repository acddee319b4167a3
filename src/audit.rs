//! The audit line: one JSON log line per request, on every path, with `"audit": true`.
//!
//! The event names follow the OWASP Logging Vocabulary. A record is filled in as the request
//! is understood and emitted once at the end ([`AuditRecord::emit`]). It holds no field that
//! could carry a secret: there is no place for a password, a token, a header or a body, and
//! the idempotency key appears only as its keyed hash.

use std::time::Instant;

use crate::{
    error::Error,
    reset::{Mode, Service},
};

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

/// What is known about a request, for its audit line.
#[derive(Debug)]
pub struct AuditRecord {
    started: Instant,
    /// Lambda's request id (also the problem body's `requestId`).
    pub request_id: String,
    /// API Gateway's request id.
    pub api_request_id: Option<String>,
    /// The client address API Gateway saw.
    pub source_ip: Option<String>,
    /// The caller's `sub`.
    pub actor: Option<String>,
    /// Whether the caller acted through an admin group.
    pub admin: bool,
    /// Whether the request was `GET /v1/targets`.
    pub listing: bool,
    /// The target's name (only once it is known to exist).
    pub target: Option<String>,
    /// The target's service.
    pub service: Option<Service>,
    /// The account acted on: its canonical name once the back-end resolved it.
    pub username: Option<String>,
    /// The account as the request named it, where that differed from the canonical name.
    pub requested_username: Option<String>,
    /// The requested mode.
    pub mode: Option<Mode>,
    /// Whether the answer was a replay of an earlier one.
    pub replayed: bool,
    /// The keyed hash of the idempotency key.
    pub idempotency_key_ref: Option<String>,
}

impl AuditRecord {
    /// A record for the invocation `request_id`, started now.
    pub fn new(request_id: &str) -> Self {
        Self {
            started: Instant::now(),
            request_id: request_id.to_owned(),
            api_request_id: None,
            source_ip: None,
            actor: None,
            admin: false,
            listing: false,
            target: None,
            service: None,
            username: None,
            requested_username: None,
            mode: None,
            replayed: false,
            idempotency_key_ref: None,
        }
    }

    /// The event for this request's outcome.
    pub fn event(&self, outcome: Result<u16, &Error>) -> AuditEvent {
        match outcome {
            Err(error) if error.is_authz_failure() => AuditEvent::AuthzFail,
            _ if self.listing => AuditEvent::TargetsList,
            Err(_) => AuditEvent::PasswordChangeFail,
            Ok(_) if self.admin => AuditEvent::AuthzAdmin,
            Ok(_) => AuditEvent::PasswordChange,
        }
    }

    /// Writes the audit line for a request answered with `outcome` (the success status, or
    /// the error).
    pub fn emit(&self, outcome: Result<u16, &Error>) {
        let event = self.event(outcome).as_str();
        let (result, code, status) = match outcome {
            Ok(status) => ("success", "OK", status),
            Err(error) => ("failure", error.code(), error.status()),
        };
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            target: "audit",
            audit = true,
            event,
            outcome = result,
            code,
            status,
            actor = self.actor.as_deref(),
            admin = self.admin,
            target = self.target.as_deref(),
            service = self.service.map(Service::as_str),
            username = self.username.as_deref(),
            requestedUsername = self.requested_username.as_deref(),
            mode = self.mode.map(Mode::as_str),
            replayed = self.replayed,
            idempotencyKeyRef = self.idempotency_key_ref.as_deref(),
            requestId = self.request_id.as_str(),
            apiRequestId = self.api_request_id.as_deref(),
            sourceIp = self.source_ip.as_deref(),
            durationMs = duration_ms,
            "audit"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_table() {
        let mut record = AuditRecord::new("r");
        assert_eq!(record.event(Ok(200)), AuditEvent::PasswordChange);
        assert_eq!(
            record.event(Err(&Error::UserNotFound)),
            AuditEvent::PasswordChangeFail
        );
        assert_eq!(
            record.event(Err(&Error::Forbidden("x"))),
            AuditEvent::AuthzFail
        );
        assert_eq!(
            record.event(Err(&Error::Unauthenticated)),
            AuditEvent::AuthzFail
        );
        assert_eq!(
            record.event(Err(&Error::ReauthenticationRequired)),
            AuditEvent::AuthzFail
        );
        record.admin = true;
        assert_eq!(record.event(Ok(200)), AuditEvent::AuthzAdmin);
        assert_eq!(
            record.event(Err(&Error::UserNotFound)),
            AuditEvent::PasswordChangeFail
        );
        let mut listing = AuditRecord::new("r");
        listing.listing = true;
        assert_eq!(listing.event(Ok(200)), AuditEvent::TargetsList);
        assert_eq!(
            listing.event(Err(&Error::Unauthenticated)),
            AuditEvent::AuthzFail
        );
    }
}
