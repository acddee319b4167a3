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
* Directory Service Data: restJson1. Errors: ``x-amzn-errortype`` header and
  ``{"Message", "Reason"?}``, with the model's status codes (403, 404, 400, 429, 500). Every
  operation first checks the directory: unknown -> ``AccessDeniedException`` 403; not Managed
  Microsoft AD -> ``ValidationException`` 400 ``Reason: INVALID_DIRECTORY_TYPE``; data access
  off -> ``AccessDeniedException`` 403 ``Reason: DATA_DISABLED``; unavailable ->
  ``DirectoryUnavailableException`` 400 ``Reason: INVALID_DIRECTORY_STATE``; a ``Realm`` other
  than the directory's domain -> ``ValidationException`` ``Reason: INVALID_REALM``.

  - ``DescribeUser``: ``POST /Users/DescribeUser?DirectoryId=ID``, body ``{"SAMAccountName",
    "OtherAttributes"?, "Realm"?}`` -> ``{"DirectoryId", "Realm", "SAMAccountName", "SID",
    "DistinguishedName", "UserPrincipalName", "Enabled", "EmailAddress"?, "GivenName"?,
    "Surname"?, "OtherAttributes"?}``. Unknown user (or a group's name) ->
    ``ResourceNotFoundException`` 404.
  - ``ListGroupsForMember``: ``POST /GroupMemberships/ListGroupsForMember?DirectoryId=ID``, body
    ``{"SAMAccountName", "MemberRealm"?, "Realm"?, "MaxResults"? (1-250), "NextToken"?}`` ->
    ``{"DirectoryId", "Realm", "MemberRealm", "Groups": [{"SAMAccountName", "GroupType",
    "GroupScope", "SID"}], "NextToken"?}``. The member is a user or a group; only its direct
    groups are listed (nesting is not expanded, as in AWS). A page holds MaxResults groups
    (default 250), at most the directory's ``pageSize``; a ``NextToken`` from another request
    -> ``ValidationException`` ``Reason: INVALID_NEXT_TOKEN``. Unknown member ->
    ``ResourceNotFoundException`` 404.

  Account names are matched as AD/Samba match sAMAccountName (LDAP caseIgnoreMatch with
  insignificant-space handling): case-insensitive, leading and trailing spaces ignored, runs of
  spaces collapsed; answers carry the stored (canonical) name. DescribeUser's model pattern
  ``^[\\w\\-.]+$`` is relaxed to let spaces through, so that folding can be exercised.
* Directory Service ``ResetUserPassword`` matches ``UserName`` the same way: ``"administrator "``
  resets the stored ``Administrator``, as Simple AD (Samba) does.
* Directory Service ``DescribeDirectories`` (``{"DirectoryIds"?}`` -> ``{"DirectoryDescriptions":
  [{"DirectoryId", "Name", "ShortName", "Type", "Stage", "Size", "Edition"?}]}``; an unknown id ->
  ``EntityDoesNotExistException``) and ``DescribeDirectoryDataAccess`` (``{"DirectoryId"}`` ->
  ``{"DataAccessStatus": "Enabled"|"Disabled"}`` from the seed's ``dsData``; not Managed
  Microsoft AD -> ``UnsupportedOperationException``; unknown -> ``DirectoryDoesNotExistException``),
  awsJson1_1 like ``ResetUserPassword``: what ``resetgate-cli check`` reads. ``Stage`` is the
  seed's ``stage``, else ``Impaired`` for an ``unavailable`` directory and ``Active`` otherwise.
* FinSpace (management API, signing name ``finspace``; the control key ``finspaceenv``):
  ``GetEnvironment``, ``GET /environment/{environmentId}`` -> ``{"environment": {"name",
  "environmentId", "awsAccountId", "status": "CREATED", "environmentArn", "environmentUrl",
  "federationMode"}}`` for a seeded environment, else ``ResourceNotFoundException`` 404.
* FinSpace Data (signing name ``finspace-api``): restJson1. Errors: ``x-amzn-errortype`` header
  and ``{"message", "reason"?}``.

  - ``ResetUserPassword``: ``POST /user/{userId}/password`` with body ``{"clientToken"}`` ->
    ``{"userId", "temporaryPassword"}``.
  - ``GetUser``: ``GET /user/{userId}`` -> ``{"userId", "status", "firstName"?, "lastName"?,
    "emailAddress"?, "type", "apiAccess", "apiAccessPrincipalArn"?, "createTime",
    "lastEnabledTime"?, "lastDisabledTime"?, "lastModifiedTime", "lastLoginTime"?}`` (times in
    epoch milliseconds; type ``SUPER_USER``/``APP_USER``; status
    ``CREATING``/``ENABLED``/``DISABLED``). Unknown user -> ``ResourceNotFoundException`` 404.
  - ``GetProgrammaticAccessCredentials``:
    ``GET /credentials/programmatic?environmentId=E&durationInMinutes=N`` ->
    ``{"credentials": {"accessKeyId", "secretAccessKey", "sessionToken"},
    "durationInMinutes"}``.

  With ``requireIssuedCredentials`` seeded, ResetUserPassword and GetUser accept only requests
  signed with unexpired keys issued by GetProgrammaticAccessCredentials (else
  ``AccessDeniedException`` 403).

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
import base64
import binascii
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
SIGNING_NAMES = {"directory": "ds", "dsdata": "ds-data", "finspace": "finspace-api",
                 "finspaceenv": "finspace"}

OPERATIONS = {
    ("directory", "ResetUserPassword"),
    ("directory", "DescribeDirectories"),
    ("directory", "DescribeDirectoryDataAccess"),
    ("finspaceenv", "GetEnvironment"),
    ("dsdata", "DescribeUser"),
    ("dsdata", "ListGroupsForMember"),
    ("finspace", "ResetUserPassword"),
    ("finspace", "GetUser"),
    ("finspace", "GetProgrammaticAccessCredentials"),
}

CLIENT_TOKEN_WINDOW_SECONDS = 600  # "This token expires in 10 minutes."
DEFAULT_CREDENTIAL_MINUTES = 60
LOG_LIMIT = 1000

DIRECTORY_ID = re.compile(r"^d-[0-9a-f]{10}$")
# CustomerUserName: none of \ " / [ ] : ; | = , + * ? < > @
CUSTOMER_USER_NAME_FORBIDDEN = set('\\"/[]:;|=,+*?<>@')
# DescribeUser's UserName pattern ^[\w\-.]+$, with spaces let through (see the module docstring).
SAM_ACCOUNT_NAME = re.compile(r"^[\w\-. ]+$")
# ListGroupsForMember's MemberName (and GroupName): none of : ; | = + " * ? < > / \ , [ ] @
MEMBER_NAME_FORBIDDEN = set(':;|=+"*?<>/\\,[]@')
LDAP_DISPLAY_NAME = re.compile(r"^[A-Za-z*][A-Za-z-*]*$")
NOT_BLANK = re.compile(r"\S")
AUTH_CREDENTIAL = re.compile(
    r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request"
)

DIRECTORY_KINDS = ("MicrosoftAD", "SimpleAD", "ADConnector")
DIRECTORY_STAGES = ("Requested", "Creating", "Created", "Active", "Inoperable", "Impaired",
                    "Restoring", "RestoreFailed", "Deleting", "Deleted", "Failed", "Updating")
GROUP_TYPES = ("Security", "Distribution")
GROUP_SCOPES = ("DomainLocal", "Global", "Universal", "BuiltinLocal")
DSDATA_MAX_RESULTS = 250

# Well-known relative ids: a seeded account with one of these names gets its real RID (and, for
# groups, scope) unless the seed says otherwise. BuiltinLocal groups have SIDs S-1-5-32-RID.
WELL_KNOWN_USERS = {"administrator": 500, "guest": 501, "krbtgt": 502}
WELL_KNOWN_GROUPS = {
    "domain admins": (512, "Global"),
    "domain users": (513, "Global"),
    "domain guests": (514, "Global"),
    "domain computers": (515, "Global"),
    "domain controllers": (516, "Global"),
    "schema admins": (518, "Universal"),
    "enterprise admins": (519, "Universal"),
    "group policy creator owners": (520, "Global"),
    "administrators": (544, "BuiltinLocal"),
    "users": (545, "BuiltinLocal"),
    "guests": (546, "BuiltinLocal"),
    "account operators": (548, "BuiltinLocal"),
    "server operators": (549, "BuiltinLocal"),
    "print operators": (550, "BuiltinLocal"),
    "backup operators": (551, "BuiltinLocal"),
}
WELL_KNOWN_GROUP_RIDS = {name: rid for name, (rid, _) in WELL_KNOWN_GROUPS.items()}
# Simple AD refuses resets for (transitive) members of Domain Admins and Enterprise Admins.
PROTECTED_GROUP_RIDS = {512, 519}

FS_USER_TYPES = ("SUPER_USER", "APP_USER")
FS_USER_STATUSES = ("CREATING", "ENABLED", "DISABLED")
FS_API_ACCESS = ("ENABLED", "DISABLED")
FS_PROFILE_STRINGS = ("firstName", "lastName", "emailAddress", "apiAccessPrincipalArn")
FS_PROFILE_TIMES = ("createTime", "lastEnabledTime", "lastDisabledTime", "lastModifiedTime",
                    "lastLoginTime")
FS_PROFILE_KEYS = {"type", "status", "apiAccess"} | set(FS_PROFILE_STRINGS) | set(FS_PROFILE_TIMES)


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

    {"directories": {"d-1234567890": {
         "kind": "MicrosoftAD"|"SimpleAD"|"ADConnector", "minLength": 7,
         "dsData": true,          # Directory Service Data access enabled (false: DATA_DISABLED)
         "unavailable": false, "domain": "corp.example.com", "netbios": "CORP",
         "stage": null,           # DescribeDirectories' Stage (null: Impaired if unavailable, else Active)
         "pageSize": 250,         # most groups per ListGroupsForMember page, whatever MaxResults
         "groups": {"IT Ops": {"type": "Security"|"Distribution",
                               "scope": "Global"|"DomainLocal"|"Universal"|"BuiltinLocal",
                               "rid": 1105, "memberOf": ["Domain Admins"]}},
         "users": {"alice": {"enabled": true, "admin": false, "outsideOu": false,
                             "password": null, "email": ..., "givenName": ..., "surname": ...,
                             "attributes": {}, "rid": 1106, "memberOf": ["IT Ops"]}}}},
     "finspace": {"environments": ["env-id", ...],
                  "users": ["uid", ...] | {"uid": {"type": "SUPER_USER"|"APP_USER",
                                                   "status": "ENABLED"|"DISABLED"|"CREATING",
                                                   "firstName", "lastName", "emailAddress",
                                                   "apiAccess": "ENABLED"|"DISABLED",
                                                   "apiAccessPrincipalArn",
                                                   "createTime", "lastEnabledTime",
                                                   "lastDisabledTime", "lastModifiedTime",
                                                   "lastLoginTime"}},
                  "requireIssuedCredentials": false}}

    All or nothing: an invalid seed changes nothing. Absent fields keep their current value
    (or the default for new entries). Defaults:
    kind MicrosoftAD, minLength 7, dsData true for MicrosoftAD and false otherwise, pageSize 250,
    enabled true, admin false, outsideOu false, memberOf [], group type Security, group scope
    Global. Users named Administrator/Guest/krbtgt get RIDs 500/501/502, well-known groups
    (Domain Admins 512, Enterprise Admins 519, Administrators 544 BuiltinLocal, ...) their
    RIDs and scopes; everything else the next free RID from 1104.

    Names match as sAMAccountName does (case-insensitive, spaces folded): seeding "ALICE"
    updates an existing "alice". Users and groups share one namespace per directory.
    memberOf lists name groups of the same directory (seeded before or in the same request),
    replace the previous list, and give direct membership only; groups may nest (and loop, as
    AD allows). "admin" marks a Domain/Enterprise Admins member for Simple AD's reset rule;
    membership (direct or nested) of the groups with RID 512 or 519 counts the same.

    FinSpace user defaults: type APP_USER, status ENABLED, apiAccess DISABLED, createTime and
    lastModifiedTime the seeding time, lastEnabledTime (ENABLED) or lastDisabledTime (DISABLED)
    the seeding time; times are epoch milliseconds (integers) or null.
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


def _names(value, what):
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise ValueError(f"{what} must be a list of non-empty strings")
    return value


def _new_rid(d, name, spec, well_known):
    """A new account's RID: the seeded one, the well-known one for its name, or the next."""
    if "rid" in spec:
        return _int(spec["rid"], "rid", 1, 2**32 - 1)
    rid = well_known.get(fold_name(name))
    if rid is not None:
        return rid
    rid = d["nextRid"]
    d["nextRid"] += 1
    return rid


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
                "pageSize": DSDATA_MAX_RESULTS,
                "stage": None,
                "users": {},
                "groups": {},
                "nextRid": 1104,
            }
            STATE.directories[did] = d
        if "kind" in spec:
            if spec["kind"] not in DIRECTORY_KINDS:
                raise ValueError(f"kind must be one of {', '.join(DIRECTORY_KINDS)}")
            d["kind"] = spec["kind"]
        if "minLength" in spec:
            d["minLength"] = _int(spec["minLength"], "minLength", 0, 127)
        if "pageSize" in spec:
            d["pageSize"] = _int(spec["pageSize"], "pageSize", 1, DSDATA_MAX_RESULTS)
        for key in ("dsData", "unavailable"):
            if key in spec:
                d[key] = _bool(spec[key], key)
        if "stage" in spec:
            if spec["stage"] is not None and spec["stage"] not in DIRECTORY_STAGES:
                raise ValueError(f"stage must be null or one of {', '.join(DIRECTORY_STAGES)}")
            d["stage"] = spec["stage"]
        for key in ("domain", "netbios"):
            if key in spec:
                if not isinstance(spec[key], str) or not spec[key]:
                    raise ValueError(f"{key} must be a non-empty string")
                d[key] = spec[key]

        pending = []  # (account dict, memberOf names), resolved once all groups exist
        groups = spec.get("groups", {})
        if not isinstance(groups, dict):
            raise ValueError("groups must be an object")
        for name, gspec in groups.items():
            if not isinstance(name, str) or not name.strip(" "):
                raise ValueError("group names must be non-empty strings")
            if len(name) > 64 or any(c in MEMBER_NAME_FORBIDDEN for c in name):
                raise ValueError(f"group name {name!r} is not a valid GroupName")
            if gspec is None:
                gspec = {}
            if not isinstance(gspec, dict):
                raise ValueError(f"group {name} must be an object")
            if _find_user_key(d, name) is not None:
                raise ValueError(f"{name!r} is already a user in {did}")
            key = _find_group_key(d, name) or name
            g = d["groups"].get(key)
            if g is None:
                _, scope = WELL_KNOWN_GROUPS.get(fold_name(name), (None, "Global"))
                g = {"type": "Security", "scope": scope, "memberOf": [],
                     "rid": _new_rid(d, name, gspec, WELL_KNOWN_GROUP_RIDS)}
                d["groups"][key] = g
            elif "rid" in gspec:
                g["rid"] = _int(gspec["rid"], "rid", 1, 2**32 - 1)
            if "type" in gspec:
                if gspec["type"] not in GROUP_TYPES:
                    raise ValueError(f"group type must be one of {', '.join(GROUP_TYPES)}")
                g["type"] = gspec["type"]
            if "scope" in gspec:
                if gspec["scope"] not in GROUP_SCOPES:
                    raise ValueError(f"group scope must be one of {', '.join(GROUP_SCOPES)}")
                g["scope"] = gspec["scope"]
            if "memberOf" in gspec:
                pending.append((g, _names(gspec["memberOf"], f"groups.{name}.memberOf")))

        users = spec.get("users", {})
        if not isinstance(users, dict):
            raise ValueError("users must be an object")
        for name, uspec in users.items():
            if not isinstance(name, str) or not name.strip(" "):
                raise ValueError("user names must be non-empty strings")
            if uspec is None:
                uspec = {}
            if not isinstance(uspec, dict):
                raise ValueError(f"user {name} must be an object")
            if _find_group_key(d, name) is not None:
                raise ValueError(f"{name!r} is already a group in {did}")
            key = _find_user_key(d, name) or name
            u = d["users"].get(key)
            if u is None:
                u = {
                    "enabled": True,
                    "admin": False,
                    "outsideOu": False,
                    "password": None,
                    "resets": 0,
                    "rid": _new_rid(d, name, uspec, WELL_KNOWN_USERS),
                    "pwdLastSet": None,
                    "email": None,
                    "givenName": None,
                    "surname": None,
                    "attributes": {},
                    "memberOf": [],
                }
                d["users"][key] = u
            elif "rid" in uspec:
                u["rid"] = _int(uspec["rid"], "rid", 1, 2**32 - 1)
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
            if "memberOf" in uspec:
                pending.append((u, _names(uspec["memberOf"], f"users.{name}.memberOf")))

        for account, names in pending:
            resolved = []
            for group in names:
                key = _find_group_key(d, group)
                if key is None:
                    raise ValueError(f"memberOf names {group!r}, which is not a group in {did}")
                if key not in resolved:
                    resolved.append(key)
            account["memberOf"] = resolved

    envs = finspace.get("environments", [])
    if not isinstance(envs, list) or not all(isinstance(e, str) and e for e in envs):
        raise ValueError("finspace.environments must be a list of non-empty strings")
    for env in envs:
        if len(env) > 26:
            raise ValueError(f"environment id {env!r} is longer than 26 characters")
    STATE.fs_environments.update(envs)

    fs_users = finspace.get("users", [])
    if isinstance(fs_users, list):
        if not all(isinstance(u, str) and u for u in fs_users):
            raise ValueError("finspace.users must be a list of non-empty strings or an object")
        fs_users = {uid: {} for uid in fs_users}
    if not isinstance(fs_users, dict):
        raise ValueError("finspace.users must be a list of non-empty strings or an object")
    for uid, profile in fs_users.items():
        if not uid:
            raise ValueError("FinSpace user ids must be non-empty strings")
        if len(uid) > 26:
            raise ValueError(f"FinSpace user id {uid!r} is longer than 26 characters")
        if profile is None:
            profile = {}
        if not isinstance(profile, dict):
            raise ValueError(f"FinSpace user {uid} must be an object")
        _merge_fs_user(uid, profile)
    if "requireIssuedCredentials" in finspace:
        STATE.fs_require_issued = _bool(
            finspace["requireIssuedCredentials"], "requireIssuedCredentials"
        )


