//! The composition root: the SDK configuration and clients, the idempotency store, one
//! adapter per target and the use case, built once at cold start. `main` calls [`init`]; the
//! integration tests build the same thing against local endpoints with [`app`].

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use secrecy::SecretString;

use crate::{
    app::PasswordResets,
    aws::Clients,
    clock::SystemClock,
    config::{Config, HmacKeySource, read_secret},
    error::InitError,
    events::EventBridgeBus,
    http::App,
    idempotency::{DynamoStore, Store},
    notify::SesMailer,
};

/// The SDK configuration of a deployment: region and credentials from the Lambda environment,
/// and timeouts that keep every back-end call well inside API Gateway's 29 s and the
/// function's own timeout, retries included (standard retry mode: 3 attempts).
pub async fn sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The whole function from the environment: the keyed-hash secret (one `GetSecretValue` in a
/// deployment), the configuration, the DynamoDB store and every target's adapter.
pub async fn init() -> Result<App, InitError> {
    let sdk = sdk_config().await;
    let key = HmacKeySource::from_env()?
        .resolve(&aws_sdk_secretsmanager::Client::new(&sdk))
        .await?;
    let config = Config::from_env(key)?;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.idempotency.table.clone(),
    );
    app(config, Box::new(store), &sdk).await
}

/// The function for `config`, with its records in `store` and its back-ends reached with
/// `sdk`: the secrets the back-ends name read (concurrently, once), then each target's adapter
/// from its settings, SDK clients shared per service.
pub async fn app(config: Config, store: Box<dyn Store>, sdk: &SdkConfig) -> Result<App, InitError> {
    let mut clients = Clients::new(sdk);
    let secrets = backend_secrets(&config, &mut clients).await?;
    let mut clients = clients.with_secrets(secrets);
    let events = config.events.clone();
    let notifications = config.notifications.clone();
    let mut resets = PasswordResets::new(config, store, Arc::new(SystemClock), |target| {
        target.backend().adapter(&target.name, &mut clients)
    })?;
    if let Some(events) = events {
        resets = resets.with_events(Box::new(EventBridgeBus::new(
            clients.get(aws_sdk_eventbridge::Client::new),
            events.event_bus_name,
        )));
    }
    if let Some(notifications) = notifications {
        let mailer = SesMailer::new(
            clients.get(aws_sdk_sesv2::Client::new),
            notifications.from_address.clone(),
        );
        resets = resets.with_notifications(Box::new(mailer), notifications.contact);
    }
    Ok(App::new(resets))
}

/// Every secret a target's back-end names ([`crate::reset::Backend::secret_ids`]), read once
/// and concurrently; an unreadable one stops the init, naming the target and the key.
async fn backend_secrets(
    config: &Config,
    clients: &mut Clients<'_>,
) -> Result<HashMap<String, SecretString>, InitError> {
    let mut wanted: Vec<(String, &str)> = Vec::new();
    for target in &config.targets {
        for (key, secret_id) in target.backend().secret_ids() {
            if !wanted.iter().any(|(_, id)| *id == secret_id) {
                wanted.push((format!("targets[{}].{key}", target.name), secret_id));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let client = clients.get(aws_sdk_secretsmanager::Client::new);
    let read = futures_util::future::try_join_all(wanted.iter().map(|(named_by, id)| {
        let client = &client;
        async move {
            read_secret(client, id, named_by)
                .await
                .map(|secret| ((*id).to_owned(), secret))
        }
    }))
    .await?;
    Ok(read.into_iter().collect())
}
