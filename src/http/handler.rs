//! The request pipeline: event → route → caller → target → body and key → authorization →
//! mode checks → adapter → response, with the audit record filled in along the way.

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt;

use lambda_http::{Context, http::HeaderName, request::RequestContext};

use super::{
    event::{self, Incoming},
    request::{ResetBody as Body, parse_body},
    response::{ProxyResponse, ResetBody, TargetList, TargetView},
    route::{self, Route, route},
};
use crate::{
    audit::AuditRecord,
    auth::{self, Caller, Subject},
    config::{Config, TargetConfig, TokenPolicy},
    error::Error,
    idempotency::{
        self, Begin, Clock, Idempotency, IdempotencyKey, Store, StoredResponse, SystemClock,
    },
    keys::Keyring,
    password,
    reset::{Lookup, Mode, ResetAdapter, ResetRequest, Service},
};

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The most characters of a caller-chosen name (target, username) an audit line records.
const MAX_LOGGED_NAME: usize = 128;

/// A configured target with its adapter.
struct Target {
    config: TargetConfig,
    adapter: Box<dyn ResetAdapter>,
}

/// Everything a request needs, built once at cold start and shared by reference.
pub struct App {
    targets: Vec<Target>,
    keyring: Keyring,
    groups_claim: String,
    tokens: TokenPolicy,
    idempotency: Idempotency,
}

impl App {
    /// Wires a validated configuration to the idempotency `store` and one adapter per target,
    /// built by `adapter_for` (production: [`crate::reset::adapter_for`]; tests: mocks).
    pub fn new<F>(config: Config, store: Box<dyn Store>, adapter_for: F) -> Result<Self, String>
    where
        F: FnMut(&TargetConfig) -> Result<Box<dyn ResetAdapter>, String>,
    {
        Self::with_clock(config, store, Arc::new(SystemClock), adapter_for)
    }

