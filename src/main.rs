//! The Lambda entry point: wiring only. Logging, configuration, SDK clients and the [`App`]
//! are built once at cold start; a bad configuration fails the init with one log line.

use std::time::Duration;

use aws_config::{BehaviorVersion, timeout::TimeoutConfig};
use lambda_http::{LambdaEvent, lambda_runtime, service_fn};
use resetgate::{
    App, Config, ProxyResponse, config::HmacKeySource, idempotency::DynamoStore, reset,
};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    resetgate::logging::init();

    // Every back-end call must finish well inside API Gateway's 29 s and the function's own
    // timeout, retries included (standard retry mode: 3 attempts).
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    // The keyed-hash secret (one GetSecretValue in a deployment), then the configuration.
    let config = async {
        let key = HmacKeySource::from_env()?
            .resolve(&aws_sdk_secretsmanager::Client::new(&sdk))
            .await?;
        Config::from_env(key)
    }
    .await
    .inspect_err(|error| tracing::error!(%error, "init failed"))?;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.idempotency.table.clone(),
    );
    let mut clients = reset::Clients::default();
    let app = App::new(config, Box::new(store), |target| {
        reset::adapter_for(target, &sdk, &mut clients)
    })
    .inspect_err(|error| tracing::error!(%error, "init failed"))?;
    let app = &app;

    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            Ok::<ProxyResponse, lambda_runtime::Error>(
                app.handle_event(event.payload.get(), &event.context).await,
            )
        },
    ))
    .await
}
