#!/usr/bin/env python3
"""Checks what template.yaml deploys, on the template after the SAM transform.

    scripts/check_template.py TRANSLATED.json

scripts/lint-template.sh produces the translated template (plain CloudFormation, JSON; the
Fn::ForEach loops of AWS::LanguageExtensions are left in place, and their bodies are checked
as resources) and runs this on it. One line per check, `ok` or `FAIL`; the exit status is 1
if any check fails, 2 if the file cannot be read.

Checks:
  - the alarms: function errors and throttles, authorization failures, the HTTP API's 5xx and
    4xx on its stage; every alarm notifies AlarmTopicArn (when set) and treats missing data as
    not breaching;
  - the function's LoggingConfig: SystemLogLevel INFO (START and REPORT lines), application
    level INFO (audit lines), JSON;
  - every secretsmanager:GetSecretValue grant names a secret (no `*`): a secret resource, or
    a list parameter (or an element of one) whose AllowedPattern admits only whole secret ARNs;
  - no `Resource: "*"` in the function role's policies, except for xray:PutTraceSegments and
    xray:PutTelemetryRecords, which have no resource-level permissions;
  - exactly one of RESETGATE_CONFIG and RESETGATE_CONFIG_FILE for either value of
    ResetgateConfig, with the configuration layer attached for the file;
  - ReservedConcurrency defaults to no reservation, and PermissionsBoundary is applied to the
    role only when set.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from typing import Any, Callable, Iterator

NO_VALUE = {"Ref": "AWS::NoValue"}
ALARM_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], NO_VALUE]}
# Actions that support no resource-level permissions: `Resource: "*"` is the only way to grant
# them (Service Authorization Reference, AWS X-Ray).
WILDCARD_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
CONFIG_FILE_PATH = "/opt/resetgate.json"


class Template:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.parameters: dict[str, Any] = document.get("Parameters", {})
        self.conditions: dict[str, Any] = document.get("Conditions", {})
        self.resources: dict[str, dict[str, Any]] = {}
        # A loop's identifier -> the collection it runs over (e.g. {"Ref": "SomeListParameter"}).
        self.loop_variables: dict[str, Any] = {}
        for key, value in document.get("Resources", {}).items():
            if key.startswith("Fn::ForEach::"):
                # [identifier, collection, {logical id template: resource}]: check the bodies.
                self.loop_variables[value[0]] = value[1]
                for body_id, body in value[2].items():
                    self.resources[f"{key}/{body_id}"] = body
            else:
                self.resources[key] = value

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    def defaults(self, **overrides: Any) -> dict[str, Any]:
        values = {name: p.get("Default") for name, p in self.parameters.items()}
        values.update(overrides)
        return values

    # ---- a small evaluator for conditions and Fn::If, enough for this template ----------------
    def condition(self, name: str, params: dict[str, Any]) -> bool:
        return bool(self.evaluate(self.conditions[name], params))

    def evaluate(self, node: Any, params: dict[str, Any]) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref" and arg in params:
                value = params[arg]
                if self.parameters[arg].get("Type") == "CommaDelimitedList":
                    return [] if value in (None, "") else str(value).split(",")
                return "" if value is None else str(value)
            if key == "Condition":
                return self.condition(arg, params)
            if key == "Fn::Not":
                return not self.evaluate(arg[0], params)
            if key == "Fn::And":
                return all(self.evaluate(a, params) for a in arg)
            if key == "Fn::Or":
                return any(self.evaluate(a, params) for a in arg)
            if key == "Fn::Equals":
                return self.evaluate(arg[0], params) == self.evaluate(arg[1], params)
            if key == "Fn::Join":
                parts = self.evaluate(arg[1], params)
                return arg[0].join(str(self.evaluate(p, params)) for p in parts)
        return node

    def resolve_ifs(self, node: Any, params: dict[str, Any]) -> Any:
        """The value CloudFormation would see: Fn::If taken, AWS::NoValue dropped."""
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return self.resolve_ifs(yes if self.condition(name, params) else no, params)
            out = {}
            for key, value in node.items():
                value = self.resolve_ifs(value, params)
                if value != NO_VALUE:
                    out[key] = value
            return out
        if isinstance(node, list):
            return [v for v in (self.resolve_ifs(v, params) for v in node) if v != NO_VALUE]
        return node


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def branches(node: Any) -> Iterator[Any]:
    """Every value a possibly conditional node can take (both sides of each Fn::If)."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        for side in node["Fn::If"][1:]:
            yield from branches(side)
    elif node != NO_VALUE:
        yield node