    /// [`App::new`] with another clock (tests of expiry).
    pub fn with_clock<F>(
        config: Config,
        store: Box<dyn Store>,
        clock: Arc<dyn Clock>,
        mut adapter_for: F,
    ) -> Result<Self, String>
    where
        F: FnMut(&TargetConfig) -> Result<Box<dyn ResetAdapter>, String>,
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
            idempotency: Idempotency::new(store, config.idempotency.ttl, clock),
        })
    }

    /// Answers one raw invocation event. Never fails: an event that is not an API Gateway
    /// request (console test, direct invocation, unknown shape) is answered 401.
    pub async fn handle_event(&self, event: &str, context: &Context) -> ProxyResponse {
        let mut audit = AuditRecord::new(&context.request_id);
        // A panic (a bug), in decoding the event or in handling it, still gets a problem
        // response and its one audit line; the panic hook (`logging::init`) logs where it
        // happened, never its message.
        let panicked = |_| Err(Error::internal("the request handler panicked"));
        let result = match std::panic::catch_unwind(|| event::decode(event)) {
            Ok(Some(request)) => {
                AssertUnwindSafe(self.handle(&request, context.deadline, &mut audit))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(panicked)
            }
            Ok(None) => Err(Error::Unauthenticated),
            Err(panic) => panicked(panic),
        };
        match result {
            Ok(response) => {
                audit.emit(Ok(response.status_code));
                response
            }
            Err(error) => {
                if let Error::Internal(detail) = &error {
                    tracing::error!(error = %detail, "request failed");
                }
                audit.emit(Err(&error));
                ProxyResponse::problem(&error, &context.request_id)
            }
        }
    }

    async fn handle(
        &self,
        request: &Incoming,
        invocation_deadline_ms: u64,
        audit: &mut AuditRecord,
    ) -> Result<ProxyResponse, Error> {
        let deadline = Deadline::of_invocation(invocation_deadline_ms);
        let context = Some(&request.context);
        let stage = note_context(context, audit);
        // API Gateway's own routing (route key or resource, with its decoded path parameters)
        // where it names one of ours; otherwise (a `$default` route, `{proxy+}`) the path.
        let declared = declared_route_template(context).and_then(|template| {
            route::declared(template, &request.method, |name| {
                request.path_parameters.get(name).map(String::as_str)
            })
        });
        let route = match declared {
            Some(route) => route?,
            None => route(&request.method, &request.path, stage)?,
        };
        audit.listing = route == Route::ListTargets;

        let caller = Caller::from_context(context, &self.groups_claim)?;
        auth::check_token(&caller, &self.tokens)?;
        audit.actor = Some(caller.sub.clone());

        let (target_name, subject) = match &route {
            Route::ListTargets => return self.list_targets(&caller, &audit.request_id),
            Route::ResetOwn { target } => (target, Subject::Own),
            Route::ResetUser { target, username } => (target, Subject::Other(username)),
        };
        // The requested name, also when no such target exists (bounded: it is the caller's).
        audit.target = Some(target_name.chars().take(MAX_LOGGED_NAME).collect());
        let target = self
            .targets
            .iter()
            .find(|t| t.config.name == *target_name)
            .ok_or(Error::UnknownTarget)?;
        audit.service = Some(target.config.service());

        let bytes = request.body.as_deref().ok_or(Error::invalid(
            "The body is flagged as base64 but is not valid base64.",
        ))?;
        let body = parse_body(&request.headers, bytes)?;
        audit.mode = Some(body.mode);
        let key = IdempotencyKey::from_request(
            request
                .header_values(&IDEMPOTENCY_KEY)
                .map(|v| v.as_bytes()),
            body.client_token.as_ref(),
        )?;
        let key_ref = key.reference(&self.keyring, &caller.sub);
        audit.idempotency_key_ref = Some(key_ref.clone());

        // The account the request names, for the audit line even when it is refused.
        audit.username = match subject {
            Subject::Own => caller
                .claim(&target.config.username_claim)
                .map(str::to_owned),
            Subject::Other(username) => Some(username.chars().take(MAX_LOGGED_NAME).collect()),
        };
        let grant = auth::authorize(&caller, &target.config, subject)?;
        audit.admin = grant.admin;
        target.adapter.check_username(&grant.username)?;
        auth::check_not_protected(&target.config, &grant.username)?;
        check_mode(&target.config, &body)?;
        // Self-service `generate` and `set` hand the token holder a working credential: a
        // stale or stolen token must not get one (`code` goes to the verified channel).
        if let (false, Mode::Generate | Mode::Set, Some(max_age)) =
            (grant.admin, body.mode, target.config.max_auth_age)
        {
            auth::check_recent_sign_in(&caller, max_age, now_epoch_secs())?;
        }
        check_password(&target.config, &body, &grant.username, &[])?;

        // The fingerprint is of the request as sent; the claim counts the name as typed.
        let fingerprint = idempotency::fingerprint(
            &self.keyring,
            &target.config.name,
            &grant.username,
            body.mode,
            body.password.as_ref(),
            body.client_metadata.as_ref(),
        );
        let record_id = idempotency::record_id(&key_ref);
        let limits = idempotency::rate_limits(
            &self.keyring,
            &target.config.name,
            &caller.sub,
            &grant.username,
            target.config.rate_limits,
        );

        // The claim and the account reads run concurrently: one round trip of latency for
        // both. A replay or a request in progress is answered whatever the reads found; a
        // claim whose reads refuse is released (contract: "Who can be reset", Order).
        let is_privileged_group = |group: &str| target.config.is_privileged_group(group);
        let lookup = Lookup {
            username: &grant.username,
            groups: grant.admin,
            is_privileged_group: &is_privileged_group,
            deadline: deadline.reads(),
        };
        let (begun, account) = tokio::join!(
            self.idempotency
                .begin(&record_id, &fingerprint, deadline.end_ms, &limits),
            target.adapter.inspect(&lookup),
        );
        let (claim, unanswered_at) = match begun? {
            Begin::Replay(stored) => {
                audit.replayed = true;
                return Ok(ProxyResponse::replay(stored.status, stored.body));
            }
            Begin::Execute(claim) => (claim, None),
            Begin::Reconcile {
                claim,
                attempted_at,
            } => (claim, Some(attempted_at)),
        };
        // From here on the claim is completed, released, or (after an unanswered reset call)
        // marked unknown, on every path.
        let counted = unanswered_at.is_none();
        let (username, account) = match self
            .admit(target, &grant, &body, account, counted, audit)
            .await
        {
            Ok(admitted) => admitted,
            Err(error) => {
                self.release(claim, unanswered_at).await;
                return Err(error);
            }
        };

        // A retry after an unanswered reset call: where the back-end shows the reset took
        // effect, answer as it would have, without a second call (contract: Errors).
        if let Some(attempted_at) = unanswered_at
            && account.shows_reset(body.mode, attempted_at)
            && let Some(outcome) = crate::reset::ResetOutcome::already_done(body.mode)
        {
            return Ok(self
                .answer(target, &username, body.mode, &outcome, claim, audit)
                .await);
        }

        // FinSpace deduplicates by `clientToken` for ten minutes: bound to this request (key and
        // fingerprint), so a reused key for another user can never meet an earlier result.
        let client_token = self.keyring.digest_hex(
            "client-token",
            &[key_ref.as_bytes(), fingerprint.as_bytes()],
        );
        let reset = ResetRequest {
            username: &username,
            mode: body.mode,
            password: body.password.as_ref(),
            client_metadata: body.client_metadata.as_ref(),
            generated_password_length: target.config.generated_password_length,
            client_token: &client_token,
            deadline: deadline.reset(),
        };
        let attempted_at = self.idempotency.now_millis();
        let outcome = match target.adapter.reset(&reset).await {
            Ok(outcome) => outcome,
            Err(error @ Error::OutcomeUnknown { .. }) => {
                // Sent, unanswered: keep the record, so the retry reconciles.
                self.idempotency.mark_unknown(claim, attempted_at).await;
                return Err(error);
            }
            Err(error) => {
                // Nothing changed, or repeating is safe (docs/IDEMPOTENCY.md): free the key.
                self.idempotency.abandon(claim).await;
                return Err(error);
            }
        };
        Ok(self
            .answer(target, &username, body.mode, &outcome, claim, audit)
            .await)
    }

    /// The success answer of a reset, recorded for replay (without its password).
    async fn answer(
        &self,
        target: &Target,
        username: &str,
        mode: Mode,
        outcome: &crate::reset::ResetOutcome,
        claim: idempotency::Claimed,
        audit: &AuditRecord,
    ) -> ProxyResponse {
        let status = if mode == Mode::Code { 202 } else { 200 };
        let response = ResetBody::new(&target.config.name, username, mode, outcome);
        let stored = StoredResponse {
            status,
            body: serde_json::to_string(&response.for_replay()).unwrap_or_default(),
            password_delivered: outcome.password.is_some(),
        };
        self.idempotency.complete(claim, &stored).await;
        ProxyResponse::success(status, &response, &audit.request_id)
            .unwrap_or_else(|problem| problem)
    }

    /// Gives a claim back after a refusal before the reset call: released, or, where an
    /// earlier call went unanswered, marked unknown again for the next retry.
    async fn release(&self, claim: idempotency::Claimed, unanswered_at: Option<u64>) {
        match unanswered_at {
            Some(attempted_at) => self.idempotency.mark_unknown(claim, attempted_at).await,
            None => self.idempotency.abandon(claim).await,
        }
    }

    /// What the reads found, for a claimed request: the account and its canonical name, once
    /// it is known to be eligible, counted (unless `counted` is off: a retry spends no budget)
    /// against its own per-account limit where the request named it otherwise (an alias,
    /// e-mail, phone, `sub`), and with a chosen password checked against it too.
    async fn admit(
        &self,
        target: &Target,
        grant: &auth::Grant,
        body: &Body,
        account: Result<crate::reset::Account, Error>,
        counted: bool,
        audit: &mut AuditRecord,
    ) -> Result<(String, crate::reset::Account), Error> {
        let account = account?;
        let username = account.name(&grant.username).to_owned();
        if username != grant.username {
            audit.requested_username = Some(grant.username.clone());
            audit.username = Some(username.clone());
        }
        if account.groups_incomplete {
            tracing::warn!(
                target = %target.config.name,
                "nested groups were not all read within the request's time or lookup bound; the admin reset is refused"
            );
        }
        auth::check_eligible(&target.config, &account, &grant.username, grant.admin)?;
        // The chosen password once more, against what only the read knows: the canonical name
        // and the user's names and e-mail address.
        let renamed = crate::config::fold_username(&username)
            != crate::config::fold_username(&grant.username);
        if renamed || !account.personal.is_empty() {
            check_password(&target.config, body, &username, &account.personal)?;
        }
        if renamed && counted {
            let limit = idempotency::account_limit(
                &self.keyring,
                &target.config.name,
                &username,
                target.config.rate_limits,
            );
            self.idempotency.count_also(&limit).await?;
        }
        Ok((username, account))
    }

    fn list_targets(&self, caller: &Caller, request_id: &str) -> Result<ProxyResponse, Error> {
        let targets = self
            .targets
            .iter()
            .filter_map(|target| {
                auth::capabilities(caller, &target.config).map(|(own, admin)| TargetView {
                    name: &target.config.name,
                    service: target.config.service(),
                    modes: &target.config.modes,
                    own,
                    admin,
                })
            })
            .collect();
        Ok(
            ProxyResponse::success(200, &TargetList { targets }, request_id)
                .unwrap_or_else(|problem| problem),
        )
    }
}

