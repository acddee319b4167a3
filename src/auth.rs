//! Who the caller is, from the claims API Gateway's authorizer checked, and what they may do.
//!
//! Only the authorizer's claims are trusted (`http` takes them from `requestContext`, where
//! API Gateway writes them after validating the token); headers, query and body are the
//! caller's and never identify anyone. The decision functions are pure: deny by default,
//! groups compared exactly. Each target's rules are an [`AccessPolicy`], built by `config`.

use std::{collections::HashMap, time::Duration};

use crate::{
    error::{Error, Ineligible},
    reset::{Account, fold_username},
};

/// Who may do what on one target, and whom nobody may reset there.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// The claim whose value is the caller's own username on this target.
    pub username_claim: String,
    /// Callers in any of these groups may reset other users on this target.
    pub admin_groups: Vec<String>,
    /// Token issuers (`iss`) whose `usernameClaim` names an account on this target; `None`
    /// trusts any issuer the authorizer accepted. A Cognito target defaults to its own pool.
    pub trusted_issuers: Option<Vec<String>>,
    /// Usernames nobody may reset through the function; a back-end's built-in accounts are
    /// always among them.
    pub protected_users: Vec<String>,
    /// Back-end groups whose members an admin may not reset (contract: "Who can be reset").
    pub privileged_groups: Vec<String>,
    /// Self-service `generate` and `set` need a token whose `auth_time` is at most this old.
    pub max_auth_age: Option<Duration>,
    /// Whether names compare folded ([`fold_username`], as Active Directory compares them) or
    /// exactly. Protected names always compare folded: a near miss is never a way past them.
    pub folded_names: bool,
}

impl AccessPolicy {
    /// Whether `username` is on the protected list, compared on the folded name: Active
    /// Directory (and Samba, behind Simple AD) compares account names case-insensitively and
    /// ignores leading, trailing and repeated spaces, so `"Administrator "` is `Administrator`.
    pub fn is_protected(&self, username: &str) -> bool {
        let username = fold_username(username);
        self.protected_users
            .iter()
            .any(|protected| fold_username(protected) == username)
    }

    /// Whether membership of the back-end group `group` makes an account privileged here.
    /// Directory group names compare case-insensitively (AD does); Cognito's exactly.
    pub fn is_privileged_group(&self, group: &str) -> bool {
        if self.folded_names {
            let group = fold_username(group);
            self.privileged_groups
                .iter()
                .any(|privileged| fold_username(privileged) == group)
        } else {
            self.privileged_groups.iter().any(|p| p == group)
        }
    }

    /// Whether a token from `issuer` may name the caller's own account on this target.
    pub fn trusts_issuer(&self, issuer: Option<&str>) -> bool {
        match &self.trusted_issuers {
            None => true,
            Some(trusted) => issuer.is_some_and(|issuer| trusted.iter().any(|t| t == issuer)),
        }
    }
}

/// An authenticated caller: the token's claims as API Gateway's authorizer passed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: the stable identity of the caller (audit `actor`).
    pub sub: String,
    claims: HashMap<String, String>,
    groups: Vec<String>,
}