def statements(document: Any) -> Iterator[dict[str, Any]]:
    for doc in branches(document):
        for statement in branches(doc.get("Statement", [])):
            for s in as_list(statement):
                yield from branches(s)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def targets_role(role_property: Any, role_id: str) -> bool:
    return any(r in (ref(role_id), role_id) for r in as_list(role_property))


def inline_policies(role_id: str, role: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for policies in branches(role.get("Properties", {}).get("Policies", [])):
        for policy in as_list(policies):
            for p in branches(policy):
                yield f"{role_id} {p.get('PolicyName')}", p["PolicyDocument"]


POLICY_TYPES = ("AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def all_policies(t: Template) -> Iterator[tuple[str, Any]]:
    """(where, policy document) of every identity policy in the template."""
    for rid, res in t.resources.items():
        if res.get("Type") == "AWS::IAM::Role":
            yield from inline_policies(rid, res)
        elif res.get("Type") in POLICY_TYPES:
            yield rid, res["Properties"]["PolicyDocument"]


def role_policies(t: Template, role_id: str) -> Iterator[tuple[str, Any]]:
    """(where, policy document) of every policy the role gets from this template."""
    yield from inline_policies(role_id, t.resources[role_id])
    for rid, res in t.resources.items():
        props = res.get("Properties", {})
        kind = res.get("Type")
        if kind == "AWS::IAM::RolePolicy" and targets_role(props.get("RoleName"), role_id):
            yield rid, props["PolicyDocument"]
        elif kind in POLICY_TYPES[1:] and targets_role(props.get("Roles", []), role_id):
            yield rid, props["PolicyDocument"]


def actions_match(actions: list[Any], wanted: str) -> bool:
    wanted = wanted.lower()
    return any(isinstance(a, str) and fnmatch.fnmatchcase(wanted, a.lower()) for a in actions)


# ---- the checks ------------------------------------------------------------------------------
def the_function(t: Template) -> tuple[str, dict[str, Any]]:
    functions = t.of_type("AWS::Lambda::Function")
    if len(functions) != 1:
        raise AssertionError(f"expected one AWS::Lambda::Function, found {sorted(functions)}")
    return next(iter(functions.items()))


def the_api_stage(t: Template) -> tuple[str, str]:
    apis = t.of_type("AWS::ApiGatewayV2::Api")
    if len(apis) != 1:
        raise AssertionError(f"expected one AWS::ApiGatewayV2::Api, found {sorted(apis)}")
    api_id = next(iter(apis))
    stages = [
        s["Properties"]["StageName"]
        for s in t.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"].get("ApiId") == ref(api_id)
    ]
    if len(stages) != 1:
        raise AssertionError(f"expected one stage of {api_id}, found {stages}")
    return api_id, stages[0]


def check_alarms(t: Template) -> list[str]:
    function_id, _ = the_function(t)
    api_id, stage = the_api_stage(t)
    alarms = t.of_type("AWS::CloudWatch::Alarm")
    expected = {
        "function errors": ("AWS/Lambda", "Errors", {"FunctionName": ref(function_id)}),
        "function throttles": ("AWS/Lambda", "Throttles", {"FunctionName": ref(function_id)}),
        "authorization failures": ("resetgate", "AuthzFailures", {}),
        "API 5xx": ("AWS/ApiGateway", "5xx", {"ApiId": ref(api_id), "Stage": stage}),
        "API 4xx": ("AWS/ApiGateway", "4xx", {"ApiId": ref(api_id), "Stage": stage}),
    }
    problems = []
    found = {}
    for what, (namespace, metric, dimensions) in expected.items():
        matches = [
            aid
            for aid, alarm in alarms.items()
            if alarm["Properties"].get("Namespace") == namespace
            and alarm["Properties"].get("MetricName") == metric
            and {d["Name"]: d["Value"] for d in alarm["Properties"].get("Dimensions", [])}
            == dimensions
        ]
        if len(matches) != 1:
            dims = ", ".join(f"{k}={json.dumps(v)}" for k, v in dimensions.items()) or "none"
            problems.append(
                f"{what}: expected one alarm on {namespace} {metric} ({dims}), found {matches}"
            )
        else:
            found[what] = matches[0]
    # The authorization-failure metric must come from the function's own log group.
    _, function = the_function(t)
    log_group = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
    filters = [
        f["Properties"].get("LogGroupName")
        for f in t.of_type("AWS::Logs::MetricFilter").values()
        if any(
            m.get("MetricNamespace") == "resetgate" and m.get("MetricName") == "AuthzFailures"
            for m in f["Properties"].get("MetricTransformations", [])
        )
    ]
    if filters != [log_group]:
        problems.append(
            f"resetgate/AuthzFailures: expected one metric filter on the function's log group"
            f" {json.dumps(log_group)}, found filters on {json.dumps(filters)}"
        )
    for aid, alarm in sorted(alarms.items()):
        props = alarm["Properties"]
        for key in ("AlarmActions", "OKActions"):
            if props.get(key) != ALARM_ACTIONS:
                problems.append(
                    f"{aid}: {key} is {json.dumps(props.get(key))},"
                    " not [AlarmTopicArn] under HasAlarmTopic"
                )
        if props.get("TreatMissingData") != "notBreaching":
            problems.append(
                f"{aid}: TreatMissingData is {props.get('TreatMissingData')!r}, not notBreaching"
            )
    if problems:
        return problems
    print(
        "ok: alarms: "
        + ", ".join(f"{what} ({aid})" for what, aid in found.items())
        + f"; API alarms on ApiId={api_id} Stage={stage}; all {len(alarms)} alarms notify"
        " AlarmTopicArn and treat missing data as not breaching"
    )
    return []


def check_log_levels(t: Template) -> list[str]:
    function_id, function = the_function(t)
    logging = function["Properties"].get("LoggingConfig", {})
    wanted = {"SystemLogLevel": "INFO", "ApplicationLogLevel": "INFO", "LogFormat": "JSON"}
    problems = [
        f"{function_id}: LoggingConfig.{key} is {logging.get(key)!r}, not {value!r}"
        for key, value in wanted.items()
        if logging.get(key) != value
    ]
    if not problems:
        print(
            f"ok: {function_id} logs JSON with SystemLogLevel INFO (START and REPORT lines)"
            " and ApplicationLogLevel INFO (audit lines)"
        )
    return problems


# ARNs a secret grant must never match through a list parameter's AllowedPattern: wildcards,
# another service's ARN, a partial ARN.
NOT_A_SECRET_ARN = [
    "*",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:a?c",
    "arn:aws:secretsmanager:*:*:secret:x",
    "arn:aws:s3:::bucket",
    "x",
]
A_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:resetgate/recovery-AbC123"


def names_a_secret(t: Template, resource: Any) -> bool:
    if isinstance(resource, dict) and set(resource) == {"Ref"}:
        name = resource["Ref"]
        collection = t.loop_variables.get(name)
        if isinstance(collection, dict) and set(collection) == {"Ref"}:
            name = collection["Ref"]
        if t.parameters.get(name, {}).get("Type") == "CommaDelimitedList":
            # A list parameter (or an element of one): its AllowedPattern, which CloudFormation
            # applies to each element, must admit secret ARNs and nothing wider.
            pattern = t.parameters[name].get("AllowedPattern")
            if not pattern:
                return False
            return re.fullmatch(pattern, A_SECRET_ARN) is not None and not any(
                re.fullmatch(pattern, bad) for bad in NOT_A_SECRET_ARN
            )
        target = t.resources.get(name)
        return bool(target) and target.get("Type") == "AWS::SecretsManager::Secret"
    if isinstance(resource, dict) and set(resource) == {"Fn::Sub"}:
        resource = as_list(resource["Fn::Sub"])[0]
    return isinstance(resource, str) and ":secret:" in resource and "*" not in resource


def check_secret_grants(t: Template) -> list[str]:
    action = "secretsmanager:GetSecretValue"
    problems = []
    grants = []
    for where, document in all_policies(t):
        for s in statements(document):
            sid = f"{where} {s.get('Sid')}"
            if s.get("Effect") != "Allow":
                continue
            if "NotAction" in s:
                problems.append(f"{sid}: NotAction may grant {action}")
                continue
            if not actions_match(as_list(s.get("Action", [])), action):
                continue
            resources = [r for r in branches(s.get("Resource")) for r in as_list(r)]
            bad = [r for r in resources if not names_a_secret(t, r)]
            if "NotResource" in s or not resources or bad:
                on = json.dumps(bad or s.get("NotResource"))
                problems.append(f"{sid}: {action} on {on}, not a named secret")
            else:
                grants.append(f"{sid} on {json.dumps(resources)}")
    _, function = the_function(t)
    variables = function["Properties"].get("Environment", {}).get("Variables", {})
    key_arn = json.dumps(variables.get("RESETGATE_HMAC_KEY_SECRET_ARN"))
    if not any(key_arn in g for g in grants):
        problems.append(f"no {action} grant on RESETGATE_HMAC_KEY_SECRET_ARN's secret ({key_arn})")
    if not problems:
        print(f"ok: every {action} grant names its secret: {'; '.join(grants)}")
    return problems


def check_no_wildcard_resources(t: Template) -> list[str]:
    function_id, function = the_function(t)
    role = function["Properties"].get("Role")
    if not (isinstance(role, dict) and "Fn::GetAtt" in role and role["Fn::GetAtt"][1] == "Arn"):
        return [f"{function_id}: Role is {json.dumps(role)}, not a role of this template"]
    role_id = role["Fn::GetAtt"][0]
    problems = []
    managed = t.resources[role_id]["Properties"].get("ManagedPolicyArns")
    if managed:
        problems.append(f"{role_id}: managed policies {json.dumps(managed)}: it should have none")
    count = 0
    for where, document in role_policies(t, role_id):
        for s in statements(document):
            if s.get("Effect") != "Allow":
                continue
            count += 1
            sid = s.get("Sid")
            if "NotResource" in s:
                problems.append(f"{where} {sid}: NotResource")
                continue
            resources = [r for r in branches(s.get("Resource")) for r in as_list(r)]
            if any(r == "*" or r == {"Fn::Sub": "*"} for r in resources):
                actions = as_list(s.get("Action", []))
                if "NotAction" in s or not set(actions) <= WILDCARD_RESOURCE_ACTIONS:
                    what = json.dumps(s.get("Action", s.get("NotAction")))
                    problems.append(f'{where} {sid}: Resource "*" for {what}')
    if not problems:
        print(
            f"ok: no Resource \"*\" in {role_id}'s {count} Allow statements"
            " (outside xray:PutTraceSegments and xray:PutTelemetryRecords)"
        )
    return problems


def check_configuration_source(t: Template) -> list[str]:
    function_id, function = the_function(t)
    layers = t.of_type("AWS::Lambda::LayerVersion")
    problems = []
    for label, overrides in (
        ("ResetgateConfig empty", {"ResetgateConfig": ""}),
        ("ResetgateConfig inline", {"ResetgateConfig": '{"targets":[]}'}),
    ):
        params = t.defaults(**overrides)
        props = t.resolve_ifs(function["Properties"], params)
        env = props.get("Environment", {}).get("Variables", {})
        inline = "RESETGATE_CONFIG" in env
        has_file = "RESETGATE_CONFIG_FILE" in env
        attached = [
            lid
            for lid, res in layers.items()
            if ref(lid) in props.get("Layers", [])
            and (not res.get("Condition") or t.condition(res["Condition"], params))
        ]
        if inline == has_file:
            problems.append(
                f"{label}: RESETGATE_CONFIG set {inline}, RESETGATE_CONFIG_FILE set {has_file}:"
                " exactly one must be"
            )
        elif has_file and (env["RESETGATE_CONFIG_FILE"] != CONFIG_FILE_PATH or len(attached) != 1):
            problems.append(
                f"{label}: RESETGATE_CONFIG_FILE={env['RESETGATE_CONFIG_FILE']!r} with layers"
                f" {attached}: expected {CONFIG_FILE_PATH} from one configuration layer"
            )
        elif inline and (
            env["RESETGATE_CONFIG"] != ref("ResetgateConfig") or overrides["ResetgateConfig"] == ""
        ):
            value = json.dumps(env["RESETGATE_CONFIG"])
            problems.append(f"{label}: RESETGATE_CONFIG is {value}, not ResetgateConfig (non-empty)")
    if t.parameters.get("ResetgateConfig", {}).get("Default") != "":
        problems.append("ResetgateConfig does not default to empty (the configuration file)")
    if not problems:
        print(
            f"ok: {function_id} gets exactly one configuration: RESETGATE_CONFIG_FILE="
            f"{CONFIG_FILE_PATH} from layer {', '.join(layers)} when ResetgateConfig is empty"
            " (the default), RESETGATE_CONFIG otherwise"
        )
    return problems


def check_concurrency_and_boundary(t: Template) -> list[str]:
    function_id, function = the_function(t)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = t.resources[role_id]
    problems = []
    defaults = t.defaults()
    if "ReservedConcurrentExecutions" in t.resolve_ifs(function["Properties"], defaults):
        problems.append(f"{function_id}: reserves concurrency with the default parameters")
    with_boundary = t.defaults(PermissionsBoundary="arn:aws:iam::123456789012:policy/boundary")
    if "PermissionsBoundary" in t.resolve_ifs(role["Properties"], defaults):
        problems.append(f"{role_id}: a permissions boundary with PermissionsBoundary empty")
    boundary = t.resolve_ifs(role["Properties"], with_boundary).get("PermissionsBoundary")
    if boundary != ref("PermissionsBoundary"):
        problems.append(f"{role_id}: PermissionsBoundary parameter not applied to the role")
    if not problems:
        print(
            "ok: no reserved concurrency by default"
            f" (ReservedConcurrency={defaults.get('ReservedConcurrency')});"
            f" {role_id} gets PermissionsBoundary only when it is set"
        )
    return problems


CHECKS: list[tuple[str, Callable[[Template], list[str]]]] = [
    ("alarms", check_alarms),
    ("log levels", check_log_levels),
    ("secret grants", check_secret_grants),
    ("wildcard resources", check_no_wildcard_resources),
    ("configuration source", check_configuration_source),
    ("concurrency and boundary", check_concurrency_and_boundary),
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            template = Template(json.load(f))
    except (OSError, ValueError) as error:
        print(f"check_template: cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    failed = 0
    for name, check in CHECKS:
        try:
            problems = check(template)
        except (AssertionError, KeyError, TypeError, IndexError) as error:
            problems = [f"cannot check: {type(error).__name__}: {error}"]
        for problem in problems:
            print(f"FAIL: {name}: {problem}")
        failed += bool(problems)
    if failed:
        print(f"check_template: {failed} of {len(CHECKS)} checks failed")
        return 1
    print(f"check_template: all {len(CHECKS)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
