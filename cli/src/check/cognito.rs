//! Cognito: the pool, who can write the username claim, the recovery client.
//!
//! The decisions are pure functions of [`PoolFacts`], read once per pool
//! (DescribeUserPool, ListUserPoolClients, DescribeUserPoolClient per client), so the table of
//! cases is tested without AWS.

use aws_sdk_cognitoidentityprovider::{Client, types::RecoveryOptionNameType};
use secrecy::{ExposeSecret, SecretString};

use super::{
    aws::{CallError, call_error},
    report::Finding,
};

/// Claims Cognito puts in tokens that are not user attributes: nobody can write them.
const NOT_ATTRIBUTES: [&str; 14] = [
    "sub",
    "cognito:username",
    "username",
    "cognito:groups",
    "cognito:roles",
    "cognito:preferred_role",
    "client_id",
    "aud",
    "iss",
    "token_use",
    "event_id",
    "origin_jti",
    "jti",
    "auth_time",
];

/// Cognito's standard attributes: with no WriteAttributes of its own, an app client can write
/// all of them ("When you don't specify the WriteAttributes for your app client, your app can
/// write the values of the Standard attributes of your user pool": UserPoolClientType).
const STANDARD_ATTRIBUTES: [&str; 17] = [
    "address",
    "birthdate",
    "email",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// An attribute of the pool's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// As claims name it: `email`, `custom:ad_username`.
    pub name: String,
    pub mutable: bool,
    pub developer_only: bool,
}

/// An app client.
pub struct AppClient {
    pub id: String,
    pub name: String,
    /// Empty: Cognito's default (the standard attributes).
    pub write_attributes: Vec<String>,
    /// The client's secret, if it has one (never printed).
    pub secret: Option<SecretString>,
}

impl std::fmt::Debug for AppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("write_attributes", &self.write_attributes)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// What the checks need to know of one pool.
#[derive(Debug)]
pub struct PoolFacts {
    pub id: String,
    pub name: String,
    pub schema: Vec<Attribute>,
    /// AdminCreateUserConfig.AllowAdminCreateUserOnly is false: anyone can sign up.
    pub self_sign_up: bool,
    /// AccountRecoverySetting is admin_only: ForgotPassword cannot work.
    pub recovery_admin_only: bool,
    /// A pre token generation trigger (it may add claims).
    pub pre_token_trigger: bool,
    pub clients: Vec<AppClient>,
}

/// The region of a pool id (`eu-west-1_AbC` → `eu-west-1`).
pub fn pool_region(pool_id: &str) -> Option<&str> {
    pool_id
        .split_once('_')
        .map(|(region, _)| region)
        .filter(|r| !r.is_empty())
}

/// The pool of a Cognito issuer URL: `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
pub fn issuer_pool(issuer: &str) -> Option<String> {
    let rest = issuer.strip_prefix("https://cognito-idp.")?;
    let (host, pool) = rest.split_once('/')?;
    let region = host.strip_suffix(".amazonaws.com")?;
    (pool_region(pool) == Some(region) && !pool.contains('/')).then(|| pool.to_owned())
}

