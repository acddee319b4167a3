//! `resetgate-cli check --config FILE`: the deployment's configuration document, checked
//! against AWS with the operator's credentials (the standard chain: `AWS_PROFILE`,
//! `AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT_URL` and so on) before go-live.
//!
//! First the document itself, with the function's own parser (`resetgate::Config::parse`): a
//! document the function would refuse at cold start is a FAIL. Then, per target, what the
//! document names must exist and be safe (docs/CLI.md, "check"):
//!
//! - cognito: the pool exists; no app client of a pool whose tokens are trusted can write the
//!   `usernameClaim` attribute, and self sign-up cannot set it; the `recoveryClientId` exists
//!   and can run the forgot-password flow (its secret, if it has one, in
//!   `recoveryClientSecretArn`);
//! - directory: the directory exists and is Active, its type suits `refuseDisabled`, and
//!   Directory Service Data is enabled where `refuseDisabled` needs it;
//! - finspace: the environment exists;
//! - the deployment: `trustedClientIds` exist, the idempotency table exists with TTL on the
//!   attribute the function writes, the secrets are readable (never printed).
//!
//! A check that cannot look (access denied, no answer) is a FAIL: `check` never passes what it
//! could not see. What it cannot see at all is said in docs/CLI.md (the function's own role).

mod aws;
mod cognito;
mod directory;
mod document;
mod report;
mod stores;

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use secrecy::SecretString;

use document::{Document, Target};
pub use report::Report;
use report::{Finding, Section};

use crate::{cli::CheckArgs, debug::DebugLog, exit::Failure};

/// Stands in for the keyed-hash secret when the document is validated: `Config::parse` wants
/// one, and its value does not matter to the document's validity.
const PLACEHOLDER_HMAC_KEY: &str = "resetgate-cli-check-placeholder-not-a-secret";

/// The AWS clients of one run; Cognito clients per region (a pool's region is in its id).
struct Clients {
    config: SdkConfig,
    cognito: BTreeMap<String, aws_sdk_cognitoidentityprovider::Client>,
}

impl Clients {
    /// Secrets Manager in the secret's own region (an ARN names it; a name is in the default).
    fn secrets(&self, arn: &str) -> aws_sdk_secretsmanager::Client {
        let mut conf = aws_sdk_secretsmanager::config::Builder::from(&self.config);
        if let Some(region) = arn_region(arn) {
            conf = conf.region(Region::new(region.to_owned()));
        }
        aws_sdk_secretsmanager::Client::from_conf(conf.build())
    }

    fn cognito(&mut self, region: &str) -> &aws_sdk_cognitoidentityprovider::Client {
        let config = &self.config;
        self.cognito.entry(region.to_owned()).or_insert_with(|| {
            let conf = aws_sdk_cognitoidentityprovider::config::Builder::from(config)
                .region(Region::new(region.to_owned()))
                .build();
            aws_sdk_cognitoidentityprovider::Client::from_conf(conf)
        })
    }
}

/// The region of an ARN (`arn:aws:secretsmanager:eu-west-1:...`), if it is one.
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(2))
        .flatten()
        .filter(|r| !r.is_empty())
}

/// Pools read so far (a pool is read once, whatever number of targets trust it).
type Pools = BTreeMap<String, Result<cognito::PoolFacts, aws::CallError>>;

async fn pool<'a>(
    pools: &'a mut Pools,
    clients: &mut Clients,
    pool_id: &str,
    log: &DebugLog,
) -> &'a Result<cognito::PoolFacts, aws::CallError> {
    if !pools.contains_key(pool_id) {
        let region = cognito::pool_region(pool_id)
            .unwrap_or("us-east-1")
            .to_owned();
        log.line(format!(
            "reading Cognito pool {pool_id} ({region}) and its app clients"
        ));
        let facts = cognito::read_pool(clients.cognito(&region), pool_id).await;
        if let Err(error) = &facts {
            log.line(format!("  {}", error.message));
        }
        pools.insert(pool_id.to_owned(), facts);
    }
    &pools[pool_id]
}

