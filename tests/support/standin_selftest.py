#!/usr/bin/env python3
"""Self-test of tests/support/standin.py, through boto3 (a second, independent AWS SDK).

    python3 tests/support/standin_selftest.py

Runs under any Python 3.9+; when boto3 is not importable it re-runs itself with the project's
venv (.cache/venv/bin/python, installed by `make tools`). STANDIN_PYTHON, when set, is the
interpreter the stand-in runs under (default: the one running this file). It starts the stand-in on a free port,
runs every check, stops the stand-in by its PID (also on failure), and ends with a line
'N passed, N failed'; the exit status is 0 only if all passed. Every expectation is an explicit
check that raises (check, check_equal, ...), never a bare `assert`, so `python -O` runs the
same checks.

Two model tweaks, made in a temporary botocore data directory (nothing installed is changed):
* botocore's `ds` model now prefers Smithy RPC v2 CBOR; the Rust SDK (aws-sdk-directory
  1.125.0) speaks awsJson1_1, so the copy used here says protocol `json` only.
* recent botocore dropped FinSpace Data; when it is missing, the three operations used here
  are written from the model embedded below (copied from botocore 1.43's finspace-data
  2020-07-13, documentation removed; it matches aws-sdk-finspacedata 1.114.0's wire format).
"""

import http.client
import json
import os
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(HERE, "standin.py")

try:
    import boto3  # noqa: F401
