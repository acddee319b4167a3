#!/usr/bin/env python3
"""JSON helpers for scripts/demo.sh (run with the venv's python3).

    demo_report.py free-ports N
        Prints N distinct free TCP ports on 127.0.0.1, one a line.
    demo_report.py json-get FILE KEY[.KEY...]
        Prints one string value of a JSON document (e.g. seed output's userPoolId).
    demo_report.py render-config TEMPLATE OUT NAME=VALUE...
        Replaces ${NAME} placeholders in TEMPLATE's string values, refuses leftovers, writes OUT.
    demo_report.py run --scenarios F --events-dir D --log F --port P [--function N] [--timeout S]
                       [--record FILE] [--audit-wait S]
        Invokes every scenario with `cargo lambda invoke`, prints one table row per scenario and
        the audit line(s) the function logged for it; exits 1 if any status or problem code differs
        from the expectation or the audit check below fails, 2 if the function could not be
        invoked at all. With --record, writes FILE: a JSON array with, per scenario answered, the
        request's method and path (from the event) and the proxy response's status, headers and
        body (parsed JSON, and as text; a returned password replaced by "[redacted]"), for
        tests/support/openapi_check.py.
    demo_report.py check-audit --scenarios F --events-dir D --log F [--record FILE]
        The audit check alone, on the log of a finished run (every scenario taken as answered;
        with --record, a recording of that run gives the problem bodies' requestIds). Not after
        a RESETGATE_DEMO_HOLD command: its requests' audit lines would count as left-overs.

The audit check: every answered invocation logged exactly one audit line (a JSON line with
"audit": true) and no audit line is left over. A line belongs to the invocation whose event's
API Gateway request id (requestContext.requestId) is the line's apiRequestId, or whose answer,
a problem, carries the line's Lambda requestId; when the answer carries a requestId, the line's
must be that one. No two audit lines share a Lambda requestId. Lines that land after the answer
are waited for (--audit-wait seconds, 3 by default) before the check.
"""

import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time

PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")
AUDIT_RAW = re.compile(r'"audit"\s*:\s*true')


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def json_get(path: str, dotted: str) -> str:
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    for key in dotted.split("."):
        value = value[key]
    if not isinstance(value, str):
        raise SystemExit(f"demo_report: {dotted} in {path} is not a string")
    return value


def render_config(template: str, out: str, assignments: list[str]) -> None:
    values = dict(a.split("=", 1) for a in assignments)

    def substitute(node):
        if isinstance(node, str):
            return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), node)
        if isinstance(node, list):
            return [substitute(x) for x in node]
        if isinstance(node, dict):
            return {k: substitute(v) for k, v in node.items()}
        return node

    with open(template, encoding="utf-8") as f:
        rendered = substitute(json.load(f))
    left = sorted(set(PLACEHOLDER.findall(json.dumps(rendered))))
    if left:
        raise SystemExit(f"demo_report: {template}: no value for {', '.join(left)}")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rendered, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)


# ---- running the scenarios ------------------------------------------------------------------


