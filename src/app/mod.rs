//! The use case: resetting a password, from a typed [`ResetCommand`] and the authenticated
//! [`Caller`] to an [`Outcome`]. Nothing here knows HTTP or API Gateway.
//!
//! The order of the checks is the contract's ("Who can be reset", Order): the target exists;
//! the body and the key are valid; the caller may act on the account; the account's name, the
//! mode and a chosen password are valid; then the claim and the account reads run
//! concurrently; the read's facts are checked; then the one reset call, and the record's
//! completion. The [`Outcome`] carries what the request was found to be ([`Facts`]), from which
//! the audit line is written.

mod answer;
mod command;
mod deadline;
mod publish;
mod receipt;
mod reconcile;

use std::{collections::HashMap, sync::Arc, time::Instant};

use secrecy::ExposeSecret;

pub use command::{
    Answer, ConfirmRequestBody, Facts, Outcome, RequestOrigin, ResetCommand, ResetRequestBody,
};
pub use deadline::Deadline;
pub use receipt::{ResetReceipt, TargetList, TargetView};
use reconcile::Settle;

use crate::{
    auth::{self, Caller, Grant, Subject, TokenPolicy},
    clock::Clock,
    config::{Config, TargetConfig},
    error::{Error, InitError},
    events::EventBus,
    idempotency::{self, Begin, Idempotency, IdempotencyKey, Reservation, Store},
    keys::Keyring,
    notify::Mailer,
    password,
    reset::{Account, Lookup, Mode, ResetAdapter, fold_username, is_valid_code},
};

/// The most characters of a caller-chosen name (target, username) an audit line records.
const MAX_LOGGED_NAME: usize = 128;

/// A configured target with its adapter.
struct Target {
    config: TargetConfig,
    adapter: Box<dyn ResetAdapter>,
}

/// Password resets on the configured targets: built once at cold start, shared by reference.
pub struct PasswordResets {
    targets: Vec<Target>,
    keyring: Keyring,
    groups_claim: String,
    tokens: TokenPolicy,
    idempotency: Idempotency,
    clock: Arc<dyn Clock>,
    events: Option<Box<dyn EventBus>>,
    /// The mailer and the contact the messages name.
    notifications: Option<(Box<dyn Mailer>, String)>,
}

