"""Each image role runs with its own extra: a serving image without the training/plotting and
operator packages, the operator without torch, a training Job without the serving stack. Checked by
importing each role's entrypoints in a fresh interpreter where the other extras' packages fail to
import, and by the extras themselves."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTRAS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]

# role -> (modules that must not be needed, entrypoints to import, recsys command lines to run)
ROLES = {
    "serve": ({"matplotlib", "pyarrow", "kopf", "kubernetes"},
              ["services.gateway.main", "services.retrieval.main", "services.scoring.main", "services.embedding.main",
               "cli.serve_all", "stream.main"], [["serve", "--help"], ["stream", "--help"]]),
    "operator": ({"torch", "scipy", "matplotlib", "pyarrow", "grpc", "confluent_kafka", "opentelemetry"},
                 ["recsys_operator.main", "recsys_operator.handlers"], [["operator", "--help"]]),
    "train": ({"kopf", "kubernetes", "grpc", "confluent_kafka", "opentelemetry"},
              ["cli.job", "training.trainer", "training.plotting"], [["train", "--help"]]),
}

BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed in this image")
    sys.meta_path.insert(0, Block())
""")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_runs_without_the_other_extras(role):
    blocked, modules, commands = ROLES[role]
    script = (f"BLOCKED = {sorted(blocked)!r}\n" + BLOCKER + "import importlib, contextlib, io\n"
              + "".join(f"importlib.import_module({m!r})\n" for m in modules)
              + "from cli.main import main\n"
              + "".join(f"with contextlib.redirect_stdout(io.StringIO()):\n"
                        f"    try:\n        main({argv!r})\n"
                        f"    except SystemExit as e:\n        assert e.code == 0, e\n"
                        for argv in commands))
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_each_extra_names_what_its_role_imports():
    names = {extra: {r.split(">")[0].split("=")[0].split("[")[0] for r in requirements}
             for extra, requirements in EXTRAS.items()}
    assert {"torch", "grpcio", "confluent-kafka", "opentelemetry-sdk"} <= names["serve"]
    assert {"torch", "pyarrow", "matplotlib"} <= names["train"]
    assert {"kopf", "kubernetes"} <= names["operator"]
    assert not {"matplotlib", "kopf"} & names["serve"] and "torch" not in names["operator"]
    assert EXTRAS["all"] == ["recsys-k8s[serve,train,operator]"]


def test_every_lock_file_pins_its_extra():
    for extra in ("all", "serve", "train", "operator", "dev"):
        lock = (REPO / "requirements" / f"{extra}.lock").read_text()
        assert "protobuf==" in lock and "sqlalchemy==" in lock, extra
    assert "kopf==" not in (REPO / "requirements" / "serve.lock").read_text()
    assert "torch==" not in (REPO / "requirements" / "operator.lock").read_text()
