//! Test support: local stand-ins for AWS, started and stopped by the tests themselves.
//!
//! moto's server (installed by `make test` into `.cache/venv`) and dynalite (into
//! `.cache/node`) run on free loopback ports. One server of each kind is shared by the tests
//! that overlap in time and stopped, by its PID, when the last of them drops its handle, also
//! when a test panics.

#![allow(dead_code)]

pub mod calls;
pub mod cognito;
pub mod dynamo;
pub mod runtime;
pub mod sinks;
pub mod standin;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::Credentials;

/// A running local server; stopped on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

/// moto's server.
pub type Moto = Server;

impl Drop for Server {
    fn drop(&mut self) {
        // Only the process this harness started, by its handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static MOTO: Mutex<Weak<Server>> = Mutex::new(Weak::new());
static DYNALITE: Mutex<Weak<Server>> = Mutex::new(Weak::new());

fn shared(slot: &Mutex<Weak<Server>>, start: fn() -> Server) -> Arc<Server> {
    let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(running) = slot.upgrade() {
        return running;
    }
    let started = Arc::new(start());
    *slot = Arc::downgrade(&started);
    started
}

/// The shared moto server, started if no test holds one.
pub fn moto() -> Arc<Server> {
    shared(&MOTO, start_moto)
}

/// The shared dynalite server (atomic conditional writes), started if no test holds one.
pub fn dynalite() -> Arc<Server> {
    shared(&DYNALITE, start_dynalite)
}

fn start_dynalite() -> Server {
    let cli =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/node/node_modules/dynalite/cli.js");
    assert!(
        cli.exists(),
        "{} is missing: run `make test` (it installs dynalite into .cache/node)",
        cli.display()
    );
    let port = free_port();
    let child = Command::new("node")
        .arg(&cli)
        .args([
            "--port",
            &port.to_string(),
            "--createTableMs",
            "0",
            "--deleteTableMs",
            "0",
            "--updateTableMs",
            "0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dynalite starts");
    let server = Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    wait_for_port(port, Duration::from_secs(30));
    server
}

/// The project-local venv's `bin` directory.
pub fn venv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/venv/bin")
}

/// moto's server with the project's patches (`tests/support/moto_server.py`: Cognito's
/// `UserLastModifiedDate` after a password change, which moto 5.2.5 leaves alone).
fn start_moto() -> Server {
    let python = venv_bin().join("python");
    assert!(
        venv_bin().join("moto_server").exists(),
        "moto is missing from {}: run `make test` (it installs moto into .cache/venv)",
        venv_bin().display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_server.py");
    let port = free_port();
    let child = Command::new(&python)
        .arg(&script)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    wait_for_port(port, Duration::from_secs(60));
    moto
}

/// An endpoint that nothing serves, for the "back-end unreachable" cases: every connection to
/// it is refused at once.
///
/// Why port 1 on loopback, and not the alternatives:
/// - A port from [`free_port`] is free only when it is picked: the kernel hands the same
///   ephemeral ports to the emulators that tests running in parallel start (moto, dynalite,
///   the stand-ins all listen on [`free_port`]s), so the "unreachable" back-end could answer.
/// - A listener kept bound but never accepting is no better: the kernel completes the
///   handshake for the backlog, so the client connects and then waits for an answer that
///   never comes (a timeout, not a refusal: 30 s with [`sdk_config`]).
/// - A TEST-NET address (RFC 5737, e.g. 192.0.2.1) is never routed, but a connection to it
///   hangs until the connect timeout, or fails at once with "network unreachable", depending
///   on the machine's routes.
/// - Port 1 (tcpmux) is outside the ephemeral range, so no test's emulator can get it from
///   the kernel, and only a privileged process could bind it on purpose; nothing here does.
///   On loopback a connection to it is refused immediately (RST).
///
/// The refusal is checked each time, so a machine where something does serve port 1 fails
/// the test loudly instead of letting it pass against a live server.
pub fn unreachable_endpoint() -> String {
    let address = SocketAddr::from(([127, 0, 0, 1], 1));
    match TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {}
        Ok(_) => {
            panic!("something listens on {address}: it cannot stand for an unreachable back-end")
        }
        Err(error) => {
            panic!("{address} is not refused but {error}: pick another unreachable endpoint")
        }
    }
    format!("http://{address}")
}

/// A loopback port nobody listens on right now (for a server to listen on; not to stand for
/// an unreachable one: see [`unreachable_endpoint`]).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + limit;
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {address} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SDK configuration for a local endpoint, with dummy credentials.
///
/// The connect timeout is long: moto is one Python process, and on a loaded two-core machine
/// it can take longer than the SDK's default 3.1 s to accept, which would turn into a retry
/// that call-counting tests see as a second call.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(30))
                .build(),
        )
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "resetgate-tests",
        ))
        .load()
        .await
}

