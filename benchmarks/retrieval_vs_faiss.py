"""Exact top-100 maximum inner product: our retrieval index against faiss's exact IndexFlatIP, in
the same run with the same thread count, for 100k and 1M items x 64 dims, one query and a batch of
64 queries. Results are also checked to be identical (same top-100 sets).

    pip install faiss-cpu   # benchmark-only dependency
    python -m benchmarks.retrieval_vs_faiss
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import REPO, markdown_table, write_json
from services.retrieval.index import ItemIndex


def timed(fn, repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "retrieval_vs_faiss.json")
    args = parser.parse_args()
    import faiss

    threads = torch.get_num_threads()
    faiss.omp_set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        items = rng.standard_normal((n, args.dim), dtype=np.float32)
        ids = [str(i) for i in range(n)]
        ours = ItemIndex(ids, items)
        flat = faiss.IndexFlatIP(args.dim)
        flat.add(items)
        for batch in (1, 64):
            queries = rng.standard_normal((batch, args.dim), dtype=np.float32)
            ours_ms = timed(lambda ours=ours, queries=queries: ours.search(queries, args.k), args.repeats)
            faiss_ms = timed(lambda flat=flat, queries=queries: flat.search(queries, args.k), args.repeats)
            same = all(set(h.indices.tolist()) == set(f.tolist())
                       for h, f in zip(ours.search(queries, args.k), flat.search(queries, args.k)[1]))
            rows.append({"items": n, "queries": batch, "ours_ms": ours_ms, "faiss_flat_ip_ms": faiss_ms,
                         "speedup_vs_faiss": faiss_ms / ours_ms, "same_results": same, "threads": threads})
            print(rows[-1], flush=True)
    print("\n" + markdown_table(rows))
    write_json(args.out, {"k": args.k, "dim": args.dim, "rows": rows})


if __name__ == "__main__":
    main()
