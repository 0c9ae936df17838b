# Every target CI runs is here; `make pr` runs them all before a pull request.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run gen check setup test fmt lint pr

## run: book trips with the real saga on this machine (generated ASL, real handlers, in-memory store)
run:
	$(CARGO) run -q -p trip-local -- demo

## gen: write generated/ from every saga! in the workspace (commit the result)
gen:
	$(CARGO) run -q -p saga-dsl

## check: fail when generated/ is stale
check:
	$(CARGO) run -q -p saga-dsl -- --check

## setup: install the test tools that do not come with cargo (npm, Python venv)
setup:
	scripts/setup.sh

## test: everything CI runs: formatting, lints, generated/ freshness, all tests
test: setup
	scripts/test.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

pr: fmt test
