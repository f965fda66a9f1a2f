"""The layering is enforced, not described: import-linter's contracts (pyproject.toml) hold, they
cover every package of the repository, and every place that lists the packages lists them all."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# generated code (gen/python/recsys) is a contract every layer may use; it is not one of ours to layer
PACKAGES = sorted(p.parent.name for p in REPO.glob("*/__init__.py")
                  if p.parent.name not in ("tests", "benchmarks", "stack")) + ["recsys_operator"]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(REPO / "pyproject.toml")], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_package():
    linter = PYPROJECT["tool"]["importlinter"]
    assert sorted(linter["root_packages"]) == sorted(PACKAGES)
    layers = next(c for c in linter["contracts"] if c["type"] == "layers")["layers"]
    layered = {name.strip() for row in layers for name in row.split("|")}
    assert layered == set(PACKAGES)


def test_every_list_of_packages_names_them_all():
    """The distribution, the image, Tilt's live update and the dev reload each list the packages."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in include} >= set(PACKAGES)
    dockerfile = (REPO / "Dockerfile").read_text()
    tiltfile = (REPO / "Tiltfile").read_text()
    devreload = (REPO / "cli" / "devreload.py").read_text()
    for package in PACKAGES:
        if package != "recsys_operator":  # copied with operator/
            assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.M), f"Dockerfile lacks {package}"
            assert f"'{package}'" in tiltfile, f"Tiltfile's PACKAGES lacks {package}"
        assert f'"{package}"' in devreload, f"cli/devreload.py's PACKAGES lacks {package}"
