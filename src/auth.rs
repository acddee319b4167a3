//! Who the caller is, from the API Gateway authorizer context only, and what they may do.
//!
//! Only `requestContext` is trusted: API Gateway writes it after its authorizer validated the
//! token. Headers, query and body are the caller's and are never read for identity. The three
//! front doors put the claims in different places and formats (see `docs/API.md`):
//!
//! | front door | claims | array claims |
//! |---|---|---|
//! | HTTP API, payload 2.0, JWT authorizer | `authorizer.jwt.claims` | one string `"[a b]"` |
//! | HTTP API, payload 1.0 | `authorizer.claims` | one string `"[a b]"` |
//! | REST API, Cognito authorizer | `authorizer.claims` | one string `"a,b"` |
//!
//! The decision functions are pure: deny by default, groups compared exactly.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use serde_json::Value;

use crate::{
    config::{TargetConfig, TokenPolicy},
    error::Error,
    reset::Account,
};

/// The explanation given for a protected account, wherever it is detected.
pub const PROTECTED_ACCOUNT: &str = "This account is protected and cannot be reset here.";
/// The explanation given when an account's groups could not all be read for an admin.
pub const UNCHECKED_ACCOUNT: &str = "This account's group memberships could not all be checked in time: an admin cannot reset it here. Its owner can, through self-service.";
/// The explanation given when an admin names a privileged account.
pub const PRIVILEGED_ACCOUNT: &str = "This account is privileged: an admin cannot reset it here. Its owner can, through self-service.";

/// An authenticated caller: the token's claims as API Gateway's authorizer passed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: the stable identity of the caller (audit `actor`).
    pub sub: String,
    claims: HashMap<String, String>,
    groups: Vec<String>,
}

impl Caller {
    /// The caller of a request, or `UNAUTHENTICATED` when the context holds no claims from a
    /// JWT or Cognito authorizer (no authorizer, IAM, Lambda authorizer, unknown shape).
    pub fn from_context(
        context: Option<&RequestContext>,
        groups_claim: &str,
    ) -> Result<Self, Error> {
        let claims = match context {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|authorizer| authorizer.jwt.as_ref())
                .map(|jwt| jwt.claims.clone()),
            Some(RequestContext::ApiGatewayV1(context)) => {
                match context.authorizer.fields.get("claims") {
                    Some(Value::Object(claims)) => Some(
                        claims
                            .iter()
                            .filter_map(|(name, value)| {
                                claim_text(value).map(|text| (name.clone(), text))
                            })
                            .collect(),
                    ),
                    _ => None,
                }
            }
            _ => None,
        };
        let claims = claims.ok_or(Error::Unauthenticated)?;
        let sub = claims
            .get("sub")
            .filter(|sub| !sub.trim().is_empty())
            .cloned()
            .ok_or(Error::Unauthenticated)?;
        let groups = claims
            .get(groups_claim)
            .map(|value| parse_groups(value))
            .unwrap_or_default();
        Ok(Self {
            sub,
            claims,
            groups,
        })
    }

    /// The value of a claim, if present and not empty.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Whether the caller is in any of `groups` (exact, case-sensitive comparison).
    pub fn in_any_group(&self, groups: &[String]) -> bool {
        self.groups.iter().any(|group| groups.contains(group))
    }
}

/// A claim's value as text. Payload 1.0 and REST pass strings; JSON numbers and booleans are
/// rendered, and a JSON array becomes the HTTP API's `"[a b]"` form.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().filter_map(claim_text).collect();
            Some(format!("[{}]", items.join(" ")))
        }
        Value::Null | Value::Object(_) => None,
    }
}

