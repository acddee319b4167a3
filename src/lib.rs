//! resetgate: safe self-service and helpdesk password resets for Amazon Cognito user pools,
//! AWS Directory Service and Amazon FinSpace, as an AWS Lambda function behind API Gateway.
//!
//! The contract callers rely on is in `docs/API.md` and `openapi.yaml`; configuration in
//! `docs/CONFIG.md`; idempotency and rate limits in `docs/IDEMPOTENCY.md`; the threat model in
//! `docs/SECURITY.md`; the AWS behaviour the code relies on in `docs/AWS.md`.
//!
//! # Layout
//!
//! Data flows one way, and so do the imports:
//!
//! ```text
//! main → wiring → http → app → auth, idempotency, reset, password → aws, keys, clock, error
//!                   ↘ audit ↗          config ↗ (parses into the policies below it)
//! ```
//!
//! An event reaches `http`, which decodes, routes and reads the body, and hands a typed
//! command ([`ResetCommand`]) to `app`, the use case ([`PasswordResets`]): [`auth`] decides,
//! [`idempotency`] reserves the request (and counts its rate limits) while a [`reset`] adapter
//! reads the account, the adapter resets, [`idempotency`] completes. `app` returns an
//! [`Outcome`]; `http` answers it ([`App::handle_event`]) and `audit` writes the line from it.
//! Nothing calls back up that chain.
//!
//! - `wiring` (composition root): SDK clients, the store, one adapter per target.
//! - `http`: the only code that knows API Gateway events and `lambda_http`.
//! - `app`: [`PasswordResets`], the use case, from a command and a caller to an outcome.
//! - [`auth`]: the caller from the authorizer's claims; the decisions (pure functions), under
//!   each target's [`auth::AccessPolicy`].
//! - [`reset`]: the domain of a reset and the back-ends, each in its own file, describing
//!   itself (settings, capabilities, constructor); the registry is `reset/mod.rs`.
//! - [`idempotency`]: keys, records and their one liveness rule, the state machine, the store
//!   trait and its DynamoDB implementation, rate limits; one file per job.
//! - [`password`]: policy checks (NIST SP 800-63B, a breached-password screen) and generation.
//! - [`config`]: the only reader of the environment; parses the document into the policies
//!   that `auth`, `password`, `idempotency` and each back-end own. Nothing below `app` imports
//!   it.
//! - `audit`: the typed audit line, written from the use case's outcome.
//! - `aws`: the SDK clients cache, what is transient, one mapping of SDK errors, sending a
//!   reset call at most once.
//! - `keys`, `clock`, `error`: keyed hashes, the one clock, the one error table.
//!
//! `scripts/check_layout.py` (in `make lint`) keeps this true: no `lambda_http` outside
//! `http/` and `main.rs`, no `config` import in `auth`, `reset/` or `idempotency/`, no cycle
//! between modules, no source file over 500 lines before its tests.
//!
//! Modules are private where nothing outside needs them; the public surface is re-exported
//! here. The modules that stay public are the ones the integration tests, the benchmarks and
//! a custom adapter or store need.

use std::{future::Future, pin::Pin};

mod app;
mod audit;
mod aws;
mod clock;
mod error;
mod events;
mod http;
mod keys;
mod metrics;
mod notify;

pub mod auth;
pub mod config;
pub mod idempotency;
pub mod logging;
pub mod password;
pub mod reset;
pub mod wiring;

#[cfg(any(test, feature = "test-util"))]
pub mod testkit;

pub use app::{
    Answer, Deadline, Facts, Outcome, PasswordResets, ResetCommand, ResetReceipt, ResetRequestBody,
};
pub use aws::Clients;
#[cfg(any(test, feature = "test-util"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::{Error, Ineligible, InitError, PasswordRejection, Spec};
pub use events::{EventBridgeBus, EventBus, EventsConfig};
pub use http::{App, Context, ProxyResponse};
pub use keys::Keyring;
pub use notify::{Mailer, NotificationsConfig, SesMailer};
pub use reset::ResetAdapter;

/// A boxed future, so adapters and stores can sit behind `dyn` (one allocation per call).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
