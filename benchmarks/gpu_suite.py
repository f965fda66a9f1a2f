"""One prepared run for a machine with a GPU (the performance issue's GPU checks), in under 10 minutes:

1. the serving benchmark's model kernels (100k users x 50k items, LightGCN dim 64, NeuMF 32 / 64-32-16-8,
   random weights: speed does not depend on them) on the GPU against this machine's CPU: exact
   top-200 retrieval for 1, 16 and 64 queries, and NeuMF over 16 requests x 200 candidates;
2. LightGCN on the paper's Gowalla and Yelp2018 splits, each ``--run DATASET:BATCH:LR:SCHEDULE[:LOSS[:K[:R]]][@E]``
   within ``--budget`` training seconds, or for exactly E epochs with ``@E`` (all training data, the
   last epoch reported, no test peeking), full-ranking Recall@20 / NDCG@20 against the paper's;
   ``cosine`` anneals the learning rate to zero over the budget (over the E epochs with ``@E``),
   ``constant`` holds it; LOSS is ``softmax`` (sampled softmax, 1024 shared negatives, temperature
   0.1) or ``bpr`` (the paper's, the default and the reference), K the hard negatives of BPR (the
   hardest of K candidates per pair trains; ``Kmix``: a negative mixed from them, MixGCF; 1, the
   default: a uniform draw), R the recency weight of BPR's pairs (each weighted 1 + R x its place
   along its user's line; ``Rexp``: e^(R x its place); 0, the default: all alike). Hard negatives
   peak after a number of epochs, not seconds (16-25 for the hardest of 32, about 45 for MixGCF on
   the CPU's tail hold-out; docs/benchmarks.md), so their default runs are counted in epochs;
   each row also ranks with the users' most recent items in their queries at the weight chosen for
   the dataset on the CPU's tail hold-out runs (``--recent-item-weight DATASET=W``; docs/benchmarks.md);
3. NeuMF on Amazon Beauty under the NCF protocol (leave-one-out by time, 1 test item among 99 sampled
   negatives, early stopping on the validation item), HR@10 / NDCG@10 and seconds per epoch.

Steps that would not finish before ``--deadline`` are skipped (and listed), and the JSON file (card
named) is rewritten after every step, so a run cut short still returns what it measured. The
datasets are read from ``RECSYS_SHARED_DATA`` (folders ``gowalla-lightgcn``, ``yelp2018-lightgcn``,
``amazon-beauty-s3rec``, about 13 MB together): on a machine that has only this repository, copy them
into an ignored folder such as ``.devdata/shared`` and point the variable there.

    RECSYS_SHARED_DATA=.devdata/shared python -m benchmarks.gpu_suite                  # on the GPU
    python -m benchmarks.gpu_suite --device cpu --budget 20 --neumf-budget 20 --run gowalla:16384:0.01:cosine:softmax
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.lightgcn_paper import PAPER, with_recent_items
from models.ncf import NeuMF
from training.config import LR_SCHEDULES, TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train

LIGHTGCN_LOSSES = ("bpr", "softmax")
# chosen on the last 20% of each train.txt line in 15 CPU minutes (BPR on Gowalla, the softmax on
# Yelp2018), never on test.txt: benchmarks/results/cpu-*-recent-item-selection.json
RECENT_ITEM_WEIGHTS = {"gowalla": 1.0, "yelp2018": 0.25}


@dataclass(frozen=True)
class LightGCNRun:
    dataset: str
    batch_size: int
    lr: float
    schedule: str
    loss: str = "bpr"
    hard_negatives: int = 1
    mixing: bool = False  # MixGCF: the negative mixed from the K candidates
    epochs: int | None = None  # None: as many as the time budget allows
    recency_weight: float = 0.0  # bpr: each pair weighted 1 + W x its place along its user's line
    recency_shape: str = "linear"  # or exponential: e^(W x its place)

    @classmethod
    def parse(cls, text: str) -> LightGCNRun:
        """``DATASET:BATCH:LR:SCHEDULE[:LOSS[:K[:R]]][@E]``, e.g. ``gowalla:16384:0.01:cosine:bpr:32:4exp@23``;
        K may end in ``mix`` (``32mix``); R is the recency weight, ending in ``exp`` for the exponential shape."""
        spec, at, epochs = text.partition("@")
        try:
            dataset, batch, lr, schedule, *rest = spec.split(":")
            if len(rest) > 3:
                raise ValueError(text)
            count = rest[1] if len(rest) >= 2 else "1"
            mixing = count.endswith("mix")
            recency = rest[2] if len(rest) == 3 else "0"
            run = cls(dataset, int(batch), float(lr), schedule, loss=rest[0] if rest else "bpr",
                      hard_negatives=int(count.removesuffix("mix")), mixing=mixing,
                      epochs=int(epochs) if at else None, recency_weight=float(recency.removesuffix("exp")),
                      recency_shape="exponential" if recency.endswith("exp") else "linear")
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected DATASET:BATCH:LR:SCHEDULE[:LOSS[:K[:R]]][@E], "
                                             f"got '{text}'") from None
        if (dataset not in PAPER or schedule not in LR_SCHEDULES or run.loss not in LIGHTGCN_LOSSES
                or run.batch_size <= 0 or run.lr <= 0 or run.hard_negatives < 1
                or (run.hard_negatives > 1 and run.loss != "bpr") or (run.mixing and run.hard_negatives < 2)
                or (run.epochs is not None and run.epochs < 1) or run.recency_weight < 0
                or (run.recency_weight and run.loss != "bpr")
                or (run.recency_shape == "exponential" and not run.recency_weight)):
            raise argparse.ArgumentTypeError(f"'{text}': dataset one of {', '.join(PAPER)}, schedule one of "
                                             f"{', '.join(LR_SCHEDULES)}, loss one of {', '.join(LIGHTGCN_LOSSES)}, "
                                             "batch and lr > 0, K >= 1 (above 1 with bpr only; Kmix: K >= 2), "
                                             "R >= 0 (above 0 with bpr only; Rexp: R > 0), E >= 1")
        return run

    def train_config(self, device: str, budget_s: float, **settings: object) -> TrainConfig:
        """The training configuration of this run; ``settings``: the caller's other fields (evaluation).
        A run counted in epochs has no time budget, so a cosine schedule anneals over its epochs."""
        return TrainConfig(model="lightgcn", batch_size=self.batch_size, lr=self.lr, lr_schedule=self.schedule,
                           epochs=self.epochs or 100_000, device=device, ks=(20,),
                           time_budget_s=None if self.epochs else budget_s, loss=self.loss,
                           hard_negatives=self.hard_negatives, hard_negative_mixing=self.mixing,
                           recency_weight=self.recency_weight, recency_shape=self.recency_shape, **settings)

    @property
    def name(self) -> str:
        loss = (f"bpr mixed from {self.hard_negatives}" if self.mixing
                else f"bpr hardest of {self.hard_negatives}" if self.hard_negatives > 1 else self.loss)
        length = f" {self.epochs} epochs" if self.epochs is not None else ""
        shape = " exponential" if self.recency_shape == "exponential" else ""
        recency = f" recency-weighted{shape} {self.recency_weight:g}" if self.recency_weight else ""
        return f"LightGCN {self.dataset} b{self.batch_size} lr {self.lr} {self.schedule} {loss}{recency}{length}"


# Gowalla's hard negatives replace its softmax run, which trails BPR on that split; their epochs are
# the peaks of the CPU's tail hold-out runs (docs/benchmarks.md: the hardest of 32 at 23 epochs on
# Gowalla, 16 on Yelp2018; MixGCF at 45 on Gowalla; the exponential recency weight 4 chosen the same way).
DEFAULT_RUNS = ("gowalla:16384:0.01:cosine:bpr:32:4exp@23", "gowalla:16384:0.01:cosine:bpr:32@23",
                "yelp2018:16384:0.01:cosine:bpr:32@16",
                "gowalla:16384:0.01:cosine:bpr", "yelp2018:16384:0.01:cosine:bpr",
                "gowalla:16384:0.01:cosine:bpr:32mix@45")


def lightgcn_row(run: LightGCNRun, device: str, budget_s: float, recent_weight: float = 0.0) -> dict[str, object]:
    data = open_dataset(DataSpec(path=str(shared_data(f"{run.dataset}-lightgcn")), with_valid=False))
    config = run.train_config(device, budget_s, eval_every=100_000, eval_batch_users=4096)
    started = time.perf_counter()
    result = train(data, config, progress=False, echo=_every_tenth_epoch)
    recent = with_recent_items(result.model, data, {}, (recent_weight,))[0] if recent_weight else {}
    return {"step": run.name,
            "epochs": len(result.history), "recall@20": result.test_metrics["recall@20"],
            "ndcg@20": result.test_metrics["ndcg@20"], "paper_recall@20": PAPER[run.dataset]["recall@20"],
            "recent_item_weight": recent_weight, "recent_recall@20": recent.get("recall@20"),
            "recent_ndcg@20": recent.get("ndcg@20"),
            "s_per_epoch": result.seconds_per_epoch, "wall_s": time.perf_counter() - started,
            "timings": result.timings,
            "history": [{k: round(v, 5) for k, v in row.items() if k in ("epoch", "loss", "lr", "epoch_seconds")}
                        for row in result.history]}


def _dataset_weight(text: str) -> tuple[str, float]:
    """``DATASET=W`` for ``--recent-item-weight``."""
    dataset, _, weight = text.partition("=")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if dataset not in PAPER or value < 0:
        raise argparse.ArgumentTypeError(f"expected DATASET=W with DATASET one of {', '.join(PAPER)} and W >= 0, "
                                         f"got '{text}'")
    return dataset, value


def _every_tenth_epoch(line: str) -> None:
    """Progress without a line per epoch (hundreds of them on a GPU)."""
    words = line.split()
    if words[1:2] == ["epoch"] and words[2].split("/")[0].strip().isdigit() and int(words[2].split("/")[0]) % 10:
        return
    print("  " + line, flush=True)


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
    parser.add_argument("--run", action="append", type=LightGCNRun.parse,
                        help="repeatable LightGCN run DATASET:BATCH:LR:SCHEDULE[:LOSS[:K[:R]]][@E] "
                             f"(default: {' '.join(DEFAULT_RUNS)})")
    parser.add_argument("--budget", type=float, default=100.0, help="LightGCN training seconds per run")
    parser.add_argument("--recent-item-weight", action="append", type=_dataset_weight, default=[],
                        metavar="DATASET=W", help="also rank with each user's most recent item at this weight "
                        f"(0: not); default {' '.join(f'{k}={v:g}' for k, v in RECENT_ITEM_WEIGHTS.items())}")
    parser.add_argument("--neumf-epochs", type=int, default=20)
    parser.add_argument("--neumf-budget", type=float, default=60.0, help="NeuMF training + validation seconds")
    parser.add_argument("--deadline", type=float, default=540.0,
                        help="skip steps that would end after this many seconds from the start")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "gpu_suite.json")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU is visible here; use --device cpu to check the script")
    began = time.perf_counter()
    card = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "none (CPU)"
    print(f"device: {args.device} ({card})", flush=True)
    report: dict[str, object] = {"card": card, "device": args.device, "lightgcn_budget_s": args.budget,
                                 "training": [], "kernels": [], "skipped": []}
    report["kernels"] = kernel_rows(["cpu"] + ([args.device] if args.device != "cpu" else []))
    print(markdown_table(report["kernels"]), flush=True)
    write_json(args.out, report)
    recent_weights = {**RECENT_ITEM_WEIGHTS, **dict(args.recent_item_weight)}
    steps = [(run.name, args.budget,
              lambda run=run: lightgcn_row(run, args.device, args.budget, recent_weights[run.dataset]))
             for run in (args.run or [LightGCNRun.parse(text) for text in DEFAULT_RUNS])]
    steps.insert(min(3, len(steps)), ("NeuMF amazon-beauty", args.neumf_budget,
                                      lambda: neumf_row(args.device, args.neumf_epochs, args.neumf_budget)))
    for name, budget, step in steps:
        # data loading and the final full-ranking evaluation take about 15 s beyond the training budget
        if time.perf_counter() - began + budget + 15 > args.deadline:
            print(f"skipped (would pass the {args.deadline:.0f}s deadline): {name}", flush=True)
            report["skipped"].append(name)
            continue
        print(f"{name} ...", flush=True)
        row = step()
        report["training"].append(row)
        print({k: v for k, v in row.items() if k != "history"}, flush=True)
        write_json(args.out, report)
    columns = ["step", "epochs", "recall@20", "ndcg@20", "paper_recall@20", "recent_item_weight", "recent_recall@20",
               "hr@10", "ndcg@10", "s_per_epoch", "wall_s"]
    print("\n" + markdown_table(report["training"], columns))
    print(f"total {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
