#!/usr/bin/env bash
# resetgate against the Python function users would otherwise write and against its floors,
# cold and warm, through the Lambda Runtime API (`make bench`).
#
#   scripts/bench.sh [driver options]      e.g. --runs 5 --warm 300 --arm64
#
# 1. installs the tools if needed (scripts/bootstrap-tools.sh: moto, cargo-lambda into .cache/venv)
#    and the Python function's packages (scripts/bootstrap-tools.sh --bench-python: Powertools,
#    boto3 and awslambdaric, pinned with hashes by benches/python-powertools/requirements.txt,
#    into .cache/bench-python; cached, so a no-op after the first run);
# 2. builds the release binaries of the workspace: resetgate, benches/sdk-floor (exactly
#    resetgate's AWS calls for a self-service generate reset, nothing else) and
#    benches/echo-floor (the runtime loop alone). A cold build takes minutes on two cores; after
#    that only what changed is rebuilt;
# 3. runs benches/driver.py, which starts moto and each function itself, emulates the Runtime
#    API, and prints Markdown tables (also in target/bench/results.md, everything measured in
#    target/bench/results.json, the functions' output in target/bench/logs/): resetgate in two
#    configurations (like-for-like: rate limits off, no events, no e-mail; and the full
#    workflow), the Python function (benches/python-powertools, started as the Lambda Python
#    runtime does: `python -m awslambdaric app.handler`), the SDK floor and the echo floor,
#    interleaved in the same rounds. resetgate reads its keyed-hash secret from moto's Secrets
#    Manager (RESETGATE_HMAC_KEY_SECRET_ARN), so its init includes that GetSecretValue; after
#    the timed rounds, one extra pass through a counting proxy reports each function's AWS
#    calls, sequential round trips, how a warm reset's time splits between moto and the
#    function, and how far concurrent calls overlapped (--no-count skips it; the proxy is in
#    none of the timings). The run ends by printing the three-way table with its ratios.
#
# Options go to the driver (benches/driver.py --help). `--arm64` also runs
# `cargo lambda build --release --arm64` for resetgate's Lambda binary size: a second full
# release build, for the aarch64 target (which the Rust toolchain must have).
#
# Timings are reported, never asserted: the run fails only if a build fails, an invocation
# fails or answers wrongly, or a process dies. The driver stops every process it starts.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null 2>&1 || { echo "bench: error: cargo not found: install Rust (rustup)" >&2; exit 1; }

scripts/bootstrap-tools.sh
scripts/bootstrap-tools.sh --bench-python

echo "bench: cargo build --locked --release --workspace --bins" >&2
cargo build --locked --release --workspace --bins

exec .cache/venv/bin/python benches/driver.py "$@"
