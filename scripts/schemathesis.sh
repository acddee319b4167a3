#!/usr/bin/env bash
# Property-based checks of openapi.yaml and the function together, with Schemathesis.
#
#   scripts/schemathesis.sh [extra `schemathesis run` options]
#
# 1. validates openapi.yaml, and finds schemathesis (.cache/venv, pinned in tools/requirements.txt;
#    or SCHEMATHESIS=/path/to/schemathesis);
# 2. runs the demo environment (scripts/demo.sh: moto, the stand-in, the function under
#    `cargo lambda watch`; the sample scenarios run first and warm the function up), and while it
#    is up (RESETGATE_DEMO_HOLD):
# 3. starts tests/support/apigw.py, a local API Gateway HTTP API (payload 2.0, one `$default`
#    route, a JWT authorizer) in front of the function, on a free port; the function routes;
# 4. runs `schemathesis run openapi.yaml` against it as helen (helpdesk admin of every demo
#    target, with an account of her own on each), with a test JWT signed by apigw.py's own key
#    (issuer and audience those of the demo's tokens, checked by apigw.py): the examples,
#    coverage and fuzzing phases, FUZZ_MAX_EXAMPLES (default 50) examples per operation, seed
#    FUZZ_SEED (fixed by default, so a run is repeatable), one worker, positive and negative data;
#    checks not_a_server_error, status_code_conformance, content_type_conformance,
#    response_schema_conformance and response_headers_conformance. Idempotency keys are generated
#    from the spec's pattern; path parameters come, most of the time, from the demo's targets and
#    seeded accounts (a generated .cache/schemathesis/schemathesis.toml), so requests get past
#    the target lookup into the body, authorization, idempotency and back-end logic.
#
# Exits non-zero if Schemathesis reports a failure or an error (or the demo's scenarios fail).
# Everything started is stopped, by PID, whatever happens. Output: .cache/schemathesis/ (JUnit
# report, apigw.log); the function's log: .cache/demo/function.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out=.cache/schemathesis
py="$root/.cache/venv/bin/python3"
spec=openapi.yaml

say() { echo "schemathesis.sh: $*" >&2; }
die() { say "error: $*"; exit 2; }

find_schemathesis() {
  if [ -n "${SCHEMATHESIS:-}" ]; then
    [ -x "$SCHEMATHESIS" ] || die "SCHEMATHESIS=$SCHEMATHESIS is not an executable"
    echo "$SCHEMATHESIS"
  elif [ -x "$root/.cache/venv/bin/schemathesis" ]; then
    echo "$root/.cache/venv/bin/schemathesis"
  else
    die "schemathesis is not installed in .cache/venv: it comes from tools/requirements.txt (schemathesis==4.32.5) via scripts/bootstrap-tools.sh; or set SCHEMATHESIS=/path/to/schemathesis"
  fi
}

# --- inside the demo environment (run by scripts/demo.sh as RESETGATE_DEMO_HOLD) --------------
inside_demo() {
  local lambda_port="${RESETGATE_DEMO_LAMBDA_PORT:?run scripts/schemathesis.sh, not --inside-demo}"
  local function_name="${RESETGATE_DEMO_FUNCTION:-resetgate}"
  local st port start
  apigw_pid=""  # global: the EXIT trap runs after this function has returned
  st="$(find_schemathesis)"
  mkdir -p "$out"
  rm -rf "$out/apigw.port" "$out/apigw.log" "$out/report" "$out/token" "$out/token-claims.json"

  stop_apigw() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$apigw_pid" ]; then
      kill -TERM "$apigw_pid" 2>/dev/null || true
      wait "$apigw_pid" 2>/dev/null || true
    fi
    exit "$rc"
  }
  trap stop_apigw EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # A test ID token for helen: helpdesk admin of every demo target (config/demo.json's
  # adminGroups), with a seeded account of her own on each (moto's helen; the stand-in's
  # dana.admin and uid-alice-0001 serve as hers here). apigw.py signs it with its own key (which
  # only lives in its process), checks it as API Gateway's JWT authorizer would (signature,
  # expiry, issuer, audience) and passes its claims to the function, which decides the rest.
  local issuer=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DemoPool1
  local audience=4f3h2demoappclient0000000
  "$py" - "$issuer" "$audience" > "$out/token-claims.json" <<'PY'
