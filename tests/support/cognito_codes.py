#!/usr/bin/env python3
"""A forwarding proxy in front of moto that checks Cognito's forgot-password codes as Cognito does.

    python3 tests/support/cognito_codes.py --port PORT --upstream http://127.0.0.1:MOTO_PORT
                                           [--code-ttl SECONDS]

moto accepts any code in ``ConfirmForgotPassword``, ignores ``SECRET_HASH`` and leaves the user
in ``RESET_REQUIRED``, so nothing behind it can be tested against it. This proxy forwards every
request to moto unchanged and relays the answer (like ``late_proxy.py``), except:

* ``AdminResetUserPassword`` and ``ForgotPassword``: when moto answers 200, a fresh 6-digit code
  is issued for (pool, username) -- the pool of ``ForgotPassword`` is its ``ClientId``'s --
  replacing any earlier one and its failed attempts. It is valid ``--code-ttl`` seconds
  (default 3600, Cognito's hour). moto's own ``x-moto-forgot-password-confirmation-code``
  header is not relayed.
* ``ConfirmForgotPassword`` is answered here, checked in Cognito's order:
  unknown ``ClientId`` -> ``ResourceNotFoundException``; a client with a secret and a missing or
  wrong ``SecretHash`` (Base64(HMAC-SHA256(secret, Username + ClientId))) ->
  ``NotAuthorizedException`` (a client without a secret ignores it); a user moto does not know
  in the client's pool -> ``UserNotFoundException``; no code, or an expired or used one ->
  ``ExpiredCodeException``; 5 failed attempts on the current code -> ``LimitExceededException``
  (every further attempt, the right code too, until a new code is issued); a wrong code ->
  ``CodeMismatchException`` (one more failed attempt); the right code ->
  ``AdminSetUserPassword {Permanent: true}`` at moto: its refusal (``InvalidPasswordException``
  for the pool's policy) is relayed and the code stays usable; its success uses the code up
  and answers 200 ``{}``. The user is then CONFIRMED with the new password, as in Cognito.

Usernames are matched as sent (resetgate sends the canonical Cognito ``Username``). Clients are
looked up at moto (``ListUserPools``, ``DescribeUserPoolClient``; the pool found is cached, and
clients created through the proxy are known at once) with a dummy SigV4 ``Authorization``
carrying the caller's access key and region, as moto reads them. A request that says its region
(a signed one) finds only that region's clients. ``ConfirmForgotPassword`` and
``ForgotPassword`` are unsigned operations (the SDKs send no ``Authorization``), so for them the
proxy looks, like moto, beyond moto's default region (us-east-1): in every region and account
it has seen a signed request for. Errors are moto's: HTTP 400, ``x-amzn-ErrorType`` and
``{"__type": CODE, "message": ...}``. A POST of ``/moto-api/reset`` through the proxy forgets
the proxy's state too.

127.0.0.1 only; standard library only; SIGTERM stops it. The only output is the ready line
``cognito_codes listening on 127.0.0.1:PORT`` (``--port 0`` picks a free port); passwords and
codes are never logged.

Control API (JSON; path segments URL-encoded):

* ``GET  /_codes/{poolId}/{username}``: ``{"code": "123456", "expired": false,
  "failedAttempts": 0}`` -- the test's stand-in for reading the user's e-mail; 404 if none
  (never issued, or used up).
* ``POST /_codes/{poolId}/{username}/expire``: the code expires now; 404 if none.
* ``GET  /_codes/calls``: ``{"ConfirmForgotPassword": N, "outcomes": {"OK": n,
  "CodeMismatchException": n, ...}}``, the requests received and how each was answered.
* ``POST /_codes/reset``: forgets codes, counts and cached clients.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

PREFIX = "AWSCognitoIdentityProviderService."
MAX_FAILED_ATTEMPTS = 5
MOTO_CODE_HEADER = "x-moto-forgot-password-confirmation-code"

LOCK = threading.Lock()
CODES = {}  # (pool id, username) -> {"code", "issued", "expired", "failures"}
CLIENT_POOLS = {}  # client id -> (Scope, pool id)
SCOPES = {}  # Scope.key -> Scope, of every request that said its region
CALLS = {"ConfirmForgotPassword": 0, "outcomes": {}}
CODE_TTL = 3600.0


class Refusal(Exception):
    """An answer other than success: an error of ours, or moto's answer relayed as it was."""

    def __init__(self, code=None, message="", relayed=None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.relayed = relayed  # (status, headers, body) from moto


def error_type(body):
    """The error code in a JSON 1.1 error body (``ns#Code``, ``Code:uri`` or ``Code``)."""
    try:
        raw = json.loads(body or b"{}").get("__type", "")
    except (ValueError, AttributeError):
        return "UnknownError"
    return raw.rsplit("#", 1)[-1].split(":", 1)[0] or "UnknownError"


def secret_hash(secret, username, client_id):
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def new_code(previous=None):
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        if code != previous:
            return code


def forget_everything():
    with LOCK:
        CODES.clear()
        CLIENT_POOLS.clear()
        SCOPES.clear()
        CALLS["ConfirmForgotPassword"] = 0
        CALLS["outcomes"] = {}


class Scope:
    """Whose account and which region a request is for, read as moto reads it."""

    URL_REGION = re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")
    AGENT_REGION = re.compile(r"region/(?P<region>[a-z]{2}-[a-z]+-\d{1})")
    CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/")

    def __init__(self, region="us-east-1", access_key="test", account=None, definite=False):
        self.region = region
        self.access_key = access_key
        self.account = account
        self.definite = definite  # the request said which region (moto's default otherwise)
        self.key = (region, access_key, account)

    @classmethod
    def of(cls, headers):
        authorization = headers.get("Authorization") or ""
        url = cls.URL_REGION.search(headers.get("Host") or "")
        agent = cls.AGENT_REGION.search(headers.get("User-Agent") or "")
        region = None
        if url:
            region = url.group("region")
        elif agent:
            region = agent.group("region")
        elif "AWS4" in authorization and authorization.count("/") >= 2:
            region = authorization.split(",")[0].split("/")[2]
        key = cls.CREDENTIAL.search(authorization)
        return cls(region or "us-east-1", key.group("key") if key else "test",
                   headers.get("x-moto-account-id"), bool(region))

    def for_pool(self, pool_id):
        """The same caller in the pool's region (a pool id starts with its region)."""
        region = pool_id.split("_", 1)[0] if "_" in pool_id else self.region
        return Scope(region, self.access_key, self.account, True)

    def headers(self, operation):
        now = time.gmtime()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": PREFIX + operation,
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", now),
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={self.access_key}/{time.strftime('%Y%m%d', now)}/"
                f"{self.region}/cognito-idp/aws4_request, "
                f"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={'0' * 64}"
            ),
        }
        if self.account:
            headers["x-moto-account-id"] = self.account
        return headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port)

    def log_message(self, *args):  # quiet
        pass

    # ---------------------------------------------------------------------------------------
    # HTTP plumbing

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length",
                                    MOTO_CODE_HEADER):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, value):
        self._reply(status, [("Content-Type", "application/json")], json.dumps(value).encode())

    def _aws_error(self, code, message, status=400):
        """An error as moto (and Cognito) write it for AWS JSON 1.1."""
        body = json.dumps({"__type": code, "message": message}).encode()
        self._reply(status, [("X-Amzn-ErrorType", code), ("Content-Type", "application/json"),
                             ("x-amzn-requestid", str(uuid.uuid4()))], body)

    def _upstream(self, method, path, body, headers):
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def _moto(self, scope, operation, payload):
        """One call of the proxy's own to moto: (status, headers, body)."""
        return self._upstream("POST", "/", json.dumps(payload).encode(), scope.headers(operation))

    # ---------------------------------------------------------------------------------------
    # Dispatch

    def _handle(self):
        body = self._body()
        try:
            if self.path == "/_codes" or self.path.startswith("/_codes/"):
                return self._control(body)
            target = self.headers.get("X-Amz-Target", "")
            scope = Scope.of(self.headers)
            if scope.definite:
                with LOCK:
                    SCOPES[scope.key] = scope
            if self.command == "POST" and target == PREFIX + "ConfirmForgotPassword":
                return self._confirm(scope, body)
            return self._forward(scope, body, target)
        except (OSError, http.client.HTTPException):
            try:  # moto unreachable, or the client went away
                self._aws_error("InternalErrorException", "the upstream did not answer", 502)
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _forward(self, scope, body, target):
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        status, answer_headers, answer_body = self._upstream(self.command, self.path, body,
                                                             headers)
        if status == 200 and self.command == "POST":
            self._learn(scope, target, body, answer_body)
        self._reply(status, answer_headers, answer_body)

    def _learn(self, scope, target, body, answer_body):
        """What a successful forwarded call tells the proxy: codes issued, clients created."""
        if self.path == "/moto-api/reset":
            return forget_everything()
        try:
            request = json.loads(body or b"{}")
            if target == PREFIX + "AdminResetUserPassword":
                self._issue(request["UserPoolId"], request["Username"])
            elif target == PREFIX + "ForgotPassword":
                found = self._client(scope, request["ClientId"])
                if found:
                    self._issue(found[0], request["Username"])
            elif target == PREFIX + "CreateUserPoolClient":
                client = json.loads(answer_body)["UserPoolClient"]
                with LOCK:
                    CLIENT_POOLS[client["ClientId"]] = (scope, client["UserPoolId"])
        except (Refusal, ValueError, KeyError, TypeError, AttributeError):
            pass  # not a request the proxy understands, or moto's lookup failed: relayed as is

    def _issue(self, pool_id, username):
        with LOCK:
            previous = CODES.get((pool_id, username))
            CODES[(pool_id, username)] = {
                "code": new_code(previous and previous["code"]),
                "issued": time.monotonic(), "expired": False, "failures": 0,
            }

    # ---------------------------------------------------------------------------------------
    # ConfirmForgotPassword

    def _client(self, scope, client_id):
        """(pool id, client description, scope to call moto in) of `client_id`, or None.

        Client ids are regional: a request that says its region (signed, as boto3 and the Rust
        SDK sign most operations) finds only that region's clients. ConfirmForgotPassword and
        ForgotPassword are sent unsigned, so, like moto, the proxy then looks in every region
        and account it has seen a signed request for (and moto's default one).
        """
        with LOCK:
            cached = CLIENT_POOLS.get(client_id)
            candidates = [scope] + ([] if scope.definite else [
                known for key, known in SCOPES.items() if key != scope.key])
        keys = {candidate.key for candidate in candidates}
        if cached and (cached[0].key in keys or not scope.definite):
            where = cached[0].for_pool(cached[1])
            found = self._describe_client(where, cached[1], client_id)
            if found:
                return cached[1], found, where
            with LOCK:
                CLIENT_POOLS.pop(client_id, None)
        for candidate in candidates:
            found = self._find_client(candidate, client_id)
            if found:
                return found
        return None

    def _find_client(self, scope, client_id):
        token = None
        while True:
            payload = {"MaxResults": 60}
            if token:
                payload["NextToken"] = token
            status, headers, body = self._moto(scope, "ListUserPools", payload)
            if status != 200:
                raise Refusal(relayed=(status, headers, body))
            listing = json.loads(body)
            for pool in listing.get("UserPools", []):
                found = self._describe_client(scope, pool["Id"], client_id)
                if found:
                    with LOCK:
                        CLIENT_POOLS[client_id] = (scope, pool["Id"])
                    return pool["Id"], found, scope
            token = listing.get("NextToken")
            if not token:
                return None

    def _describe_client(self, scope, pool_id, client_id):
        status, headers, body = self._moto(
            scope, "DescribeUserPoolClient", {"UserPoolId": pool_id, "ClientId": client_id})
        if status == 200:
            return json.loads(body)["UserPoolClient"]
        if error_type(body) == "ResourceNotFoundException":
            return None
        raise Refusal(relayed=(status, headers, body))

    def _confirm(self, scope, body):
        with LOCK:
            CALLS["ConfirmForgotPassword"] += 1
        try:
            self._check_and_set(scope, body)
            outcome = "OK"
            self._reply(200, [("Content-Type", "application/x-amz-json-1.1"),
                              ("x-amzn-requestid", str(uuid.uuid4()))], b"{}")
        except Refusal as refusal:
            if refusal.relayed:
                outcome = error_type(refusal.relayed[2])
                self._reply(*refusal.relayed)
            else:
                outcome = refusal.code
                self._aws_error(refusal.code, refusal.message)
        except (ValueError, KeyError, TypeError, AttributeError):  # moto said something odd
            outcome = "InternalErrorException"
            self._aws_error(outcome, "the stand-in could not read moto's answer", 500)
        with LOCK:
            CALLS["outcomes"][outcome] = CALLS["outcomes"].get(outcome, 0) + 1

    def _check_and_set(self, scope, body):
        """Returns on success; raises Refusal with the answer otherwise."""
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            raise Refusal("SerializationException",
                          "Start of structure or map found where not expected.") from None
        for name in ("ClientId", "Username", "ConfirmationCode", "Password"):
            if not isinstance(request.get(name), str):
                raise Refusal("InvalidParameterException",
                              f"1 validation error detected: Value at '{name[0].lower()}"
                              f"{name[1:]}' failed to satisfy constraint: Member must not be null")
        client_id, username = request["ClientId"], request["Username"]

        found = self._client(scope, client_id)
        if not found:
            raise Refusal("ResourceNotFoundException",
                          f"User pool client {client_id} does not exist.")
        pool_id, client, scope = found

        secret = client.get("ClientSecret")
        if secret:
            given = request.get("SecretHash")
            if not isinstance(given, str) or not given:
                raise Refusal("NotAuthorizedException", f"Client {client_id} is configured "
                              "with secret but SECRET_HASH was not received")
            if not hmac.compare_digest(given.encode(),
                                       secret_hash(secret, username, client_id).encode()):
                raise Refusal("NotAuthorizedException",
                              f"Unable to verify secret hash for client {client_id}")

        status, headers, answer = self._moto(
            scope, "AdminGetUser", {"UserPoolId": pool_id, "Username": username})
        if status != 200:
            if error_type(answer) == "UserNotFoundException":
                raise Refusal("UserNotFoundException", "Username/client id combination not found.")
            raise Refusal(relayed=(status, headers, answer))

        # Checked and used under the lock, so a code is used at most once.
        with LOCK:
            key = (pool_id, username)
            issued = CODES.get(key)
            if (not issued or issued["expired"]
                    or time.monotonic() - issued["issued"] >= CODE_TTL):
                raise Refusal("ExpiredCodeException",
                              "Invalid code provided, please request a code again.")
            if issued["failures"] >= MAX_FAILED_ATTEMPTS:
                raise Refusal("LimitExceededException",
                              "Attempt limit exceeded, please try after some time.")
            if not hmac.compare_digest(request["ConfirmationCode"].encode(),
                                       issued["code"].encode()):
                issued["failures"] += 1
                raise Refusal("CodeMismatchException",
                              "Invalid verification code provided, please try again.")
            status, headers, answer = self._moto(scope, "AdminSetUserPassword", {
                "UserPoolId": pool_id, "Username": username,
                "Password": request["Password"], "Permanent": True})
            if status != 200:
                raise Refusal(relayed=(status, headers, answer))
            if CODES.get(key) is issued:
                del CODES[key]

    # ---------------------------------------------------------------------------------------
    # Control API

    def _control(self, body):
        parts = [unquote(part) for part in self.path.split("?", 1)[0].split("/")[2:]]
        route = {
            ("GET", 1): parts == ["calls"] and self._calls,
            ("POST", 1): parts == ["reset"] and self._reset,
            ("GET", 2): self._show,
            ("POST", 3): parts[-1:] == ["expire"] and self._expire,
        }.get((self.command, len(parts)))
        if not route:
            return self._json(404, {"message": f"no such control call: {self.command} "
                                               f"{self.path}"})
        return route(parts)

    def _calls(self, _parts):
        with LOCK:
            answer = {"ConfirmForgotPassword": CALLS["ConfirmForgotPassword"],
                      "outcomes": dict(CALLS["outcomes"])}
        self._json(200, answer)

    def _reset(self, _parts):
        forget_everything()
        self._json(200, {})

    def _show(self, parts):
        with LOCK:
            issued = CODES.get((parts[0], parts[1]))
            answer = issued and {
                "code": issued["code"],
                "expired": issued["expired"]
                or time.monotonic() - issued["issued"] >= CODE_TTL,
                "failedAttempts": issued["failures"],
            }
        if not answer:
            return self._json(404, {"message": "no code issued"})
        self._json(200, answer)

    def _expire(self, parts):
        with LOCK:
            issued = CODES.get((parts[0], parts[1]))
            if issued:
                issued["expired"] = True
        if not issued:
            return self._json(404, {"message": "no code issued"})
        self._json(200, {"expired": True})


def main():
    global CODE_TTL
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--code-ttl", type=float, default=3600.0,
                        help="seconds a code stays valid (default: 3600, as in Cognito)")
    args = parser.parse_args()
    CODE_TTL = args.code_ttl
    upstream = urlsplit(args.upstream)
    Handler.upstream = (upstream.hostname, upstream.port)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"cognito_codes listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
