//! A target's part of the document: the keys every back-end shares, composed into the
//! policies `auth` and `password` enforce, and the back-end's own settings.

use std::{collections::HashSet, time::Duration};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{MIN_PASSWORD_LENGTH, TargetConfig, is_slug};
use crate::{
    auth::AccessPolicy,
    idempotency::RateLimits,
    password::PasswordPolicy,
    reset::{BackendSettings, Capabilities, Mode, fold_username},
};

/// A target's keys common to every back-end. The rest (`service` and the back-end's own keys)
/// is read as the back-end's settings, which refuse any key they do not know: so an unknown
/// key still stops the init (serde cannot combine `flatten` with `deny_unknown_fields`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TargetDocument {
    name: String,
    username_claim: String,
    #[serde(default)]
    admin_groups: Vec<String>,
    modes: Vec<Mode>,
    #[serde(default)]
    protected_users: Vec<String>,
    #[serde(default)]
    protected_groups: Vec<String>,
    #[serde(default)]
    trusted_issuers: Option<Vec<String>>,
    #[serde(default)]
    max_auth_age_seconds: Option<u64>,
    #[serde(default)]
    rate_limits: Option<RateLimits>,
    #[serde(default)]
    min_password_length: Option<usize>,
    #[serde(default)]
    min_password_strength: Option<u8>,
    #[serde(default)]
    generated_password_length: Option<usize>,
    #[serde(flatten)]
    backend: Map<String, Value>,
}

/// A Cognito pool that issues the callers' tokens (its issuer is among its target's
/// `trustedIssuers`) holds the callers' group memberships: a member of any target's admin
/// group there is a helpdesk seat, and an admin must not be able to take it over.
///
/// Whether a pool issues the callers' tokens is a property of the pool: if any target trusts
/// a pool's own issuer, every target on that pool protects the admin groups (a second target on
/// the same pool with other `trustedIssuers` must not let its admins reset a helpdesk member).
pub(super) fn add_admin_groups_as_privileged(targets: &mut [TargetConfig]) {
    let admin_groups: Vec<String> = targets
        .iter()
        .flat_map(|target| target.access.admin_groups.iter().cloned())
        .collect();
    let issuing: HashSet<String> = targets
        .iter()
        .filter_map(|target| {
            target
                .backend()
                .own_issuer()
                .filter(|issuer| target.access.trusts_issuer(Some(issuer)))
        })
        .collect();
    for target in targets {
        if target
            .backend()
            .own_issuer()
            .is_some_and(|issuer| issuing.contains(&issuer))
        {
            for group in &admin_groups {
                if !target.access.privileged_groups.contains(group) {
                    target.access.privileged_groups.push(group.clone());
                }
            }
        }
    }
}

