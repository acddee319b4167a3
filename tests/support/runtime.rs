//! The function as Lambda runs it: the built binary (`target/debug/resetgate`, its `main`,
//! `wiring::init` and the `lambda_runtime` loop), polling a Lambda Runtime API served here.
//!
//! The emulator speaks the part of the Runtime API that `lambda_runtime` uses
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>): `GET
//! /2018-06-01/runtime/invocation/next` (held until an event is queued, with the
//! `Lambda-Runtime-*` headers), `POST .../invocation/{id}/response`, `POST
//! .../invocation/{id}/error` and `POST .../init/error`. HTTP/1.1 with keep-alive, bodies by
//! `Content-Length` or chunked. Standard library only: one thread per connection.
//!
//! The function's stdout and stderr (its logs: audit lines, errors, the SDK's traces) are
//! captured whole, for assertions.

use std::{
    collections::{HashMap, VecDeque},
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// How an invocation ended, as the function reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// `POST /invocation/{id}/response`: the function's answer.
    Response(String),
    /// `POST /invocation/{id}/error`: the function failed the invocation.
    Error(String),
}

#[derive(Default)]
struct State {
    queued: VecDeque<(String, String)>,
    reported: HashMap<String, Reported>,
    init_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A Lambda Runtime API on a loopback port, and the function process polling it. Dropping it
/// stops the function (by its handle) and the emulator.
pub struct Function {
    shared: Arc<Shared>,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<thread::JoinHandle<()>>,
    next_id: u64,
}

/// How long a function may take to answer one invocation.
const INVOCATION_LIMIT: Duration = Duration::from_secs(60);
/// The deadline the function is given per invocation (Lambda-Runtime-Deadline-Ms).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(25);

impl Function {
    /// Starts the Runtime API and then `binary` with the environment `env` (and nothing else of
    /// this process's environment but `PATH`), plus the variables Lambda sets for a runtime.
    pub fn start(binary: &str, env: &[(&str, String)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the Runtime API");
        let address = listener.local_addr().expect("address");
        let shared = Arc::new(Shared::default());
        {
            let shared = shared.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = shared.clone();
                    thread::spawn(move || serve(stream, &shared));
                }
            });
        }
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "resetgate")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/resetgate")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2025/06/02/[$LATEST]tests")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the function binary starts");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("stdout"), stdout.clone()),
            drain(child.stderr.take().expect("stderr"), stderr.clone()),
        ];
        Self {
            shared,
            child,
            stdout,
            stderr,
            readers,
            next_id: 0,
        }
    }

    /// Queues `event` as the next invocation and waits for the function to report on it.
    pub fn invoke(&mut self, event: &str) -> Reported {
        self.next_id += 1;
        let request_id = format!("runtime-request-{:04}", self.next_id);
        self.shared
            .lock()
            .queued
            .push_back((request_id.clone(), event.to_owned()));
        self.shared.changed.notify_all();
        let deadline = Instant::now() + INVOCATION_LIMIT;
        let mut state = self.shared.lock();
        loop {
            if let Some(reported) = state.reported.remove(&request_id) {
                return reported;
            }
            if let Some(error) = &state.init_error {
                panic!("the function failed its init: {error}\n{}", self.output());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the function exited ({status}) before answering\n{}",
                    self.output()
                );
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no answer to {request_id} within {INVOCATION_LIMIT:?}\n{}",
                self.output()
            );
            state = self
                .shared
                .changed
                .wait_timeout(state, left.min(Duration::from_millis(200)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops the function and returns everything it wrote: (stdout, stderr).
    pub fn stop(mut self) -> (String, String) {
        self.halt();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let text = |bytes: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&bytes.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
        };
        (text(&self.stdout), text(&self.stderr))
    }

    /// What the function wrote so far, for failure messages.
    fn output(&self) -> String {
        let text = |bytes: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&bytes.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
        };
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            text(&self.stdout),
            text(&self.stderr)
        )
    }

    fn halt(&mut self) {
        // Only the process this harness started, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.halt();
    }
}

fn drain(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buffer[..n]);
        }
    })
}

/// One request as read off a connection.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request; `None` at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request { method, path, body })
}

fn reply(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> bool {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body).is_ok()
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    const PREFIX: &str = "/2018-06-01/runtime/";
    while let Some(request) = read_request(&mut reader) {
        let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
        let ok = match (request.method.as_str(), route) {
            ("GET", "invocation/next") => match next_event(shared) {
                Some((request_id, event)) => {
                    let deadline = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .expect("time")
                        .as_millis()
                        + FUNCTION_TIMEOUT.as_millis();
                    reply(
                        &mut writer,
                        "200 OK",
                        &[
                            ("Lambda-Runtime-Aws-Request-Id", request_id),
                            ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                            (
                                "Lambda-Runtime-Invoked-Function-Arn",
                                "arn:aws:lambda:us-east-1:123456789012:function:resetgate".into(),
                            ),
                            (
                                "Lambda-Runtime-Trace-Id",
                                "Root=1-683db5fc-fb1c9f2b4e9e015ab37dd9be;Sampled=0".into(),
                            ),
                        ],
                        event.as_bytes(),
                    )
                }
                None => return,
            },
            ("POST", "init/error") => {
                shared.lock().init_error = Some(String::from_utf8_lossy(&request.body).into());
                shared.changed.notify_all();
                reply(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)
            }
            ("POST", route) if route.starts_with("invocation/") => {
                let rest = route.trim_start_matches("invocation/");
                let (request_id, kind) = rest.rsplit_once('/').unwrap_or((rest, ""));
                let body = String::from_utf8_lossy(&request.body).into_owned();
                let reported = match kind {
                    "response" => Reported::Response(body),
                    _ => Reported::Error(body),
                };
                shared
                    .lock()
                    .reported
                    .insert(request_id.to_owned(), reported);
                shared.changed.notify_all();
                reply(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)
            }
            _ => reply(
                &mut writer,
                "404 Not Found",
                &[],
                br#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
            ),
        };
        if !ok {
            return;
        }
    }
}

/// The next queued event, waiting for one; `None` once the emulator stops.
fn next_event(shared: &Shared) -> Option<(String, String)> {
    let mut state = shared.lock();
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return None;
        }
        if let Some(next) = state.queued.pop_front() {
            return Some(next);
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(200))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}
