//! The FinSpace environment, the idempotency table and the secrets.

use resetgate::config::MIN_HMAC_KEY_LEN;
use secrecy::{ExposeSecret, SecretString};

use super::{
    aws::{CallError, call_error},
    report::Finding,
};

/// The attribute the function's DynamoDB records expire on: `expiration`, epoch seconds
/// (src/idempotency/dynamodb/mod.rs; template.yaml's TimeToLiveSpecification).
pub const TTL_ATTRIBUTE: &str = "expiration";
/// The table's partition key (a string).
pub const PARTITION_KEY: &str = "id";

/// GetEnvironment: the environment's status, or `Ok(None)` when it does not exist.
///
/// The SDK marks FinSpace's operations deprecated: the service ends support on 7 October 2026
/// (docs/CONFIG.md), and until then the call works and the function's adapter needs it.
#[allow(deprecated)]
pub async fn environment_status(
    client: &aws_sdk_finspace::Client,
    environment_id: &str,
) -> Result<Option<String>, CallError> {
    match client
        .get_environment()
        .environment_id(environment_id)
        .send()
        .await
    {
        Ok(answer) => Ok(Some(
            answer
                .environment()
                .and_then(|e| e.status())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        )),
        Err(error) => {
            let error = call_error(error);
            if error.is_not_found() {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// The FinSpace environment exists and is created.
pub fn environment_finding(
    environment_id: &str,
    status: Result<Option<&str>, &CallError>,
) -> Finding {
    const CHECK: &str = "environment";
    match status {
        Ok(Some("CREATED")) => Finding::pass(
            CHECK,
            format!("FinSpace environment {environment_id} exists (CREATED)"),
        ),
        Ok(Some(status)) => Finding::fail(
            CHECK,
            format!(
                "FinSpace environment {environment_id} is {status}, not CREATED: resets would fail"
            ),
        ),
        Ok(None) => Finding::fail(
            CHECK,
            format!(
                "FinSpace environment {environment_id} does not exist in this account and region"
            ),
        ),
        Err(error) => Finding::fail(CHECK, error.could_not("GetEnvironment")),
    }
}

/// What DescribeTable and DescribeTimeToLive say of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFacts {
    pub status: String,
    /// (attribute, key type) pairs: HASH, RANGE.
    pub keys: Vec<(String, String)>,
    /// (attribute, type) of the key attributes: S, N, B.
    pub attribute_types: Vec<(String, String)>,
    /// `ENABLED`, `DISABLED`, `ENABLING`, `DISABLING`, and the attribute.
    pub ttl_status: String,
    pub ttl_attribute: Option<String>,
}

/// DescribeTable and DescribeTimeToLive (`Ok(None)`: no such table).
pub async fn describe_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Option<TableFacts>, CallError> {
    let described = match client.describe_table().table_name(table).send().await {
        Ok(answer) => answer,
        Err(error) => {
            let error = call_error(error);
            return if error.is_not_found() {
                Ok(None)
            } else {
                Err(error)
            };
        }
    };
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(call_error)?;
    let description = described.table();
    let ttl = ttl.time_to_live_description();
    Ok(Some(TableFacts {
        status: description
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        keys: description
            .map(|t| t.key_schema())
            .unwrap_or_default()
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect(),
        attribute_types: description
            .map(|t| t.attribute_definitions())
            .unwrap_or_default()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().to_owned(),
                    a.attribute_type().as_str().to_owned(),
                )
            })
            .collect(),
        ttl_status: ttl
            .and_then(|t| t.time_to_live_status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "DISABLED".to_owned()),
        ttl_attribute: ttl.and_then(|t| t.attribute_name()).map(str::to_owned),
    }))
}

/// The table exists, is keyed as the function writes it, and expires records on the right
/// attribute.
pub fn table_findings(table: &str, facts: Result<Option<&TableFacts>, &CallError>) -> Vec<Finding> {
    let facts = match facts {
        Ok(Some(facts)) => facts,
        Ok(None) => {
            return vec![Finding::fail(
                "table",
                format!(
                    "DynamoDB table {table} does not exist in this account and region: every POST would answer 503"
                ),
            )];
        }
        Err(error) => return vec![Finding::fail("table", error.could_not("DescribeTable"))],
    };
    let mut findings = Vec::new();
    let keyed_right = facts.keys == [(PARTITION_KEY.to_owned(), "HASH".to_owned())]
        && facts
            .attribute_types
            .iter()
            .any(|(name, kind)| name == PARTITION_KEY && kind == "S");
    findings.push(if !keyed_right {
        Finding::fail(
            "table",
            format!("table {table} must have the partition key `{PARTITION_KEY}` (a string) and no sort key, as the function writes it"),
        )
    } else if facts.status == "ACTIVE" {
        Finding::pass("table", format!("table {table} exists (ACTIVE), keyed on `{PARTITION_KEY}`"))
    } else {
        Finding::warn("table", format!("table {table} is {}, not ACTIVE", facts.status))
    });
    let on = facts.ttl_attribute.as_deref();
    findings.push(match (facts.ttl_status.as_str(), on) {
        ("ENABLED", Some(TTL_ATTRIBUTE)) => Finding::pass("tableTtl", format!("TTL is enabled on `{TTL_ATTRIBUTE}`")),
        ("ENABLING", Some(TTL_ATTRIBUTE)) => Finding::warn("tableTtl", format!("TTL on `{TTL_ATTRIBUTE}` is being enabled")),
        ("ENABLED" | "ENABLING", Some(other)) => Finding::fail(
            "tableTtl",
            format!("TTL is on `{other}`, but the function's records expire on `{TTL_ATTRIBUTE}`: they would never be deleted"),
        ),
        (status, _) => Finding::fail(
            "tableTtl",
            format!("TTL is {status}: idempotency records and rate-limit counters would never be deleted. Enable TTL on `{TTL_ATTRIBUTE}`"),
        ),
    });
    findings
}

