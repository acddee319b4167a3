#!/usr/bin/env python3
"""Stand-in AWS server for the resetgate tests: the parts of three AWS APIs that moto lacks.

    python3 tests/support/standin.py --port PORT     # 127.0.0.1 only; --port 0 picks a free port

It prints one line, ``standin listening on 127.0.0.1:PORT``, once it accepts connections, and
nothing per request; SIGTERM or SIGINT stops it with exit status 0. Standard library only.

Each API speaks the wire protocol the Rust SDK crates use (checked against the generated code of
aws-sdk-directory 1.125.0, aws-sdk-directoryservicedata 1.77.0 and aws-sdk-finspacedata 1.114.0):

* Directory Service ``ResetUserPassword``: awsJson1_1. ``POST /``,
  ``X-Amz-Target: DirectoryService_20150416.ResetUserPassword``, content type
  ``application/x-amz-json-1.1``, body ``{"DirectoryId", "UserName", "NewPassword"}``, answer
  ``200 {}``. Errors: ``{"__type": CODE, "Message": ..., "RequestId": ...}`` plus the
  ``x-amzn-errortype`` header; 400, or 500 for ``ServiceException``.
* Directory Service Data ``DescribeUser``: restJson1. ``POST /Users/DescribeUser?DirectoryId=ID``,
  body ``{"SAMAccountName", "OtherAttributes"?, "Realm"?}``. Errors: ``x-amzn-errortype`` header
  and ``{"Message", "Reason"?}``, with the model's status codes (403, 404, 400, 429, 500).
* FinSpace Data (signing name ``finspace-api``): restJson1.
  ``POST /user/{userId}/password`` with body ``{"clientToken"}`` -> ``{"userId",
  "temporaryPassword"}``; ``GET /credentials/programmatic?environmentId=E&durationInMinutes=N``
  -> ``{"credentials": {"accessKeyId", "secretAccessKey", "sessionToken"},
  "durationInMinutes"}``. Errors: ``x-amzn-errortype`` header and ``{"message", "reason"?}``.

Control API for the tests, all JSON, under ``/_standin/``:

* ``GET  /_standin/health``: ``{"ok": true}``.
* ``POST /_standin/seed``: directories and FinSpace environments/users, merged into the state.
* ``POST /_standin/reset``: wipes state, faults, counters, the request log and the clock offset.
* ``GET  /_standin/state``: everything, for assertions.
* ``POST /_standin/faults``: queues one fault (an object) or several (``{"faults": [...]}``).
* ``POST /_standin/clock``: ``{"advanceSeconds": N}`` moves the stand-in's clock forward (for
  the ten-minute clientToken window and credential expiry).

See the functions ``seed``, ``state_view`` and ``queue_faults`` for the exact shapes.
"""

import argparse
import collections
import copy
import hashlib
import json
import re
import secrets
import signal
import string
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

AWS_JSON = "application/x-amz-json-1.1"
REST_JSON = "application/json"

DS_TARGET_PREFIX = "DirectoryService_20150416."

# Service key (as used by the control API) -> SigV4 signing name the SDK uses.
SIGNING_NAMES = {"directory": "ds", "dsdata": "ds-data", "finspace": "finspace-api"}

OPERATIONS = {
    ("directory", "ResetUserPassword"),
    ("dsdata", "DescribeUser"),
    ("finspace", "ResetUserPassword"),
    ("finspace", "GetProgrammaticAccessCredentials"),
}

CLIENT_TOKEN_WINDOW_SECONDS = 600  # "This token expires in 10 minutes."
DEFAULT_CREDENTIAL_MINUTES = 60
LOG_LIMIT = 1000

DIRECTORY_ID = re.compile(r"^d-[0-9a-f]{10}$")
# CustomerUserName: none of \ " / [ ] : ; | = , + * ? < > @
CUSTOMER_USER_NAME_FORBIDDEN = set('\\"/[]:;|=,+*?<>@')
SAM_ACCOUNT_NAME = re.compile(r"^[\w\-.]+$")
LDAP_DISPLAY_NAME = re.compile(r"^[A-Za-z*][A-Za-z-*]*$")
NOT_BLANK = re.compile(r"\S")
AUTH_CREDENTIAL = re.compile(
    r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request"
)

DIRECTORY_KINDS = ("MicrosoftAD", "SimpleAD", "ADConnector")