/// The one deadline of a request, from the invocation's: the claim, the reads, the reset
/// and the completion all fit inside it, and an in-progress claim expires at it.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    /// The request's end, in epoch milliseconds: the claim's in-progress expiry.
    end_ms: u64,
    /// The same, on the monotonic clock.
    end: Instant,
}

impl Deadline {
    /// Left at the end of the invocation to write the answer and the audit line.
    const ANSWER: Duration = Duration::from_millis(300);
    /// Left after the reset call to complete the record (one DynamoDB write).
    const COMPLETION: Duration = Duration::from_millis(1_500);
    /// Where the invocation's deadline is unknown (0: a test context) or already past.
    const FALLBACK: Duration = Duration::from_secs(30);
    /// The most a nested-group walk may take.
    const WALK: Duration = Duration::from_secs(2);
    /// What the walk leaves, where there is time, for the reset and the completion.
    const RESERVE: Duration = Duration::from_secs(5);

    /// The request's deadline for an invocation ending at `invocation_ms` (epoch ms, 0 when
    /// unknown).
    fn of_invocation(invocation_ms: u64) -> Self {
        let now_ms = epoch_millis();
        let left = match invocation_ms.checked_sub(now_ms) {
            Some(left) if invocation_ms > 0 => {
                Duration::from_millis(left).saturating_sub(Self::ANSWER)
            }
            _ => Self::FALLBACK,
        };
        Self {
            end_ms: now_ms + u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            end: Instant::now() + left,
        }
    }

    /// When the reset call must have answered.
    fn reset(self) -> Instant {
        self.end.checked_sub(Self::COMPLETION).unwrap_or(self.end)
    }

    /// How long the account reads may walk nested groups: two seconds, or less where that
    /// would leave the reset less than five; never less than a third of the time left (a
    /// short function timeout, such as Lambda's default 3 s, still gets a walk). A walk cut
    /// short refuses an admin reset ([`auth::check_eligible`]).
    fn reads(self) -> Instant {
        let left = self.end.saturating_duration_since(Instant::now());
        let budget = left
            .saturating_sub(Self::RESERVE)
            .max(left / 3)
            .min(Self::WALK);
        Instant::now() + budget
    }
}

fn epoch_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn now_epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The route template API Gateway matched: an HTTP API's route key without its method, a REST
/// API's resource path.
fn declared_route_template(context: Option<&RequestContext>) -> Option<&str> {
    match context {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .route_key
            .as_deref()
            .and_then(|key| key.split_once(' '))
            .map(|(_, template)| template),
        Some(RequestContext::ApiGatewayV1(context)) => context.resource_path.as_deref(),
        _ => None,
    }
}

/// Records API Gateway's request id and the source address; returns the stage.
fn note_context<'a>(
    context: Option<&'a RequestContext>,
    audit: &mut AuditRecord,
) -> Option<&'a str> {
    match context {
        Some(RequestContext::ApiGatewayV2(context)) => {
            audit.api_request_id = context.request_id.clone();
            audit.source_ip = context.http.source_ip.clone();
            context.stage.as_deref()
        }
        Some(RequestContext::ApiGatewayV1(context)) => {
            audit.api_request_id = context.request_id.clone();
            audit.source_ip = context.identity.source_ip.clone();
            context.stage.as_deref()
        }
        _ => None,
    }
}

/// The mode is enabled, its fields are present and no other field is, and a chosen password
/// meets the policy (before any back-end call).
fn check_mode(target: &TargetConfig, body: &Body) -> Result<(), Error> {
    if !target.modes.contains(&body.mode) {
        return Err(Error::ModeNotSupported);
    }
    match (body.mode, &body.password) {
        (Mode::Set, None) => return Err(Error::invalid("Mode set needs a password.")),
        (Mode::Code | Mode::Generate, Some(_)) => {
            return Err(Error::invalid("A password is only accepted with mode set."));
        }
        _ => {}
    }
    if body.client_metadata.is_some()
        && !(body.mode == Mode::Code && target.service() == Service::Cognito)
    {
        return Err(Error::invalid(
            "clientMetadata is only accepted with mode code on Cognito targets.",
        ));
    }
    Ok(())
}

