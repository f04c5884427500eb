# Sluis — `make demo` runs the demo, `make test` the whole suite. Both install first;
# installing is idempotent and quick when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OPA_VERSION := v1.22.2
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-fast lint fmt bench clean

install: $(STAMP) $(BIN)/opa postgres

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(BIN)/opa: tools/install-opa.sh | $(STAMP)
	@bash tools/install-opa.sh $(OPA_VERSION) $(BIN)
	@$(BIN)/opa version | grep -qx 'Version: $(patsubst v%,%,$(OPA_VERSION))'

postgres:
	@bash tools/ensure-postgres.sh

demo: install
	$(BIN)/sluis demo

serve: install
	$(BIN)/sluis serve

POLICY_COVERAGE_FLOOR := 90

test: install
	$(BIN)/opa check --strict policies gateway/policy/guardrails
	$(BIN)/opa test --fail-on-empty policies
	$(BIN)/opa test --fail-on-empty policies gateway/policy/guardrails
	$(BIN)/opa test --coverage --format=json policies | $(BIN)/python tools/opa_coverage.py $(POLICY_COVERAGE_FLOOR)
	$(BIN)/pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@test -z "$$($(BIN)/opa fmt --list policies gateway/policy)" || { echo "opa fmt: run 'make fmt'"; $(BIN)/opa fmt --list policies gateway/policy; exit 1; }
	$(BIN)/opa check --strict policies gateway/policy/guardrails

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/opa fmt -w policies gateway/policy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
