#!/usr/bin/env python3
"""Deletes each security control in turn and checks that a test fails without it.

    scripts/mutate_controls.py [--only NAME] [--list]

Each control is one textual mutation of the source (the control removed or made to always
pass) and the tests that must then fail. The source is restored after every mutation, also on
failure or interruption. Exit 1 if any mutation survives (its tests still pass), 2 on a
mutation that no longer applies (the code moved: update the table).

Not in `make test` (each mutation is a rebuild): run it after changing a control, and before
closing an issue that adds one. The last run's result is recorded in docs/SECURITY.md.
"""

import argparse
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

LIB = ["cargo", "test", "--locked", "--lib", "-q"]


def it(name):
    return ["cargo", "test", "--locked", "-q", "--test", name]


# (name, file, text, replacement, test commands: at least one must fail)
CONTROLS = [
    ("admin group required to reset another user", "src/auth.rs",
     "Subject::Other(username) if caller.in_any_group(&target.admin_groups) =>",
     "Subject::Other(username) if true =>", [LIB]),
    ("self-service only from a trusted issuer", "src/auth.rs",
     "if !target.trusts_issuer(caller.claim(\"iss\")) {", "if false {", [LIB]),
    ("protected accounts", "src/auth.rs",
     "            .any(|protected| fold_username(protected) == username)",
     "            .any(|protected| fold_username(protected) == username && false)", [LIB]),
    ("privileged accounts refused to admins", "src/auth.rs",
     "    if admin\n        && (account.superuser", "    if false\n        && (account.superuser", [LIB]),
    ("groups read incompletely fail closed", "src/auth.rs",
     "if admin && account.groups_incomplete {", "if false && account.groups_incomplete {", [LIB]),
    ("token policy (token_use, app client)", "src/app/mod.rs",
     "        auth::check_token(&caller, &self.tokens)?;\n", "", [LIB]),
    ("a token without sub is no caller", "src/auth.rs",
     "            .filter(|sub| !sub.trim().is_empty())\n", "", [LIB]),
    ("recent sign-in for self-service generate and set", "src/app/mod.rs",
     "auth::check_recent_sign_in(caller, max_age, self.clock.now_secs())?;",
     "let _ = max_age;", [LIB]),
    ("back-end username rules before any call", "src/app/mod.rs",
     "        config.backend().check_username(&grant.username)?;\n", "", [LIB, it("contract")]),
    ("the password policy on chosen passwords", "src/password.rs",
     "    pub fn check(&self, password: &SecretString, context: Context<'_>) -> Result<(), Error> {\n",
     "    pub fn check(&self, password: &SecretString, context: Context<'_>) -> Result<(), Error> {\n        return Ok(());\n",
     [LIB, it("cognito")]),
    ("the breached-password screen", "src/password.rs",
     "    if is_breached(password) {", "    if false && is_breached(password) {", [LIB]),
    ("rate limits counted with the claim", "src/idempotency/ratelimit.rs",
     ".filter(|limit| limit.per_hour > 0)", ".filter(|_| false)", [LIB, it("abuse")]),
    ("a reused key with another request is refused", "src/idempotency/machine.rs",
     "            if existing.fingerprint != fingerprint {\n                return Err(Error::IdempotencyKeyReused);\n            }\n",
     "", [LIB, it("idempotency")]),
    ("a reset call is not sent again after an unknown outcome", "src/aws.rs",
     "            _ => return Err(SendFailure::Unknown(error)),", "            _ => false,",
     [LIB, it("at_most_once")]),
    ("a disabled directory account is not re-enabled", "src/reset/directory/adapter.rs",
     "if user.enabled() != Some(true) {", "if false {", [LIB, it("contract")]),
    ("a federated Cognito user gets no local password", "src/reset/cognito/adapter.rs",
     "if user.user_status() == Some(&UserStatusType::ExternalProvider) {", "if false {",
     [LIB, it("cognito")]),
    ("the idempotency key is never shown", "src/idempotency/key.rs",
     "f.write_str(\"IdempotencyKey([REDACTED])\")",
     "f.write_str(self.0.expose_secret())", [LIB, it("secrets")]),
    ("a replay never repeats a password", "src/app/receipt.rs",
     "            password: None,\n            expires_at: self.expires_at.clone(),",
     "            password: self.password.clone(),\n            expires_at: self.expires_at.clone(),",
     [LIB, it("secrets")]),
    ("the panic hook withholds the message", "src/logging.rs",
     "        let (file, line) = info", "        eprintln!(\"{info}\");\n        let (file, line) = info",
     [it("panic_hook"), it("secrets")]),
    ("sessions end when the password changes", "src/app/answer.rs",
     "let sign_out = (mode != Mode::Code)", "let sign_out = (mode == Mode::Code)", [LIB]),
    ("Cognito's sign-out is called", "src/reset/cognito/adapter.rs",
     "        self.revoke_sessions.then(|| {", "        false.then(|| {", [it("cognito")]),
    ("every decision on a target is published", "src/app/publish.rs",
     "        match bus.publish(detail.to_string()).await {",
     "        match Ok::<(), String>(drop(detail)) {", [LIB, it("events")]),
    ("the user is told of a password change", "src/app/answer.rs",
     "(Mode::Generate | Mode::Set | Mode::Confirm, Some(to), Some((mailer, contact)))",
     "(Mode::Code, Some(to), Some((mailer, contact)))", [LIB, it("notifications")]),
    ("a confirm's code is part of the request", "src/idempotency/key.rs",
     "    if let Some(code) = &code {", "    if let Some(code) = code.as_ref().filter(|_| false) {",
     [LIB]),
    ("a confirm only where the target has a recovery client", "src/app/mod.rs",
     "        Mode::Confirm => target.backend().confirms_codes(),", "        Mode::Confirm => true,",
     [LIB]),
    ("a confirm's code must look like a code", "src/app/mod.rs",
     "if !is_valid_code(code.expose_secret()) =>", "if code.expose_secret().is_empty() =>", [LIB]),
    ("a retried confirm is sent again, never guessed done", "src/app/reconcile.rs",
     ".filter(|at| mode != Mode::Confirm && shows_done(*at))", ".filter(|at| shows_done(*at))",
     [LIB]),
    ("the confirm sends the recovery client's SECRET_HASH", "src/reset/cognito/adapter.rs",
     ".set_secret_hash(recovery.secret_hash(request.username))", ".set_secret_hash(None)",
     [LIB, it("confirm")]),
    ("bodies over 16 KiB are refused", "src/http/request.rs",
     "    if bytes.len() > MAX_BODY_BYTES {", "    if false {", [LIB]),
]


