#!/usr/bin/env python3
"""resetgate's cold-start and warm benchmark, against the Python function users would otherwise
write and against two floors, through the Lambda Runtime API.

    benches/driver.py [--runs 5] [--warm 300] [--users 400] [--count-warm 100] [--arm64]
                      [--out target/bench] [--release-dir target/release] [--baseline PATH]
                      [--functions resetgate,resetgate-lean,python,sdk-floor,echo-floor]

Run by scripts/bench.sh (`make bench`) after `cargo build --release --workspace --bins`, with
the project's venv Python (.cache/venv/bin/python: boto3 seeds moto; everything else is the
standard library). It

1. starts moto_server (Cognito, DynamoDB, Secrets Manager, EventBridge, SES) once on a free
   loopback port and seeds it (scripts/seed_moto.py: the user pool, its app client and the
   idempotency table; then --users more users bench-0001, bench-0002, ...; the keyed-hash
   secret, which resetgate reads at cold start from RESETGATE_HMAC_KEY_SECRET_ARN, as deployed:
   its init includes that GetSecretValue; the event bus and the SES sender; and the Python
   function's own idempotency table);
2. serves the Lambda Runtime API itself (an emulator, one free loopback port per function, as
   every Lambda execution environment has its own): the function process is started by this
   script with AWS_LAMBDA_RUNTIME_API and the other variables the Lambda service sets,
   long-polls `GET /2018-06-01/runtime/invocation/next`, and answers with
   `POST .../invocation/{id}/response` (or `/error`, or `.../init/error`);
3. for each of --runs rounds: starts each function in turn (a cold start) and hands it one
   event at once (the first invocation); then hands out --warm more events to each, interleaved
   (one to each function in turn, so a change in the machine's load or in moto's speed meets
   all of them alike); then reads each process's peak RSS (VmHWM) and CPU time and stops it. The
   order of the functions rotates from round to round;
4. unless --no-count, after the timed rounds: starts each function that calls AWS once more,
   pointed (AWS_ENDPOINT_URL) at a counting HTTP proxy of its own in front of moto (loopback,
   threads, at most 16 connections), which records every AWS call (X-Amz-Target, or method and
   path for REST APIs) with its start and end at the proxy and at moto (upstream of the proxy):
   for the init, the first invocation, --count-warm fresh warm resets and a replay of the last.
   Calls whose intervals at moto overlap count as one sequential round trip. Each warm reset's
   time is split into moto's (at least one call at moto), the proxy's and the function's own
   (the rest), with moto's CPU time during it (its process CPU clock), and each step of
   concurrent calls shows how far they overlapped. The proxy is used in this pass only, so its
   overhead is in none of the timings;
5. prints Markdown tables of the medians over the rounds and writes them to OUT/results.md, and
   everything measured to OUT/results.json; last, the three-way table (resetgate, the Python
   function, the floors) with its ratios once more. No timing is asserted: only a failed
   invocation, a wrong answer or a process that dies fails the run.

The functions (release binaries in target/release, and the Python function):

* resetgate: the real function (its keyed-hash secret from moto's Secrets Manager) with a
  one-target Cognito configuration and the whole workflow: default rate limits (every reset's
  claim is a TransactWriteItems with two counter updates), every decision's event on an
  EventBridge bus and the user e-mailed through SES; it answers events/self-generate.json with a
  fresh Idempotency-Key, a different caller (`sub`) and a different user (`cognito:username`,
  cycling through the bench users) each time;
* resetgate-lean: the same binary configured like-for-like with the Python function (issue
  #17): the same side effects as the Python function, so rate limits off, no events, no
  e-mail and the user's sessions left alone (`revokeSessions: false`); its own safety read of
  the account (AdminGetUser, beside the claim) stays; the same events;
* python (benches/python-powertools): what users would otherwise write: Powertools for AWS
  Lambda (Python) idempotency on DynamoDB (its own table, powertools-idempotency), boto3's
  admin_set_user_password, the Powertools Logger; started as the Lambda Python runtime starts a
  function, `python -m awslambdaric app.handler` (with the venv .cache/bench-python that
  scripts/bootstrap-tools.sh --bench-python installs), in its code's directory; the same events,
  the same 200 body (target, username, mode, mustChangeAtNextSignIn, password);
* sdk-floor (benches/sdk-floor): resetgate's AWS calls for a reset with rate limits (before the
  sign-out, events and e-mail), nothing else; its event is only `{"username": ..., "caller":
  ...}` (the same user and caller as the resetgate event it stands for), since parsing an API
  Gateway event is resetgate's work;
* echo-floor (benches/echo-floor): the runtime loop alone, answering each resetgate event
  with the event;
* baseline (--baseline PATH): another resetgate binary (an earlier commit's), configured as
  resetgate is (with --baseline-sinks) or without events and e-mail, run interleaved.

What is measured, per function and round:

* init: from spawning the process to its first `/invocation/next` request;
* first invoke: from handing out the first event (writing the `/next` response) to having
  read the function's `/response`;
* warm p50 / p99: the same, over the --warm invocations that follow (nearest rank);
* peak RSS: VmHWM from /proc/PID/status just before the process is stopped;
* CPU: the process's own on-CPU time (all threads: its CPU-time clock) for its init,
  its first invocation and per warm invocation: its own cost, whatever moto's speed.

moto's TransactWriteItems deep-copies the whole table on every call, so its cost grows with the
table; DynamoDB's does not. Before each invocation of a function that writes idempotency
records (outside the measured time) the driver therefore empties that function's table, so
every reset meets the same empty table. The rate limits of resetgate's full workflow stay on:
each claim still writes both counters under their conditions. Every process this script starts
is stopped by its PID, also on failure or Ctrl-C.
"""

import argparse
import http.server
import json
import os
import platform
import queue
import re
import secrets
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
# The Python function's own venv (scripts/bootstrap-tools.sh --bench-python) and its code.
BENCH_PYTHON = ROOT / ".cache" / "bench-python" / "bin" / "python"
PYTHON_FUNCTION_DIR = ROOT / "benches" / "python-powertools"
PYTHON_HANDLER = "app.handler"
REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "resetgate-idempotency"
# The Python function's idempotency table: its own, so the two never meet.
PYTHON_TABLE = "powertools-idempotency"
TARGET = "app-users"
# Bench-only keyed-hash secret (40 characters), stored in moto's Secrets Manager as HMAC_SECRET
# and handed to resetgate as RESETGATE_HMAC_KEY_SECRET_ARN, as in a deployment (one
# GetSecretValue at cold start). Never use it anywhere else.
HMAC_KEY = "resetgate-bench-only-hmac-key-not-secret"
HMAC_SECRET = "resetgate/bench-hmac-key"
EVENT_BUS = "resetgate-bench"
SENDER = "no-reply@example.com"
MEMORY_MB = 256  # template.yaml MemorySize
TIMEOUT_S = 15  # template.yaml Timeout: the deadline handed to every invocation
SEED_PASSWORD = "Bench-Seed-Passw0rd!"

# resetgate / SDK floor, as targets: reported, never asserted.
TARGETS = {"cold_start": 1.2, "warm_p50": 1.1, "peak_rss": 1.2}
# Issue #17's goals against the Python function: Python / resetgate at least this much on a cold
# start and a warm p50, resetgate's peak RSS at most this fraction of Python's, resetgate's init
# at most this multiple of the echo floor's. Reported, never asserted.
GOALS = {"cold_start": 20.0, "warm_p50": 1.5, "peak_rss": 0.25, "init_vs_echo": 2.0}


# How moto was served, for the results' header.
MOTO_SERVED = {
    "keep-alive": "served with HTTP/1.1 keep-alive by benches/moto_keepalive.py, as AWS's "
                  "endpoints keep connections",
    "werkzeug": "moto_server, whose werkzeug closes the connection after every call",
}


class BenchError(Exception):
    """A failed invocation, a wrong answer, a process that died: the run fails."""


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            pass
        if process.poll() is not None:
            raise BenchError(f"{what} exited ({process.returncode}) before listening on {port}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what} did not listen on port {port} within {seconds}s")
        time.sleep(0.05)


# --- processes ---------------------------------------------------------------------------------

class Processes:
    """Every process this script starts, stopped by PID (TERM, then KILL) whatever happens."""

    def __init__(self):
        self.running = []

    def start(self, argv, **kwargs):
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kwargs)
        self.running.append(process)
        return process

    def stop(self, process, grace=3.0):
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self):
        for process in reversed(list(self.running)):
            self.stop(process)


# --- the Runtime API emulator ------------------------------------------------------------------

class Invocation:
    def __init__(self, request_id, payload):
        self.request_id = request_id
        self.payload = payload
        self.handed_ns = None
        self.done_ns = None
        self.outcome = None  # "response" or "error"
        self.body = None
        self.done = threading.Event()
        self.moto_cpu_before = self.moto_cpu_after = None  # the counting pass only