/// Splits a group claim: `"[a b]"` (HTTP API's rendering of a JSON array) or `"a,b"` (REST's).
/// Cognito group names contain no white space, so neither form is ambiguous.
pub fn parse_groups(value: &str) -> Vec<String> {
    let value = value.trim();
    let names: Vec<&str> = match value
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
    {
        Some(inner) => inner.split_whitespace().collect(),
        None => value.split(',').map(str::trim).collect(),
    };
    names
        .into_iter()
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whose account a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The caller's own account (`POST /v1/targets/{target}/password-reset`).
    Own,
    /// Another user's account (`POST /v1/targets/{target}/users/{username}/password-reset`).
    Other(&'a str),
}

/// Permission to reset one account on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The account on the target.
    pub username: String,
    /// Whether the permission comes from an admin group (audit `admin`).
    pub admin: bool,
}

/// Decides whether `caller` may reset `subject` on `target`. Deny by default:
/// - own account: the username is the token's `usernameClaim`, never the request's, and only
///   from a token of one of the target's `trustedIssuers` (with two pools behind one
///   authorizer, pool A's `bob` is not pool B's `bob`);
/// - another account: only members of the target's `adminGroups`, even if the name is the
///   caller's own (self-service has its own route and its own checks).
///
/// Protected accounts are refused separately ([`check_not_protected`]) so that the audit line
/// of that refusal can name the account and the admin.
pub fn authorize(
    caller: &Caller,
    target: &TargetConfig,
    subject: Subject<'_>,
) -> Result<Grant, Error> {
    match subject {
        Subject::Own => {
            let username = caller
                .claim(&target.username_claim)
                .ok_or(Error::Forbidden(
                    "Your sign-in carries no account on this target.",
                ))?;
            if !target.trusts_issuer(caller.claim("iss")) {
                return Err(Error::Forbidden(
                    "Your sign-in was not issued for accounts on this target.",
                ));
            }
            Ok(Grant {
                username: username.to_owned(),
                admin: false,
            })
        }
        Subject::Other(username) if caller.in_any_group(&target.admin_groups) => Ok(Grant {
            username: username.to_owned(),
            admin: true,
        }),
        Subject::Other(_) => Err(Error::Forbidden(
            "You may not reset other users' passwords on this target.",
        )),
    }
}

/// Nobody may reset a protected account (`TARGET_NOT_ELIGIBLE`), whatever the case of its name.
pub fn check_not_protected(target: &TargetConfig, username: &str) -> Result<(), Error> {
    if target.is_protected(username) {
        return Err(Error::TargetNotEligible(PROTECTED_ACCOUNT));
    }
    Ok(())
}

/// Whether the account the back-end described may be reset (contract: "Who can be reset"),
/// `TARGET_NOT_ELIGIBLE` otherwise:
/// - nobody resets a protected account, by its canonical name or as requested;
/// - an admin does not reset a privileged account: a back-end administrator (FinSpace
///   `SUPER_USER`) or a member of one of the target's privileged groups. Its owner still can,
///   through self-service;
/// - an admin does not reset an account whose nested groups could not all be read (the walk
///   hit its deadline or bound): fail closed, as it might be privileged.
pub fn check_eligible(
    target: &TargetConfig,
    account: &Account,
    requested: &str,
    admin: bool,
) -> Result<(), Error> {
    check_not_protected(target, requested)?;
    check_not_protected(target, account.name(requested))?;
    if admin
        && (account.superuser
            || account
                .groups
                .iter()
                .any(|group| target.is_privileged_group(group)))
    {
        return Err(Error::TargetNotEligible(PRIVILEGED_ACCOUNT));
    }
    if admin && account.groups_incomplete {
        return Err(Error::TargetNotEligible(UNCHECKED_ACCOUNT));
    }
    Ok(())
}

/// Narrows the tokens the authorizer accepted (`UNAUTHENTICATED` otherwise): the `token_use`
/// and the app client, where the claims carry them.
pub fn check_token(caller: &Caller, policy: &TokenPolicy) -> Result<(), Error> {
    if let Some(token_use) = caller.claim("token_use")
        && !policy.token_use.is_empty()
        && !policy.token_use.iter().any(|allowed| allowed == token_use)
    {
        return Err(Error::Unauthenticated);
    }
    if !policy.client_ids.is_empty() {
        // Access tokens name their client in `client_id`, ID tokens in `aud`.
        let client = caller.claim("client_id").or_else(|| caller.claim("aud"));
        if !client.is_some_and(|client| policy.client_ids.iter().any(|trusted| trusted == client)) {
            return Err(Error::Unauthenticated);
        }
    }
    Ok(())
}