class ApiError(Exception):
    """An error answer in the protocol of the service that raised it."""

    def __init__(self, code, message, status=400, extra=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.headers = headers or {}


class Dropped(Exception):
    """Close the connection without answering."""


def validation(message, reason=None):
    extra = {"reason": reason} if reason else None
    return ApiError("ValidationException", message, 400, extra)


# --------------------------------------------------------------------------------------------
# State


class State:
    """All mutable state; every access holds ``self.lock`` (one re-entrant lock)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clear()

    def clear(self):
        self.directories = {}  # id -> directory dict
        self.fs_environments = set()
        self.fs_users = {}  # userId -> dict
        self.fs_tokens = {}  # clientToken -> {"userId", "password", "at"}
        self.fs_credentials = {}  # accessKeyId -> dict
        self.fs_require_issued = False
        self.calls = collections.Counter()
        self.faults = []
        self.log = collections.deque(maxlen=LOG_LIMIT)
        self.clock_offset = 0.0

    def now(self):
        return time.time() + self.clock_offset


STATE = State()


def _bool(value, name):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _int(value, name, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def seed(body):
    """Merges directories and FinSpace data into the state.

    {"directories": {"d-1234567890": {"kind": "MicrosoftAD"|"SimpleAD"|"ADConnector",
                                      "minLength": 7, "dsData": true, "unavailable": false,
                                      "domain": "corp.example.com", "netbios": "CORP",
                                      "users": {"alice": {"enabled": true, "admin": false,
                                                          "outsideOu": false, "password": null,
                                                          "email": ..., "givenName": ...,
                                                          "surname": ..., "attributes": {}}}}},
     "finspace": {"environments": ["env-id", ...],
                  "users": ["uid", ...] | {"uid": {}},
                  "requireIssuedCredentials": false}}

    All or nothing: an invalid seed changes nothing. Absent fields keep their current value
    (or the default for new entries). Defaults:
    kind MicrosoftAD, minLength 7, dsData true for MicrosoftAD and false otherwise,
    enabled true, admin false, outsideOu false.
    """
    if not isinstance(body, dict):
        raise ValueError("the seed must be a JSON object")
    directories = body.get("directories", {})
    if not isinstance(directories, dict):
        raise ValueError("directories must be an object")
    finspace = body.get("finspace", {})
    if not isinstance(finspace, dict):
        raise ValueError("finspace must be an object")

    with STATE.lock:
        saved = copy.deepcopy(
            (STATE.directories, STATE.fs_environments, STATE.fs_users, STATE.fs_require_issued))
        try:
            _merge_seed(directories, finspace)
        except Exception:
            (STATE.directories, STATE.fs_environments, STATE.fs_users,
             STATE.fs_require_issued) = saved
            raise


def _merge_seed(directories, finspace):
    """The body of ``seed``; the caller holds the lock and restores the state on errors."""
    for did, spec in directories.items():
        if not DIRECTORY_ID.match(did):
            raise ValueError(
                f"directory id {did!r} does not match ^d-[0-9a-f]{{10}}$ "
                "(the real API would answer ValidationException)"
            )
        if not isinstance(spec, dict):
            raise ValueError(f"directory {did} must be an object")
        d = STATE.directories.get(did)
        if d is None:
            kind = spec.get("kind", "MicrosoftAD")
            d = {
                "kind": kind,
                "minLength": 7,
                "dsData": kind == "MicrosoftAD",
                "unavailable": False,
                "domain": "corp.example.com",
                "netbios": "CORP",
                "users": {},
                "nextRid": 1104,
            }
            STATE.directories[did] = d
        if "kind" in spec:
            if spec["kind"] not in DIRECTORY_KINDS:
                raise ValueError(f"kind must be one of {', '.join(DIRECTORY_KINDS)}")
            d["kind"] = spec["kind"]
        if "minLength" in spec:
            d["minLength"] = _int(spec["minLength"], "minLength", 0, 127)
        for key in ("dsData", "unavailable"):
            if key in spec:
                d[key] = _bool(spec[key], key)
        for key in ("domain", "netbios"):
            if key in spec:
                if not isinstance(spec[key], str) or not spec[key]:
                    raise ValueError(f"{key} must be a non-empty string")
                d[key] = spec[key]
        users = spec.get("users", {})
        if not isinstance(users, dict):
            raise ValueError("users must be an object")
        for name, uspec in users.items():
            if not isinstance(name, str) or not name:
                raise ValueError("user names must be non-empty strings")
            if uspec is None:
                uspec = {}
            if not isinstance(uspec, dict):
                raise ValueError(f"user {name} must be an object")
            key = _find_user_key(d, name) or name
            u = d["users"].get(key)
            if u is None:
                u = {
                    "enabled": True,
                    "admin": False,
                    "outsideOu": False,
                    "password": None,
                    "resets": 0,
                    "rid": d["nextRid"],
                    "pwdLastSet": None,
                    "email": None,
                    "givenName": None,
                    "surname": None,
                    "attributes": {},
                }
                d["nextRid"] += 1
                d["users"][key] = u
            for flag in ("enabled", "admin", "outsideOu"):
                if flag in uspec:
                    u[flag] = _bool(uspec[flag], flag)
            for field in ("password", "email", "givenName", "surname"):
                if field in uspec:
                    if uspec[field] is not None and not isinstance(uspec[field], str):
                        raise ValueError(f"{field} must be a string or null")
                    u[field] = uspec[field]
            if "attributes" in uspec:
                if not isinstance(uspec["attributes"], dict):
                    raise ValueError("attributes must be an object")
                u["attributes"].update(uspec["attributes"])

    envs = finspace.get("environments", [])
    if not isinstance(envs, list) or not all(isinstance(e, str) and e for e in envs):
        raise ValueError("finspace.environments must be a list of non-empty strings")
    for env in envs:
        if len(env) > 26:
            raise ValueError(f"environment id {env!r} is longer than 26 characters")
    STATE.fs_environments.update(envs)

    fs_users = finspace.get("users", [])
    if isinstance(fs_users, dict):
        fs_users = list(fs_users)
    if not isinstance(fs_users, list) or not all(isinstance(u, str) and u for u in fs_users):
        raise ValueError("finspace.users must be a list of non-empty strings")
    for uid in fs_users:
        if len(uid) > 26:
            raise ValueError(f"FinSpace user id {uid!r} is longer than 26 characters")
        STATE.fs_users.setdefault(
            uid, {"resets": 0, "replays": 0, "lastPassword": None, "signedBy": []}
        )
    if "requireIssuedCredentials" in finspace:
        STATE.fs_require_issued = _bool(
            finspace["requireIssuedCredentials"], "requireIssuedCredentials"
        )


def state_view():
    """Everything, for assertions. Shape:

    {"directories": {id: {"kind", "minLength", "dsData", "unavailable", "domain", "netbios",
                          "users": {name: {"enabled", "password", "resets", "admin",
                                           "outsideOu"}}}},
     "finspace": {"environments": [...], "requireIssuedCredentials": bool,
                  "users": {uid: {"resets", "replays", "lastPassword",
                                  "signedBy": [accessKeyId per applied reset]}},
                  "credentials": {accessKeyId: {"environmentId", "durationInMinutes",
                                                "issuedAt", "expiresAt"}}},
     "calls": {"directory.ResetUserPassword": n, "dsdata.DescribeUser": n,
               "finspace.ResetUserPassword": n, "finspace.GetProgrammaticAccessCredentials": n,
               "unknown": n},
     "callsByOperation": {"ResetUserPassword": n, ...},
     "faults": [pending faults], "log": [recent requests], "clockOffsetSeconds": s}
    """
    with STATE.lock:
        directories = {}
        for did, d in STATE.directories.items():
            directories[did] = {
                "kind": d["kind"],
                "minLength": d["minLength"],
                "dsData": d["dsData"],
                "unavailable": d["unavailable"],
                "domain": d["domain"],
                "netbios": d["netbios"],
                "users": {
                    name: {
                        "enabled": u["enabled"],
                        "password": u["password"],
                        "resets": u["resets"],
                        "admin": u["admin"],
                        "outsideOu": u["outsideOu"],
                    }
                    for name, u in d["users"].items()
                },
            }
        by_operation = collections.Counter()
        for key, n in STATE.calls.items():
            by_operation[key.split(".", 1)[-1]] += n
        return {
            "directories": directories,
            "finspace": {
                "environments": sorted(STATE.fs_environments),
                "requireIssuedCredentials": STATE.fs_require_issued,
                "users": {
                    uid: {
                        "resets": u["resets"],
                        "replays": u["replays"],
                        "lastPassword": u["lastPassword"],
                        "signedBy": list(u["signedBy"]),
                    }
                    for uid, u in STATE.fs_users.items()
                },
                "credentials": {k: dict(v) for k, v in STATE.fs_credentials.items()},
            },
            "calls": dict(STATE.calls),
            "callsByOperation": dict(by_operation),
            "faults": [dict(f) for f in STATE.faults],
            "log": [dict(e) for e in STATE.log],
            "clockOffsetSeconds": STATE.clock_offset,
        }


FAULT_KEYS = {
    "operation", "service", "count", "status", "error", "message", "delayMs", "afterApply",
    "drop", "headers", "body",
}


def queue_faults(body):
    """Queues faults. One fault:

    {"operation": "ResetUserPassword"|"DescribeUser"|"GetProgrammaticAccessCredentials",
     "service": "directory"|"dsdata"|"finspace",   # optional: any service with that operation
     "count": 1,             # how many matching requests it hits
     "error": "ThrottlingException", "status": 503, "message": "...",
     "headers": {"Retry-After": "1"}, "body": {"Reason": "..."},  # extra error headers/members
     "delayMs": 0,           # sleep before answering
     "afterApply": false,    # true: carry the operation out first, then delay/err/drop
     "drop": false}          # close the connection without an answer

    Without error or drop, the request is only delayed. Faults are consumed in queue order:
    a request takes the first queued fault that matches it. The error is rendered in the
    service's protocol; without "status": Throttling* 429 (400 on Directory Service, as
    awsJson services do), ServiceException / InternalServerException 500,
    ServiceUnavailableException 503, anything else 400.
    """
    faults = body.get("faults") if isinstance(body, dict) and "faults" in body else [body]
    if not isinstance(faults, list):
        raise ValueError("faults must be a list")
    parsed = []
    for f in faults:
        if not isinstance(f, dict):
            raise ValueError("a fault must be an object")
        unknown = set(f) - FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        op = f.get("operation")
        service = f.get("service")
        if service is not None and service not in SIGNING_NAMES:
            raise ValueError(f"service must be one of {', '.join(SIGNING_NAMES)}")
        if not any(o == op and (service is None or s == service) for s, o in OPERATIONS):
            raise ValueError(f"no operation {op!r} in service {service or 'any'}")
        fault = {
            "operation": op,
            "service": service,
            "count": _int(f.get("count", 1), "count", 1),
            "error": f.get("error"),
            "status": f.get("status"),
            "message": f.get("message"),
            "delayMs": _int(f.get("delayMs", 0), "delayMs", 0, 600000),
            "afterApply": _bool(f.get("afterApply", False), "afterApply"),
            "drop": _bool(f.get("drop", False), "drop"),
            "headers": f.get("headers") or {},
            "body": f.get("body") or {},
        }
        if fault["error"] is not None and not isinstance(fault["error"], str):
            raise ValueError("error must be a string")
        if fault["status"] is not None:
            _int(fault["status"], "status", 100, 599)
        if not isinstance(fault["headers"], dict) or not isinstance(fault["body"], dict):
            raise ValueError("headers and body must be objects")
        parsed.append(fault)
    with STATE.lock:
        STATE.faults.extend(parsed)
        return len(STATE.faults)


def take_fault(service, operation):
    """The first queued fault matching the request, consumed once. Caller holds the lock."""
    for i, f in enumerate(STATE.faults):
        if f["operation"] == operation and f["service"] in (None, service):
            taken = dict(f)
            f["count"] -= 1
            if f["count"] <= 0:
                del STATE.faults[i]
            return taken
    return None


def fault_error(service, fault):
    code = fault["error"]
    status = fault["status"]
    if status is None:
        if "Throttl" in code:
            status = 400 if service == "directory" else 429
        elif code in ("ServiceException", "InternalServerException", "InternalFailure"):
            status = 500
        elif code == "ServiceUnavailableException":
            status = 503
        else:
            status = 400
    message = fault["message"] if fault["message"] is not None else f"injected {code}"
    return ApiError(code, message, status, dict(fault["body"]), dict(fault["headers"]))


# --------------------------------------------------------------------------------------------
# Directory Service: ResetUserPassword


def _find_user_key(directory, name):
    """sAMAccountName lookups are case-insensitive in AD."""
    if name in directory["users"]:
        return name
    lowered = name.lower()
    for key in directory["users"]:
        if key.lower() == lowered:
            return key
    return None


def _member_null(member):
    return validation(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )


def password_problems(password, user_name, min_length):
    """AD's default policy: minimum length, 3 of 4 character classes, no sAMAccountName."""
    problems = []
    if len(password) < min_length:
        problems.append(f"it is shorter than {min_length} characters")
    classes = 0
    classes += any(c.isupper() for c in password)
    classes += any(c.islower() for c in password)
    classes += any(c in string.digits for c in password)
    classes += any(not (c.isupper() or c.islower() or c in string.digits) for c in password)
    if classes < 3:
        problems.append(
            "it does not contain characters from three of: uppercase, lowercase, digits, symbols"
        )
    if len(user_name) >= 3 and user_name.lower() in password.lower():
        problems.append("it contains the user's account name")
    return problems