class Session:
    """One function process's view of the Runtime API: its events and its answers."""

    def __init__(self, function_name):
        self.function_name = function_name
        self.events = queue.Queue()
        self.invocations = {}
        self.first_next_ns = None
        self.first_next = threading.Event()
        self.init_error = None
        self.closed = False


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-runtime-api"
    PREFIX = "/2018-06-01/runtime/"

    def setup(self):
        super().setup()
        # Headers and body go out in one write; no Nagle delay on loopback either way.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # quiet
        pass

    def reply(self, status, body=b"", headers=()):
        reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found",
                  410: "Gone"}.get(status, "")
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        session = self.server.session
        if self.path != self.PREFIX + "invocation/next" or session is None:
            self.wfile.write(self.reply(404, b'{"errorType":"NotFound"}'))
            return
        if session.first_next_ns is None:
            session.first_next_ns = time.perf_counter_ns()
            session.first_next.set()
        while True:  # the long poll
            try:
                invocation = session.events.get(timeout=0.25)
                break
            except queue.Empty:
                if session.closed or self.server.session is not session:
                    self.close_connection = True
                    return
        deadline_ms = int(time.time() * 1000) + TIMEOUT_S * 1000
        trace = (f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
                 f"Parent={secrets.token_hex(8)};Sampled=0")
        response = self.reply(200, invocation.payload, [
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{session.function_name}"),
            ("Lambda-Runtime-Trace-Id", trace),
        ])
        invocation.handed_ns = time.perf_counter_ns()
        self.wfile.write(response)

    def do_POST(self):
        session = self.server.session
        body = self.read_body()
        now = time.perf_counter_ns()
        path = self.path
        if session is None:
            self.wfile.write(self.reply(404, b"{}"))
            return
        if path == self.PREFIX + "init/error":
            session.init_error = body.decode("utf-8", "replace")
            session.first_next.set()
            self.wfile.write(self.reply(202, b'{"status":"OK"}'))
            return
        match = re.fullmatch(re.escape(self.PREFIX) + r"invocation/([^/]+)/(response|error)", path)
        invocation = match and session.invocations.get(match.group(1))
        if invocation is None or invocation.done.is_set():
            self.wfile.write(self.reply(400 if invocation else 404, b'{"errorType":"InvalidRequestID"}'))
            return
        invocation.done_ns = now
        invocation.outcome = match.group(2)
        invocation.body = body
        self.wfile.write(self.reply(202, b'{"status":"OK"}'))
        invocation.done.set()


class RuntimeApiServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), RuntimeApi)
        self.session = None


# --- moto ----------------------------------------------------------------------------------------

def boto_clients(endpoint):
    import boto3  # the venv's; only for seeding and emptying moto
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=REGION)
    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2},
                    max_pool_connections=16)
    return (session.client("cognito-idp", endpoint_url=endpoint, config=config),
            session.client("dynamodb", endpoint_url=endpoint, config=config))


def seed(endpoint, users, out_dir, dynamodb=None):
    """The user pool, its users and the tables. With `dynamodb` (another moto, for DynamoDB
    alone), the tables there: scripts/seed_moto.py is run against it too, for its table."""
    (out_dir / "seed.log").write_text("")
    for url in [endpoint] + ([dynamodb] if dynamodb else []):
        seeded = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "seed_moto.py"), url,
             "--idempotency-table", TABLE],
            check=False, capture_output=True, text=True)
        with open(out_dir / "seed.log", "a") as seed_log:
            seed_log.write(seeded.stderr)
        if seeded.returncode != 0:
            raise BenchError(f"scripts/seed_moto.py failed:\n{seeded.stderr}")
        if url == endpoint:
            pool_id = json.loads(seeded.stdout)["userPoolId"]
    idp, _ = boto_clients(endpoint)
    _, ddb = boto_clients(dynamodb or endpoint)

    def create(name):
        idp.admin_create_user(
            UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"},
                            {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=SEED_PASSWORD,
                                    Permanent=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, bench_users(users)))
    # moto loads some of its code at its first use: a first transaction here, so that no
    # function's first invocation pays for it.
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {
        "id": {"S": "bench-warm-up"}}, "ConditionExpression": "attribute_not_exists(id)"}}])
    idp.admin_get_user(UserPoolId=pool_id, Username=bench_users(1)[0])
    empty_table(ddb)
    create_python_table(ddb)
    return pool_id, ddb


def create_python_table(ddb):
    """The Python function's idempotency table, as Powertools' DynamoDB persistence layer expects
    it by default: partition key `id` (S), TTL on `expiration`. Its own table, so resetgate's
    records and the Python function's never meet. A conditional put and an update warm moto's
    code for them, as the transaction above does for resetgate's."""
    ddb.create_table(TableName=PYTHON_TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName=PYTHON_TABLE, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expiration"})
    ddb.put_item(TableName=PYTHON_TABLE, Item={"id": {"S": "bench-warm-up"}},
                 ConditionExpression="attribute_not_exists(id)",
                 ReturnValuesOnConditionCheckFailure="ALL_OLD")
    ddb.update_item(TableName=PYTHON_TABLE, Key={"id": {"S": "bench-warm-up"}},
                    UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": "COMPLETED"}})
    empty_table(ddb, PYTHON_TABLE)


def create_hmac_secret(endpoint):
    """The keyed-hash secret in moto's Secrets Manager; returns its ARN. Read once here too, so
    moto loads its Secrets Manager code before any function's init is timed."""
    import boto3

    client = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                   region_name=REGION).client("secretsmanager", endpoint_url=endpoint)
    arn = client.create_secret(Name=HMAC_SECRET, SecretString=HMAC_KEY)["ARN"]
    if client.get_secret_value(SecretId=arn)["SecretString"] != HMAC_KEY:
        raise BenchError("moto's Secrets Manager did not give the bench secret back")
    return arn


def create_sinks(endpoint):
    """Where resetgate's events and e-mails go in the bench: an EventBridge bus and a verified
    SES sender (moto keeps what it is sent). A call to each warms moto's code for them."""
    import boto3

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=REGION)
    session.client("events", endpoint_url=endpoint).create_event_bus(Name=EVENT_BUS)
    session.client("sesv2", endpoint_url=endpoint).create_email_identity(EmailIdentity=SENDER)


def bench_users(count):
    return [f"bench-{i:04d}" for i in range(1, count + 1)]


