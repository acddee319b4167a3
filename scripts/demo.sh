#!/usr/bin/env bash
# The local equivalent of `sam local invoke` for every sample event (no Docker, no AWS account).
#
#   scripts/demo.sh
#
# 1. installs the tools (scripts/bootstrap-tools.sh: moto, cargo-lambda into .cache/venv);
# 2. starts moto_server on a free loopback port and seeds it (scripts/seed_moto.py: the demo user
#    pool with alice, bob, helen, mallory and break-glass, an app client, the idempotency table),
#    and the project's Directory Service / FinSpace stand-in (tests/support/standin.py), seeded
#    from config/demo-standin.json;
# 3. writes .cache/demo/config.json from config/demo.json with the seeded pool id and app
#    client (the recovery client of confirms), plus `events` (a bus whose rule feeds an SQS queue,
#    a SIEM's stand-in) and `notifications` (a verified SES sender) (scripts/demo_sinks.py);
# 4. builds the function and starts `cargo lambda watch` (the Lambda runtime emulator) on another
#    free port, with the function pointed at moto; its output goes to .cache/demo/function.log;
# 5. invokes the function once per entry of events/scenarios.json and prints, per event, the
#    expected and actual status, the problem code, PASS/FAIL and the audit line it logged;
# 6. prints one OCSF event of a successful reset as the queue received it, and one e-mail as SES
#    sent it (scripts/demo_sinks.py show: fails if either is missing or holds a sample secret).
#
# Exits non-zero if any scenario's status or problem code differs from its expectation, or if an
# answered invocation logged no audit line or more than one (demo_report.py's audit check: the
# line is found by the event's requestContext.requestId, logged as apiRequestId, and must carry
# the Lambda requestId of the answer's problem body, if any). Whatever happens (failure, Ctrl-C),
# the processes it started are stopped, by their PIDs.
#
# Two settings, for scripts that need the demo environment (scripts/conformance.sh,
# scripts/schemathesis.sh):
#
#   RESETGATE_RECORD=FILE     also writes every scenario's request line and response to FILE
#                             (demo_report.py run --record), for tests/support/openapi_check.py.
#   RESETGATE_DEMO_HOLD=CMD   after the scenarios, runs CMD (with bash -c) while everything is
#                             still up, then stops it all. CMD sees RESETGATE_DEMO_LAMBDA_PORT
#                             (cargo lambda watch's invoke port), RESETGATE_DEMO_FUNCTION,
#                             RESETGATE_DEMO_FUNCTION_LOG, RESETGATE_DEMO_MOTO_URL and
#                             RESETGATE_DEMO_STANDIN_URL. The exit status is CMD's if it fails,
#                             else the scenarios'. CMD is not run if the function could not be
#                             invoked at all.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv=.cache/venv
demo=.cache/demo
function_name=resetgate
# Demo-only keyed-hash secret (40 characters). Never use it anywhere else.
demo_hmac_key='resetgate-demo-only-hmac-key-not-secret!'

started_pids=()

die() { echo "demo: error: $*" >&2; exit 1; }
say() { echo "demo: $*" >&2; }

# descendants, alive, cleanup (on every exit), wait_for_port.
source "$root/scripts/processes.sh"

[ -f events/scenarios.json ] || die "events/scenarios.json is missing"
[ -f config/demo.json ] || die "config/demo.json is missing"
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup)"

scripts/bootstrap-tools.sh
export PATH="$root/$venv/bin:$PATH"
py="$root/$venv/bin/python3"
report() { "$py" scripts/demo_report.py "$@"; }

mkdir -p "$demo"
rm -f "$demo/moto.log" "$demo/standin.log" "$demo/function.log" "$demo/seed.json" "$demo/config.json"

{ read -r moto_port; read -r lambda_port; read -r standin_port; } < <(report free-ports 3)
moto_url="http://127.0.0.1:$moto_port"
standin_url="http://127.0.0.1:$standin_port"

# --- moto --------------------------------------------------------------------------------------
say "starting moto_server on $moto_url"
moto_server -H 127.0.0.1 -p "$moto_port" > "$demo/moto.log" 2>&1 &
started_pids+=("$!")
wait_for_port "$moto_port" "$!" 30 moto_server "$demo/moto.log"

table="$(report json-get config/demo.json idempotency.table)"
"$py" scripts/seed_moto.py "$moto_url" --idempotency-table "$table" > "$demo/seed.json"
pool_id="$(report json-get "$demo/seed.json" userPoolId)"
client_id="$(report json-get "$demo/seed.json" clientId)"
report render-config config/demo.json "$demo/config.json" USER_POOL_ID="$pool_id" \
  RECOVERY_CLIENT_ID="$client_id"
# The demo also publishes every decision's event and tells users of their resets.
"$py" scripts/demo_sinks.py add-config "$demo/config.json" "$demo/seed.json"
say "seeded user pool $pool_id; function config in $demo/config.json"