/// The issuer of the sample events' tokens, which `config/demo.json` trusts for self-service.
pub const DEMO_ISSUER: &str = resetgate::testkit::DEMO_ISSUER;

/// The key the integration tests' deployments use.
pub const HMAC_KEY: &str = "integration-test-hmac-key-0123456789abcdef";

/// An app as `main` builds it: adapters from `cognito_sdk`, idempotency records in a fresh
/// table through `dynamodb`. Returns the table's name too.
pub async fn app(
    config: &str,
    cognito_sdk: &SdkConfig,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> (resetgate::App, String) {
    let config =
        resetgate::Config::parse(config, secrecy::SecretString::from(HMAC_KEY)).expect("config");
    let table = dynamo::create_table(dynamodb).await;
    let store = resetgate::idempotency::DynamoStore::new(dynamodb.clone(), table.clone());
    let app = resetgate::wiring::app(config, Box::new(store), cognito_sdk)
        .await
        .expect("app");
    (app, table)
}

/// The function for `config` with its records in `store`, as `wiring::app` builds it, but with
/// Cognito reached through `cognito_sdk` (moto) and every other back-end through `other_sdk`
/// (the stand-in).
pub fn app_over(
    config: resetgate::Config,
    store: Box<dyn resetgate::idempotency::Store>,
    cognito_sdk: &SdkConfig,
    other_sdk: &SdkConfig,
) -> resetgate::App {
    let cognito = resetgate::Clients::new(cognito_sdk);
    let other = resetgate::Clients::new(other_sdk);
    resetgate::App::new(resets_over(config, store, cognito, other))
}

/// The use case for `config` with its records in `store`, each target's adapter from its
/// settings as `wiring::app` builds it, with its SDK clients from `cognito` for Cognito targets
/// and from `other` for the rest (a test may put its own client in either first).
pub fn resets_over<'a>(
    config: resetgate::Config,
    store: Box<dyn resetgate::idempotency::Store>,
    mut cognito: resetgate::Clients<'a>,
    mut other: resetgate::Clients<'a>,
) -> resetgate::PasswordResets {
    resetgate::PasswordResets::new(
        config,
        store,
        std::sync::Arc::new(resetgate::SystemClock),
        |target| {
            let clients = if target.capabilities().name == "cognito" {
                &mut cognito
            } else {
                &mut other
            };
            target.backend().adapter(&target.name, clients)
        },
    )
    .expect("app")
}

/// A sample event from `events/` (the test kit's).
pub fn sample_event(name: &str) -> serde_json::Value {
    resetgate::testkit::events::sample(name)
}

/// The test kit's HTTP API payload 2.0 event behind a `$default` route, so the function
/// routes by `path`, from a caller with `claims`, with a JSON `body` (content type set).
///
/// Every token names its issuer: where `claims` do not, the event carries the sample events'
/// (`DEMO_ISSUER`, the pool `config/demo.json` trusts).
pub fn http_api_event(path: &str, claims: serde_json::Value, body: &str) -> serde_json::Value {
    let mut claims = claims;
    if let Some(map) = claims.as_object_mut() {
        map.entry("iss").or_insert_with(|| DEMO_ISSUER.into());
    }
    let headers = serde_json::json!({"content-type": "application/json"});
    resetgate::testkit::events::http_api(path, claims, headers, body)
}