/// Runs every check. Errors are the CLI's own (253): the document cannot be read, no AWS
/// region or credentials.
pub async fn run(args: &CheckArgs, log: &DebugLog) -> Result<Report, Failure> {
    let text = std::fs::read_to_string(&args.config).map_err(|e| {
        Failure::Configuration(format!(
            "cannot read the configuration document {}: {e}",
            args.config.display()
        ))
    })?;
    let mut deployment = Section {
        name: "deployment".into(),
        service: None,
        findings: Vec::new(),
    };
    match resetgate::Config::parse(&text, SecretString::from(PLACEHOLDER_HMAC_KEY)) {
        Ok(config) => deployment.findings.push(Finding::pass(
            "document",
            format!(
                "valid for resetgate {}: {} target(s)",
                env!("CARGO_PKG_VERSION"),
                config.targets.len()
            ),
        )),
        Err(error) => deployment.findings.push(Finding::fail(
            "document",
            format!("the function would refuse it at cold start: {error}"),
        )),
    }
    let document: Document = match serde_json::from_str(&text) {
        Ok(document) => document,
        Err(error) => {
            log.line(format!(
                "the document cannot be read for the AWS checks: {error}"
            ));
            return Ok(Report {
                deployment,
                targets: Vec::new(),
            });
        }
    };

    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    // No AWS call may hang the check: each operation (its retries included) gets 30 s.
    let config = loader
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(30))
                .build(),
        )
        .load()
        .await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(Failure::Configuration(
            "no AWS region: give --region, or set AWS_REGION or a region in your AWS profile"
                .into(),
        ));
    };
    credentials(&config).await?;
    log.line(format!("AWS region {region}"));
    let mut clients = Clients {
        config,
        cognito: BTreeMap::new(),
    };
    let mut pools = Pools::new();

    let mut targets = Vec::new();
    for target in &document.targets {
        log.line(format!(
            "checking target {} ({})",
            target.name, target.service
        ));
        let mut section = Section {
            name: target.name.clone(),
            service: Some(target.service.clone()),
            findings: Vec::new(),
        };
        match target.service.as_str() {
            "cognito" => check_cognito(target, &mut clients, &mut pools, &mut section, log).await,
            "directory" => check_directory(target, &clients, &mut section).await,
            "finspace" => check_finspace(target, &clients, &mut section).await,
            other => section.findings.push(Finding::fail(
                "service",
                format!("unknown service {other:?}"),
            )),
        }
        check_claim(
            target,
            &document,
            &mut clients,
            &mut pools,
            &mut section,
            log,
        )
        .await;
        targets.push(section);
    }

    check_client_ids(&document, &mut clients, &mut pools, &mut deployment, log).await;
    match document
        .idempotency
        .as_ref()
        .and_then(|i| i.table.as_deref())
    {
        Some(table) => {
            log.line(format!("checking table {table}"));
            let dynamodb = aws_sdk_dynamodb::Client::new(&clients.config);
            let facts = stores::describe_table(&dynamodb, table).await;
            deployment.findings.extend(stores::table_findings(
                table,
                facts.as_ref().map(Option::as_ref),
            ));
        }
        None => deployment.findings.push(Finding::fail(
            "table",
            "the document names no idempotency.table",
        )),
    }
    if let Some(arn) = &args.hmac_key_secret_arn {
        log.line(format!(
            "reading the keyed-hash secret {arn} (its value is never printed)"
        ));
        let secrets = clients.secrets(arn);
        let value = stores::read_secret(&secrets, arn).await;
        deployment.findings.push(stores::hmac_finding(
            arn,
            value.as_ref().map(Option::as_ref),
        ));
    }
    Ok(Report {
        deployment,
        targets,
    })
}

async fn credentials(config: &SdkConfig) -> Result<(), Failure> {
    use aws_credential_types::provider::ProvideCredentials as _;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| Failure::Configuration("no AWS credentials provider".into()))?;
    provider.provide_credentials().await.map(|_| ()).map_err(|e| {
        Failure::Configuration(format!(
            "no AWS credentials ({}): check uses the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, web identity, the instance role). For an SSO or credential_process profile, export its credentials first: eval \"$(aws configure export-credentials --profile NAME --format env)\"",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        ))
    })
}