def ds_reset_user_password(req):
    body = req.json_object()
    for member, wire in (("directoryId", "DirectoryId"), ("userName", "UserName"),
                         ("newPassword", "NewPassword")):
        if body.get(wire) is None:
            raise _member_null(member)
        if not isinstance(body[wire], str):
            raise ApiError("SerializationException", f"{wire} must be a string", 400)
    did, name, password = body["DirectoryId"], body["UserName"], body["NewPassword"]
    req.note(directoryId=did, userName=name)
    problems = []
    if not DIRECTORY_ID.match(did):
        problems.append(
            f"Value '{did}' at 'directoryId' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: ^d-[0-9a-f]{10}$"
        )
    if not 1 <= len(name) <= 64 or any(c in CUSTOMER_USER_NAME_FORBIDDEN for c in name):
        problems.append(
            f"Value '{name}' at 'userName' failed to satisfy constraint: Member must have length "
            "between 1 and 64 and must not contain \\ \" / [ ] : ; | = , + * ? < > @"
        )
    if not 1 <= len(password) <= 127:
        problems.append(
            "Value at 'newPassword' failed to satisfy constraint: Member must have length "
            "between 1 and 127"
        )
    if problems:
        raise validation(
            f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
            + "; ".join(problems)
        )

    with STATE.lock:
        d = STATE.directories.get(did)
        if d is None:
            raise ApiError("EntityDoesNotExistException", f"Directory {did} does not exist.")
        if d["unavailable"]:
            raise ApiError(
                "DirectoryUnavailableException", f"Directory {did} is not available."
            )
        if d["kind"] not in ("MicrosoftAD", "SimpleAD"):
            raise ApiError(
                "UnsupportedOperationException",
                f"ResetUserPassword is not supported for {d['kind']} directory {did}.",
            )
        key = _find_user_key(d, name)
        if key is None:
            raise ApiError(
                "UserDoesNotExistException", f"User {name} does not exist in directory {did}."
            )
        u = d["users"][key]
        if d["kind"] == "SimpleAD" and u["admin"] and key.lower() != "administrator":
            raise ApiError(
                "UnsupportedOperationException",
                "Resetting the password of a member of the Domain Admins or Enterprise Admins "
                "group is not supported in Simple AD, except for the Administrator user.",
            )
        if d["kind"] == "MicrosoftAD" and u["outsideOu"]:
            raise ApiError(
                "ClientException",
                f"User {key} is not in the organizational unit {d['netbios']}: only users in "
                "that OU can have their password reset.",
            )
        problems = password_problems(password, key, d["minLength"])
        if problems:
            raise ApiError(
                "InvalidPasswordException",
                "The new password does not meet the password complexity requirements defined "
                "in your directory: " + "; ".join(problems) + ".",
            )
        u["password"] = password
        u["enabled"] = True  # "Disabled users will become enabled" (the API's documentation)
        u["resets"] += 1
        u["pwdLastSet"] = STATE.now()
    return 200, {}