pub(super) fn validate_target(mut doc: TargetDocument) -> Result<TargetConfig, String> {
    if !is_slug(&doc.name) {
        return Err(format!(
            "name {:?} must be a slug: 1-63 of a-z, 0-9 and '-', starting and ending alphanumeric",
            doc.name
        ));
    }
    let service = doc
        .backend
        .get("service")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let context = |message: String| format!("{} ({service}): {message}", doc.name);
    let settings = BackendSettings::deserialize(Value::Object(std::mem::take(&mut doc.backend)))
        .map_err(|e| context(e.to_string()))?;
    let backend = settings.backend();
    backend.validate().map_err(context)?;
    let capabilities = backend.capabilities();

    if doc.username_claim.trim().is_empty() {
        return Err(context("usernameClaim must not be empty".into()));
    }
    if doc.admin_groups.iter().any(|group| group.trim().is_empty()) {
        return Err(context("adminGroups must not contain empty names".into()));
    }
    if doc.modes.is_empty() {
        return Err(context("modes must list at least one mode".into()));
    }
    let mut seen = HashSet::new();
    for mode in &doc.modes {
        if !seen.insert(*mode) {
            return Err(context(format!("mode {} is listed twice", mode.as_str())));
        }
        if !capabilities.supports(*mode) {
            return Err(context(format!(
                "mode {} is not supported by service {service}",
                mode.as_str(),
            )));
        }
    }
    if doc.protected_users.iter().any(|user| user.is_empty()) {
        return Err(context(
            "protectedUsers must not contain empty names".into(),
        ));
    }
    let max_auth_age = match doc.max_auth_age_seconds {
        Some(0) => return Err(context("maxAuthAgeSeconds must be positive".into())),
        Some(seconds) => Some(Duration::from_secs(seconds)),
        None => None,
    };
    let passwords = validate_passwords(&doc, capabilities).map_err(context)?;

    if doc
        .protected_groups
        .iter()
        .any(|group| group.trim().is_empty())
    {
        return Err(context(
            "protectedGroups must not contain empty names".into(),
        ));
    }
    if !doc.protected_groups.is_empty() {
        backend
            .reads_groups()
            .map_err(|why| context(why.to_owned()))?;
    }
    let trusted_issuers = match doc.trusted_issuers {
        Some(issuers) => {
            if issuers.is_empty() {
                return Err(context(
                    "trustedIssuers must name at least one issuer (omit it for the default)".into(),
                ));
            }
            if let Some(bad) = issuers
                .iter()
                .find(|issuer| !issuer.starts_with("https://"))
            {
                return Err(context(format!(
                    "trustedIssuers entry {bad:?} must be an https:// issuer URL"
                )));
            }
            Some(issuers)
        }
        None => backend.own_issuer().map(|issuer| vec![issuer]),
    };

    let access = AccessPolicy {
        username_claim: doc.username_claim,
        admin_groups: doc.admin_groups,
        trusted_issuers,
        protected_users: with_builtins(doc.protected_users, capabilities.protected_names),
        privileged_groups: with_builtins(doc.protected_groups, capabilities.privileged_groups),
        max_auth_age,
        folded_names: capabilities.folded_names,
    };
    Ok(TargetConfig {
        name: doc.name,
        backend: settings,
        modes: doc.modes,
        access,
        passwords,
        rate_limits: doc.rate_limits.unwrap_or_default(),
    })
}

/// The operator's names plus the back-end's built-in ones, each once (folded).
fn with_builtins(mut names: Vec<String>, builtins: &[&str]) -> Vec<String> {
    for builtin in builtins {
        if !names
            .iter()
            .any(|name| fold_username(name) == fold_username(builtin))
        {
            names.push((*builtin).to_owned());
        }
    }
    names
}

fn validate_passwords(
    doc: &TargetDocument,
    capabilities: &Capabilities,
) -> Result<PasswordPolicy, String> {
    let max_len = capabilities.max_password_chars;
    let min_password_length = doc.min_password_length.unwrap_or(MIN_PASSWORD_LENGTH);
    if !(MIN_PASSWORD_LENGTH..=max_len).contains(&min_password_length) {
        return Err(format!(
            "minPasswordLength must be between {MIN_PASSWORD_LENGTH} and {max_len}"
        ));
    }
    // zxcvbn's score 3: "safely unguessable: moderate protection from offline slow-hash
    // scenario" (more than 10^8 guesses).
    let min_password_strength = doc.min_password_strength.unwrap_or(3);
    if min_password_strength > 4 {
        return Err("minPasswordStrength must be a zxcvbn score from 0 to 4".into());
    }
    let generated_password_length = doc.generated_password_length.unwrap_or(20);
    if !(16..=64).contains(&generated_password_length)
        || generated_password_length < min_password_length
    {
        return Err(
            "generatedPasswordLength must be between 16 and 64 and at least minPasswordLength"
                .into(),
        );
    }
    Ok(PasswordPolicy {
        min_chars: min_password_length,
        max_chars: max_len,
        min_strength: min_password_strength,
        generated_chars: generated_password_length,
    })
}