def _merge_fs_user(uid, profile):
    unknown = set(profile) - FS_PROFILE_KEYS
    if unknown:
        raise ValueError(f"unknown FinSpace user fields: {', '.join(sorted(unknown))}")
    u = STATE.fs_users.get(uid)
    if u is None:
        now_ms = int(STATE.now() * 1000)
        u = {"resets": 0, "replays": 0, "lastPassword": None, "signedBy": [],
             "type": "APP_USER", "status": "ENABLED", "apiAccess": "DISABLED",
             "createTime": now_ms, "lastModifiedTime": now_ms}
        for field in FS_PROFILE_STRINGS + FS_PROFILE_TIMES:
            u.setdefault(field, None)
        status = profile.get("status", "ENABLED")
        if status == "ENABLED":
            u["lastEnabledTime"] = now_ms
        elif status == "DISABLED":
            u["lastDisabledTime"] = now_ms
        STATE.fs_users[uid] = u
    for field, allowed in (("type", FS_USER_TYPES), ("status", FS_USER_STATUSES),
                           ("apiAccess", FS_API_ACCESS)):
        if field in profile:
            if profile[field] not in allowed:
                raise ValueError(f"{field} must be one of {', '.join(allowed)}")
            u[field] = profile[field]
    for field in FS_PROFILE_STRINGS:
        if field in profile:
            if profile[field] is not None and not isinstance(profile[field], str):
                raise ValueError(f"{field} must be a string or null")
            u[field] = profile[field]
    for field in FS_PROFILE_TIMES:
        if field in profile:
            if profile[field] is not None:
                _int(profile[field], field, 0)
            u[field] = profile[field]


