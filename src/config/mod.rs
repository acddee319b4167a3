//! Typed, validated configuration: the only module that reads the environment.
//!
//! [`Config::from_env`] runs once at cold start. Anything unknown or invalid stops the init with
//! one [`InitError`] naming the key at fault, so a bad deployment fails loudly at its first
//! invocation instead of answering requests half-configured. See `docs/CONFIG.md`.
//!
//! The document's keys are parsed here and composed into the policies of the modules that
//! enforce them: [`AccessPolicy`] (auth), [`PasswordPolicy`] (password), [`RateLimits`]
//! (idempotency) and a back-end's own [`BackendSettings`], which its file in `reset/` defines
//! and validates.

use std::{collections::HashSet, env, fs, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    auth::{AccessPolicy, TokenPolicy},
    error::InitError,
    events::EventsConfig,
    idempotency::RateLimits,
    notify::NotificationsConfig,
    password::PasswordPolicy,
    reset::{Backend, BackendSettings, Capabilities, Mode},
};

/// Environment variable naming a file that holds the JSON configuration.
pub const CONFIG_FILE_VAR: &str = "RESETGATE_CONFIG_FILE";
/// Environment variable holding the JSON configuration inline.
pub const CONFIG_INLINE_VAR: &str = "RESETGATE_CONFIG";
/// Environment variable holding the keyed-hash secret itself: local runs and tests only.
pub const HMAC_KEY_VAR: &str = "RESETGATE_HMAC_KEY";
/// Environment variable naming the Secrets Manager secret that holds the keyed-hash secret: a
/// deployment's way. A key in the function's environment is readable by anyone allowed
/// `lambda:GetFunctionConfiguration`, who with a table `Scan` could test guesses of a chosen
/// password offline against its `set` fingerprint (docs/SECURITY.md).
pub const HMAC_KEY_SECRET_VAR: &str = "RESETGATE_HMAC_KEY_SECRET_ARN";
/// Environment variable Lambda's advanced logging controls set to the function's log level.
pub const LOG_LEVEL_VAR: &str = "AWS_LAMBDA_LOG_LEVEL";

/// Shortest accepted keyed-hash secret, in bytes (HMAC-SHA256 wants at least its output size).
pub const MIN_HMAC_KEY_LEN: usize = 32;
/// Shortest password length an operator may configure (NIST SP 800-63B: at least 8).
pub const MIN_PASSWORD_LENGTH: usize = 8;

mod secret;
mod target;

pub use secret::{HmacKeySource, read_secret};
use target::{TargetDocument, add_admin_groups_as_privileged, validate_target};

fn invalid(message: impl Into<String>) -> InitError {
    InitError::Config(message.into())
}

/// The whole configuration of one deployment.
#[derive(Debug)]
pub struct Config {
    /// The account stores callers may act on, in configuration order.
    pub targets: Vec<TargetConfig>,
    /// Where and for how long idempotency records live.
    pub idempotency: IdempotencyConfig,
    /// The claim holding the caller's groups (`cognito:groups` for Cognito-issued tokens).
    pub groups_claim: String,
    /// Which tokens are accepted, beyond what the authorizer checked.
    pub tokens: TokenPolicy,
    /// The secret for keyed hashes (idempotency records, audit references). Never logged.
    pub hmac_key: SecretString,
    /// Where the decisions' events go, if anywhere.
    pub events: Option<EventsConfig>,
    /// Whether and how users are told of a reset.
    pub notifications: Option<NotificationsConfig>,
}

/// One back-end account store, by name.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// URL slug callers use, e.g. `corp-ad`.
    pub name: String,
    /// Which back-end and its identifiers. Clients never send these.
    pub backend: BackendSettings,
    /// The modes this target offers.
    pub modes: Vec<Mode>,
    /// Who may reset whom.
    pub access: AccessPolicy,
    /// What a chosen or generated password must be.
    pub passwords: PasswordPolicy,
    /// Resets allowed per hour, per account and per caller.
    pub rate_limits: RateLimits,
}

impl TargetConfig {
    /// The target's back-end, described by its settings.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.backend()
    }

    /// What the back-end can do.
    pub fn capabilities(&self) -> &'static Capabilities {
        self.backend().capabilities()
    }
}