# --------------------------------------------------------------------------------------------
# Directory Service Data: DescribeUser


def _attribute_value(value):
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": value}
    if isinstance(value, list):
        return {"SS": [str(v) for v in value]}
    return {"S": str(value)}


def _filetime(unix_seconds):
    return int((unix_seconds + 11644473600) * 10_000_000)


def dsdata_describe_user(req):
    dids = req.query.get("DirectoryId")
    if not dids or not dids[0]:
        raise validation("DirectoryId is required.")
    did = dids[0]
    body = req.json_object()
    req.note(directoryId=did, userName=body.get("SAMAccountName"))
    if not DIRECTORY_ID.match(did):
        raise validation(f"Value '{did}' at 'DirectoryId' failed to satisfy constraint: Member "
                         "must satisfy regular expression pattern: ^d-[0-9a-f]{10}$")
    sam = body.get("SAMAccountName")
    if sam is None:
        raise validation("SAMAccountName is required.")
    if not isinstance(sam, str) or not 1 <= len(sam) <= 20 or not SAM_ACCOUNT_NAME.match(sam):
        raise validation(f"Value '{sam}' at 'SAMAccountName' failed to satisfy constraint: "
                         "Member must have length between 1 and 20 and match ^[\\w\\-.]+$")
    wanted = body.get("OtherAttributes")
    if wanted is not None:
        if (not isinstance(wanted, list) or not 1 <= len(wanted) <= 25 or not all(
                isinstance(a, str) and 1 <= len(a) <= 63 and LDAP_DISPLAY_NAME.match(a)
                for a in wanted)):
            raise validation("OtherAttributes must hold 1 to 25 LDAP display names.",
                             "INVALID_ATTRIBUTE_NAME")
    realm = body.get("Realm")
    if realm is not None and (not isinstance(realm, str) or not 1 <= len(realm) <= 255):
        raise validation("Realm must have length between 1 and 255.", "INVALID_REALM")

    with STATE.lock:
        d = STATE.directories.get(did)
        if d is None:
            raise ApiError(
                "AccessDeniedException",
                f"You do not have access to directory {did}, or it does not exist.",
                403,
            )
        if d["kind"] != "MicrosoftAD":
            raise ApiError(
                "ValidationException",
                f"Directory Service Data is not supported for {d['kind']} directory {did}.",
                400,
                {"Reason": "INVALID_DIRECTORY_TYPE"},
            )
        if not d["dsData"]:
            raise ApiError(
                "AccessDeniedException",
                f"Directory Service Data is not enabled for directory {did}.",
                403,
                {"Reason": "DATA_DISABLED"},
            )
        if d["unavailable"]:
            raise ApiError(
                "DirectoryUnavailableException",
                f"Directory {did} is not available.",
                400,
                {"Reason": "INVALID_DIRECTORY_STATE"},
            )
        if realm is not None and realm.rstrip(".").lower() != d["domain"].lower():
            raise ApiError("ValidationException", f"Realm {realm} is not valid for {did}.", 400,
                           {"Reason": "INVALID_REALM"})
        key = _find_user_key(d, sam)
        if key is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"User {sam} was not found in directory {did}.",
                404,
            )
        u = d["users"][key]
        domain = d["domain"]
        dc = ",".join(f"DC={part}" for part in domain.split("."))
        ou = f"OU=Users,OU={d['netbios']}" if not u["outsideOu"] else "CN=Users"
        digest = hashlib.sha256(did.encode()).digest()
        sub = "-".join(str(int.from_bytes(digest[i:i + 4], "big")) for i in (0, 4, 8))
        out = {
            "DirectoryId": did,
            "Realm": domain.upper(),
            "SAMAccountName": key,
            "SID": f"S-1-5-21-{sub}-{u['rid']}",
            "DistinguishedName": f"CN={key},{ou},{dc}",
            "UserPrincipalName": f"{key}@{domain.upper()}",
            "Enabled": u["enabled"],
        }
        if u["email"]:
            out["EmailAddress"] = u["email"]
        if u["givenName"]:
            out["GivenName"] = u["givenName"]
        if u["surname"]:
            out["Surname"] = u["surname"]
        if wanted:
            builtin = {
                "userAccountControl": 512 if u["enabled"] else 514,
                "sAMAccountName": key,
            }
            if u["pwdLastSet"] is not None:
                builtin["pwdLastSet"] = _filetime(u["pwdLastSet"])
            attrs = {}
            for name in wanted:
                match = next((k for k in u["attributes"] if k.lower() == name.lower()), None)
                if match is not None:
                    attrs[name] = _attribute_value(u["attributes"][match])
                    continue
                match = next((k for k in builtin if k.lower() == name.lower()), None)
                if match is not None:
                    attrs[name] = _attribute_value(builtin[match])
            if attrs:
                out["OtherAttributes"] = attrs
    return 200, out


