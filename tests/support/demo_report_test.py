#!/usr/bin/env python3
"""Tests of scripts/demo_report.py's audit check: every invocation of `make demo` logs exactly
one audit line, of its own request.

    .cache/venv/bin/python tests/support/demo_report_test.py      (or: python -m pytest FILE)

Standard library only; needs neither cargo nor a running function. The log lines are a
hand-made excerpt of a real `.cache/demo/function.log` (fixtures/demo-audit.log); `run` is
exercised end to end with `cargo lambda invoke` replaced by a fake that answers and logs.
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "fixtures", "demo-audit.log")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import demo_report  # noqa: E402

# The three audit lines of the fixture: (event, API Gateway request id, Lambda request id).
TARGETS = ("targets-list.json", "VeZMqK-ifTNlBM4=", "9b01969e-de73-4c8b-9f9a-4071437c95aa")
FORBIDDEN = ("admin-forbidden.json", "jBtAQNXVGr7tvjI=", "4a7b6243-819a-468d-a776-e4c86c6c9c3d")
RETRY = ("self-generate-retry.json", "uK9o3jfzEZ-A9999", "6f224fdc-97de-43df-923f-f7294b5a0ebc")


def audit_line(request_id, api_request_id, status=200, nested=False):
    fields = {"message": "audit", "audit": True, "event": "authn_password_change",
              "status": status, "requestId": request_id}
    if api_request_id is not None:
        fields["apiRequestId"] = api_request_id
    record = {"timestamp": "2026-11-29T22:41:10.169794Z", "level": "INFO"}
    record.update({"fields": fields} if nested else fields)
    return json.dumps(record, separators=(",", ":"))


def fixture_audits(extra_lines=()):
    with open(FIXTURE, encoding="utf-8") as f:
        text = f.read()
    lines, offset = [], 0
    for line in text.splitlines() + list(extra_lines):
        lines.append((offset, line))
        offset += len(line.encode()) + 1
    return demo_report.audit_records(lines)


def problems_of(invocations, extra_lines=()):
    return demo_report.audit_problems(invocations, fixture_audits(extra_lines))


def inv(spec, problem_request_id=None, answered=True):
    event, api_id, _ = spec
    body = {"code": "FORBIDDEN", "requestId": problem_request_id} if problem_request_id else None
    return demo_report.invocation(event, api_id, answered, body)


class AuditRecords(unittest.TestCase):
    def test_the_fixture_has_three_audit_lines_whatever_the_nesting(self):
        audits = fixture_audits()
        self.assertEqual([(a["requestId"], a["apiRequestId"]) for a in audits],
                         [(s[2], s[1]) for s in (TARGETS, FORBIDDEN, RETRY)])
        self.assertTrue(all(a["record"] is not None for a in audits))

    def test_a_line_mentioning_audit_without_the_flag_is_not_an_audit_line(self):
        audits = fixture_audits(['{"level":"INFO","message":"audit","audit":false,"requestId":"x"}'])
        self.assertEqual(len(audits), 3)

    def test_a_line_still_being_written_is_left_for_later(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "function.log")
            with open(path, "wb") as f:
                f.write(b'first\n{"audit":true,"requestId":"\xc3\xa9"}\n{"audit":tr')
            self.assertEqual(demo_report.read_lines_from(path, 0),
                             [(0, "first"), (6, '{"audit":true,"requestId":"\u00e9"}')])
            self.assertEqual(demo_report.read_lines_from(path, 6)[0][0], 6)
            self.assertEqual(len(demo_report.audit_records(demo_report.read_lines_from(path, 0))), 1)

    def test_duplicate_keys_are_reported(self):
        line = audit_line("r-1", "a-1")[:-1] + ',"requestId":"r-2"}'
        (audit,) = demo_report.audit_records([(0, line)])
        self.assertEqual(audit["duplicates"], ["requestId"])


class AuditProblems(unittest.TestCase):
    def test_one_line_per_invocation_passes(self):
        self.assertEqual(problems_of([inv(TARGETS), inv(FORBIDDEN, FORBIDDEN[2]), inv(RETRY)]), [])

    def test_a_missing_line_fails(self):
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY),
                                inv(("self-code.json", "tvG7hmx0aA5Vg90=", None))])
        self.assertEqual(problems, ["self-code.json (API request id tvG7hmx0aA5Vg90=): "
                                    "no audit line logged"])

    def test_a_second_line_for_one_invocation_fails(self):
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY)],
                               [audit_line("0b0e0d3c-0000-4000-8000-000000000001", TARGETS[1])])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("targets-list.json", problems[0])
        self.assertIn("2 audit lines logged, expected exactly 1", problems[0])

    def test_the_same_line_logged_twice_fails(self):
        line = audit_line(RETRY[2], RETRY[1])
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY)], [line])
        self.assertIn("self-generate-retry.json", problems[0])
        self.assertIn("2 audit lines", problems[0])
        self.assertIn(f"2 audit lines share the Lambda requestId {RETRY[2]}", problems)

    def test_a_line_of_another_invocation_fails(self):
        # the problem body names this invocation; the line names another Lambda request
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN, "da932452-0000-4000-8000-0000000000ff"),
                                inv(RETRY)])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("the audit line's requestId is '4a7b6243", problems[0])
        self.assertIn("the answer's is 'da932452", problems[0])

    def test_a_line_of_no_invoked_event_fails(self):
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY)],
                               [audit_line("0b0e0d3c-0000-4000-8000-000000000002", "someone-else=")])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("an audit line of no invoked event", problems[0])

    def test_an_audit_line_that_is_not_json_fails(self):
        problems = problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY)],
                               ['{"level":"INFO","audit":true,"requestId":"cut short'])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("not a JSON object", problems[0])

    def test_the_problem_body_request_id_finds_a_line_without_api_request_id(self):
        line = audit_line("11111111-0000-4000-8000-000000000003", None, status=400)
        body_only = demo_report.invocation("bad-event.json", "bad-event-id=", True,
                                           {"requestId": "11111111-0000-4000-8000-000000000003"})
        self.assertEqual(problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY), body_only],
                                     [line]), [])

    def test_an_event_without_any_id_is_matched_by_its_part_of_the_log(self):
        audits = demo_report.audit_records([
            (0, audit_line("r-1", "api-1")),
            (100, audit_line("r-2", None)),
            (200, audit_line("r-3", None)),
        ])
        first = demo_report.invocation("a.json", "api-1", start=0, end=100)
        second = demo_report.invocation("b.json", None, start=100, end=200)
        third = demo_report.invocation("c.json", None, start=200)
        self.assertEqual(demo_report.audit_problems([first, second, third], audits), [])
        self.assertEqual([len(m) for m in demo_report.match_audits([first, second, third], audits)],
                         [1, 1, 1])
        lonely = demo_report.invocation("c.json", None, start=300)
        self.assertEqual(demo_report.audit_problems([first, second, lonely], audits),
                         ["c.json: no audit line logged",
                          "an audit line of no invoked event (requestId 'r-3', apiRequestId None): "
                          + audit_line("r-3", None)])

    def test_an_unanswered_invocation_is_not_checked_again(self):
        # its scenario already fails; a line it logged anyway is not a left-over
        missing = inv(("self-code.json", "tvG7hmx0aA5Vg90=", None), answered=False)
        self.assertEqual(problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY), missing]), [])
        self.assertEqual(problems_of([inv(TARGETS), inv(FORBIDDEN), inv(RETRY, answered=False)]), [])


class RunScenarios(unittest.TestCase):
    """`run` end to end, `cargo lambda invoke` replaced by a fake that answers and logs."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="demo-report-test-")
        self.log = os.path.join(self.tmp, "function.log")
        self.events = os.path.join(self.tmp, "events")
        os.mkdir(self.events)
        with open(self.log, "w") as f:
            f.write(" INFO starting Runtime server runtime_addr=127.0.0.1:1\n")
        self.scenarios = []
        for n, (status, code) in enumerate([(200, None), (403, "FORBIDDEN"), (202, None)]):
            name = f"event-{n}.json"
            with open(os.path.join(self.events, name), "w") as f:
                json.dump({"version": "2.0", "rawPath": "/v1/targets",
                           "requestContext": {"requestId": f"api-{n}=",
                                              "http": {"method": "GET"}}}, f)
            self.scenarios.append({"event": name, "expect": status, "code": code})
        self.scenario_file = os.path.join(self.tmp, "scenarios.json")
        with open(self.scenario_file, "w") as f:
            json.dump(self.scenarios, f)
        self.real_invoke = demo_report.invoke
        self.threads = []

    def tearDown(self):
        demo_report.invoke = self.real_invoke
        for t in self.threads:
            t.join()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def append(self, *lines):
        with open(self.log, "a") as f:
            for line in lines:
                f.write(line + "\n")

    def fake_invoke(self, lines_for, late=()):
        """An invoke that answers each event as its scenario expects and logs lines_for(n) (a
        list of audit lines), after the answer for the events numbered in `late`."""
        def invoke(cmd, timeout, log, offset):
            event = cmd[cmd.index("--data-file") + 1]
            n = int(os.path.basename(event).split("-")[1].split(".")[0])
            scenario = self.scenarios[n]
            request_id = f"lambda-{n}"
            body = {"targets": []}
            if scenario["code"]:
                body = {"code": scenario["code"], "requestId": request_id}
            lines = lines_for(n, request_id)
            if n in late:
                thread = threading.Thread(target=lambda: (time.sleep(0.3), self.append(*lines)))
                thread.start()
                self.threads.append(thread)
            else:
                self.append(*lines)
            answer = {"statusCode": scenario["expect"], "headers": {}, "body": json.dumps(body)}
            return None, json.dumps(answer)
        demo_report.invoke = invoke

    def run_report(self):
        args = argparse.Namespace(
            scenarios=self.scenario_file, events_dir=self.events, log=self.log, port=1,
            function="resetgate", timeout=5, first_timeout=5, record=None, audit_wait=1.0)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = demo_report.run(args)
        return status, out.getvalue(), err.getvalue()

    def test_one_audit_line_each_passes(self):
        self.fake_invoke(lambda n, rid: [audit_line(rid, f"api-{n}=")])
        status, out, err = self.run_report()
        self.assertEqual(status, 0, out + err)
        self.assertIn("3 passed, 0 failed", out)
        self.assertIn("exactly one audit line per invocation", err)

    def test_a_line_logged_after_the_answer_is_waited_for(self):
        self.fake_invoke(lambda n, rid: [audit_line(rid, f"api-{n}=")], late={2})
        status, out, err = self.run_report()
        self.assertEqual(status, 0, out + err)

    def test_an_invocation_without_audit_line_fails_the_demo(self):
        self.fake_invoke(lambda n, rid: [] if n == 1 else [audit_line(rid, f"api-{n}=")])
        status, out, err = self.run_report()
        self.assertEqual(status, 1, out + err)
        self.assertIn("3 passed, 0 failed", out)  # every answer was right: only the audit fails
        self.assertIn("FAIL: audit: 1 problem(s)", err)
        self.assertIn("event-1.json (API request id api-1=): no audit line logged", err)

    def test_an_invocation_with_two_audit_lines_fails_the_demo(self):
        self.fake_invoke(lambda n, rid: [audit_line(rid, f"api-{n}=")] * (2 if n == 0 else 1))
        status, out, err = self.run_report()
        self.assertEqual(status, 1, out + err)
        self.assertIn("event-0.json (API request id api-0=): 2 audit lines logged", err)

    def test_an_audit_line_of_another_request_fails_the_demo(self):
        self.fake_invoke(lambda n, rid: [audit_line("lambda-9" if n == 1 else rid, f"api-{n}=")])
        status, out, err = self.run_report()
        self.assertEqual(status, 1, out + err)
        self.assertIn("the audit line's requestId is 'lambda-9', the answer's is 'lambda-1'", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