/// Idempotency record storage.
#[derive(Debug, Clone)]
pub struct IdempotencyConfig {
    /// DynamoDB table name.
    pub table: String,
    /// How long a completed request is remembered.
    pub ttl: Duration,
}

// ---- the JSON document, as written by operators -------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Document {
    targets: Vec<TargetDocument>,
    idempotency: IdempotencyDocument,
    #[serde(default)]
    groups_claim: Option<String>,
    #[serde(default)]
    token_use: Vec<String>,
    #[serde(default)]
    trusted_client_ids: Vec<String>,
    #[serde(default)]
    events: Option<EventsConfig>,
    #[serde(default)]
    notifications: Option<NotificationsConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IdempotencyDocument {
    table: String,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

/// Whether the AWS clients trust the system's CA store (where `SSL_CERT_FILE` or `SSL_CERT_DIR`
/// is set: a TLS-inspecting proxy, the AWS China partition) rather than the Amazon Trust
/// Services roots compiled in (`certs/`).
pub fn system_ca_store() -> bool {
    env::var_os("SSL_CERT_FILE").is_some() || env::var_os("SSL_CERT_DIR").is_some()
}

/// The log level `AWS_LAMBDA_LOG_LEVEL` names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL);
/// INFO when unset or unknown.
pub fn log_level() -> tracing::Level {
    use tracing::Level;
    match env::var(LOG_LEVEL_VAR)
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "TRACE" => Level::TRACE,
        "DEBUG" => Level::DEBUG,
        "WARN" => Level::WARN,
        "ERROR" | "FATAL" => Level::ERROR,
        _ => Level::INFO,
    }
}

impl Config {
    /// Reads `RESETGATE_CONFIG_FILE` or `RESETGATE_CONFIG` (exactly one) and validates it with
    /// the keyed-hash secret `hmac_key` (see [`HmacKeySource`]).
    pub fn from_env(hmac_key: SecretString) -> Result<Self, InitError> {
        let document = match (env::var(CONFIG_FILE_VAR), env::var(CONFIG_INLINE_VAR)) {
            (Ok(_), Ok(_)) => {
                return Err(invalid(format!(
                    "set {CONFIG_FILE_VAR} or {CONFIG_INLINE_VAR}, not both"
                )));
            }
            (Ok(path), Err(_)) => fs::read_to_string(&path)
                .map_err(|e| invalid(format!("{CONFIG_FILE_VAR}={path}: {e}")))?,
            (Err(_), Ok(inline)) => inline,
            (Err(_), Err(_)) => {
                return Err(invalid(format!(
                    "{CONFIG_FILE_VAR} or {CONFIG_INLINE_VAR} must be set"
                )));
            }
        };
        Self::parse(&document, hmac_key)
    }

    /// Parses and validates a JSON document with the given keyed-hash secret.
    pub fn parse(document: &str, hmac_key: SecretString) -> Result<Self, InitError> {
        if hmac_key.expose_secret().len() < MIN_HMAC_KEY_LEN {
            return Err(invalid(format!(
                "the keyed-hash secret ({HMAC_KEY_SECRET_VAR} or {HMAC_KEY_VAR}) must be at least {MIN_HMAC_KEY_LEN} characters"
            )));
        }
        let document: Document =
            serde_json::from_str(document).map_err(|e| invalid(e.to_string()))?;

        if document.targets.is_empty() {
            return Err(invalid("targets: at least one target is required"));
        }
        let mut names = HashSet::new();
        let mut targets = Vec::with_capacity(document.targets.len());
        for (index, target) in document.targets.into_iter().enumerate() {
            let target = validate_target(target)
                .map_err(|message| invalid(format!("targets[{index}]: {message}")))?;
            if !names.insert(target.name.clone()) {
                return Err(invalid(format!(
                    "targets[{index}]: duplicate target name {:?}",
                    target.name
                )));
            }
            targets.push(target);
        }

        add_admin_groups_as_privileged(&mut targets);

        let idempotency = validate_idempotency(document.idempotency)?;
        let groups_claim = document
            .groups_claim
            .unwrap_or_else(|| "cognito:groups".to_owned());
        if groups_claim.trim().is_empty() {
            return Err(invalid("groupsClaim must not be empty"));
        }
        if let Some(bad) = document
            .token_use
            .iter()
            .find(|u| !matches!(u.as_str(), "id" | "access"))
        {
            return Err(invalid(format!(
                "tokenUse {bad:?} must be \"id\" or \"access\""
            )));
        }
        if document
            .trusted_client_ids
            .iter()
            .any(|id| id.trim().is_empty())
        {
            return Err(invalid("trustedClientIds must not contain empty ids"));
        }
        let tokens = TokenPolicy {
            token_use: document.token_use,
            client_ids: document.trusted_client_ids,
        };
        if let Some(events) = &document.events {
            events.validate()?;
        }
        if let Some(notifications) = &document.notifications {
            notifications.validate()?;
        }
        Ok(Self {
            targets,
            idempotency,
            groups_claim,
            tokens,
            hmac_key,
            events: document.events,
            notifications: document.notifications,
        })
    }
}

