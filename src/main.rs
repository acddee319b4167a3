//! The Lambda entry point: logging, then the function from the composition root
//! (`wiring::init`), built once at cold start; a bad configuration fails the init with one
//! log line.

use lambda_http::{LambdaEvent, lambda_runtime, service_fn};
use resetgate::{ProxyResponse, config, logging, wiring};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init(config::log_level());
    let app = wiring::init()
        .await
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
