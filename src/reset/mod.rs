//! The domain of a reset and its back-ends: modes, what a reset asks and returns, and the
//! [`ResetAdapter`] trait each back-end implements in its own file.
//!
//! A back-end describes itself: its file exports its `Settings` (the target's keys in the
//! configuration document, validated), its [`Capabilities`] (modes, password length, client
//! metadata, built-in protected names and privileged groups, how it compares names, its
//! username rule) and a constructor from those settings and the shared SDK clients, all
//! through the [`Backend`] trait. This file is the registry: [`BackendSettings`].
//!
//! Adding a back-end is: its file here (its `Settings` implementing [`Backend`]), one variant
//! of [`BackendSettings`] and its arm in [`BackendSettings::backend`], and its IAM statements
//! and OpenAPI `service` value.

use std::{collections::HashMap, time::Instant};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{
    BoxFuture,
    aws::Clients,
    error::{Error, InitError},
};

/// `aws_smithy_mocks::mock_client!` without its `with_test_defaults_v2`, which needs every SDK
/// crate's `test-util` feature: with it, tests and the binary would build each SDK crate twice.
/// Retries are off, so mocked errors answer at once.
#[cfg(test)]
macro_rules! mock_client {
    ($aws_crate:ident, $rules:expr) => {
        mock_client!($aws_crate, aws_smithy_mocks::RuleMode::Sequential, $rules)
    };
    ($aws_crate:ident, $rule_mode:expr, $rules:expr) => {{
        let mut interceptor =
            aws_smithy_mocks::MockResponseInterceptor::new().rule_mode($rule_mode);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $aws_crate::config::Config::builder()
            .behavior_version($aws_crate::config::BehaviorVersion::latest())
            .region($aws_crate::config::Region::new("us-east-1"))
            .credentials_provider($aws_crate::config::Credentials::new(
                "test", "test", None, None, "mock",
            ))
            .retry_config($aws_crate::config::retry::RetryConfig::disabled())
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        $aws_crate::Client::from_conf(config)
    }};
}

mod cognito;
mod directory;
mod finspace;

pub use cognito::{
    CognitoAdapter, RecoveryClient, Settings as CognitoSettings, cognito_issuer, is_valid_code,
};
pub use directory::{DirectoryAdapter, Settings as DirectorySettings};
#[cfg(feature = "finspace")]
pub use finspace::FinspaceAdapter;
pub use finspace::Settings as FinspaceSettings;

/// How a password is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The back-end sends the user a code to choose a new password themselves.
    Code,
    /// A strong password is generated (by us or the back-end) and returned once.
    Generate,
    /// The caller supplies the new password.
    Set,
    /// The user completes a `code` reset with the code and a new password (the confirm
    /// endpoint only: never a `mode` of a reset body or of a target's `modes`).
    #[serde(skip_deserializing)]
    Confirm,
}

impl Mode {
    /// The mode's name in requests, responses and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Generate => "generate",
            Self::Set => "set",
            Self::Confirm => "confirm",
        }
    }
}

/// What a back-end can do and how it names things: everything the rest of the function needs
/// to know about it, beyond its adapter.
#[derive(Debug)]
pub struct Capabilities {
    /// The back-end's name: the configuration's `service`, in responses and audit lines.
    pub name: &'static str,
    /// The modes its API can perform (the contract's Modes table).
    pub modes: &'static [Mode],
    /// The longest password it accepts, in code points.
    pub max_password_chars: usize,
    /// Whether `clientMetadata` is accepted (with `code`).
    pub client_metadata: bool,
    /// Accounts never reset through the function, whatever the operator lists.
    pub protected_names: &'static [&'static str],
    /// Groups whose members are privileged on every target of this back-end (where it reads
    /// groups).
    pub privileged_groups: &'static [&'static str],
    /// Whether account and group names compare folded ([`fold_username`]: case and spacing
    /// ignored, as Active Directory does) rather than exactly.
    pub folded_names: bool,
}

impl Capabilities {
    /// Whether the back-end's API can perform `mode` at all.
    pub fn supports(&self, mode: Mode) -> bool {
        self.modes.contains(&mode)
    }
}