def empty_table(ddb, table=TABLE):
    """Deletes every item (3 per reset at most, since this runs between two invocations)."""
    kwargs = {"TableName": table, "ProjectionExpression": "id", "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        keys = [{"DeleteRequest": {"Key": {"id": item["id"]}}} for item in page.get("Items", [])]
        for start in range(0, len(keys), 25):
            ddb.batch_write_item(RequestItems={table: keys[start:start + 25]})
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- the counting proxy --------------------------------------------------------------------------

class CountingProxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A loopback HTTP forwarder between one function and moto that records every AWS call: its
    operation (the X-Amz-Target header of the JSON protocols: DynamoDB, Cognito, Secrets Manager)
    and when it started and ended. Used only in the counting pass after the timed rounds, so its
    overhead is in none of the timings. Bounded: at most MAX_CONNECTIONS connections at once (more
    wait in the listen backlog) and MAX_CALLS recorded calls; stopped by the driver."""

    daemon_threads = True
    allow_reuse_address = True
    MAX_CONNECTIONS = 16
    MAX_CALLS = 10_000

    def __init__(self, upstream_port):
        super().__init__(("127.0.0.1", 0), CountingProxyHandler)
        self.upstream_port = upstream_port
        # (start_ns, end_ns, operation, status, upstream_start_ns, upstream_end_ns): the call as
        # the function's side of the proxy saw it (request read to answer written), and moto's
        # part of it (request sent upstream to answer read back).
        self.calls = []
        self.connections = []  # when each of the function's connections was accepted
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(self.MAX_CONNECTIONS)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def process_request(self, request, client_address):
        with self.lock:
            self.connections.append(time.perf_counter_ns())
        self.slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def record(self, call):
        with self.lock:
            if len(self.calls) >= self.MAX_CALLS:
                raise BenchError(f"the counting proxy recorded more than {self.MAX_CALLS} calls")
            self.calls.append(call)

    def take(self, since_ns=None, until_ns=None):
        """The calls that started in [since_ns, until_ns], in order of their start."""
        with self.lock:
            calls = [c for c in self.calls if (since_ns is None or c[0] >= since_ns)
                     and (until_ns is None or c[0] <= until_ns)]
        return sorted(calls)


class CountingProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                  "trailer", "upgrade", "content-length"}

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = None

    def finish(self):
        super().finish()
        if self.upstream is not None:
            self.upstream.close()

    def log_message(self, *args):  # quiet
        pass

    def forward(self):
        import http.client

        start = time.perf_counter_ns()
        operation = self.headers.get("X-Amz-Target") or f"{self.command} {self.path.split('?')[0]}"
        body = RuntimeApi.read_body(self)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self.HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):  # once more on a fresh connection if moto closed the kept one
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port,
                                                           timeout=30)
            try:
                upstream_start = time.perf_counter_ns()
                self.upstream.request(self.command, self.path, body=body, headers=headers)
                answer = self.upstream.getresponse()
                payload = answer.read()
                upstream_end = time.perf_counter_ns()
                break
            except (http.client.HTTPException, OSError):
                self.upstream.close()
                self.upstream = None
                if attempt == 2:
                    raise
        head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        head += [f"{k}: {v}" for k, v in answer.getheaders() if k.lower() not in self.HOP_BY_HOP]
        head.append(f"Content-Length: {len(payload)}")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.wfile.flush()
        self.server.record((start, time.perf_counter_ns(), operation, answer.status,
                            upstream_start, upstream_end))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward


# The calls of REST-protocol APIs (no X-Amz-Target), by method and path.
REST_OPERATIONS = {"POST /v2/email/outbound-emails": "SendEmail"}


def short_operation(target):
    """`DynamoDB_20120810.PutItem` → `PutItem`; `POST /v2/email/outbound-emails` → `SendEmail`."""
    return REST_OPERATIONS.get(target) or target.rsplit(".", 1)[-1]


def sequential_steps(calls):
    """The calls grouped into sequential round trips: calls whose intervals at moto overlap
    (directly or through a chain) are one step. moto's part of a call (upstream of the proxy)
    is used, not the proxy's whole handling: a function that makes its next call as soon as it
    has read an answer can start it before the proxy's thread has noted the end of the last."""
    steps = []
    for call in sorted(calls, key=lambda c: c[4]):
        operation, start, end = short_operation(call[2]), call[4], call[5]
        if steps and start < steps[-1]["end"]:
            steps[-1]["calls"].append(operation)
            steps[-1]["end"] = max(steps[-1]["end"], end)
        else:
            steps.append({"start": start, "end": end, "calls": [operation]})
    return steps


def describe_steps(calls):
    steps = sequential_steps(calls)
    return {
        "calls": len(calls),
        "round_trips": len(steps),
        "sequence": " → ".join(" ∥ ".join(step["calls"]) for step in steps) or "(none)",
        "detail": [{"operation": op, "status": status, "start_ms": (start - calls[0][0]) / 1e6,
                    "end_ms": (end - calls[0][0]) / 1e6}
                   for start, end, op, status, *_ in calls],
    }


# --- the functions -------------------------------------------------------------------------------

def resetgate_config(pool_id, sinks=True, rate_limits=True, revoke_sessions=True):
    """One Cognito target, as config/demo.json's app-users, with the default rate limits (or,
    without `rate_limits`, both limits 0: off), and (`sinks`) every decision's event on a bus
    and the user e-mailed after the reset: the whole workflow's calls. Without
    `revoke_sessions`, the user's sessions are left as they are (`revokeSessions: false`), as
    the Python function leaves them. A build before #14 knows none of these keys: its
    configuration has none of them."""
    document = {
        "targets": [{
            "name": TARGET, "service": "cognito", "userPoolId": pool_id,
            "usernameClaim": "cognito:username", "adminGroups": ["helpdesk"],
            "modes": ["code", "generate", "set"], "protectedUsers": ["break-glass"],
        }],
        "idempotency": {"table": TABLE, "ttlSeconds": 600},
    }
    if not rate_limits:
        document["targets"][0]["rateLimits"] = {"perAccountPerHour": 0, "perCallerPerHour": 0}
    if not revoke_sessions:
        document["targets"][0]["revokeSessions"] = False
    if sinks:
        document["events"] = {"eventBusName": EVENT_BUS}
        document["notifications"] = {"fromAddress": SENDER, "contact": "the IT helpdesk"}
    return json.dumps(document, separators=(",", ":"))


class EventMaker:
    """resetgate events from events/self-generate.json: a fresh key, caller and user each time."""

    def __init__(self, users, issuer):
        self.template = json.loads((ROOT / "events" / "self-generate.json").read_text())
        self.users = users
        self.issuer = issuer  # the seeded pool's: a Cognito target trusts its own pool's tokens
        self.count = 0

    def next(self):
        self.count += 1
        user = self.users[self.count % len(self.users)]
        event = json.loads(json.dumps(self.template))
        now = time.time()
        event["headers"]["idempotency-key"] = f"bench-{uuid.uuid4()}"
        event["headers"]["x-amzn-trace-id"] = f"Root=1-{int(now):08x}-{secrets.token_hex(12)}"
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        claims.update({
            "sub": str(uuid.uuid4()), "cognito:username": user, "email": f"{user}@example.com",
            "iss": self.issuer,
            "auth_time": str(int(now) - 60), "iat": str(int(now) - 60),
            "exp": str(int(now) + 3540), "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()), "event_id": str(uuid.uuid4()),
        })
        event["requestContext"]["requestId"] = secrets.token_urlsafe(12)
        event["requestContext"]["timeEpoch"] = int(now * 1000)
        return user, claims["sub"], json.dumps(event).encode()


def check_resetgate(user, caller, event, body):
    answer = json.loads(body)
    if answer.get("statusCode") != 200:
        raise BenchError(f"resetgate answered {answer.get('statusCode')}: {answer.get('body')}")
    reset = json.loads(answer["body"])
    if reset.get("username") != user or not isinstance(reset.get("password"), str) \
            or len(reset["password"]) < 16 or reset.get("mode") != "generate":
        raise BenchError(f"resetgate's 200 lacks the reset of {user}: {sorted(reset)}")


def check_replay(user, caller, event, body):
    answer = json.loads(body)
    if answer.get("statusCode") != 200:
        raise BenchError(f"resetgate's replay answered {answer.get('statusCode')}: {answer.get('body')}")
    reset = json.loads(answer["body"])
    if reset.get("username") != user or "password" in reset \
            or reset.get("passwordDelivered") != "earlier":
        raise BenchError(f"resetgate's replay is not the earlier reset of {user}: {answer['body'][:300]}")


def check_python(user, caller, event, body):
    """The Python function's 200: the same body as resetgate's generate answer."""
    answer = json.loads(body)
    if answer.get("statusCode") != 200:
        raise BenchError(f"the Python function answered {answer.get('statusCode')}: {answer.get('body')}")
    reset = json.loads(answer["body"])
    if set(reset) != {"target", "username", "mode", "mustChangeAtNextSignIn", "password"} \
            or reset["username"] != user or reset["target"] != TARGET or reset["mode"] != "generate" \
            or reset["mustChangeAtNextSignIn"] is not True or not isinstance(reset["password"], str) \
            or len(reset["password"]) < 16:
        raise BenchError(f"the Python function's 200 lacks the reset of {user}: {answer['body'][:300]}")


def check_sdk_floor(user, caller, event, body):
    if json.loads(body) != {"ok": True}:
        raise BenchError(f"sdk-floor answered {body[:300]!r}")


def check_echo(user, caller, event, body):
    if json.loads(body) != json.loads(event):
        raise BenchError("echo-floor did not answer with its event")


FUNCTIONS = {
    # This build as the driver has always configured it: the whole workflow (default rate
    # limits, events on a bus, the user e-mailed).
    "resetgate": {"label": "resetgate, full workflow", "check": check_resetgate},
    # The same binary as the issue compares it with the Python function: rate limits off, no
    # events, no e-mail.
    "resetgate-lean": {"label": "resetgate, like-for-like", "check": check_resetgate},
    # benches/python-powertools: Powertools idempotency on DynamoDB, boto3, awslambdaric.
    "python": {"label": "Python + Powertools", "check": check_python},
    # `--baseline PATH`: another build of resetgate (an earlier commit), run interleaved with
    # this one in the same rounds, so the before/after ratio comes from one run.
    "baseline": {"label": "resetgate baseline", "check": check_resetgate},
    "sdk-floor": {"label": "SDK floor", "check": check_sdk_floor},
    "echo-floor": {"label": "echo floor", "check": check_echo},
}
DEFAULT_FUNCTIONS = "resetgate,resetgate-lean,python,sdk-floor,echo-floor"
# What each function is: a release binary of the workspace, or the Python function.
RUST_BINARIES = {"resetgate": "resetgate", "resetgate-lean": "resetgate",
                 "sdk-floor": "sdk-floor", "echo-floor": "echo-floor"}


# The functions that are resetgate (this build in either configuration, or the baseline).
RESETGATES = ("resetgate", "resetgate-lean", "baseline")
# The idempotency table each function writes to, emptied before each of its invocations.
TABLES = {"resetgate": TABLE, "resetgate-lean": TABLE, "baseline": TABLE, "sdk-floor": TABLE,
          "python": PYTHON_TABLE}


def python_runtime():
    """`python3.X`, the Python of the function's venv (its pyvenv.cfg), for AWS_EXECUTION_ENV."""
    try:
        for line in (BENCH_PYTHON.parent.parent / "pyvenv.cfg").read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() in ("version", "version_info"):
                return "python" + ".".join(value.strip().split(".")[:2])
    except OSError:
        pass
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def lambda_env(name, runtime_api, moto_url, own, dynamodb_url=None):
    """What the Lambda service sets for a provided.al2023 function (none of this machine's), or,
    for the Python function, for the managed Python runtime. With `dynamodb_url`, DynamoDB's
    calls go there (`AWS_ENDPOINT_URL_DYNAMODB`, which the Rust SDK and boto3 both read)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME":
            time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + secrets.token_hex(16),
        "AWS_LAMBDA_LOG_FORMAT": "JSON",  # template.yaml LoggingConfig
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test-session-token",
        # The stand-ins, and nothing from a developer's own AWS set-up.
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if name == "python":
        env.update({"_HANDLER": PYTHON_HANDLER, "AWS_EXECUTION_ENV": f"AWS_Lambda_{python_runtime()}",
                    "LAMBDA_TASK_ROOT": str(PYTHON_FUNCTION_DIR)})
    if dynamodb_url:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    env.update(own)
    return env


def percentile(values, fraction):
    """Nearest rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


def memory_kib(pid):
    """VmHWM (peak RSS), and the RSS now split into anonymous and file-backed pages."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0])
    if "VmHWM" not in fields:
        raise BenchError(f"no VmHWM for PID {pid}")
    return fields


def cpu_ns(pid):
    """On-CPU time of a whole process, in nanoseconds: its CPU-time clock (clock_gettime on
    the process's clock id, as clock_getcpuclockid(3) makes it), which counts every thread, those
    that have ended too (moto serves each request on a thread of its own). Where that clock
    cannot be read, the sum of its live threads' schedstat."""
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    except (OSError, OverflowError, AttributeError):
        pass
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as schedstat:
                total += int(schedstat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass  # a thread that just ended
    return total


class Instance:
    """One function process (one cold start) and what was measured of it."""

    def __init__(self, key, bench, round_no, endpoint=None):
        self.key = key
        self.bench = bench
        self.server = bench.servers[key]
        self.session = Session(key)
        self.server.session = self.session
        self.log_path = bench.out_dir / "logs" / f"{key}-{round_no}.log"
        env = lambda_env(key, f"127.0.0.1:{self.server.server_address[1]}",
                         endpoint or bench.moto_url, bench.own_env[key], bench.dynamodb_url)
        argv, cwd = bench.commands[key]
        with open(self.log_path, "wb") as log_file:
            self.start_ns = time.perf_counter_ns()
            self.process = bench.processes.start(argv, env=env, cwd=cwd, stdout=log_file,
                                                 stderr=subprocess.STDOUT)
        self.latencies = []
        self.cpu = {}
        self.moto_pid = None  # set in the counting pass: moto's CPU is read around each invocation

    def wait_init(self):
        deadline = time.monotonic() + 30
        while not self.session.first_next.wait(0.05):
            if self.process.poll() is not None:
                raise BenchError(f"{self.key} exited ({self.process.returncode}) during init; "
                                 f"see {self.log_path}")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.key} did not ask for an event within 30 s; see {self.log_path}")
        if self.session.init_error is not None:
            raise BenchError(f"{self.key} reported an init error: {self.session.init_error}")
        self.init_ns = self.session.first_next_ns - self.start_ns
        self.cpu["init"] = cpu_ns(self.process.pid)  # idle in its long poll now

    def invoke(self, replay=None):
        """Hands out one event, waits for the answer, checks it; records the latency. With
        `replay` (what an earlier invoke returned), hands out that same event again without
        emptying the table: an idempotent replay. Returns (user, caller, payload, invocation)."""
        if replay is not None:
            user, caller, payload, earlier = replay
            if self.key in RESETGATES:
                check = check_replay
            elif self.key == "python":
                def check(*_args, body, earlier=earlier.body):
                    # Powertools answers a replay with the stored result: the same password.
                    now, then = json.loads(body), json.loads(earlier)
                    if now.get("statusCode") != 200 or json.loads(now["body"]) != json.loads(then["body"]):
                        raise BenchError(f"the Python function's replay differs from its first "
                                         f"answer: {body[:300]!r}")
            else:
                check = FUNCTIONS[self.key]["check"]
        else:
            user, caller, resetgate_event = self.bench.events.next()
            if self.key == "sdk-floor":
                payload = json.dumps({"username": user, "caller": caller}).encode()
            else:
                payload = resetgate_event
            check = FUNCTIONS[self.key]["check"]
            if self.key in TABLES:
                # outside the measured time; see the module's docs
                empty_table(self.bench.ddb, TABLES[self.key])
        invocation = Invocation(str(uuid.uuid4()), payload)
        if self.moto_pid is not None:  # the counting pass: moto's CPU during this invocation
            invocation.moto_cpu_before = cpu_ns(self.moto_pid)
        self.session.invocations[invocation.request_id] = invocation
        self.session.events.put(invocation)
        number = len(self.latencies)
        limit = time.monotonic() + TIMEOUT_S + 5
        while not invocation.done.wait(0.1):
            if self.process.poll() is not None:
                raise BenchError(f"{self.key} died ({self.process.returncode}) in invocation "
                                 f"{number}; see {self.log_path}")
            if time.monotonic() > limit:
                raise BenchError(f"{self.key} did not answer invocation {number} within {TIMEOUT_S} s")
        if self.moto_pid is not None:
            invocation.moto_cpu_after = cpu_ns(self.moto_pid)
        del self.session.invocations[invocation.request_id]
        if invocation.outcome != "response":
            raise BenchError(f"{self.key} invocation {number} failed: {invocation.body[:500]!r}")
        check(user, caller, payload, body=invocation.body)
        self.latencies.append((invocation.done_ns - invocation.handed_ns) / 1e6)
        if number == 0:
            self.cpu["first"] = cpu_ns(self.process.pid)
        return user, caller, payload, invocation

    def finish(self):
        """Reads the peak RSS and CPU time, stops the process, returns the measurements."""
        self.cpu["end"] = cpu_ns(self.process.pid)
        threads = len(os.listdir(f"/proc/{self.process.pid}/task"))
        memory = memory_kib(self.process.pid)
        self.stop()
        warm = self.latencies[1:]
        return {
            "init_ms": self.init_ns / 1e6,
            "first_invoke_ms": self.latencies[0],
            "cold_start_ms": self.init_ns / 1e6 + self.latencies[0],
            "warm_p50_ms": percentile(warm, 0.50),
            "warm_p99_ms": percentile(warm, 0.99),
            "warm_mean_ms": statistics.fmean(warm),
            "warm_max_ms": max(warm),
            "peak_rss_kib": memory["VmHWM"],
            "rss_anon_kib": memory.get("RssAnon", 0),
            "rss_file_kib": memory.get("RssFile", 0),
            "init_cpu_ms": self.cpu["init"] / 1e6,
            "first_invoke_cpu_ms": (self.cpu["first"] - self.cpu["init"]) / 1e6,
            "warm_cpu_us": (self.cpu["end"] - self.cpu["first"]) / len(warm) / 1e3,
            "threads": threads,
        }

    def stop(self):
        self.session.closed = True
        self.bench.processes.stop(self.process)
        if self.server.session is self.session:
            self.server.session = None


def run_round(bench, keys, warm, round_no):
    """One cold start of each function, each followed at once by its first invocation; then the
    warm series, interleaved (one invocation of each function in turn), so a change in the
    machine's load or in moto's speed meets all of them alike."""
    order = keys[(round_no - 1) % len(keys):] + keys[:(round_no - 1) % len(keys)]
    instances = []
    try:
        for key in order:
            instance = Instance(key, bench, round_no)
            instances.append(instance)
            instance.wait_init()
            instance.invoke()
        for _ in range(warm):
            for instance in instances:
                instance.invoke()
        return {instance.key: instance.finish() for instance in instances}
    finally:
        for instance in instances:
            instance.stop()


def count_round_trips(bench, keys, warm_count):
    """After the timed rounds, outside every timing: each function that calls AWS once more,
    pointed at its own CountingProxy in front of moto. Records the calls of its init, its first
    (cold) invocation, `warm_count` fresh warm invocations and (resetgate, the Python function)
    a replay of the last one (the same event again, the table not emptied), groups each set into
    sequential round trips, and splits each warm invocation's time between moto, the proxy and
    the function itself (see `warm_shares`). moto's CPU time is read around each invocation."""
    counted = {}
    for key in [k for k in keys if k != "echo-floor"]:
        proxy = CountingProxy(bench.moto_port)
        threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        instance = None
        try:
            instance = Instance(key, bench, "count", endpoint=proxy.url)
            instance.moto_pid = bench.moto_pid
            instance.wait_init()
            windows = {"init": (instance.start_ns, instance.session.first_next_ns)}
            answer = instance.invoke()
            windows["first"] = (answer[3].handed_ns, answer[3].done_ns)
            warm = [instance.invoke() for _ in range(warm_count)]
            windows["fresh"] = (warm[0][3].handed_ns, warm[0][3].done_ns)
            if key in RESETGATES or key == "python":
                replayed = instance.invoke(replay=warm[-1])
                windows["replay"] = (replayed[3].handed_ns, replayed[3].done_ns)
            instance.stop()
            everything = proxy.take()
            counted[key] = {phase: describe_steps(proxy.take(*window))
                            for phase, window in windows.items()}
            counted[key]["unattributed_calls"] = len(everything) - sum(
                c["calls"] for phase, c in counted[key].items()) - sum(
                len(proxy.take(a[3].handed_ns, a[3].done_ns)) for a in warm[1:])
            counted[key]["warm"] = warm_shares(proxy, [a[3] for a in warm])
            w = counted[key]["warm"]
            log(f"round trips {key}: " + "; ".join(
                f"{phase} {c['calls']} calls in {c['round_trips']} ({c['sequence']})"
                for phase, c in counted[key].items() if isinstance(c, dict) and "calls" in c))
            log(f"warm shares {key} (median of {w['invocations']}): {w['latency_ms']:.2f} ms = "
                f"moto {w['moto_ms']:.2f} + proxy {w['proxy_ms']:.2f} + function's own "
                f"{w['own_ms']:.2f}; moto CPU {w['moto_cpu_ms']:.2f} ms")
        finally:
            if instance is not None:
                instance.stop()
            proxy.shutdown()
            proxy.server_close()
    one_at_a_time(counted)
    return counted


def one_at_a_time(counted):
    """What each step of concurrent calls would take at moto one call after the other: the sum
    of each operation's median time at moto when it was the only call in flight, in any
    function of this pass (the Python function and the SDK floor make their calls one by one).
    Left out where an operation never ran alone."""
    durations = {}
    for c in counted.values():
        for op, ms in c.get("warm", {}).get("alone_ms", {}).items():
            durations.setdefault(op, []).append(ms)
    alone = {op: statistics.median(values) for op, values in durations.items()}
    for c in counted.values():
        for name, step in c.get("warm", {}).get("concurrent_steps", {}).items():
            ops = name.split(" ∥ ")
            if all(op in alone for op in ops):
                step["one_at_a_time_ms"] = sum(alone[op] for op in ops)


def union_ns(intervals):
    """Total length of the union of (start, end) intervals."""
    total, current = 0, None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current is not None:
        total += current[1] - current[0]
    return total


def grouped_steps(calls):
    """Like sequential_steps, with the calls themselves in each step."""
    steps = []
    for call in sorted(calls, key=lambda c: c[4]):
        if steps and call[4] < max(c[5] for c in steps[-1]):
            steps[-1].append(call)
        else:
            steps.append([call])
    return steps


def step_name(step):
    """A step's calls in a fixed order (their start order varies from one invocation to the next)."""
    return " ∥ ".join(sorted(short_operation(c[2]) for c in step))


def overlap_share(total, wall, longest):
    """0 when concurrent calls ran one after the other (wall = their sum), 1 when they overlapped
    completely (wall = the longest)."""
    return (total - wall) / (total - longest) if total > longest else float("nan")


def warm_shares(proxy, invocations):
    """Each warm invocation through the proxy, split by the proxy's timestamps:

    * moto: the time at least one of the invocation's calls was at moto (from the proxy sending
      it upstream to having read the answer back);
    * proxy: the rest of the time calls were in flight (the proxy reading the request, writing
      the answer; loopback);
    * the function's own: the rest of the invocation (event handed out to response read): the
      function's CPU, its HTTP and SDK stacks, and the Runtime API emulator's side.

    Medians over the invocations, with moto's CPU time in each invocation, and for each step of
    concurrent calls how much they overlapped, as the function's side of the proxy saw them and
    at moto."""
    per = []
    concurrent = {}
    alone = {}  # operation → its durations at moto when it was the only call in flight
    for inv in invocations:
        calls = proxy.take(inv.handed_ns, inv.done_ns)
        latency = inv.done_ns - inv.handed_ns
        in_flight = union_ns([(c[0], c[1]) for c in calls])
        at_moto = union_ns([(c[4], c[5]) for c in calls])
        moto_cpu = inv.moto_cpu_after - inv.moto_cpu_before
        steps = grouped_steps(calls)
        with proxy.lock:
            opened = sum(1 for t in proxy.connections if inv.handed_ns <= t <= inv.done_ns)
        per.append({"latency": latency, "in_flight": in_flight, "at_moto": at_moto,
                    "connections": opened,
                    "moto_cpu": moto_cpu, "calls": len(calls),
                    "round_trips": len(steps),
                    "sequence": " → ".join(step_name(step) for step in steps),
                    "inv": inv, "raw": calls})
        for step in steps:
            if len(step) < 2:
                alone.setdefault(short_operation(step[0][2]), []).append(step[0][5] - step[0][4])
                continue
            durations = [c[1] - c[0] for c in step]
            at_moto_durations = [c[5] - c[4] for c in step]
            concurrent.setdefault(step_name(step), []).append({
                "wall": max(c[1] for c in step) - min(c[0] for c in step),
                "sum": sum(durations), "longest": max(durations),
                "moto_wall": union_ns([(c[4], c[5]) for c in step]),
                "moto_sum": sum(at_moto_durations), "moto_longest": max(at_moto_durations),
                # from the first call's start to the last's, at the proxy: how far apart the
                # calls the function started together reached it
                "skew": max(c[0] for c in step) - min(c[0] for c in step)})
    med = lambda name: statistics.median(p[name] for p in per) / 1e6  # noqa: E731
    sequences = {}
    for p in per:
        sequences[p["sequence"]] = sequences.get(p["sequence"], 0) + 1
    sequence, seen = max(sequences.items(), key=lambda item: item[1])
    typical = sorted(per, key=lambda p: p["latency"])[len(per) // 2]
    result = {
        "invocations": len(per),
        "latency_ms": med("latency"),
        "moto_ms": med("at_moto"),
        "proxy_ms": statistics.median((p["in_flight"] - p["at_moto"]) for p in per) / 1e6,
        "own_ms": statistics.median((p["latency"] - p["in_flight"]) for p in per) / 1e6,
        "in_flight_ms": med("in_flight"),
        "moto_cpu_ms": med("moto_cpu"),
        # moto's CPU over the time it was serving these calls: at most 1 while one interpreter
        # serves them (its lock); above 1 only if two calls ran on both cores at once.
        "moto_cpu_per_busy": sum(p["moto_cpu"] for p in per) / max(1, sum(p["at_moto"] for p in per)),
        "calls": statistics.median(p["calls"] for p in per),
        # New connections the function opened to the proxy during the warm resets, per reset:
        # 0 when its HTTP client keeps its connections across invocations.
        "new_connections_per_reset": sum(p["connections"] for p in per) / len(per),
        "round_trips": statistics.median(p["round_trips"] for p in per),
        "sequence": sequence, "sequence_seen": seen,
        "concurrent_steps": {
            name: {"seen": len(rows),
                   **{f"{field}_ms": statistics.median(r[field] for r in rows) / 1e6
                      for field in ("wall", "sum", "longest", "moto_wall", "moto_sum", "moto_longest",
                                    "skew")},
                   "overlap": statistics.median(overlap_share(r["sum"], r["wall"], r["longest"])
                                                for r in rows),
                   "moto_overlap": statistics.median(
                       overlap_share(r["moto_sum"], r["moto_wall"], r["moto_longest"]) for r in rows)}
            for name, rows in concurrent.items()},
        "alone_ms": {op: statistics.median(d) / 1e6 for op, d in alone.items()},
        # The invocation of median latency, call by call (ms from the event being handed out):
        # the function's side of the proxy [start, end] and moto's part [start, end].
        "timeline": {
            "latency_ms": typical["latency"] / 1e6,
            "calls": [{"operation": short_operation(c[2]), "status": c[3],
                       "start_ms": (c[0] - typical["inv"].handed_ns) / 1e6,
                       "end_ms": (c[1] - typical["inv"].handed_ns) / 1e6,
                       "moto_start_ms": (c[4] - typical["inv"].handed_ns) / 1e6,
                       "moto_end_ms": (c[5] - typical["inv"].handed_ns) / 1e6}
                      for c in typical["raw"]]},
    }
    return result


# --- sizes, the machine, the report --------------------------------------------------------------

def release_profile():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        return {}
    with open(ROOT / "Cargo.toml", "rb") as manifest:
        return tomllib.load(manifest).get("profile", {}).get("release", {})


def arm64_size(out_dir):
    """`cargo lambda build --release --arm64` of resetgate: a full release build of its own."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout.strip()
    if not (Path(sysroot) / "lib" / "rustlib" / "aarch64-unknown-linux-gnu").is_dir():
        raise BenchError("--arm64 needs the Rust standard library for aarch64-unknown-linux-gnu, "
                         "which this toolchain lacks: `rustup target add aarch64-unknown-linux-gnu` "
                         "(from the Rust distribution server) first")
    cargo_lambda = VENV_BIN / "cargo-lambda"
    log(f"building resetgate for arm64 (cargo lambda build --release --arm64; output in {out_dir}/arm64-build.log)")
    started = time.monotonic()
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    with open(out_dir / "arm64-build.log", "wb") as build_log:
        built = subprocess.run([str(cargo_lambda), "lambda", "build", "--release", "--arm64",
                                "--bin", "resetgate"], cwd=ROOT, env=env, stdout=build_log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if built.returncode != 0:
        raise BenchError(f"cargo lambda build --arm64 failed; see {out_dir}/arm64-build.log")
    bootstrap = ROOT / "target" / "lambda" / "resetgate" / "bootstrap"
    return {"bytes": bootstrap.stat().st_size, "path": str(bootstrap.relative_to(ROOT)),
            "build_s": round(time.monotonic() - started, 1)}


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=True,
                                  cwd=ROOT).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    return {
        "commit": version(["git", "describe", "--always", "--dirty", "--abbrev=7"]),
        "nproc": version(["nproc"]),
        "cpu": model,
        "kernel": platform.release(),
        "rustc": version(["rustc", "--version"]),
        "python": platform.python_version(),
        "moto": version([sys.executable, "-c", "import moto; print(moto.__version__)"]),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def mib(kib_or_bytes, unit):
    return kib_or_bytes / 1024 if unit == "kib" else kib_or_bytes / (1024 * 1024)


def summarise(runs):
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def python_function_info():
    """The Python function's interpreter and packages, as installed in its venv."""
    try:
        versions = subprocess.run(
            [str(BENCH_PYTHON), "-c",
             "import sys, aws_lambda_powertools.shared.version as p, awslambdaric, boto3, botocore; "
             "print(sys.version.split()[0], p.VERSION, awslambdaric.__version__, boto3.__version__, "
             "botocore.__version__)"],
            capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return {}
    return dict(zip(("python", "powertools", "awslambdaric", "boto3", "botocore"), versions))


# The resetgate configurations compared with the Python function, in the order shown.
VERSUS_PYTHON = ("resetgate-lean", "resetgate")


def versus_python(functions, counted=None):
    """Python / resetgate for time (above 1: resetgate is faster), resetgate / Python for memory
    (below 1: resetgate uses less), and resetgate's init against the echo floor's. With the
    counting pass, also the warm time that is each function's own (moto's taken out)."""
    if "python" not in functions:
        return {}
    counted = counted or {}
    py = functions["python"]["median"]
    echo = functions.get("echo-floor", {}).get("median")
    out = {}
    for key in [k for k in VERSUS_PYTHON if k in functions]:
        rg = functions[key]["median"]
        out[key] = {
            "init": py["init_ms"] / rg["init_ms"],
            "cold_start": py["cold_start_ms"] / rg["cold_start_ms"],
            "warm_p50": py["warm_p50_ms"] / rg["warm_p50_ms"],
            "warm_p99": py["warm_p99_ms"] / rg["warm_p99_ms"],
            "warm_mean": py["warm_mean_ms"] / rg["warm_mean_ms"],
            "peak_rss": rg["peak_rss_kib"] / py["peak_rss_kib"],
            "cpu_per_warm_invoke": py["warm_cpu_us"] / rg["warm_cpu_us"],
        }
        if echo:
            out[key]["init_vs_echo"] = rg["init_ms"] / echo["init_ms"]
        py_warm, rg_warm = counted.get("python", {}).get("warm"), counted.get(key, {}).get("warm")
        if py_warm and rg_warm:
            out[key]["own_warm"] = py_warm["own_ms"] / rg_warm["own_ms"]
            out[key]["moto_warm"] = py_warm["moto_ms"] / rg_warm["moto_ms"]
    return out


def verdict(ok):
    return "✔" if ok else "✘"


def render_three_way(results):
    """The comparison of issue #17: resetgate (both configurations), the Python function and the
    floors, side by side, with the ratios against the goals."""
    rows = results["functions"]
    versus = results.get("versus_python") or {}
    if not versus:
        return []
    cols = [k for k in ("resetgate-lean", "resetgate", "python", "echo-floor", "sdk-floor") if k in rows]
    settings = results["settings"]
    lines = [
        "## resetgate against the Python function",
        "",
        f"One run: the same Runtime API emulator, the same moto"
        f"{' (two processes: DynamoDB apart)' if settings.get('dynamodb_apart') else ''}, "
        f"the same self-service `generate` "
        f"reset; {settings['runs']} rounds interleaved, each a cold start and first reset of every "
        f"function then {settings['warm']} warm resets of each; medians over the rounds. "
        f"Like-for-like: resetgate with the Python function's side effects only (rate limits off, "
        f"no events, no e-mail, sessions not revoked); its read of the account, which protects "
        f"privileged and disabled accounts, stays. Full workflow: resetgate as deployed by "
        f"default, with rate limits, the user's sessions revoked, events on a bus and the user "
        f"e-mailed.",
        "",
        "| | " + " | ".join(FUNCTIONS[k]["label"] for k in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    fields = (("init (ms)", "init_ms", "{:.1f}"),
              ("cold start: init + first reset (ms)", "cold_start_ms", "{:.1f}"),
              ("warm p50 (ms)", "warm_p50_ms", "{:.2f}"),
              ("warm p99 (ms)", "warm_p99_ms", "{:.2f}"),
              ("warm mean (ms)", "warm_mean_ms", "{:.2f}"),
              ("peak RSS (MiB)", "peak_rss_kib", "mib"),
              ("CPU per warm reset (µs)", "warm_cpu_us", "{:.0f}"))
    for title, field, fmt in fields:
        cells = []
        for k in cols:
            value = rows[k]["median"][field]
            cells.append(f"{mib(value, 'kib'):.1f}" if fmt == "mib" else fmt.format(value))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    counted = results.get("round_trips") or {}
    if counted:
        cells = []
        for k in cols:
            w = counted.get(k, {}).get("warm")
            cells.append(f"{w['calls']:.0f} in {w['round_trips']:.0f}" if w else "—")
        lines.append("| AWS calls in sequential round trips (warm) | " + " | ".join(cells) + " |")
        for title, field in (("warm, at moto (ms, counting pass)", "moto_ms"),
                             ("warm, the function's own (ms, counting pass)", "own_ms")):
            cells = []
            for k in cols:
                w = counted.get(k, {}).get("warm")
                cells.append(f"{w[field]:.2f}" if w else "—")
            lines.append(f"| {title} | " + " | ".join(cells) + " |")
    compared = [k for k in VERSUS_PYTHON if k in versus]
    lines += ["", "| ratio | " + " | ".join(FUNCTIONS[k]["label"] for k in compared) + " | goal |",
              "|---|" + "---:|" * len(compared) + "---|"]
    g = GOALS
    lines.append("| cold start, Python / resetgate | " + " | ".join(
        f"{versus[k]['cold_start']:.1f}× {verdict(versus[k]['cold_start'] >= g['cold_start'])}"
        for k in compared) + f" | ≥ {g['cold_start']:.0f}× |")
    lines.append("| warm p50, Python / resetgate | " + " | ".join(
        f"{versus[k]['warm_p50']:.2f}× {verdict(versus[k]['warm_p50'] >= g['warm_p50'])}"
        for k in compared) + f" | ≥ {g['warm_p50']}× |")
    lines.append("| warm mean, Python / resetgate (with the tail) | "
                 + " | ".join(f"{versus[k]['warm_mean']:.2f}×" for k in compared) + " | |")
    lines.append("| peak RSS, resetgate / Python | " + " | ".join(
        f"{versus[k]['peak_rss']:.2f} {verdict(versus[k]['peak_rss'] <= g['peak_rss'])}"
        for k in compared) + f" | ≤ {g['peak_rss']} |")
    if all("init_vs_echo" in versus[k] for k in compared):
        lines.append("| init, resetgate / echo floor | " + " | ".join(
            f"{versus[k]['init_vs_echo']:.1f}× {verdict(versus[k]['init_vs_echo'] <= g['init_vs_echo'])}"
            for k in compared) + f" | ≤ {g['init_vs_echo']:.0f}× where achievable |")
    lines.append("| init, Python / resetgate | " + " | ".join(
        f"{versus[k]['init']:.1f}×" for k in compared) + " | |")
    lines.append("| CPU per warm reset, Python / resetgate | " + " | ".join(
        f"{versus[k]['cpu_per_warm_invoke']:.2f}×" for k in compared) + " | |")
    if all("own_warm" in versus[k] for k in compared):
        lines.append("| warm, the function's own time (moto's taken out), Python / resetgate | "
                     + " | ".join(f"{versus[k]['own_warm']:.2f}×" for k in compared) + " | |")
        lines.append("| warm, time at moto, Python / resetgate | " + " | ".join(
            f"{versus[k]['moto_warm']:.2f}×" for k in compared) + " | |")
    info = results.get("python_function") or {}
    if info:
        lines += ["", f"Python function: benches/python-powertools (Python {info.get('python')}, "
                      f"Powertools {info.get('powertools')}, awslambdaric {info.get('awslambdaric')}, "
                      f"boto3 {info.get('boto3')}), started as `python -m awslambdaric app.handler`. "
                      "Ratios and goals are reported, never asserted."]
    return lines


def render_shares(results):
    """Where the warm time goes, from the counting pass's proxy timestamps, and how much
    concurrent calls overlapped."""
    counted = results.get("round_trips") or {}
    keys = [k for k in ("resetgate-lean", "resetgate", "python", "baseline", "sdk-floor")
            if counted.get(k, {}).get("warm")]
    if not keys:
        return []
    n = counted[keys[0]]["warm"]["invocations"]
    lines = ["", f"Where a warm reset's time goes: {n} fresh warm resets of each function in the "
             "counting pass (through the proxy, so slower than the timed ones), split by the "
             "proxy's timestamps: **moto** is the time at least one call was at moto (sent "
             "upstream to answer read back), **proxy** the rest of the time calls were in flight "
             "(the proxy's reading and writing), **function's own** the rest of the invocation "
             "(the function's CPU, its HTTP and SDK stacks, the Runtime API emulator's side). "
             "Medians. moto's CPU is its process's on-CPU time during each invocation; "
             "CPU / busy at most 1 means it served the calls on one core at a time.", "",
             "| function | calls in round trips | latency (ms) | moto (ms) | proxy (ms) "
             "| function's own (ms) | moto share | moto CPU (ms) | moto CPU / busy "
             "| new connections per reset | sequence (as seen in how many) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for k in keys:
        w = counted[k]["warm"]
        lines.append(
            f"| {FUNCTIONS[k]['label']} | {w['calls']:.0f} in {w['round_trips']:.0f} | "
            f"{w['latency_ms']:.2f} | {w['moto_ms']:.2f} | {w['proxy_ms']:.2f} | {w['own_ms']:.2f} | "
            f"{w['moto_ms'] / w['latency_ms']:.0%} | {w['moto_cpu_ms']:.2f} | "
            f"{w['moto_cpu_per_busy']:.2f} | {w['new_connections_per_reset']:.2f} | "
            f"{w['sequence']} ({w['sequence_seen']}/{w['invocations']}) |")
    steps = [(k, name, step) for k in keys
             for name, step in counted[k]["warm"]["concurrent_steps"].items()]
    if steps:
        lines += ["", "Concurrent calls: did they overlap? Per step of calls the function "
                  "started together (medians): how far apart their starts reached the proxy "
                  "(skew), the step's wall time, the sum and the longest of its calls' durations; "
                  "overlap 0 means one after the other (wall = sum), 1 fully concurrent (wall = "
                  "longest). The same at moto (upstream of the proxy), and what the same "
                  "operations take at moto one at a time (each one's median when it was the only "
                  "call in flight, in any function; — where one never was): a step's wall close "
                  "to that sum means moto served the calls in turn, however much their "
                  "intervals overlap.", "",
                  "| function | step | seen | start skew (ms) | wall (ms) | sum (ms) | longest (ms) "
                  "| overlap | at moto: wall / sum / longest (ms) | overlap at moto "
                  "| the same calls one at a time at moto (ms) |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
        for k, name, st in steps:
            serial = st.get("one_at_a_time_ms")
            lines.append(
                f"| {FUNCTIONS[k]['label']} | {name} | {st['seen']} | {st['skew_ms']:.2f} | "
                f"{st['wall_ms']:.2f} | {st['sum_ms']:.2f} | {st['longest_ms']:.2f} | "
                f"{st['overlap']:.2f} | "
                f"{st['moto_wall_ms']:.2f} / {st['moto_sum_ms']:.2f} / {st['moto_longest_ms']:.2f} | "
                f"{st['moto_overlap']:.2f} | {'—' if serial is None else format(serial, '.2f')} |")
    lines += ["", "One warm reset of median latency, call by call (ms from the event handed out; "
              "[at the proxy] and (at moto)):", ""]
    for k in keys:
        t = counted[k]["warm"]["timeline"]
        calls = "; ".join(f"{c['operation']} [{c['start_ms']:.1f}–{c['end_ms']:.1f}] "
                          f"({c['moto_start_ms']:.1f}–{c['moto_end_ms']:.1f})" for c in t["calls"])
        lines.append(f"- {FUNCTIONS[k]['label']}, {t['latency_ms']:.1f} ms: {calls}")
    return lines


def render(results):
    m = results["machine"]
    rows = results["functions"]
    present = [k for k in ("resetgate-lean", "resetgate", "baseline", "python", "sdk-floor",
                           "echo-floor") if k in rows]
    settings = results["settings"]
    lines = [
        "# resetgate benchmark",
        "",
        f"Commit {m.get('commit', 'unknown')}. "
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}; {m['rustc']}; "
        f"moto {m['moto']}; load average {' '.join(m['loadavg_start'])} at the start, "
        f"{' '.join(m['loadavg_end'])} at the end.",
        "",
        f"Medians over {settings['runs']} rounds. Each round: a cold start of each function, each "
        f"followed at once by its first invocation, then {settings['warm']} warm invocations of "
        f"each, interleaved. The Lambda Runtime API is emulated by benches/driver.py; Cognito and "
        f"DynamoDB by moto on loopback ("
        f"{MOTO_SERVED[settings.get('moto', 'werkzeug')]}"
        f"{'; DynamoDB by a second moto process of its own' if settings.get('dynamodb_apart') else ''}"
        f"); resetgate reads its keyed-hash secret from moto's Secrets "
        f"Manager at init (RESETGATE_HMAC_KEY_SECRET_ARN), so its init includes that "
        f"GetSecretValue. Release profile: {results['release_profile'] or 'defaults'}.",
        "",
        *render_three_way(results),
        "",
        "## Every function",
        "",
        "| function | init (ms) | first invoke (ms) | cold start (ms) | warm p50 (ms) | warm p99 (ms) "
        "| peak RSS (MiB) | binary x86-64 (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in present:
        s = rows[key]["median"]
        lines.append(
            f"| {FUNCTIONS[key]['label']} | {s['init_ms']:.1f} | {s['first_invoke_ms']:.2f} | "
            f"{s['cold_start_ms']:.1f} | {s['warm_p50_ms']:.2f} | {s['warm_p99_ms']:.2f} | "
            f"{mib(s['peak_rss_kib'], 'kib'):.1f} | "
            f"{'—' if rows[key]['binary_bytes'] is None else format(mib(rows[key]['binary_bytes'], 'bytes'), '.2f')} |")
    arm = results.get("arm64")
    if arm:
        lines += ["", f"resetgate for arm64 (`cargo lambda build --release --arm64`, "
                      f"{arm['path']}): {mib(arm['bytes'], 'bytes'):.2f} MiB ({arm['bytes']} bytes)."]
    ratios = results.get("ratios")
    if ratios:
        rg, floor = rows["resetgate"]["median"], rows["sdk-floor"]["median"]
        lines += ["", "| resetgate / SDK floor | ratio | difference | target |",
                  "|---|---:|---:|---:|",
                  f"| cold start (init + first invoke) | {ratios['cold_start']:.2f} | "
                  f"{rg['cold_start_ms'] - floor['cold_start_ms']:+.1f} ms | ≤ {TARGETS['cold_start']} |",
                  f"| warm p50 | {ratios['warm_p50']:.2f} | "
                  f"{rg['warm_p50_ms'] - floor['warm_p50_ms']:+.2f} ms | ≤ {TARGETS['warm_p50']} |",
                  f"| peak RSS | {ratios['peak_rss']:.2f} | "
                  f"{mib(rg['peak_rss_kib'] - floor['peak_rss_kib'], 'kib'):+.1f} MiB | ≤ {TARGETS['peak_rss']} |"]
    versus = results.get("versus_baseline")
    if versus:
        lines += ["", f"This build against the baseline ({rows['baseline']['binary']}), in the same "
                  "rounds: a ratio above 1 is a regression.", "",
                  "| resetgate / baseline | ratio |", "|---|---:|"]
        lines += [f"| {name} | {value:.3f} |" for name, value in versus.items()]
    lines += ["", "The function process itself: its CPU time (all threads, "
              "its CPU-time clock), independent of moto's speed, and its memory:", "",
              "| function | CPU init (ms) | CPU first invoke (ms) | CPU per warm invoke (µs) "
              "| threads | RSS at stop: anon / file (MiB) |",
              "|---|---:|---:|---:|---:|---:|"]
    for key in present:
        s = rows[key]["median"]
        lines.append(f"| {FUNCTIONS[key]['label']} | {s['init_cpu_ms']:.2f} | "
                     f"{s['first_invoke_cpu_ms']:.2f} | {s['warm_cpu_us']:.0f} | {s['threads']:.0f} | "
                     f"{mib(s['rss_anon_kib'], 'kib'):.1f} / {mib(s['rss_file_kib'], 'kib'):.1f} |")
    counted = results.get("round_trips")
    if counted:
        names = {"init": "init", "first": "first (cold) invocation",
                 "fresh": "fresh reset, warm", "replay": "replay of it (same event)"}
        lines += ["", "AWS calls, counted in one extra pass after the timed rounds (each function "
                  "once more, through a counting proxy in front of moto; the proxy is in none of "
                  "the timings above). Calls whose time intervals overlap are one round trip (∥):",
                  "", "| function | phase | calls | sequential round trips | sequence |",
                  "|---|---|---:|---:|---|"]
        for key in [k for k in present if k in counted]:
            for phase, c in counted[key].items():
                if isinstance(c, dict) and phase in names:
                    lines.append(f"| {FUNCTIONS[key]['label']} | {names.get(phase, phase)} | "
                                 f"{c['calls']} | {c['round_trips']} | {c['sequence']} |")
        lines += render_shares(results)
    lines += ["", "Cold start = init (process spawn to its first `/invocation/next`) + first "
              "invoke (event handed out to response read). Warm latencies are dominated by moto "
              "(about 6-11 ms per AWS call here): compare the differences and the CPU table for "
              "resetgate's own cost. Ratios and targets are reported, never asserted.", ""]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts per function (default 5)")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations after each (default 300)")
    parser.add_argument("--users", type=int, default=400, help="bench users to seed (default 400)")
    parser.add_argument("--functions", default=DEFAULT_FUNCTIONS,
                        help=f"comma-separated subset of {DEFAULT_FUNCTIONS} (default: all)")
    parser.add_argument("--arm64", action="store_true",
                        help="also build resetgate for arm64 with cargo lambda (a full release build) for its size")
    parser.add_argument("--no-count", action="store_true",
                        help="skip the extra pass that counts each function's AWS calls through a proxy")
    parser.add_argument("--count-warm", type=int, default=100,
                        help="warm invocations of each function in the counting pass, for the "
                             "split of the warm time between moto and the function (default 100)")
    parser.add_argument("--moto", choices=("keep-alive", "werkzeug"), default="keep-alive",
                        help="serve moto with HTTP/1.1 keep-alive, as AWS's endpoints (default), or "
                             "with moto_server's werkzeug, which closes every connection")
    parser.add_argument("--dynamodb-apart", action="store_true",
                        help="serve DynamoDB from a second moto process, as AWS serves it apart from "
                             "Cognito (implies --no-count: the counting proxy fronts one moto)")
    parser.add_argument("--release-dir", default="target/release", help="where the x86-64 binaries are")
    parser.add_argument("--out", default="target/bench", help="results and logs (default target/bench)")
    parser.add_argument("--baseline-sinks", action="store_true",
                        help="configure the baseline with events and notifications too (a build "
                             "that knows them); by default its configuration has neither")
    parser.add_argument("--baseline", help="another resetgate binary (e.g. an earlier commit's) to run "
                        "interleaved with this one, for a before/after ratio from one run")
    args = parser.parse_args()
    if args.dynamodb_apart:
        args.no_count = True
    if args.runs < 1 or args.warm < 1 or args.users < 1 or args.count_warm < 1:
        parser.error("--runs, --warm, --users and --count-warm must be at least 1")
    keys = [k.strip() for k in args.functions.split(",") if k.strip()]
    unknown = [k for k in keys if k not in FUNCTIONS or k == "baseline"]
    if unknown or not keys:
        parser.error(f"unknown function(s): {', '.join(unknown) or '(none)'}")

    out_dir = (ROOT / args.out).resolve()
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    release_dir = (ROOT / args.release_dir).resolve()
    binaries = {k: release_dir / RUST_BINARIES[k] for k in keys if k in RUST_BINARIES}
    if args.baseline:
        keys.append("baseline")
        binaries["baseline"] = Path(args.baseline).resolve()
    for key, binary in binaries.items():
        if not binary.is_file():
            raise BenchError(f"{binary} is missing: cargo build --release --workspace --bins first")
    # How each function is started: a binary, as provided.al2023 runs bootstrap; the Python
    # function as the managed Python runtime starts it (awslambdaric with the handler), in its
    # code's directory (the runtime's /var/task).
    commands = {k: ([str(b)], out_dir) for k, b in binaries.items()}
    if "python" in keys:
        if not BENCH_PYTHON.exists():
            raise BenchError(f"{BENCH_PYTHON.relative_to(ROOT)} is missing: run "
                             "scripts/bootstrap-tools.sh --bench-python")
        commands["python"] = ([str(BENCH_PYTHON), "-m", "awslambdaric", PYTHON_HANDLER],
                              PYTHON_FUNCTION_DIR)
    moto_server = VENV_BIN / "moto_server"
    if not moto_server.exists():
        raise BenchError(f"{moto_server} is missing: run scripts/bootstrap-tools.sh (make tools)")
    # moto with HTTP/1.1 keep-alive, as AWS's endpoints (benches/moto_keepalive.py says why), or
    # as `moto_server` serves it (every call on a new connection), to compare with earlier runs.
    if args.moto == "keep-alive":
        moto_argv = [str(VENV_BIN / "python"), str(ROOT / "benches" / "moto_keepalive.py")]
    else:
        moto_argv = [str(moto_server), "-H", "127.0.0.1", "-p"]

    started = time.monotonic()
    results = {"machine": machine(), "release_profile": release_profile(),
               "settings": {"runs": args.runs, "warm": args.warm, "users": args.users,
                            "moto": args.moto, "dynamodb_apart": args.dynamodb_apart,
                            "memory_mb": MEMORY_MB, "timeout_s": TIMEOUT_S},
               "targets": TARGETS, "goals": GOALS, "functions": {}}
    if args.arm64:
        results["arm64"] = arm64_size(out_dir)

    processes = Processes()
    servers = {}
    moto_log = None
    try:
        moto_port = free_port()
        moto_url = f"http://127.0.0.1:{moto_port}"
        log(f"starting moto ({args.moto}) on {moto_url}")
        moto_log = open(out_dir / "moto.log", "wb")
        moto = processes.start(moto_argv + [str(moto_port)],
                               stdout=moto_log, stderr=subprocess.STDOUT)
        wait_for_port(moto_port, moto, 60, "moto")
        dynamodb_url = None
        if args.dynamodb_apart:
            # DynamoDB on a moto process of its own, as it is a service of its own on AWS: the
            # calls a function makes to DynamoDB and to Cognito at once are then served at once.
            dynamodb_port = free_port()
            dynamodb_url = f"http://127.0.0.1:{dynamodb_port}"
            log(f"starting a second moto ({args.moto}) for DynamoDB on {dynamodb_url}")
            dynamodb = processes.start(moto_argv + [str(dynamodb_port)],
                                       stdout=moto_log, stderr=subprocess.STDOUT)
            wait_for_port(dynamodb_port, dynamodb, 60, "moto for DynamoDB")
        log(f"seeding moto: the user pool, the table and {args.users} users")
        pool_id, ddb = seed(moto_url, args.users, out_dir, dynamodb_url)
        secret_arn = create_hmac_secret(moto_url)
        create_sinks(moto_url)

        # One Runtime API per function, as each Lambda execution environment has its own.
        for key in keys:
            servers[key] = RuntimeApiServer(free_port())
            threading.Thread(target=servers[key].serve_forever, kwargs={"poll_interval": 0.1},
                             daemon=True).start()

        bench = argparse.Namespace(
            dynamodb_url=dynamodb_url,
            servers=servers, processes=processes, commands=commands, moto_url=moto_url,
            moto_port=moto_port, moto_pid=moto.pid,
            ddb=ddb, out_dir=out_dir, events=EventMaker(bench_users(args.users),
                                                   f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"),
            own_env={
                "resetgate": {"RESETGATE_CONFIG": resetgate_config(pool_id),
                              "RESETGATE_HMAC_KEY_SECRET_ARN": secret_arn},
                "resetgate-lean": {"RESETGATE_CONFIG": resetgate_config(
                    pool_id, sinks=False, rate_limits=False, revoke_sessions=False),
                                   "RESETGATE_HMAC_KEY_SECRET_ARN": secret_arn},
                "python": {"USER_POOL_ID": pool_id, "IDEMPOTENCY_TABLE": PYTHON_TABLE,
                           "TARGET_NAME": TARGET, "POWERTOOLS_SERVICE_NAME": "password-reset"},
                "baseline": {"RESETGATE_CONFIG": resetgate_config(pool_id, args.baseline_sinks),
                             "RESETGATE_HMAC_KEY_SECRET_ARN": secret_arn},
                "sdk-floor": {"BENCH_TABLE": TABLE, "BENCH_USER_POOL_ID": pool_id},
                "echo-floor": {},
            })
        per_run = {k: [] for k in keys}
        for round_no in range(1, args.runs + 1):
            measured = run_round(bench, keys, args.warm, round_no)
            for key in keys:
                m = measured[key]
                per_run[key].append(m)
                log(f"round {round_no}/{args.runs} {key}: init {m['init_ms']:.1f} ms, "
                    f"first {m['first_invoke_ms']:.2f} ms, warm p50 {m['warm_p50_ms']:.2f} ms, "
                    f"p99 {m['warm_p99_ms']:.2f} ms, peak RSS {m['peak_rss_kib']} KiB, "
                    f"CPU init {m['init_cpu_ms']:.1f} ms / first {m['first_invoke_cpu_ms']:.2f} ms "
                    f"/ warm {m['warm_cpu_us']:.0f} us")
        if not args.no_count:
            results["round_trips"] = count_round_trips(bench, keys, args.count_warm)
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()
        processes.stop_all()
        if moto_log is not None:
            moto_log.close()

    for key in keys:
        binary = binaries.get(key)
        results["functions"][key] = {
            "binary": (str(binary.relative_to(ROOT)) if binary.is_relative_to(ROOT) else binary.name)
                      if binary else " ".join(Path(a).name for a in commands[key][0]),
            "binary_bytes": binary.stat().st_size if binary else None,
            "median": summarise(per_run[key]), "runs": per_run[key]}
    if "python" in keys:
        results["python_function"] = python_function_info()
    if "resetgate" in keys and "sdk-floor" in keys:
        rg = results["functions"]["resetgate"]["median"]
        floor = results["functions"]["sdk-floor"]["median"]
        results["ratios"] = {"cold_start": rg["cold_start_ms"] / floor["cold_start_ms"],
                             "warm_p50": rg["warm_p50_ms"] / floor["warm_p50_ms"],
                             "peak_rss": rg["peak_rss_kib"] / floor["peak_rss_kib"]}
    results["versus_python"] = versus_python(results["functions"], results.get("round_trips"))
    if "baseline" in keys and "resetgate" in keys:
        now = results["functions"]["resetgate"]["median"]
        base = results["functions"]["baseline"]["median"]
        results["versus_baseline"] = {
            name: now[field] / base[field] if base[field] else float("nan")
            for name, field in (("init", "init_ms"), ("cold start", "cold_start_ms"),
                                ("warm p50", "warm_p50_ms"), ("warm p99", "warm_p99_ms"),
                                ("peak RSS", "peak_rss_kib"), ("CPU init", "init_cpu_ms"),
                                ("CPU first invoke", "first_invoke_cpu_ms"),
                                ("CPU per warm invoke", "warm_cpu_us"))}
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["elapsed_s"] = round(time.monotonic() - started, 1)

    report = render(results)
    (out_dir / "results.md").write_text(report)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report)
    three_way = render_three_way(results)
    if three_way:  # the comparison once more, last, as the run's summary
        print("\n".join(["", "-" * 100, ""] + three_way + [""]))
    log(f"done in {results['elapsed_s']} s; {args.out}/results.md, {args.out}/results.json, logs in {args.out}/logs")
    return 0


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.exit(main())
    except BenchError as error:
        log(f"error: {error}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted; every process started was stopped")
        sys.exit(130)
