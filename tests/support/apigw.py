#!/usr/bin/env python3
"""A local stand-in for API Gateway's HTTP API (payload format 2.0, a JWT authorizer, one
``$default`` route) in front of the function running under `cargo lambda watch`. Standard
library only.

    apigw.py --lambda-port PORT [--port 0] [--ready-file FILE] [--function resetgate]
             [--issuer URL] [--audience AUD]... [--token-claims FILE --token-file FILE]
             [--decode-path] [--quiet]

It does what API Gateway does and nothing that the function decides. The function's routing,
path-parameter decoding and claim parsing are what it exists to test, so it does not
re-implement them:

* **One ``$default`` route.** Every request is forwarded with ``routeKey`` ``$default`` and no
  ``pathParameters``, as API Gateway does for an HTTP API whose only route is ``$default``. The
  function picks the route from the method and ``rawPath`` and percent-decodes the path
  segments itself, so its own 404 and 405 answers can be reached.
* **``rawPath`` and ``rawQueryString`` as received**, not decoded. ``--decode-path`` decodes the
  path once (a segment that does not decode to UTF-8 stays encoded). Live captures, e.g. in
  middleapi/standard-server#93, report that HTTP APIs do this; use it to test the function
  against that behaviour.
* **The JWT authorizer checks only what API Gateway's does** (see "Authorizing API requests" in
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
  The token comes from ``Authorization``, with or without ``Bearer``. Its signature must be
  RS256 (API Gateway accepts only RSA algorithms), made with this stand-in's own key, which it
  generates at start-up and keeps in memory, and the header's ``kid`` must name that key.
  ``exp`` must be in the future, ``nbf`` and ``iat`` (when present) in the past, ``iss`` must be
  the ``--issuer`` (when given), and ``aud`` (or ``client_id`` when there is no ``aud``) must be
  one of the ``--audience`` values (when given). A request with no token, or a token that
  fails a check, is answered by the gateway itself: 401 ``{"message":"Unauthorized"}`` with a
  ``www-authenticate`` header, and the function is not invoked. A token that passes puts its
  decoded payload claims in ``requestContext.authorizer.jwt.claims`` the way API Gateway does:
  every value as text, an array as ``"[a b]"``, an object as JSON. Its ``scope`` goes in
  ``scopes``. What the claims mean (groups, the username claim, trusted issuers, token use,
  ``auth_time``) is for the function to decide.
* ``--token-claims FILE --token-file OUT``: signs the JSON claims in FILE with the stand-in's key
  and writes the token to OUT before the stand-in reports that it is ready. The key lives only in
  the process, so this is how a test gets a token that the stand-in accepts.

Until #13, this file matched the contract's three routes itself (route keys, path parameters
decoded once more), decoded every path, and accepted any unsigned token. In that set-up, the
function's path routing and decoding never ran behind it. Refusing a token was left to the
function, which API Gateway never lets it do.

It listens on 127.0.0.1 (``--port 0`` picks a free port). Once it accepts connections, it prints
``apigw listening on http://127.0.0.1:PORT`` and writes PORT to ``--ready-file``. For each HTTP
request that passes the authorizer, it:

1. builds an HTTP API payload 2.0 event, shaped like ``events/self-generate.json``:
   ``rawPath``, ``rawQueryString``, ``queryStringParameters`` (decoded, with a repeated name's
   values joined by commas), lower-cased ``headers`` (a repeated header's values joined by
   commas, as API Gateway does), ``cookies``, ``body`` (base64 with ``isBase64Encoded`` when it
   is not UTF-8 text), ``requestContext.http`` (method, path, protocol, sourceIp, userAgent),
   ``requestId``, ``time`` and ``timeEpoch``, stage ``$default``;
2. invokes the function through the Lambda Invoke API that ``cargo lambda watch`` serves
   (``POST /2015-03-31/functions/NAME/invocations``);
3. answers with the proxy response (``statusCode``, ``headers``, ``cookies`` as ``Set-Cookie``,
   ``body`` decoded from base64 where ``isBase64Encoded``), plus ``apigw-requestid``. It answers
   the way API Gateway does when the function errs or its response cannot be read: 500
   ``{"message":"Internal Server Error"}``. No answer within ``--timeout``: 503
   ``{"message":"Service Unavailable"}``.

SIGTERM or SIGINT stops it with exit status 0.
"""