/// A back-end, described by its settings: each back-end's `Settings` implements it in the
/// back-end's own file.
pub trait Backend: Send + Sync {
    /// What the back-end can do.
    fn capabilities(&self) -> &'static Capabilities;

    /// Checks the settings' values (identifier formats); the message names the key.
    fn validate(&self) -> Result<(), String>;

    /// Checks a username against the back-end API's own format (with these settings) before
    /// any call: `INVALID_REQUEST` otherwise.
    fn check_username(&self, username: &str) -> Result<(), Error>;

    /// Whether the back-end reads an account's groups with these settings: without that, a
    /// list of protected groups would only look like a control. `Err` says why not.
    fn reads_groups(&self) -> Result<(), &'static str> {
        Ok(())
    }

    /// The issuer of the callers' tokens this back-end is, where it is one (a Cognito pool).
    fn own_issuer(&self) -> Option<String> {
        None
    }

    /// Whether users can complete a `code` reset through the confirm endpoint with these
    /// settings (a Cognito target with a `recoveryClientId`).
    fn confirms_codes(&self) -> bool {
        false
    }

    /// The Secrets Manager secrets the adapter needs, each with the settings key that names
    /// it: read once at cold start before [`Backend::adapter`], which finds them in
    /// [`Clients::secret`].
    fn secret_ids(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// The adapter for these settings, with the shared SDK clients (at cold start); `target`
    /// names the target in an init error.
    fn adapter(
        &self,
        target: &str,
        clients: &mut Clients<'_>,
    ) -> Result<Box<dyn ResetAdapter>, InitError>;
}

/// A target's back-end and its settings, as the configuration document names them (the
/// `service` key selects the variant; each settings type refuses keys it does not know). The
/// registry: one variant, and one arm in [`BackendSettings::backend`], per back-end.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "service", rename_all = "lowercase")]
pub enum BackendSettings {
    /// An Amazon Cognito user pool.
    Cognito(cognito::Settings),
    /// An AWS Directory Service directory.
    Directory(directory::Settings),
    /// An Amazon FinSpace environment.
    Finspace(finspace::Settings),
}

impl BackendSettings {
    /// The back-end these settings describe.
    pub fn backend(&self) -> &dyn Backend {
        match self {
            Self::Cognito(settings) => settings,
            Self::Directory(settings) => settings,
            Self::Finspace(settings) => settings,
        }
    }
}

/// An account name as a directory compares it: lower case, without leading or trailing white
/// space, runs of white space as one space.
pub fn fold_username(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// What to read about an account before it is reset ([`ResetAdapter::inspect`]).
pub struct Lookup<'a> {
    /// The account as the request names it (an alias, e-mail, phone or `sub` on Cognito).
    pub username: &'a str,
    /// Read the account's back-end groups too (admin requests: a privileged account must not
    /// be reset by an admin). Self-service needs no groups.
    pub groups: bool,
    /// Whether a group makes the account privileged: a walk through nested groups stops at
    /// the first such group.
    pub is_privileged_group: &'a (dyn Fn(&str) -> bool + Sync),
    /// When a walk through nested groups must stop, to leave the reset its time.
    pub deadline: Instant,
}

/// What the back-end says about an account before it is reset. A state that must never be
/// reset (disabled, federated) is an error of [`ResetAdapter::inspect`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The name the back-end knows the account by: Cognito's `Username` (also for an alias,
    /// e-mail, phone or `sub`), the directory's `SAMAccountName`, FinSpace's `userId`. `None`
    /// where the back-end cannot be read (Simple AD, which has no Directory Service Data).
    pub canonical: Option<String>,
    /// The account's back-end groups (with [`Lookup::groups`]): Cognito groups of the target
    /// pool; directory groups, direct and nested as far as the deadline allowed.
    pub groups: Vec<String>,
    /// Whether the back-end itself marks the account an administrator (FinSpace `SUPER_USER`).
    pub superuser: bool,
    /// Whether a walk through nested groups stopped at its deadline or its bound before it
    /// was complete (logged; docs/SECURITY.md says what is not covered).
    pub groups_incomplete: bool,
    /// The account's last change, where the back-end shows it (Cognito): what reconciles a
    /// reset whose call went unanswered.
    pub last_change: Option<LastChange>,
    /// Words a chosen password must not contain, from the back-end's read: the user's given
    /// and family names and the e-mail address's local part.
    pub personal: Vec<String>,
    /// Where the user can be told of a reset: Cognito's `email` where verified, Directory
    /// Service Data's `EmailAddress`.
    pub email: Option<String>,
}