def state_view():
    """Everything, for assertions. Shape:

    {"directories": {id: {"kind", "minLength", "dsData", "unavailable", "domain", "netbios",
                          "pageSize",
                          "users": {name: {"enabled", "password", "resets", "admin",
                                           "outsideOu", "sid", "memberOf": [group names]}},
                          "groups": {name: {"type", "scope", "sid",
                                            "memberOf": [group names]}}}},
     "finspace": {"environments": [...], "requireIssuedCredentials": bool,
                  "users": {uid: {"resets", "replays", "lastPassword",
                                  "signedBy": [accessKeyId per applied reset],
                                  "type", "status", "apiAccess"}},
                  "credentials": {accessKeyId: {"environmentId", "durationInMinutes",
                                                "issuedAt", "expiresAt"}}},
     "calls": {"directory.ResetUserPassword": n, "dsdata.DescribeUser": n,
               "dsdata.ListGroupsForMember": n, "finspace.ResetUserPassword": n,
               "finspace.GetUser": n, "finspace.GetProgrammaticAccessCredentials": n,
               "unknown": n},           # only operations called at least once appear
     "callsByOperation": {"ResetUserPassword": n, ...},   # summed over services
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
                "pageSize": d["pageSize"],
                "users": {
                    name: {
                        "enabled": u["enabled"],
                        "password": u["password"],
                        "resets": u["resets"],
                        "admin": u["admin"],
                        "outsideOu": u["outsideOu"],
                        "sid": _sid(did, u["rid"]),
                        "memberOf": list(u["memberOf"]),
                    }
                    for name, u in d["users"].items()
                },
                "groups": {
                    name: {
                        "type": g["type"],
                        "scope": g["scope"],
                        "sid": _sid(did, g["rid"], g["scope"]),
                        "memberOf": list(g["memberOf"]),
                    }
                    for name, g in d["groups"].items()
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
                        "type": u["type"],
                        "status": u["status"],
                        "apiAccess": u["apiAccess"],
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

    {"operation": "ResetUserPassword"|"DescribeUser"|"ListGroupsForMember"|"GetUser"
                  |"GetProgrammaticAccessCredentials"|"*",   # "*": every operation
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
    awsJson services do), AccessDeniedException 403 (400 on Directory Service),
    ResourceNotFoundException 404 (not on Directory Service), ConflictException 409 (same),
    ServiceException / InternalServerException 500, ServiceUnavailableException 503, anything
    else 400. An IAM denial is {"operation": "*", "error": "AccessDeniedException"}; on
    Directory Service Data it carries "Reason": "IAM_AUTH" unless "body" gives a Reason.
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
        if not any(op in (o, "*") and (service is None or s == service) for s, o in OPERATIONS):
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
        if f["operation"] in (operation, "*") and f["service"] in (None, service):
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
        elif code == "AccessDeniedException":
            status = 400 if service == "directory" else 403
        elif code == "ResourceNotFoundException" and service != "directory":
            status = 404
        elif code == "ConflictException" and service != "directory":
            status = 409
        elif code in ("ServiceException", "InternalServerException", "InternalFailure"):
            status = 500
        elif code == "ServiceUnavailableException":
            status = 503
        else:
            status = 400
    message = fault["message"] if fault["message"] is not None else f"injected {code}"
    body = dict(fault["body"])
    if service == "dsdata" and code == "AccessDeniedException" and "Reason" not in body:
        body["Reason"] = "IAM_AUTH"
    return ApiError(code, message, status, body, dict(fault["headers"]))


# --------------------------------------------------------------------------------------------
# Directory Service: ResetUserPassword


def fold_name(name):
    """sAMAccountName as AD and Samba compare it (LDAP caseIgnoreMatch with insignificant-space
    handling): case-insensitive, leading/trailing spaces dropped, runs of spaces made one."""
    return " ".join(part for part in name.split(" ") if part).lower()


def _find_key(accounts, name):
    if name in accounts:
        return name
    folded = fold_name(name)
    if not folded:
        return None
    for key in accounts:
        if fold_name(key) == folded:
            return key
    return None


def _find_user_key(directory, name):
    """The stored name of the user ``name`` designates, or None."""
    return _find_key(directory["users"], name)


def _find_group_key(directory, name):
    """The stored name of the group ``name`` designates, or None."""
    return _find_key(directory["groups"], name)


def _domain_sid(did):
    digest = hashlib.sha256(did.encode()).digest()
    return "S-1-5-21-" + "-".join(
        str(int.from_bytes(digest[i:i + 4], "big")) for i in (0, 4, 8))


def _sid(did, rid, scope=None):
    if scope == "BuiltinLocal":
        return f"S-1-5-32-{rid}"
    return f"{_domain_sid(did)}-{rid}"


def _is_protected(directory, user):
    """Seeded "admin", or a direct or nested member of Domain Admins / Enterprise Admins."""
    if user["admin"]:
        return True
    seen = set()
    todo = list(user["memberOf"])
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        g = directory["groups"][key]
        if g["scope"] != "BuiltinLocal" and g["rid"] in PROTECTED_GROUP_RIDS:
            return True
        todo.extend(g["memberOf"])
    return False


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
        builtin_admin = fold_name(key) == "administrator" or u["rid"] == 500
        if d["kind"] == "SimpleAD" and _is_protected(d, u) and not builtin_admin:
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


def _directory_stage(d):
    if d["stage"] is not None:
        return d["stage"]
    return "Impaired" if d["unavailable"] else "Active"


def ds_describe_directories(req):
    """DescribeDirectories: the seeded directories (all of them without DirectoryIds)."""
    body = req.json_object()
    ids = body.get("DirectoryIds")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise ApiError("SerializationException", "DirectoryIds must be a list of strings", 400)
    req.note(directoryIds=ids)
    with STATE.lock:
        if ids is None:
            ids = sorted(STATE.directories)
        descriptions = []
        for did in ids:
            if not DIRECTORY_ID.match(did):
                raise validation(f"Value '{did}' at 'directoryIds' failed to satisfy constraint: "
                                 "Member must satisfy regular expression pattern: ^d-[0-9a-f]{10}$")
            d = STATE.directories.get(did)
            if d is None:
                raise ApiError("EntityDoesNotExistException", f"Directory {did} does not exist.")
            description = {
                "DirectoryId": did,
                "Name": d["domain"],
                "ShortName": d["netbios"],
                "Type": d["kind"],
                "Stage": _directory_stage(d),
                "Size": "Small",
            }
            if d["kind"] == "MicrosoftAD":
                description["Edition"] = "Standard"
            descriptions.append(description)
    return 200, {"DirectoryDescriptions": descriptions}


def ds_describe_directory_data_access(req):
    """DescribeDirectoryDataAccess: Enabled or Disabled, from the seed's dsData."""
    body = req.json_object()
    did = body.get("DirectoryId")
    req.note(directoryId=did)
    if did is None:
        raise _member_null("directoryId")
    if not isinstance(did, str) or not DIRECTORY_ID.match(did):
        raise validation(f"Value '{did}' at 'directoryId' failed to satisfy constraint: Member "
                         "must satisfy regular expression pattern: ^d-[0-9a-f]{10}$")
    with STATE.lock:
        d = STATE.directories.get(did)
        if d is None:
            raise ApiError("DirectoryDoesNotExistException", f"Directory {did} does not exist.")
        if d["kind"] != "MicrosoftAD":
            raise ApiError("UnsupportedOperationException",
                           f"Directory data access is not supported for {d['kind']} directory {did}.")
        return 200, {"DataAccessStatus": "Enabled" if d["dsData"] else "Disabled"}


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