import argparse
import base64
import binascii
import hashlib
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

ACCOUNT_ID = "123456789012"
API_ID = "localapigw0"


def log(message: str) -> None:
    print(f"apigw: {message}", file=sys.stderr, flush=True)


B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(part: str) -> bytes:
    """Unpadded base64url (RFC 7515 section 2), strictly: any other character is an error."""
    if not part or any(c not in B64URL for c in part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# --- the authorizer's key: RSA, RS256 (RFC 7518 section 3.3: RSASSA-PKCS1-v1_5 with SHA-256) -----

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]
# DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def probably_prime(n: int, rounds: int = 32) -> bool:
    """Miller-Rabin with random bases."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(bits: int, e: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if all(candidate % p for p in SMALL_PRIMES) and (candidate - 1) % e and \
                probably_prime(candidate):
            return candidate


class SigningKey:
    """The stand-in's own 2048-bit RSA key, made at start-up and never written anywhere. It is
    the key that API Gateway would fetch from the issuer's jwks_uri."""

    def __init__(self, bits: int = 2048):
        self.e = 65537
        while True:
            p, q = random_prime(bits // 2, self.e), random_prime(bits // 2, self.e)
            if p != q and (p * q).bit_length() == bits:
                break
        self.n = p * q
        self.d = pow(self.e, -1, (p - 1) * (q - 1))
        self.size = (bits + 7) // 8
        self.kid = "apigw-local-" + secrets.token_hex(8)

    def encoded_digest(self, message: bytes) -> int:
        """EMSA-PKCS1-v1_5 (RFC 8017 section 9.2) of SHA-256(message), as an integer."""
        t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        return int.from_bytes(b"\x00\x01" + b"\xff" * (self.size - len(t) - 3) + b"\x00" + t, "big")

    def sign_jwt(self, claims: dict) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = pow(self.encoded_digest(signing_input.encode("ascii")), self.d, self.n)
        return signing_input + "." + b64url(signature.to_bytes(self.size, "big"))

    def verifies(self, signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != self.size:
            return False
        s = int.from_bytes(signature, "big")
        return s < self.n and pow(s, self.e, self.n) == self.encoded_digest(signing_input)


# --- the JWT authorizer -----------------------------------------------------------------------


class Unauthorized(Exception):
    """The JWT authorizer refuses the request; the message is the www-authenticate description."""


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


def numeric(claims: dict, name: str):
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unauthorized(f"the token's {name} is not a number")
    return value


class Authorizer:
    """API Gateway's JWT authorizer with `identitySource` `$request.header.Authorization`."""

    def __init__(self, key: SigningKey, issuer=None, audiences=()):
        self.key = key
        self.issuer = issuer
        self.audiences = list(audiences)

    def authorize(self, authorization, now=None) -> dict:
        """The event's requestContext.authorizer for an Authorization header value, or
        Unauthorized."""
        token = (authorization or "").strip()
        scheme, _, rest = token.partition(" ")
        if scheme.lower() == "bearer":
            token = rest.strip()
        if not token:
            raise Unauthorized("")
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthorized("the token is not a JWT")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise Unauthorized("the token could not be decoded") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise Unauthorized("the token could not be decoded")
        if header.get("alg") != "RS256":
            raise Unauthorized("the token's signing algorithm is not supported")
        if header.get("kid") != self.key.kid:
            raise Unauthorized("the token's kid matches no key of the issuer")
        try:
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise Unauthorized("the token's signature is invalid") from None
        if not self.key.verifies(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
            raise Unauthorized("the token's signature is invalid")
        now = time.time() if now is None else now
        exp, nbf, iat = numeric(claims, "exp"), numeric(claims, "nbf"), numeric(claims, "iat")
        if exp is None or exp <= now:
            raise Unauthorized("the token has expired")
        if nbf is not None and nbf > now:
            raise Unauthorized("the token is not valid yet")
        if iat is not None and iat > now:
            raise Unauthorized("the token was issued in the future")
        if self.issuer is not None and claims.get("iss") != self.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        if self.audiences:
            # aud when present (a string or a list), else client_id (Cognito access tokens).
            aud = claims["aud"] if "aud" in claims else claims.get("client_id")
            values = aud if isinstance(aud, list) else [aud]
            if not any(isinstance(v, str) and v in self.audiences for v in values):
                raise Unauthorized("the token does not have a valid audience")
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
    decode_path = False
    quiet = False
    authorizer = None

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

    def event(self, body: bytes, api_request_id: str, authorizer: dict) -> dict:
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        raw_path, _, raw_query = target.partition("?")
        raw_path = raw_path.split("#", 1)[0] or "/"
        raw_query = raw_query.split("#", 1)[0]
        if self.decode_path:
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
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "authorizer": authorizer,
        }

        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
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
        try:
            authorizer = self.authorizer.authorize(self.headers.get("Authorization"))
        except Unauthorized as refusal:
            status, headers, payload = unauthorized(str(refusal))
        else:
            status, headers, payload = self.invoke(self.event(body, api_request_id, authorizer))
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


def unauthorized(description: str):
    """The JWT authorizer's own 401 (see "Troubleshooting issues with HTTP API JWT authorizers":
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html)."""
    status, headers, payload = gateway_error(401, "Unauthorized")
    challenge = "Bearer" if not description else (
        f'Bearer scope="" error="invalid_token" error_description="{description}"')
    return status, headers + [("www-authenticate", challenge)], payload


def write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lambda-port", type=int, required=True, help="cargo lambda watch's invoke port")
    parser.add_argument("--lambda-host", default="127.0.0.1")
    parser.add_argument("--function", default="resetgate")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--ready-file", help="write the port to this file once listening")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the function")
    parser.add_argument("--decode-path", action="store_true",
                        help="percent-decode rawPath once, as HTTP APIs have been reported to do")
    parser.add_argument("--issuer", help="the JWT authorizer's issuer (iss must equal it)")
    parser.add_argument("--audience", action="append", default=[],
                        help="an audience of the JWT authorizer (aud, or client_id, must be one)")
    parser.add_argument("--token-claims", metavar="FILE",
                        help="JSON claims to sign with the stand-in's key (see --token-file)")
    parser.add_argument("--token-file", metavar="FILE",
                        help="where to write the token signed from --token-claims, before ready")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args()
    if bool(args.token_claims) != bool(args.token_file):
        parser.error("--token-claims and --token-file go together")

    key = SigningKey()
    if args.token_claims:
        with open(args.token_claims, encoding="utf-8") as f:
            claims = json.load(f)
        if not isinstance(claims, dict):
            parser.error(f"{args.token_claims} does not hold a JSON object")
        write_atomically(args.token_file, key.sign_jwt(claims) + "\n")

    Gateway.invoke_url = (
        f"http://{args.lambda_host}:{args.lambda_port}/2015-03-31/functions/{args.function}/invocations"
    )
    Gateway.timeout = args.timeout
    Gateway.decode_path = args.decode_path
    Gateway.quiet = args.quiet
    Gateway.authorizer = Authorizer(key, args.issuer, args.audience)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Gateway)
    server.daemon_threads = True
    port = server.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.ready_file:
        write_atomically(args.ready_file, f"{port}\n")
    print(f"apigw listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
