# Every target sets itself up on a fresh machine: the virtual environment (with the ~3 GB torch
# wheel) lives outside the repository so clones and CI reruns reuse it.
SHELL := /bin/bash
VENV ?= $(HOME)/.cache/recsys/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.recsys-deps-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: venv quickstart test bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)
	@# the editable install points at this checkout (CI clones elsewhere): re-point it cheaply
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1

quickstart: venv
	$(VENV)/bin/recsys quickstart

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/run_all.py

clean:
	rm -rf artifacts build *.egg-info .pytest_cache