/// The context words of a user from the back-end's attributes: names as given, and the
/// e-mail address's local part.
pub(crate) fn personal_words<'a>(
    names: impl IntoIterator<Item = Option<&'a str>>,
    email: Option<&'a str>,
) -> Vec<String> {
    names
        .into_iter()
        .flatten()
        .chain(email.and_then(|email| email.split('@').next()))
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// When an account last changed and the password state it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastChange {
    /// Epoch milliseconds (Cognito `UserLastModifiedDate`).
    pub at_ms: u64,
    /// The state the account is in.
    pub state: PasswordState,
}

/// The password state an account is in, as far as a reset is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Waiting for the user to use a code (Cognito `RESET_REQUIRED`).
    ResetRequired,
    /// A permanent password (Cognito `CONFIRMED`).
    Permanent,
    /// A temporary password (Cognito `FORCE_CHANGE_PASSWORD`).
    Temporary,
    /// Anything else.
    Other,
}

/// How far the back-end's modification time may lag our clock's record of an attempt.
const CLOCK_SKEW_MS: u64 = 1_000;

impl Account {
    /// The name to act on: the canonical one where the back-end gave it, else as requested.
    pub fn name<'a>(&'a self, requested: &'a str) -> &'a str {
        self.canonical.as_deref().unwrap_or(requested)
    }

    /// Whether the back-end shows that a reset in `mode`, whose call was sent at
    /// `attempted_at` (epoch ms) and went unanswered, took effect: changed since, and in the
    /// state that mode leads to (`code`: reset required; `set`: a permanent password). A
    /// `generate` never counts: its password was never delivered, so it runs again with a new
    /// one. Where nothing can be read (directories), nothing counts either. A confirm counts
    /// as `set` does: its code is spent, so a second call could only answer `INVALID_CODE`.
    pub fn shows_reset(&self, mode: Mode, attempted_at: u64) -> bool {
        let Some(change) = self.last_change else {
            return false;
        };
        let after = change.at_ms + CLOCK_SKEW_MS >= attempted_at;
        after
            && matches!(
                (mode, change.state),
                (Mode::Code, PasswordState::ResetRequired)
                    | (Mode::Set | Mode::Confirm, PasswordState::Permanent)
            )
    }
}

/// One reset, after authorization, the account read and validation: everything an adapter
/// needs.
pub struct ResetRequest<'a> {
    /// The account on the target, by its canonical name where the back-end gave one.
    pub username: &'a str,
    /// What to do.
    pub mode: Mode,
    /// The caller's password, with `set` and `confirm`.
    pub password: Option<&'a SecretString>,
    /// The code the user received, with `confirm` only.
    pub code: Option<&'a SecretString>,
    /// Cognito `ClientMetadata` for `code`, passed to the pool's Lambda triggers.
    pub client_metadata: Option<&'a HashMap<String, String>>,
    /// Length of a password to generate.
    pub generated_password_length: usize,
    /// A token unique to this request's idempotency record (64 hex digits), for APIs that
    /// deduplicate retries themselves (FinSpace `clientToken`).
    pub client_token: &'a str,
    /// When the reset call must have answered, leaving the record's completion its time: one
    /// attempt gets what is left (`aws::send_at_most_once`).
    pub deadline: Instant,
}

/// What a successful reset produced.
#[derive(Debug)]
pub struct ResetOutcome {
    /// Whether the user must choose a new password when they next sign in.
    pub must_change_at_next_sign_in: bool,
    /// A generated or temporary password, delivered once and never stored.
    pub password: Option<SecretString>,
    /// When a temporary password stops working, in epoch seconds.
    pub expires_at: Option<i64>,
    /// How a code reached the user, for `code`.
    pub delivery: Option<Delivery>,
}

