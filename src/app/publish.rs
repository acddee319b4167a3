//! The decisions' events: built from the request's facts and published best-effort.

use super::{Facts, Outcome, PasswordResets, RequestOrigin, bounded};
use crate::{
    error::Error,
    events::{self, Decision},
    reset::Mode,
};

impl PasswordResets {
    /// A request naming `target` refused before the use case could take it (an
    /// unauthenticated caller): its outcome, and its event.
    pub async fn refused(&self, target: &str, error: Error, origin: RequestOrigin<'_>) -> Outcome {
        let facts = Facts {
            target: Some(bounded(target)),
            ..Facts::default()
        };
        let mut facts = facts;
        facts.event_publish_failed = !self.publish(&facts, Err(&error), origin).await;
        Outcome {
            facts,
            result: Err(error),
        }
    }

    /// The decision's event, best-effort: a failure is logged and counted, never answered.
    /// `false` when it could not be published (`true` where there is nothing to publish).
    pub(super) async fn publish(
        &self,
        facts: &Facts,
        result: Result<u16, &Error>,
        origin: RequestOrigin<'_>,
    ) -> bool {
        let (Some(bus), Some(target)) = (&self.events, facts.target.as_deref()) else {
            return true;
        };
        let (status, code, reason) = match result {
            Ok(status) => (status, "OK", None),
            Err(error) => {
                let spec = error.spec();
                (spec.status, spec.code, error.reason())
            }
        };
        let detail = events::account_change(&Decision {
            time_ms: self.clock.now_millis(),
            request_id: origin.request_id,
            api_request_id: origin.api_request_id,
            source_ip: origin.source_ip,
            actor: facts.actor.as_deref(),
            admin: facts.admin,
            target,
            service: facts.service,
            username: facts.username.as_deref(),
            mode: facts.mode.map(Mode::as_str),
            replayed: facts.replayed,
            status,
            code,
            reason,
        });
        match bus.publish(detail.to_string()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(
                    error = %error,
                    target,
                    metric = "EventPublishFailures",
                    "the decision's event could not be published; the answer is unchanged"
                );
                false
            }
        }
    }
}