/// The issuer URL of a pool (what its tokens carry in `iss`).
pub fn pool_issuer(pool_id: &str) -> String {
    let region = pool_region(pool_id).unwrap_or("unknown");
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

/// Reads a pool and its app clients.
pub async fn read_pool(client: &Client, pool_id: &str) -> Result<PoolFacts, CallError> {
    let described = client
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
        .map_err(call_error)?;
    let pool = described.user_pool();
    let schema = pool
        .map(|p| p.schema_attributes())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            Some(Attribute {
                name: a.name()?.to_owned(),
                mutable: a.mutable().unwrap_or(true),
                developer_only: a.developer_only_attribute().unwrap_or(false),
            })
        })
        .collect();
    let self_sign_up = !pool
        .and_then(|p| p.admin_create_user_config())
        .map(|c| c.allow_admin_create_user_only())
        .unwrap_or(false);
    let recovery = pool
        .and_then(|p| p.account_recovery_setting())
        .map(|s| s.recovery_mechanisms())
        .unwrap_or_default();
    let recovery_admin_only = !recovery.is_empty()
        && recovery
            .iter()
            .all(|m| *m.name() == RecoveryOptionNameType::AdminOnly);
    let pre_token_trigger = pool.and_then(|p| p.lambda_config()).is_some_and(|l| {
        l.pre_token_generation().is_some() || l.pre_token_generation_config().is_some()
    });

    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_user_pool_clients()
            .user_pool_id(pool_id)
            .max_results(60)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(call_error)?;
        ids.extend(
            page.user_pool_clients()
                .iter()
                .filter_map(|c| c.client_id().map(str::to_owned)),
        );
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_owned()),
            _ => break,
        }
    }
    let mut clients = Vec::with_capacity(ids.len());
    for id in ids {
        let described = client
            .describe_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(&id)
            .send()
            .await
            .map_err(call_error)?;
        let Some(c) = described.user_pool_client() else {
            continue;
        };
        clients.push(AppClient {
            name: c.client_name().unwrap_or_default().to_owned(),
            write_attributes: c.write_attributes().to_vec(),
            secret: c.client_secret().map(|s| SecretString::from(s.to_owned())),
            id,
        });
    }
    Ok(PoolFacts {
        id: pool_id.to_owned(),
        name: pool.and_then(|p| p.name()).unwrap_or_default().to_owned(),
        schema,
        self_sign_up,
        recovery_admin_only,
        pre_token_trigger,
        clients,
    })
}

