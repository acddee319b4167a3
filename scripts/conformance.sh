#!/usr/bin/env bash
# Checks that the function's real answers to every sample event conform to openapi.yaml.
#
#   scripts/conformance.sh
#
# 1. validates openapi.yaml (OpenAPI 3.1, openapi-spec-validator) before starting anything;
# 2. runs the demo (scripts/demo.sh: moto, the stand-in, the function under `cargo lambda watch`,
#    every event of events/scenarios.json invoked), recording each request line and proxy
#    response in .cache/conformance/exchanges.json (RESETGATE_RECORD);
# 3. checks every recorded exchange against the spec (tests/support/openapi_check.py): the
#    operation, a documented status, the content type, the body against its schema, the
#    documented headers.
#
# Exits non-zero if the demo's scenarios or the conformance check fail (each reports its own
# failures). The demo stops every process it started, whatever happens.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

spec=openapi.yaml
out=.cache/conformance
record="$out/exchanges.json"
py=.cache/venv/bin/python3
check=tests/support/openapi_check.py

say() { echo "conformance: $*" >&2; }

scripts/bootstrap-tools.sh
"$py" "$check" "$spec"

mkdir -p "$out"
rm -f "$record"

demo_status=0
RESETGATE_RECORD="$root/$record" scripts/demo.sh || demo_status=$?
if [ ! -s "$record" ]; then
  say "the demo recorded no exchanges (demo exit status $demo_status)"
  exit 2
fi

echo
say "checking the recorded answers against $spec"
check_status=0
"$py" "$check" --quiet "$spec" "$record" || check_status=$?

if [ "$demo_status" -ne 0 ]; then
  say "the demo's scenarios failed (exit status $demo_status)"
fi
if [ "$check_status" -ne 0 ]; then
  say "answers that do not conform to $spec: see above (recording: $record)"
  exit "$check_status"
fi
exit "$demo_status"
