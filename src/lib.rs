//! resetgate: safe self-service and helpdesk password resets for Amazon Cognito user pools,
//! AWS Directory Service and Amazon FinSpace, as an AWS Lambda function behind API Gateway.
//!
//! The contract callers rely on is in `docs/API.md` and `openapi.yaml`; configuration in
//! `docs/CONFIG.md`; idempotency and rate limits in `docs/IDEMPOTENCY.md`; the threat model in
//! `docs/SECURITY.md`.
//!
//! # Layout
//!
//! Data flows one way: event → [`http`] parses and routes → [`auth`] authenticates the caller
//! from the authorizer context and decides → [`idempotency`] claims the request (and counts
//! its rate limits) → a [`reset`] adapter calls the back-end → [`idempotency`] completes →
//! [`http`] answers and [`audit`] records. Nothing calls back up that chain.
//!
//! - [`config`]: typed, validated configuration; the only reader of the environment.
//! - [`http`]: the only code that knows API Gateway events: routing, body parsing,
//!   problem+json responses, and [`App`], the pipeline.
//! - [`auth`]: the [`auth::Caller`] from the authorizer context; the authorization decision
//!   (pure functions).
//! - [`reset`]: the domain ([`reset::Mode`], [`reset::Service`], [`reset::ResetOutcome`]) and
//!   the [`reset::ResetAdapter`] trait, one adapter per back-end (Cognito, Directory Service,
//!   FinSpace behind the `finspace` feature).
//! - [`idempotency`]: idempotency keys, the claim/replay state machine and rate-limit counters
//!   (policy in `mod.rs`), stored in DynamoDB (`dynamodb.rs`).
//! - [`password`]: policy checks (NIST SP 800-63B, a common-password list) and generation.
//! - [`audit`]: the typed audit line, one per request.
//! - [`keys`]: keyed hashes under the deployment's secret.
//! - [`error`]: the one error type and its mapping to the contract's codes.
//! - [`logging`]: JSON logs for Lambda's JSON log format.

pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod keys;
pub mod logging;
pub mod password;
pub mod reset;

pub use config::Config;
pub use error::Error;
pub use http::{App, ProxyResponse};
