//! A real user pool on moto: created per test, so tests sharing a server never share users.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::{
    Client,
    types::{
        AccountRecoverySettingType, AttributeType, AuthFlowType, ExplicitAuthFlowsType,
        MessageActionType, PasswordPolicyType, RecoveryOptionNameType, RecoveryOptionType,
        UserPoolPolicyType, UserStatusType,
    },
};
use aws_sdk_cognitoidentityprovider::{
    error::SdkError,
    operation::admin_initiate_auth::{AdminInitiateAuthError, AdminInitiateAuthOutput},
};

/// The demo pool's users, their groups and seeded passwords: `config/demo-pool.json`, which
/// `scripts/seed_moto.py` seeds the demo from too, so the two cannot drift apart.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoPool {
    users: Vec<String>,
    groups: std::collections::BTreeMap<String, Vec<String>>,
    seed_password: String,
}

fn demo_pool() -> DemoPool {
    serde_json::from_str(include_str!("../../config/demo-pool.json"))
        .expect("config/demo-pool.json")
}

/// The seeded password of `name`.
pub fn seed_password(name: &str) -> String {
    demo_pool().seed_password.replace("{name}", name)
}

/// A user pool with Cognito's default password policy, verified-email recovery, an app client
/// for admin sign-in, and the demo users (`config/demo-pool.json`), each confirmed with
/// [`seed_password`] and in its groups (hank holds a helpdesk seat).
pub struct Pool {
    pub client: Client,
    pub id: String,
    pub app_client_id: String,
}

/// How a sign-in attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// Tokens issued: the password is the user's permanent one.
    Tokens,
    /// A challenge, e.g. `NEW_PASSWORD_REQUIRED` after a temporary password.
    Challenge(String),
    /// Refused, with the error code.
    Refused(String),
}

impl Pool {
    /// Creates the pool and its users.
    pub async fn create(sdk: &SdkConfig) -> Self {
        let client = Client::new(sdk);
        let policy = PasswordPolicyType::builder()
            .minimum_length(8)
            .require_uppercase(true)
            .require_lowercase(true)
            .require_numbers(true)
            .require_symbols(true)
            .build();
        let recovery = AccountRecoverySettingType::builder()
            .recovery_mechanisms(
                RecoveryOptionType::builder()
                    .priority(1)
                    .name(RecoveryOptionNameType::VerifiedEmail)
                    .build()
                    .expect("recovery option"),
            )
            .build();
        let pool = client
            .create_user_pool()
            .pool_name("resetgate-test")
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(policy)
                    .build(),
            )
            .account_recovery_setting(recovery)
            .send()
            .await
            .expect("create_user_pool");
        let id = pool
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_owned();
        let app = client
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("resetgate-test-admin")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create_user_pool_client");
        let app_client_id = app
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("client id")
            .to_owned();
        let pool = Self {
            client,
            id,
            app_client_id,
        };
        let demo = demo_pool();
        for name in &demo.users {
            pool.add_user(name).await;
        }
        for (group, members) in &demo.groups {
            for member in members {
                pool.add_to_group(member, group).await;
            }
        }
        pool
    }

    /// Adds a confirmed user with a verified e-mail address.
    pub async fn add_user(&self, name: &str) {
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .expect("attribute")
        };
        self.client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(name)
            .user_attributes(attribute("email", &format!("{name}@example.com")))
            .user_attributes(attribute("email_verified", "true"))
            .message_action(MessageActionType::Suppress)
            .temporary_password("Temporary-Passw0rd!")
            .send()
            .await
            .expect("admin_create_user");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(name)
            .password(seed_password(name))
            .permanent(true)
            .send()
            .await
            .expect("admin_set_user_password");
    }

    /// Puts `user` in `group`, creating the group if needed.
    pub async fn add_to_group(&self, user: &str, group: &str) {
        let _ = self
            .client
            .create_group()
            .user_pool_id(&self.id)
            .group_name(group)
            .send()
            .await;
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.id)
            .username(user)
            .group_name(group)
            .send()
            .await
            .expect("admin_add_user_to_group");
    }

    /// The issuer of this pool's tokens.
    pub fn issuer(&self) -> String {
        resetgate::reset::cognito_issuer(&self.id)
    }

    /// The user's status in the pool.
    pub async fn status(&self, name: &str) -> UserStatusType {
        self.client
            .admin_get_user()
            .user_pool_id(&self.id)
            .username(name)
            .send()
            .await
            .expect("admin_get_user")
            .user_status()
            .cloned()
            .expect("status")
    }

    /// Disables a user.
    pub async fn disable(&self, name: &str) {
        self.client
            .admin_disable_user()
            .user_pool_id(&self.id)
            .username(name)
            .send()
            .await
            .expect("disable");
    }

    /// Signs in with ADMIN_USER_PASSWORD_AUTH.
    pub async fn sign_in(&self, name: &str, password: &str) -> SignIn {
        match self.password_auth(name, password).await {
            Ok(output) => match output.challenge_name() {
                Some(challenge) => SignIn::Challenge(challenge.as_str().to_owned()),
                None if output.authentication_result().is_some() => SignIn::Tokens,
                None => SignIn::Refused("no tokens and no challenge".into()),
            },
            Err(error) => {
                use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
                SignIn::Refused(error.code().unwrap_or("unknown").to_owned())
            }
        }
    }

    /// Signs `name` in with `password` and returns the refresh token Cognito issued.
    pub async fn refresh_token(&self, name: &str, password: &str) -> String {
        self.password_auth(name, password)
            .await
            .expect("sign-in")
            .authentication_result()
            .and_then(|tokens| tokens.refresh_token())
            .expect("a refresh token")
            .to_owned()
    }

    /// Whether `refresh_token` still gets new tokens (`REFRESH_TOKEN_AUTH`).
    pub async fn refreshes(&self, refresh_token: &str) -> bool {
        let parameters = HashMap::from([("REFRESH_TOKEN".to_owned(), refresh_token.to_owned())]);
        self.admin_auth(AuthFlowType::RefreshTokenAuth, parameters)
            .await
            .is_ok_and(|output| output.authentication_result().is_some())
    }

    /// `ADMIN_USER_PASSWORD_AUTH` with the pool's admin app client.
    async fn password_auth(
        &self,
        name: &str,
        password: &str,
    ) -> Result<AdminInitiateAuthOutput, SdkError<AdminInitiateAuthError>> {
        let parameters = HashMap::from([
            ("USERNAME".to_owned(), name.to_owned()),
            ("PASSWORD".to_owned(), password.to_owned()),
        ]);
        self.admin_auth(AuthFlowType::AdminUserPasswordAuth, parameters)
            .await
    }

    async fn admin_auth(
        &self,
        flow: AuthFlowType,
        parameters: HashMap<String, String>,
    ) -> Result<AdminInitiateAuthOutput, SdkError<AdminInitiateAuthError>> {
        self.client
            .admin_initiate_auth()
            .user_pool_id(&self.id)
            .client_id(&self.app_client_id)
            .auth_flow(flow)
            .set_auth_parameters(Some(parameters))
            .send()
            .await
    }

    /// The configuration of `config/demo.json` pointing at this pool.
    pub fn config(&self) -> String {
        let template = include_str!("../../config/demo.json");
        template
            .replace("${USER_POOL_ID}", &self.id)
            .replace("${RECOVERY_CLIENT_ID}", &self.app_client_id)
    }
}