fn validate_idempotency(doc: IdempotencyDocument) -> Result<IdempotencyConfig, InitError> {
    // DynamoDB table names: 3-255 of [a-zA-Z0-9_.-].
    let table_ok = (3..=255).contains(&doc.table.len())
        && doc
            .table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !table_ok {
        return Err(invalid(format!(
            "idempotency.table {:?} is not a DynamoDB table name",
            doc.table
        )));
    }
    // At most ten minutes: FinSpace client tokens expire after ten minutes, so a longer window
    // could not keep its promise for FinSpace targets (docs/AWS.md, FinSpace).
    let ttl_seconds = doc.ttl_seconds.unwrap_or(600);
    if !(60..=600).contains(&ttl_seconds) {
        return Err(invalid("idempotency.ttlSeconds must be between 60 and 600"));
    }
    Ok(IdempotencyConfig {
        table: doc.table,
        ttl: Duration::from_secs(ttl_seconds),
    })
}

/// A target name: 1-63 of `a-z0-9-`, starting and ending alphanumeric.
pub(crate) fn is_slug(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const TEST_KEY: &str = "unit-test-hmac-key-0123456789abcdef0123";

    /// The contract's example configuration.
    pub const CONTRACT_EXAMPLE: &str = r#"{
      "targets": [
        {"name": "app-users", "service": "cognito", "userPoolId": "us-east-1_AbCdEf123",
         "usernameClaim": "cognito:username", "adminGroups": ["helpdesk"],
         "modes": ["code", "generate", "set"], "protectedUsers": [], "maxAuthAgeSeconds": 900},
        {"name": "corp-ad", "service": "directory", "directoryId": "d-1234567890",
         "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"],
         "modes": ["generate", "set"], "protectedUsers": ["Administrator", "krbtgt"]},
        {"name": "research", "service": "finspace", "environmentId": "abcdef0123456789abcdef",
         "usernameClaim": "custom:finspace_user_id",
         "adminGroups": ["finspace-admins"], "modes": ["generate"]}
      ],
      "idempotency": {"table": "resetgate-idempotency", "ttlSeconds": 600}
    }"#;

    fn parse(document: &str) -> Result<Config, InitError> {
        Config::parse(document, SecretString::from(TEST_KEY))
    }

    fn with_target(target: &str) -> String {
        format!(r#"{{"targets": [{target}], "idempotency": {{"table": "t-idem"}}}}"#)
    }

    /// A pool that issues the callers' tokens protects every admin group on every target of
    /// that pool, also one whose own `trustedIssuers` name another issuer.
    #[test]
    fn admin_groups_are_privileged_on_every_target_of_an_issuing_pool() {
        let config = parse(
            r#"{"targets": [
              {"name": "staff", "service": "cognito", "userPoolId": "us-east-1_Pool",
               "usernameClaim": "cognito:username", "adminGroups": ["helpdesk"], "modes": ["code"]},
              {"name": "staff-legacy", "service": "cognito", "userPoolId": "us-east-1_Pool",
               "usernameClaim": "cognito:username", "adminGroups": ["ops"], "modes": ["code"],
               "trustedIssuers": ["https://idp.example.com/"]},
              {"name": "partners", "service": "cognito", "userPoolId": "us-east-1_Other",
               "usernameClaim": "cognito:username", "adminGroups": ["partner-admins"], "modes": ["code"],
               "trustedIssuers": ["https://idp.example.com/"]}
            ], "idempotency": {"table": "t-idem"}}"#,
        )
        .expect("valid");
        for target in &config.targets[..2] {
            for group in ["helpdesk", "ops", "partner-admins"] {
                assert!(
                    target.access.is_privileged_group(group),
                    "{} {group}",
                    target.name
                );
            }
        }
        // A pool that issues no caller's token has only its own protectedGroups.
        assert!(!config.targets[2].access.is_privileged_group("helpdesk"));
    }

    /// The document `template.yaml` ships in its configuration layer is a valid one.
    #[test]
    fn the_deployment_example_is_accepted() {
        parse(include_str!("../../deploy/config/resetgate.json"))
            .expect("deploy/config/resetgate.json");
    }

    /// Twenty targets do not fit in Lambda's 4 KB of environment variables; as a file
    /// (`RESETGATE_CONFIG_FILE`, the template's layer) they are read like any other document.
    #[test]
    fn a_document_of_twenty_targets_loads_from_a_file() {
        let targets: Vec<String> = (0..20)
            .map(|n| {
                format!(
                    r#"{{"name": "pool-{n}", "service": "cognito", "userPoolId": "eu-west-1_Pool{n:04}",
                       "usernameClaim": "cognito:username", "adminGroups": ["helpdesk-{n}"],
                       "modes": ["code", "generate", "set"], "protectedUsers": ["break-glass"],
                       "protectedGroups": ["admins"], "maxAuthAgeSeconds": 900,
                       "minPasswordStrength": 3, "rateLimits": {{"perAccountPerHour": 5, "perCallerPerHour": 20}}}}"#
                )
            })
            .collect();
        let document = format!(
            r#"{{"targets": [{}], "idempotency": {{"table": "resetgate-idempotency"}}}}"#,
            targets.join(",")
        );
        assert!(document.len() > 4096, "{} bytes", document.len());
        let path =
            std::env::temp_dir().join(format!("resetgate-20-targets-{}.json", std::process::id()));
        fs::write(&path, &document).expect("write");
        let read = fs::read_to_string(&path).expect("read");
        let _ = fs::remove_file(&path);
        assert_eq!(parse(&read).expect("20 targets").targets.len(), 20);
    }

    #[test]
    fn the_contract_example_is_accepted() {
        let config = parse(CONTRACT_EXAMPLE).expect("valid");
        assert_eq!(config.targets.len(), 3);
        assert_eq!(
            config.targets[0].backend().own_issuer().as_deref(),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123")
        );
        assert_eq!(config.targets[0].capabilities().name, "cognito");
        assert_eq!(
            config.targets[0].access.max_auth_age,
            Some(Duration::from_secs(900))
        );
        assert_eq!(config.targets[1].capabilities().name, "directory");
        assert_eq!(config.targets[2].capabilities().name, "finspace");
        assert!(
            format!("{:?}", config.targets[2].backend).contains("abcdef0123456789abcdef"),
            "the environment id is read"
        );
        assert_eq!(config.idempotency.ttl, Duration::from_secs(600));
        assert_eq!(config.groups_claim, "cognito:groups");
    }

    #[test]
    fn invalid_documents_are_refused_with_the_key_named() {
        let cognito = r#""name": "app", "service": "cognito", "userPoolId": "us-east-1_Abc", "usernameClaim": "cognito:username""#;
        let cases: Vec<(String, &str)> = vec![
            ("{".into(), "EOF"),
            (
                r#"{"targets": [], "idempotency": {"table": "t-idem"}}"#.into(),
                "at least one target",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "colour": "red"}}"#
                )),
                "unknown field `colour`",
            ),
            (
                with_target(&format!(r#"{{{cognito}, "modes": ["reboot"]}}"#)),
                "unknown variant `reboot`",
            ),
            (
                with_target(&format!(r#"{{{cognito}, "modes": []}}"#)),
                "at least one mode",
            ),
            (
                with_target(
                    r#"{"name": "research", "service": "finspace", "usernameClaim": "u", "modes": ["generate"]}"#,
                ),
                "environmentId is required",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "minPasswordStrength": 5}}"#
                )),
                "minPasswordStrength",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "trustedIssuers": ["http://issuer"]}}"#
                )),
                "https://",
            ),
            (
                with_target(
                    r#"{"name": "legacy", "service": "directory", "directoryId": "d-1234567890", "usernameClaim": "u", "modes": ["generate"], "refuseDisabled": false, "protectedGroups": ["Payroll"]}"#,
                ),
                "protectedGroups needs refuseDisabled",
            ),
            (
                with_target(&format!(r#"{{{cognito}, "modes": ["code", "code"]}}"#)),
                "listed twice",
            ),
            (
                with_target(
                    r#"{"name": "App", "service": "cognito", "userPoolId": "us-east-1_Abc", "usernameClaim": "u", "modes": ["code"]}"#,
                ),
                "slug",
            ),
            (
                with_target(
                    r#"{"name": "app", "service": "cognito", "usernameClaim": "u", "modes": ["code"]}"#,
                ),
                "userPoolId is required",
            ),
            (
                with_target(
                    r#"{"name": "app", "service": "cognito", "userPoolId": "nope", "usernameClaim": "u", "modes": ["code"]}"#,
                ),
                "not a user pool id",
            ),
            (
                with_target(
                    r#"{"name": "ad", "service": "directory", "directoryId": "d-12345", "usernameClaim": "u", "modes": ["set"]}"#,
                ),
                "directoryId",
            ),
            (
                with_target(
                    r#"{"name": "ad", "service": "directory", "directoryId": "d-1234567890", "usernameClaim": "u", "modes": ["code"]}"#,
                ),
                "mode code is not supported by service directory",
            ),
            (
                with_target(
                    r#"{"name": "fs", "service": "finspace", "environmentId": "env1", "usernameClaim": "u", "modes": ["set"]}"#,
                ),
                "mode set is not supported",
            ),
            (
                with_target(
                    r#"{"name": "fs", "service": "finspace", "userPoolId": "us-east-1_Abc", "usernameClaim": "u", "modes": ["generate"]}"#,
                ),
                "unknown field `userPoolId`",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "maxAuthAgeSeconds": 0}}"#
                )),
                "maxAuthAgeSeconds",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "minPasswordLength": 6}}"#
                )),
                "minPasswordLength",
            ),
            (
                with_target(&format!(
                    r#"{{{cognito}, "modes": ["code"], "adminGroups": [""]}}"#
                )),
                "adminGroups",
            ),
            (
                format!(
                    r#"{{"targets": [{{{cognito}, "modes": ["code"]}}, {{{cognito}, "modes": ["set"]}}], "idempotency": {{"table": "t-idem"}}}}"#
                ),
                "duplicate target name",
            ),
            (
                format!(
                    r#"{{"targets": [{{{cognito}, "modes": ["code"]}}], "idempotency": {{"table": "t"}}}}"#
                ),
                "idempotency.table",
            ),
            (
                format!(
                    r#"{{"targets": [{{{cognito}, "modes": ["code"]}}], "idempotency": {{"table": "t-idem", "ttlSeconds": 86400}}}}"#
                ),
                "ttlSeconds",
            ),
            (
                format!(r#"{{"targets": [{{{cognito}, "modes": ["code"]}}]}}"#),
                "missing field `idempotency`",
            ),
        ];
        for (document, expected) in cases {
            let error = parse(&document).expect_err(&document).to_string();
            assert!(
                error.contains(expected),
                "{document}\n -> {error}\n expected: {expected}"
            );
        }
    }

    #[test]
    fn a_short_hmac_key_is_refused() {
        let error =
            Config::parse(CONTRACT_EXAMPLE, SecretString::from("short")).expect_err("short key");
        assert!(error.to_string().contains("RESETGATE_HMAC_KEY"));
        assert!(!error.to_string().contains("short\""));
    }

    #[test]
    fn directories_always_protect_the_builtin_accounts() {
        let config = parse(&with_target(
            r#"{"name": "ad", "service": "directory", "directoryId": "d-1234567890", "usernameClaim": "u", "modes": ["set"]}"#,
        ))
        .expect("valid");
        assert!(config.targets[0].access.is_protected("administrator"));
        assert!(config.targets[0].access.is_protected("KRBTGT"));
        assert!(!config.targets[0].access.is_protected("alice"));
    }

    #[test]
    fn slugs() {
        for good in ["a", "app-users", "corp-ad", "x1"] {
            assert!(is_slug(good), "{good}");
        }
        for bad in ["", "-a", "a-", "App", "a_b", "a b", &"a".repeat(64)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
