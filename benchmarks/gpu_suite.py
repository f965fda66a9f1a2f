"""One prepared run for a machine with a GPU (the performance issue's GPU checks), in a few minutes:

1. LightGCN on the paper's Gowalla and Yelp2018 splits (batch 4096, lr 0.002, all training data,
   the last epoch reported, no test peeking) within ``--budget`` training seconds each, full-ranking
   Recall@20 / NDCG@20 against the paper's;
2. NeuMF on Amazon Beauty under the NCF protocol (leave-one-out by time, 1 test item among 99 sampled
   negatives, early stopping on the validation item), HR@10 / NDCG@10 and seconds per epoch;
3. the serving benchmark's model kernels (100k users x 50k items, LightGCN dim 64, NeuMF 32 / 64-32-16-8,
   random weights: speed does not depend on them) on the GPU against this machine's CPU: exact
   top-200 retrieval for 1, 16 and 64 queries, and NeuMF over 16 requests x 200 candidates.

The results go to one JSON file with the card named. The datasets are read from
``RECSYS_SHARED_DATA`` (folders ``gowalla-lightgcn``, ``yelp2018-lightgcn``, ``amazon-beauty-s3rec``,
about 13 MB together): on a machine that has only this repository, copy them into an ignored folder
such as ``.devdata/shared`` and point the variable there.

    RECSYS_SHARED_DATA=.devdata/shared python -m benchmarks.gpu_suite                  # on the GPU
    python -m benchmarks.gpu_suite --device cpu --budget 20 --neumf-epochs 1    # the same steps, briefly, on CPU
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.lightgcn_paper import PAPER
from models.ncf import NeuMF
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train


def lightgcn_row(dataset: str, device: str, budget_s: float) -> dict[str, object]:
    data = open_dataset(DataSpec(path=str(shared_data(f"{dataset}-lightgcn")), with_valid=False))
    config = TrainConfig(model="lightgcn", batch_size=4096, lr=0.002, epochs=100_000, eval_every=100_000,
                         device=device, ks=(20,), eval_batch_users=4096, time_budget_s=budget_s)
    started = time.perf_counter()
    result = train(data, config, progress=False, echo=lambda line: print("  " + line, flush=True))
    return {"step": f"LightGCN {dataset}", "epochs": len(result.history), "recall@20": result.test_metrics["recall@20"],
            "ndcg@20": result.test_metrics["ndcg@20"], "paper_recall@20": PAPER[dataset]["recall@20"],
            "s_per_epoch": result.seconds_per_epoch, "wall_s": time.perf_counter() - started}


def neumf_row(device: str, epochs: int, budget_s: float) -> dict[str, object]:
    data = open_dataset(DataSpec(path=str(shared_data("amazon-beauty-s3rec/Beauty.txt")), format="sequence",
                                 split="loo"))
    config = TrainConfig(model="neumf", protocol="sampled", metric="ndcg@10", epochs=epochs, patience=3, ks=(10,),
                         device=device, time_budget_s=budget_s)
    started = time.perf_counter()
    result = train(data, config, progress=False, echo=lambda line: print("  " + line, flush=True))
    return {"step": "NeuMF amazon-beauty (NCF protocol)", "epochs": len(result.history),
            "hr@10": result.test_metrics["hr@10"], "ndcg@10": result.test_metrics["ndcg@10"],
            "s_per_epoch": result.seconds_per_epoch, "wall_s": time.perf_counter() - started}


def _time(run: Callable[[], torch.Tensor], device: torch.device, repeats: int = 50) -> float:
    """Median milliseconds of ``run``, synchronising the GPU around each call."""
    run()  # warm-up: kernels compiled / caches filled
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def kernel_rows(devices: list[str]) -> list[dict[str, object]]:
    users, items, generator = 100_000, 50_000, torch.Generator().manual_seed(0)
    item_matrix = torch.randn(items, 64, generator=generator)
    neumf = NeuMF(users, items).eval()
    rows: list[dict[str, object]] = []
    for name in devices:
        device = torch.device(name)
        on_device, model = item_matrix.to(device), neumf.to(device)
        for batch in (1, 16, 64):
            queries = torch.randn(batch, 64, generator=generator).to(device)
            ms = _time(lambda q=queries, m=on_device: torch.topk(q @ m.T, 200, dim=1).indices, device)
            rows.append({"step": f"retrieval top-200 of 50k, {batch} quer{'y' if batch == 1 else 'ies'}",
                         "device": name, "ms": ms})
        user_ids = torch.randint(0, users, (16,), generator=generator).repeat_interleave(200).to(device)
        item_ids = torch.randint(0, items, (16 * 200,), generator=generator).to(device)
        with torch.inference_mode():
            ms = _time(lambda m=model, u=user_ids, i=item_ids: m.score_pairs(u, i), device)
        rows.append({"step": "NeuMF 16 requests x 200 candidates", "device": name, "ms": ms})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="where to train (default cuda)")
    parser.add_argument("--budget", type=float, default=120.0, help="LightGCN training seconds per dataset")
    parser.add_argument("--neumf-epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "gpu_suite.json")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU is visible here; use --device cpu to check the script")
    card = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "none (CPU)"
    print(f"device: {args.device} ({card})", flush=True)
    rows = [lightgcn_row(name, args.device, args.budget) for name in ("gowalla", "yelp2018")]
    rows.append(neumf_row(args.device, args.neumf_epochs, 10 * args.budget))
    for row in rows:
        print(row, flush=True)
    kernels = kernel_rows(["cpu"] + ([args.device] if args.device != "cpu" else []))
    print("\n" + markdown_table(rows, ["step", "epochs", "recall@20", "ndcg@20", "paper_recall@20", "hr@10", "ndcg@10",
                                       "s_per_epoch", "wall_s"]))
    print("\n" + markdown_table(kernels))
    write_json(args.out, {"card": card, "device": args.device, "lightgcn_budget_s": args.budget,
                          "training": rows, "kernels": kernels})


if __name__ == "__main__":
    main()
