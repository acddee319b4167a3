//! Test support: local stand-ins for AWS, started and stopped by the tests themselves.
//!
//! moto's server (installed by `make test` into `.cache/venv`) runs on a free loopback port.
//! One server is shared by the tests that overlap in time and stopped, by its PID, when the
//! last of them drops its handle, also when a test panics.

#![allow(dead_code)]

pub mod cognito;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::Credentials;

/// A running moto server; stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Only the process this harness started, by its handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static MOTO: Mutex<Weak<Moto>> = Mutex::new(Weak::new());

/// The shared moto server, started if no test holds one.
pub fn moto() -> Arc<Moto> {
    let mut slot = MOTO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(running) = slot.upgrade() {
        return running;
    }
    let started = Arc::new(start_moto());
    *slot = Arc::downgrade(&started);
    started
}

/// The project-local venv's `bin` directory.
pub fn venv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/venv/bin")
}

fn start_moto() -> Moto {
    let server = venv_bin().join("moto_server");
    assert!(
        server.exists(),
        "{} is missing: run `make test` (it installs moto into .cache/venv)",
        server.display()
    );
    let port = free_port();
    let child = Command::new(&server)
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

/// A loopback port nobody listens on right now.
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
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
