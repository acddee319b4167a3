//! The Lambda handler: event → command → use case → response, and the audit line.

use std::{panic::AssertUnwindSafe, time::Instant};

use futures_util::FutureExt;
use lambda_http::{Context, http::HeaderName};

use super::{
    event::{self, Incoming},
    request::parse_body,
    response::ProxyResponse,
    route::{self, Route},
};
use crate::{
    app::{
        Answer, ConfirmRequestBody, Outcome, PasswordResets, RequestOrigin, ResetCommand,
        ResetRequestBody,
    },
    audit::{self, Envelope},
    auth::Subject,
    error::Error,
    metrics::{self, RequestMetrics},
};

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The function: API Gateway events in, proxy responses out, over the [`PasswordResets`]
/// use case built once at cold start.
pub struct App {
    resets: PasswordResets,
}

impl App {
    /// The function over `resets`.
    pub fn new(resets: PasswordResets) -> Self {
        Self { resets }
    }

    /// Answers one raw invocation event. Never fails: an event that is not an API Gateway
    /// request (console test, direct invocation, unknown shape) is answered 401. Every request
    /// gets exactly one audit line.
    pub async fn handle_event(&self, event: &str, context: &Context) -> ProxyResponse {
        let started = Instant::now();
        // A panic (a bug), in decoding the event or in handling it, still gets a problem
        // response and its one audit line; the panic hook (`logging::init`) logs where it
        // happened, never its message.
        let panicked = |_| Outcome::refused(Error::internal("the request handler panicked"));
        let request = std::panic::catch_unwind(|| event::decode(event));
        let outcome = match &request {
            Ok(Some(request)) => AssertUnwindSafe(self.handle(request, context))
                .catch_unwind()
                .await
                .unwrap_or_else(panicked),
            Ok(None) => Outcome::refused(Error::Unauthenticated),
            Err(_) => Outcome::refused(Error::internal("the request handler panicked")),
        };
        let origin = match &request {
            Ok(Some(request)) => request.origin(),
            _ => event::Origin::default(),
        };
        let envelope = Envelope {
            started,
            request_id: &context.request_id,
            api_request_id: origin.api_request_id,
            source_ip: origin.source_ip,
        };
        let (response, code) = match &outcome.result {
            Ok(answer) => {
                let response = ProxyResponse::answer(answer, &context.request_id);
                audit::emit(&envelope, &outcome.facts, Ok(response.status_code));
                (response, "OK")
            }
            Err(error) => {
                if let Error::Internal(detail) = error {
                    tracing::error!(error = %detail, "request failed");
                }
                audit::emit(&envelope, &outcome.facts, Err(error));
                (
                    ProxyResponse::problem(error, &context.request_id),
                    error.code(),
                )
            }
        };
        let facts = &outcome.facts;
        metrics::emit(&RequestMetrics {
            timestamp_ms: self.resets.now_millis(),
            // Only a configured target is a dimension: a name a caller made up would be a new
            // metric (and a new cost) per request.
            target: facts.service.and(facts.target.as_deref()),
            outcome: code,
            status: response.status_code,
            reset: matches!(outcome.result, Ok(Answer::Reset { .. })),
            replayed: facts.replayed,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            backend_ms: facts.backend_ms,
            session_revocation_failed: matches!(
                &outcome.result,
                Ok(Answer::Reset { receipt, .. }) if receipt.sessions_revoked == Some(false)
            ),
            event_publish_failed: facts.event_publish_failed,
            notification_failed: facts.notification_failed,
        });
        response
    }

    async fn handle(&self, request: &Incoming, context: &Context) -> Outcome {
        let deadline = self.resets.deadline(context.deadline);
        let from = request.origin();
        let origin = RequestOrigin {
            request_id: &context.request_id,
            api_request_id: from.api_request_id,
            source_ip: from.source_ip,
        };
        // API Gateway's own routing (route key or resource, with its decoded path parameters)
        // where it names one of ours; otherwise (a `$default` route, `{proxy+}`) the path.
        let declared = request.route_template().and_then(|template| {
            route::declared(template, &request.method, |name| {
                request.path_parameters.get(name).map(String::as_str)
            })
        });
        let route = match declared
            .unwrap_or_else(|| route::route(&request.method, &request.path, request.origin().stage))
        {
            Ok(route) => route,
            Err(error) => return Outcome::refused(error),
        };
        let caller = match self.resets.authenticate(request.claims()) {
            Ok(caller) => caller,
            Err(error) => {
                return match route.target() {
                    Some(target) => self.resets.refused(target, error, origin).await,
                    None => {
                        let mut refused = Outcome::refused(error);
                        refused.facts.listing = true;
                        refused
                    }
                };
            }
        };
        let (target, subject) = match &route {
            Route::ListTargets => return self.resets.list_targets(&caller),
            Route::ResetOwn { target } => (target, Subject::Own),
            Route::ResetUser { target, username } => (target, Subject::Other(username)),
            Route::ConfirmOwn { target } => (target, Subject::Own),
        };
        let bytes = request.body.as_deref().ok_or(Error::invalid(
            "The body is flagged as base64 but is not valid base64.",
        ));
        // A confirm has a body of its own: the code and the new password, no mode.
        let body = bytes.and_then(|bytes| match route {
            Route::ConfirmOwn { .. } => {
                parse_body::<ConfirmRequestBody>(&request.headers, bytes).map(Into::into)
            }
            _ => parse_body::<ResetRequestBody>(&request.headers, bytes),
        });
        let command = ResetCommand {
            target,
            subject,
            body,
            key_headers: request
                .header_values(&IDEMPOTENCY_KEY)
                .map(|value| value.as_bytes())
                .collect(),
            deadline,
            origin,
        };
        self.resets.reset(&caller, command).await
    }
}
