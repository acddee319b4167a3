#!/usr/bin/env bash
# resetgate-cli end to end: the CLI against the real function behind the local API Gateway, and
# `check` against moto and the stand-in.
#
#   cli/tests/e2e.sh [extra test-harness arguments, e.g. a test name filter]
#
# 1. builds the function and the end-to-end test binary (cli/tests/e2e.rs) first, so nothing
#    needs Cargo's build lock while the emulators run;
# 2. starts moto (tests/support/moto_server.py) and, in front of it, the forgot-password code
#    checker (tests/support/cognito_codes.py: it issues the code a `code` reset sends and checks
#    confirmations as Cognito does); seeds moto (scripts/seed_moto.py: the demo pool, its app
#    client, the idempotency table);
# 3. starts the Directory Service / FinSpace stand-in (tests/support/standin.py), seeded from
#    config/demo-standin.json;
# 4. renders the function's configuration from config/demo.json (the seeded pool, its app client
#    as the recovery client) and starts it under `cargo lambda watch` with two instances (a
#    request can find another in progress: 409), pointed at the code checker, moto and the
#    stand-in;
# 5. starts tests/support/apigw.py (an HTTP API with a JWT authorizer) in front of it with a
#    test token for helen (helpdesk admin of every demo target, with accounts of her own), the
#    same identity scripts/schemathesis.sh uses;
# 6. runs the end-to-end tests (ignored in a plain `cargo test`: they need all of the above)
#    one at a time, told where everything is through RESETGATE_E2E_* variables.
#
# RESETGATE_E2E_HOLD=CMD runs CMD (with bash -c) instead of the tests, while everything is up:
# RESETGATE_ENDPOINT_URL points the CLI at the local API Gateway, RESETGATE_E2E_TOKEN_FILE holds
# helen's token (docs/CLI.md's session transcript was made so).
#
# Every process it started is stopped by its PID (and the function instance cargo-lambda
# spawned, found by parentage), on success, failure or Ctrl-C. Logs: .cache/cli-e2e/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

out=.cache/cli-e2e
venv=.cache/venv
py="$root/$venv/bin/python3"
function_name=resetgate
# Test-only keyed-hash secret (40 characters), as scripts/demo.sh has its own.
hmac_key='resetgate-cli-e2e-only-hmac-not-secret!!'
issuer=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DemoPool1
audience=4f3h2demoappclient0000000

say() { echo "cli-e2e: $*" >&2; }
die() { say "error: $*"; exit 2; }

[ -x "$py" ] || die "$py is missing: run \`make tools\`"
[ -x "$venv/bin/cargo-lambda" ] || die "cargo-lambda is missing from $venv: run \`make tools\`"

started_pids=()

# descendants, alive, cleanup (on every exit), wait_for_port.
source "$root/scripts/processes.sh"

mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.json "$out/token" "$out/apigw.port"

# --- 1. build first -----------------------------------------------------------------------------
say "building $function_name and the end-to-end tests"
cargo build --locked --bin "$function_name"
test_binary="$(cargo test --locked -p resetgate-cli --test e2e --no-run --message-format=json \
  | "$py" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "e2e" and m.get("executable"):
        print(m["executable"])')"
[ -x "$test_binary" ] || die "the e2e test binary was not built"

{ read -r moto_port; read -r codes_port; read -r standin_port; read -r lambda_port; } \
  < <("$py" scripts/demo_report.py free-ports 4)
moto_url="http://127.0.0.1:$moto_port"
codes_url="http://127.0.0.1:$codes_port"
standin_url="http://127.0.0.1:$standin_port"

# --- 2. moto and the code checker in front of it ---------------------------------------------
say "starting moto on $moto_url and the code checker on $codes_url"
"$py" tests/support/moto_server.py -H 127.0.0.1 -p "$moto_port" > "$out/moto.log" 2>&1 &
started_pids+=("$!")
wait_for_port "$moto_port" "$!" 60 moto "$out/moto.log"
"$py" tests/support/cognito_codes.py --port "$codes_port" --upstream "$moto_url" \
  > "$out/codes.log" 2>&1 &
started_pids+=("$!")
wait_for_port "$codes_port" "$!" 30 "the code checker" "$out/codes.log"
"$py" scripts/seed_moto.py "$moto_url" --idempotency-table resetgate-idempotency > "$out/seed.json"
pool_id="$("$py" scripts/demo_report.py json-get "$out/seed.json" userPoolId)"
client_id="$("$py" scripts/demo_report.py json-get "$out/seed.json" clientId)"
"$py" scripts/demo_report.py render-config config/demo.json "$out/config.json" \
  USER_POOL_ID="$pool_id" RECOVERY_CLIENT_ID="$client_id"

# --- 3. the stand-in --------------------------------------------------------------------------
say "starting the stand-in on $standin_url"
"$py" tests/support/standin.py --port "$standin_port" > "$out/standin.log" 2>&1 &
started_pids+=("$!")
wait_for_port "$standin_port" "$!" 30 "the stand-in" "$out/standin.log"
"$py" - "$standin_url" config/demo-standin.json <<'PY'
import sys, urllib.request
url, seed = sys.argv[1], open(sys.argv[2], "rb").read()
request = urllib.request.Request(url + "/_standin/seed", data=seed, method="POST",
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=10).read()
PY