# --------------------------------------------------------------------------------------------
# FinSpace Data


TEMP_PASSWORD_SYMBOLS = "!@#$%^&*()-_=+[]{}:,.?"


def temporary_password(length=16):
    """8 to 20 characters with at least one upper, lower, digit and symbol."""
    rng = secrets.SystemRandom()
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits,
             TEMP_PASSWORD_SYMBOLS]
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def _check_signer(req):
    """With requireIssuedCredentials, only unexpired keys from GetProgrammaticAccessCredentials."""
    if not STATE.fs_require_issued:
        return
    cred = STATE.fs_credentials.get(req.access_key_id or "")
    if cred is None:
        raise ApiError("AccessDeniedException",
                       "The request was not signed with FinSpace environment credentials.", 403)
    if STATE.now() >= cred["expiresAt"]:
        raise ApiError("AccessDeniedException",
                       "The FinSpace environment credentials have expired.", 403)


def finspace_reset_user_password(req, user_id):
    body = req.json_object()
    token = body.get("clientToken")
    req.note(userId=user_id, clientToken=token)
    if not 1 <= len(user_id) <= 26 or not NOT_BLANK.search(user_id):
        raise validation("userId must have length between 1 and 26.", "userId")
    if token is not None:
        if not isinstance(token, str):
            raise ApiError("SerializationException", "clientToken must be a string", 400)
        if not 1 <= len(token) <= 128 or not NOT_BLANK.search(token):
            raise validation("clientToken must have length between 1 and 128 and not be blank.",
                             "clientToken")

    with STATE.lock:
        _check_signer(req)
        u = STATE.fs_users.get(user_id)
        if u is None:
            raise ApiError("ResourceNotFoundException", f"User {user_id} was not found.", 404,
                           {"reason": "User not found"})
        now = STATE.now()
        for t in [t for t, e in STATE.fs_tokens.items()
                  if now - e["at"] >= CLIENT_TOKEN_WINDOW_SECONDS]:
            del STATE.fs_tokens[t]
        if token is not None and token in STATE.fs_tokens:
            entry = STATE.fs_tokens[token]
            if entry["userId"] != user_id:
                raise ApiError(
                    "ConflictException",
                    f"clientToken {token} was already used for another user.",
                    409,
                    {"reason": "Idempotency token reused with different parameters"},
                )
            u["replays"] += 1
            req.note(replayed=True)
            return 200, {"userId": user_id, "temporaryPassword": entry["password"]}
        password = temporary_password()
        u["resets"] += 1
        u["lastPassword"] = password
        u["signedBy"].append(req.access_key_id)
        if token is not None:
            STATE.fs_tokens[token] = {"userId": user_id, "password": password, "at": now}
        req.note(replayed=False)
    return 200, {"userId": user_id, "temporaryPassword": password}


