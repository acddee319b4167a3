//! Amazon FinSpace: FinSpace Data `ResetUserPassword`, mode `generate` only.
//!
//! FinSpace generates the temporary password (valid 7 days) and the previous one stops working
//! at once. Without a `clientToken` every SDK retry would make a *new* password; the adapter
//! passes the request's idempotency reference, so an SDK retry, or a retry after a Lambda
//! timeout within the token's ten minutes, gets the same password back.
//!
//! With an `environmentId` the call is made with the environment's programmatic-access
//! credentials (`GetProgrammaticAccessCredentials`, obtained with the function's role), cached
//! until five minutes before they expire.
//!
//! Before a reset, `GetUser` reads the account: a `SUPER_USER` is privileged (an admin may not
//! reset it) and a `DISABLED` user is not eligible.
//!
//! AWS marks the operation deprecated and FinSpace's end of support is 7 October 2026; this
//! adapter sits behind the Cargo feature `finspace` (on by default).

use serde::Deserialize;

use super::{Backend, Capabilities, Mode, ResetAdapter, check_username_rules};
use crate::{
    aws::Clients,
    error::{Error, InitError},
};

#[cfg(feature = "finspace")]
mod adapter;
#[cfg(feature = "finspace")]
pub use adapter::FinspaceAdapter;

/// The back-end's name in logs.
#[cfg(feature = "finspace")]
const SERVICE: &str = "finspace";

/// What FinSpace can do: `generate` only (FinSpace generates the password, at most 20
/// characters); no client metadata, no built-in accounts, no groups (it marks administrators
/// itself: `SUPER_USER`).
pub const CAPABILITIES: Capabilities = Capabilities {
    name: "finspace",
    modes: &[Mode::Generate],
    max_password_chars: 20,
    client_metadata: false,
    protected_names: &[],
    privileged_groups: &[],
    folded_names: false,
};

/// A FinSpace target's keys in the configuration document (also read by a build without the
/// adapter, so that its init can refuse the target by name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The environment whose programmatic-access credentials the calls use.
    #[serde(default)]
    pub environment_id: String,
}

impl Backend for Settings {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    /// Required: FinSpace's data API authorises with the environment's programmatic-access
    /// credentials, never the function's role, so a target without one could never succeed.
    /// Environment ids: `^[a-zA-Z0-9]{1,26}$`.
    fn validate(&self) -> Result<(), String> {
        let id = &self.environment_id;
        if id.is_empty() {
            return Err("environmentId is required: FinSpace's data API authorises with the environment's programmatic-access credentials, not the function's role".into());
        }
        if id.len() > 26 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "environmentId {id:?} must match ^[a-zA-Z0-9]{{1,26}}$"
            ));
        }
        Ok(())
    }

    fn check_username(&self, username: &str) -> Result<(), Error> {
        check_username(username)
    }

    fn reads_groups(&self) -> Result<(), &'static str> {
        Err(
            "protectedGroups is not accepted: FinSpace has no groups to read (it marks administrators itself, SUPER_USER)",
        )
    }

    #[cfg(feature = "finspace")]
    fn adapter(
        &self,
        _target: &str,
        clients: &mut Clients<'_>,
    ) -> Result<Box<dyn ResetAdapter>, InitError> {
        Ok(Box::new(FinspaceAdapter::from_settings(self, clients)))
    }

    #[cfg(not(feature = "finspace"))]
    fn adapter(
        &self,
        target: &str,
        _clients: &mut Clients<'_>,
    ) -> Result<Box<dyn ResetAdapter>, InitError> {
        Err(InitError::Target {
            target: target.to_owned(),
            detail: "this build has no FinSpace support (Cargo feature `finspace`)".into(),
        })
    }
}

/// FinSpace `userId`: 1-26 characters, no white space or control characters.
pub fn check_username(username: &str) -> Result<(), Error> {
    check_username_rules(
        username,
        26,
        |c: char| !c.is_whitespace() && !c.is_control(),
        "The username is not a valid FinSpace user id.",
    )
}