impl PasswordResets {
    /// Wires a validated configuration to the idempotency `store`, one adapter per target
    /// (built by `adapter_for`: the composition root's, or a test's) and the `clock`.
    pub fn new<F>(
        config: Config,
        store: Box<dyn Store>,
        clock: Arc<dyn Clock>,
        mut adapter_for: F,
    ) -> Result<Self, InitError>
    where
        F: FnMut(&TargetConfig) -> Result<Box<dyn ResetAdapter>, InitError>,
    {
        let targets = config
            .targets
            .into_iter()
            .map(|config| adapter_for(&config).map(|adapter| Target { config, adapter }))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            targets,
            keyring: Keyring::new(&config.hmac_key),
            groups_claim: config.groups_claim,
            tokens: config.tokens,
            idempotency: Idempotency::new(store, config.idempotency.ttl, clock.clone()),
            clock,
            events: None,
            notifications: None,
        })
    }

    /// Tells users of resets that change their password, through `mailer`, naming `contact`
    /// as whom to call (`notifications`).
    pub fn with_notifications(mut self, mailer: Box<dyn Mailer>, contact: String) -> Self {
        self.notifications = Some((mailer, contact));
        self
    }

    /// Publishes an event of every decision on a target to `bus` (`events.eventBusName`).
    pub fn with_events(mut self, bus: Box<dyn EventBus>) -> Self {
        self.events = Some(bus);
        self
    }

    /// The caller whose token carried `claims`, if the token is one this deployment accepts.
    pub fn authenticate(&self, claims: Option<HashMap<String, String>>) -> Result<Caller, Error> {
        let caller = Caller::from_claims(claims, &self.groups_claim)?;
        auth::check_token(&caller, &self.tokens)?;
        Ok(caller)
    }

    /// Now, in epoch milliseconds, on this use case's clock.
    pub fn now_millis(&self) -> u64 {
        self.clock.now_millis()
    }

    /// The deadline of a request in an invocation ending at `invocation_ms` (epoch ms; 0 when
    /// unknown), on this use case's clock.
    pub fn deadline(&self, invocation_ms: u64) -> Deadline {
        Deadline::of_invocation(invocation_ms, self.clock.now_millis())
    }

    /// The targets `caller` may act on, and how.
    pub fn list_targets(&self, caller: &Caller) -> Outcome {
        let targets = self
            .targets
            .iter()
            .filter_map(|target| {
                auth::capabilities(caller, &target.config.access).map(|(own, admin)| TargetView {
                    name: target.config.name.clone(),
                    service: target.config.capabilities().name,
                    modes: target.config.modes.clone(),
                    own,
                    admin,
                    confirm: own && target.config.backend().confirms_codes(),
                })
            })
            .collect();
        Outcome {
            facts: Facts {
                actor: Some(caller.sub.clone()),
                listing: true,
                ..Facts::default()
            },
            result: Ok(Answer::Targets(TargetList { targets })),
        }
    }

    /// Resets a password, or says why not.
    pub async fn reset(&self, caller: &Caller, command: ResetCommand<'_>) -> Outcome {
        let mut facts = Facts {
            actor: Some(caller.sub.clone()),
            target: Some(bounded(command.target)),
            ..Facts::default()
        };
        let origin = command.origin;
        let mut published = None;
        let result = self.run(caller, command, &mut facts, &mut published).await;
        let published = match published {
            Some(published) => published,
            None => {
                let status = match &result {
                    Ok(Answer::Reset { status, .. }) => Ok(*status),
                    Ok(Answer::Replay(stored)) => Ok(stored.status),
                    Ok(Answer::Targets(_)) => Ok(200),
                    Err(error) => Err(error),
                };
                self.publish(&facts, status, origin).await
            }
        };
        facts.event_publish_failed = !published;
        Outcome { facts, result }
    }

    async fn run(
        &self,
        caller: &Caller,
        command: ResetCommand<'_>,
        facts: &mut Facts,
        published: &mut Option<bool>,
    ) -> Result<Answer, Error> {
        let target = self
            .targets
            .iter()
            .find(|t| t.config.name == command.target)
            .ok_or(Error::UnknownTarget)?;
        let config = &target.config;
        facts.service = Some(config.capabilities().name);
        let body = command.body?;
        facts.mode = Some(body.mode);
        let key = IdempotencyKey::from_request(command.key_headers, body.client_token.as_ref())?;
        let key_ref = key.reference(&self.keyring, &caller.sub);
        facts.idempotency_key_ref = Some(key_ref.clone());

        // The account the request names, for the audit line even when it is refused.
        facts.username = match command.subject {
            Subject::Own => caller
                .claim(&config.access.username_claim)
                .map(str::to_owned),
            Subject::Other(username) => Some(bounded(username)),
        };
        let grant = auth::authorize(caller, &config.access, command.subject)?;
        facts.admin = grant.admin;
        config.backend().check_username(&grant.username)?;
        auth::check_not_protected(&config.access, &grant.username)?;
        check_mode(config, &body)?;
        // Self-service `generate` and `set` hand the token holder a working credential: a
        // stale or stolen token must not get one (`code` goes to the verified channel).
        if let (false, Mode::Generate | Mode::Set, Some(max_age)) =
            (grant.admin, body.mode, config.access.max_auth_age)
        {
            auth::check_recent_sign_in(caller, max_age, self.clock.now_secs())?;
        }
        check_password(config, &body, &grant.username, &[])?;

        // The fingerprint is of the request as sent; the claim counts the name as typed.
        let fingerprint = idempotency::fingerprint(
            &self.keyring,
            &config.name,
            &grant.username,
            body.mode.as_str(),
            body.password.as_ref(),
            body.code.as_ref(),
            body.client_metadata.as_ref(),
        );
        let record_id = idempotency::record_id(&key_ref);
        let limits = idempotency::rate_limits(
            &self.keyring,
            &config.name,
            &caller.sub,
            &fold_username(&grant.username),
            config.rate_limits,
        );

        // The claim and the account reads run concurrently: one round trip of latency for
        // both. A replay or a request in progress is answered whatever the reads found; a
        // claim whose reads refuse is released (contract: "Who can be reset", Order).
        let is_privileged_group = |group: &str| config.access.is_privileged_group(group);
        let lookup = Lookup {
            username: &grant.username,
            groups: grant.admin,
            is_privileged_group: &is_privileged_group,
            deadline: command.deadline.reads(),
        };
        let (begun, (account, read_time)) = tokio::join!(
            self.idempotency
                .begin(&record_id, &fingerprint, command.deadline.end_ms, &limits),
            async {
                let started = Instant::now();
                let account = target.adapter.inspect(&lookup).await;
                (account, started.elapsed())
            },
        );
        facts.backend_ms = Some(millis(read_time));
        let (reservation, unanswered_at) = match begun? {
            Begin::Replay(stored) => {
                facts.replayed = true;
                return Ok(Answer::Replay(stored));
            }
            Begin::Execute(reservation) => (reservation, None),
            Begin::Reconcile {
                claim,
                attempted_at,
            } => (claim, Some(attempted_at)),
        };
        // From here on the reservation is completed, released, or (after an unanswered reset
        // call) marked unknown, on every path.
        let counted = unanswered_at.is_none();
        let (username, account) = match self
            .admit(config, &grant, &body, account, counted, facts)
            .await
        {
            Ok(admitted) => admitted,
            Err(error) => {
                self.release(reservation, unanswered_at).await;
                return Err(error);
            }
        };

        let (outcome, reservation) = self
            .settle(
                target,
                Settle {
                    username: &username,
                    body: &body,
                    account: &account,
                    unanswered_at,
                    request: (&key_ref, &fingerprint),
                    deadline: &command.deadline,
                    read_time,
                },
                reservation,
                facts,
            )
            .await?;
        let mut notification_failed = false;
        let answer = self
            .answer(
                target,
                (&username, body.mode, outcome, account.email.as_deref()),
                reservation,
                (&*facts, command.origin),
                (published, &mut notification_failed),
            )
            .await;
        facts.notification_failed = notification_failed;
        Ok(answer)
    }

    /// Gives a reservation back after a refusal before the reset call: released, or, where
    /// an earlier call went unanswered, marked unknown again for the next retry.
    async fn release(&self, reservation: Reservation, unanswered_at: Option<u64>) {
        match unanswered_at {
            Some(attempted_at) => {
                self.idempotency
                    .mark_unknown(reservation, attempted_at)
                    .await;
            }
            None => self.idempotency.abandon(reservation).await,
        }
    }

    /// What the reads found, for a reserved request: the account and its canonical name, once
    /// it is known to be eligible, counted (unless `counted` is off: a retry spends no budget)
    /// against its own per-account limit where the request named it otherwise (an alias,
    /// e-mail, phone, `sub`), and with a chosen password checked against it too.
    async fn admit(
        &self,
        config: &TargetConfig,
        grant: &Grant,
        body: &ResetRequestBody,
        account: Result<Account, Error>,
        counted: bool,
        facts: &mut Facts,
    ) -> Result<(String, Account), Error> {
        let account = account?;
        let username = account.name(&grant.username).to_owned();
        if username != grant.username {
            facts.requested_username = Some(grant.username.clone());
            facts.username = Some(username.clone());
        }
        if account.groups_incomplete {
            tracing::warn!(
                target = %config.name,
                "nested groups were not all read within the request's time or lookup bound; the admin reset is refused"
            );
        }
        auth::check_eligible(&config.access, &account, &grant.username, grant.admin)?;
        // The chosen password once more, against what only the read knows: the canonical name
        // and the user's names and e-mail address.
        let renamed = fold_username(&username) != fold_username(&grant.username);
        if renamed || !account.personal.is_empty() {
            check_password(config, body, &username, &account.personal)?;
        }
        if renamed && counted {
            let limit = idempotency::account_limit(
                &self.keyring,
                &config.name,
                &fold_username(&username),
                config.rate_limits,
            );
            self.idempotency.count_also(&limit).await?;
        }
        Ok((username, account))
    }
}

