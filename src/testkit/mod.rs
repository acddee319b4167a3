//! The test kit, one for every test (unit tests, the integration tests in `tests/`, the
//! benchmarks; the latter two through the `test-util` feature): API Gateway event builders,
//! an in-process back-end that counts its calls, the manual clock, the in-memory store, and
//! the function assembled from them.

pub mod events;

mod backend;

use std::sync::Arc;

use secrecy::SecretString;

use crate::{App, Clock, Config, Context, PasswordResets, ResetAdapter, SystemClock};
pub use crate::{clock::ManualClock, idempotency::MemoryStore};
pub use backend::{CountingAdapter, RecordingBus, RecordingMailer, account};

/// The issuer of the sample events' tokens (`events/`), which `config/demo.json` trusts.
pub const DEMO_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DemoPool1";

/// The recovery app client of `config/demo.json`'s `app-users` in the test kit's configuration.
pub const DEMO_RECOVERY_CLIENT: &str = "demorecoveryclient1";

/// The keyed-hash secret of test deployments.
pub const TEST_KEY: &str = "unit-test-hmac-key-0123456789abcdef0123";

/// The demo configuration of `events/` (`config/demo.json`), on the pool `us-east-1_DemoPool1`.
pub fn demo_config() -> String {
    include_str!("../../config/demo.json")
        .replace("${USER_POOL_ID}", "us-east-1_DemoPool1")
        .replace("${RECOVERY_CLIENT_ID}", DEMO_RECOVERY_CLIENT)
}

/// A parsed configuration under [`TEST_KEY`].
pub fn config(document: &str) -> Config {
    Config::parse(document, SecretString::from(TEST_KEY)).expect("a valid test configuration")
}

/// The function over `document`, with every target served by `adapter`, records in a fresh
/// [`MemoryStore`] (which returns the old record with a failed condition, as DynamoDB does)
/// and the system clock.
pub fn app(adapter: &CountingAdapter, document: &str) -> App {
    app_with(
        adapter,
        document,
        MemoryStore::returning_old(),
        Arc::new(SystemClock),
    )
}

/// [`app`] with a given store and clock.
pub fn app_with(
    adapter: &CountingAdapter,
    document: &str,
    store: MemoryStore,
    clock: Arc<dyn Clock>,
) -> App {
    let resets = PasswordResets::new(config(document), Box::new(store), clock, |_| {
        Ok(Box::new(adapter.clone()) as Box<dyn ResetAdapter>)
    })
    .expect("the function");
    App::new(resets)
}

/// [`app`] with its events published to `bus`.
pub fn app_with_events(adapter: &CountingAdapter, document: &str, bus: &RecordingBus) -> App {
    let resets = PasswordResets::new(
        config(document),
        Box::new(MemoryStore::returning_old()),
        Arc::new(SystemClock),
        |_| Ok(Box::new(adapter.clone()) as Box<dyn ResetAdapter>),
    )
    .expect("the function")
    .with_events(Box::new(bus.clone()));
    App::new(resets)
}

/// [`app`] telling users of resets through `mailer`.
pub fn app_with_mailer(adapter: &CountingAdapter, document: &str, mailer: &RecordingMailer) -> App {
    let resets = PasswordResets::new(
        config(document),
        Box::new(MemoryStore::returning_old()),
        Arc::new(SystemClock),
        |_| Ok(Box::new(adapter.clone()) as Box<dyn ResetAdapter>),
    )
    .expect("the function")
    .with_notifications(
        Box::new(mailer.clone()),
        "the IT helpdesk, +1 555 0100".into(),
    );
    App::new(resets)
}

/// [`app`] with its events published to `bus` and users told through `mailer`.
pub fn app_with_events_and_mailer(
    adapter: &CountingAdapter,
    document: &str,
    bus: &RecordingBus,
    mailer: &RecordingMailer,
) -> App {
    let resets = PasswordResets::new(
        config(document),
        Box::new(MemoryStore::returning_old()),
        Arc::new(SystemClock),
        |_| Ok(Box::new(adapter.clone()) as Box<dyn ResetAdapter>),
    )
    .expect("the function")
    .with_events(Box::new(bus.clone()))
    .with_notifications(
        Box::new(mailer.clone()),
        "the IT helpdesk, +1 555 0100".into(),
    );
    App::new(resets)
}

/// A Lambda invocation context with the request id `lambda-request-1` and no deadline.
pub fn context() -> Context {
    let mut context = Context::default();
    context.request_id = "lambda-request-1".into();
    context
}