async fn check_cognito(
    target: &Target,
    clients: &mut Clients,
    pools: &mut Pools,
    section: &mut Section,
    log: &DebugLog,
) {
    let Some(pool_id) = target.user_pool_id.as_deref() else {
        section
            .findings
            .push(Finding::fail("userPool", "the target names no userPoolId"));
        return;
    };
    let facts = match pool(pools, clients, pool_id, log).await {
        Ok(facts) => {
            section.findings.push(Finding::pass(
                "userPool",
                format!(
                    "pool {pool_id} ({}) exists, with {} app client(s)",
                    facts.name,
                    facts.clients.len()
                ),
            ));
            facts
        }
        Err(error) if error.is_not_found() => {
            section.findings.push(Finding::fail(
                "userPool",
                format!("pool {pool_id} does not exist"),
            ));
            return;
        }
        Err(error) => {
            section.findings.push(Finding::fail(
                "userPool",
                error.could_not(&format!("DescribeUserPool of {pool_id}")),
            ));
            return;
        }
    };
    let Some(client_id) = target.recovery_client_id.as_deref() else {
        return;
    };
    let secret_arn = target.recovery_client_secret_arn.as_deref();
    section.findings.push(cognito::recovery_client_finding(
        facts, client_id, secret_arn,
    ));
    if let Some(arn) = secret_arn {
        log.line(format!(
            "reading the recovery client's secret {arn} (its value is never printed)"
        ));
        let secrets = clients.secrets(arn);
        let finding = match stores::read_secret(&secrets, arn).await {
            Ok(Some(value)) => match cognito::recovery_secret_matches(facts, client_id, &value) {
                Some(true) => Finding::pass(
                    "recoveryClientSecret",
                    format!("{arn} is readable and holds app client {client_id}'s secret"),
                ),
                Some(false) => Finding::fail(
                    "recoveryClientSecret",
                    format!(
                        "{arn} is readable but does not hold app client {client_id}'s secret: confirmations would be refused"
                    ),
                ),
                None => Finding::pass("recoveryClientSecret", format!("{arn} is readable")),
            },
            Ok(None) => Finding::fail("recoveryClientSecret", format!("{arn} has no SecretString")),
            Err(error) => Finding::fail(
                "recoveryClientSecret",
                error.could_not(&format!("GetSecretValue of {arn}")),
            ),
        };
        section.findings.push(finding);
    }
}

async fn check_directory(target: &Target, clients: &Clients, section: &mut Section) {
    let Some(directory_id) = target.directory_id.as_deref() else {
        section.findings.push(Finding::fail(
            "directory",
            "the target names no directoryId",
        ));
        return;
    };
    let ds = aws_sdk_directory::Client::new(&clients.config);
    let facts = match directory::describe(&ds, directory_id).await {
        Ok(facts) => facts,
        Err(error) => {
            section.findings.push(Finding::fail(
                "directory",
                error.could_not("DescribeDirectories"),
            ));
            return;
        }
    };
    section
        .findings
        .push(directory::directory_finding(directory_id, facts.as_ref()));
    let Some(facts) = facts else { return };
    let refuse_disabled = target.refuse_disabled.unwrap_or(true);
    let (finding, ask_data) = directory::type_finding(directory_id, &facts.kind, refuse_disabled);
    section.findings.push(finding);
    if ask_data {
        let status = directory::data_access(&ds, directory_id).await;
        section.findings.push(directory::data_access_finding(
            directory_id,
            status.as_deref(),
        ));
    }
}

async fn check_finspace(target: &Target, clients: &Clients, section: &mut Section) {
    let Some(environment_id) = target.environment_id.as_deref() else {
        return;
    };
    let finspace = aws_sdk_finspace::Client::new(&clients.config);
    let status = stores::environment_status(&finspace, environment_id).await;
    section.findings.push(stores::environment_finding(
        environment_id,
        status.as_ref().map(Option::as_deref),
    ));
}

