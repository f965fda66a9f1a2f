# Every target sets itself up on a fresh machine: the virtual environment (with the ~3 GB torch
# wheel) lives outside the repository so clones and CI reruns reuse it.
SHELL := /bin/bash
VENV ?= $(HOME)/.cache/recsys/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.recsys-deps-$(shell cat pyproject.toml requirements/dev.lock | sha256sum | cut -c1-12)
LOCKS := all serve train operator
UV_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header

PROTOS := $(wildcard proto/recsys/v1/*.proto)

.PHONY: venv quickstart test test-unit lint lock clean proto proto-check stack-up stack-down cluster-up cluster-down image stack-chart

# Exact versions from the lock file (requirements/dev.lock: every extra plus test and dev tools).
$(STAMP): pyproject.toml requirements/dev.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)
	@# the editable install points at this checkout (CI clones elsewhere): re-point it cheaply
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1

quickstart: venv
	$(VENV)/bin/recsys quickstart

# Re-resolve the lock files after changing dependencies in pyproject.toml (CPython 3.11, Linux x86-64):
# dev.lock for make, one per image extra for the Dockerfile (build-arg EXTRA).
lock: venv
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra all --extra test --extra dev $(UV_TARGET) -o requirements/dev.lock
	for extra in $(LOCKS); do \
	  $(VENV)/bin/uv pip compile -q pyproject.toml --extra $$extra $(UV_TARGET) -o requirements/$$extra.lock; done
	$(VENV)/bin/uv pip compile -q requirements/build.in $(UV_TARGET) -o requirements/build.lock

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

# A real single-node Kubernetes cluster in its own network namespace (root; binaries built on first use).
cluster-up: venv
	$(PY) -m stack cluster up

cluster-down: venv
	$(PY) -m stack cluster down

# The Dockerfile built with buildah (debootstrap base, wheels from PyPI; no registry), loaded into the
# running cluster; EXTRA=serve|train|operator for a one-role image. Last line: `image: NAME:TAG`.
EXTRA ?= all
image: venv
	$(PY) -m stack image --extra $(EXTRA)

# helm/recsys-stack with its local subcharts packaged into build/charts/recsys-stack, for a cluster
# where the chart repositories cannot be reached (kube-prometheus-stack then stays off).
stack-chart: venv
	$(PY) -m stack chart build/charts

clean:
	rm -rf artifacts build *.egg-info .pytest_cache
