#!/usr/bin/env python3
"""A local stand-in for API Gateway's HTTP API (payload format 2.0, JWT authorizer) in front of
the function running under `cargo lambda watch`. Standard library only.

    apigw.py --lambda-port PORT [--port 0] [--ready-file FILE] [--function resetgate]
             [--keep-path-encoding] [--quiet]

It listens on 127.0.0.1 (``--port 0`` picks a free port), prints ``apigw listening on
http://127.0.0.1:PORT`` once it accepts connections (and writes PORT to ``--ready-file``), and
for each HTTP request:

1. builds an HTTP API payload 2.0 event, shaped like ``events/self-generate.json``: ``rawPath``,
   ``rawQueryString``, ``queryStringParameters``, lower-cased ``headers`` (a repeated header
   joined with commas, as API Gateway does), ``cookies``, ``body`` (base64 with
   ``isBase64Encoded`` when it is not UTF-8 text), ``routeKey`` and ``pathParameters`` for the
   route the path matches (``$default`` otherwise), ``requestContext.http`` (method, path,
   protocol, sourceIp, userAgent), ``requestId``, ``time`` and ``timeEpoch``, stage ``$default``;
2. puts the bearer token's claims in ``requestContext.authorizer.jwt.claims``, as the JWT
   authorizer does: every value a string, an array rendered ``"[a b]"``, and ``scopes`` from an
   access token's ``scope``. The token is **not verified**: any ``header.payload.signature``
   (the signature may be empty) of base64url JSON is accepted, unless its ``exp`` has passed.
   With no token, or one that does not parse, the event has no authorizer: API Gateway would
   answer 401 itself, here the function does;
3. invokes the function through the Lambda Invoke API that ``cargo lambda watch`` serves
   (``POST /2015-03-31/functions/NAME/invocations``);
4. answers with the proxy response (``statusCode``, ``headers``, ``cookies`` as ``Set-Cookie``,
   ``body`` decoded from base64 where ``isBase64Encoded``), plus ``apigw-requestid``. A function
   error or an unreadable response is answered like API Gateway does: 500
   ``{"message":"Internal Server Error"}``; no answer within ``--timeout``: 503
   ``{"message":"Service Unavailable"}``.

Every request is forwarded, whatever its route (as a ``$default`` route would), so the
function's own 404 and 405 answers are reachable.

Path decoding: HTTP APIs have been reported (live captures, e.g. in middleapi/standard-server#93)
to percent-decode the path once before routing and before filling ``rawPath``, and to decode
path parameters once more. That is the default here (a segment that does not decode to UTF-8 is
left encoded). ``--keep-path-encoding`` passes the path as the client encoded it instead, as REST
APIs and function URLs do.

SIGTERM or SIGINT stops it with exit status 0.
"""

import argparse
import base64
import binascii
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote_to_bytes

# The contract's routes (docs/API.md), as API Gateway would have them configured.
ROUTES = [
    ("GET", "/v1/targets"),
    ("POST", "/v1/targets/{target}/password-reset"),
    ("POST", "/v1/targets/{target}/users/{username}/password-reset"),
]
ACCOUNT_ID = "123456789012"
API_ID = "localapigw0"


def log(message: str) -> None:
    print(f"apigw: {message}", file=sys.stderr, flush=True)


def b64url_json(part: str):
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))


def claim_text(value):
    """A claim as the HTTP API JWT authorizer passes it: text; arrays as "[a b]"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(t for t in (claim_text(v) for v in value) if t is not None) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return None


def authorizer_for(authorization):
    """The requestContext.authorizer for an Authorization header, or None (no identity)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = b64url_json(parts[0]), b64url_json(parts[1])
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp < time.time():
        return None
    rendered = {}
    for name, value in claims.items():
        text = claim_text(value)
        if text is not None:
            rendered[name] = text
    scope = claims.get("scope")
    scopes = scope.split() if isinstance(scope, str) and scope.strip() else None
    return {"jwt": {"claims": rendered, "scopes": scopes}}


def decode_segment(segment: str) -> str:
    """One percent-decoding of a path segment; left as is when it does not decode to UTF-8."""
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        return segment


def match_route(method: str, path: str):
    """(routeKey, pathParameters) of the configured route the path matches, or ($default, None)."""
    segments = path.split("/")
    for route_method, template in ROUTES:
        parts = template.split("/")
        if route_method != method or len(parts) != len(segments):
            continue
        params = {}
        for part, segment in zip(parts, segments):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
                params[part[1:-1]] = segment
            elif part != segment:
                break
        else:
            return f"{route_method} {template}", params
    return "$default", None


