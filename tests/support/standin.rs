//! The project's stand-in for Directory Service, Directory Service Data and FinSpace Data
//! (`standin.py`): the real wire protocols, per-user state, injectable faults and call counts,
//! driven through its control API under `/_standin/`.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use serde_json::Value;

use super::{Server, free_port, venv_bin, wait_for_port};

static STANDIN: Mutex<Weak<Server>> = Mutex::new(Weak::new());

/// The shared stand-in, started if no test holds one. Tests sharing it use their own
/// directory ids, environments and users, so they never see each other's state; tests that
/// inject faults or count calls start a [`private`] one.
pub fn standin() -> Arc<Server> {
    let mut slot = STANDIN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(running) = slot.upgrade() {
        return running;
    }
    let server = Arc::new(private());
    *slot = Arc::downgrade(&server);
    server
}

/// A stand-in of the caller's own; stopped on drop.
pub fn private() -> Server {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/standin.py");
    let port = free_port();
    let child = Command::new(venv_bin().join("python"))
        .arg(&script)
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the stand-in starts (run `make test` to install .cache/venv)");
    let server = Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    wait_for_port(port, Duration::from_secs(30));
    server
}

/// Calls the stand-in's control API.
pub fn control(server: &Server, method: &str, path: &str, body: Option<&Value>) -> Value {
    let address = server.endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect to the stand-in");
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let (head, payload) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
        "{method} {path}: {head}"
    );
    if payload.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(payload).expect("JSON from the stand-in")
    }
}

/// Merges directories, environments and users into the stand-in's state.
pub fn seed(server: &Server, state: &Value) {
    control(server, "POST", "/_standin/seed", Some(state));
}

/// Everything the stand-in knows: users, passwords, resets, calls.
pub fn state(server: &Server) -> Value {
    control(server, "GET", "/_standin/state", None)
}

/// Queues a fault for the next matching requests.
pub fn fault(server: &Server, fault: &Value) {
    control(server, "POST", "/_standin/faults", Some(fault));
}

/// A proxy in front of `upstream` (moto) that holds chosen answers back after the call took
/// effect (`late_proxy.py`); stopped on drop.
pub fn late_proxy(upstream: &str) -> Server {
    python_proxy("late_proxy.py", upstream, &[])
}

/// HTTPS in front of `upstream` (`tls_proxy.py`), with a certificate from a throwaway CA of
/// its own; returns the proxy (`https://localhost:PORT`, stopped on drop) and that CA's
/// certificate (PEM).
pub fn tls_proxy(upstream: &str) -> (Server, Vec<u8>) {
    let ca_out = std::env::temp_dir().join(format!(
        "resetgate-tls-ca-{}-{}.pem",
        std::process::id(),
        free_port()
    ));
    let ca_arg = ca_out.to_string_lossy().into_owned();
    let mut server = python_proxy("tls_proxy.py", upstream, &["--ca-out", &ca_arg]);
    let started = std::time::Instant::now();
    let ca = loop {
        if let Ok(pem) = std::fs::read(&ca_out) {
            break pem;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "tls_proxy.py wrote no CA"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_file(&ca_out);
    server.endpoint = server
        .endpoint
        .replace("http://127.0.0.1", "https://localhost");
    (server, ca)
}

/// A proxy in front of `upstream` (moto) that answers `ConfirmForgotPassword` as Cognito does
/// (`cognito_codes.py`): a 6-digit code issued when `AdminResetUserPassword` or
/// `ForgotPassword` succeeds, `SECRET_HASH` checked, 5 failed attempts per code, the user
/// CONFIRMED with the new password; every other request is forwarded to moto. The test reads
/// the "e-mailed" code with `control(&proxy, "GET", &format!("/_codes/{pool}/{user}"),
/// None)["code"]`. Stopped on drop.
pub fn cognito_codes(upstream: &str) -> Server {
    python_proxy("cognito_codes.py", upstream, &[])
}

/// One of the project's Python proxies (`tests/support/SCRIPT`) on a free port in front of
/// `upstream`, started with the venv's Python and stopped on drop.
fn python_proxy(script: &str, upstream: &str, extra: &[&str]) -> Server {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script);
    let port = free_port();
    let child = Command::new(venv_bin().join("python"))
        .arg(&path)
        .args(["--port", &port.to_string(), "--upstream", upstream])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{script} starts (run `make test` to install .cache/venv): {e}")
        });
    let server = Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    wait_for_port(port, Duration::from_secs(30));
    server
}