fn client_list(clients: &[&AppClient]) -> String {
    clients
        .iter()
        .map(|c| {
            if c.name.is_empty() {
                c.id.clone()
            } else {
                format!("{} ({})", c.name, c.id)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `claim` is one Cognito writes itself (`sub`, `cognito:username`, ...): no user can
/// set it in any pool, so the pool need not be read.
pub fn is_not_attribute(claim: &str) -> bool {
    NOT_ATTRIBUTES.contains(&claim)
}

/// Can users set `claim` themselves in `pool`? The check is named `check`.
pub fn claim_finding(check: &str, claim: &str, pool: &PoolFacts) -> Finding {
    if NOT_ATTRIBUTES.contains(&claim) {
        return Finding::pass(
            check,
            format!(
                "`{claim}` is not a user attribute in pool {}: users cannot change it",
                pool.id
            ),
        );
    }
    let standard = STANDARD_ATTRIBUTES.contains(&claim);
    let attribute = pool.schema.iter().find(|a| a.name == claim);
    if attribute.is_none() && !standard {
        return if pool.pre_token_trigger {
            Finding::warn(
                check,
                format!(
                    "`{claim}` is not an attribute of pool {}: only its pre token generation trigger can add it; make sure nothing a user controls decides its value",
                    pool.id
                ),
            )
        } else {
            Finding::warn(
                check,
                format!(
                    "`{claim}` is not an attribute of pool {} and it has no pre token generation trigger: its tokens never carry it, so self-service answers 403",
                    pool.id
                ),
            )
        };
    }
    if attribute.is_some_and(|a| a.developer_only) {
        return Finding::pass(
            check,
            format!(
                "`{claim}` is developer-only in pool {}: only administrators can write it",
                pool.id
            ),
        );
    }
    let writers: Vec<&AppClient> = pool
        .clients
        .iter()
        .filter(|c| {
            c.write_attributes.iter().any(|w| w == claim)
                || (c.write_attributes.is_empty() && standard)
        })
        .collect();
    let mutable = attribute.is_none_or(|a| a.mutable);
    match (writers.is_empty(), mutable, pool.self_sign_up) {
        (true, _, _) => Finding::pass(
            check,
            format!("no app client of pool {} can write `{claim}`", pool.id),
        ),
        (false, true, _) => Finding::fail(
            check,
            format!(
                "app client {} of pool {} can write `{claim}` (WriteAttributes): a user could set it to a colleague's name and reset the colleague's password. Remove it from the client's WriteAttributes",
                client_list(&writers),
                pool.id
            ),
        ),
        (false, false, true) => Finding::fail(
            check,
            format!(
                "self sign-up is on in pool {} and app client {} can set `{claim}` at sign-up: anyone could create an account naming a colleague. Turn self sign-up off or remove `{claim}` from the client's WriteAttributes",
                pool.id,
                client_list(&writers)
            ),
        ),
        (false, false, false) => Finding::pass(
            check,
            format!(
                "`{claim}` is immutable in pool {} and only administrators create users",
                pool.id
            ),
        ),
    }
}

/// Can `client_id` run the forgot-password flow that confirms a code?
pub fn recovery_client_finding(
    pool: &PoolFacts,
    client_id: &str,
    secret_arn: Option<&str>,
) -> Finding {
    const CHECK: &str = "recoveryClient";
    let Some(client) = pool.clients.iter().find(|c| c.id == client_id) else {
        return Finding::fail(
            CHECK,
            format!(
                "recoveryClientId {client_id} is not an app client of pool {}",
                pool.id
            ),
        );
    };
    if pool.recovery_admin_only {
        return Finding::fail(
            CHECK,
            format!(
                "pool {}'s account recovery is admin_only: ForgotPassword and ConfirmForgotPassword cannot work. Set a verified email or phone recovery mechanism",
                pool.id
            ),
        );
    }
    match (client.secret.is_some(), secret_arn) {
        (true, None) => Finding::fail(
            CHECK,
            format!(
                "app client {client_id} has a secret: confirming a code needs its SECRET_HASH. Set recoveryClientSecretArn to a secret holding it"
            ),
        ),
        (false, Some(_)) => Finding::warn(
            CHECK,
            format!(
                "recoveryClientSecretArn is set but app client {client_id} has no secret: the secret is not needed"
            ),
        ),
        _ => Finding::pass(
            CHECK,
            format!(
                "app client {client_id} exists and the pool's account recovery lets it confirm codes"
            ),
        ),
    }
}

/// Does the secret hold the recovery client's own secret? (Neither is ever printed.)
pub fn recovery_secret_matches(
    pool: &PoolFacts,
    client_id: &str,
    value: &SecretString,
) -> Option<bool> {
    let client = pool.clients.iter().find(|c| c.id == client_id)?;
    let secret = client.secret.as_ref()?;
    Some(secret.expose_secret() == value.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::report::Status;

    fn client(id: &str, write: &[&str], secret: bool) -> AppClient {
        AppClient {
            id: id.into(),
            name: format!("{id}-name"),
            write_attributes: write.iter().map(|s| (*s).to_owned()).collect(),
            secret: secret.then(|| SecretString::from("client-secret-value".to_owned())),
        }
    }

    fn pool(clients: Vec<AppClient>, self_sign_up: bool) -> PoolFacts {
        PoolFacts {
            id: "us-east-1_Pool".into(),
            name: "pool".into(),
            schema: vec![
                Attribute {
                    name: "email".into(),
                    mutable: true,
                    developer_only: false,
                },
                Attribute {
                    name: "custom:ad_username".into(),
                    mutable: true,
                    developer_only: false,
                },
                Attribute {
                    name: "custom:employee_id".into(),
                    mutable: false,
                    developer_only: false,
                },
                Attribute {
                    name: "dev:custom:ops".into(),
                    mutable: true,
                    developer_only: true,
                },
            ],
            self_sign_up,
            recovery_admin_only: false,
            pre_token_trigger: false,
            clients,
        }
    }

    #[test]
    fn who_can_write_the_username_claim() {
        use Status::{Fail, Pass, Warn};
        // (claim, clients' WriteAttributes, self sign-up, expected, a phrase of the reason)
        type Case<'a> = (&'a str, &'a [&'a [&'a str]], bool, Status, &'a str);
        let cases: [Case; 11] = [
            (
                "cognito:username",
                &[&["email"]],
                true,
                Pass,
                "not a user attribute",
            ),
            ("sub", &[&[]], true, Pass, "not a user attribute"),
            (
                "custom:ad_username",
                &[&["email"], &["custom:ad_username"]],
                false,
                Fail,
                "app client c1-name (c1)",
            ),
            ("custom:ad_username", &[&[]], true, Pass, "no app client"),
            (
                "custom:ad_username",
                &[&["email", "name"]],
                false,
                Pass,
                "no app client",
            ),
            ("email", &[&[]], false, Fail, "can write `email`"),
            ("email", &[&["name"]], false, Pass, "no app client"),
            (
                "custom:employee_id",
                &[&["custom:employee_id"]],
                true,
                Fail,
                "self sign-up is on",
            ),
            (
                "custom:employee_id",
                &[&["custom:employee_id"]],
                false,
                Pass,
                "immutable",
            ),
            (
                "custom:missing",
                &[&["custom:missing"]],
                false,
                Warn,
                "never carry it",
            ),
            (
                "dev:custom:ops",
                &[&["dev:custom:ops"]],
                false,
                Pass,
                "developer-only",
            ),
        ];
        for (claim, writes, self_sign_up, expected, phrase) in cases {
            let clients = writes
                .iter()
                .enumerate()
                .map(|(i, w)| client(&format!("c{i}"), w, false))
                .collect();
            let finding = claim_finding("usernameClaim", claim, &pool(clients, self_sign_up));
            assert_eq!(
                finding.status, expected,
                "{claim} {writes:?}: {}",
                finding.reason
            );
            assert!(
                finding.reason.contains(phrase),
                "{claim} {writes:?}: {}",
                finding.reason
            );
        }
    }

    #[test]
    fn a_claim_added_by_a_trigger_is_a_warning_to_look_at_the_trigger() {
        let mut facts = pool(vec![], false);
        facts.pre_token_trigger = true;
        let finding = claim_finding("usernameClaim", "custom:from_trigger", &facts);
        assert_eq!(finding.status, Status::Warn);
        assert!(
            finding.reason.contains("pre token generation trigger"),
            "{}",
            finding.reason
        );
    }

    #[test]
    fn the_recovery_client() {
        let facts = pool(
            vec![client("plain", &[], false), client("secret", &[], true)],
            false,
        );
        let cases = [
            ("plain", None, Status::Pass, "exists"),
            ("missing", None, Status::Fail, "is not an app client"),
            ("secret", None, Status::Fail, "Set recoveryClientSecretArn"),
            (
                "secret",
                Some("arn:aws:secretsmanager:x"),
                Status::Pass,
                "exists",
            ),
            (
                "plain",
                Some("arn:aws:secretsmanager:x"),
                Status::Warn,
                "has no secret",
            ),
        ];
        for (id, arn, expected, phrase) in cases {
            let finding = recovery_client_finding(&facts, id, arn);
            assert_eq!(finding.status, expected, "{id}: {}", finding.reason);
            assert!(finding.reason.contains(phrase), "{id}: {}", finding.reason);
            assert!(!finding.reason.contains("client-secret-value"));
        }
        let mut admin_only = pool(vec![client("plain", &[], false)], false);
        admin_only.recovery_admin_only = true;
        let finding = recovery_client_finding(&admin_only, "plain", None);
        assert_eq!(finding.status, Status::Fail);
        assert!(finding.reason.contains("admin_only"));
    }

    #[test]
    fn the_recovery_secret_is_compared_not_shown() {
        let facts = pool(
            vec![client("secret", &[], true), client("plain", &[], false)],
            false,
        );
        assert_eq!(
            recovery_secret_matches(
                &facts,
                "secret",
                &SecretString::from("client-secret-value".to_owned())
            ),
            Some(true)
        );
        assert_eq!(
            recovery_secret_matches(&facts, "secret", &SecretString::from("other".to_owned())),
            Some(false)
        );
        assert_eq!(
            recovery_secret_matches(&facts, "plain", &SecretString::from("x".to_owned())),
            None
        );
        assert!(!format!("{facts:?}").contains("client-secret-value"));
    }

    #[test]
    fn issuers_name_their_pools() {
        assert_eq!(
            issuer_pool("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"),
            Some("eu-west-1_AbC123".into())
        );
        assert_eq!(
            issuer_pool("https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_AbC123"),
            None
        );
        assert_eq!(
            issuer_pool("https://login.example.com/eu-west-1_AbC123"),
            None
        );
        assert_eq!(
            issuer_pool("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A/b"),
            None
        );
        assert_eq!(
            pool_issuer("us-east-1_X"),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"
        );
        assert_eq!(pool_region("us-east-1_X"), Some("us-east-1"));
    }
}