/// Self-service `generate` and `set` on a target with `maxAuthAgeSeconds` need a recent
/// sign-in: the token's `auth_time` (epoch seconds) at most `max_age` before `now` (OWASP ASVS
/// V3.7.1: re-authenticate before changing a credential). Both hand the token holder a
/// working credential; `code` sends a code to the user's verified channel and is exempt. A
/// missing or unreadable `auth_time` fails.
pub fn check_recent_sign_in(
    caller: &Caller,
    max_age: std::time::Duration,
    now_epoch_secs: u64,
) -> Result<(), Error> {
    let auth_time: u64 = caller
        .claim("auth_time")
        .and_then(|value| value.parse().ok())
        .ok_or(Error::ReauthenticationRequired)?;
    // A clock skew of a few seconds in the token's favour is not an old sign-in.
    if now_epoch_secs.saturating_sub(auth_time) > max_age.as_secs() {
        return Err(Error::ReauthenticationRequired);
    }
    Ok(())
}

/// What a caller may do on a target, for `GET /v1/targets`; `None` when nothing.
pub fn capabilities(caller: &Caller, target: &TargetConfig) -> Option<(bool, bool)> {
    let own =
        caller.claim(&target.username_claim).is_some() && target.trusts_issuer(caller.claim("iss"));
    let admin = caller.in_any_group(&target.admin_groups);
    (own || admin).then_some((own, admin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Backend, TargetConfig};

    fn target() -> TargetConfig {
        TargetConfig {
            name: "app-users".into(),
            backend: Backend::Cognito {
                user_pool_id: "us-east-1_Pool".into(),
            },
            username_claim: "cognito:username".into(),
            admin_groups: vec!["helpdesk".into()],
            modes: vec![crate::reset::Mode::Generate],
            protected_users: vec!["break-glass".into()],
            privileged_groups: vec!["helpdesk".into(), "admins".into()],
            trusted_issuers: Some(vec![ISSUER.into()]),
            max_auth_age: None,
            min_password_length: 8,
            min_password_strength: 3,
            generated_password_length: 20,
            rate_limits: crate::config::RateLimits::default(),
        }
    }

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool";

    /// A caller with `claims`; an `iss` of the target's pool unless `claims` names one.
    fn caller(claims: &[(&str, &str)]) -> Caller {
        let mut claims = claims.to_vec();
        if !claims.iter().any(|(name, _)| *name == "iss") {
            claims.push(("iss", ISSUER));
        }
        let claims: HashMap<String, String> = claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let groups = claims
            .get("cognito:groups")
            .map(|g| parse_groups(g))
            .unwrap_or_default();
        Caller {
            sub: claims.get("sub").cloned().unwrap_or_default(),
            claims,
            groups,
        }
    }

    #[test]
    fn group_claims_in_both_formats() {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("[helpdesk]", vec!["helpdesk"]),
            ("[helpdesk auditors]", vec!["helpdesk", "auditors"]),
            ("[ helpdesk   auditors ]", vec!["helpdesk", "auditors"]),
            ("[]", vec![]),
            ("helpdesk", vec!["helpdesk"]),
            ("helpdesk,auditors", vec!["helpdesk", "auditors"]),
            ("helpdesk, auditors", vec!["helpdesk", "auditors"]),
            ("", vec![]),
            (",,", vec![]),
            (
                "[superhelpdesk helpdesk-readonly]",
                vec!["superhelpdesk", "helpdesk-readonly"],
            ),
        ];
        for (claim, expected) in cases {
            assert_eq!(parse_groups(claim), expected, "{claim:?}");
        }
    }

    #[test]
    fn authorization_table() {
        let alice = caller(&[("sub", "s-alice"), ("cognito:username", "alice")]);
        let helen = caller(&[
            ("sub", "s-helen"),
            ("cognito:username", "helen"),
            ("cognito:groups", "[helpdesk]"),
        ]);
        let helen_rest = caller(&[
            ("sub", "s-helen"),
            ("cognito:username", "helen"),
            ("cognito:groups", "auditors,helpdesk"),
        ]);
        let mallory = caller(&[
            ("sub", "s-m"),
            ("cognito:username", "mallory"),
            (
                "cognito:groups",
                "[superhelpdesk Helpdesk helpdesk-readonly]",
            ),
        ]);
        let no_account = caller(&[("sub", "s-x")]);
        let glass = caller(&[("sub", "s-g"), ("cognito:username", "Break-Glass")]);

        type Case<'a> = (
            &'a str,
            &'a Caller,
            Subject<'a>,
            Result<(&'a str, bool), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                "self service uses the claim",
                &alice,
                Subject::Own,
                Ok(("alice", false)),
            ),
            (
                "no username claim, no self service",
                &no_account,
                Subject::Own,
                Err("FORBIDDEN"),
            ),
            (
                "non-admin naming another user",
                &alice,
                Subject::Other("bob"),
                Err("FORBIDDEN"),
            ),
            (
                "non-admin naming themselves on the admin path",
                &alice,
                Subject::Other("alice"),
                Err("FORBIDDEN"),
            ),
            (
                "admin group, HTTP API form",
                &helen,
                Subject::Other("bob"),
                Ok(("bob", true)),
            ),
            (
                "admin group, REST form",
                &helen_rest,
                Subject::Other("bob"),
                Ok(("bob", true)),
            ),
            (
                "look-alike groups are not admin",
                &mallory,
                Subject::Other("bob"),
                Err("FORBIDDEN"),
            ),
            (
                "protected user, admin",
                &helen,
                Subject::Other("break-glass"),
                Err("TARGET_NOT_ELIGIBLE"),
            ),
            (
                "protected user, any case",
                &helen,
                Subject::Other("BREAK-GLASS"),
                Err("TARGET_NOT_ELIGIBLE"),
            ),
            (
                "protected user, self",
                &glass,
                Subject::Own,
                Err("TARGET_NOT_ELIGIBLE"),
            ),
        ];
        for (name, who, subject, expected) in cases {
            let got = authorize(who, &target(), subject)
                .and_then(|grant| check_not_protected(&target(), &grant.username).map(|()| grant));
            match (got, expected) {
                (Ok(grant), Ok((username, admin))) => {
                    assert_eq!(
                        (grant.username.as_str(), grant.admin),
                        (username, admin),
                        "{name}"
                    )
                }
                (Err(error), Err(code)) => assert_eq!(error.code(), code, "{name}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn issuer_binding_table() {
        let pool_b = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other";
        let mut any_issuer = target();
        any_issuer.trusted_issuers = None;
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            &'a TargetConfig,
            Result<(), &'a str>,
        );
        let t = target();
        let cases: Vec<Case> = vec![
            ("the pool's own issuer", Some(ISSUER), &t, Ok(())),
            ("another pool's bob", Some(pool_b), &t, Err("FORBIDDEN")),
            (
                "an issuer with a trailing slash",
                Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool/"),
                &t,
                Err("FORBIDDEN"),
            ),
            ("no issuer at all", None, &t, Err("FORBIDDEN")),
            (
                "any issuer, where the target trusts any",
                Some(pool_b),
                &any_issuer,
                Ok(()),
            ),
            (
                "no issuer, where the target trusts any",
                None,
                &any_issuer,
                Ok(()),
            ),
        ];
        for (name, issuer, target, expected) in cases {
            let mut claims = vec![("sub", "s-bob"), ("cognito:username", "bob")];
            // `caller` adds the pool's issuer unless one is given; "" stands for none.
            claims.push(("iss", issuer.unwrap_or("")));
            let got = authorize(&caller(&claims), target, Subject::Own).map(drop);
            match (got, expected) {
                (Ok(()), Ok(())) => {}
                (Err(error), Err(code)) => assert_eq!(error.code(), code, "{name}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
            // The target list agrees.
            assert_eq!(
                capabilities(&caller(&claims), target).is_some(),
                expected.is_ok(),
                "{name}"
            );
        }
        // Admin rights come from the groups, whoever issued the token.
        let helen = caller(&[
            ("sub", "h"),
            ("iss", pool_b),
            ("cognito:groups", "[helpdesk]"),
        ]);
        assert!(authorize(&helen, &target(), Subject::Other("bob")).is_ok());
    }

    #[test]
    fn privileged_accounts_table() {
        let account = |canonical: Option<&str>, groups: &[&str], superuser: bool| Account {
            canonical: canonical.map(str::to_owned),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            superuser,
            ..Account::default()
        };
        let mut directory = target();
        directory.backend = crate::config::Backend::Directory {
            directory_id: "d-1234567890".into(),
            refuse_disabled: true,
        };
        directory.privileged_groups = vec!["Domain Admins".into()];
        directory.protected_users = vec!["Administrator".into(), "Admin".into()];
        type Case<'a> = (
            &'a str,
            &'a TargetConfig,
            Account,
            &'a str,
            bool,
            Result<(), ()>,
        );
        let t = target();
        let cases: Vec<Case> = vec![
            (
                "plain user, admin",
                &t,
                account(Some("bob"), &["readers"], false),
                "bob",
                true,
                Ok(()),
            ),
            (
                "helpdesk member, by an admin",
                &t,
                account(Some("hank"), &["readers", "helpdesk"], false),
                "hank",
                true,
                Err(()),
            ),
            (
                "helpdesk member, themselves",
                &t,
                account(Some("hank"), &["helpdesk"], false),
                "hank",
                false,
                Ok(()),
            ),
            (
                "cognito group names are exact",
                &t,
                account(Some("bob"), &["Helpdesk"], false),
                "bob",
                true,
                Ok(()),
            ),
            (
                "alias of a protected user",
                &t,
                account(Some("break-glass"), &[], false),
                "bg@example.com",
                true,
                Err(()),
            ),
            (
                "alias of a protected user, self",
                &t,
                account(Some("break-glass"), &[], false),
                "bg@example.com",
                false,
                Err(()),
            ),
            (
                "superuser, by an admin",
                &t,
                account(Some("root"), &[], true),
                "root",
                true,
                Err(()),
            ),
            (
                "superuser, themselves",
                &t,
                account(Some("root"), &[], true),
                "root",
                false,
                Ok(()),
            ),
            (
                "directory groups fold case",
                &directory,
                account(Some("carol"), &["DOMAIN ADMINS"], false),
                "carol",
                true,
                Err(()),
            ),
            (
                "directory Admin, canonical",
                &directory,
                account(Some("Admin"), &[], false),
                "admin",
                true,
                Err(()),
            ),
            (
                "directory Admin, self",
                &directory,
                account(Some("Admin"), &[], false),
                "admin",
                false,
                Err(()),
            ),
            (
                "Simple AD: no read, folded name",
                &directory,
                account(None, &[], false),
                "administrator",
                true,
                Err(()),
            ),
            (
                "groups cut short, by an admin",
                &directory,
                Account {
                    groups_incomplete: true,
                    ..account(Some("carol"), &["Staff"], false)
                },
                "carol",
                true,
                Err(()),
            ),
            (
                "groups cut short, themselves",
                &directory,
                Account {
                    groups_incomplete: true,
                    ..account(Some("carol"), &["Staff"], false)
                },
                "carol",
                false,
                Ok(()),
            ),
        ];
        for (name, target, account, requested, admin, expected) in cases {
            let got = check_eligible(target, &account, requested, admin);
            match (&got, expected) {
                (Ok(()), Ok(())) => {}
                (Err(error), Err(())) => assert_eq!(error.code(), "TARGET_NOT_ELIGIBLE", "{name}"),
                _ => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn recent_sign_in_table() {
        let max = std::time::Duration::from_secs(900);
        let now = 1_750_000_000;
        let cases: Vec<(Option<&str>, bool)> = vec![
            (Some("1750000000"), true),
            (Some("1749999100"), true),
            (Some("1749999099"), false),
            (Some("1750000030"), true),
            (Some("yesterday"), false),
            (Some("-5"), false),
            (None, false),
        ];
        for (auth_time, ok) in cases {
            let mut claims = vec![("sub", "s")];
            if let Some(value) = auth_time {
                claims.push(("auth_time", value));
            }
            let result = check_recent_sign_in(&caller(&claims), max, now);
            assert_eq!(result.is_ok(), ok, "{auth_time:?}");
            if let Err(error) = result {
                assert_eq!(error.code(), "REAUTHENTICATION_REQUIRED");
            }
        }
    }

    #[test]
    fn token_policy_table() {
        let policy = TokenPolicy {
            token_use: vec!["id".into()],
            client_ids: vec!["portal".into()],
        };
        let open = TokenPolicy::default();
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a TokenPolicy, bool);
        let cases: Vec<Case> = vec![
            (vec![("token_use", "id"), ("aud", "portal")], &policy, true),
            (
                vec![("token_use", "access"), ("client_id", "portal")],
                &policy,
                false,
            ),
            (
                vec![("token_use", "id"), ("aud", "other-client")],
                &policy,
                false,
            ),
            (vec![("token_use", "id")], &policy, false),
            (vec![("aud", "portal")], &policy, true),
            (
                vec![("token_use", "refresh"), ("aud", "anything")],
                &open,
                true,
            ),
            (vec![], &open, true),
        ];
        for (claims, policy, ok) in cases {
            let mut all = vec![("sub", "s")];
            all.extend(claims.iter().copied());
            assert_eq!(
                check_token(&caller(&all), policy).is_ok(),
                ok,
                "{claims:?} {policy:?}"
            );
        }
    }

    #[test]
    fn capabilities_for_listing() {
        let alice = caller(&[("sub", "s-alice"), ("cognito:username", "alice")]);
        let helen = caller(&[("sub", "s-helen"), ("cognito:groups", "[helpdesk]")]);
        let nobody = caller(&[("sub", "s-n")]);
        assert_eq!(capabilities(&alice, &target()), Some((true, false)));
        assert_eq!(capabilities(&helen, &target()), Some((false, true)));
        assert_eq!(capabilities(&nobody, &target()), None);
    }

    #[test]
    fn claims_come_only_from_a_jwt_or_cognito_authorizer() {
        let from = |event: &str| {
            let request = lambda_http::request::from_str(event).expect("event");
            let context = lambda_http::RequestExt::request_context_ref(&request).cloned();
            Caller::from_context(context.as_ref(), "cognito:groups")
        };
        let v2 = from(include_str!("../events/admin-generate.json")).expect("v2 caller");
        assert!(v2.in_any_group(&["helpdesk".into()]));
        let rest = from(include_str!("../events/rest-admin-set.json")).expect("REST caller");
        assert_eq!(
            rest,
            Caller {
                sub: rest.sub.clone(),
                claims: rest.claims.clone(),
                groups: vec!["helpdesk".into(), "auditors".into()]
            }
        );
        let v1 =
            from(include_str!("../events/payload-v1-self-code.json")).expect("payload 1.0 caller");
        assert_eq!(v1.claim("cognito:username"), Some("alice"));
        assert_eq!(
            from(include_str!("../events/no-authorizer.json"))
                .expect_err("none")
                .code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Caller::from_context(None, "cognito:groups")
                .expect_err("none")
                .code(),
            "UNAUTHENTICATED"
        );
    }

    #[test]
    fn array_claims_from_payload_1_0_render_like_http_api() {
        assert_eq!(
            claim_text(&serde_json::json!(["a", "b"])),
            Some("[a b]".into())
        );
        assert_eq!(
            claim_text(&serde_json::json!(1700000000)),
            Some("1700000000".into())
        );
        assert_eq!(claim_text(&Value::Null), None);
    }
}