/// A duration in whole milliseconds.
fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A caller-chosen name as an audit line records it: at most [`MAX_LOGGED_NAME`] characters.
fn bounded(name: &str) -> String {
    name.chars().take(MAX_LOGGED_NAME).collect()
}

/// The mode is enabled, its fields are present and well-formed, and no other field is
/// (before any back-end call). A confirm is enabled by the target's recovery client, not by
/// its `modes`.
fn check_mode(target: &TargetConfig, body: &ResetRequestBody) -> Result<(), Error> {
    let enabled = match body.mode {
        Mode::Confirm => target.backend().confirms_codes(),
        mode => target.modes.contains(&mode),
    };
    if !enabled {
        return Err(Error::ModeNotSupported);
    }
    match (body.mode, &body.password, &body.code) {
        (Mode::Set, None, _) => return Err(Error::invalid("Mode set needs a password.")),
        (Mode::Code | Mode::Generate, Some(_), _) => {
            return Err(Error::invalid("A password is only accepted with mode set."));
        }
        (Mode::Confirm, Some(_), Some(code)) if !is_valid_code(code.expose_secret()) => {
            return Err(Error::invalid(
                "The code must be 1 to 2048 characters without white space.",
            ));
        }
        (Mode::Confirm, Some(_), Some(_)) => {}
        (Mode::Confirm, _, _) => {
            return Err(Error::invalid("A confirm needs a code and a password."));
        }
        (_, _, Some(_)) => return Err(Error::invalid("A code is only accepted by a confirm.")),
        _ => {}
    }
    if body.client_metadata.is_some()
        && !(body.mode == Mode::Code && target.capabilities().client_metadata)
    {
        return Err(Error::invalid(
            "clientMetadata is only accepted with mode code on Cognito targets.",
        ));
    }
    Ok(())
}

/// A chosen password against the target's policy, the common-password list and the context.
fn check_password(
    target: &TargetConfig,
    body: &ResetRequestBody,
    username: &str,
    personal: &[String],
) -> Result<(), Error> {
    match &body.password {
        Some(chosen) => target.passwords.check(
            chosen,
            password::Context {
                username,
                target: &target.name,
                personal,
            },
        ),
        None => Ok(()),
    }
}