def body_fields(body: bytes) -> dict:
    if not body:
        return {"isBase64Encoded": False}
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def request_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode("ascii").rstrip("=")


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    # Set on the class by main().
    invoke_url = ""
    timeout = 60.0
    keep_path_encoding = False
    quiet = False

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's signature)
        pass

    def version_string(self):
        return "apigw-local"

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline().split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def event(self, body: bytes, api_request_id: str) -> dict:
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        raw_path, _, raw_query = target.partition("?")
        raw_path = raw_path.split("#", 1)[0] or "/"
        raw_query = raw_query.split("#", 1)[0]
        if not self.keep_path_encoding:
            raw_path = "/".join(decode_segment(s) for s in raw_path.split("/"))
        method = self.command.upper()

        headers = {}
        cookies = []
        for name, value in self.headers.items():
            name = name.lower()
            if name == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        client_ip = self.client_address[0]
        headers.setdefault("x-forwarded-for", client_ip)
        headers["x-forwarded-proto"] = "https"
        headers["x-forwarded-port"] = "443"
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")

        route_key, path_parameters = match_route(method, raw_path)
        if path_parameters is not None:
            path_parameters = {k: decode_segment(v) for k, v in path_parameters.items()}

        query = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value

        now = time.time()
        host = (headers.get("host") or "localhost").split(":", 1)[0]
        context = {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": self.request_version,
                "sourceIp": client_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": api_request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }
        authorizer = authorizer_for(self.headers.get("Authorization"))
        if authorizer is not None:
            context["authorizer"] = authorizer

        event = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if path_parameters:
            event["pathParameters"] = path_parameters
        event["requestContext"] = context
        event.update(body_fields(body))
        return event

    def invoke(self, event: dict):
        """(status, headers, body bytes) of the function's answer, as API Gateway sends it."""
        request = urllib.request.Request(
            self.invoke_url,
            data=json.dumps(event).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:500].decode("utf-8", "replace")
            log(f"function error ({e.code}): {detail}")
            return gateway_error(500, "Internal Server Error")
        except (urllib.error.URLError, OSError) as e:
            log(f"invoke failed: {e}")
            return gateway_error(503, "Service Unavailable")
        try:
            response = json.loads(payload)
        except ValueError:
            log(f"the function's answer is not JSON: {payload[:200]!r}")
            return gateway_error(500, "Internal Server Error")
        if not isinstance(response, dict) or "statusCode" not in response:
            # Payload 2.0: an answer without statusCode is the body of a 200 JSON response.
            return 200, [("content-type", "application/json")], payload
        try:
            status = int(response["statusCode"])
            headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
            for cookie in response.get("cookies") or []:
                headers.append(("set-cookie", str(cookie)))
            body = response.get("body") or ""
            body = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        except (TypeError, ValueError, AttributeError, binascii.Error) as e:
            log(f"malformed proxy response ({e}): {payload[:200]!r}")
            return gateway_error(500, "Internal Server Error")
        if not 100 <= status <= 599:
            log(f"proxy response with status {status}")
            return gateway_error(500, "Internal Server Error")
        return status, headers, body

    def handle_any(self):
        started = time.monotonic()
        api_request_id = request_id()
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.answer(*gateway_error(400, "Bad Request"), api_request_id)
            return
        status, headers, payload = self.invoke(self.event(body, api_request_id))
        self.answer(status, headers, payload, api_request_id)
        if not self.quiet:
            elapsed = int((time.monotonic() - started) * 1000)
            log(f"{self.command} {self.path[:120]} -> {status} ({elapsed} ms)")

    def answer(self, status, headers, payload: bytes, api_request_id: str):
        self.send_response(status)
        skip = {"content-length", "transfer-encoding", "connection", "date", "server"}
        for name, value in headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        self.send_header("apigw-requestid", api_request_id)
        if self.command == "HEAD":
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def __getattr__(self, name):
        # Any other method (TRACE, CONNECT, made-up ones) is forwarded too: the function decides.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


def gateway_error(status: int, message: str):
    return status, [("content-type", "application/json")], json.dumps({"message": message}).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lambda-port", type=int, required=True, help="cargo lambda watch's invoke port")
    parser.add_argument("--lambda-host", default="127.0.0.1")
    parser.add_argument("--function", default="resetgate")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--ready-file", help="write the port to this file once listening")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the function")
    parser.add_argument("--keep-path-encoding", action="store_true",
                        help="pass the path as the client encoded it (REST API / function URL behaviour)")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args()

    Gateway.invoke_url = (
        f"http://{args.lambda_host}:{args.lambda_port}/2015-03-31/functions/{args.function}/invocations"
    )
    Gateway.timeout = args.timeout
    Gateway.keep_path_encoding = args.keep_path_encoding
    Gateway.quiet = args.quiet

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Gateway)
    server.daemon_threads = True
    port = server.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.ready_file)
    print(f"apigw listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
