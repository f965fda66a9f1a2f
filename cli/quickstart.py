"""`recsys quickstart`: the whole training story on a synthetic Amazon-like catalogue, embedded
defaults only (no servers): generate, split, train NeuMF and LightGCN, compare them with a
popularity baseline under both protocols, save artifacts, and show real recommendations."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from cli.settings import QUICKSTART
from core.artifact import utc_stamp
from models.loaded import load_model
from training.artifacts import save_artifact
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import Evaluator, resolve_device, train

COLUMNS = ("hr@10", "ndcg@10", "recall@20", "ndcg@20", "coverage@20")


def _row(name: str, sampled: dict[str, float], full: dict[str, float], seconds: float) -> dict[str, object]:
    return {"model": name, "hr@10 (sampled)": sampled["hr@10"], "ndcg@10 (sampled)": sampled["ndcg@10"],
            "recall@20 (full)": full["recall@20"], "ndcg@20 (full)": full["ndcg@20"],
            "coverage@20": full["coverage@20"], "train_s": seconds}


def format_table(rows: list[dict[str, object]]) -> str:
    headers = list(rows[0])
    cells = [[f"{v:.4f}" if isinstance(v, float) and k != "train_s"
               else (f"{v:.1f}" if isinstance(v, float) else str(v))
              for k, v in row.items()] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def run_quickstart(out_dir: Path, n_users: int = 6_000, n_items: int = 3_000, epochs: int | None = None,
                   seed: int = 0, progress: bool = True) -> list[dict[str, object]]:
    started = time.perf_counter()
    spec = DataSpec(path="synthetic", synthetic_users=n_users, synthetic_items=n_items, seed=seed)
    data_read_at = utc_stamp()
    dataset = open_dataset(spec)
    s = dataset.summary()
    print(f"synthetic catalogue: {s['users']:,} users, {s['items']:,} products, {s['train']:,} training interactions "
          f"(leave-one-out by time: 1 validation + 1 test item per user)")
    plans = {
        "pop": TrainConfig(model="pop", seed=seed),
        # Larger batches than the papers' defaults keep the quickstart to a few minutes on 2 cores.
        "neumf": TrainConfig(model="neumf", epochs=epochs or 8, batch_size=1024, lr=0.002, metric="ndcg@10",
                             protocol="sampled", patience=3, seed=seed),
        "lightgcn": TrainConfig(model="lightgcn", epochs=epochs or 40, batch_size=2048, lr=0.005,
                                protocol="full", metric="recall@20", patience=5, eval_every=5, seed=seed),
    }
    rows, artifacts = [], {}
    for name, config in plans.items():
        print(f"\n== {name} ==")
        result = train(dataset, config, out_dir / name, progress=progress)
        device = resolve_device(result.config.device)
        other = "full" if result.config.protocol == "sampled" else "sampled"
        second = Evaluator(dataset, replace(result.config, protocol=other), device).evaluate(result.model, "test")
        sampled, full = (result.test_metrics, second) if other == "full" else (second, result.test_metrics)
        rows.append(_row(name, sampled, full, result.train_seconds))
        metrics = {**{f"{k}": v for k, v in sampled.items() if "@" in k},
                   **{f"{k}": v for k, v in full.items() if "@" in k and k not in sampled}}
        save_artifact(out_dir / name, result.model, dataset, {"config": result.config.to_dict(), "data": spec.__dict__,
                                                            "data_read_at": data_read_at},
                      metrics)
        (out_dir / name / "metrics.json").write_text(json.dumps(metrics, indent=2))
        artifacts[name] = out_dir / name

    print("\nTest results (HR/NDCG@10: rank among 100 = 1 held-out + 99 sampled; Recall/NDCG@20: all items)")
    print(format_table(rows))
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2))
    _show_recommendations(artifacts, dataset)
    from cli.event_demo import run_event_demo  # the serving side of the embedded default
    from cli.synthetic_traffic import events_from_synthetic
    from training.data.synthetic import SyntheticConfig, generate

    run_event_demo(artifacts["lightgcn"], dataset.catalogue, out_dir / "recsys.db",
                   history=events_from_synthetic(generate(SyntheticConfig(n_users=n_users, n_items=n_items,
                                                                          seed=seed))))
    print(f"\nartifacts in {out_dir}/ (manifest.json, weights, training_curves.png); "
          f"total {time.perf_counter() - started:.0f}s")
    if out_dir.resolve() == QUICKSTART.resolve():
        print("serve them: recsys serve all   (gRPC gateway on localhost:50051; web interface and HTTP API on "
              "http://localhost:8080)")
    return rows


def _show_recommendations(artifacts: dict[str, Path], dataset) -> None:
    lightgcn, neumf = load_model(artifacts["lightgcn"]), load_model(artifacts["neumf"])
    catalogue = lightgcn.catalogue()
    title = lambda item: catalogue.get(item, {}).get("title") or item  # noqa: E731
    for user in dataset.user_ids[:: max(1, dataset.n_users // 3)][:3].tolist():
        history = [dataset.item_ids[i] for i in lightgcn.seen_items(user)[-4:]]
        print(f"\nuser {user} recently: " + "; ".join(title(i) for i in history))
        for name, model in (("LightGCN", lightgcn), ("NeuMF", neumf)):
            top = model.predict(user, 5)
            print(f"  {name:<8} -> " + "; ".join(f"{title(i)} ({s:.2f})" for i, s in top))