def run(cmd):
    return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def forget_regressions(before):
    """proptest saves the seeds of a failing property: failures of mutated code are not
    regressions of the real one."""
    directory = ROOT / "proptest-regressions"
    for path in sorted(directory.rglob("*"), reverse=True) if directory.exists() else []:
        if path not in before:
            path.unlink() if path.is_file() else path.rmdir()
    if directory.exists() and directory not in before and not any(directory.iterdir()):
        directory.rmdir()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the control whose name contains this text")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, *_ in CONTROLS:
            print(name)
        return 0
    survived, stale = [], []
    for name, rel, text, replacement, commands in CONTROLS:
        if args.only and args.only not in name:
            continue
        path = ROOT / rel
        original = path.read_text()
        if original.count(text) != 1:
            print(f"STALE  {name}: {rel} has the text {original.count(text)} times", flush=True)
            stale.append(name)
            continue
        regressions = ROOT / "proptest-regressions"
        before = set(regressions.rglob("*")) | ({regressions} if regressions.exists() else set())
        try:
            path.write_text(original.replace(text, replacement))
            # A mutation that does not compile proves nothing: it is reported, not counted.
            if run(["cargo", "test", "--locked", "--no-run", "-q", "--all-targets"]) != 0:
                print(f"BROKEN {name}: the mutated source does not compile", flush=True)
                stale.append(name)
                continue
            failed = [" ".join(c[2:]) for c in commands if run(c) != 0]
        finally:
            path.write_text(original)
            forget_regressions(before)
        if failed:
            print(f"KILLED {name}: fails {'; '.join(failed)}", flush=True)
        else:
            print(f"SURVIVED {name}: every test passes without it", flush=True)
            survived.append(name)
    if stale:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
