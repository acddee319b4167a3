#!/usr/bin/env bash
# Lints the SAM template offline, without AWS credentials, and fails on any finding:
#
#   1. cfn-lint template.yaml, informational rules included
#   2. sam validate --lint   (SAM CLI's own cfn-lint run, as `sam` sees the template)
#   3. sam validate          (the SAM transform itself, with AWS::LanguageExtensions expanded)
#   4. cfn-lint on the template after the SAM transform, with every id list non-empty.
#      cfn-lint skips IAM action checks (W3037) in any template with the SAM transform
#      (cfn-lint's rules/resources/iam/Permissions.py, after aws/serverless-application-model
#      issue 3633), so a misspelt action would otherwise only show up as AccessDenied in
#      production. Here the SAM resources are translated to plain CloudFormation first (the
#      Fn::ForEach loops are plain CloudFormation already and are put back unchanged), and the
#      example ids make the loops and the conditional statements expand (and, with an inline
#      ResetgateConfig and a PermissionsBoundary, the other branch of each condition); then
#      again with the defaults (the configuration file in its layer).
#   5. scripts/check_template.py on that translated template: the alarms, the log levels, the
#      configuration source, and no secret or wildcard grant the role should not have.
#
#   scripts/lint-template.sh [TEMPLATE]     # default: template.yaml
#
# TRANSLATED_TEMPLATE_OUT=FILE keeps a copy of the translated template (JSON) in FILE.
#
# Tools come from .cache/venv (scripts/bootstrap-tools.sh, pinned in tools/requirements.txt).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

template="${1:-template.yaml}"
venv=.cache/venv

die() { echo "lint-template: error: $*" >&2; exit 1; }

[ -f "$template" ] || die "$template not found"
for tool in cfn-lint sam python; do
  [ -x "$venv/bin/$tool" ] || die "$venv/bin/$tool missing: run scripts/bootstrap-tools.sh (make tools)"
done

# Offline and anonymous: no telemetry, no credential or region lookups (the IMDS probe would
# hang for seconds off EC2), dummy keys where SAM CLI insists on some. Nothing here calls AWS.
export SAM_CLI_TELEMETRY=0
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_DEFAULT_REGION=us-east-1
# The template uses Fn::ForEach: SAM CLI must expand AWS::LanguageExtensions locally to
# run the SAM transform (samconfig.toml turns it on for build, deploy and the like).
export SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1

# Example ids for step 4: syntactically valid, nothing is looked up.
example_parameters=(
  "CognitoUserPoolIds=us-east-1_AbCdEf123,us-east-1_ZyXwV987"
  "DirectoryIds=d-1234567890,d-0abcdef123"
  "FinSpaceEnvironmentIds=abcdef0123456789abcdef"
  "AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:resetgate-alarms"
  "ResetgateConfig={}"
  "PermissionsBoundary=arn:aws:iam::123456789012:policy/resetgate-boundary"
)

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=0
run() {
  local name="$1"; shift
  echo "lint-template: $name" >&2
  # cfn-lint prints nothing and exits 0 when clean; any finding (error, warning or
  # informational) makes it exit non-zero.
  if ! "$@"; then
    echo "lint-template: FAILED: $name" >&2
    failed=1
  fi
}

run "cfn-lint $template" \
  "$venv/bin/cfn-lint" --include-checks I -- "$template"
run "sam validate --lint" \
  "$venv/bin/sam" validate --lint --template "$template" --region us-east-1
run "sam validate (SAM transform)" \
  "$venv/bin/sam" validate --template "$template" --region us-east-1

translate() {
  "$venv/bin/python" - "$template" "$scratch/translated.json" <<'PY'
import json
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    template = yaml_parse(f.read())

resources = template["Resources"]
loops = {key: resources.pop(key) for key in list(resources) if key.startswith("Fn::ForEach::")}
transforms = template.get("Transform", [])
transforms = [transforms] if isinstance(transforms, str) else list(transforms)
template["Transform"] = "AWS::Serverless-2016-10-31"
for resource in resources.values():
    # The SAM transform wants S3 locations; `sam package` puts them there (the function's
    # build output, and the zipped deploy/config/ of the configuration layer).
    if resource.get("Type") == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://placeholder/resetgate.zip"
    elif resource.get("Type") == "AWS::Serverless::LayerVersion":
        resource["Properties"]["ContentUri"] = "s3://placeholder/config.zip"


class NoManagedPolicies:
    """The template names no managed policy, so nothing needs looking up in IAM."""

    def load(self):
        return {}


translated = transform(template, {}, NoManagedPolicies())
translated["Resources"].update(loops)
rest = [t for t in transforms if t != "AWS::Serverless-2016-10-31"]
if rest:
    translated["Transform"] = rest if len(rest) > 1 else rest[0]
with open(target, "w", encoding="utf-8") as f:
    json.dump(translated, f, indent=1)
PY
}

echo "lint-template: SAM transform for the translated-template check" >&2
if translate; then
  run "cfn-lint on the translated template (example ids)" \
    "$venv/bin/cfn-lint" --include-checks I --parameters "${example_parameters[@]}" \
      -- "$scratch/translated.json"
  run "cfn-lint on the translated template (default parameters)" \
    "$venv/bin/cfn-lint" --include-checks I -- "$scratch/translated.json"
  if [ -n "${TRANSLATED_TEMPLATE_OUT:-}" ]; then
    cp "$scratch/translated.json" "$TRANSLATED_TEMPLATE_OUT"
  fi
  run "scripts/check_template.py on the translated template" \
    "$venv/bin/python" scripts/check_template.py "$scratch/translated.json"
else
  echo "lint-template: FAILED: SAM transform" >&2
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "lint-template: $template has findings (see above)" >&2
  exit 1
fi
echo "lint-template: $template: no findings" >&2
