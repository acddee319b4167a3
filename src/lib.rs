//! resetgate: safe self-service and helpdesk password resets for Amazon Cognito user pools,
//! AWS Directory Service and Amazon FinSpace, as an AWS Lambda function behind API Gateway.
//!
//! The contract callers rely on is in `docs/API.md`; configuration in `docs/CONFIG.md`.
//!
//! # Layout
//!
//! Data flows one way: event → [`http`] parses and routes → [`auth`] authenticates the caller
//! from the authorizer context and decides → a [`reset`] adapter calls the back-end → [`http`]
//! answers and [`audit`] records. Nothing calls back up that chain.
//!
//! - [`config`]: typed, validated configuration; the only reader of the environment.
//! - [`http`]: the only code that knows API Gateway events: routing, body parsing,
//!   problem+json responses, and [`App`], the pipeline.
//! - [`auth`]: the [`auth::Caller`] from the authorizer context; the authorization decision
//!   (pure functions).
//! - [`reset`]: the domain ([`reset::Mode`], [`reset::Service`], [`reset::ResetOutcome`]) and
//!   the [`reset::ResetAdapter`] trait, one adapter per back-end.
//! - [`idempotency`]: idempotency keys and their keyed references.
//! - [`password`]: policy checks (NIST SP 800-63B) and generation.
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