/// A chosen password against the target's limits, the common-password list and the context.
fn check_password(
    target: &TargetConfig,
    body: &Body,
    username: &str,
    personal: &[String],
) -> Result<(), Error> {
    match &body.password {
        Some(chosen) => password::check(
            chosen,
            password::Context {
                username,
                target: &target.name,
                personal,
            },
            target.min_password_length,
            target.service().max_password_chars(),
            target.min_password_strength,
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use secrecy::SecretString;
    use serde::Deserialize;

    use super::*;
    use crate::reset::{Account, BoxFuture, Delivery, ResetOutcome};

    /// The issuer of the demo pool's tokens (`events/`): the pool `config/demo.json` names.
    const DEMO_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DemoPool1";

    /// The demo configuration of `events/` (`config/demo.json`).
    fn events_config() -> String {
        include_str!("../../config/demo.json").replace("${USER_POOL_ID}", "us-east-1_DemoPool1")
    }

    /// An in-process back-end that counts resets and succeeds; usernames are checked by the
    /// real adapter of the target's service.
    #[derive(Clone, Default)]
    pub(super) struct CountingAdapter {
        resets: Arc<AtomicUsize>,
        /// What the back-end knows of accounts, by the name a request uses; any other name
        /// is an ordinary account under that name.
        accounts: Accounts,
        /// The names the resets were made for.
        reset_names: Arc<std::sync::Mutex<Vec<String>>>,
    }

    type Accounts = Arc<std::sync::Mutex<std::collections::HashMap<String, Account>>>;

    impl CountingAdapter {
        fn with_accounts(accounts: &[(&str, Account)]) -> Self {
            let adapter = Self::default();
            for (name, account) in accounts {
                adapter.set_account(name, account.clone());
            }
            adapter
        }

        fn set_account(&self, name: &str, account: Account) {
            self.accounts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_owned(), account);
        }

        fn reset_names(&self) -> Vec<String> {
            self.reset_names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }
    }

    /// An account the back-end knows as `canonical`, in `groups`.
    fn account(canonical: &str, groups: &[&str]) -> Account {
        Account {
            canonical: Some(canonical.into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Account::default()
        }
    }

    struct Counting {
        resets: Arc<AtomicUsize>,
        accounts: Accounts,
        reset_names: Arc<std::sync::Mutex<Vec<String>>>,
        real: Box<dyn ResetAdapter>,
    }

    impl ResetAdapter for Counting {
        fn check_username(&self, username: &str) -> Result<(), Error> {
            self.real.check_username(username)
        }

        fn inspect<'a>(&'a self, lookup: &'a Lookup<'a>) -> BoxFuture<'a, Result<Account, Error>> {
            let mut account = self
                .accounts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(lookup.username)
                .cloned()
                .unwrap_or_else(|| account(lookup.username, &[]));
            if !lookup.groups {
                account.groups.clear();
            }
            Box::pin(async move { Ok(account) })
        }

        fn reset<'a>(
            &'a self,
            request: &'a ResetRequest<'a>,
        ) -> BoxFuture<'a, Result<ResetOutcome, Error>> {
            self.resets.fetch_add(1, Ordering::SeqCst);
            self.reset_names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(request.username.to_owned());
            let mode = request.mode;
            Box::pin(async move {
                Ok(ResetOutcome {
                    must_change_at_next_sign_in: mode != Mode::Set,
                    password: (mode == Mode::Generate)
                        .then(|| SecretString::from("Generated-Pa55word!")),
                    expires_at: None,
                    delivery: (mode == Mode::Code).then_some(Delivery::VerifiedContact),
                })
            })
        }
    }

    pub(super) fn app(adapter: &CountingAdapter) -> App {
        app_with(adapter, &events_config())
    }

    fn app_with(adapter: &CountingAdapter, config: &str) -> App {
        let config = Config::parse(config, SecretString::from(crate::config::tests::TEST_KEY))
            .expect("config");
        let store = crate::idempotency::memory::MemoryStore {
            return_old: true,
            ..Default::default()
        };
        // Real adapters, for their username rules only: nothing here reaches the network.
        let offline = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let mut clients = crate::reset::Clients::default();
        App::new(config, Box::new(store), |target| {
            let real = crate::reset::adapter_for(target, &offline, &mut clients)?;
            Ok(Box::new(Counting {
                resets: adapter.resets.clone(),
                accounts: adapter.accounts.clone(),
                reset_names: adapter.reset_names.clone(),
                real,
            }) as Box<dyn ResetAdapter>)
        })
        .expect("app")
    }

    pub(super) fn context() -> Context {
        let mut context = Context::default();
        context.request_id = "lambda-request-1".into();
        context
    }

    #[derive(Deserialize)]
    struct Scenario {
        event: String,
        expect: u16,
        code: Option<String>,
        /// Decided by the back-end's own state: covered by the integration tests.
        #[serde(default, rename = "decidedByBackEnd")]
        decided_by_back_end: bool,
    }

    /// Every sample event, through the whole handler: the status and code its scenario names,
    /// and a back-end call exactly when the request succeeds with a reset.
    #[tokio::test]
    async fn every_sample_event_answers_as_its_scenario_says() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let scenarios: Vec<Scenario> = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/scenarios.json")).expect("manifest"),
        )
        .expect("json");
        assert!(scenarios.len() >= 18);
        for scenario in scenarios.into_iter().filter(|s| !s.decided_by_back_end) {
            let adapter = CountingAdapter::default();
            let event =
                std::fs::read_to_string(format!("{dir}/{}", scenario.event)).expect("event");
            let response = app(&adapter).handle_event(&event, &context()).await;
            assert_eq!(
                response.status_code, scenario.expect,
                "{}: {}",
                scenario.event, response.body
            );
            let body: serde_json::Value = serde_json::from_str(&response.body).expect("json body");
            assert_eq!(
                body["code"].as_str(),
                scenario.code.as_deref(),
                "{}",
                scenario.event
            );
            assert_eq!(response.headers["cache-control"], "no-store");
            let reset = response.status_code < 300 && body.get("mode").is_some();
            assert_eq!(
                adapter.resets.load(Ordering::SeqCst),
                usize::from(reset),
                "{}",
                scenario.event
            );
            if response.status_code >= 400 {
                assert_eq!(response.headers["content-type"], "application/problem+json");
                assert_eq!(body["requestId"], "lambda-request-1");
            }
        }
    }

    #[tokio::test]
    async fn events_of_unknown_shape_are_401_not_502() {
        let adapter = CountingAdapter::default();
        for event in [
            "{}",
            r#"{"key1":"value1","key2":"value2"}"#,
            "[]",
            "null",
            "42",
            r#"{"requestContext": 5}"#,
        ] {
            let response = app(&adapter).handle_event(event, &context()).await;
            assert_eq!(response.status_code, 401, "{event}");
        }
        assert_eq!(adapter.resets.load(Ordering::SeqCst), 0);
    }

    fn v2_event(
        path: &str,
        claims: serde_json::Value,
        headers: serde_json::Value,
        body: &str,
    ) -> String {
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../events/self-generate.json")).expect("event");
        event["rawPath"] = path.into();
        // A `$default` route: the function routes by the path.
        event["routeKey"] = "$default".into();
        event["requestContext"]["routeKey"] = "$default".into();
        event["pathParameters"] = serde_json::Value::Null;
        event["requestContext"]["http"]["path"] = path.into();
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims;
        event["headers"] = headers;
        event["body"] = body.into();
        event.to_string()
    }

    #[tokio::test]
    async fn field_and_mode_rules() {
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "k-1"});
        let own = "/v1/targets/app-users/password-reset";
        let cases: Vec<(&str, &str, u16, Option<&str>)> = vec![
            (own, r#"{"mode":"set"}"#, 400, Some("INVALID_REQUEST")),
            (
                own,
                r#"{"mode":"generate","password":"Some-Passw0rd!"}"#,
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                own,
                r#"{"mode":"generate","clientMetadata":{"a":"b"}}"#,
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                own,
                r#"{"mode":"code","clientMetadata":{"a":"b"}}"#,
                202,
                None,
            ),
            (
                own,
                r#"{"mode":"set","password":"short"}"#,
                422,
                Some("PASSWORD_REJECTED"),
            ),
            (
                own,
                r#"{"mode":"set","password":"my-alice-pass"}"#,
                422,
                Some("PASSWORD_REJECTED"),
            ),
            (
                own,
                r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
                200,
                None,
            ),
            (
                own,
                r#"{"mode":"generate","clientToken":"k-2"}"#,
                400,
                Some("IDEMPOTENCY_KEY_INVALID"),
            ),
            (own, r#"{"mode":"generate","clientToken":"k-1"}"#, 200, None),
            (
                "/v1/targets/kiosk-users/password-reset",
                r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
                422,
                Some("MODE_NOT_SUPPORTED"),
            ),
            (
                "/v1/targets",
                r#"{"mode":"generate"}"#,
                405,
                Some("METHOD_NOT_ALLOWED"),
            ),
            (
                "/v2/anything",
                r#"{"mode":"generate"}"#,
                404,
                Some("NOT_FOUND"),
            ),
        ];
        for (path, body, status, code) in cases {
            let adapter = CountingAdapter::default();
            let event = v2_event(path, alice.clone(), headers.clone(), body);
            let response = app(&adapter).handle_event(&event, &context()).await;
            assert_eq!(
                response.status_code, status,
                "{path} {body}: {}",
                response.body
            );
            let parsed: serde_json::Value = serde_json::from_str(&response.body).expect("json");
            assert_eq!(parsed["code"].as_str(), code, "{path} {body}");
            assert_eq!(
                adapter.resets.load(Ordering::SeqCst),
                usize::from(status < 300),
                "{path} {body}"
            );
        }
    }

    #[tokio::test]
    async fn self_service_generate_and_set_need_a_recent_sign_in_where_configured() {
        let mut config: serde_json::Value = serde_json::from_str(&events_config()).expect("json");
        config["targets"][0]["protectedUsers"] = serde_json::json!([]);
        config["targets"][0]["maxAuthAgeSeconds"] = 900.into();
        let config = config.to_string();
        let now = now_epoch_secs();
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "k-1"});
        let set = r#"{"mode":"set","password":"Long-Enough-Pa55"}"#;
        let own = "/v1/targets/app-users/password-reset";
        let cases = vec![
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": now.to_string()}),
                set,
                200,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": (now - 3600).to_string()}),
                set,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice"}),
                set,
                401,
            ),
            // `generate` hands the token holder a working password too.
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": "0"}),
                r#"{"mode":"generate"}"#,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice"}),
                r#"{"mode":"generate"}"#,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": now.to_string()}),
                r#"{"mode":"generate"}"#,
                200,
            ),
            // `code` goes to the user's verified channel; admin resets are not affected.
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": "0"}),
                r#"{"mode":"code"}"#,
                202,
            ),
            (
                "/v1/targets/app-users/users/bob/password-reset",
                serde_json::json!({"sub": "h", "cognito:groups": "[helpdesk]", "auth_time": "0"}),
                set,
                200,
            ),
        ];
        for (path, claims, body, status) in cases {
            let adapter = CountingAdapter::default();
            let response = app_with(&adapter, &config)
                .handle_event(
                    &v2_event(path, claims.clone(), headers.clone(), body),
                    &context(),
                )
                .await;
            assert_eq!(
                response.status_code, status,
                "{claims} {body}: {}",
                response.body
            );
            if status == 401 {
                assert!(response.body.contains("REAUTHENTICATION_REQUIRED"));
            }
        }
    }

    #[tokio::test]
    async fn a_retry_is_replayed_once_executed_and_secrets_are_not_repeated() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter);
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let bob =
            serde_json::json!({"sub": "s-bob", "iss": DEMO_ISSUER, "cognito:username": "bob"});
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "retry-1"});
        let own = "/v1/targets/app-users/password-reset";
        let generate = v2_event(
            own,
            alice.clone(),
            headers.clone(),
            r#"{"mode":"generate"}"#,
        );

        let first = app.handle_event(&generate, &context()).await;
        assert_eq!(first.status_code, 200);
        assert!(first.body.contains("Generated-Pa55word!"));
        assert!(!first.headers.contains_key("idempotent-replayed"));

        let again = app.handle_event(&generate, &context()).await;
        assert_eq!(again.status_code, 200);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(String::as_str),
            Some("true")
        );
        let body: serde_json::Value = serde_json::from_str(&again.body).expect("json");
        assert_eq!(body["passwordDelivered"], "earlier");
        assert!(body.get("password").is_none());
        assert_eq!(body["username"], "alice");
        assert_eq!(
            adapter.resets.load(Ordering::SeqCst),
            1,
            "the replay made no call"
        );

        // Same key, other request: refused, and the record still replays.
        let other = v2_event(own, alice.clone(), headers.clone(), r#"{"mode":"code"}"#);
        let reused = app.handle_event(&other, &context()).await;
        assert_eq!(reused.status_code, 422);
        assert!(reused.body.contains("IDEMPOTENCY_KEY_REUSED"));
        assert_eq!(
            app.handle_event(&generate, &context()).await.status_code,
            200
        );

        // Same key, other caller: a request of its own.
        let bobs = v2_event(own, bob, headers.clone(), r#"{"mode":"generate"}"#);
        let response = app.handle_event(&bobs, &context()).await;
        assert!(!response.headers.contains_key("idempotent-replayed"));
        assert_eq!(adapter.resets.load(Ordering::SeqCst), 2);

        // Requests refused before the back-end write no record: the key stays free.
        let fresh =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "retry-2"});
        let short = v2_event(
            own,
            alice.clone(),
            fresh.clone(),
            r#"{"mode":"set","password":"short"}"#,
        );
        assert_eq!(app.handle_event(&short, &context()).await.status_code, 422);
        let good = v2_event(
            own,
            alice,
            fresh,
            r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
        );
        assert_eq!(app.handle_event(&good, &context()).await.status_code, 200);
    }

    fn post(path: &str, claims: serde_json::Value, key: &str, body: &str) -> String {
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": key});
        v2_event(path, claims, headers, body)
    }

    fn code_of(response: &ProxyResponse) -> Option<String> {
        let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
        body["code"].as_str().map(str::to_owned)
    }

    /// The helpdesk climb: a helpdesk seat resetting another helpdesk member (or any admin
    /// group's member) would sign in as them. Refused with no reset; the member's own
    /// self-service reset still works.
    #[tokio::test]
    async fn an_admin_cannot_reset_a_privileged_account() {
        let adapter = CountingAdapter::with_accounts(&[
            ("hank", account("hank", &["staff", "helpdesk"])),
            ("ada", account("ada", &["ad-helpdesk"])),
            ("bob", account("bob", &["staff"])),
        ]);
        let app = app(&adapter);
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        let generate = r#"{"mode":"generate"}"#;
        for (user, key) in [("hank", "k-hank"), ("ada", "k-ada")] {
            let path = format!("/v1/targets/app-users/users/{user}/password-reset");
            let response = app
                .handle_event(&post(&path, helen.clone(), key, generate), &context())
                .await;
            assert_eq!(response.status_code, 422, "{user}: {}", response.body);
            assert_eq!(code_of(&response).as_deref(), Some("TARGET_NOT_ELIGIBLE"));
            // The refused claim was released: the key is free for another request.
            let bob = post(
                "/v1/targets/app-users/users/bob/password-reset",
                helen.clone(),
                key,
                generate,
            );
            assert_eq!(app.handle_event(&bob, &context()).await.status_code, 200);
        }
        assert_eq!(adapter.reset_names(), vec!["bob", "bob"]);

        let hank = serde_json::json!({"sub": "s-hank", "iss": DEMO_ISSUER, "cognito:username": "hank", "cognito:groups": "[helpdesk]"});
        let own = post(
            "/v1/targets/app-users/password-reset",
            hank,
            "k-own",
            generate,
        );
        assert_eq!(app.handle_event(&own, &context()).await.status_code, 200);
        assert_eq!(adapter.reset_names(), vec!["bob", "bob", "hank"]);
    }

    /// One identity, whatever the spelling: aliases of alice share her per-account limit, and
    /// the reset and the answer use her canonical name.
    #[tokio::test]
    async fn aliases_resolve_to_one_account_for_limits_and_the_reset() {
        let aliases = [
            "alice@example.com",
            "+15550100",
            "7d5f2c1e-alice-sub",
            "Alice",
            "ALICE@EXAMPLE.COM",
        ];
        let adapter =
            CountingAdapter::with_accounts(&aliases.map(|alias| (alias, account("alice", &[]))));
        let app = app(&adapter);
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        for (n, alias) in aliases.iter().enumerate() {
            let path = format!("/v1/targets/app-users/users/{alias}/password-reset");
            let response = app
                .handle_event(
                    &post(
                        &path,
                        helen.clone(),
                        &format!("k-{n}"),
                        r#"{"mode":"code"}"#,
                    ),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 202, "{alias}: {}", response.body);
            let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
            assert_eq!(body["username"], "alice");
        }
        // A sixth reset of alice, by her own name: her per-account limit (5 an hour) is spent.
        let sixth = post(
            "/v1/targets/app-users/users/alice/password-reset",
            helen.clone(),
            "k-6",
            r#"{"mode":"code"}"#,
        );
        let response = app.handle_event(&sixth, &context()).await;
        assert_eq!(response.status_code, 429, "{}", response.body);
        assert_eq!(adapter.reset_names(), vec!["alice"; 5]);
    }

    /// Two pools behind one authorizer: pool B's `bob` is not pool A's `bob`.
    #[tokio::test]
    async fn self_service_trusts_the_username_only_from_the_targets_issuers() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter);
        let generate = r#"{"mode":"generate"}"#;
        let own = "/v1/targets/app-users/password-reset";
        let other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool";
        for (claims, status) in [
            (
                serde_json::json!({"sub": "s-bob-b", "iss": other_pool, "cognito:username": "bob"}),
                403,
            ),
            (
                serde_json::json!({"sub": "s-bob-x", "cognito:username": "bob"}),
                403,
            ),
            (
                serde_json::json!({"sub": "s-bob-a", "iss": DEMO_ISSUER, "cognito:username": "bob"}),
                200,
            ),
        ] {
            let response = app
                .handle_event(&post(own, claims.clone(), "k-1", generate), &context())
                .await;
            assert_eq!(response.status_code, status, "{claims}: {}", response.body);
        }
        assert_eq!(adapter.resets.load(Ordering::SeqCst), 1);
    }

    /// A replay is answered whatever the reads find now; a claim is released when they refuse.
    #[tokio::test]
    async fn a_replay_wins_over_the_reads() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter);
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        let event = post(
            "/v1/targets/app-users/users/bob/password-reset",
            helen,
            "k-1",
            r#"{"mode":"code"}"#,
        );
        assert_eq!(app.handle_event(&event, &context()).await.status_code, 202);
        // bob joins the helpdesk afterwards: the retry is still the earlier answer.
        adapter.set_account("bob", account("bob", &["helpdesk"]));
        let again = app.handle_event(&event, &context()).await;
        assert_eq!(again.status_code, 202);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(String::as_str),
            Some("true")
        );
        assert_eq!(adapter.resets.load(Ordering::SeqCst), 1);
    }

    /// Simple AD folds spaces away: such names never reach a directory.
    #[tokio::test]
    async fn spaced_directory_names_are_refused_before_any_call() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter);
        let ad_admin = serde_json::json!({"sub": "s-ad", "cognito:groups": "[ad-helpdesk]"});
        for name in [
            "Administrator%20",
            "%20Administrator",
            "Admin%20%20istrator",
            "Administrator%C2%A0",
            "Administrator%09",
        ] {
            let path = format!("/v1/targets/corp-ad/users/{name}/password-reset");
            let response = app
                .handle_event(
                    &post(&path, ad_admin.clone(), "k-1", r#"{"mode":"generate"}"#),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 400, "{name}: {}", response.body);
            assert_eq!(code_of(&response).as_deref(), Some("INVALID_REQUEST"));
        }
        for name in ["ADMINISTRATOR", "admin", "Guest", "KRBTGT"] {
            let path = format!("/v1/targets/corp-ad/users/{name}/password-reset");
            let response = app
                .handle_event(
                    &post(&path, ad_admin.clone(), "k-1", r#"{"mode":"generate"}"#),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 422, "{name}: {}", response.body);
        }
        assert_eq!(adapter.resets.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_target_list_shows_only_what_the_caller_may_do() {
        let adapter = CountingAdapter::default();
        let helen = serde_json::json!({"sub": "s-helen", "cognito:groups": "[helpdesk]"});
        let nobody = serde_json::json!({"sub": "s-nobody"});
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../events/targets-list.json")).expect("event");
        event["requestContext"]["authorizer"]["jwt"]["claims"] = helen;
        let response = app(&adapter)
            .handle_event(&event.to_string(), &context())
            .await;
        let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"targets": [
                {"name": "app-users", "service": "cognito", "modes": ["code", "generate", "set"], "self": false, "admin": true},
                {"name": "kiosk-users", "service": "cognito", "modes": ["generate"], "self": false, "admin": true}
            ]})
        );
        event["requestContext"]["authorizer"]["jwt"]["claims"] = nobody;
        let response = app(&adapter)
            .handle_event(&event.to_string(), &context())
            .await;
        assert_eq!(response.body, r#"{"targets":[]}"#);
    }
}

/// Fuzzing the edge through the real entry point, which takes the runtime's raw JSON: whatever
/// arrives (any query string, header, body, base64 flag, path parameter, claims), the answer
/// is a contract status, never a panic (which the handler would turn into a 500) and never a
/// 502, with exactly one audit line. `PROPTEST_CASES` sets the number of cases (`make fuzz`
/// runs many more than `make test`).
#[cfg(test)]
mod fuzz {
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::tests::{CountingAdapter, app, context};

    /// What a request may be answered with, short of a bug (500) or an outage (503).
    const CONTRACT: [u16; 12] = [200, 202, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429];

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("event")).expect("json")
    }

    /// The log lines written while a request is answered.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    /// The status of the answer to `event`, and how many audit lines it wrote.
    fn answer(event: &str) -> (u16, usize) {
        let lines = Lines::default();
        let subscriber = crate::logging::subscriber(tracing::Level::INFO, lines.clone());
        let status = tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            let app = app(&CountingAdapter::default());
            runtime
                .block_on(app.handle_event(event, &context()))
                .status_code
        });
        let written = lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let audits = String::from_utf8_lossy(&written)
            .lines()
            .filter(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|line| line["audit"] == true)
            })
            .count();
        (status, audits)
    }

    #[test]
    fn every_event_shape_gets_a_contract_answer_and_one_audit_line() {
        let base = sample("self-generate.json");
        let rest = sample("rest-self-generate.json");
        type Mutation = fn(&mut Value);
        let cases: Vec<(&str, &Value, Mutation, u16, Option<&str>)> = vec![
            (
                "a quote and brackets in the query",
                &base,
                |e| e["rawQueryString"] = r#"a="b"&c=<d>&e={f}|g"#.into(),
                200,
                None,
            ),
            (
                "a brace in Host, a bad X-Forwarded-Proto",
                &base,
                |e| {
                    e["headers"]["host"] = "ex{ample}.com".into();
                    e["headers"]["x-forwarded-proto"] = "not a scheme".into();
                },
                200,
                None,
            ),
            (
                "a REST path that parses as a port",
                &rest,
                |e| {
                    e["path"] = ":99999".into();
                    e["headers"]["Host"] = "a b".into();
                },
                200,
                None,
            ),
            (
                "a REST query with quotes",
                &rest,
                |e| {
                    e["queryStringParameters"] = json!({"a": "\"<>"});
                    e["multiValueQueryStringParameters"] = json!({"a": ["\"<>", "{}"]});
                },
                200,
                None,
            ),
            (
                "a body flagged base64 that is not",
                &base,
                |e| {
                    e["isBase64Encoded"] = true.into();
                    e["body"] = "!!! not base64".into();
                },
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                "a base64 body",
                &base,
                |e| {
                    e["isBase64Encoded"] = true.into();
                    e["body"] = "eyJtb2RlIjoiZ2VuZXJhdGUifQ==".into();
                },
                200,
                None,
            ),
            (
                "a JSON array body",
                &base,
                |e| e["body"] = r#"["generate"]"#.into(),
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                "a JSON string body",
                &base,
                |e| e["body"] = r#""generate""#.into(),
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                "an Idempotency-Key twice, REST",
                &rest,
                |e| {
                    e["multiValueHeaders"]["idempotency-key"] = json!(["k-1", "k-2"]);
                },
                400,
                Some("IDEMPOTENCY_KEY_INVALID"),
            ),
            (
                "an Idempotency-Key twice, HTTP API",
                &base,
                |e| e["headers"]["idempotency-key"] = "k-1,k-2".into(),
                400,
                Some("IDEMPOTENCY_KEY_INVALID"),
            ),
            (
                "an unknown target",
                &base,
                |e| {
                    e["routeKey"] = "$default".into();
                    e["requestContext"]["routeKey"] = "$default".into();
                    e["pathParameters"] = Value::Null;
                    e["rawPath"] = "/v1/targets/no-such-target/password-reset".into();
                },
                404,
                Some("UNKNOWN_TARGET"),
            ),
        ];
        for (name, base, mutate, status, code) in cases {
            let mut event = base.clone();
            mutate(&mut event);
            let (got, audits) = answer(&event.to_string());
            assert_eq!(got, status, "{name}");
            assert_eq!(audits, 1, "{name}");
            if let Some(code) = code {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                let response = runtime.block_on(
                    app(&CountingAdapter::default()).handle_event(&event.to_string(), &context()),
                );
                let body: Value = serde_json::from_str(&response.body).expect("json");
                assert_eq!(body["code"], code, "{name}");
            }
        }
    }

    #[test]
    fn the_audit_line_names_the_requested_target_and_its_code() {
        let mut event = sample("self-generate.json");
        event["routeKey"] = "$default".into();
        event["requestContext"]["routeKey"] = "$default".into();
        event["pathParameters"] = Value::Null;
        event["rawPath"] = "/v1/targets/no-such-target/password-reset".into();
        let lines = Lines::default();
        let subscriber = crate::logging::subscriber(tracing::Level::INFO, lines.clone());
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            runtime.block_on(
                app(&CountingAdapter::default()).handle_event(&event.to_string(), &context()),
            );
        });
        let written = String::from_utf8(lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .expect("utf-8");
        let audit: Value = written
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["audit"] == true)
            .expect("an audit line");
        assert_eq!(audit["target"], "no-such-target");
        assert_eq!(audit["code"], "UNKNOWN_TARGET");
    }

    proptest! {
        #[test]
        fn any_bytes_as_an_event(event in ".{0,400}") {
            let (status, audits) = answer(&event);
            prop_assert!(CONTRACT.contains(&status), "{status} for {event:?}");
            prop_assert_eq!(audits, 1);
        }

        #[test]
        fn any_whole_event(
            which in 0usize..4,
            body in prop_oneof![".{0,300}", Just(String::new()), "\\{\"mode\":\"(code|generate|set)\"(,\"password\":\".{0,40}\")?(,\"clientToken\":\".{0,20}\")?\\}", "\\[\"(code|generate|set)\"(,\".{0,20}\")?\\]", "[A-Za-z0-9+/=!]{0,60}"],
            base64 in any::<bool>(),
            content_type in prop_oneof![Just("application/json".to_owned()), ".{0,30}"],
            key in prop::option::of(".{0,140}"),
            keys in prop::collection::vec("[!-~]{1,10}", 0..3),
            query in ".{0,80}",
            host in prop::option::of(".{0,40}"),
            headers in prop::collection::hash_map("[a-z-]{1,12}", ".{0,40}", 0..4),
            target in "[a-z-]{0,12}|app-users|corp-ad|research",
            user in prop::option::of(".{0,70}"),
            declared in any::<bool>(),
            groups in ".{0,40}",
            method in prop_oneof![Just("POST".to_owned()), Just("GET".to_owned()), Just("PUT".to_owned()), "[A-Z]{1,8}"],
        ) {
            let mut event = sample(["self-generate.json", "rest-self-generate.json", "payload-v1-self-code.json", "dir-admin-generate.json"][which]);
            let path = match &user {
                Some(user) => format!("/v1/targets/{target}/users/{}/password-reset", user.replace(['/', '?', '#'], "%2F")),
                None => format!("/v1/targets/{target}/password-reset"),
            };
            event["body"] = body.clone().into();
            event["isBase64Encoded"] = base64.into();
            for (name, value) in &headers {
                event["headers"][name] = value.clone().into();
            }
            event["headers"]["content-type"] = content_type.into();
            if let Some(host) = &host {
                event["headers"]["host"] = host.clone().into();
            }
            match &key {
                Some(key) => event["headers"]["idempotency-key"] = key.clone().into(),
                None => { event["headers"].as_object_mut().map(|h| h.remove("idempotency-key")); }
            }
            let mut params = json!({"target": target});
            if let Some(user) = &user {
                params["username"] = user.clone().into();
            }
            if event.get("rawPath").is_some() {
                event["rawPath"] = path.clone().into();
                event["rawQueryString"] = query.into();
                if declared {
                    event["pathParameters"] = params;
                } else {
                    // A `$default` route: the function routes by the path.
                    event["routeKey"] = "$default".into();
                    event["requestContext"]["routeKey"] = "$default".into();
                    event["pathParameters"] = Value::Null;
                }
                event["requestContext"]["http"]["path"] = path.into();
                event["requestContext"]["http"]["method"] = method.into();
                event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = groups.into();
            } else {
                event["path"] = path.into();
                event["queryStringParameters"] = json!({"q": query});
                if declared {
                    event["pathParameters"] = params;
                } else {
                    event["resource"] = "/{proxy+}".into();
                    event["requestContext"]["resourcePath"] = "/{proxy+}".into();
                    event["pathParameters"] = Value::Null;
                }
                event["httpMethod"] = method.into();
                event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = groups.into();
                event["multiValueHeaders"] = json!({"idempotency-key": keys});
            }
            let (status, audits) = answer(&event.to_string());
            prop_assert!(CONTRACT.contains(&status), "{status} for {event}");
            prop_assert_eq!(audits, 1, "{}", event);
        }

        #[test]
        fn any_claims(claims in prop::collection::hash_map(".{0,20}", ".{0,40}", 0..8), sub in prop::option::of(".{0,40}")) {
            let mut event = sample("self-set.json");
            let mut claims: serde_json::Map<String, Value> = claims.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            if let Some(sub) = sub { claims.insert("sub".into(), sub.into()); }
            event["requestContext"]["authorizer"]["jwt"]["claims"] = Value::Object(claims);
            let (status, audits) = answer(&event.to_string());
            prop_assert!(CONTRACT.contains(&status), "{status} for {event}");
            prop_assert_eq!(audits, 1);
        }
    }
}
