# Recur: set-up, run and test.
#
#   make run          install, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test         lint + the test suite against a throwaway PostgreSQL
#   make node-deps    the pinned npm tools the tests run (package-lock.json)
#   make bench        billing-run and API benchmarks against a throwaway PostgreSQL
#
# Each recipe runs as one bash script with `set -eu -o pipefail`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

# Python 3.11 for the virtualenv (python3 if no python3.11 on PATH).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-x -k invoices'
PYTEST_ARGS ?=
# The suite on both cores (pytest-xdist), a test module per worker so a module's
# fixtures (a server, a browser) start once; PYTEST_WORKERS= runs it in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile
# Paths ruff looks at (only those that exist).
LINT_PATHS := $(wildcard src tests bench)

# The lint checks, shared by `lint` and `test`; each failure sets rc=1 so
# that all of them run.
define LINT_SCRIPT
$(BIN)/ruff check $(LINT_PATHS) || rc=1
$(BIN)/ruff format --check $(LINT_PATHS) || rc=1
$(BIN)/mypy || rc=1
endef

HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help venv install node-deps tools system-deps run test lint bench clean distclean

# help: list the targets.
help:
	@echo "targets: install node-deps tools system-deps run test lint bench clean distclean"

# venv / install: create .venv and install the project with dev extras;
# redone only when pyproject.toml changes.
venv install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# tools: Python tools the tests run, in a virtualenv of their own because their pins
# clash with the project's (openapi-python-client wants typer < 0.28, recur's CLI 0.29).
TOOLS := .venv-tools
OPENAPI_CLIENT := openapi-python-client==0.29.1

tools: $(TOOLS)/.installed

$(TOOLS)/.installed: Makefile
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install '$(OPENAPI_CLIENT)'
	touch $@

# system-deps: Debian packages for browser tests, PDF checks and PostgreSQL;
# apt-get runs only when something is missing.
system-deps:
	@missing=""
	test -x /usr/bin/chromium || missing+=" chromium"
	{ command -v pdftoppm && command -v pdftotext; } >/dev/null || missing+=" poppler-utils"
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| missing+=" postgresql"
	command -v npm >/dev/null || missing+=" npm"
	for pkg in libpango-1.0-0 libpangoft2-1.0-0; do
		[ "$$(dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null)" = "install ok installed" ] \
			|| missing+=" $$pkg"
	done
	if [ -z "$$missing" ]; then echo "system-deps: all present"; exit 0; fi
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo
	echo "system-deps: installing$$missing"
	$$sudo apt-get update
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

# node-deps: the npm tools the tests use (package.json, pinned by package-lock.json:
# redocly lints the OpenAPI document, axe-core checks pages' accessibility), into
# ./node_modules; redone only when the lock file changes.
NODE_STAMP := node_modules/.package-lock.json

node-deps: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund
	touch $@

# run: migrate the default SQLite database, load demo data and print its sign-ins
# (skipped when the database has data), serve the app.
run: install
	$(BIN)/recur db upgrade
	$(BIN)/recur demo --if-empty
	exec $(BIN)/recur serve --host $(HOST) --port $(PORT)

# test: lint, then pytest with a throwaway PostgreSQL; fails if either fails.
test: install node-deps tools system-deps
	rc=0
	$(LINT_SCRIPT)
	scripts/with-postgres.sh $(BIN)/pytest -q $(PYTEST_WORKERS) $(PYTEST_ARGS) || rc=$$?
	exit $$rc

# lint: ruff (lint + format check) and mypy --strict; runs all three,
# fails if any fails.
lint: install
	rc=0
	$(LINT_SCRIPT)
	exit $$rc

# bench: the benchmarks against a throwaway PostgreSQL: one billing run in one process
# (throughput, memory, preview latency), one over accounts of 200 subscriptions each,
# one run shared by 1, 2 and 4 workers, and
# the API under 16 concurrent clients.
bench: install system-deps
	scripts/with-postgres.sh $(BIN)/python bench/billing_run.py
	scripts/with-postgres.sh $(BIN)/python bench/billing_run.py --accounts 500 \
		--subs-per-account 200 --memory-accounts 0
	scripts/with-postgres.sh $(BIN)/python bench/workers.py
	scripts/with-postgres.sh $(BIN)/python bench/api_load.py

# clean: caches and build leftovers (keeps .venv and the demo database).
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

# distclean: clean, and remove the virtualenv too.
distclean: clean
	rm -rf $(VENV) $(TOOLS) node_modules
