# Two commands: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# `make run PORT=8001` (or LEADTRAIL_PORT=8001 make run) when 8000 is taken. Not `?=`: a shell
# or platform that exports HOST or PORT for its own reasons must not move the demo server.
HOST   := $(or $(LEADTRAIL_HOST),127.0.0.1)
PORT   := $(or $(LEADTRAIL_PORT),8000)

.PHONY: run test install install-test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test
	scripts/install-test-deps.sh

run: install
	$(BIN)/leadtrail serve --demo --host $(HOST) --port $(PORT)

# The gates run first: a lint, format or type finding fails the test run (and CI) before any test.
test: install-test lint
	$(BIN)/python -m pytest

# The gates: lint, formatting and types (configured in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-test
	bench/run.sh
