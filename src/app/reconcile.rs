//! The reset call of a reserved request, and what a retry after an unanswered one does
//! (contract: Errors; docs/IDEMPOTENCY.md): the record is completed by the caller, released
//! here when nothing changed, or kept, marked unknown, when the call may have taken effect.

use std::time::{Duration, Instant};

use super::{Deadline, Facts, PasswordResets, ResetRequestBody, Target, millis};
use crate::{
    error::Error,
    idempotency::Reservation,
    reset::{Account, Mode, ResetOutcome, ResetRequest},
};

/// What [`PasswordResets::settle`] needs of a reserved, admitted request.
pub(super) struct Settle<'a> {
    /// The account's canonical name.
    pub username: &'a str,
    /// The request.
    pub body: &'a ResetRequestBody,
    /// What the reads found (before this call).
    pub account: &'a Account,
    /// When an earlier call of this request went unanswered (epoch ms), if one did.
    pub unanswered_at: Option<u64>,
    /// The key's reference and the request's fingerprint.
    pub request: (&'a str, &'a str),
    /// The request's deadline.
    pub deadline: &'a Deadline,
    /// How long the reads took.
    pub read_time: Duration,
}

impl PasswordResets {
    /// The reset's outcome, with the reservation still held for its completion; on failure
    /// the reservation is released or marked unknown here.
    ///
    /// After an unanswered call, a `code` or `set` the back-end shows done is answered without
    /// a second call. A confirm is sent again instead: its code decides, and a code changes
    /// nothing twice. A wrong code then is certain (a mismatch never changed anything), while a
    /// spent or expired one may be the first call's doing: done where the account shows the
    /// change, otherwise still unknown (the record kept, never a success or `INVALID_CODE`
    /// that could be wrong).
    pub(super) async fn settle(
        &self,
        target: &Target,
        request: Settle<'_>,
        reservation: Reservation,
        facts: &mut Facts,
    ) -> Result<(ResetOutcome, Reservation), Error> {
        let mode = request.body.mode;
        let shows_done = |at: u64| request.account.shows_reset(mode, at);
        if let Some(outcome) = request
            .unanswered_at
            .filter(|at| mode != Mode::Confirm && shows_done(*at))
            .and_then(|_| ResetOutcome::already_done(mode))
        {
            return Ok((outcome, reservation));
        }
        let (result, reset_time) = self.call_reset(target, &request).await;
        facts.backend_ms = Some(millis(request.read_time + reset_time));
        match (result, request.unanswered_at) {
            (Ok(outcome), _) => Ok((outcome, reservation)),
            (Err((Error::InvalidCode { expired: true }, _)), Some(first)) => {
                match ResetOutcome::already_done(mode).filter(|_| shows_done(first)) {
                    Some(outcome) => Ok((outcome, reservation)),
                    None => {
                        self.idempotency.mark_unknown(reservation, first).await;
                        Err(Error::OutcomeUnknown {
                            retry_after_secs: crate::aws::OUTCOME_UNKNOWN_RETRY_AFTER_SECS,
                        })
                    }
                }
            }
            (Err((error @ Error::OutcomeUnknown { .. }, attempted_at)), _) => {
                // Sent, unanswered: keep the record, so the retry reconciles.
                self.idempotency
                    .mark_unknown(reservation, attempted_at)
                    .await;
                Err(error)
            }
            (Err((error, _)), _) => {
                // Nothing changed, or repeating is safe (docs/IDEMPOTENCY.md): free the key.
                self.idempotency.abandon(reservation).await;
                Err(error)
            }
        }
    }

    /// The one reset call, and how long the back-end took. On failure, the error and when the
    /// call was sent (epoch ms: an unknown outcome is reconciled from then).
    async fn call_reset(
        &self,
        target: &Target,
        request: &Settle<'_>,
    ) -> (Result<ResetOutcome, (Error, u64)>, Duration) {
        let (body, (key_ref, fingerprint)) = (request.body, request.request);
        // FinSpace deduplicates by `clientToken` for ten minutes: bound to this request (key and
        // fingerprint), so a reused key for another user can never meet an earlier result.
        let client_token = self.keyring.digest_hex(
            "client-token",
            &[key_ref.as_bytes(), fingerprint.as_bytes()],
        );
        let reset = ResetRequest {
            username: request.username,
            mode: body.mode,
            password: body.password.as_ref(),
            code: body.code.as_ref(),
            client_metadata: body.client_metadata.as_ref(),
            generated_password_length: target.config.passwords.generated_chars,
            client_token: &client_token,
            deadline: request.deadline.reset(),
        };
        let attempted_at = self.clock.now_millis();
        let started = Instant::now();
        let result = target.adapter.reset(&reset).await;
        (
            result.map_err(|error| (error, attempted_at)),
            started.elapsed(),
        )
    }
}
