"""NeuMF full-ranking scores (every user x every item, what full-ranking evaluation needs): the
generic path, which runs every (user, item) pair's embeddings through the MLP, against NeuMF's own
`score_all` (first layer split into a user and an item projection, item chunks of bounded size),
in the same run, each in its own process for its peak memory.

Sizes of a held-out Amazon category (19,000 users x 12,000 items), NeuMF as `recsys train` builds it
(embedding 32, layers 64-32-16-8), random weights (speed and memory do not depend on them). The
generic path is timed on --reference-users users and projected to all users; the two are compared
score by score and top-20 by top-20 on those users.

    python -m benchmarks.neumf_full_ranking           # JSON: bench-results/neumf_full_ranking.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USERS, ITEMS, BATCH = 19_000, 12_000, 1024  # BATCH: TrainConfig.eval_batch_users


def worker(path: str, users: int, out: Path) -> None:
    import torch

    from models.base import Recommender
    from models.ncf import NeuMF

    torch.manual_seed(0)
    model = NeuMF(USERS, ITEMS, 32, (64, 32, 16, 8)).eval()
    with torch.no_grad():
        for parameter in model.parameters():  # weights of a trained model's scale, not all ~0
            parameter.normal_(0, 0.3)
    score = model.score_all if path == "neumf" else (lambda u: Recommender.score_all(model, u))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    tops, sample = [], None
    with torch.no_grad():
        for start in range(0, users, BATCH):
            scores = score(torch.arange(start, min(users, start + BATCH)))
            tops.append(torch.topk(scores, 20, dim=1).indices)
            if sample is None:
                sample = scores[:64].clone()
    seconds = time.perf_counter() - started
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    torch.save({"top": torch.cat(tops), "sample": sample}, out)
    print(json.dumps({"path": path, "users": users, "seconds": seconds, "peak_extra_mb": peak_mb,
                      "threads": torch.get_num_threads()}))


def run(path: str, users: int, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.neumf_full_ranking", "--worker", path, "--users",
                           str(users), "--tensors", str(out)], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-users", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "neumf_full_ranking.json")
    parser.add_argument("--worker", choices=("generic", "neumf"), help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tensors", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.users, args.tensors)
        return
    import tempfile

    import torch

    from benchmarks.common import markdown_table, write_json

    with tempfile.TemporaryDirectory() as tmp:
        generic = run("generic", args.reference_users, Path(tmp) / "generic.pt")
        ours = run("neumf", USERS, Path(tmp) / "neumf.pt")
        reference, fast = torch.load(Path(tmp) / "generic.pt"), torch.load(Path(tmp) / "neumf.pt")
    n = args.reference_users
    same_top = float((reference["top"] == fast["top"][:n]).all(dim=1).float().mean())
    max_diff = float((reference["sample"] - fast["sample"]).abs().max())
    rows = []
    for measured in (generic, ours):
        per_1k = measured["seconds"] / measured["users"] * 1000
        rows.append({"path": "generic (every pair through the MLP)" if measured["path"] == "generic"
                     else "NeuMF.score_all (split first layer, item chunks)",
                     "users timed": measured["users"], "s per 1k users": per_1k,
                     f"all {USERS:,} users (s)": per_1k * USERS / 1000, "peak extra MB": measured["peak_extra_mb"]})
    speedup = rows[0]["s per 1k users"] / rows[1]["s per 1k users"]
    print(f"\nNeuMF full-ranking scores, {USERS:,} users x {ITEMS:,} items, batches of {BATCH} users, "
          f"{ours['threads']} threads")
    print(markdown_table(rows))
    print(f"speed-up {speedup:.1f}x; identical top-20 for {same_top:.1%} of {n:,} users; "
          f"largest score difference {max_diff:.2e}")
    write_json(args.out, {"users": USERS, "items": ITEMS, "batch_users": BATCH, "rows": rows, "speedup": speedup,
                          "identical_top20_share": same_top, "max_abs_score_diff": max_diff})


if __name__ == "__main__":
    main()