def _dsdata_directory_id(req):
    dids = req.query.get("DirectoryId")
    if not dids or not dids[0]:
        raise validation("DirectoryId is required.")
    did = dids[0]
    if not DIRECTORY_ID.match(did):
        raise validation(f"Value '{did}' at 'DirectoryId' failed to satisfy constraint: Member "
                         "must satisfy regular expression pattern: ^d-[0-9a-f]{10}$")
    return did


def _realm(body, member):
    realm = body.get(member)
    if realm is not None and (not isinstance(realm, str) or not 1 <= len(realm) <= 255):
        raise validation(f"{member} must have length between 1 and 255.", "INVALID_REALM")
    return realm


def _dsdata_open(did, realms=()):
    """The directory, after the checks every Directory Service Data operation makes (in this
    order). Caller holds the lock."""
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
    for realm in realms:
        if realm is not None and realm.rstrip(".").lower() != d["domain"].lower():
            raise ApiError("ValidationException", f"Realm {realm} is not valid for {did}.", 400,
                           {"Reason": "INVALID_REALM"})
    return d


def dsdata_describe_user(req):
    did = _dsdata_directory_id(req)
    body = req.json_object()
    req.note(directoryId=did, userName=body.get("SAMAccountName"))
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
    realm = _realm(body, "Realm")

    with STATE.lock:
        d = _dsdata_open(did, (realm,))
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
        out = {
            "DirectoryId": did,
            "Realm": domain.upper(),
            "SAMAccountName": key,
            "SID": _sid(did, u["rid"]),
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
# Directory Service Data: ListGroupsForMember


def _page_token(did, member, offset):
    raw_token = json.dumps({"d": did, "m": fold_name(member), "o": offset}).encode()
    return base64.urlsafe_b64encode(raw_token).decode()


def _page_offset(token, did, member):
    """The offset a NextToken stands for; INVALID_NEXT_TOKEN unless this request's own."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = value["o"]
        ok = (value["d"] == did and value["m"] == fold_name(member)
              and isinstance(offset, int) and offset > 0)
    except (ValueError, TypeError, KeyError, binascii.Error):
        ok = False
    if not ok:
        raise validation("The NextToken is not valid for this request.", "INVALID_NEXT_TOKEN")
    return offset


def dsdata_list_groups_for_member(req):
    did = _dsdata_directory_id(req)
    body = req.json_object()
    sam = body.get("SAMAccountName")
    req.note(directoryId=did, userName=sam)
    if sam is None:
        raise validation("SAMAccountName is required.")
    if (not isinstance(sam, str) or not 1 <= len(sam) <= 63
            or any(c in MEMBER_NAME_FORBIDDEN for c in sam)):
        raise validation(f"Value '{sam}' at 'SAMAccountName' failed to satisfy constraint: "
                         "Member must have length between 1 and 63 and must not contain "
                         ": ; | = + \" * ? < > / \\ , [ ] @")
    max_results = body.get("MaxResults")
    if max_results is not None:
        if (isinstance(max_results, bool) or not isinstance(max_results, int)
                or not 1 <= max_results <= DSDATA_MAX_RESULTS):
            raise validation(f"Value '{max_results}' at 'MaxResults' failed to satisfy "
                             f"constraint: Member must be between 1 and {DSDATA_MAX_RESULTS}")
    token = body.get("NextToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 6144):
        raise validation("NextToken must have length between 1 and 6144.", "INVALID_NEXT_TOKEN")
    realm = _realm(body, "Realm")
    member_realm = _realm(body, "MemberRealm")
    req.note(maxResults=max_results, nextToken=token)

    with STATE.lock:
        d = _dsdata_open(did, (realm, member_realm))
        offset = _page_offset(token, did, sam) if token is not None else 0
        key = _find_user_key(d, sam)
        account = d["users"].get(key) if key is not None else None
        if account is None:
            key = _find_group_key(d, sam)
            account = d["groups"].get(key) if key is not None else None
        if account is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"Member {sam} was not found in directory {did}.",
                404,
            )
        size = min(max_results or DSDATA_MAX_RESULTS, d["pageSize"])
        names = account["memberOf"][offset:offset + size]
        groups = [
            {
                "SAMAccountName": name,
                "GroupType": d["groups"][name]["type"],
                "GroupScope": d["groups"][name]["scope"],
                "SID": _sid(did, d["groups"][name]["rid"], d["groups"][name]["scope"]),
            }
            for name in names
        ]
        out = {
            "DirectoryId": did,
            "Realm": d["domain"].upper(),
            "MemberRealm": d["domain"].upper(),
            "Groups": groups,
        }
        if offset + size < len(account["memberOf"]):
            out["NextToken"] = _page_token(did, sam, offset + size)
        req.note(page=len(groups), more="NextToken" in out)
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
    """With requireIssuedCredentials, only unexpired keys from GetProgrammaticAccessCredentials
    (ResetUserPassword and GetUser)."""
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


def finspace_get_user(req, user_id):
    req.note(userId=user_id)
    if not 1 <= len(user_id) <= 26 or not NOT_BLANK.search(user_id):
        raise validation("userId must have length between 1 and 26.", "userId")
    with STATE.lock:
        _check_signer(req)
        u = STATE.fs_users.get(user_id)
        if u is None:
            raise ApiError("ResourceNotFoundException", f"User {user_id} was not found.", 404,
                           {"reason": "User not found"})
        out = {"userId": user_id, "status": u["status"], "type": u["type"],
               "apiAccess": u["apiAccess"]}
        for field in FS_PROFILE_STRINGS + FS_PROFILE_TIMES:
            if u[field] is not None:
                out[field] = u[field]
    return 200, out


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


def finspace_get_environment(req, environment_id):
    """FinSpace's management API: GetEnvironment of a seeded environment."""
    req.note(environmentId=environment_id)
    if not 1 <= len(environment_id) <= 26:
        raise validation("environmentId must have length between 1 and 26.", "environmentId")
    with STATE.lock:
        if environment_id not in STATE.fs_environments:
            raise ApiError("ResourceNotFoundException",
                           f"Environment {environment_id} was not found.", 404)
    return 200, {"environment": {
        "name": environment_id,
        "environmentId": environment_id,
        "awsAccountId": "123456789012",
        "status": "CREATED",
        "environmentArn": f"arn:aws:finspace:us-east-1:123456789012:environment/{environment_id}",
        "environmentUrl": f"https://{environment_id}.us-east-1.amazonfinspace.com",
        "federationMode": "LOCAL",
    }}


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
        if target == DS_TARGET_PREFIX + "DescribeDirectories":
            return "directory", "DescribeDirectories", ds_describe_directories
        if target == DS_TARGET_PREFIX + "DescribeDirectoryDataAccess":
            return "directory", "DescribeDirectoryDataAccess", ds_describe_directory_data_access
        return "directory", target, None
    if req.method == "POST" and req.path == "/Users/DescribeUser":
        return "dsdata", "DescribeUser", dsdata_describe_user
    if req.method == "POST" and req.path == "/GroupMemberships/ListGroupsForMember":
        return "dsdata", "ListGroupsForMember", dsdata_list_groups_for_member
    m = re.match(r"^/user/([^/]+)/password$", req.path)
    if req.method == "POST" and m:
        user_id = unquote(m.group(1))
        return "finspace", "ResetUserPassword", lambda r: finspace_reset_user_password(r, user_id)
    m = re.match(r"^/user/([^/]+)$", req.path)
    if req.method == "GET" and m:
        user_id = unquote(m.group(1))
        return "finspace", "GetUser", lambda r: finspace_get_user(r, user_id)
    if req.method == "GET" and req.path == "/credentials/programmatic":
        return "finspace", "GetProgrammaticAccessCredentials", finspace_get_credentials
    m = re.match(r"^/environment/([^/]+)$", req.path)
    if req.method == "GET" and m:
        environment_id = unquote(m.group(1))
        return "finspaceenv", "GetEnvironment", lambda r: finspace_get_environment(r, environment_id)
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
        elif service in ("finspace", "finspaceenv"):
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
