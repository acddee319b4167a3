//! The echo floor: a `lambda_runtime` function that answers every event with the event itself,
//! untouched (as a raw JSON value, the way resetgate receives it). What it costs is the runtime
//! loop alone: the Runtime API round trips, no parsing, no SDK, no logging.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| async move {
        Ok::<Box<RawValue>, Error>(event.payload)
    }))
    .await
}