impl Caller {
    /// The caller whose token carried `claims` (as text: `http` renders the authorizer's
    /// values), or `UNAUTHENTICATED` when there are none (no authorizer, IAM, a Lambda
    /// authorizer, an unknown shape) or no `sub`. Groups are read from `groups_claim`.
    pub fn from_claims(
        claims: Option<HashMap<String, String>>,
        groups_claim: &str,
    ) -> Result<Self, Error> {
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
    target: &AccessPolicy,
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
pub fn check_not_protected(target: &AccessPolicy, username: &str) -> Result<(), Error> {
    if target.is_protected(username) {
        return Err(Error::TargetNotEligible(Ineligible::Protected));
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
    target: &AccessPolicy,
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
        return Err(Error::TargetNotEligible(Ineligible::Privileged));
    }
    if admin && account.groups_incomplete {
        return Err(Error::TargetNotEligible(Ineligible::Unchecked));
    }
    Ok(())
}

/// Which tokens are accepted. The API Gateway authorizer has checked the signature, issuer,
/// expiry and (HTTP API) audience; a REST API Cognito authorizer accepts a token of *any* app
/// client of the pool, so the function can narrow that down here.
#[derive(Debug, Clone, Default)]
pub struct TokenPolicy {
    /// Accepted `token_use` values (`id`, `access`); empty means any. A token without the claim
    /// (not issued by Cognito) is accepted.
    pub token_use: Vec<String>,
    /// Accepted app clients (`client_id` of an access token, `aud` of an ID token); empty means
    /// any.
    pub client_ids: Vec<String>,
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
    max_age: Duration,
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
pub fn capabilities(caller: &Caller, target: &AccessPolicy) -> Option<(bool, bool)> {
    let own =
        caller.claim(&target.username_claim).is_some() && target.trusts_issuer(caller.claim("iss"));
    let admin = caller.in_any_group(&target.admin_groups);
    (own || admin).then_some((own, admin))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Cognito pool's policy: `helpdesk` admins, a protected break-glass account.
    fn target() -> AccessPolicy {
        AccessPolicy {
            username_claim: "cognito:username".into(),
            admin_groups: vec!["helpdesk".into()],
            protected_users: vec!["break-glass".into()],
            privileged_groups: vec!["helpdesk".into(), "admins".into()],
            trusted_issuers: Some(vec![ISSUER.into()]),
            max_auth_age: None,
            folded_names: false,
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

        /// A caller naming an account, and the grant (username, admin) or the code they get.
        struct Case<'a> {
            why: &'a str,
            caller: &'a Caller,
            subject: Subject<'a>,
            expect: Result<(&'a str, bool), &'a str>,
        }
        let cases = vec![
            Case {
                why: "self service uses the claim",
                caller: &alice,
                subject: Subject::Own,
                expect: Ok(("alice", false)),
            },
            Case {
                why: "no username claim, no self service",
                caller: &no_account,
                subject: Subject::Own,
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "non-admin naming another user",
                caller: &alice,
                subject: Subject::Other("bob"),
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "non-admin naming themselves on the admin path",
                caller: &alice,
                subject: Subject::Other("alice"),
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "admin group, HTTP API form",
                caller: &helen,
                subject: Subject::Other("bob"),
                expect: Ok(("bob", true)),
            },
            Case {
                why: "admin group, REST form",
                caller: &helen_rest,
                subject: Subject::Other("bob"),
                expect: Ok(("bob", true)),
            },
            Case {
                why: "look-alike groups are not admin",
                caller: &mallory,
                subject: Subject::Other("bob"),
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "protected user, admin",
                caller: &helen,
                subject: Subject::Other("break-glass"),
                expect: Err("TARGET_NOT_ELIGIBLE"),
            },
            Case {
                why: "protected user, any case",
                caller: &helen,
                subject: Subject::Other("BREAK-GLASS"),
                expect: Err("TARGET_NOT_ELIGIBLE"),
            },
            Case {
                why: "protected user, self",
                caller: &glass,
                subject: Subject::Own,
                expect: Err("TARGET_NOT_ELIGIBLE"),
            },
        ];
        for Case {
            why: name,
            caller: who,
            subject,
            expect: expected,
        } in cases
        {
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
        let t = target();
        /// A self-service caller's token issuer, and whether the target trusts it.
        struct Case<'a> {
            why: &'a str,
            issuer: Option<&'a str>,
            target: &'a AccessPolicy,
            expect: Result<(), &'a str>,
        }
        let cases = vec![
            Case {
                why: "the pool's own issuer",
                issuer: Some(ISSUER),
                target: &t,
                expect: Ok(()),
            },
            Case {
                why: "another pool's bob",
                issuer: Some(pool_b),
                target: &t,
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "an issuer with a trailing slash",
                issuer: Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool/"),
                target: &t,
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "no issuer at all",
                issuer: None,
                target: &t,
                expect: Err("FORBIDDEN"),
            },
            Case {
                why: "any issuer, where the target trusts any",
                issuer: Some(pool_b),
                target: &any_issuer,
                expect: Ok(()),
            },
            Case {
                why: "no issuer, where the target trusts any",
                issuer: None,
                target: &any_issuer,
                expect: Ok(()),
            },
        ];
        for Case {
            why: name,
            issuer,
            target,
            expect: expected,
        } in cases
        {
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
        directory.folded_names = true;
        directory.privileged_groups = vec!["Domain Admins".into()];
        directory.protected_users = vec!["Administrator".into(), "Admin".into()];
        let t = target();
        /// One account an admin or its owner asks to reset, and whether that may happen.
        struct Case<'a> {
            why: &'a str,
            target: &'a AccessPolicy,
            account: Account,
            requested: &'a str,
            admin: bool,
            expect: Result<(), ()>,
        }
        let cases = vec![
            Case {
                why: "plain user, admin",
                target: &t,
                account: account(Some("bob"), &["readers"], false),
                requested: "bob",
                admin: true,
                expect: Ok(()),
            },
            Case {
                why: "helpdesk member, by an admin",
                target: &t,
                account: account(Some("hank"), &["readers", "helpdesk"], false),
                requested: "hank",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "helpdesk member, themselves",
                target: &t,
                account: account(Some("hank"), &["helpdesk"], false),
                requested: "hank",
                admin: false,
                expect: Ok(()),
            },
            Case {
                why: "cognito group names are exact",
                target: &t,
                account: account(Some("bob"), &["Helpdesk"], false),
                requested: "bob",
                admin: true,
                expect: Ok(()),
            },
            Case {
                why: "alias of a protected user",
                target: &t,
                account: account(Some("break-glass"), &[], false),
                requested: "bg@example.com",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "alias of a protected user, self",
                target: &t,
                account: account(Some("break-glass"), &[], false),
                requested: "bg@example.com",
                admin: false,
                expect: Err(()),
            },
            Case {
                why: "superuser, by an admin",
                target: &t,
                account: account(Some("root"), &[], true),
                requested: "root",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "superuser, themselves",
                target: &t,
                account: account(Some("root"), &[], true),
                requested: "root",
                admin: false,
                expect: Ok(()),
            },
            Case {
                why: "directory groups fold case",
                target: &directory,
                account: account(Some("carol"), &["DOMAIN ADMINS"], false),
                requested: "carol",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "directory Admin, canonical",
                target: &directory,
                account: account(Some("Admin"), &[], false),
                requested: "admin",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "directory Admin, self",
                target: &directory,
                account: account(Some("Admin"), &[], false),
                requested: "admin",
                admin: false,
                expect: Err(()),
            },
            Case {
                why: "Simple AD: no read, folded name",
                target: &directory,
                account: account(None, &[], false),
                requested: "administrator",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "groups cut short, by an admin",
                target: &directory,
                account: Account {
                    groups_incomplete: true,
                    ..account(Some("carol"), &["Staff"], false)
                },
                requested: "carol",
                admin: true,
                expect: Err(()),
            },
            Case {
                why: "groups cut short, themselves",
                target: &directory,
                account: Account {
                    groups_incomplete: true,
                    ..account(Some("carol"), &["Staff"], false)
                },
                requested: "carol",
                admin: false,
                expect: Ok(()),
            },
        ];
        for Case {
            why: name,
            target,
            account,
            requested,
            admin,
            expect: expected,
        } in cases
        {
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
        /// A token's `auth_time`, and whether it is recent enough (900 s) at `now`.
        struct Case {
            why: &'static str,
            auth_time: Option<&'static str>,
            recent: bool,
        }
        let case = |why, auth_time, recent| Case {
            why,
            auth_time,
            recent,
        };
        let cases = [
            case("signed in just now", Some("1750000000"), true),
            case("exactly the limit", Some("1749999100"), true),
            case("one second past the limit", Some("1749999099"), false),
            case(
                "a few seconds of clock skew ahead",
                Some("1750000030"),
                true,
            ),
            case("not a number", Some("yesterday"), false),
            case("negative", Some("-5"), false),
            case("no auth_time at all", None, false),
        ];
        for Case {
            why,
            auth_time,
            recent,
        } in cases
        {
            let mut claims = vec![("sub", "s")];
            if let Some(value) = auth_time {
                claims.push(("auth_time", value));
            }
            let result = check_recent_sign_in(&caller(&claims), max, now);
            assert_eq!(result.is_ok(), recent, "{why}: {auth_time:?}");
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
        /// A token's claims, and whether the deployment's token policy accepts it.
        struct Case<'a> {
            why: &'a str,
            claims: Vec<(&'a str, &'a str)>,
            policy: &'a TokenPolicy,
            accepted: bool,
        }
        let cases = [
            Case {
                why: "an ID token of the trusted client",
                claims: vec![("token_use", "id"), ("aud", "portal")],
                policy: &policy,
                accepted: true,
            },
            Case {
                why: "an access token where only ID tokens are accepted",
                claims: vec![("token_use", "access"), ("client_id", "portal")],
                policy: &policy,
                accepted: false,
            },
            Case {
                why: "an ID token of another app client",
                claims: vec![("token_use", "id"), ("aud", "other-client")],
                policy: &policy,
                accepted: false,
            },
            Case {
                why: "no client at all where clients are narrowed",
                claims: vec![("token_use", "id")],
                policy: &policy,
                accepted: false,
            },
            Case {
                why: "a token without token_use (not Cognito's) of the trusted client",
                claims: vec![("aud", "portal")],
                policy: &policy,
                accepted: true,
            },
            Case {
                why: "anything, where the deployment narrows nothing",
                claims: vec![("token_use", "refresh"), ("aud", "anything")],
                policy: &open,
                accepted: true,
            },
            Case {
                why: "no claims beyond sub, where the deployment narrows nothing",
                claims: vec![],
                policy: &open,
                accepted: true,
            },
        ];
        for Case {
            why,
            claims,
            policy,
            accepted,
        } in cases
        {
            let mut all = vec![("sub", "s")];
            all.extend(claims.iter().copied());
            assert_eq!(
                check_token(&caller(&all), policy).is_ok(),
                accepted,
                "{why}: {claims:?} {policy:?}"
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
}