except ImportError:
    venv_python = os.path.join(ROOT, ".cache", "venv", "bin", "python")
    if os.path.exists(venv_python) and os.path.realpath(sys.executable) != os.path.realpath(
            venv_python):
        os.execv(venv_python, [venv_python] + ["-O"] * sys.flags.optimize
                 + [os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("boto3 is not importable and .cache/venv/bin/python is missing: run `make tools`")

import boto3  # noqa: E402
import botocore.loaders  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, ConnectionClosedError  # noqa: E402

FINSPACE_DATA_MODEL = r'''
{"version":"2.0","metadata":{"apiVersion":"2020-07-13","auth":["aws.auth#sigv4"],"endpointPrefix":"finspace-api","jsonVersion":"1.1","protocol":"rest-json","protocols":["rest-json"],"serviceAbbreviation":"FinSpace Data","serviceFullName":"FinSpace Public API","serviceId":"finspace data","signatureVersion":"v4","signingName":"finspace-api","uid":"finspace-2020-07-13"},
"operations":{
"GetProgrammaticAccessCredentials":{"errors":[{"shape":"InternalServerException"},{"shape":"ValidationException"},{"shape":"ThrottlingException"},{"shape":"AccessDeniedException"}],"http":{"method":"GET","requestUri":"/credentials/programmatic"},"input":{"shape":"GetProgrammaticAccessCredentialsRequest"},"name":"GetProgrammaticAccessCredentials","output":{"shape":"GetProgrammaticAccessCredentialsResponse"}},
"GetUser":{"errors":[{"shape":"InternalServerException"},{"shape":"ValidationException"},{"shape":"ThrottlingException"},{"shape":"AccessDeniedException"},{"shape":"ResourceNotFoundException"}],"http":{"method":"GET","requestUri":"/user/{userId}"},"input":{"shape":"GetUserRequest"},"name":"GetUser","output":{"shape":"GetUserResponse"}},
"ResetUserPassword":{"errors":[{"shape":"InternalServerException"},{"shape":"ValidationException"},{"shape":"ThrottlingException"},{"shape":"AccessDeniedException"},{"shape":"ResourceNotFoundException"},{"shape":"ConflictException"}],"http":{"method":"POST","requestUri":"/user/{userId}/password"},"input":{"shape":"ResetUserPasswordRequest"},"name":"ResetUserPassword","output":{"shape":"ResetUserPasswordResponse"}}
},"shapes":{
"AccessDeniedException":{"error":{"httpStatusCode":403},"exception":true,"members":{"message":{"shape":"errorMessage"}},"type":"structure"},
"ApiAccess":{"enum":["ENABLED","DISABLED"],"type":"string"},
"ClientToken":{"max":128,"min":1,"pattern":".*\\S.*","type":"string"},
"ConflictException":{"error":{"httpStatusCode":409},"exception":true,"members":{"message":{"shape":"errorMessage"},"reason":{"shape":"errorMessage"}},"type":"structure"},
"Email":{"max":320,"min":4,"pattern":"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,4}","sensitive":true,"type":"string"},
"FirstName":{"max":50,"min":1,"pattern":".*\\S.*","sensitive":true,"type":"string"},
"Credentials":{"members":{"accessKeyId":{"shape":"stringValueLength1to255"},"secretAccessKey":{"shape":"stringValueMaxLength1000"},"sessionToken":{"shape":"stringValueMaxLength1000"}},"sensitive":true,"type":"structure"},
"GetProgrammaticAccessCredentialsRequest":{"members":{"durationInMinutes":{"location":"querystring","locationName":"durationInMinutes","shape":"SessionDuration"},"environmentId":{"location":"querystring","locationName":"environmentId","shape":"IdType"}},"required":["environmentId"],"type":"structure"},
"GetProgrammaticAccessCredentialsResponse":{"members":{"credentials":{"shape":"Credentials"},"durationInMinutes":{"shape":"SessionDuration"}},"type":"structure"},
"GetUserRequest":{"members":{"userId":{"location":"uri","locationName":"userId","shape":"UserId"}},"required":["userId"],"type":"structure"},
"GetUserResponse":{"members":{"userId":{"shape":"UserId"},"status":{"shape":"UserStatus"},"firstName":{"shape":"FirstName"},"lastName":{"shape":"LastName"},"emailAddress":{"shape":"Email"},"type":{"shape":"UserType"},"apiAccess":{"shape":"ApiAccess"},"apiAccessPrincipalArn":{"shape":"RoleArn"},"createTime":{"shape":"TimestampEpoch"},"lastEnabledTime":{"shape":"TimestampEpoch"},"lastDisabledTime":{"shape":"TimestampEpoch"},"lastModifiedTime":{"shape":"TimestampEpoch"},"lastLoginTime":{"shape":"TimestampEpoch"}},"type":"structure"},
"IdType":{"max":26,"min":1,"type":"string"},
"LastName":{"max":50,"min":1,"pattern":".*\\S.*","sensitive":true,"type":"string"},
"InternalServerException":{"error":{"httpStatusCode":500},"exception":true,"members":{"message":{"shape":"errorMessage"}},"type":"structure"},
"Password":{"max":20,"min":8,"pattern":".*\\S.*","sensitive":true,"type":"string"},
"ResetUserPasswordRequest":{"members":{"clientToken":{"idempotencyToken":true,"shape":"ClientToken"},"userId":{"location":"uri","locationName":"userId","shape":"UserId"}},"required":["userId"],"type":"structure"},
"ResetUserPasswordResponse":{"members":{"temporaryPassword":{"shape":"Password"},"userId":{"shape":"UserId"}},"type":"structure"},
"RoleArn":{"max":2048,"min":20,"pattern":"^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$","type":"string"},
"ResourceNotFoundException":{"error":{"httpStatusCode":404},"exception":true,"members":{"message":{"shape":"errorMessage"},"reason":{"shape":"errorMessage"}},"type":"structure"},
"SessionDuration":{"max":60,"min":1,"type":"long"},
"ThrottlingException":{"error":{"httpStatusCode":429},"exception":true,"members":{},"type":"structure"},
"TimestampEpoch":{"type":"long"},
"UserId":{"max":26,"min":1,"pattern":".*\\S.*","type":"string"},
"UserStatus":{"enum":["CREATING","ENABLED","DISABLED"],"type":"string"},
"UserType":{"enum":["SUPER_USER","APP_USER"],"type":"string"},
"ValidationException":{"error":{"httpStatusCode":400},"exception":true,"members":{"message":{"shape":"errorMessage"},"reason":{"shape":"errorMessage"}},"type":"structure"},
"errorMessage":{"type":"string"},
"stringValueLength1to255":{"max":255,"min":1,"type":"string"},
"stringValueMaxLength1000":{"max":1000,"type":"string"}
}}
'''

# An endpoint rule set that only honours endpoint_url (all this test uses).
ENDPOINT_URL_ONLY_RULESET = {
    "version": "1.0",
    "parameters": {
        "Region": {"builtIn": "AWS::Region", "required": False, "type": "String"},
        "UseDualStack": {"builtIn": "AWS::UseDualStack", "required": True, "default": False,
                         "type": "Boolean"},
        "UseFIPS": {"builtIn": "AWS::UseFIPS", "required": True, "default": False,
                    "type": "Boolean"},
        "Endpoint": {"builtIn": "SDK::Endpoint", "required": False, "type": "String"},
    },
    "rules": [
        {"conditions": [{"fn": "isSet", "argv": [{"ref": "Endpoint"}]}],
         "endpoint": {"url": {"ref": "Endpoint"}, "properties": {}, "headers": {}},
         "type": "endpoint"},
        {"conditions": [], "error": "this test model needs endpoint_url", "type": "error"},
    ],
}

DIR_MS = "d-1234567890"
DIR_MS_MIN12 = "d-1234567891"
DIR_SIMPLE = "d-1234567892"
DIR_NODATA = "d-1234567893"
DIR_CONNECTOR = "d-1234567894"
DIR_DOWN = "d-1234567895"
DIR_MISSING = "d-00000000ff"
ENV = "abcdef0123456789abcdef"
FS_USERS = ["uid-alice-0001", "uid-bob-0002", "uid-carol-0003", "uid-dave-0004",
            "uid-erin-0005", "uid-frank-0006"]
GOOD = "Corr3ct-Horse"

# The corporate scenario: a Managed Microsoft AD with nested groups, a Simple AD, a Managed AD
# without data access, and one FinSpace user of each type.
CORP = "d-1234567890"
CORP_SIMPLE = "d-2222222222"
CORP_NODATA = "d-3333333333"
FS_SUPER = "uid-super-0001"
FS_APP = "uid-app-0002"
FS_ROLE = "arn:aws:iam::123456789012:role/finspace-api"
CORP_SEED = {
    "directories": {
        CORP: {
            "kind": "MicrosoftAD",
            "groups": {
                "AWS Delegated Administrators": {"scope": "DomainLocal"},
                "Domain Admins": {},
                "IT Ops": {"memberOf": ["Domain Admins"]},
            },
            "users": {
                "Admin": {"memberOf": ["AWS Delegated Administrators"]},
                "Administrator": {"memberOf": ["Domain Admins"], "outsideOu": True},
                "krbtgt": {"enabled": False, "outsideOu": True},
                "Guest": {"enabled": False, "outsideOu": True},
                "alice": {"email": "alice@corp.example", "givenName": "Alice",
                          "surname": "Liddell"},
                "bob": {},
                "carol": {"memberOf": ["IT Ops"]},
                "dave": {"enabled": False},
            },
        },
        CORP_SIMPLE: {
            "kind": "SimpleAD",
            "groups": {"Domain Admins": {}},
            "users": {"Administrator": {"memberOf": ["Domain Admins"]}, "alice": {}},
        },
        CORP_NODATA: {"kind": "MicrosoftAD", "dsData": False, "users": {"alice": {}}},
    },
    "finspace": {
        "environments": ["env-corp-0001"],
        "users": {
            FS_SUPER: {"type": "SUPER_USER", "firstName": "Sam", "lastName": "Super",
                       "emailAddress": "sam@corp.example"},
            FS_APP: {"type": "APP_USER", "firstName": "Alice", "lastName": "Liddell",
                     "emailAddress": "alice@corp.example", "apiAccess": "ENABLED",
                     "apiAccessPrincipalArn": FS_ROLE},
        },
    },
}


# --------------------------------------------------------------------------------------------
# Checks: explicit raises, never a bare `assert`, which `python -O` strips. Each failure says
# what was expected and what came, plus the context the check was given.


class CheckFailed(AssertionError):
    """An expectation that did not hold."""


def _fail(message, context=None):
    if context is not None:
        message += f"\n    context: {context!r}"
    raise CheckFailed(message)


def check(condition, expected, got):
    """`condition` holds; otherwise 'expected <expected>, got <got>'."""
    if not condition:
        _fail(f"expected {expected}, got {got!r}")


def check_equal(got, expected, context=None):
    """`got == expected`."""
    if not got == expected:
        _fail(f"expected {expected!r}, got {got!r}", context)


def check_in(item, container, context=None):
    """`item in container`."""
    if item not in container:
        _fail(f"expected a value containing {item!r}, got {container!r}", context)


def check_not_in(item, container, context=None):
    """`item not in container`."""
    if item in container:
        _fail(f"expected a value without {item!r}, got {container!r}", context)


_COMPARISONS = {
    "!=": lambda a, b: a != b,
    "is": lambda a, b: a is b,
    "is not": lambda a, b: a is not b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def check_that(got, op, expected, context=None):
    """`got <op> expected`, for the operators of _COMPARISONS."""
    if not _COMPARISONS[op](got, expected):
        wanted = repr(expected) if op == "is" else f"a value {op} {expected!r}"
        _fail(f"expected {wanted}, got {got!r}", context)


# --------------------------------------------------------------------------------------------
# Harness


class StandIn:
    """The stand-in process; stopped by its PID."""

    def __init__(self):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [os.environ.get("STANDIN_PYTHON") or sys.executable, STANDIN, "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        line = []

        def read_line():
            line.append(self.proc.stdout.readline().decode())

        reader = threading.Thread(target=read_line, daemon=True)
        reader.start()
        reader.join(20)
        m = re.search(r"127\.0\.0\.1:(\d+)", line[0] if line else "")
        if not m:
            self.stop()
            raise RuntimeError(f"the stand-in did not start: {self.stderr_text()}")
        self.port = int(m.group(1))
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


def raw(port, method, path, body=None, headers=None, conn=None):
    """One HTTP request; returns (status, headers dict (lower-case), parsed JSON body)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    payload = resp.read()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    if own:
        conn.close()
    return resp.status, hdrs, json.loads(payload) if payload else None


def boto_session(tmp):
    """A boto3 session whose botocore loader sees the adjusted models in `tmp`."""
    base = botocore.loaders.create_loader()
    ds = base.load_service_model("ds", "service-2")
    api = ds["metadata"]["apiVersion"]
    ds["metadata"]["protocol"] = "json"
    ds["metadata"]["protocols"] = ["json"]
    os.makedirs(os.path.join(tmp, "ds", api))
    with open(os.path.join(tmp, "ds", api, "service-2.json"), "w") as f:
        json.dump(ds, f)
    if "finspace-data" not in base.list_available_services("service-2"):
        model = json.loads(FINSPACE_DATA_MODEL)
        folder = os.path.join(tmp, "finspace-data", model["metadata"]["apiVersion"])
        os.makedirs(folder)
        with open(os.path.join(folder, "service-2.json"), "w") as f:
            json.dump(model, f)
        with open(os.path.join(folder, "endpoint-rule-set-1.json"), "w") as f:
            json.dump(ENDPOINT_URL_ONLY_RULESET, f)
    core = botocore.session.get_session()
    core.register_component("data_loader", botocore.loaders.Loader(extra_search_paths=[tmp]))
    return boto3.Session(botocore_session=core, region_name="us-east-1",
                         aws_access_key_id="AKIDTESTING", aws_secret_access_key="testing")


class Checks:
    def __init__(self, standin, session):
        self.s = standin
        self.port = standin.port
        self.session = session
        self.passed = 0
        self.failed = 0

    def client(self, service, attempts=1, validate=True, read_timeout=10, creds=None):
        kwargs = {}
        if creds:
            kwargs = {"aws_access_key_id": creds["accessKeyId"],
                      "aws_secret_access_key": creds["secretAccessKey"],
                      "aws_session_token": creds["sessionToken"]}
        return self.session.client(
            service, endpoint_url=self.s.endpoint,
            config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                          parameter_validation=validate, read_timeout=read_timeout,
                          connect_timeout=5),
            **kwargs)

    # -- control helpers

    def control(self, method, path, body=None):
        status, _, payload = raw(self.port, method, "/_standin/" + path, body)
        check_equal(status, 200, (status, payload))
        return payload

    def state(self):
        return self.control("GET", "state")

    def fault(self, **fault):
        return self.control("POST", "faults", fault)

    def seed_all(self):
        self.control("POST", "reset")
        self.control("POST", "seed", {
            "directories": {
                DIR_MS: {"kind": "MicrosoftAD", "dsData": True, "users": {
                    "alice": {"enabled": False},
                    "bob": {},
                    "outsider": {"outsideOu": True},
                    "jo": {},
                    "erin": {"email": "erin@corp.example.com", "givenName": "Erin",
                             "surname": "Example", "attributes": {"department": "Ops",
                                                                   "employeeNumber": 42}},
                }},
                DIR_MS_MIN12: {"kind": "MicrosoftAD", "minLength": 12, "users": {"carol": {}}},
                DIR_SIMPLE: {"kind": "SimpleAD", "users": {
                    "dave": {}, "boss": {"admin": True}, "Administrator": {"admin": True}}},
                DIR_NODATA: {"kind": "MicrosoftAD", "dsData": False, "users": {"frank": {}}},
                DIR_CONNECTOR: {"kind": "ADConnector", "users": {"gina": {}}},
                DIR_DOWN: {"kind": "MicrosoftAD", "unavailable": True, "users": {"hal": {}}},
            },
            "finspace": {"environments": [ENV], "users": FS_USERS},
        })

    def expect_error(self, fn, code, status=None, message=None):
        try:
            fn()
        except ClientError as e:
            err = e.response["Error"]
            check_equal(err["Code"], code, (err, code))
            if status is not None:
                got = e.response["ResponseMetadata"]["HTTPStatusCode"]
                check_equal(got, status)
            if message is not None:
                check_in(message, err.get("Message", ""), (err, message))
            return e.response
        raise CheckFailed(f"expected {code}, got success")

    def run(self):
        tests = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("test_")]
        for test in tests:
            self.seed_all()
            try:
                test()
            except Exception:
                self.failed += 1
                print(f"FAIL {test.__name__}")
                traceback.print_exc()
            else:
                self.passed += 1
                print(f"ok   {test.__name__}")

    # ----------------------------------------------------------------------------------------
    # Control API

    def test_control_api(self):
        check_equal(self.control("GET", "health"), {"ok": True})
        st = self.state()
        alice = st["directories"][DIR_MS]["users"]["alice"]
        check(re.fullmatch(r"S-1-5-21-\d+-\d+-\d+-1104", alice.pop("sid")),
              "a domain SID ending in RID 1104", alice)
        check_equal(alice, {"enabled": False, "password": None, "resets": 0, "admin": False,
                            "outsideOu": False, "memberOf": []})
        check_equal(st["directories"][DIR_MS]["groups"], {})
        check_equal(st["directories"][DIR_MS]["pageSize"], 250)
        check_equal(st["finspace"]["users"]["uid-alice-0001"], {
            "resets": 0, "replays": 0, "lastPassword": None, "signedBy": [],
            "type": "APP_USER", "status": "ENABLED", "apiAccess": "DISABLED"})
        check_equal(st["calls"], {})
        check_equal(st["faults"], [])
        # seeding merges: a new user in an existing directory, an existing user updated
        self.control("POST", "seed", {"directories": {DIR_MS: {"users": {
            "zed": {}, "bob": {"enabled": False}}}}})
        users = self.state()["directories"][DIR_MS]["users"]
        check_in("zed", users)
        check_that(users["bob"]["enabled"], "is", False)
        check_in("alice", users)
        # bad input
        status, _, body = raw(self.port, "POST", "/_standin/seed", {"directories": {
            "d-aaaaaaaaaa": {}, "d-nothex": {}}, "finspace": {"users": ["uid-new"]}})
        check_equal(status, 400, body)
        check_equal(body["error"], "ValidationException", body)
        st = self.state()  # all or nothing
        check_not_in("d-aaaaaaaaaa", st["directories"])
        check_not_in("uid-new", st["finspace"]["users"])
        status, _, body = raw(self.port, "POST", "/_standin/seed", b"{not json")
        check_equal(status, 400, body)
        check_equal(body["error"], "SerializationException", body)
        status, _, body = raw(self.port, "POST", "/_standin/faults", {"operation": "Nope"})
        check_equal(status, 400, body)
        status, _, body = raw(self.port, "GET", "/_standin/nothing")
        check_equal(status, 404, body)
        status, hdrs, body = raw(self.port, "GET", "/no/such/api")
        check_equal(status, 404, body)
        check_equal(hdrs["x-amzn-errortype"], "UnknownOperationException", body)
        # reset wipes everything
        self.fault(operation="DescribeUser", error="ThrottlingException")
        self.control("POST", "clock", {"advanceSeconds": 5})
        self.control("POST", "reset")
        st = self.state()
        check_equal(st["directories"], {}, st)
        check_equal(st["faults"], [], st)
        check_equal(st["calls"], {}, st)
        check_equal(st["clockOffsetSeconds"], 0)

    # ----------------------------------------------------------------------------------------
    # Directory Service ResetUserPassword

    def test_ds_success_reenables_and_headers(self):
        ds = self.client("ds")
        resp = ds.reset_user_password(DirectoryId=DIR_MS, UserName="alice", NewPassword=GOOD)
        check_equal(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        hdrs = resp["ResponseMetadata"]["HTTPHeaders"]
        check_equal(hdrs["content-type"], "application/x-amz-json-1.1", hdrs)
        check_equal(hdrs["content-length"], "2", hdrs)
        check_in("x-amzn-requestid", hdrs)
        check_equal(resp["ResponseMetadata"]["RequestId"], hdrs["x-amzn-requestid"])
        u = self.state()["directories"][DIR_MS]["users"]["alice"]
        check_equal((u["enabled"], u["password"], u["resets"]), (True, GOOD, 1), u)
        # user names are case-insensitive, as sAMAccountName is
        ds.reset_user_password(DirectoryId=DIR_MS, UserName="ALICE", NewPassword=GOOD + "2")
        st = self.state()
        check_equal(st["directories"][DIR_MS]["users"]["alice"]["resets"], 2)
        check_equal(st["calls"], {"directory.ResetUserPassword": 2})
        entry = st["log"][-1]
        check_equal(entry["signingName"], "ds", entry)
        check_equal(entry["accessKeyId"], "AKIDTESTING", entry)
        check_equal(entry["region"], "us-east-1", entry)
        check_equal(entry["status"], 200, entry)

    def test_ds_unknown_directory_and_user(self):
        ds = self.client("ds")
        r = self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_MISSING, UserName="alice", NewPassword=GOOD),
            "EntityDoesNotExistException", 400, DIR_MISSING)
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                    "EntityDoesNotExistException")
        check_equal(r["RequestId"], r["ResponseMetadata"]["RequestId"], r)
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_MS, UserName="nobody", NewPassword=GOOD),
            "UserDoesNotExistException", 400, "nobody")

    def test_ds_password_policy(self):
        ds = self.client("ds")

        def reset(password, user="bob", directory=DIR_MS):
            return lambda: ds.reset_user_password(
                DirectoryId=directory, UserName=user, NewPassword=password)

        for bad in ["Sh0rt!", "alllowercase1", "ALLUPPER!!!", "12345678!!", "Xbob123!",
                    "xxBOBxx1A"]:
            self.expect_error(reset(bad), "InvalidPasswordException", 400)
        for good in ["Abcdef1", "abcdef1!", "ABCDEF1!", "Abc!def", "P\u00e4ss w0rd"]:
            reset(good)()
        # names under 3 characters are not checked
        reset("jo-Jo-J0", "jo")()
        # the directory's own minimum length
        self.expect_error(reset("Abcdef1!xyz", "carol", DIR_MS_MIN12),
                          "InvalidPasswordException")
        reset("Abcdef1!wxyz", "carol", DIR_MS_MIN12)()
        st = self.state()["directories"]
        check_equal(st[DIR_MS]["users"]["bob"]["resets"], 5)
        check_equal(st[DIR_MS]["users"]["bob"]["password"], "P\u00e4ss w0rd")
        check_equal(st[DIR_MS_MIN12]["users"]["carol"]["resets"], 1)

    def test_ds_kind_rules(self):
        ds = self.client("ds")
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_SIMPLE, UserName="boss", NewPassword=GOOD),
            "UnsupportedOperationException", 400)
        ds.reset_user_password(DirectoryId=DIR_SIMPLE, UserName="Administrator", NewPassword=GOOD)
        ds.reset_user_password(DirectoryId=DIR_SIMPLE, UserName="dave", NewPassword=GOOD)
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_MS, UserName="outsider", NewPassword=GOOD), "ClientException", 400)
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_CONNECTOR, UserName="gina", NewPassword=GOOD),
            "UnsupportedOperationException")
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_DOWN, UserName="hal", NewPassword=GOOD),
            "DirectoryUnavailableException")
        users = self.state()["directories"][DIR_SIMPLE]["users"]
        check_equal(users["boss"]["resets"], 0)
        check_equal(users["Administrator"]["resets"], 1)

    def test_ds_validation_and_protocol_errors(self):
        ds = self.client("ds")
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId="d-NOTVALID", UserName="bob", NewPassword=GOOD),
            "ValidationException", 400, "directoryId")
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_MS, UserName="bob@corp", NewPassword=GOOD),
            "ValidationException", 400, "userName")
        target = {"X-Amz-Target": "DirectoryService_20150416.ResetUserPassword",
                  "Content-Type": "application/x-amz-json-1.1"}
        status, hdrs, body = raw(self.port, "POST", "/", b"{broken", target)
        check_equal(status, 400, body)
        check_equal(body["__type"], "SerializationException", body)
        check_equal(hdrs["content-type"], "application/x-amz-json-1.1")
        status, _, body = raw(self.port, "POST", "/", {"DirectoryId": DIR_MS}, target)
        check_equal(status, 400, body)
        check_equal(body["__type"], "ValidationException", body)
        check_in("userName", body["Message"], body)
        status, hdrs, body = raw(self.port, "POST", "/", {}, dict(
            target, **{"X-Amz-Target": "DirectoryService_20150416.DescribeTrusts"}))
        check_equal(status, 400, body)
        check_equal(body["__type"], "UnknownOperationException", body)
        # a request signed for another service is refused as AWS would
        auth = ("AWS4-HMAC-SHA256 Credential=AKIDX/20240101/us-east-1/finspace-api/"
                "aws4_request, SignedHeaders=host, Signature=00")
        status, _, body = raw(self.port, "POST", "/", {
            "DirectoryId": DIR_MS, "UserName": "bob", "NewPassword": GOOD},
            dict(target, Authorization=auth))
        check_equal(status, 403, body)
        check_equal(body["__type"], "InvalidSignatureException", body)
        check_equal(self.state()["directories"][DIR_MS]["users"]["bob"]["resets"], 0)

    def test_ds_service_exception_fault(self):
        self.fault(operation="ResetUserPassword", service="directory",
                   error="ServiceException", message="boom")
        ds = self.client("ds")
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=DIR_MS, UserName="bob", NewPassword=GOOD), "ServiceException", 500,
            "boom")
        st = self.state()
        check_equal(st["directories"][DIR_MS]["users"]["bob"]["resets"], 0)
        check_equal(st["calls"], {"directory.ResetUserPassword": 1})
        check_that(st["log"][-1]["fault"], "is", True)
        check_equal(st["log"][-1]["status"], 500)

    # ----------------------------------------------------------------------------------------
    # Directory Service Data DescribeUser

    def test_dsdata_describe_user(self):
        dsd = self.client("ds-data")
        r = dsd.describe_user(DirectoryId=DIR_MS, SAMAccountName="alice")
        check_equal(r["DirectoryId"], DIR_MS, r)
        check_equal(r["SAMAccountName"], "alice", r)
        check_that(r["Enabled"], "is", False, r)
        check(r["SID"].startswith("S-1-5-21-"), "a SID starting S-1-5-21-", r)
        check_equal(r["Realm"], "CORP.EXAMPLE.COM", r)
        check_equal(r["DistinguishedName"], "CN=alice,OU=Users,OU=CORP,DC=corp,DC=example,DC=com")
        check_equal(r["UserPrincipalName"], "alice@CORP.EXAMPLE.COM")
        hdrs = r["ResponseMetadata"]["HTTPHeaders"]
        check_equal(hdrs["content-type"], "application/json")
        check_in("x-amzn-requestid", hdrs)
        self.client("ds").reset_user_password(
            DirectoryId=DIR_MS, UserName="alice", NewPassword=GOOD)
        check_that(dsd.describe_user(DirectoryId=DIR_MS, SAMAccountName="Alice")["Enabled"], "is",
                   True)
        r = dsd.describe_user(
            DirectoryId=DIR_MS, SAMAccountName="erin", Realm="corp.example.com",
            OtherAttributes=["department", "employeeNumber", "userAccountControl", "mail"])
        check_equal(r["EmailAddress"], "erin@corp.example.com")
        check_equal(r["GivenName"], "Erin")
        check_equal(r["Surname"], "Example")
        check_equal(r["OtherAttributes"], {"department": {"S": "Ops"},
                                           "employeeNumber": {"N": 42},
                                           "userAccountControl": {"N": 512}}, r)
        entry = self.state()["log"][-1]
        check_equal(entry["signingName"], "ds-data")
        check_equal(entry["operation"], "DescribeUser")

    def test_dsdata_errors(self):
        dsd = self.client("ds-data")
        r = self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_MS, SAMAccountName="nobody"), "ResourceNotFoundException", 404,
            "nobody")
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/json")
        r = self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_NODATA, SAMAccountName="frank"), "AccessDeniedException", 403,
            "Directory Service Data is not enabled")
        check_equal(r["Reason"], "DATA_DISABLED", r)
        r = self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_SIMPLE, SAMAccountName="dave"), "ValidationException", 400)
        check_equal(r["Reason"], "INVALID_DIRECTORY_TYPE", r)
        self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_MISSING, SAMAccountName="dave"), "AccessDeniedException", 403)
        r = self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_MS, SAMAccountName="bob", Realm="other.example.org"),
            "ValidationException", 400)
        check_equal(r["Reason"], "INVALID_REALM", r)
        r = self.expect_error(lambda: dsd.describe_user(
            DirectoryId=DIR_DOWN, SAMAccountName="hal"), "DirectoryUnavailableException", 400)
        check_equal(r["Reason"], "INVALID_DIRECTORY_STATE", r)
        status, hdrs, body = raw(self.port, "POST", f"/Users/DescribeUser?DirectoryId={DIR_MS}",
                                 b"[1,2", {"Content-Type": "application/json"})
        check_equal(status, 400, body)
        check_equal(hdrs["x-amzn-errortype"], "SerializationException", body)
        check_equal(self.state()["calls"]["dsdata.DescribeUser"], 7)

    def test_dsdata_throttling_fault_with_retry_after(self):
        self.fault(operation="DescribeUser", error="ThrottlingException",
                   message="slow down", headers={"Retry-After": "1"})
        r = self.expect_error(lambda: self.client("ds-data").describe_user(
            DirectoryId=DIR_MS, SAMAccountName="bob"), "ThrottlingException", 429, "slow down")
        check_equal(r["RetryAfterSeconds"], 1, r)
        # with retries, boto3 backs off and the next attempt succeeds
        self.fault(operation="DescribeUser", error="ThrottlingException", count=1)
        r = self.client("ds-data", attempts=3).describe_user(
            DirectoryId=DIR_MS, SAMAccountName="bob")
        check_equal(r["ResponseMetadata"]["RetryAttempts"], 1, r["ResponseMetadata"])

    # ----------------------------------------------------------------------------------------
    # FinSpace Data

    def get_credentials(self, minutes=None):
        fs = self.client("finspace-data")
        kwargs = {"environmentId": ENV}
        if minutes is not None:
            kwargs["durationInMinutes"] = minutes
        return fs.get_programmatic_access_credentials(**kwargs)

    def test_finspace_credentials(self):
        r = self.get_credentials(15)
        creds = r["credentials"]
        check_equal(r["durationInMinutes"], 15, r)
        check(re.fullmatch(r"ASIAENV[A-Z0-9]{13}", creds["accessKeyId"]),
              "an access key id ASIAENV + 13 upper-case letters or digits", creds)
        check_equal(len(creds["secretAccessKey"]), 40, creds)
        check(creds["sessionToken"], "a non-empty sessionToken", creds)
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/json")
        r2 = self.get_credentials()
        check_equal(r2["durationInMinutes"], 60)
        check_that(r2["credentials"]["accessKeyId"], "!=", creds["accessKeyId"])
        st = self.state()
        issued = st["finspace"]["credentials"]
        check_equal(set(issued), {creds["accessKeyId"], r2["credentials"]["accessKeyId"]})
        check_equal(issued[creds["accessKeyId"]]["environmentId"], ENV)
        check_equal(st["log"][-1]["signingName"], "finspace-api", st["log"][-1])
        fs = self.client("finspace-data", validate=False)
        self.expect_error(lambda: fs.get_programmatic_access_credentials(
            environmentId="nope"), "ResourceNotFoundException", 404, "nope")
        for minutes in (0, 61):
            self.expect_error(lambda: fs.get_programmatic_access_credentials(
                environmentId=ENV, durationInMinutes=minutes), "ValidationException", 400)
        self.expect_error(lambda: fs.get_programmatic_access_credentials(
            environmentId="x" * 27), "ValidationException", 400)
        status, _, body = raw(self.port, "GET", "/credentials/programmatic")
        check_equal(status, 400, body)
        check(body["message"], "a non-empty message", body)
        check_equal(self.state()["calls"]["finspace.GetProgrammaticAccessCredentials"], 7)

    def test_finspace_reset_signed_by_issued_key(self):
        creds = self.get_credentials()["credentials"]
        fs = self.client("finspace-data", creds=creds)
        r = fs.reset_user_password(userId="uid-alice-0001", clientToken="token-1")
        pw = r["temporaryPassword"]
        check_equal(r["userId"], "uid-alice-0001", r)
        check(8 <= len(pw) <= 20, "a password of 8 to 20 characters", pw)
        check(any(c.isupper() for c in pw), "a password with an upper-case letter", pw)
        check(any(c.islower() for c in pw), "a password with a lower-case letter", pw)
        check(any(c.isdigit() for c in pw), "a password with a digit", pw)
        check(any(c in string.punctuation for c in pw), "a password with a punctuation mark",
              pw)
        u = self.state()["finspace"]["users"]["uid-alice-0001"]
        check_equal((u["resets"], u["replays"], u["lastPassword"], u["signedBy"]),
                    (1, 0, pw, [creds["accessKeyId"]]), u)
        # boto3 fills in clientToken itself (as the Rust SDK does) when it is not given
        r = self.client("finspace-data").reset_user_password(userId="uid-alice-0001")
        check_that(r["temporaryPassword"], "!=", pw)
        u = self.state()["finspace"]["users"]["uid-alice-0001"]
        check_equal(u["resets"], 2, u)
        check_equal(u["signedBy"], [creds["accessKeyId"], "AKIDTESTING"], u)
        token = self.state()["log"][-1]["clientToken"]
        check(re.fullmatch(r"[0-9a-f-]{36}", token or ""), "a UUID as clientToken", token)

    def test_finspace_client_token_replay(self):
        fs = self.client("finspace-data")
        first = fs.reset_user_password(userId="uid-bob-0002", clientToken="t-1")
        again = fs.reset_user_password(userId="uid-bob-0002", clientToken="t-1")
        check_equal(again["temporaryPassword"], first["temporaryPassword"])
        u = self.state()["finspace"]["users"]["uid-bob-0002"]
        check_equal(u["resets"], 1, u)
        check_equal(u["replays"], 1, u)
        check_equal([e.get("replayed") for e in self.state()["log"]], [False, True])
        other = fs.reset_user_password(userId="uid-bob-0002", clientToken="t-2")
        check_that(other["temporaryPassword"], "!=", first["temporaryPassword"])
        # the same token for another user, inside the window: a conflict
        r = self.expect_error(lambda: fs.reset_user_password(
            userId="uid-carol-0003", clientToken="t-1"), "ConflictException", 409)
        check(r["reason"], "a non-empty reason", r)
        # 9 minutes on, still a replay; past 10 minutes, a new reset
        self.control("POST", "clock", {"advanceSeconds": 540})
        check_equal(fs.reset_user_password(userId="uid-bob-0002", clientToken="t-1")[
            "temporaryPassword"], first["temporaryPassword"])
        self.control("POST", "clock", {"advanceSeconds": 61})
        later = fs.reset_user_password(userId="uid-bob-0002", clientToken="t-1")
        check_that(later["temporaryPassword"], "!=", first["temporaryPassword"])
        u = self.state()["finspace"]["users"]["uid-bob-0002"]
        check_equal(u["resets"], 3, u)
        check_equal(u["replays"], 2, u)
        check_equal(u["lastPassword"], later["temporaryPassword"])
        check_equal(len(u["signedBy"]), 3)

    def test_finspace_errors(self):
        fs = self.client("finspace-data", validate=False)
        r = self.expect_error(lambda: fs.reset_user_password(
            userId="uid-nobody", clientToken="t"), "ResourceNotFoundException", 404,
            "uid-nobody")
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                    "ResourceNotFoundException")
        check(r["reason"], "a non-empty reason", r)
        for token in ("", "   ", "x" * 129):
            self.expect_error(lambda: fs.reset_user_password(
                userId="uid-alice-0001", clientToken=token), "ValidationException", 400)
        fs.reset_user_password(userId="uid-alice-0001", clientToken="x" * 128)
        self.expect_error(lambda: fs.reset_user_password(
            userId="u" * 27, clientToken="t"), "ValidationException", 400)
        status, hdrs, body = raw(self.port, "POST", "/user/uid-alice-0001/password", b"{{",
                                 {"Content-Type": "application/json"})
        check_equal(status, 400, body)
        check_equal(hdrs["x-amzn-errortype"], "SerializationException", body)
        check_in("message", body)
        # user ids are percent-decoded from the path label
        self.control("POST", "seed", {"finspace": {"users": ["uid with/slash"]}})
        r = fs.reset_user_password(userId="uid with/slash", clientToken="t-slash")
        check_equal(r["userId"], "uid with/slash", r)
        check_equal(self.state()["finspace"]["users"]["uid with/slash"]["resets"], 1)

    def test_finspace_require_issued_credentials(self):
        self.control("POST", "seed", {"finspace": {"requireIssuedCredentials": True}})
        self.expect_error(lambda: self.client("finspace-data").reset_user_password(
            userId="uid-alice-0001"), "AccessDeniedException", 403)
        creds = self.get_credentials(1)["credentials"]
        fs = self.client("finspace-data", creds=creds)
        fs.reset_user_password(userId="uid-alice-0001")
        self.control("POST", "clock", {"advanceSeconds": 61})
        self.expect_error(lambda: fs.reset_user_password(userId="uid-alice-0001"),
                          "AccessDeniedException", 403, "expired")
        u = self.state()["finspace"]["users"]["uid-alice-0001"]
        check_equal(u["resets"], 1, u)
        check_equal(u["signedBy"], [creds["accessKeyId"]], u)

    # ----------------------------------------------------------------------------------------
    # The corporate scenario: groups, name folding, directory kinds, FinSpace users

    def seed_corp(self):
        self.control("POST", "reset")
        self.control("POST", "seed", CORP_SEED)

    def groups_of(self, member, directory=CORP, **kwargs):
        r = self.client("ds-data").list_groups_for_member(
            DirectoryId=directory, SAMAccountName=member, **kwargs)
        return [g["SAMAccountName"] for g in r["Groups"]]

    def test_corp_seed_state(self):
        self.seed_corp()
        st = self.state()["directories"]
        corp = st[CORP]
        check_equal(list(corp["users"]),
                    ["Admin", "Administrator", "krbtgt", "Guest", "alice", "bob", "carol", "dave"])
        domain_sid = corp["users"]["alice"]["sid"].rsplit("-", 1)[0]
        check_equal(corp["users"]["Administrator"]["sid"], domain_sid + "-500")
        check_equal(corp["users"]["Guest"]["sid"], domain_sid + "-501")
        check_equal(corp["users"]["krbtgt"]["sid"], domain_sid + "-502")
        check_equal(corp["groups"]["Domain Admins"], {
            "type": "Security", "scope": "Global", "sid": domain_sid + "-512", "memberOf": []})
        check_equal(corp["groups"]["IT Ops"]["memberOf"], ["Domain Admins"])
        check_equal(corp["groups"]["AWS Delegated Administrators"]["scope"], "DomainLocal")
        check_equal(corp["users"]["carol"]["memberOf"], ["IT Ops"])
        check_that(corp["users"]["Guest"]["enabled"], "is", False)
        check_equal(st[CORP_SIMPLE]["kind"], "SimpleAD")
        check_that(st[CORP_SIMPLE]["dsData"], "is", False)
        check_equal(st[CORP_NODATA]["kind"], "MicrosoftAD")
        check_that(st[CORP_NODATA]["dsData"], "is", False)
        fs = self.state()["finspace"]["users"]
        check_equal(fs[FS_SUPER]["type"], "SUPER_USER")
        check_equal(fs[FS_APP]["type"], "APP_USER")
        # re-seeding merges: memberOf is replaced, names are folded onto stored ones
        self.control("POST", "seed", {"directories": {CORP: {
            "groups": {"Helpdesk": {"type": "Distribution", "scope": "Universal"}},
            "users": {"  BOB ": {"memberOf": ["helpdesk", "it  ops", "Helpdesk"]}}}}})
        corp = self.state()["directories"][CORP]
        check_equal(corp["users"]["bob"]["memberOf"], ["Helpdesk", "IT Ops"], corp["users"]["bob"])
        check_not_in("  BOB ", corp["users"])
        # bad seeds change nothing
        for bad in (
                {CORP: {"users": {"erin": {"memberOf": ["No Such Group"]}}}},
                {CORP: {"groups": {"alice": {}}}},
                {CORP: {"users": {"IT OPS": {}}}},
                {CORP: {"groups": {"bad:name": {}}}},
                {CORP: {"groups": {"G": {"scope": "Planet"}}}},
                {CORP: {"groups": {"G": {"type": "Mail"}}}},
                {CORP: {"pageSize": 0}},
                {CORP: {"users": {"erin": {"memberOf": "IT Ops"}}}}):
            status, _, body = raw(self.port, "POST", "/_standin/seed", {"directories": bad})
            check_equal(status, 400, (bad, body))
            check_equal(body["error"], "ValidationException", (bad, body))
        for bad in ({"users": {"uid-x": {"type": "ADMIN"}}},
                    {"users": {"uid-x": {"status": "CREATION_PENDING"}}},
                    {"users": {"uid-x": {"createTime": "yesterday"}}},
                    {"users": {"uid-x": {"nickname": "x"}}}):
            status, _, body = raw(self.port, "POST", "/_standin/seed", {"finspace": bad})
            check_equal(status, 400, (bad, body))
        st = self.state()
        check_not_in("erin", st["directories"][CORP]["users"])
        check_equal(set(st["directories"][CORP]["groups"]),
                    {"AWS Delegated Administrators", "Domain Admins", "IT Ops", "Helpdesk"})
        check_not_in("uid-x", st["finspace"]["users"])

    def test_dsdata_list_groups_for_member(self):
        self.seed_corp()
        dsd = self.client("ds-data")
        r = dsd.list_groups_for_member(DirectoryId=CORP, SAMAccountName="carol")
        check_equal(r["DirectoryId"], CORP, r)
        check_equal(r["Realm"], "CORP.EXAMPLE.COM", r)
        check_equal(r["MemberRealm"], "CORP.EXAMPLE.COM", r)
        check_not_in("NextToken", r)
        sid = self.state()["directories"][CORP]["groups"]["IT Ops"]["sid"]
        check_equal(r["Groups"], [{"SAMAccountName": "IT Ops", "GroupType": "Security",
                                   "GroupScope": "Global", "SID": sid}])
        hdrs = r["ResponseMetadata"]["HTTPHeaders"]
        check_equal(hdrs["content-type"], "application/json", hdrs)
        # nesting: direct groups only, and a group's own parents when asked about a group
        check_equal(self.groups_of("IT Ops"), ["Domain Admins"])
        check_equal(self.groups_of("Domain Admins"), [])
        check_equal(self.groups_of("Admin"), ["AWS Delegated Administrators"])
        check_equal(self.groups_of("Administrator"), ["Domain Admins"])
        check_equal(self.groups_of("bob"), [])
        check_equal(self.groups_of("Guest"), [])
        # names fold as sAMAccountName does
        check_equal(self.groups_of("  CAROL "), ["IT Ops"])
        check_equal(self.groups_of("it   ops"), ["Domain Admins"])
        check_equal(self.groups_of("carol", Realm="corp.example.com.",
                                   MemberRealm="CORP.EXAMPLE.COM"), ["IT Ops"])
        # the exact wire shape the Rust SDK sends
        status, hdrs, body = raw(
            self.port, "POST", f"/GroupMemberships/ListGroupsForMember?DirectoryId={CORP}",
            {"SAMAccountName": "carol", "MaxResults": 5}, {"Content-Type": "application/json"})
        check_equal(status, 200, body)
        check_equal(body["Groups"][0]["SAMAccountName"], "IT Ops", body)
        entry = self.state()["log"][-1]
        check_equal(entry["operation"], "ListGroupsForMember", entry)
        check_equal(entry["maxResults"], 5, entry)
        r = self.expect_error(lambda: dsd.list_groups_for_member(
            DirectoryId=CORP, SAMAccountName="zed"), "ResourceNotFoundException", 404, "zed")
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                    "ResourceNotFoundException")
        self.expect_error(lambda: dsd.list_groups_for_member(
            DirectoryId=CORP, SAMAccountName="bad@name"), "ValidationException", 400)
        for realm in ({"Realm": "other.example.org"}, {"MemberRealm": "other.example.org"}):
            r = self.expect_error(lambda: dsd.list_groups_for_member(
                DirectoryId=CORP, SAMAccountName="carol", **realm), "ValidationException", 400)
            check_equal(r["Reason"], "INVALID_REALM", r)
        calls = self.state()["calls"]
        check_equal(calls["dsdata.ListGroupsForMember"], 15, calls)

    def test_dsdata_list_groups_pagination(self):
        groups = [f"Team {i:02}" for i in range(7)]
        self.control("POST", "seed", {"directories": {DIR_MS: {
            "groups": {g: {} for g in groups}, "users": {"bob": {"memberOf": groups}}}}})
        dsd = self.client("ds-data")
        pages, token = [], None
        while True:
            kwargs = {"NextToken": token} if token else {}
            r = dsd.list_groups_for_member(DirectoryId=DIR_MS, SAMAccountName="bob",
                                           MaxResults=3, **kwargs)
            pages.append([g["SAMAccountName"] for g in r["Groups"]])
            token = r.get("NextToken")
            if not token:
                break
        check_equal(pages, [groups[0:3], groups[3:6], groups[6:7]])
        # boto3's paginator follows NextToken the same way
        got = [g["SAMAccountName"]
               for page in dsd.get_paginator("list_groups_for_member").paginate(
                   DirectoryId=DIR_MS, SAMAccountName="bob", PaginationConfig={"PageSize": 2})
               for g in page["Groups"]]
        check_equal(got, groups)
        check_equal(self.state()["calls"]["dsdata.ListGroupsForMember"], 3 + 4)
        # without MaxResults: 250 a page, unless the directory pages smaller
        check_equal(self.groups_of("bob", DIR_MS), groups)
        self.control("POST", "seed", {"directories": {DIR_MS: {"pageSize": 4}}})
        r = dsd.list_groups_for_member(DirectoryId=DIR_MS, SAMAccountName="bob")
        check_equal(len(r["Groups"]), 4, r)
        check(r["NextToken"], "a NextToken", r)
        r2 = dsd.list_groups_for_member(DirectoryId=DIR_MS, SAMAccountName="bob",
                                        MaxResults=250, NextToken=r["NextToken"])
        check_equal([g["SAMAccountName"] for g in r2["Groups"]], groups[4:], r2)
        check_not_in("NextToken", r2)
        # a token only works for the request it came from
        for member, token in (("alice", r["NextToken"]), ("bob", "not-a-token"),
                              ("bob", "eyJ4IjogMX0=")):
            e = self.expect_error(lambda: dsd.list_groups_for_member(
                DirectoryId=DIR_MS, SAMAccountName=member, NextToken=token),
                "ValidationException", 400)
            check_equal(e["Reason"], "INVALID_NEXT_TOKEN", e)
        raw_dsd = self.client("ds-data", validate=False)
        for bad in (0, 251):
            self.expect_error(lambda: raw_dsd.list_groups_for_member(
                DirectoryId=DIR_MS, SAMAccountName="bob", MaxResults=bad),
                "ValidationException", 400, "MaxResults")

    def test_dsdata_directory_kinds(self):
        self.seed_corp()
        dsd = self.client("ds-data")
        for call in (lambda d: dsd.describe_user(DirectoryId=d, SAMAccountName="alice"),
                     lambda d: dsd.list_groups_for_member(DirectoryId=d, SAMAccountName="alice")):
            r = self.expect_error(lambda: call(CORP_SIMPLE), "ValidationException", 400)
            check_equal(r["Reason"], "INVALID_DIRECTORY_TYPE", r)
            check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                        "ValidationException")
            check(r["Error"]["Message"], "a non-empty error message", r)
            r = self.expect_error(lambda: call(CORP_NODATA), "AccessDeniedException", 403)
            check_equal(r["Reason"], "DATA_DISABLED", r)
            r = self.expect_error(lambda: call(DIR_MISSING), "AccessDeniedException", 403)
            check_not_in("Reason", r)
        # Directory Service itself still resets on both
        ds = self.client("ds")
        ds.reset_user_password(DirectoryId=CORP_SIMPLE, UserName="alice", NewPassword=GOOD)
        ds.reset_user_password(DirectoryId=CORP_NODATA, UserName="alice", NewPassword=GOOD)
        calls = self.state()["calls"]
        check_equal(calls, {"dsdata.DescribeUser": 3, "dsdata.ListGroupsForMember": 3,
                            "directory.ResetUserPassword": 2})

    def test_dsdata_describe_user_folds_names(self):
        self.seed_corp()
        dsd = self.client("ds-data")
        r = dsd.describe_user(DirectoryId=CORP, SAMAccountName="alice")
        for key, value in (("DirectoryId", CORP), ("Realm", "CORP.EXAMPLE.COM"),
                           ("SAMAccountName", "alice"), ("Enabled", True),
                           ("EmailAddress", "alice@corp.example"), ("GivenName", "Alice"),
                           ("Surname", "Liddell")):
            check_equal(r[key], value, (key, r))
        for name in ("ALICE", " alice", "Alice  ", "  aLiCe   "):
            r = dsd.describe_user(DirectoryId=CORP, SAMAccountName=name)
            check_equal(r["SAMAccountName"], "alice", (name, r))
        r = dsd.describe_user(DirectoryId=CORP, SAMAccountName="administrator ")
        check_equal(r["SAMAccountName"], "Administrator", r)
        check(r["SID"].endswith("-500"), "a SID ending in RID 500", r)
        check_that(dsd.describe_user(DirectoryId=CORP, SAMAccountName="GUEST")["Enabled"], "is",
                   False)
        check_that(dsd.describe_user(DirectoryId=CORP, SAMAccountName="dave")["Enabled"], "is",
                   False)
        r = dsd.describe_user(DirectoryId=CORP, SAMAccountName="bob")
        check(not {"EmailAddress", "GivenName", "Surname"} & set(r),
              "no EmailAddress, GivenName or Surname", r)
        # runs of inner spaces collapse; a different inner spacing is a different name
        self.control("POST", "seed", {"directories": {CORP: {"users": {"jo smith": {}}}}})
        r = dsd.describe_user(DirectoryId=CORP, SAMAccountName=" JO   SMITH ")
        check_equal(r["SAMAccountName"], "jo smith", r)
        self.expect_error(lambda: dsd.describe_user(
            DirectoryId=CORP, SAMAccountName="josmith"), "ResourceNotFoundException", 404)
        # a group is not a user; blanks match nothing
        self.expect_error(lambda: dsd.describe_user(
            DirectoryId=CORP, SAMAccountName="IT Ops"), "ResourceNotFoundException", 404)
        self.expect_error(lambda: dsd.describe_user(
            DirectoryId=CORP, SAMAccountName="   "), "ResourceNotFoundException", 404)
        check_equal(self.state()["calls"]["dsdata.DescribeUser"], 13)

    def test_ds_reset_folds_names(self):
        self.seed_corp()
        ds = self.client("ds")
        ds.reset_user_password(DirectoryId=CORP_SIMPLE, UserName="Administrator ",
                               NewPassword=GOOD)
        ds.reset_user_password(DirectoryId=CORP_SIMPLE, UserName="  ADMINISTRATOR",
                               NewPassword=GOOD)
        ds.reset_user_password(DirectoryId=CORP, UserName=" Dave  ", NewPassword=GOOD)
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=CORP, UserName="IT Ops", NewPassword=GOOD),
            "UserDoesNotExistException", 400)
        self.expect_error(lambda: ds.reset_user_password(
            DirectoryId=CORP, UserName="   ", NewPassword=GOOD),
            "UserDoesNotExistException", 400)
        st = self.state()["directories"]
        check_equal(st[CORP_SIMPLE]["users"]["Administrator"]["resets"], 2)
        check_equal(st[CORP_SIMPLE]["users"]["Administrator"]["password"], GOOD)
        check_equal(list(st[CORP_SIMPLE]["users"]), ["Administrator", "alice"])
        dave = st[CORP]["users"]["dave"]
        check_that(dave["enabled"], "is", True, dave)
        check_equal(dave["resets"], 1, dave)  # disabled -> enabled
        check_equal(st[CORP]["users"]["Administrator"]["resets"], 0)
        check_equal(self.state()["calls"], {"directory.ResetUserPassword": 5})

    def test_ds_simple_ad_nested_admins(self):
        """Simple AD refuses members of Domain Admins, also through nested groups."""
        self.control("POST", "seed", {"directories": {DIR_SIMPLE: {
            "groups": {"Domain Admins": {}, "Enterprise Admins": {},
                       "IT Ops": {"memberOf": ["Domain Admins"]},
                       "Loop A": {"memberOf": ["Loop B"]}, "Loop B": {"memberOf": ["Loop A"]}},
            "users": {"nested": {"memberOf": ["IT Ops"]},
                      "enterprise": {"memberOf": ["Enterprise Admins"]},
                      "looped": {"memberOf": ["Loop A"]},
                      "renamed": {"rid": 500, "memberOf": ["Domain Admins"]}}}}})
        ds = self.client("ds")
        for user in ("nested", "enterprise", "boss"):
            self.expect_error(lambda: ds.reset_user_password(
                DirectoryId=DIR_SIMPLE, UserName=user, NewPassword=GOOD),
                "UnsupportedOperationException", 400)
        for user in ("looped", "renamed", "dave"):
            ds.reset_user_password(DirectoryId=DIR_SIMPLE, UserName=user, NewPassword=GOOD)
        users = self.state()["directories"][DIR_SIMPLE]["users"]
        check_equal([users[u]["resets"] for u in ("nested", "enterprise", "boss", "looped",
                                                  "renamed", "dave")], [0, 0, 0, 1, 1, 1])

    def test_finspace_get_user(self):
        self.seed_corp()
        fs = self.client("finspace-data")
        r = fs.get_user(userId=FS_SUPER)
        check_equal((r["userId"], r["type"], r["status"], r["apiAccess"]),
                    (FS_SUPER, "SUPER_USER", "ENABLED", "DISABLED"), r)
        check_equal((r["firstName"], r["lastName"], r["emailAddress"]),
                    ("Sam", "Super", "sam@corp.example"), r)
        now_ms = time.time() * 1000
        for key in ("createTime", "lastModifiedTime", "lastEnabledTime"):
            check(isinstance(r[key], int), f"an integer {key}", r)
            check_that(abs(r[key] - now_ms), "<", 60_000, (key, r))
        check_not_in("lastDisabledTime", r)
        check_not_in("lastLoginTime", r)
        check_not_in("apiAccessPrincipalArn", r)
        r = fs.get_user(userId=FS_APP)
        check_equal((r["type"], r["apiAccess"], r["apiAccessPrincipalArn"]),
                    ("APP_USER", "ENABLED", FS_ROLE), r)
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/json")
        # defaults for a bare user id; statuses and explicit times
        self.control("POST", "seed", {"finspace": {"users": {
            "uid-bare": {}, "uid-off": {"status": "DISABLED", "lastLoginTime": 1700000000000},
            "uid-new": {"status": "CREATING"}}}})
        r = fs.get_user(userId="uid-bare")
        check_equal((r["type"], r["status"]), ("APP_USER", "ENABLED"), r)
        check(not {"firstName", "lastName", "emailAddress"} & set(r),
              "no firstName, lastName or emailAddress", r)
        r = fs.get_user(userId="uid-off")
        check_equal(r["status"], "DISABLED", r)
        check_in("lastDisabledTime", r)
        check_not_in("lastEnabledTime", r)
        check_equal(r["lastLoginTime"], 1700000000000, r)
        check_equal(fs.get_user(userId="uid-new")["status"], "CREATING")
        # re-seeding a profile keeps what it does not mention
        self.control("POST", "seed", {"finspace": {"users": {FS_APP: {"status": "DISABLED"}}}})
        r = fs.get_user(userId=FS_APP)
        check_equal((r["status"], r["type"], r["firstName"]), ("DISABLED", "APP_USER", "Alice"), r)
        # the exact wire shape: GET /user/{userId}, the label percent-decoded
        status, hdrs, body = raw(self.port, "GET", f"/user/{FS_SUPER}")
        check_equal(status, 200, body)
        check_equal(body["type"], "SUPER_USER", body)
        self.control("POST", "seed", {"finspace": {"users": {"uid with/slash": {}}}})
        check_equal(fs.get_user(userId="uid with/slash")["userId"], "uid with/slash")
        r = self.expect_error(lambda: fs.get_user(userId="uid-nobody"),
                              "ResourceNotFoundException", 404, "uid-nobody")
        check(r["reason"], "a non-empty reason", r)
        check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                    "ResourceNotFoundException", r)
        self.expect_error(lambda: self.client("finspace-data", validate=False).get_user(
            userId="u" * 27), "ValidationException", 400)
        st = self.state()
        check_equal(st["calls"]["finspace.GetUser"], 10, st["calls"])
        check_equal(st["log"][-1]["operation"], "GetUser")
        check_equal(st["log"][-1]["signingName"], "finspace-api")
        # GetUser changes nothing
        check_equal(st["finspace"]["users"][FS_SUPER]["resets"], 0)

    def test_finspace_get_user_requires_issued_credentials(self):
        self.seed_corp()
        self.control("POST", "seed", {"finspace": {"requireIssuedCredentials": True}})
        self.expect_error(lambda: self.client("finspace-data").get_user(userId=FS_APP),
                          "AccessDeniedException", 403)
        creds = self.client("finspace-data").get_programmatic_access_credentials(
            environmentId="env-corp-0001", durationInMinutes=1)["credentials"]
        fs = self.client("finspace-data", creds=creds)
        check_equal(fs.get_user(userId=FS_APP)["type"], "APP_USER")
        # the credential check comes before the user lookup, as for ResetUserPassword
        self.expect_error(lambda: self.client("finspace-data").get_user(userId="uid-nobody"),
                          "AccessDeniedException", 403)
        self.control("POST", "clock", {"advanceSeconds": 61})
        self.expect_error(lambda: fs.get_user(userId=FS_APP),
                          "AccessDeniedException", 403, "expired")
        check_equal(self.state()["calls"]["finspace.GetUser"], 4)

    def test_iam_denial_fault_on_every_operation(self):
        self.seed_corp()
        self.fault(operation="*", error="AccessDeniedException", count=6,
                   message="User: arn:aws:sts::123456789012:assumed-role/resetgate is not "
                           "authorized")
        calls = [
            ("ds", 400, lambda c: c.reset_user_password(
                DirectoryId=CORP, UserName="bob", NewPassword=GOOD)),
            ("ds-data", 403, lambda c: c.describe_user(DirectoryId=CORP, SAMAccountName="bob")),
            ("ds-data", 403, lambda c: c.list_groups_for_member(
                DirectoryId=CORP, SAMAccountName="carol")),
            ("finspace-data", 403, lambda c: c.get_user(userId=FS_APP)),
            ("finspace-data", 403, lambda c: c.reset_user_password(userId=FS_APP)),
            ("finspace-data", 403, lambda c: c.get_programmatic_access_credentials(
                environmentId="env-corp-0001")),
        ]
        for service, status, call in calls:
            client = self.client(service)
            r = self.expect_error(lambda: call(client), "AccessDeniedException", status,
                                  "not authorized")
            check_equal(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                        "AccessDeniedException", r)
            if service == "ds-data":
                check_equal(r["Reason"], "IAM_AUTH", r)
        st = self.state()
        check_equal(st["faults"], [], st["log"])
        check(all(e["fault"] for e in st["log"]), "every logged call a fault", st["log"])
        check_equal(st["directories"][CORP]["users"]["bob"]["resets"], 0)
        check_equal(st["finspace"]["users"][FS_APP]["resets"], 0)
        # once used up, every call goes through
        for service, _, call in calls:
            call(self.client(service))
        # a fault for one named operation and service; an explicit Reason is kept
        self.fault(operation="ListGroupsForMember", error="AccessDeniedException",
                   body={"Reason": "DIRECTORY_AUTH"})
        self.fault(operation="GetUser", service="finspace", error="ThrottlingException")
        r = self.expect_error(lambda: self.client("ds-data").list_groups_for_member(
            DirectoryId=CORP, SAMAccountName="carol"), "AccessDeniedException", 403)
        check_equal(r["Reason"], "DIRECTORY_AUTH", r)
        self.client("ds-data").describe_user(DirectoryId=CORP, SAMAccountName="carol")
        self.expect_error(lambda: self.client("finspace-data").get_user(userId=FS_APP),
                          "ThrottlingException", 429)
        calls = self.state()["calls"]
        check_equal(calls, {"directory.ResetUserPassword": 2, "dsdata.DescribeUser": 3,
                            "dsdata.ListGroupsForMember": 3, "finspace.GetUser": 3,
                            "finspace.ResetUserPassword": 2,
                            "finspace.GetProgrammaticAccessCredentials": 2})
        by_op = self.state()["callsByOperation"]
        check_equal(by_op["ResetUserPassword"], 4, by_op)
        check_equal(by_op["GetUser"], 3, by_op)

    # ----------------------------------------------------------------------------------------
    # Faults

    def test_fault_errors_are_retried_by_the_sdk(self):
        self.fault(operation="ResetUserPassword", service="finspace", count=2, status=503,
                   error="ThrottlingException", message="busy")
        r = self.client("finspace-data", attempts=3).reset_user_password(
            userId="uid-alice-0001", clientToken="tok")
        check_equal(r["ResponseMetadata"]["RetryAttempts"], 2, r["ResponseMetadata"])
        st = self.state()
        check_equal(st["calls"], {"finspace.ResetUserPassword": 3})
        check_equal(st["finspace"]["users"]["uid-alice-0001"]["resets"], 1)
        check_equal([e["status"] for e in st["log"]], [503, 503, 200], st["log"])
        check_equal([e["fault"] for e in st["log"]], [True, True, False])
        check_equal(st["faults"], [])
        # a finspace fault does not touch Directory Service's operation of the same name
        self.fault(operation="ResetUserPassword", service="finspace", error="ThrottlingException")
        self.client("ds").reset_user_password(
            DirectoryId=DIR_MS, UserName="bob", NewPassword=GOOD)
        check_equal(len(self.state()["faults"]), 1)

    def test_faults_are_consumed_in_order(self):
        self.control("POST", "faults", {"faults": [
            {"operation": "ResetUserPassword", "error": "ServiceException", "status": 500},
            {"operation": "ResetUserPassword", "error": "ClientException", "count": 2},
        ]})
        ds = self.client("ds")

        def reset():
            return ds.reset_user_password(DirectoryId=DIR_MS, UserName="bob", NewPassword=GOOD)

        self.expect_error(reset, "ServiceException", 500)
        self.expect_error(reset, "ClientException", 400)
        self.expect_error(reset, "ClientException", 400)
        reset()
        st = self.state()
        check_equal(st["calls"]["directory.ResetUserPassword"], 4)
        check_equal(st["directories"][DIR_MS]["users"]["bob"]["resets"], 1)

    def test_fault_delay(self):
        self.fault(operation="GetProgrammaticAccessCredentials", delayMs=400)
        started = time.monotonic()
        self.get_credentials()
        check_that(time.monotonic() - started, ">=", 0.4)
        check_that(self.state()["log"][-1]["fault"], "is", True)

    def test_fault_after_apply_timeout_then_retry_replays(self):
        """The back end acts, the answer comes too late, the SDK retries the same token."""
        self.fault(operation="ResetUserPassword", service="finspace", delayMs=2500,
                   afterApply=True)
        fs = self.client("finspace-data", attempts=3, read_timeout=1)
        r = fs.reset_user_password(userId="uid-dave-0004")
        check_equal(r["ResponseMetadata"]["RetryAttempts"], 1, r["ResponseMetadata"])
        st = self.state()
        u = st["finspace"]["users"]["uid-dave-0004"]
        check_equal(u["resets"], 1, u)
        check_equal(u["replays"], 1, u)
        check_equal(u["lastPassword"], r["temporaryPassword"])
        tokens = [e["clientToken"] for e in st["log"]]
        check_equal(len(tokens), 2, tokens)
        check_equal(tokens[0], tokens[1], tokens)
        check_equal(st["calls"], {"finspace.ResetUserPassword": 2})

    def test_fault_after_apply_error(self):
        self.fault(operation="ResetUserPassword", service="directory", afterApply=True,
                   error="ServiceException", status=500)
        self.expect_error(lambda: self.client("ds").reset_user_password(
            DirectoryId=DIR_MS, UserName="alice", NewPassword=GOOD), "ServiceException", 500)
        u = self.state()["directories"][DIR_MS]["users"]["alice"]
        check_equal(u["resets"], 1, u)
        check_that(u["enabled"], "is", True, u)
        check_equal(u["password"], GOOD, u)

    def test_fault_drop_connection(self):
        self.fault(operation="ResetUserPassword", service="finspace", drop=True)
        try:
            self.client("finspace-data").reset_user_password(userId="uid-erin-0005")
        except ConnectionClosedError:
            pass
        else:
            raise CheckFailed("expected the connection to be dropped, got an answer")
        self.fault(operation="ResetUserPassword", service="finspace", drop=True,
                   afterApply=True)
        r = self.client("finspace-data", attempts=2).reset_user_password(userId="uid-erin-0005")
        u = self.state()["finspace"]["users"]["uid-erin-0005"]
        check_equal(u["resets"], 1, u)
        check_equal(u["replays"], 1, u)
        check_equal(u["lastPassword"], r["temporaryPassword"])

    # ----------------------------------------------------------------------------------------
    # HTTP behaviour

    def test_keep_alive_with_boto3(self):
        for service, call in (
                ("ds", lambda c: c.reset_user_password(
                    DirectoryId=DIR_MS, UserName="bob", NewPassword=GOOD)),
                ("ds-data", lambda c: c.describe_user(DirectoryId=DIR_MS, SAMAccountName="bob")),
                ("finspace-data", lambda c: c.reset_user_password(userId="uid-bob-0002"))):
            client = self.client(service)
            call(client)
            call(client)
            log = self.state()["log"]
            check_equal(log[-1]["clientPort"], log[-2]["clientPort"], (service, log[-2:]))

    def test_keep_alive_raw(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        target = {"X-Amz-Target": "DirectoryService_20150416.ResetUserPassword",
                  "Content-Type": "application/x-amz-json-1.1"}
        # an error, a success, a chunked body and an unknown path on one connection
        s1, h1, b1 = raw(self.port, "POST", "/", {"DirectoryId": DIR_MS, "UserName": "x",
                                                  "NewPassword": GOOD}, target, conn)
        s2, h2, b2 = raw(self.port, "POST", "/", {"DirectoryId": DIR_MS, "UserName": "bob",
                                                  "NewPassword": GOOD}, target, conn)
        body = json.dumps({"clientToken": "chunky"}).encode()
        conn.putrequest("POST", "/user/uid-carol-0003/password")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()
        conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        resp = conn.getresponse()
        b3 = json.loads(resp.read())
        s4, _, _ = raw(self.port, "GET", "/nowhere", None, None, conn)
        s5, h5, b5 = raw(self.port, "GET", "/_standin/health", None, None, conn)
        conn.close()
        check_equal((s1, s2, resp.status, s4, s5), (400, 200, 200, 404, 200))
        check_equal(b1["__type"], "UserDoesNotExistException")
        check_equal(b2, {})
        check_equal(b5, {"ok": True})
        check_equal(b3["userId"], "uid-carol-0003")
        for h in (h1, h2, h5):
            check_equal(h["connection"], "keep-alive", h)
            check_in("content-length", h)
        # Connection: close is honoured
        status, hdrs, _ = raw(self.port, "GET", "/_standin/health", None,
                              {"Connection": "close"})
        check_equal(status, 200)
        check_equal(hdrs["connection"], "close")

    def test_concurrent_requests(self):
        fs = self.client("finspace-data")
        errors = []

        def work(i):
            try:
                for j in range(3):
                    fs.reset_user_password(userId=FS_USERS[i % 3], clientToken=f"c-{i}-{j}")
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        check(not errors, "no errors", errors)
        users = self.state()["finspace"]["users"]
        check_equal(sum(users[u]["resets"] for u in FS_USERS[:3]), 30)

    # ----------------------------------------------------------------------------------------
    # What resetgate-cli check reads: DescribeDirectories, DescribeDirectoryDataAccess,
    # FinSpace GetEnvironment

    def test_ds_describe_directories(self):
        ds = self.client("ds")
        got = ds.describe_directories(DirectoryIds=[DIR_MS, DIR_SIMPLE, DIR_DOWN])
        kinds = [(d["DirectoryId"], d["Type"], d["Stage"]) for d in got["DirectoryDescriptions"]]
        check_equal(kinds, [(DIR_MS, "MicrosoftAD", "Active"), (DIR_SIMPLE, "SimpleAD", "Active"),
                            (DIR_DOWN, "MicrosoftAD", "Impaired")])
        check_equal(got["DirectoryDescriptions"][0]["Name"], "corp.example.com")
        every = ds.describe_directories()["DirectoryDescriptions"]
        check_equal(len(every), 6)
        self.expect_error(lambda: ds.describe_directories(DirectoryIds=[DIR_MISSING]),
                          "EntityDoesNotExistException", 400)
        self.control("POST", "seed", {"directories": {DIR_MS: {"stage": "Creating"}}})
        got = ds.describe_directories(DirectoryIds=[DIR_MS])["DirectoryDescriptions"]
        check_equal(got[0]["Stage"], "Creating")
        check_equal(self.state()["calls"]["directory.DescribeDirectories"], 4)

    def test_ds_describe_directory_data_access(self):
        ds = self.client("ds")
        check_equal(ds.describe_directory_data_access(DirectoryId=DIR_MS)["DataAccessStatus"],
                    "Enabled")
        check_equal(ds.describe_directory_data_access(DirectoryId=DIR_NODATA)["DataAccessStatus"],
                    "Disabled")
        self.expect_error(lambda: ds.describe_directory_data_access(DirectoryId=DIR_SIMPLE),
                          "UnsupportedOperationException", 400)
        self.expect_error(lambda: ds.describe_directory_data_access(DirectoryId=DIR_MISSING),
                          "DirectoryDoesNotExistException", 400)

    def test_finspace_get_environment(self):
        status, headers, body = raw(self.port, "GET", f"/environment/{ENV}")
        check_equal(status, 200)
        check_equal(body["environment"]["environmentId"], ENV)
        check_equal(body["environment"]["status"], "CREATED")
        status, headers, body = raw(self.port, "GET", "/environment/nosuchenvironment")
        check_equal(status, 404)
        check_equal(headers["x-amzn-errortype"], "ResourceNotFoundException")
        check_in("message", body)
        check_equal(self.state()["calls"]["finspaceenv.GetEnvironment"], 2)


def main():
    tmp = tempfile.mkdtemp(prefix="standin-selftest-")
    standin = None
    checks = None
    try:
        session = boto_session(tmp)
        standin = StandIn()
        checks = Checks(standin, session)
        checks.run()
    except Exception:
        traceback.print_exc()
        if checks is None:
            checks = Checks.__new__(Checks)
            checks.passed, checks.failed = 0, 1
    finally:
        if standin is not None:
            status = standin.stop()
            stderr = standin.stderr_text()
            if status != 0:
                print(f"FAIL the stand-in exited with {status} on SIGTERM")
                checks.failed += 1
            if stderr.strip():
                print("FAIL the stand-in wrote to stderr:\n" + stderr)
                checks.failed += 1
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
