#!/usr/bin/env python3
"""Tests of tests/support/apigw.py, the local API Gateway stand-in: it forwards every request
on a `$default` route with the path as received, and its JWT authorizer does only what API
Gateway's does.

    .cache/venv/bin/python tests/support/apigw_test.py      (or: python -m pytest FILE)

Standard library only. It needs no function: a fake Lambda Invoke API records the events
that the stand-in sends.
"""

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
APIGW = os.path.join(HERE, "apigw.py")
sys.path.insert(0, HERE)

import apigw  # noqa: E402

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DemoPool1"
AUDIENCE = "4f3h2demoappclient0000000"
KEY = apigw.SigningKey()


def claims(**overrides):
    now = int(time.time())
    base = {"sub": "7d5f2c1e-2222-4b4b-9d9d-4e1e00000002", "iss": ISSUER, "aud": AUDIENCE,
            "token_use": "id", "cognito:username": "helen",
            "cognito:groups": ["helpdesk", "ad-helpdesk"], "email_verified": True,
            "auth_time": now, "iat": now, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(payload, alg="none"):
    part = lambda v: apigw.b64url(json.dumps(v).encode())  # noqa: E731
    return part({"alg": alg, "typ": "JWT", "kid": KEY.kid}) + "." + part(payload) + "."


class Authorizer(unittest.TestCase):
    authorizer = apigw.Authorizer(KEY, ISSUER, [AUDIENCE])

    def refused(self, authorization, why):
        with self.assertRaises(apigw.Unauthorized) as refusal:
            self.authorizer.authorize(authorization)
        self.assertEqual(str(refusal.exception), why)

    def test_a_signed_token_passes_its_claims_as_api_gateway_renders_them(self):
        token = KEY.sign_jwt(claims(auth_time=1700000000, scope="openid profile",
                                    extra={"a": 1}, ratio=0.5))
        got = self.authorizer.authorize("Bearer " + token)
        self.assertEqual(got["jwt"]["scopes"], ["openid", "profile"])
        rendered = got["jwt"]["claims"]
        self.assertEqual(rendered["cognito:groups"], "[helpdesk ad-helpdesk]")
        self.assertEqual(rendered["auth_time"], "1700000000")
        self.assertEqual(rendered["email_verified"], "true")
        self.assertEqual(rendered["extra"], '{"a":1}')
        self.assertEqual(rendered["ratio"], "0.5")
        self.assertEqual(rendered["cognito:username"], "helen")
        self.assertTrue(all(isinstance(v, str) for v in rendered.values()))

    def test_the_token_may_come_without_bearer(self):
        token = KEY.sign_jwt(claims())
        self.assertEqual(self.authorizer.authorize(token)["jwt"]["claims"]["sub"],
                         claims()["sub"])
        self.assertIsNone(self.authorizer.authorize(token)["jwt"]["scopes"])

    def test_no_token_is_refused(self):
        for header in (None, "", "Bearer", "Bearer   "):
            self.refused(header, "")

    def test_unsigned_or_foreign_tokens_are_refused(self):
        self.refused("Bearer " + unsigned(claims()), "the token's signing algorithm is not supported")
        self.refused("Bearer " + unsigned(claims(), "HS256") + "c2ln",
                     "the token's signing algorithm is not supported")
        other = apigw.SigningKey(bits=1024)
        self.refused("Bearer " + other.sign_jwt(claims()),
                     "the token's kid matches no key of the issuer")
        other.kid = KEY.kid  # the right kid, the wrong key
        self.refused("Bearer " + other.sign_jwt(claims()), "the token's signature is invalid")
        header, payload, signature = KEY.sign_jwt(claims()).split(".")
        forged = apigw.b64url(json.dumps(claims(**{"cognito:groups": ["admins"]})).encode())
        self.refused(f"Bearer {header}.{forged}.{signature}", "the token's signature is invalid")
        self.refused(f"Bearer {header}.{payload}.", "the token's signature is invalid")
        self.refused(f"Bearer {header}.{payload}", "the token is not a JWT")
        self.refused("Bearer a.b.c", "the token could not be decoded")

    def test_time_claims(self):
        now = int(time.time())
        self.refused(KEY.sign_jwt(claims(exp=now - 1)), "the token has expired")
        self.refused(KEY.sign_jwt(claims(exp=None)), "the token has expired")
        self.refused(KEY.sign_jwt(claims(exp="tomorrow")), "the token's exp is not a number")
        self.refused(KEY.sign_jwt(claims(nbf=now + 60)), "the token is not valid yet")
        self.refused(KEY.sign_jwt(claims(iat=now + 60)), "the token was issued in the future")
        self.authorizer.authorize(KEY.sign_jwt(claims(nbf=now - 60, iat=None)))

    def test_issuer_and_audience(self):
        self.refused(KEY.sign_jwt(claims(iss=ISSUER + "x")), "the token does not have a valid issuer")
        self.refused(KEY.sign_jwt(claims(aud="other")), "the token does not have a valid audience")
        # client_id counts only when there is no aud (Cognito access tokens)
        self.authorizer.authorize(KEY.sign_jwt(claims(aud=None, client_id=AUDIENCE)))
        self.refused(KEY.sign_jwt(claims(aud="other", client_id=AUDIENCE)),
                     "the token does not have a valid audience")
        self.authorizer.authorize(KEY.sign_jwt(claims(aud=["other", AUDIENCE])))
        # without --issuer and --audience, neither is checked
        apigw.Authorizer(KEY).authorize(KEY.sign_jwt(claims(iss="https://elsewhere", aud="x")))


class FakeLambda(BaseHTTPRequestHandler):
    """The Lambda Invoke API of `cargo lambda watch`, answering every event with a 200."""
    protocol_version = "HTTP/1.1"
    events = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/2015-03-31/functions/resetgate/invocations":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        FakeLambda.events.append(json.loads(body))
        answer = json.dumps({"statusCode": 200, "headers": {"content-type": "application/json"},
                             "body": base64.b64encode(b'{"ok":true}').decode(),
                             "isBase64Encoded": True}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class EndToEnd(unittest.TestCase):
    """apigw.py as scripts/schemathesis.sh runs it, in front of the fake Lambda."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="apigw-test-")
        cls.fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeLambda)
        threading.Thread(target=cls.fake.serve_forever, daemon=True).start()
        with open(os.path.join(cls.tmp, "claims.json"), "w") as f:
            json.dump(claims(), f)
        cls.gateways = {}
        for name, extra in (("default", []), ("decoding", ["--decode-path"])):
            ready = os.path.join(cls.tmp, f"{name}.port")
            proc = subprocess.Popen(
                [sys.executable, APIGW, "--lambda-port", str(cls.fake.server_address[1]),
                 "--port", "0", "--ready-file", ready, "--quiet", "--issuer", ISSUER,
                 "--audience", AUDIENCE, "--token-claims", os.path.join(cls.tmp, "claims.json"),
                 "--token-file", os.path.join(cls.tmp, f"{name}.token")] + extra,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while not os.path.exists(ready):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"apigw.py did not start: {proc.stderr.read()!r}")
                time.sleep(0.05)
            with open(ready) as f:
                port = int(f.read())
            with open(os.path.join(cls.tmp, f"{name}.token")) as f:
                token = f.read().strip()
            cls.gateways[name] = (proc, port, token)

    @classmethod
    def tearDownClass(cls):
        for proc, _, _ in cls.gateways.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(10)
            proc.stderr.close()
        cls.fake.shutdown()
        cls.fake.server_close()
        for name in os.listdir(cls.tmp):
            os.remove(os.path.join(cls.tmp, name))
        os.rmdir(cls.tmp)

    def request(self, method, path, token="default", gateway="default", body=None):
        _, port, own_token = self.gateways[gateway]
        headers = {"Content-Type": "application/json"}
        if token == "default":
            headers["Authorization"] = "Bearer " + own_token
        elif token is not None:
            headers["Authorization"] = token
        FakeLambda.events.clear()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload, list(FakeLambda.events)

    def test_every_request_goes_to_the_function_on_the_default_route(self):
        path = "/v1/targets/corp%2Dad/users/a%2Fb%20c/password-reset?x=1&x=2&y=%C3%A9"
        status, headers, payload, events = self.request("POST", path, body=b'{"mode":"generate"}')
        self.assertEqual((status, payload), (200, b'{"ok":true}'))
        self.assertIn("apigw-requestid", headers)
        (event,) = events
        self.assertEqual(event["routeKey"], "$default")
        self.assertEqual(event["requestContext"]["routeKey"], "$default")
        self.assertNotIn("pathParameters", event)
        self.assertEqual(event["rawPath"], "/v1/targets/corp%2Dad/users/a%2Fb%20c/password-reset")
        self.assertEqual(event["requestContext"]["http"]["path"], event["rawPath"])
        self.assertEqual(event["rawQueryString"], "x=1&x=2&y=%C3%A9")
        self.assertEqual(event["queryStringParameters"], {"x": "1,2", "y": "\u00e9"})
        self.assertEqual(event["requestContext"]["requestId"], headers["apigw-requestid"])
        self.assertEqual(event["body"], '{"mode":"generate"}')
        jwt = event["requestContext"]["authorizer"]["jwt"]
        self.assertEqual(jwt["claims"]["cognito:groups"], "[helpdesk ad-helpdesk]")
        self.assertEqual(jwt["claims"]["iss"], ISSUER)
        # every route of the contract (the confirm endpoint included) reaches the function as
        # received, and so do paths that are no route of it: the function answers them
        _, _, _, (event,) = self.request("POST", "/v1/targets/app-users/password-reset/confirm",
                                         body=b'{"code":"123456","password":"x"}')
        self.assertEqual((event["rawPath"], event["routeKey"]),
                         ("/v1/targets/app-users/password-reset/confirm", "$default"))
        self.assertNotIn("pathParameters", event)
        for method, other in (("GET", "/nowhere"), ("DELETE", "/v1/targets"), ("GET", "/")):
            status, _, _, events = self.request(method, other)
            self.assertEqual((status, [e["rawPath"] for e in events]), (200, [other]))

    def test_decode_path_decodes_the_path_once(self):
        _, _, _, (event,) = self.request("POST", "/v1/targets/a%2Fb/users/%25ff%20x/password-reset",
                                         gateway="decoding")
        self.assertEqual(event["rawPath"], "/v1/targets/a/b/users/%ff x/password-reset")
        self.assertEqual(event["routeKey"], "$default")

    def test_the_authorizer_answers_401_itself(self):
        now = int(time.time())
        for token in (None, "Bearer", "Bearer " + unsigned(claims()),
                      "Bearer " + KEY.sign_jwt(claims()),  # a key that is not the stand-in's
                      "Basic dXNlcjpwYXNz"):
            status, headers, payload, events = self.request("GET", "/v1/targets", token=token)
            self.assertEqual((status, json.loads(payload), events),
                             (401, {"message": "Unauthorized"}, []), token)
            self.assertTrue(headers["www-authenticate"].startswith("Bearer"), headers)
        status, _, _, events = self.request(
            "GET", "/v1/targets", token="Bearer " + KEY.sign_jwt(claims(exp=now - 1)))
        self.assertEqual((status, events), (401, []))

    def test_sigterm_stops_it_with_status_0(self):
        ready = os.path.join(self.tmp, "short.port")
        proc = subprocess.Popen([sys.executable, APIGW, "--lambda-port", "9", "--port", "0",
                                 "--ready-file", ready], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
