# releasegate — see README.md. `make gate` and `make test` each set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RG := $(BIN)/releasegate
PROFILE ?= profiles/rento.toml
ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: help setup system-deps gate test unit selftest selfcheck app-test lint report images clean \
        benchmark compat-full deploy e2e compat security load stress soak backup reliability

help:
	@echo "make gate        run every suite against the reference application (exit code = verdict)"
	@echo "make test        the harness's own tests, the app's tests, and the gate's proof of itself"
	@echo "make selfcheck   the heavy self-checks: every broken variant against the suites concerned"
	@echo "make <suite>     one suite: deploy e2e compat security load stress soak backup reliability"
	@echo "make compat-full the compatibility matrix on every Python × PostgreSQL pair"
	@echo "make report      rebuild reports from reports/summary.json"
	@echo "make images      provision the container images ahead of a run"
	@echo "make clean       remove containers/networks of dead runs and generated files"
	@echo "make benchmark   measure stack-up time, suite time and harness overhead"

# System packages the harness needs on a fresh Debian/Ubuntu machine (root only; skipped otherwise).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# The compatibility matrix needs a base image per Python and PostgreSQL: provisioned ahead, two
# Debian suites at a time (cold, offline: about 10 minutes for all eight; cached: seconds).
gate: setup
	$(RG) images --profile $(PROFILE) --compat
	$(RG) run --profile $(PROFILE) $(ARGS)

deploy e2e security load stress soak backup reliability: setup
	$(RG) run --profile $(PROFILE) --suite $@ $(ARGS)

compat: setup
	$(RG) images --profile $(PROFILE) --compat
	$(RG) run --profile $(PROFILE) --suite compat $(ARGS)

# The compatibility suite on every Python × PostgreSQL pair instead of the pairwise default.
compat-full: setup
	$(RG) images --profile $(PROFILE) --compat
	$(RG) run --profile $(PROFILE) --suite compat --set compat.matrix=full $(ARGS)

report: setup
	$(RG) report

images: setup
	$(RG) images --profile $(PROFILE)

lint: setup
	$(BIN)/ruff check releasegate suites fixtures loadtests tests benchmarks conftest.py
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest tests/unit -q

app-test:
	$(MAKE) -C sut/rento test
	$(MAKE) -C tests/apps/ledger test

# The fast part of the gate's proof of itself; `make selfcheck` runs the whole detection matrix.
selftest: setup
	$(RG) images --profile $(PROFILE)
	$(BIN)/pytest tests/integration tests/gate -q -m "not selfcheck"

selfcheck: setup
	$(RG) images --profile $(PROFILE) --compat
	$(RG) selfcheck --profile $(PROFILE)
	# Heavy self-tests beyond the variants; none selected (exit 5) is not a failure here.
	$(BIN)/pytest tests/integration tests/gate -q -m selfcheck || [ $$? -eq 5 ]

test: setup lint unit app-test selftest

benchmark: setup
	$(BIN)/python benchmarks/gate_timing.py

clean:
	-$(RG) clean
	rm -rf reports/run reports/allure-results reports/html reports/history \
	       reports/summary.json reports/summary.md reports/junit.xml
