# resetgate: the two commands a newcomer needs are `make demo` and `make test`.
# Everything the tests need is installed by the project into .cache/ (gitignored).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .cache/venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Fn::ForEach in template.yaml needs AWS::LanguageExtensions, whatever samconfig.toml
# environment a deploy uses.
export SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS := 1

# CI builds once from a clean clone: incremental caches would only cost disk and time there.
ifneq ($(CI),)
export CARGO_INCREMENTAL := 0
endif

SAM_CONFIG_ENV ?= default
DEPLOY_ARGS ?=

BENCH_ARGS ?=
# arm64 is what template.yaml deploys; it needs `rustup target add aarch64-unknown-linux-gnu`.
LAMBDA_ARCH ?= arm64

.PHONY: help tools tools-deploy test controls lint lint-template check-deploy-command conformance fuzz-api demo fuzz bench bench-cpu build deploy clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

tools: ## Install the pinned tooling the tests need: the venv (moto, cargo-lambda, sam, cfn-lint) and dynalite
	@scripts/bootstrap-tools.sh

tools-deploy: ## Install only what building and deploying need (the venv: cargo-lambda, sam, cfn-lint); no Node.js
	@scripts/bootstrap-tools.sh --python-only

lint: ## cargo fmt --check, clippy with warnings denied (with and without FinSpace), and the module layout
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo clippy --locked --lib --bins --no-default-features -- -D warnings
	python3 scripts/check_layout.py

lint-template: tools-deploy ## cfn-lint and sam validate --lint on template.yaml (offline)
	scripts/lint-template.sh

conformance: tools ## The function's real answers to every sample event, checked against openapi.yaml
	@scripts/conformance.sh

fuzz-api: tools ## Schemathesis: openapi.yaml against the function behind a local API Gateway
	@scripts/schemathesis.sh

test: tools lint lint-template ## Everything CI runs: lints, template checks, unit and integration tests, OpenAPI conformance and schemathesis
	$(VENV)/bin/python scripts/breach_list.py --check
	$(VENV)/bin/python tests/support/standin_selftest.py
	$(VENV)/bin/python scripts/test_check_layout.py
	$(VENV)/bin/python tests/support/demo_report_test.py
	$(VENV)/bin/python tests/support/apigw_test.py
	$(VENV)/bin/python tests/support/cognito_codes_test.py
	cargo test --locked --all-targets
	cargo test --locked --lib --no-default-features
	cargo test --locked -p resetgate-cpu-bench --benches
	cargo test --locked -p resetgate-cli
	cli/tests/e2e.sh
	@scripts/check-deploy-command.sh
	@scripts/conformance.sh
	@scripts/schemathesis.sh

controls: tools ## Delete each security control in turn: a test must fail without it (about 25 min)
	$(VENV)/bin/python scripts/mutate_controls.py

fuzz: ## Property-based fuzzing of event and body parsing, 20,000 cases per property
	PROPTEST_CASES=20000 cargo test --locked --lib fuzz -- --nocapture

demo: tools ## Run the function locally against moto and invoke every sample event
	@scripts/demo.sh

bench: tools ## resetgate against the Python function and its floors: cold start, warm latency, memory (target/bench/results.md)
	@scripts/bench.sh $(BENCH_ARGS)

bench-cpu: ## divan micro-benchmarks of the per-request CPU path, without I/O
	cargo bench --locked -p resetgate-cpu-bench

check-deploy-command: tools-deploy ## The cargo lambda deploy command of docs/DEPLOY.md, run with --dry
	@scripts/check-deploy-command.sh

build: tools-deploy ## Release build for Lambda, provided.al2023 (LAMBDA_ARCH=arm64 by default, or x86-64)
	cargo lambda build --locked --release --$(LAMBDA_ARCH)

deploy: tools-deploy lint-template ## sam build + sam deploy (add DEPLOY_ARGS=--guided the first time); see docs/DEPLOY.md
	sam build
	sam deploy --config-env $(SAM_CONFIG_ENV) $(DEPLOY_ARGS)

clean: ## Remove build output and local tooling
	cargo clean
	rm -rf .cache
