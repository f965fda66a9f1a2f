"""End-to-end steps the CLI and the training Job share: data -> train -> artifact, and
artifact -> re-evaluation on the same split."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from core.artifact import utc_stamp
from models.base import Recommender
from models.loaded import load_model
from training.artifacts import save_artifact
from training.config import TrainConfig, check_device
from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset, warn_on_stderr
from training.trainer import Evaluator, resolve_device, train


def check_out_dir(out_dir: Path) -> None:
    """Refuse an artifact directory that cannot be created, before any data is loaded or trained on."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ValueError(f"--out {out_dir}: that is an existing file, not a directory; choose another path")
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise ValueError(f"--out {out_dir}: no permission to write in that directory")
        return
    parent = next((p for p in out_dir.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"--out {out_dir}: {parent} is a file, so no directory can be created under it; "
                         f"choose another path")
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out_dir}: no permission to create it in {parent}")


def check_training_inputs(config: TrainConfig, out_dir: Path) -> None:
    """The cheap checks, run first so that a typo fails in a second, not after loading the data."""
    resolved = config.resolved()  # validates the config too
    check_device(resolved.device)
    resolved.check_metric()
    check_out_dir(out_dir)


def train_to_artifact(spec: DataSpec, config: TrainConfig, out_dir: Path, version: str | None = None,
                      progress: bool = True, echo: Callable[[str], None] = print,
                      warn: Callable[[str], None] = warn_on_stderr, refit: bool = False) -> dict[str, object]:
    """Load and split the data, train, write the artifact and ``metrics.json``; return a summary.

    ``refit``: once the held-out parts have measured the model, train it again from scratch on
    every interaction (held-out ones included) for the epochs the first run chose, and ship that
    one, so the served model knows each user's latest interactions; ``metrics.json`` keeps the
    held-out figures of the first run, the only honest estimate of the refit model's quality."""
    started = time.perf_counter()
    config = replace(config, feedback=spec.feedback)
    check_training_inputs(config, out_dir)
    data_read_at = utc_stamp()  # interactions after this are fresh to the serving replicas
    dataset = open_dataset(spec, warn)
    load_seconds = time.perf_counter() - started
    summary = dataset.summary()
    echo(f"data: {summary['users']:,} users, {summary['items']:,} items, {summary['train']:,} train / "
         f"{summary['valid']:,} valid / {summary['test']:,} test ({summary['split']} split, {load_seconds:.1f}s)")
    result = train(dataset, config, out_dir, progress=progress, echo=echo)
    served_model, served_data, refitted = result.model, dataset, None
    if refit:
        served_model, served_data, refitted = refit_on_everything(dataset, result.config, result.best_epoch,
                                                                   progress, echo)
    metrics = {k: v for k, v in result.test_metrics.items() if not k.startswith(("eval_", "negatives_"))}
    training = {
        "config": result.config.to_dict(),
        "data": asdict(spec),
        "data_read_at": data_read_at,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "train_seconds": round(result.train_seconds, 3),  # the epochs' training steps only
        "seconds_per_epoch": round(result.seconds_per_epoch, 3),
        "valid_metrics": result.valid_metrics,
        "device": str(resolve_device(result.config.device)),
    }
    if refitted is not None:
        training["refit"] = refitted
    saving = time.perf_counter()
    # every second the run spent, broken down (the manifest is written with the total so far)
    training["timings"] = timings = {"load_seconds": round(load_seconds, 3), **result.timings}
    if refitted is not None:
        timings["refit_seconds"] = refitted["seconds"]
    manifest_path = save_artifact(out_dir, served_model, served_data, training, metrics, version,
                                  candidates=result.config.precomputed_candidates, echo=echo)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    timings["save_seconds"] = round(time.perf_counter() - saving, 3)
    timings["wall_seconds"] = round(time.perf_counter() - started, 3)
    echo("test: " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if "@" in k or k in ("rmse", "mae")))
    parts = ("load", "setup", "train", "validation", "test") + (("refit",) if refitted else ()) + ("save",)
    echo(f"time: {timings['wall_seconds']:.1f}s = " + " + ".join(f"{p} {timings[f'{p}_seconds']:.1f}" for p in parts))
    return {"artifact": str(out_dir), "manifest": str(manifest_path), "metrics": metrics,
            "best_epoch": result.best_epoch, "train_seconds": training["train_seconds"],
            "seconds_per_epoch": training["seconds_per_epoch"], "timings": timings}


def refit_on_everything(dataset: Dataset, config: TrainConfig, epochs: int, progress: bool = False,
                        echo: Callable[[str], None] = print) -> tuple[Recommender, Dataset, dict[str, object]]:
    """The model trained anew on every interaction for ``epochs`` (the first run's chosen count),
    the dataset it saw, and what the manifest records of it."""
    everything = dataset.with_held_out_in_train()
    epochs = max(1, epochs)
    echo(f"refit: {epochs} epochs on all {len(everything.train):,} interactions "
         f"({len(everything.train) - len(dataset.train):,} of them held out before)")
    # no time budget: the chosen epoch count is the budget, and a cosine schedule anneals over it
    result = train(everything, replace(config, epochs=epochs, time_budget_s=None), progress=progress, echo=echo)
    return result.model, everything, {"epochs": epochs, "interactions": len(everything.train),
                                      "seconds": round(result.timings["total_seconds"], 3)}


def evaluate_artifact(model_dir: Path, data_override: dict[str, object] | None = None, protocol: str | None = None,
                      ks: tuple[int, ...] | None = None, device: str = "auto",
                      warn: Callable[[str], None] = warn_on_stderr) -> dict[str, float]:
    """Rebuild the artifact's data split (optionally from another location of the same data) and
    evaluate the saved model on its test part."""
    check_device(device)
    loaded = load_model(model_dir)
    training = loaded.manifest["training"]
    if "refit" in training:
        raise ValueError(f"{model_dir} was refit on its held-out interactions as well (recsys train --refit), so "
                         "its own test part measures nothing; its metrics.json holds the figures measured before "
                         "the refit")
    spec = DataSpec(**{**training["data"], **(data_override or {})})
    dataset = open_dataset(spec, warn)
    expected = loaded.manifest["dataset"]["fingerprint"]
    if dataset.fingerprint != expected:
        raise ValueError(f"data at '{spec.path}' differs from the artifact's training data "
                         f"(fingerprint {dataset.fingerprint}, artifact {expected}); pass the same data and split")
    config = TrainConfig(**{**training["config"], "device": device})
    if protocol:
        config.protocol = protocol
    if ks:
        config.ks = tuple(ks)
    config = config.resolved()
    torch_device = resolve_device(config.device)
    loaded.model.to(torch_device)
    metrics = Evaluator(dataset, config, torch_device).evaluate(loaded.model, "test")
    return {k: v for k, v in metrics.items() if not k.startswith("negatives_")}