impl ResetOutcome {
    /// The answer of a reset that the back-end shows took effect after its call went
    /// unanswered ([`Account::shows_reset`]); `None` for `generate`, which runs again.
    pub fn already_done(mode: Mode) -> Option<Self> {
        match mode {
            Mode::Code => Some(Self {
                must_change_at_next_sign_in: true,
                password: None,
                expires_at: None,
                delivery: Some(Delivery::VerifiedContact),
            }),
            Mode::Set | Mode::Confirm => Some(Self {
                must_change_at_next_sign_in: false,
                password: None,
                expires_at: None,
                delivery: None,
            }),
            Mode::Generate => None,
        }
    }
}

/// Where a reset code was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// To the user's verified e-mail address or phone number, as the pool's account recovery
    /// setting chooses (Cognito does not say which).
    VerifiedContact,
}

/// A back-end that can reset passwords. Implementations map every error of their API to
/// [`Error`] themselves, so the contract's codes are decided next to the API that causes them.
pub trait ResetAdapter: Send + Sync {
    /// Reads the account before a reset: its canonical name, and (with [`Lookup::groups`])
    /// what makes it privileged. Only reads, so the SDK's standard retries are safe. A state
    /// that must never be reset (disabled, federated) is `TARGET_NOT_ELIGIBLE`; a back-end
    /// that cannot be read as configured is `INTERNAL`, with the operator's fix in the error.
    fn inspect<'a>(&'a self, lookup: &'a Lookup<'a>) -> BoxFuture<'a, Result<Account, Error>>;

    /// Ends the account's sessions after its password changed (`generate`, `set`, a confirmed
    /// code): `None` where the back-end has no such call (Directory Service, FinSpace) or the
    /// target turned it off. An error is the adapter's mapping of the call's failure.
    fn revoke_sessions<'a>(
        &'a self,
        _username: &'a str,
    ) -> Option<BoxFuture<'a, Result<(), Error>>> {
        None
    }

    /// Performs the reset.
    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, Error>>;
}

/// Checks a username's length (in characters) and characters against a back-end API's rules,
/// answering `INVALID_REQUEST` with `message` otherwise.
pub(crate) fn check_username_rules(
    username: &str,
    max_chars: usize,
    allowed: impl Fn(char) -> bool,
    message: &'static str,
) -> Result<(), Error> {
    let length = username.chars().count();
    if (1..=max_chars).contains(&length) && username.chars().all(allowed) {
        Ok(())
    } else {
        Err(Error::invalid(message))
    }
}

/// Unicode format characters (category Cf) that are common in pasted text: invisible, so a
/// name holding one looks like another.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FinSpace target is served by a build with the `finspace` feature and refused, by
    /// name, at the init of a build without it (never half-configured).
    #[test]
    fn a_finspace_target_is_built_only_with_the_feature() {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let mut clients = Clients::new(&sdk);
        let settings: BackendSettings =
            serde_json::from_str(r#"{"service": "finspace", "environmentId": "env1"}"#)
                .expect("settings");
        assert_eq!(settings.backend().capabilities().name, "finspace");
        let built = settings.backend().adapter("research", &mut clients);
        #[cfg(feature = "finspace")]
        assert!(built.is_ok());
        #[cfg(not(feature = "finspace"))]
        {
            let error = built.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("research"), "{error}");
            assert!(error.contains("`finspace`"), "{error}");
        }
    }

    /// Each back-end's settings refuse keys that are not theirs: an unknown key stops the init.
    #[test]
    fn settings_refuse_keys_of_another_back_end() {
        for document in [
            r#"{"service": "cognito", "userPoolId": "us-east-1_Abc", "directoryId": "d-1234567890"}"#,
            r#"{"service": "directory", "directoryId": "d-1234567890", "userPoolId": "x"}"#,
            r#"{"service": "finspace", "environmentId": "env1", "refuseDisabled": true}"#,
            r#"{"service": "ldap", "url": "ldaps://example"}"#,
        ] {
            let error = serde_json::from_str::<BackendSettings>(document)
                .expect_err(document)
                .to_string();
            assert!(
                error.contains("unknown field") || error.contains("unknown variant"),
                "{document}: {error}"
            );
        }
    }
}
