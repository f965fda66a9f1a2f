"""The training Job's entrypoint (`python -m cli.job` / `recsys job`): settings from the
environment (the operator renders them from the RecommenderModel spec), train, evaluate, write the
artifact and a result file the operator reads. Uses CUDA when the node has a GPU.

| variable | default | meaning |
|---|---|---|
| RECSYS_JOB_MODEL | (required) | lightgcn, neumf, gmf, mlp or mf (the spec's `ncf` means neumf) |
| RECSYS_JOB_HYPERPARAMETERS | {} | JSON object of TrainConfig fields (epochs, lr, batch_size, embedding_dim, ...) |
| RECSYS_JOB_DATA | synthetic | a loader's file or directory, `synthetic`, or `store` (exports RECSYS_DATABASE_URL) |
| RECSYS_JOB_DATA_FORMAT | auto | loader format |
| RECSYS_JOB_SYNTHETIC_USERS / _ITEMS | 10000 / 5000 | size of the synthetic catalogue |
| RECSYS_JOB_PROTOCOL / _METRIC | the model's | evaluation protocol (full, sampled) and the metric reported as `value` |
| RECSYS_JOB_OUTPUT | (required) | artifact directory: a `file://` URI or path, on a volume the operator also mounts |
| RECSYS_JOB_VERSION | the directory name | the artifact's version |
| RECSYS_JOB_RESULT | <output>/result.json | where the result goes |
| RECSYS_JOB_REFIT | false | true: after the held-out parts measure the run, retrain on every interaction, ship that |

The result is JSON: ``{"status": "succeeded"|"failed", "version", "artifact_uri", "metrics",
"metric", "value", "device", "message"}``; a failed run writes it too (then exits 1), so the
operator can say why.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from training.config import MODEL_DEFAULTS, TrainConfig

MODEL_ALIASES = {"ncf": "neumf"}
TUNABLE = {f.name for f in fields(TrainConfig)} - {"model", "extra"}


class JobSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class JobSettings:
    model: str
    hyperparameters: dict[str, object]
    data: str
    data_format: str
    synthetic_users: int
    synthetic_items: int
    protocol: str | None
    metric: str | None
    output: Path
    version: str
    result: Path
    refit: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobSettings:
        env = os.environ if env is None else env
        model = MODEL_ALIASES.get(env.get("RECSYS_JOB_MODEL", ""), env.get("RECSYS_JOB_MODEL", ""))
        if model not in MODEL_DEFAULTS or model == "pop":
            choices = ", ".join(m for m in MODEL_DEFAULTS if m != "pop")
            raise JobSettingsError(f"RECSYS_JOB_MODEL must be one of ncf, {choices};"
                                   f" got '{env.get('RECSYS_JOB_MODEL', '')}'")
        try:
            hyper = json.loads(env.get("RECSYS_JOB_HYPERPARAMETERS") or "{}")
        except json.JSONDecodeError as exc:
            raise JobSettingsError(f"RECSYS_JOB_HYPERPARAMETERS is not JSON: {exc}") from None
        if not isinstance(hyper, dict):
            raise JobSettingsError("RECSYS_JOB_HYPERPARAMETERS must be a JSON object")
        unknown = sorted(set(hyper) - TUNABLE)
        if unknown:
            raise JobSettingsError(f"unknown hyperparameters {unknown}; choose from {sorted(TUNABLE)}")
        output = env.get("RECSYS_JOB_OUTPUT", "")
        if not output:
            raise JobSettingsError("RECSYS_JOB_OUTPUT must name the artifact directory")
        out = Path(output.removeprefix("file://"))
        refit = env.get("RECSYS_JOB_REFIT", "false").strip().lower()
        if refit not in ("true", "false"):
            raise JobSettingsError(f"RECSYS_JOB_REFIT must be true or false, got '{refit}'")
        return cls(model=model, hyperparameters=hyper, data=env.get("RECSYS_JOB_DATA", "synthetic"),
                   data_format=env.get("RECSYS_JOB_DATA_FORMAT", "auto"),
                   synthetic_users=int(env.get("RECSYS_JOB_SYNTHETIC_USERS", "10000")),
                   synthetic_items=int(env.get("RECSYS_JOB_SYNTHETIC_ITEMS", "5000")),
                   protocol=env.get("RECSYS_JOB_PROTOCOL") or None, metric=env.get("RECSYS_JOB_METRIC") or None,
                   output=out, version=env.get("RECSYS_JOB_VERSION") or out.name,
                   result=Path(env.get("RECSYS_JOB_RESULT") or out / "result.json"), refit=refit == "true")


def run_job(settings: JobSettings) -> dict[str, object]:
    from training.data.sources import DataSpec
    from training.pipeline import train_to_artifact
    from training.trainer import resolve_device

    hyper = dict(settings.hyperparameters)
    if "layers" in hyper and hyper["layers"] is not None:
        hyper["layers"] = tuple(hyper["layers"])
    if "ks" in hyper:
        hyper["ks"] = tuple(hyper["ks"])
    config = TrainConfig(model=settings.model, protocol=settings.protocol, **hyper)
    if settings.metric:
        config.metric = settings.metric
    data, data_format = settings.data, settings.data_format
    with tempfile.TemporaryDirectory(prefix="recsys-job-") as scratch:
        if data == "store":
            data, data_format = _export_store(Path(scratch)), "parquet"
        spec = DataSpec(path=data, format=data_format, synthetic_users=settings.synthetic_users,
                        synthetic_items=settings.synthetic_items, seed=config.seed)
        settings.output.mkdir(parents=True, exist_ok=True)
        summary = train_to_artifact(spec, config, settings.output, version=settings.version, progress=False,
                                    refit=settings.refit)
    metric = config.resolved().metric
    metrics = summary["metrics"]
    return {"status": "succeeded", "version": settings.version, "artifact_uri": f"file://{settings.output.resolve()}",
            "metrics": metrics, "metric": metric, "value": metrics.get(metric),
            "device": str(resolve_device(config.device)), "message": f"trained {settings.model}: {metric} "
            f"{metrics.get(metric, float('nan')):.4f}"}


def _export_store(scratch: Path) -> str:
    from store.bulk import export_parquet
    from store.db import make_engine

    engine = make_engine()
    try:
        out = scratch / "interactions.parquet"
        export_parquet(engine, out, progress=False)
        return str(out)
    finally:
        engine.dispose()


def write_result(path: Path, result: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(result, indent=2))
    partial.replace(path)  # the operator never reads half a result


def main(env: Mapping[str, str] | None = None) -> int:
    try:
        settings = JobSettings.from_env(env)
    except JobSettingsError as exc:
        print(f"recsys job: error: {exc}", file=sys.stderr)
        return 2
    from models.threads import configure_torch_threads

    configure_torch_threads()  # the pod's CPU limit, not the node's cores
    try:
        result = run_job(settings)
    except Exception as exc:  # noqa: BLE001 - any failure must reach the operator as a reason
        traceback.print_exc()
        result = {"status": "failed", "version": settings.version, "message": f"{type(exc).__name__}: {exc}"}
        write_result(settings.result, result)
        return 1
    write_result(settings.result, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
