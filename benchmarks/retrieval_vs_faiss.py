"""Exact top-100 maximum inner product: our retrieval index, with the float32 scan and with the
bfloat16 or the int8 first pass plus exact re-rank (services/retrieval/coarse.py), against faiss's exact
IndexFlatIP, in the same run with the same thread count, for 100k and 1M items x 64 dims, one query
and a batch of 64 queries. Results are checked to be identical (same top-100 sets). The memory
bound: the bytes each scan must read over its time, beside this machine's read bandwidth measured
in the same run (a sum over a 1 GB float32 array).

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


def interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Median milliseconds of each function, run in turn ``repeats`` times: a busy moment of a
    shared machine then slows every contender, not whichever happened to be running."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def timed(fn, repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def read_bandwidth_gbs(repeats: int) -> float:
    """This machine's memory read bandwidth with the same threads: summing 1 GB of float32."""
    block = torch.ones(256 * 2**20)
    return block.numel() * 4 / timed(lambda: block.sum(), repeats) / 1e6


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
    bandwidth = read_bandwidth_gbs(args.repeats)
    print(f"memory read bandwidth, {threads} threads: {bandwidth:.1f} GB/s", flush=True)
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        items = rng.standard_normal((n, args.dim), dtype=np.float32)
        ids = [str(i) for i in range(n)]
        exact = ItemIndex(ids, items, coarse=False)
        bfloat16, int8 = ItemIndex(ids, items, coarse="bfloat16"), ItemIndex(ids, items, coarse="int8")
        flat = faiss.IndexFlatIP(args.dim)
        flat.add(items)
        for batch in (1, 64):
            queries = rng.standard_normal((batch, args.dim), dtype=np.float32)
            row = {"items": n, "queries": batch}
            faiss_ids = flat.search(queries, args.k)[1]
            contenders = {"float32": (exact, 4), "bfloat16+rerank": (bfloat16, 2), "int8+rerank": (int8, 1)}
            runs = {name: (lambda index=index, queries=queries: index.search(queries, args.k))
                    for name, (index, _) in contenders.items()}
            runs["faiss"] = lambda flat=flat, queries=queries: flat.search(queries, args.k)
            times = interleaved(runs, args.repeats)
            for name, (index, item_bytes) in contenders.items():
                row[f"{name}_ms"] = times[name]
                row[f"{name}_same_as_faiss"] = all(set(h.indices.tolist()) == set(f.tolist())
                                                   for h, f in zip(index.search(queries, args.k), faiss_ids))
                # one pass over the vectors per call (a batch shares it): the bandwidth it reached
                row[f"{name}_gbs"] = n * args.dim * item_bytes / times[name] / 1e6
            row["faiss_flat_ip_ms"] = times["faiss"]
            for name in contenders:
                row[f"speedup_{name}_vs_faiss"] = row["faiss_flat_ip_ms"] / row[f"{name}_ms"]
            row["threads"] = threads
            rows.append(row)
            print(rows[-1], flush=True)
    print("\n" + markdown_table(rows))
    write_json(args.out, {"k": args.k, "dim": args.dim, "faiss_version": faiss.__version__,
                          "torch_version": torch.__version__, "read_bandwidth_gbs": bandwidth, "rows": rows})


if __name__ == "__main__":
    main()