import json, sys, time
now = int(time.time())
print(json.dumps({
    "sub": "7d5f2c1e-2222-4b4b-9d9d-4e1e00000002",
    "iss": sys.argv[1],
    "aud": sys.argv[2],
    "token_use": "id",
    "cognito:username": "helen",
    "cognito:groups": ["helpdesk", "ad-helpdesk", "finspace-admins"],
    "custom:ad_username": "dana.admin",
    "custom:finspace_user_id": "uid-alice-0001",
    "email": "helen@example.com",
    "email_verified": True,
    "auth_time": now,
    "iat": now,
    "exp": now + 6 * 3600,
}))
PY

  "$py" tests/support/apigw.py --lambda-port "$lambda_port" --function "$function_name" \
    --port 0 --ready-file "$out/apigw.port" --timeout 60 \
    --issuer "$issuer" --audience "$audience" \
    --token-claims "$out/token-claims.json" --token-file "$out/token" > "$out/apigw.log" 2>&1 &
  apigw_pid=$!
  start=$SECONDS
  until [ -s "$out/apigw.port" ]; do
    kill -0 "$apigw_pid" 2>/dev/null || { cat "$out/apigw.log" >&2; die "apigw.py exited"; }
    [ $((SECONDS - start)) -lt 30 ] || die "apigw.py did not start within 30 s"
    sleep 0.05
  done
  port="$(cat "$out/apigw.port")"
  local token
  token="$(cat "$out/token")"
  [ -n "$token" ] || die "apigw.py wrote no token to $out/token"
  say "API Gateway stand-in on http://127.0.0.1:$port (log: $out/apigw.log)"

  # Schemathesis configuration: path parameters drawn, most of the time, from the demo's targets
  # (config/demo.json) and seeded accounts (scripts/seed_moto.py, config/demo-standin.json), so
  # generated requests get past the target lookup and reach body validation, authorization, the
  # idempotency record and the back-ends; the rest of the time generated from the schema.
  # No state is carried between runs (a run depends on the seed only), and Hypothesis keeps
  # its own files under .cache, not in the working tree.
  cat > "$out/schemathesis.toml" <<'TOML'
[cache]
enabled = false

[dictionaries.targets]
values = ["app-users", "kiosk-users", "corp-ad", "research"]

[dictionaries.usernames]
values = [
  "alice", "bob", "helen", "mallory", "break-glass",
  "alice.smith", "bob.jones", "dana.admin", "carol.former", "Administrator", "krbtgt",
  "uid-alice-0001", "uid-bob-0002",
]

[parameters]
"path.target" = { dictionary = "targets", probability = 0.8 }
"path.username" = { dictionary = "usernames", probability = 0.7 }
TOML

  local checks=not_a_server_error,status_code_conformance,content_type_conformance
  checks+=,response_schema_conformance,response_headers_conformance
  local status=0
  say "$("$st" --version 2>/dev/null || echo schemathesis): ${FUZZ_MAX_EXAMPLES:-50} examples per operation, seed ${FUZZ_SEED:-20251122}"
  HYPOTHESIS_STORAGE_DIRECTORY="$root/$out/hypothesis" \
  "$st" --config-file "$out/schemathesis.toml" run "$spec" \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing \
    --mode all \
    --max-examples "${FUZZ_MAX_EXAMPLES:-50}" \
    --seed "${FUZZ_SEED:-20251122}" \
    --generation-database none \
    --workers 1 \
    --request-timeout 60 \
    --report junit --report-dir "$out/report" \
    "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    say "schemathesis exited $status; API Gateway stand-in log: $out/apigw.log; function log: ${RESETGATE_DEMO_FUNCTION_LOG:-.cache/demo/function.log}"
  fi
  return "$status"
}

if [ "${1:-}" = "--inside-demo" ]; then
  shift
  inside_demo "$@"
  exit $?
fi

# --- the outer run ------------------------------------------------------------------------------
scripts/bootstrap-tools.sh
"$py" tests/support/openapi_check.py "$spec"
find_schemathesis > /dev/null
hold="$(printf '%q ' scripts/schemathesis.sh --inside-demo "$@")"
RESETGATE_DEMO_HOLD="$hold" exec scripts/demo.sh