# --- 4. the function, two instances ------------------------------------------------------------
unset_vars=(-u RESETGATE_CONFIG -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN)
while read -r name; do
  unset_vars+=(-u "$name")
done < <(compgen -e | grep '^AWS_ENDPOINT_URL_' || true)
say "starting the function under cargo lambda watch on 127.0.0.1:$lambda_port"
env "${unset_vars[@]}" \
  PATH="$root/$venv/bin:$PATH" \
  RESETGATE_CONFIG_FILE="$root/$out/config.json" \
  RESETGATE_HMAC_KEY="$hmac_key" \
  AWS_ENDPOINT_URL="$codes_url" \
  AWS_ENDPOINT_URL_DIRECTORY_SERVICE="$standin_url" \
  AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA="$standin_url" \
  AWS_ENDPOINT_URL_FINSPACE_DATA="$standin_url" \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  AWS_LAMBDA_LOG_FORMAT=JSON \
  cargo lambda watch --ignore-changes --concurrency 2 \
    --invoke-address 127.0.0.1 --invoke-port "$lambda_port" --timeout 120 \
  > "$out/function.log" 2>&1 < /dev/null &
started_pids+=("$!")
wait_for_port "$lambda_port" "$!" 120 "cargo lambda watch" "$out/function.log"

# --- 5. API Gateway, with helen's token --------------------------------------------------------
"$py" - "$issuer" "$audience" > "$out/token-claims.json" <<'PY'
import json, sys, time
now = int(time.time())
print(json.dumps({
    "sub": "7d5f2c1e-2222-4b4b-9d9d-4e1e000000c1",
    "iss": sys.argv[1], "aud": sys.argv[2], "token_use": "id",
    "cognito:username": "helen",
    "cognito:groups": ["helpdesk", "ad-helpdesk", "finspace-admins"],
    "custom:ad_username": "dana.admin",
    "custom:finspace_user_id": "uid-alice-0001",
    "email": "helen@example.com", "email_verified": True,
    "auth_time": now, "iat": now, "exp": now + 6 * 3600,
}))
PY
"$py" tests/support/apigw.py --lambda-port "$lambda_port" --function "$function_name" \
  --port 0 --ready-file "$out/apigw.port" --timeout 100 --issuer "$issuer" --audience "$audience" \
  --token-claims "$out/token-claims.json" --token-file "$out/token" > "$out/apigw.log" 2>&1 &
apigw_pid=$!
started_pids+=("$apigw_pid")
start=$SECONDS
until [ -s "$out/apigw.port" ]; do
  alive "$apigw_pid" || { cat "$out/apigw.log" >&2; die "apigw.py exited"; }
  [ $((SECONDS - start)) -lt 60 ] || die "apigw.py did not start within 60 s"
  sleep 0.05
done
apigw_url="http://127.0.0.1:$(cat "$out/apigw.port")"
chmod 600 "$out/token"

# The first invocation starts the function (cargo run of the built binary): wait for it.
say "warming the function up through $apigw_url"
"$py" - "$apigw_url" "$out/token" <<'PY'
import sys, time, urllib.request, urllib.error
url, token = sys.argv[1], open(sys.argv[2]).read().strip()
deadline = time.time() + 180
while True:
    try:
        request = urllib.request.Request(url + "/v1/targets", headers={"Authorization": "Bearer " + token})
        urllib.request.urlopen(request, timeout=120).read()
        break
    except (urllib.error.URLError, OSError) as e:
        if time.time() > deadline:
            sys.exit(f"the function did not answer: {e}")
        time.sleep(1)
PY

# --- 6. the tests (or RESETGATE_E2E_HOLD) ---------------------------------------------------------
status=0
if [ -n "${RESETGATE_E2E_HOLD:-}" ]; then
  say "running while everything is up: $RESETGATE_E2E_HOLD"
  RESETGATE_ENDPOINT_URL="$apigw_url" RESETGATE_E2E_TOKEN_FILE="$root/$out/token" \
  RESETGATE_E2E_CODES_URL="$codes_url" RESETGATE_E2E_POOL_ID="$pool_id" \
  RESETGATE_E2E_STANDIN_URL="$standin_url" RESETGATE_E2E_MOTO_URL="$moto_url" \
  RESETGATE_E2E_CONFIG="$root/$out/config.json" \
    bash -c "$RESETGATE_E2E_HOLD" < /dev/null || status=$?
  exit "$status"
fi
say "running the end-to-end tests"
env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
  RESETGATE_E2E_ENDPOINT="$apigw_url" \
  RESETGATE_E2E_TOKEN_FILE="$root/$out/token" \
  RESETGATE_E2E_MOTO_URL="$moto_url" \
  RESETGATE_E2E_CODES_URL="$codes_url" \
  RESETGATE_E2E_STANDIN_URL="$standin_url" \
  RESETGATE_E2E_POOL_ID="$pool_id" \
  RESETGATE_E2E_SCRATCH="$root/$out" \
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$test_binary" --include-ignored --test-threads 1 "$@" || status=$?
if [ "$status" -ne 0 ]; then
  say "failed ($status); logs: $out/function.log, $out/apigw.log, $out/moto.log, $out/standin.log, $out/codes.log"
fi
exit "$status"
