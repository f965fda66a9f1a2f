# Every target sets itself up on a fresh machine: the virtual environment (with the ~3 GB torch
# wheel) lives outside the repository so clones and CI reruns reuse it.
SHELL := /bin/bash
VENV ?= $(HOME)/.cache/recsys/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.recsys-deps-$(shell sha256sum pyproject.toml | cut -c1-12)

PROTOS := $(wildcard proto/recsys/v1/*.proto)

.PHONY: venv quickstart test test-unit lint clean proto proto-check stack-up stack-down

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,dev]'
	@touch $(STAMP)

venv: $(STAMP)
	@# the editable install points at this checkout (CI clones elsewhere): re-point it cheaply
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1

quickstart: venv
	$(VENV)/bin/recsys quickstart

# Generated code is committed; this rebuilds it from proto/ (grpcio-tools is pinned in pyproject).
proto: venv
	$(PY) scripts/gen_proto.py gen/python

# Fails when the committed generated code differs from what proto/ generates.
proto-check: venv
	$(PY) scripts/gen_proto.py --check gen/python

# Everything: unit tests and the tests against real servers (PostgreSQL, Kafka, kube-apiserver,
# Prometheus, helm, tilt), which the stack builds or installs on first use.
test: venv proto-check lint
	$(PY) -m pytest -q

# Tests that start no real server (marker `integration` excluded): the inner development loop.
test-unit: venv
	$(PY) -m pytest -q -m "not integration"

# Ruff (style, imports, common bugs) and the import-layer contracts (pyproject.toml).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Real PostgreSQL + Kafka (KRaft) as local processes; prints the connection settings.
stack-up: venv
	$(PY) -m stack up

stack-down: venv
	$(PY) -m stack down

clean:
	rm -rf artifacts build *.egg-info .pytest_cache