# --- the Directory Service / FinSpace stand-in ---------------------------------------------------
say "starting the Directory Service and FinSpace stand-in on $standin_url"
"$py" tests/support/standin.py --port "$standin_port" > "$demo/standin.log" 2>&1 &
started_pids+=("$!")
wait_for_port "$standin_port" "$!" 30 "the stand-in" "$demo/standin.log"
"$py" - "$standin_url" config/demo-standin.json <<'PY'
import json, sys, urllib.request
url, seed = sys.argv[1], open(sys.argv[2], "rb").read()
request = urllib.request.Request(url + "/_standin/seed", data=seed, method="POST",
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=10).read()
PY
say "seeded directory d-1234567890 and FinSpace environment abcdef0123456789abcdef"

# --- the function ------------------------------------------------------------------------------
# `cargo lambda watch` starts the function lazily, with `cargo run`, at the first invocation:
# build first, in the foreground, so that invocation is a cold start and not a whole compile.
say "building $function_name (dev profile; the first build takes a few minutes)"
cargo build --locked --bin "$function_name"

# cargo-lambda passes its own environment through to the function (plus AWS_LAMBDA_* of its own),
# so the function's settings are given to it that way. Nothing from the developer's AWS setup
# may leak in: profiles, session tokens, per-service endpoints, an inline config.
unset_vars=(-u RESETGATE_CONFIG -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN)
while read -r name; do
  unset_vars+=(-u "$name")
done < <(compgen -e | grep '^AWS_ENDPOINT_URL_' || true)

say "starting cargo lambda watch on 127.0.0.1:$lambda_port (output: $demo/function.log)"
env "${unset_vars[@]}" \
  RESETGATE_CONFIG_FILE="$root/$demo/config.json" \
  RESETGATE_HMAC_KEY="$demo_hmac_key" \
  AWS_ENDPOINT_URL="$moto_url" \
  AWS_ENDPOINT_URL_DIRECTORY_SERVICE="$standin_url" \
  AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA="$standin_url" \
  AWS_ENDPOINT_URL_FINSPACE_DATA="$standin_url" \
  AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test \
  AWS_SECRET_ACCESS_KEY=test \
  AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  AWS_EC2_METADATA_DISABLED=true \
  AWS_LAMBDA_LOG_FORMAT=JSON \
  cargo lambda watch --ignore-changes \
    --invoke-address 127.0.0.1 --invoke-port "$lambda_port" --timeout 170 \
  > "$demo/function.log" 2>&1 < /dev/null &
started_pids+=("$!")
wait_for_port "$lambda_port" "$!" 60 "cargo lambda watch" "$demo/function.log"

# --- the scenarios -----------------------------------------------------------------------------
say "invoking every scenario of events/scenarios.json"
echo
status=0
record_args=()
if [ -n "${RESETGATE_RECORD:-}" ]; then
  record_args=(--record "$RESETGATE_RECORD")
fi
report run --scenarios events/scenarios.json --events-dir events \
  --log "$demo/function.log" --port "$lambda_port" --function "$function_name" \
  --timeout 30 --first-timeout 180 ${record_args[@]+"${record_args[@]}"} || status=$?
echo

# --- what the resets told the world ------------------------------------------------------------
if [ "$status" -ne 2 ]; then
  say "one event and one e-mail of the resets above"
  "$py" scripts/demo_sinks.py show "$moto_url" "$demo/seed.json" || status=1
  echo
fi

# --- a command run while everything is up (RESETGATE_DEMO_HOLD) -------------------------------
if [ -n "${RESETGATE_DEMO_HOLD:-}" ]; then
  if [ "$status" -eq 2 ]; then
    say "not running RESETGATE_DEMO_HOLD: the function could not be invoked"
  else
    say "running while the demo is up: $RESETGATE_DEMO_HOLD"
    # In the background and waited for, so a TERM or Ctrl-C reaches cleanup at once, which stops
    # the command (and whatever it started) with everything else.
    RESETGATE_DEMO_LAMBDA_PORT="$lambda_port" \
    RESETGATE_DEMO_FUNCTION="$function_name" \
    RESETGATE_DEMO_FUNCTION_LOG="$root/$demo/function.log" \
    RESETGATE_DEMO_MOTO_URL="$moto_url" \
    RESETGATE_DEMO_STANDIN_URL="$standin_url" \
      bash -c "$RESETGATE_DEMO_HOLD" < /dev/null &
    hold_pid=$!
    started_pids+=("$hold_pid")
    hold_status=0
    wait "$hold_pid" || hold_status=$?
    unset 'started_pids[${#started_pids[@]}-1]'  # reaped: its PID may be reused
    if [ "$hold_status" -ne 0 ]; then
      say "RESETGATE_DEMO_HOLD exited $hold_status"
      status=$hold_status
    fi
  fi
fi
say "function output: $demo/function.log; moto: $demo/moto.log; stand-in: $demo/standin.log"
exit "$status"
