#!/usr/bin/env bash
# Runs the `cargo lambda deploy` command that docs/DEPLOY.md shows, with `--dry`, so the
# documented flags cannot drift from what cargo-lambda accepts (`make check-deploy-command`;
# part of `make test`).
#
# The command is the ```sh block after the marker `<!-- checked by scripts/check-deploy-command.sh -->`
# in docs/DEPLOY.md. Its `make build` line is skipped: the function binary already built by
# `cargo test --all-targets` (target/debug/resetgate) stands in for the Lambda build, laid out
# where cargo-lambda looks for it, in a directory of its own (`--lambda-dir`), so a real
# `make build` output is never touched. `--dry` locates and packages the binary and prints
# what it would deploy, without calling AWS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.cache/venv/bin:$PATH"

die() { echo "check-deploy-command: error: $*" >&2; exit 1; }
command -v cargo-lambda >/dev/null 2>&1 || die "cargo-lambda is missing: run make tools-deploy"

command=$(awk '
  /<!-- checked by scripts\/check-deploy-command.sh -->/ { marked = 1; next }
  marked && /^```sh/ { inside = 1; next }
  inside && /^```/ { exit }
  inside { print }
' docs/DEPLOY.md)
[ -n "$command" ] || die "no marked command block in docs/DEPLOY.md"
command=$(printf '%s\n' "$command" | grep -v '^make build$' | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
case "$command" in
  "cargo lambda deploy "*) ;;
  *) die "the marked block is not a cargo lambda deploy command: $command" ;;
esac

binary=target/debug/resetgate
[ -x "$binary" ] || cargo build --locked --bin resetgate
lambda_dir=$(mktemp -d)
trap 'rm -rf "$lambda_dir"' EXIT
mkdir -p "$lambda_dir/resetgate"
cp "$binary" "$lambda_dir/resetgate/bootstrap"

# shellcheck disable=SC2086 # the documented command, split into its words as a shell would
eval "$command --lambda-dir \"$lambda_dir\" --dry" > "$lambda_dir/out.txt" 2>&1 \
  || { cat "$lambda_dir/out.txt" >&2; die "the documented command failed"; }
grep -q 'runtime: "provided.al2023"' "$lambda_dir/out.txt" \
  || { cat "$lambda_dir/out.txt" >&2; die "unexpected dry-run output"; }
echo "check-deploy-command: docs/DEPLOY.md's cargo lambda deploy command packages the function (--dry)"