def read_from(path: str, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def read_lines_from(path: str, offset: int) -> list[tuple[int, str]]:
    """The log's complete lines from byte `offset` on, each with the byte offset it starts at."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return []
    lines, position = [], offset
    *complete, _partial = data.split(b"\n")  # a line still being written is left for later
    for raw in complete:
        lines.append((position, raw.decode("utf-8", "replace")))
        position += len(raw) + 1
    return lines


def audit_records(lines: list[tuple[int, str]]) -> list[dict]:
    """Audit records among the function's log lines (`"audit": true`, at the top level or in
    `fields`, whichever way the JSON formatter nests event fields). Each is a dict: `line` as
    logged, `offset` (where it starts in the log), `record` (the parsed JSON, None if the line
    is not JSON), `duplicates` (keys that occur more than once: a JSON reader keeps only one),
    and `requestId` / `apiRequestId` (Lambda's and API Gateway's request ids, None if absent)."""
    found = []
    for offset, line in lines:
        line = line.strip()
        if not AUDIT_RAW.search(line):
            continue
        duplicates = []

        def pairs(items):
            seen = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
            return dict(items)

        try:
            record = json.loads(line[line.index("{"):], object_pairs_hook=pairs)
        except ValueError:
            record = None
        if record is not None and not isinstance(record, dict):
            record = None
        if record is not None and audit_field(record, "audit") is not True:
            continue
        found.append({
            "line": line,
            "offset": offset,
            "record": record,
            "duplicates": sorted(set(duplicates)),
            "requestId": audit_field(record, "requestId"),
            "apiRequestId": audit_field(record, "apiRequestId"),
        })
    return found


def audit_field(record, key: str):
    """A field of a JSON log line: at the top level, or in `fields` (some formatters nest the
    event's fields there)."""
    if not isinstance(record, dict):
        return None
    if key in record:
        return record[key]
    fields = record.get("fields")
    return fields.get(key) if isinstance(fields, dict) else None


def event_api_request_id(event_path: str):
    """The API Gateway request id of an event (requestContext.requestId, payload 2.0, 1.0 and
    REST alike), which the function logs as the audit line's apiRequestId; None if absent."""
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        return None
    context = event.get("requestContext") if isinstance(event, dict) else None
    value = context.get("requestId") if isinstance(context, dict) else None
    return value if isinstance(value, str) and value else None


def invocation(event: str, api_request_id=None, answered=True, body=None, start=0, end=None) -> dict:
    """What the audit check knows of one invocation: the event, its API Gateway request id, whether
    the function answered, the Lambda requestId its answer carries (`body`: the problem body of
    an error answer; not a success body, which may be a replay of another invocation's) and the
    part of the log written while it ran ([start, end) bytes; end None: to the end)."""
    request_id = body.get("requestId") if isinstance(body, dict) else None
    return {
        "event": event,
        "apiRequestId": api_request_id,
        "answered": answered,
        "requestId": request_id if isinstance(request_id, str) and request_id else None,
        "start": start,
        "end": end,
    }


def belongs_to(audit: dict, inv: dict, known_api_ids: set) -> bool:
    """Whether an audit line is the invocation's (see the module's docstring). An event without
    an API Gateway request id, whose answer carries no requestId either, is matched by the part
    of the log written while it ran, to lines naming no other event."""
    if inv["apiRequestId"] is not None and audit["apiRequestId"] == inv["apiRequestId"]:
        return True
    if inv["requestId"] is not None and audit["requestId"] == inv["requestId"]:
        return True
    if inv["apiRequestId"] is None and inv["requestId"] is None:
        in_window = audit["offset"] >= inv["start"] and (
            inv["end"] is None or audit["offset"] < inv["end"])
        return in_window and audit["apiRequestId"] not in known_api_ids
    return False


def match_audits(invocations: list[dict], audits: list[dict]) -> list[list[dict]]:
    """Per invocation, the audit lines that belong to it."""
    known = {inv["apiRequestId"] for inv in invocations if inv["apiRequestId"] is not None}
    return [[a for a in audits if belongs_to(a, inv, known)] for inv in invocations]


def audit_problems(invocations: list[dict], audits: list[dict]) -> list[str]:
    """Everything wrong with the audit lines of a run; empty when every answered invocation
    logged exactly one audit line, of its own requestId, and no audit line is left over."""
    problems = []
    matches = match_audits(invocations, audits)
    for inv, found in zip(invocations, matches):
        if not inv["answered"]:
            continue  # the scenario already fails; its lines, if any, are not left-overs
        label = inv["event"] + (f" (API request id {inv['apiRequestId']})" if inv["apiRequestId"] else "")
        if not found:
            problems.append(f"{label}: no audit line logged")
        elif len(found) > 1:
            ids = ", ".join(str(a["requestId"]) for a in found)
            problems.append(f"{label}: {len(found)} audit lines logged, expected exactly 1 (requestIds: {ids})")
        elif inv["requestId"] is not None and found[0]["requestId"] != inv["requestId"]:
            problems.append(
                f"{label}: the audit line's requestId is {found[0]['requestId']!r}, "
                f"the answer's is {inv['requestId']!r}")
    claimed = {id(a) for found in matches for a in found}
    for audit in audits:
        if id(audit) in claimed:
            continue
        if audit["record"] is None:
            problems.append(f"an audit line that is not a JSON object: {audit['line'][:200]}")
        else:
            problems.append(
                f"an audit line of no invoked event (requestId {audit['requestId']!r}, "
                f"apiRequestId {audit['apiRequestId']!r}): {audit['line'][:200]}")
    by_request_id = {}
    for audit in audits:
        if audit["requestId"] is not None:
            by_request_id.setdefault(audit["requestId"], []).append(audit)
    for request_id, same in by_request_id.items():
        if len(same) > 1:
            problems.append(f"{len(same)} audit lines share the Lambda requestId {request_id}")
    return problems


def wait_for_audits(log: str, offset: int, invocations: list[dict], seconds: float) -> list[dict]:
    """The audit lines logged from `offset` on, once every answered invocation has at least one
    (or `seconds` have passed): a line may land a moment after its answer."""
    deadline = time.monotonic() + seconds
    while True:
        audits = audit_records(read_lines_from(log, offset))
        matches = match_audits(invocations, audits)
        if all(found for inv, found in zip(invocations, matches) if inv["answered"]):
            return audits
        if time.monotonic() > deadline:
            return audits
        time.sleep(0.05)


def parse_proxy_response(stdout: str):
    """(status, problem code, parsed body, proxy response) of an API Gateway proxy response
    printed by invoke; the proxy response's body is decoded from base64 where it was encoded."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON in the invoke output")
    response, _ = json.JSONDecoder().raw_decode(stdout[start:])
    if not isinstance(response, dict) or "statusCode" not in response:
        raise ValueError("not an API Gateway proxy response (no statusCode)")
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    code = None
    try:
        parsed = json.loads(body) if body else None
        if isinstance(parsed, dict):
            code = parsed.get("code")
    except ValueError:
        parsed = None
    response = dict(response, body=body, isBase64Encoded=False)
    return int(response["statusCode"]), code, parsed, response


def event_request(event_path: str):
    """(method, path) of the HTTP request an API Gateway event stands for: payload 2.0's
    requestContext.http.method and rawPath, or payload 1.0's / REST's httpMethod and path (the
    resource path, without a REST stage). (None, None) for an event of another shape."""
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        return None, None
    if not isinstance(event, dict):
        return None, None
    http = (event.get("requestContext") or {}).get("http") or {}
    if event.get("version") == "2.0" or "rawPath" in event:
        return http.get("method"), event.get("rawPath") or http.get("path")
    return event.get("httpMethod"), event.get("path")


def redact_secrets(value):
    """A body with its non-empty password members replaced by a placeholder of the same type, so
    a recording keeps its shape (for the schema checks) but no password."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if k in ("password", "temporaryPassword") and isinstance(v, str) and v
            else redact_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def recorded_exchange(event: str, event_path: str, response: dict, parsed) -> dict:
    """One exchange for --record: the request line from the event, the response as sent (less
    any password it delivered)."""
    method, path = event_request(event_path)
    headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if isinstance(values, list) and str(name).lower() not in headers:
            headers[str(name).lower()] = ",".join(str(v) for v in values)
    body_text = response.get("body") or ""
    if parsed is not None:
        parsed = redact_secrets(parsed)
        body_text = json.dumps(parsed)
    return {
        "event": event,
        "method": method,
        "path": path,
        "status": int(response["statusCode"]),
        "headers": headers,
        "body": parsed,
        "bodyText": body_text,
    }


def write_record(path: str, exchanges: list) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(exchanges, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def secrets_in(body) -> list[str]:
    """Passwords the function returned, which must never appear in its log."""
    if isinstance(body, dict):
        return [v for k, v in body.items() if k in ("password", "temporaryPassword") and isinstance(v, str) and v]
    return []


FUNCTION_ENDED = ("command exited", "command killed", "command ended by exception")


def invoke(cmd: list[str], timeout: float, log: str, offset: int):
    """Runs one `cargo lambda invoke`: (error or None, stdout). Gives up early when cargo-lambda
    reports that the function process ended, since the invocation would then wait for nothing."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, stderr = proc.communicate(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
        ended = any(marker in read_from(log, offset) for marker in FUNCTION_ENDED)
        if ended or time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            return ("the function process ended" if ended else f"no answer within {timeout:.0f}s"), ""
    if proc.returncode != 0:
        return (stderr.strip() or f"cargo lambda invoke exited {proc.returncode}"), stdout
    return None, stdout


def run(args) -> int:
    exchanges = []
    try:
        return run_scenarios(args, exchanges)
    finally:
        if args.record:
            write_record(args.record, exchanges)
            print(f"demo_report: recorded {len(exchanges)} exchange(s) in {args.record}", file=sys.stderr)


def run_scenarios(args, exchanges: list) -> int:
    with open(args.scenarios, encoding="utf-8") as f:
        scenarios = json.load(f)
    if not isinstance(scenarios, list) or not scenarios:
        print(f"demo_report: {args.scenarios} holds no scenarios", file=sys.stderr)
        return 2

    width = max(len(s["event"]) for s in scenarios)
    header = f"{'event':<{width}}  {'expect':>6}  {'actual':>6}  {'code':<24}  {'ms':>6}  result"
    print(header)
    print("-" * len(header))

    failures = 0
    returned_secrets = []
    invocations = []
    run_start = os.path.getsize(args.log) if os.path.exists(args.log) else 0
    for index, scenario in enumerate(scenarios):
        event = scenario["event"]
        expect_status = int(scenario["expect"])
        expect_code = scenario.get("code")
        event_path = os.path.join(args.events_dir, event)
        offset = os.path.getsize(args.log) if os.path.exists(args.log) else 0
        cmd = [
            "cargo", "lambda", "invoke",
            "--invoke-address", "127.0.0.1", "--invoke-port", str(args.port),
            "--data-file", event_path, args.function,
        ]
        # The first invocation starts the function (cargo run + cold start): allow it longer.
        timeout = args.first_timeout if index == 0 else args.timeout
        started = time.monotonic()
        error, stdout = invoke(cmd, timeout, args.log, offset)
        elapsed_ms = int((time.monotonic() - started) * 1000)

        status = code = body = None
        if error is None:
            try:
                status, code, body, response = parse_proxy_response(stdout)
                exchanges.append(recorded_exchange(event, event_path, response, body))
            except ValueError as e:
                error = f"{e}: {stdout.strip()[:300]}"

        if invocations:
            invocations[-1]["end"] = offset
        problem = body if status is not None and status >= 400 else None
        invocations.append(invocation(event, event_api_request_id(event_path), error is None, problem, offset))
        # The audit line may land a moment after the response: poll briefly (the audit check
        # after the last scenario waits longer).
        audits = wait_for_audits(args.log, offset, invocations[-1:], 0 if error is not None else 1.0)
        audits = match_audits(invocations[-1:], audits)[0]
        new_log = read_from(args.log, offset)

        ok = error is None and status == expect_status and code == expect_code
        failures += 0 if ok else 1
        shown_code = "-" if code is None else str(code)
        shown_status = "ERR" if status is None else str(status)
        expected = f"{expect_status}" + (f" {expect_code}" if expect_code else "")
        verdict = "PASS" if ok else f"FAIL (expected {expected})"
        print(f"{event:<{width}}  {expect_status:>6}  {shown_status:>6}  {shown_code:<24}  {elapsed_ms:>6}  {verdict}")
        if error is not None:
            print(f"    invoke failed: {error.splitlines()[0] if error else error}")
            for line in error.splitlines()[1:6]:
                print(f"      {line}")
        if audits:
            for audit in audits:
                print(f"    audit: {audit['line']}")
                if audit["duplicates"]:
                    print(f"    warning: key(s) {', '.join(audit['duplicates'])} occur twice in this audit line")
        elif error is None:
            print("    audit: (none logged yet for this invocation)")
        returned_secrets.extend(secrets_in(body))

        if error is not None and "Connection refused" in error:
            print("\nThe runtime emulator (cargo lambda watch) is not listening any more.", file=sys.stderr)
            print(f"Stopping: {len(scenarios) - index - 1} scenario(s) not run.", file=sys.stderr)
            return 2
        if error is not None and any(marker in new_log for marker in FUNCTION_ENDED):
            tail = "\n".join(new_log.strip().splitlines()[-15:])
            print(f"\nThe function process exited; its last output:\n{tail}", file=sys.stderr)
            print(f"Stopping: {len(scenarios) - index - 1} scenario(s) not run.", file=sys.stderr)
            return 2

    audits = wait_for_audits(args.log, run_start, invocations, args.audit_wait)
    problems = audit_problems(invocations, audits)
    full_log = read_from(args.log, 0)
    leaked = [s for s in returned_secrets if s in full_log]

    passed = len(scenarios) - failures
    print("-" * len(header))
    print(f"{passed} passed, {failures} failed")
    report_audit_problems(problems, args.log)
    if leaked:
        print(f"FAIL: {len(leaked)} returned password(s) appear in the function's log", file=sys.stderr)
        return 1
    return 1 if failures or problems else 0


def report_audit_problems(problems: list[str], log: str) -> None:
    if problems:
        print(f"FAIL: audit: {len(problems)} problem(s) with the audit lines in {log} "
              "(every invocation must log exactly one):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
    else:
        print("audit: exactly one audit line per invocation", file=sys.stderr)


def check_audit(args) -> int:
    """`check-audit`: the audit check on the log of a finished run."""
    with open(args.scenarios, encoding="utf-8") as f:
        scenarios = json.load(f)
    bodies = {}
    if args.record:
        with open(args.record, encoding="utf-8") as f:
            bodies = {x.get("event"): x.get("body") for x in json.load(f)
                      if isinstance(x, dict) and isinstance(x.get("status"), int) and x["status"] >= 400}
    invocations = [
        invocation(s["event"], event_api_request_id(os.path.join(args.events_dir, s["event"])),
                   body=bodies.get(s["event"]))
        for s in scenarios
    ]
    problems = audit_problems(invocations, audit_records(read_lines_from(args.log, 0)))
    report_audit_problems(problems, args.log)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="helpers for scripts/demo.sh")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("free-ports")
    p.add_argument("count", type=int)
    p = sub.add_parser("json-get")
    p.add_argument("file")
    p.add_argument("key")
    p = sub.add_parser("render-config")
    p.add_argument("template")
    p.add_argument("out")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE")
    p = sub.add_parser("run")
    p.add_argument("--scenarios", required=True)
    p.add_argument("--events-dir", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--function", default="resetgate")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--first-timeout", type=float, default=180)
    p.add_argument("--record", metavar="FILE", help="write the exchanges (request line, response) as JSON to FILE")
    p.add_argument("--audit-wait", type=float, default=3.0,
                   help="seconds to wait, after the last scenario, for audit lines still to come")
    p = sub.add_parser("check-audit")
    p.add_argument("--scenarios", required=True)
    p.add_argument("--events-dir", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--record", metavar="FILE", help="a recording of the same run (run --record)")
    args = parser.parse_args()

    if args.command == "free-ports":
        print("\n".join(str(p) for p in free_ports(args.count)))
    elif args.command == "json-get":
        print(json_get(args.file, args.key))
    elif args.command == "render-config":
        render_config(args.template, args.out, args.assignments)
    elif args.command == "run":
        try:
            return run(args)
        except KeyboardInterrupt:
            return 130
    elif args.command == "check-audit":
        return check_audit(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
