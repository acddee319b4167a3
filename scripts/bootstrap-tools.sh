#!/usr/bin/env bash
# Installs the project's local tooling: moto, cargo-lambda and boto3 into .cache/venv, and
# dynalite (npm) into .cache/node.
#
#   scripts/bootstrap-tools.sh          # install or update if needed (fast no-op otherwise)
#   scripts/bootstrap-tools.sh --force  # rebuild the venv from scratch
#   scripts/bootstrap-tools.sh --python-only  # the venv only: what `make build` and `make deploy` need
#   scripts/bootstrap-tools.sh --bench-python # only the bench's Python function: .cache/bench-python
#
# The venv is project-local and gitignored; pip's download cache lives in .cache/pip. Versions
# come from tools/requirements.txt constrained by the full lock tools/constraints.txt, so a
# developer's machine and CI get the same packages. A stamp file in the venv holds the sha256 of
# both files (and of the Python version): when it matches and the venv's tools run, nothing is
# done. On any change the venv is rebuilt from scratch, so removed packages do not linger.
# Afterwards put .cache/venv/bin on PATH to get `moto_server`, `cargo lambda` and the venv's python3.
# --bench-python installs the Python function that `make bench` compares resetgate with
# (benches/python-powertools: Powertools, boto3, awslambdaric) into a venv of its own,
# .cache/bench-python, from benches/python-powertools/requirements.txt (every package pinned,
# with hashes), kept apart from the tools so neither constrains the other's versions.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv=.cache/venv
pip_cache=.cache/pip
requirements=tools/requirements.txt
constraints=tools/constraints.txt
stamp="$venv/.bootstrap-stamp"
python="${PYTHON:-python3}"

die() { echo "bootstrap-tools: error: $*" >&2; exit 1; }
log() { echo "bootstrap-tools: $*" >&2; }

force=0
python_only=0
bench_python=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  --python-only) python_only=1 ;;
  --bench-python) bench_python=1 ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

[ -f "$requirements" ] || die "$requirements is missing"
[ -f "$constraints" ] || die "$constraints is missing"
command -v "$python" >/dev/null 2>&1 || die "'$python' not found: install Python 3.9 or newer (set PYTHON=... to use another interpreter)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
  || die "$("$python" --version 2>&1) is too old: moto 5 needs Python 3.9 or newer"

mkdir -p .cache

# One bootstrap at a time (make demo and make test may start together).
if command -v flock >/dev/null 2>&1; then
  exec 9>.cache/bootstrap.lock
  flock 9
fi

want="$( { cat "$requirements" "$constraints"; "$python" -c 'import sys; print(sys.version)'; } \
  | sha256sum | cut -d' ' -f1)"

# Cheap check, for the no-op path: the venv's interpreter and the tools' entry points run.
tools_present() {
  "$venv/bin/python" -c '' >/dev/null 2>&1 \
    && [ -x "$venv/bin/moto_server" ] \
    && "$venv/bin/cargo-lambda" lambda --version >/dev/null 2>&1
}
# Thorough check, after an install: the libraries import too.
tools_work() {
  tools_present && "$venv/bin/python" -c 'import boto3, moto, moto.server' >/dev/null 2>&1
}

ensure_venv() {
  if [ "$force" -eq 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && tools_present; then
    return 0
  fi

  log "installing tools into $venv (from $requirements, locked by $constraints)"
  rm -rf "$venv"
  "$python" -m venv "$venv" \
    || die "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"

  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install \
      --cache-dir "$pip_cache" --quiet \
      -r "$requirements" -c "$constraints"; then
    rm -rf "$venv"
    die "pip install failed (is PyPI reachable? see pip's message above); nothing was left half-installed"
  fi

  if ! tools_work; then
    rm -rf "$venv"
    die "installed, but moto_server / cargo-lambda do not run; the venv was removed"
  fi

  echo "$want" > "$stamp"
  log "ready: $("$venv/bin/cargo-lambda" lambda --version 2>/dev/null), moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)')"
}

# dynalite (npm, pinned by tools/package-lock.json): the DynamoDB engine whose conditional
# writes are atomic under concurrency, for the idempotency race tests.
node_dir=.cache/node
node_stamp="$node_dir/.bootstrap-stamp"
ensure_node() {
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer (dynalite needs it)"
  command -v npm >/dev/null 2>&1 || die "npm not found: install npm with Node.js"
  local want_node
  want_node="$( { cat tools/package.json tools/package-lock.json; node --version; } | sha256sum | cut -d' ' -f1)"
  if [ "$force" -eq 0 ] && [ -f "$node_stamp" ] && [ "$(cat "$node_stamp")" = "$want_node" ] \
      && [ -f "$node_dir/node_modules/dynalite/cli.js" ]; then
    return 0
  fi
  log "installing dynalite into $node_dir (from tools/package-lock.json)"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp tools/package.json tools/package-lock.json "$node_dir/"
  if ! (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error --cache ../npm >/dev/null); then
    rm -rf "$node_dir"
    die "npm ci failed (is the npm registry reachable? see npm's message above)"
  fi
  echo "$want_node" > "$node_stamp"
  log "ready: dynalite $(node -p 'require("./'"$node_dir"'/node_modules/dynalite/package.json").version')"
}

# The bench's Python function (--bench-python): its own venv, every package pinned with hashes.
bench_venv=.cache/bench-python
bench_requirements=benches/python-powertools/requirements.txt
bench_stamp="$bench_venv/.bootstrap-stamp"
ensure_bench_python() {
  [ -f "$bench_requirements" ] || die "$bench_requirements is missing"
  local want_bench
  want_bench="$( { cat "$bench_requirements"; "$python" -c 'import sys; print(sys.version)'; } \
    | sha256sum | cut -d' ' -f1)"
  if [ "$force" -eq 0 ] && [ -f "$bench_stamp" ] && [ "$(cat "$bench_stamp")" = "$want_bench" ] \
      && "$bench_venv/bin/python" -c '' >/dev/null 2>&1; then
    return 0
  fi
  log "installing the bench's Python function's packages into $bench_venv (from $bench_requirements)"
  rm -rf "$bench_venv"
  "$python" -m venv "$bench_venv" \
    || die "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$bench_venv/bin/python" -m pip install \
      --cache-dir "$pip_cache" --quiet --require-hashes --no-deps -r "$bench_requirements"; then
    rm -rf "$bench_venv"
    die "pip install of $bench_requirements failed (see pip's message above); nothing was left half-installed"
  fi
  if ! "$bench_venv/bin/python" -c 'import awslambdaric, aws_lambda_powertools, boto3' >/dev/null 2>&1; then
    rm -rf "$bench_venv"
    die "installed, but awslambdaric / aws_lambda_powertools / boto3 do not import; $bench_venv was removed"
  fi
  echo "$want_bench" > "$bench_stamp"
  log "ready: $("$bench_venv/bin/python" -c 'import aws_lambda_powertools.shared.version as v, awslambdaric, boto3; print(f"Powertools {v.VERSION}, awslambdaric {awslambdaric.__version__}, boto3 {boto3.__version__}")')"
}

if [ "$bench_python" -eq 1 ]; then
  ensure_bench_python
  exit 0
fi

ensure_venv
# A deployer needs the venv's tools (cargo-lambda, sam, cfn-lint), never Node.js.
[ "$python_only" -eq 1 ] || ensure_node
