//! A successful reset's answer and what follows it: the record's completion, the end of the
//! user's sessions, the decision's event and the user's notification, all concurrent (one
//! round trip after the reset call).

use super::{Answer, Facts, PasswordResets, RequestOrigin, ResetReceipt, Target, receipt};
use crate::{
    idempotency::{Reservation, StoredResponse},
    notify::{self, Notice},
    reset::{Mode, ResetOutcome},
};

impl PasswordResets {
    /// The success answer of a reset, recorded for replay (without its password), with the
    /// account's sessions ended where its password changed and the decision's event: the
    /// completion, the sign-out and the event run concurrently (one round trip after the reset
    /// call).
    pub(super) async fn answer(
        &self,
        target: &Target,
        (username, mode, outcome, email): (&str, Mode, ResetOutcome, Option<&str>),
        reservation: Reservation,
        (facts, origin): (&Facts, RequestOrigin<'_>),
        (published, notification_failed): (&mut Option<bool>, &mut bool),
    ) -> Answer {
        let status = if mode == Mode::Code { 202 } else { 200 };
        let mut receipt = ResetReceipt::new(&target.config.name, username, mode, outcome);
        let stored = StoredResponse {
            status,
            body: receipt.replay_body().unwrap_or_default(),
            password_delivered: receipt.password.is_some(),
        };
        // `code` changes no password yet: the sessions end when the code is used.
        let sign_out = (mode != Mode::Code)
            .then(|| target.adapter.revoke_sessions(username))
            .flatten();
        let notified = async {
            match (mode, email, &self.notifications) {
                (Mode::Generate | Mode::Set | Mode::Confirm, Some(to), Some((mailer, contact))) => {
                    let at =
                        receipt::rfc3339(i64::try_from(self.clock.now_secs()).unwrap_or(i64::MAX));
                    let (subject, body) = notify::message(&Notice {
                        target: &target.config.name,
                        username,
                        mode: mode.as_str(),
                        at: &at,
                        source_ip: origin.source_ip,
                        by_admin: facts.admin,
                        contact,
                    });
                    match mailer.send(to, subject, body).await {
                        Ok(()) => true,
                        Err(error) => {
                            tracing::error!(
                                target = %target.config.name,
                                error = %error,
                                metric = "NotificationFailures",
                                "the user could not be told of the reset; the answer is unchanged"
                            );
                            false
                        }
                    }
                }
                _ => true,
            }
        };
        let ((), revoked, event, notified) = tokio::join!(
            self.idempotency.complete(reservation, &stored),
            async {
                match sign_out {
                    Some(call) => Some(call.await),
                    None => None,
                }
            },
            self.publish(facts, Ok(status), origin),
            notified
        );
        *notification_failed = !notified;
        *published = Some(event);
        receipt.sessions_revoked = revoked.map(|result| match result {
            Ok(()) => true,
            Err(error) => {
                // The password changed; the answer says the sessions did not end, never fails.
                tracing::error!(
                    target = %target.config.name,
                    error = %error,
                    metric = "SessionRevocationFailures",
                    "the password was reset but the account's sessions could not be revoked; its refresh tokens still work until the sign-out is repeated (AdminUserGlobalSignOut)"
                );
                false
            }
        });
        Answer::Reset { status, receipt }
    }
}
