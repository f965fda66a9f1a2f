"""Shared helpers for the benchmark scripts: locating the shared datasets, tables, JSON output."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"  # the committed JSON and PNG files docs/benchmarks.md cites


def shared_data(name: str) -> Path:
    """``$RECSYS_SHARED_DATA/<name>``, else ``<repo>/../shared/data/<name>``."""
    root = Path(os.environ.get("RECSYS_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / name
    if not path.exists():
        raise SystemExit(f"dataset '{name}' not found at {path}; set RECSYS_SHARED_DATA to the folder holding it")
    return path


def machine() -> dict[str, object]:
    info: dict[str, object] = {"python": platform.python_version(), "torch": torch.__version__,
                               "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                               "processor": platform.processor() or platform.machine()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def markdown_table(rows: list[dict[str, object]], columns: list[str] | None = None) -> str:
    columns = columns or list(rows[0])

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def dataset_table_cli(doc: str, datasets: dict, epochs: int, out_name: str):
    """The argument parser every per-dataset table script shares."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--dataset", action="append", choices=tuple(datasets), help="repeatable; default: all")
    parser.add_argument("--epochs", type=int, default=epochs, help="epoch budget per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / out_name)
    args = parser.parse_args()
    args.dataset = args.dataset or list(datasets)
    return args


def results_plot_cli(doc: str, plot: Callable[[Path, Path], None], png: str) -> None:
    """The command line every plot drawn from a folder of result files shares: ``--results`` (the
    folder, default benchmarks/results) and ``--out`` (default ``png`` in benchmarks/results)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder with the JSON files")
    parser.add_argument("--out", type=Path, default=RESULTS / png)
    args = parser.parse_args()
    plot(args.results, args.out)


def write_json(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")