/// Who can set the target's username claim, in every Cognito pool whose tokens name accounts on
/// the target.
async fn check_claim(
    target: &Target,
    document: &Document,
    clients: &mut Clients,
    pools: &mut Pools,
    section: &mut Section,
    log: &DebugLog,
) {
    let Some(claim) = target.username_claim.as_deref() else {
        section.findings.push(Finding::fail(
            "usernameClaim",
            "the target names no usernameClaim",
        ));
        return;
    };
    let issuers = match target.issuers() {
        Some(issuers) => issuers,
        None => {
            // No trustedIssuers on a directory or FinSpace target: any issuer the authorizer
            // accepts. The document's own pools are the likely ones.
            let mut guessed: Vec<String> = document
                .targets
                .iter()
                .filter(|t| t.service == "cognito")
                .filter_map(Target::issuers)
                .flatten()
                .collect();
            guessed.sort();
            guessed.dedup();
            section.findings.push(Finding::warn(
                "trustedIssuers",
                "not set: a token from any issuer API Gateway's authorizer accepts names an account here by its usernameClaim. Set trustedIssuers to the issuing pool(s)",
            ));
            if guessed.is_empty() {
                section.findings.push(Finding::warn(
                    "usernameClaim",
                    format!("no Cognito pool to check: make sure users cannot set `{claim}` at the token's issuer"),
                ));
                return;
            }
            guessed
        }
    };
    for issuer in issuers {
        let Some(pool_id) = cognito::issuer_pool(&issuer) else {
            section.findings.push(Finding::warn(
                "usernameClaim",
                format!("issuer {issuer} is not a Cognito user pool: make sure users cannot set `{claim}` there"),
            ));
            continue;
        };
        if cognito::is_not_attribute(claim) {
            // Cognito sets it in every pool: nothing to read.
            section.findings.push(Finding::pass(
                "usernameClaim",
                format!("`{claim}` is not a user attribute in pool {pool_id}: Cognito sets it, users cannot change it"),
            ));
            continue;
        }
        let own = target.user_pool_id.as_deref() == Some(pool_id.as_str());
        match pool(pools, clients, &pool_id, log).await {
            Ok(facts) => section.findings.push(cognito::claim_finding("usernameClaim", claim, facts)),
            // The target's own pool missing is already a FAIL of its own.
            Err(_) if own => {}
            Err(error) => section.findings.push(Finding::warn(
                "usernameClaim",
                format!(
                    "cannot read pool {pool_id} of trusted issuer {issuer} ({}): make sure users cannot set `{claim}` there",
                    error.message
                ),
            )),
        }
    }
}

/// Every `trustedClientIds` entry is an app client of a pool that issues tokens here.
async fn check_client_ids(
    document: &Document,
    clients: &mut Clients,
    pools: &mut Pools,
    deployment: &mut Section,
    log: &DebugLog,
) {
    if document.trusted_client_ids.is_empty() {
        return;
    }
    let mut pool_ids: Vec<String> = document
        .targets
        .iter()
        .filter_map(Target::issuers)
        .flatten()
        .filter_map(|issuer| cognito::issuer_pool(&issuer))
        .chain(
            document
                .targets
                .iter()
                .filter_map(|t| t.user_pool_id.clone()),
        )
        .collect();
    pool_ids.sort();
    pool_ids.dedup();
    if pool_ids.is_empty() {
        deployment.findings.push(Finding::warn(
            "trustedClientIds",
            "no Cognito pool in the document to look for them in: check them at the issuer",
        ));
        return;
    }
    let mut known = Vec::new();
    let mut unreadable = Vec::new();
    for pool_id in &pool_ids {
        match pool(pools, clients, pool_id, log).await {
            Ok(facts) => known.extend(facts.clients.iter().map(|c| c.id.clone())),
            Err(_) => unreadable.push(pool_id.clone()),
        }
    }
    let missing: Vec<&String> = document
        .trusted_client_ids
        .iter()
        .filter(|id| !known.contains(id))
        .collect();
    deployment.findings.push(if missing.is_empty() {
        Finding::pass(
            "trustedClientIds",
            format!("all {} exist in pool(s) {}", document.trusted_client_ids.len(), pool_ids.join(", ")),
        )
    } else {
        let unread = if unreadable.is_empty() {
            String::new()
        } else {
            format!(" (pool(s) {} could not be read)", unreadable.join(", "))
        };
        Finding::fail(
            "trustedClientIds",
            format!(
                "{} {} no app client of pool(s) {}{unread}: tokens of a client that does not exist never come, and a typo here refuses every caller",
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                pool_ids.join(", ")
            ),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_in_their_arns_region() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"),
            Some("cn-north-1")
        );
        assert_eq!(arn_region("resetgate-hmac"), None);
    }

    #[test]
    fn the_placeholder_key_is_long_enough_for_the_parser() {
        assert!(PLACEHOLDER_HMAC_KEY.len() >= resetgate::config::MIN_HMAC_KEY_LEN);
    }
}
