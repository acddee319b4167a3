#!/usr/bin/env python3
"""Tests of tests/support/cognito_codes.py, the proxy that checks forgot-password codes the way
Cognito does, through boto3 (a second, independent AWS SDK) against moto.

    .cache/venv/bin/python tests/support/cognito_codes_test.py      (or: python -m pytest FILE)

Needs boto3 and moto (`make tools` installs both into .cache/venv); under another interpreter
it re-runs itself with the venv's. It starts moto (tests/support/moto_server.py) and the proxy
on free loopback ports and stops both by their PIDs when the tests end, also when they fail.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROXY = os.path.join(HERE, "cognito_codes.py")
MOTO = os.path.join(HERE, "moto_server.py")

try:
    import boto3  # noqa: F401
    import moto  # noqa: F401
except ImportError:
    venv_python = os.path.join(ROOT, ".cache", "venv", "bin", "python")
    if os.path.exists(venv_python) and os.path.realpath(sys.executable) != os.path.realpath(
            venv_python):
        os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("boto3/moto are not importable and .cache/venv/bin/python is missing: "
             "run `make tools`")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

OLD = "Old-Passw0rd!x"
NEW = "New-Passw0rd!y"
WEAK = "weakweakweak"  # long enough, but no upper case, digit or symbol
POLICY = {"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True,
                             "RequireLowercase": True, "RequireNumbers": True,
                             "RequireSymbols": True}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, limit=60):
    deadline = time.monotonic() + limit
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
            time.sleep(0.05)


class Process:
    """A process this test started; stopped by its PID (SIGTERM, SIGKILL after 10 s)."""

    def __init__(self, args, ready_line=False):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL,
                                     stderr=self.stderr)
        self.port = None
        if ready_line:
            line = []
            reader = threading.Thread(
                target=lambda: line.append(self.proc.stdout.readline().decode()), daemon=True)
            reader.start()
            reader.join(30)
            found = re.search(r"127\.0\.0\.1:(\d+)", line[0] if line else "")
            if not found:
                self.stop()
                raise RuntimeError(f"{args[1]} did not start: {self.stderr_text()}")
            self.port = int(found.group(1))

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()
        return self.proc.returncode


def secret_hash(secret, username, client_id):
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CognitoCodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        moto_port = free_port()
        cls.moto = Process([sys.executable, MOTO, "-H", "127.0.0.1", "-p", str(moto_port)])
        cls.addClassCleanup(cls.moto.stop)
        wait_for_port(moto_port, cls.moto.proc)
        cls.moto_url = f"http://127.0.0.1:{moto_port}"
        cls.proxy = Process([sys.executable, PROXY, "--port", "0", "--upstream", cls.moto_url],
                            ready_line=True)
        cls.addClassCleanup(cls.proxy.stop)
        cls.proxy_url = f"http://127.0.0.1:{cls.proxy.port}"

    @staticmethod
    def client(url, region="us-east-1"):
        return boto3.client("cognito-idp", endpoint_url=url, region_name=region,
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1, "mode": "standard"}))

    def setUp(self):
        self.idp = self.client(self.proxy_url)  # everything goes through the proxy
        self.direct = self.client(self.moto_url)  # moto itself, to see the outcome
        self.pool, self.secret_client, self.secret, self.plain_client = self.make_pool(self.idp)
        self.user = "jane.doe+reset@example.com"
        self.make_user(self.idp, self.pool, self.user)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def make_pool(idp):
        pool = idp.create_user_pool(PoolName="codes", Policies=POLICY)["UserPool"]["Id"]
        flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        with_secret = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="with-secret", GenerateSecret=True,
            ExplicitAuthFlows=flows)["UserPoolClient"]
        plain = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="plain", ExplicitAuthFlows=flows)["UserPoolClient"]
        return pool, with_secret["ClientId"], with_secret["ClientSecret"], plain["ClientId"]

    @staticmethod
    def make_user(idp, pool, username):
        idp.admin_create_user(UserPoolId=pool, Username=username, TemporaryPassword=OLD,
                              MessageAction="SUPPRESS", UserAttributes=[
                                  {"Name": "email", "Value": "user@example.com"},
                                  {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=OLD,
                                    Permanent=True)

    def control(self, method, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        try:
            connection.request(method, path)
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"null")
        finally:
            connection.close()

    def code_path(self, pool=None, user=None):
        return f"/_codes/{quote(pool or self.pool, safe='')}/{quote(user or self.user, safe='')}"

    def code(self, pool=None, user=None):
        status, body = self.control("GET", self.code_path(pool, user))
        self.assertEqual(status, 200, body)
        self.assertRegex(body["code"], r"^\d{6}$")
        return body["code"]

    def reset(self):
        self.idp.admin_reset_user_password(UserPoolId=self.pool, Username=self.user)
        return self.code()

    def confirm(self, code, password=NEW, client=None, secret_hash_value="auto", user=None,
                idp=None):
        client = client or self.secret_client
        user = user or self.user
        request = {"ClientId": client, "Username": user, "ConfirmationCode": code,
                   "Password": password}
        if secret_hash_value == "auto":
            secret_hash_value = (secret_hash(self.secret, user, client)
                                 if client == self.secret_client else None)
        if secret_hash_value is not None:
            request["SecretHash"] = secret_hash_value
        return (idp or self.idp).confirm_forgot_password(**request)

    def refused(self, error_code, message=None, **kwargs):
        """Runs `confirm(**kwargs)` and checks it fails with `code` (and `message`)."""
        with self.assertRaises(ClientError) as caught:
            self.confirm(**kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], error_code, error)
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        if message is not None:
            self.assertEqual(error["Message"], message)

    def status(self, user=None):
        return self.direct.admin_get_user(UserPoolId=self.pool,
                                          Username=user or self.user)["UserStatus"]

    def sign_in(self, password, client=None):
        client = client or self.secret_client
        parameters = {"USERNAME": self.user, "PASSWORD": password}
        if client == self.secret_client:
            parameters["SECRET_HASH"] = secret_hash(self.secret, self.user, client)
        return self.direct.admin_initiate_auth(
            UserPoolId=self.pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters=parameters)

    # --- the happy path --------------------------------------------------------------------

    def test_the_right_code_and_hash_set_the_password_and_confirm_the_user(self):
        code = self.reset()
        self.assertEqual(self.status(), "RESET_REQUIRED")
        answer = self.confirm(code)
        self.assertEqual(answer["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.status(), "CONFIRMED")
        self.assertIn("AccessToken", self.sign_in(NEW)["AuthenticationResult"])
        self.assertIn("AccessToken", self.sign_in(NEW, self.plain_client)["AuthenticationResult"])
        with self.assertRaises(ClientError) as caught:
            self.sign_in(OLD)
        self.assertEqual(caught.exception.response["Error"]["Code"], "NotAuthorizedException")
        # a code is used once
        self.refused("ExpiredCodeException",
                     "Invalid code provided, please request a code again.", code=code)
        self.assertEqual(self.control("GET", self.code_path())[0], 404)

    def test_a_client_without_a_secret_ignores_a_secret_hash(self):
        code = self.reset()
        self.confirm(code, client=self.plain_client, secret_hash_value="bm90IGEgaGFzaA==")
        self.assertEqual(self.status(), "CONFIRMED")
        self.assertIn("AccessToken", self.sign_in(NEW, self.plain_client)["AuthenticationResult"])

    def test_forgot_password_issues_a_code_for_the_clients_pool(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        body = json.dumps({"ClientId": self.plain_client, "Username": self.user})
        connection.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ForgotPassword",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/"
                             "aws4_request, SignedHeaders=host, Signature=00"})
        answer = connection.getresponse()
        answer.read()
        connection.close()
        self.assertEqual(answer.status, 200)
        # moto's own code is not relayed: the proxy's is the only one
        self.assertIsNone(answer.getheader("x-moto-forgot-password-confirmation-code"))
        self.confirm(self.code(), client=self.plain_client)
        self.assertEqual(self.status(), "CONFIRMED")

    # --- refusals, in Cognito's order ------------------------------------------------------

    def test_an_unknown_client_is_not_found(self):
        code = self.reset()
        self.refused("ResourceNotFoundException", client="1example23456789abcdefghij", code=code,
                     secret_hash_value=None)
        self.confirm(code)  # nothing was used up

    def test_a_secret_client_needs_the_right_secret_hash(self):
        code = self.reset()
        self.refused("NotAuthorizedException", f"Client {self.secret_client} is configured with "
                     "secret but SECRET_HASH was not received", code=code,
                     secret_hash_value=None)
        for wrong in (secret_hash(self.secret, "someone-else", self.secret_client),
                      secret_hash("not-the-secret", self.user, self.secret_client)):
            self.refused("NotAuthorizedException",
                         f"Unable to verify secret hash for client {self.secret_client}",
                         code=code, secret_hash_value=wrong)
        # checked before the code: the code was neither tried nor used
        status, body = self.control("GET", self.code_path())
        self.assertEqual((status, body["failedAttempts"]), (200, 0))
        self.assertEqual(self.status(), "RESET_REQUIRED")
        self.confirm(code)
        self.assertEqual(self.status(), "CONFIRMED")

    def test_an_unknown_user_is_not_found(self):
        self.reset()
        self.refused("UserNotFoundException", code="123456", user="nobody")

    def test_no_code_or_an_expired_one_is_expired(self):
        self.refused("ExpiredCodeException",
                     "Invalid code provided, please request a code again.", code="123456")
        code = self.reset()
        status, body = self.control("POST", self.code_path() + "/expire")
        self.assertEqual((status, body), (200, {"expired": True}))
        self.assertTrue(self.control("GET", self.code_path())[1]["expired"])
        self.refused("ExpiredCodeException", code=code)
        self.assertEqual(self.status(), "RESET_REQUIRED")
        # a new reset issues a new code; the old one no longer matches
        fresh = self.reset()
        self.assertNotEqual(fresh, code)
        self.refused("CodeMismatchException", code=code)
        self.confirm(fresh)
        self.assertEqual(self.status(), "CONFIRMED")

    def test_a_wrong_code_is_a_mismatch_and_counts(self):
        code = self.reset()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        self.refused("CodeMismatchException",
                     "Invalid verification code provided, please try again.", code=wrong)
        self.assertEqual(self.control("GET", self.code_path())[1]["failedAttempts"], 1)
        self.assertEqual(self.status(), "RESET_REQUIRED")
        self.confirm(code)
        self.assertEqual(self.status(), "CONFIRMED")

    def test_after_five_failures_every_attempt_is_refused_until_a_new_code(self):
        code = self.reset()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            self.refused("CodeMismatchException", code=wrong)
        for attempt in (code, wrong, code):
            self.refused("LimitExceededException",
                         "Attempt limit exceeded, please try after some time.", code=attempt)
        self.assertEqual(self.status(), "RESET_REQUIRED")
        fresh = self.reset()  # a new code starts over
        self.assertEqual(self.control("GET", self.code_path())[1]["failedAttempts"], 0)
        self.refused("CodeMismatchException", code=code if code != fresh else wrong)
        self.confirm(fresh)
        self.assertEqual(self.status(), "CONFIRMED")

    def test_a_weak_password_is_refused_by_the_pool_and_the_code_stays(self):
        code = self.reset()
        self.refused("InvalidPasswordException", code=code, password=WEAK)
        self.assertEqual(self.status(), "RESET_REQUIRED")
        self.assertEqual(self.control("GET", self.code_path())[1]["failedAttempts"], 0)
        self.confirm(code)
        self.assertEqual(self.status(), "CONFIRMED")
        self.assertIn("AccessToken", self.sign_in(NEW)["AuthenticationResult"])

    def test_a_code_is_used_once_even_by_concurrent_confirmations(self):
        code = self.reset()
        outcomes, start = [], threading.Barrier(6)

        def attempt():
            idp = self.client(self.proxy_url)
            start.wait()
            try:
                self.confirm(code, idp=idp)
                outcomes.append("OK")
            except ClientError as error:
                outcomes.append(error.response["Error"]["Code"])

        threads = [threading.Thread(target=attempt) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(sorted(outcomes), ["ExpiredCodeException"] * 5 + ["OK"])

    # --- everything else -------------------------------------------------------------------

    def test_other_operations_are_forwarded_unchanged(self):
        through = self.idp.list_users(UserPoolId=self.pool)["Users"]
        direct = self.direct.list_users(UserPoolId=self.pool)["Users"]
        self.assertEqual([u["Username"] for u in through], [u["Username"] for u in direct])
        self.assertEqual(self.idp.describe_user_pool_client(
            UserPoolId=self.pool, ClientId=self.secret_client)["UserPoolClient"]["ClientSecret"],
            self.secret)
        with self.assertRaises(ClientError) as caught:  # moto's errors too
            self.idp.describe_user_pool(UserPoolId="us-east-1_missing")
        self.assertEqual(caught.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")

    def signed_confirm(self, region, **request):
        """ConfirmForgotPassword with a (dummy) signature for `region`: the SDKs send it
        unsigned, so the proxy then looks in every region it knows; a signed one says where."""
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        try:
            connection.request("POST", "/", body=json.dumps(request), headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityProviderService.ConfirmForgotPassword",
                "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/{region}/"
                                 "cognito-idp/aws4_request, SignedHeaders=host, Signature=00"})
            answer = connection.getresponse()
            return answer.status, answer.getheader("x-amzn-ErrorType"), json.loads(answer.read())
        finally:
            connection.close()

    def test_a_client_of_another_region_is_found(self):
        idp = self.client(self.proxy_url, "eu-west-1")
        pool, client, secret, _ = self.make_pool(idp)
        self.make_user(idp, pool, "erik")
        idp.admin_reset_user_password(UserPoolId=pool, Username="erik")
        code = self.code(pool, "erik")
        request = {"ClientId": client, "Username": "erik", "ConfirmationCode": code,
                   "Password": NEW, "SecretHash": secret_hash(secret, "erik", client)}
        # signed for another region: that region has no such client
        self.assertEqual(self.signed_confirm("us-east-1", **request)[:2],
                         (400, "ResourceNotFoundException"))
        self.assertEqual(self.signed_confirm("eu-west-1", **dict(request, Password=WEAK))[:2],
                         (400, "InvalidPasswordException"))
        # unsigned, as boto3 sends it, through a client of any region
        self.idp.confirm_forgot_password(**request)
        self.assertEqual(idp.admin_get_user(UserPoolId=pool, Username="erik")["UserStatus"],
                         "CONFIRMED")

    def test_a_client_created_at_moto_directly_is_found_too(self):
        direct = self.direct.create_user_pool_client(
            UserPoolId=self.pool, ClientName="direct")["UserPoolClient"]["ClientId"]
        code = self.reset()
        self.confirm(code, client=direct)
        self.assertEqual(self.status(), "CONFIRMED")

    def test_the_control_api(self):
        self.assertEqual(self.control("POST", "/_codes/reset"), (200, {}))
        self.assertEqual(self.control("GET", "/_codes/calls"),
                         (200, {"ConfirmForgotPassword": 0, "outcomes": {}}))
        code = self.reset()
        self.refused("CodeMismatchException", code=f"{(int(code) + 1) % 1_000_000:06d}")
        self.refused("CodeMismatchException", code=f"{(int(code) + 2) % 1_000_000:06d}")
        self.confirm(code)
        self.assertEqual(self.control("GET", "/_codes/calls"), (200, {
            "ConfirmForgotPassword": 3, "outcomes": {"CodeMismatchException": 2, "OK": 1}}))
        self.reset()
        self.assertEqual(self.control("POST", "/_codes/reset"), (200, {}))
        self.assertEqual(self.control("GET", self.code_path())[0], 404)
        self.assertEqual(self.control("POST", self.code_path() + "/expire")[0], 404)
        self.assertEqual(self.control("GET", "/_codes/calls")[1]["ConfirmForgotPassword"], 0)
        self.assertEqual(self.control("GET", "/_codes/nothing/here/at/all")[0], 404)
        self.assertEqual(self.control("DELETE", "/_codes/calls")[0], 404)

    def test_sigterm_stops_it_with_status_0_and_it_printed_only_its_ready_line(self):
        proxy = Process([sys.executable, PROXY, "--port", "0", "--upstream", self.moto_url],
                        ready_line=True)
        try:
            self.assertGreater(proxy.port, 0)
            os.kill(proxy.proc.pid, signal.SIGTERM)
            self.assertEqual(proxy.proc.wait(10), 0)
            self.assertEqual(proxy.proc.stdout.read(), b"")
        finally:
            proxy.stop()

    def test_nothing_secret_reaches_its_output(self):
        code = self.reset()
        self.refused("InvalidPasswordException", code=code, password=WEAK)
        self.confirm(code)
        text = self.proxy.stderr_text()
        for secret in (code, NEW, WEAK):
            self.assertNotIn(secret, text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
