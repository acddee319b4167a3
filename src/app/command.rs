//! What the use case takes (a [`ResetCommand`] with its [`ResetRequestBody`]) and what it
//! returns (an [`Outcome`]: the [`Answer`] or the error, and the request's [`Facts`]).

use std::collections::HashMap;

use secrecy::SecretString;
use serde::Deserialize;

use super::{Deadline, ResetReceipt, TargetList};
use crate::{auth::Subject, error::Error, idempotency::StoredResponse, reset::Mode};

/// The body of `POST .../password-reset`. Unknown fields are refused. `Debug` never shows
/// the password or the token (they are [`SecretString`]s from the moment they are parsed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetRequestBody {
    /// What to do.
    pub mode: Mode,
    /// The new password, with `set` only.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Cognito `ClientMetadata`, with `code` on Cognito targets only.
    #[serde(default)]
    pub client_metadata: Option<HashMap<String, String>>,
    /// The idempotency key, instead of the `Idempotency-Key` header.
    #[serde(default)]
    pub client_token: Option<SecretString>,
    /// A confirm's code: never read from a reset's body (a confirm's has its own type,
    /// [`ConfirmRequestBody`]).
    #[serde(skip)]
    pub code: Option<SecretString>,
}

/// The body of `POST .../password-reset/confirm`: the code the user received and their new
/// password, both secrets from the moment they are parsed. Unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfirmRequestBody {
    /// The code Cognito sent the user.
    pub code: SecretString,
    /// The new password.
    pub password: SecretString,
    /// The idempotency key, instead of the `Idempotency-Key` header.
    #[serde(default)]
    pub client_token: Option<SecretString>,
}

impl From<ConfirmRequestBody> for ResetRequestBody {
    /// A confirm is a reset in [`Mode::Confirm`]: the same key, screen, limits and record.
    fn from(body: ConfirmRequestBody) -> Self {
        Self {
            mode: Mode::Confirm,
            password: Some(body.password),
            client_metadata: None,
            client_token: body.client_token,
            code: Some(body.code),
        }
    }
}

/// One reset, as the caller asked for it.
#[derive(Debug)]
pub struct ResetCommand<'a> {
    /// The target's name, as requested.
    pub target: &'a str,
    /// Whose account.
    pub subject: Subject<'a>,
    /// The body, or why it could not be read (answered once the target is known to exist).
    pub body: Result<ResetRequestBody, Error>,
    /// Every value of the `Idempotency-Key` header the caller sent.
    pub key_headers: Vec<&'a [u8]>,
    /// When the request must be answered.
    pub deadline: Deadline,
    /// Where the request came from (for its event).
    pub origin: RequestOrigin<'a>,
}

/// Where a request came from, as the invocation and API Gateway recorded it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    /// Lambda's request id.
    pub request_id: &'a str,
    /// API Gateway's request id.
    pub api_request_id: Option<&'a str>,
    /// The client address API Gateway saw.
    pub source_ip: Option<&'a str>,
}

/// What a request was found to be: the audit line's facts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The caller's `sub`, once authenticated.
    pub actor: Option<String>,
    /// Whether the caller acted through an admin group.
    pub admin: bool,
    /// Whether the request listed the targets.
    pub listing: bool,
    /// The target's name as requested (bounded), also when no such target exists.
    pub target: Option<String>,
    /// The target's back-end, once the target is known.
    pub service: Option<&'static str>,
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
    /// Time spent waiting on the back-end's calls (the reads, the reset, the sign-out).
    pub backend_ms: Option<u64>,
    /// Whether the decision's event could not be published.
    pub event_publish_failed: bool,
    /// Whether the user's notification could not be sent.
    pub notification_failed: bool,
}

/// A successful answer.
#[derive(Debug)]
pub enum Answer {
    /// A reset was made (or reconciled): 200, or 202 for a code.
    Reset {
        /// The HTTP status.
        status: u16,
        /// The body.
        receipt: ResetReceipt,
    },
    /// An earlier answer, replayed (its status and body, without a password).
    Replay(StoredResponse),
    /// The targets the caller may act on.
    Targets(TargetList),
}

/// How a request ended, and what it was found to be.
#[derive(Debug)]
pub struct Outcome {
    /// The audit line's facts.
    pub facts: Facts,
    /// The answer, or the error.
    pub result: Result<Answer, Error>,
}

impl Outcome {
    /// A request refused before the use case knew anything of it.
    pub fn refused(error: Error) -> Self {
        Self {
            facts: Facts::default(),
            result: Err(error),
        }
    }
}