def _random_string(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def finspace_get_credentials(req):
    envs = req.query.get("environmentId")
    if not envs or not envs[0]:
        raise validation("environmentId is required.", "environmentId")
    env = envs[0]
    req.note(environmentId=env)
    if len(env) > 26:
        raise validation("environmentId must have length between 1 and 26.", "environmentId")
    duration = DEFAULT_CREDENTIAL_MINUTES
    durations = req.query.get("durationInMinutes")
    if durations:
        try:
            duration = int(durations[0])
        except ValueError:
            raise validation("durationInMinutes must be a number.", "durationInMinutes")
        if not 1 <= duration <= 60:
            raise validation("durationInMinutes must be between 1 and 60.", "durationInMinutes")
    with STATE.lock:
        if env not in STATE.fs_environments:
            raise ApiError("ResourceNotFoundException", f"Environment {env} was not found.", 404,
                           {"reason": "Environment not found"})
        upper_digits = string.ascii_uppercase + string.digits
        akid = "ASIAENV" + _random_string(upper_digits, 13)
        while akid in STATE.fs_credentials:
            akid = "ASIAENV" + _random_string(upper_digits, 13)
        secret = _random_string(string.ascii_letters + string.digits + "+/", 40)
        session = _random_string(string.ascii_letters + string.digits + "+/", 356)
        now = STATE.now()
        STATE.fs_credentials[akid] = {
            "environmentId": env,
            "durationInMinutes": duration,
            "issuedAt": now,
            "expiresAt": now + duration * 60,
        }
    return 200, {
        "credentials": {"accessKeyId": akid, "secretAccessKey": secret, "sessionToken": session},
        "durationInMinutes": duration,
    }


# --------------------------------------------------------------------------------------------
# HTTP


class Request:
    def __init__(self, handler, body):
        self.handler = handler
        self.method = handler.command
        parts = urlsplit(handler.path)
        self.path = parts.path
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = handler.headers
        self.body = body
        self.access_key_id = None
        self.signing_name = None
        self.region = None
        auth = handler.headers.get("Authorization", "")
        m = AUTH_CREDENTIAL.search(auth)
        if m:
            self.access_key_id, _, self.region, self.signing_name = m.groups()
        self.entry = None

    def json_object(self):
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError("SerializationException", f"Malformed JSON request body: {e}", 400)
        if not isinstance(value, dict):
            raise ApiError("SerializationException", "The request body must be a JSON object",
                           400)
        return value

    def note(self, **fields):
        if self.entry is not None:
            with STATE.lock:
                self.entry.update(fields)


def route(req):
    """(service, operation, callable) for an API request, or None."""
    target = req.headers.get("X-Amz-Target")
    if req.method == "POST" and req.path == "/" and target:
        if target == DS_TARGET_PREFIX + "ResetUserPassword":
            return "directory", "ResetUserPassword", ds_reset_user_password
        return "directory", target, None
    if req.method == "POST" and req.path == "/Users/DescribeUser":
        return "dsdata", "DescribeUser", dsdata_describe_user
    m = re.match(r"^/user/([^/]+)/password$", req.path)
    if req.method == "POST" and m:
        user_id = unquote(m.group(1))
        return "finspace", "ResetUserPassword", lambda r: finspace_reset_user_password(r, user_id)
    if req.method == "GET" and req.path == "/credentials/programmatic":
        return "finspace", "GetProgrammaticAccessCredentials", finspace_get_credentials
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "resetgate-standin"
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    # -- I/O

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, payload, content_type, headers=None):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            headers = dict(headers or {})
            self.send_header("x-amzn-RequestId",
                             headers.pop("x-amzn-RequestId", None) or str(uuid.uuid4()))
            for k, v in headers.items():
                self.send_header(k, str(v))
            self.send_header("Connection", "close" if self.close_connection else "keep-alive")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. it timed out during a delay)
            self.close_connection = True

    def send_error_for(self, service, err):
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-errortype": err.code, "x-amzn-RequestId": request_id}
        headers.update(err.headers)
        if service == "directory":
            body = {"__type": err.code, "Message": err.message, "RequestId": request_id}
            body.update(err.extra)
            self.send(err.status, body, AWS_JSON, headers)
        elif service == "dsdata":
            body = {"Message": err.message}
            body.update({("Reason" if k == "reason" else k): v for k, v in err.extra.items()})
            self.send(err.status, body, REST_JSON, headers)
        elif service == "finspace":
            body = {"message": err.message}
            body.update(err.extra)
            self.send(err.status, body, REST_JSON, headers)
        else:
            body = {"error": err.code, "message": err.message}
            body.update(err.extra)
            self.send(err.status, body, REST_JSON, headers)

    # -- dispatch

    def dispatch(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(400, {"error": "BadRequest", "message": "unreadable request body"},
                      REST_JSON)
            return
        req = Request(self, body)
        try:
            if req.path.startswith("/_standin/"):
                self.control(req)
            else:
                self.api(req)
        except Dropped:
            self.close_connection = True
        except Exception as e:  # a bug in the stand-in: answer, and say so on stderr
            import traceback

            traceback.print_exc(file=sys.stderr)
            self.send(500, {"__type": "InternalFailure", "message": f"stand-in bug: {e!r}"},
                      REST_JSON, {"x-amzn-errortype": "InternalFailure"})

    def api(self, req):
        routed = route(req)
        if routed is None:
            with STATE.lock:
                STATE.calls["unknown"] += 1
            self.send_error_for(None, ApiError(
                "UnknownOperationException",
                f"No operation at {req.method} {req.path}", 404))
            return
        service, operation, handler = routed
        with STATE.lock:
            STATE.calls[f"{service}.{operation}" if handler else "unknown"] += 1
            entry = {
                "at": STATE.now(),
                "service": service,
                "operation": operation,
                "accessKeyId": req.access_key_id,
                "signingName": req.signing_name,
                "region": req.region,
                "invocationId": req.headers.get("amz-sdk-invocation-id"),
                "attempt": req.headers.get("amz-sdk-request"),
                "clientPort": self.client_address[1],
                "status": None,
                "error": None,
                "fault": False,
            }
            STATE.log.append(entry)
        req.entry = entry

        def finish(status, error=None):
            with STATE.lock:
                entry["status"] = status
                entry["error"] = error

        if handler is None:
            err = ApiError("UnknownOperationException", f"Unknown operation {operation}", 400)
            finish(err.status, err.code)
            self.send_error_for(service, err)
            return

        expected = SIGNING_NAMES[service]
        if req.signing_name is not None and req.signing_name != expected:
            err = ApiError("InvalidSignatureException",
                           f"Credential should be scoped to correct service: '{expected}'.", 403)
            finish(err.status, err.code)
            self.send_error_for(service, err)
            return

        with STATE.lock:
            fault = take_fault(service, operation)
            if fault:
                entry["fault"] = True
        failing = fault is not None and (fault["error"] is not None or fault["drop"])

        if fault and not fault["afterApply"]:
            if fault["delayMs"]:
                time.sleep(fault["delayMs"] / 1000)
            if fault["drop"]:
                finish(None, "dropped")
                raise Dropped()
            if fault["error"] is not None:
                err = fault_error(service, fault)
                finish(err.status, err.code)
                self.send_error_for(service, err)
                return

        try:
            status, payload = handler(req)
            outcome = None
        except ApiError as e:
            outcome = e

        if fault and fault["afterApply"]:
            if fault["delayMs"]:
                time.sleep(fault["delayMs"] / 1000)
            if fault["drop"]:
                finish(None, "dropped")
                raise Dropped()
            if failing:
                outcome = fault_error(service, fault)

        if outcome is not None:
            finish(outcome.status, outcome.code)
            self.send_error_for(service, outcome)
            return
        finish(status)
        self.send(status, payload, AWS_JSON if service == "directory" else REST_JSON)

    def control(self, req):
        path = req.path
        try:
            if path == "/_standin/health" and req.method == "GET":
                self.send(200, {"ok": True}, REST_JSON)
                return
            if path == "/_standin/state" and req.method == "GET":
                self.send(200, state_view(), REST_JSON)
                return
            if req.method == "POST" and path in ("/_standin/seed", "/_standin/reset",
                                                 "/_standin/faults", "/_standin/clock"):
                try:
                    body = json.loads(req.body) if req.body.strip() else {}
                except (ValueError, UnicodeDecodeError) as e:
                    raise ApiError("SerializationException", f"Malformed JSON: {e}", 400)
                if path == "/_standin/seed":
                    seed(body)
                    self.send(200, {"ok": True}, REST_JSON)
                elif path == "/_standin/reset":
                    with STATE.lock:
                        STATE.clear()
                    self.send(200, {"ok": True}, REST_JSON)
                elif path == "/_standin/faults":
                    pending = queue_faults(body)
                    self.send(200, {"ok": True, "pending": pending}, REST_JSON)
                else:
                    if not isinstance(body, dict):
                        raise ValueError("the body must be an object")
                    seconds = body.get("advanceSeconds", 0)
                    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                            or seconds < 0:
                        raise ValueError("advanceSeconds must be a number >= 0")
                    with STATE.lock:
                        STATE.clock_offset += seconds
                        offset = STATE.clock_offset
                    self.send(200, {"ok": True, "clockOffsetSeconds": offset}, REST_JSON)
                return
            raise ApiError("NotFound", f"No control endpoint {req.method} {path}", 404)
        except ValueError as e:
            self.send_error_for(None, ApiError("ValidationException", str(e), 400))
        except ApiError as e:
            self.send_error_for(None, e)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (OSError, ValueError)):
            return  # a client hung up or sent garbage: nothing to report
        super().handle_error(request, client_address)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    args = parser.parse_args(argv)

    server = Server(("127.0.0.1", args.port), Handler)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    try:
        print(f"standin listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    except OSError:
        pass
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