/// GetSecretValue: the secret's string (kept secret), or an error. A secret without a
/// `SecretString` gives `Ok(None)`.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<Option<SecretString>, CallError> {
    client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map(|answer| {
            answer
                .secret_string()
                .map(|s| SecretString::from(s.to_owned()))
        })
        .map_err(call_error)
}

/// The keyed-hash secret is readable and long enough for the function to start.
pub fn hmac_finding(arn: &str, value: Result<Option<&SecretString>, &CallError>) -> Finding {
    const CHECK: &str = "hmacKeySecret";
    match value {
        Ok(Some(secret)) if secret.expose_secret().len() >= MIN_HMAC_KEY_LEN => Finding::pass(
            CHECK,
            format!("{arn} is readable and at least {MIN_HMAC_KEY_LEN} characters long"),
        ),
        Ok(Some(_)) => Finding::fail(
            CHECK,
            format!(
                "{arn} is shorter than {MIN_HMAC_KEY_LEN} characters: the function would not start"
            ),
        ),
        Ok(None) => Finding::fail(
            CHECK,
            format!("{arn} has no SecretString: the function reads the key from it"),
        ),
        Err(error) => Finding::fail(CHECK, error.could_not(&format!("GetSecretValue of {arn}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{aws::Kind, report::Status};

    fn table(ttl_status: &str, ttl_attribute: Option<&str>) -> TableFacts {
        TableFacts {
            status: "ACTIVE".into(),
            keys: vec![("id".into(), "HASH".into())],
            attribute_types: vec![("id".into(), "S".into())],
            ttl_status: ttl_status.into(),
            ttl_attribute: ttl_attribute.map(str::to_owned),
        }
    }

    #[test]
    fn the_table_and_its_ttl() {
        let statuses = |facts: &TableFacts| -> Vec<Status> {
            table_findings("t", Ok(Some(facts)))
                .iter()
                .map(|f| f.status)
                .collect()
        };
        assert_eq!(
            statuses(&table("ENABLED", Some("expiration"))),
            [Status::Pass, Status::Pass]
        );
        assert_eq!(
            statuses(&table("ENABLING", Some("expiration"))),
            [Status::Pass, Status::Warn]
        );
        assert_eq!(
            statuses(&table("ENABLED", Some("expires"))),
            [Status::Pass, Status::Fail]
        );
        assert_eq!(
            statuses(&table("DISABLED", None)),
            [Status::Pass, Status::Fail]
        );
        let mut sorted = table("ENABLED", Some("expiration"));
        sorted.keys.push(("sk".into(), "RANGE".into()));
        assert_eq!(statuses(&sorted)[0], Status::Fail);
        let mut numeric = table("ENABLED", Some("expiration"));
        numeric.attribute_types = vec![("id".into(), "N".into())];
        assert_eq!(statuses(&numeric)[0], Status::Fail);
        let missing = table_findings("t", Ok(None));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].status, Status::Fail);
    }

    #[test]
    fn the_ttl_attribute_is_the_one_the_template_enables() {
        let template = include_str!("../../../template.yaml");
        let spec = template
            .split("TimeToLiveSpecification:")
            .nth(1)
            .expect("template.yaml has a TimeToLiveSpecification");
        let attribute = spec
            .lines()
            .find_map(|l| l.trim().strip_prefix("AttributeName:"))
            .map(str::trim);
        assert_eq!(attribute, Some(TTL_ATTRIBUTE));
    }

    #[test]
    fn the_environment_must_be_created() {
        assert_eq!(
            environment_finding("e", Ok(Some("CREATED"))).status,
            Status::Pass
        );
        assert_eq!(
            environment_finding("e", Ok(Some("SUSPENDED"))).status,
            Status::Fail
        );
        assert_eq!(environment_finding("e", Ok(None)).status, Status::Fail);
        let error = CallError {
            code: None,
            kind: Kind::Unreachable,
            message: "timeout".into(),
        };
        assert_eq!(environment_finding("e", Err(&error)).status, Status::Fail);
    }

    #[test]
    fn the_hmac_secret_is_checked_never_shown() {
        let long = SecretString::from("k".repeat(MIN_HMAC_KEY_LEN));
        let short = SecretString::from("short-hmac-canary".to_owned());
        assert_eq!(hmac_finding("arn", Ok(Some(&long))).status, Status::Pass);
        let finding = hmac_finding("arn", Ok(Some(&short)));
        assert_eq!(finding.status, Status::Fail);
        assert!(!finding.reason.contains("short-hmac-canary"));
        assert_eq!(hmac_finding("arn", Ok(None)).status, Status::Fail);
    }
}
