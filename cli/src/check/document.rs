//! The configuration document, as far as the checks need it.

use serde::Deserialize;

use super::cognito;

/// The document, as far as the checks need it: lenient (the function's parser is the strict
/// one), so that what can be checked is checked even when the document is refused.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub idempotency: Option<Idempotency>,
    #[serde(default)]
    pub trusted_client_ids: Vec<String>,
}

/// `idempotency`: only the table is checked.
#[derive(Debug, Default, Deserialize)]
pub struct Idempotency {
    #[serde(default)]
    pub table: Option<String>,
}

/// A target's keys the checks read (any service's; the others are ignored here).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub username_claim: Option<String>,
    #[serde(default)]
    pub trusted_issuers: Option<Vec<String>>,
    #[serde(default)]
    pub user_pool_id: Option<String>,
    #[serde(default)]
    pub recovery_client_id: Option<String>,
    #[serde(default)]
    pub recovery_client_secret_arn: Option<String>,
    #[serde(default)]
    pub directory_id: Option<String>,
    #[serde(default)]
    pub refuse_disabled: Option<bool>,
    #[serde(default)]
    pub environment_id: Option<String>,
}

impl Target {
    /// The issuers whose tokens name accounts here: `trustedIssuers`, else (Cognito) the
    /// pool's own issuer.
    pub fn issuers(&self) -> Option<Vec<String>> {
        self.trusted_issuers.clone().or_else(|| {
            (self.service == "cognito")
                .then(|| self.user_pool_id.as_deref().map(cognito::pool_issuer))
                .flatten()
                .map(|issuer| vec![issuer])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_default_to_the_pool_for_cognito_targets_only() {
        let cognito: Target = serde_json::from_str(
            r#"{"name": "a", "service": "cognito", "userPoolId": "eu-west-1_Abc", "usernameClaim": "cognito:username"}"#,
        )
        .unwrap();
        assert_eq!(
            cognito.issuers(),
            Some(vec![
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc".to_owned()
            ])
        );
        let directory: Target = serde_json::from_str(
            r#"{"name": "b", "service": "directory", "directoryId": "d-1234567890", "usernameClaim": "custom:ad_username"}"#,
        )
        .unwrap();
        assert_eq!(directory.issuers(), None);
        let trusted: Target = serde_json::from_str(
            r#"{"name": "c", "service": "directory", "trustedIssuers": ["https://login.example.com"]}"#,
        )
        .unwrap();
        assert_eq!(
            trusted.issuers(),
            Some(vec!["https://login.example.com".to_owned()])
        );
    }
}
