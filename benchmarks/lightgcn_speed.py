"""Speed and memory of our LightGCN against the official PyTorch code (gusye1234/LightGCN-PyTorch),
on the LightGCN paper's Gowalla split at the paper's settings (embedding 64, 3 layers, batch 2048,
Adam lr 0.001, L2 1e-4), on CPU.

Method
------
Each implementation runs in its own subprocess (this file with ``--worker ours``, or a small
driver for the official code written to a temporary directory), so that imports, caches and the
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` read at the end of the
worker) never mix. Both workers run with the same torch and the same number of threads, with
CUDA hidden. In each worker:

* **adjacency**: the normalised graph D^-1/2 A D^-1/2 is built from the training interactions and
  turned into the torch sparse tensor the model multiplies with. Ours: ``LightGCN.set_graph``
  (normalisation, reverse Cuthill-McKee reordering and the CSR tensor; median of 3). Official:
  ``Loader.getSparseGraph()`` once, with its ``s_pre_adj_mat.npz`` cache deleted beforehand and its
  ``save_npz`` disabled, so the build is timed and nothing is written next to the data.
* **per batch**: one epoch's training samples are drawn (ours: the first ``next()`` of
  ``PairwiseTask.batches``, i.e. the vectorised negative sampling and shuffle; official:
  ``utils.UniformSample_original`` + tensor conversion + ``utils.shuffle``, exactly as
  ``Procedure.BPR_train_original`` does), then mini-batches of 2048 are trained as the respective
  loops do (ours: zero_grad, ``PairwiseTask.loss``, backward, Adam step, loss read back; official:
  ``BPRLoss.stageOne`` = ``bpr_loss`` + L2 + Adam step + ``loss.item()``). After ``--warmup``
  batches, ``--batches`` are timed one by one and the median is taken (robust to other processes
  on the machine). Per batch = median step + epoch sampling time / batches per epoch; seconds per
  epoch = per batch x ceil(n_train / 2048).
* **eval**: one full-ranking pass over all test users, top-20, training items excluded. Ours:
  ``evaluation.full_ranking`` (propagates once, scores 1024 users at a time). Official:
  ``Procedure.Test`` (test batch 100 users, as its defaults). The official pass is first probed on
  ``--probe-users`` users; if the full pass extrapolates past ``--max-eval-s`` only the probe is
  kept and the full time is extrapolated linearly (the output says so).

The official code parses ``sys.argv`` at import (parse.py via world.py), so the driver sets argv to
the paper's settings before importing it, forces ``world.device`` to CPU and builds
``dataloader.Loader`` on a gunzipped copy of the data in a cache directory outside this repository.
It imports ``pandas`` (only for its LastFM loader) and ``sklearn.metrics.roc_auc_score`` (only for
an AUC that its Test leaves commented out); when those are not installed, stub modules from a
temporary directory appended to the end of ``sys.path`` stand in for them (the output lists which
were stubbed). Without ``cppimport`` the official code falls back to its own pure-Python sampler
(``UniformSample_original_python``); the output reports which sampler ran.

    python benchmarks/lightgcn_speed.py [--data-dir DIR] [--batches 30] [--out bench-results/lightgcn_speed.json]

``LIGHTGCN_OFFICIAL`` points at the official checkout (default
``/root/.cache/recsys/ref/LightGCN-PyTorch``); when it is absent only ours is measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULT_MARKER = "@@LIGHTGCN_SPEED_RESULT@@"
DEFAULT_OFFICIAL = "/root/.cache/recsys/ref/LightGCN-PyTorch"
PAPER = {"embedding_dim": 64, "n_layers": 3, "batch_size": 2048, "lr": 0.001, "reg": 1e-4, "topk": 20}


# --------------------------------------------------------------------------------------- helpers


def default_data_dir() -> Path:
    root = Path(os.environ.get("RECSYS_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root / "gowalla-lightgcn"


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB, macOS in bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def progress(tag: str, message: str) -> None:
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {message}", flush=True)


def emit_result(payload: dict[str, Any]) -> None:
    print(RESULT_MARKER + json.dumps(payload), flush=True)


def per_batch_summary(step_seconds: list[float], sample_seconds: float, n_batches: int) -> dict[str, Any]:
    step = statistics.median(step_seconds)
    per_batch = step + sample_seconds / n_batches
    return {"step_s_median": step, "step_s_min": min(step_seconds), "step_s_max": max(step_seconds),
            "step_s_all": step_seconds, "sample_s_per_epoch": sample_seconds, "batches_per_epoch": n_batches,
            "per_batch_s": per_batch, "epoch_s": per_batch * n_batches}


# ------------------------------------------------------------------------------ our implementation


def run_ours(data_dir: Path, batches: int, warmup: int) -> dict[str, Any]:
    """Measure our LightGCN in this process; returns the result record."""
    import warnings

    import numpy as np
    import torch

    warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
    from models.lightgcn import LightGCN
    from training import evaluation
    from training.config import TrainConfig
    from training.data.sources import DataSpec, open_dataset
    from training.trainer import make_model, make_task, seed_everything

    tag = "ours"
    loadavg_start = os.getloadavg()
    device = torch.device("cpu")
    started = time.perf_counter()
    dataset = open_dataset(DataSpec(path=str(data_dir), with_valid=False))
    load_s = time.perf_counter() - started
    progress(tag, f"loaded {dataset.n_users} users, {dataset.n_items} items, {len(dataset.train)} train / "
                  f"{len(dataset.test)} test interactions in {load_s:.1f}s")

    adjacency_runs = []
    for _ in range(3):
        started = time.perf_counter()
        graph = LightGCN(dataset.n_users, dataset.n_items).set_graph(dataset.train.users, dataset.train.items)
        adjacency_runs.append(time.perf_counter() - started)
    del graph
    adjacency_s = statistics.median(adjacency_runs)
    progress(tag, f"adjacency {adjacency_s:.3f}s (median of {len(adjacency_runs)})")

    config = TrainConfig(model="lightgcn", embedding_dim=PAPER["embedding_dim"], n_layers=PAPER["n_layers"],
                         batch_size=PAPER["batch_size"], lr=PAPER["lr"], reg=PAPER["reg"], device="cpu",
                         ks=(PAPER["topk"],)).resolved()
    seed_everything(config.seed)
    model = make_model(config, dataset, device)
    task = make_task(config, dataset, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_batches = task.n_batches()
    if warmup + batches > n_batches:
        raise SystemExit(f"--warmup + --batches must be at most {n_batches} (one epoch)")

    model.train()
    started = time.perf_counter()
    stream = task.batches(1)
    batch = next(stream)  # draws the epoch's negatives and the shuffle
    sample_s = time.perf_counter() - started
    progress(tag, f"epoch sampling {sample_s:.3f}s; {n_batches} batches per epoch")
    steps: list[float] = []
    for i in range(warmup + batches):
        if i > 0:
            batch = next(stream)
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = task.loss(model, batch)
        loss.backward()
        optimizer.step()
        float(loss.detach())
        elapsed = time.perf_counter() - started
        if i >= warmup:
            steps.append(elapsed)
        if (i + 1) % 10 == 0 or i + 1 == warmup + batches:
            progress(tag, f"batch {i + 1}/{warmup + batches}: {elapsed:.3f}s (loss {float(loss.detach()):.4f})")
    training = per_batch_summary(steps, sample_s, n_batches)
    progress(tag, f"per batch {training['per_batch_s']:.3f}s -> {training['epoch_s']:.1f}s per epoch")

    started = time.perf_counter()
    metrics = evaluation.full_ranking(model, dataset.test, [dataset.train], [PAPER["topk"]],
                                      batch_users=config.eval_batch_users, device=device)
    eval_s = time.perf_counter() - started
    progress(tag, f"full-ranking eval {eval_s:.1f}s over {int(metrics['eval_users'])} users "
                  f"(recall@20 {metrics['recall@20']:.4f} after {warmup + batches} batches)")
    return {
        "implementation": "ours", "data_load_s": load_s, "adjacency_s": adjacency_s,
        "adjacency_s_all": adjacency_runs, **training,
        "eval_s": eval_s, "eval_extrapolated": False, "eval_users": int(metrics["eval_users"]),
        "eval_users_timed": int(metrics["eval_users"]), "eval_batch_users": config.eval_batch_users,
        "eval_recall@20": metrics["recall@20"], "n_users": dataset.n_users, "n_items": dataset.n_items,
        "n_train": len(dataset.train), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "numpy": np.__version__, "loadavg_start": loadavg_start, "loadavg_end": os.getloadavg(),
        "peak_rss_bytes": peak_rss_bytes(),
    }


# ---------------------------------------------------------------------------- official reference

# The official code's set-up, shared by every driver (this file's and lightgcn_time_curve.py's): the
# paper's settings (batch and learning rate from the spec) as its argv, CPU, stubs, seed, data loaded,
# and its graph cache deleted and disabled so that each run builds (and times) the graph.
OFFICIAL_SETUP = r'''
"""Runs gusye1234/LightGCN-PyTorch's own code paths; written and run by a recsys benchmark."""
import json, os, resource, statistics, sys, time
spec = json.loads(os.environ["LIGHTGCN_SPEED_SPEC"])
sys.path.append(spec["shim_dir"])  # stubs only stand in where the real package is missing
sys.argv = ["main.py", "--dataset", "gowalla", "--model", "lgn", "--recdim", str(spec["embedding_dim"]),
            "--layer", str(spec["n_layers"]), "--bpr_batch", str(spec["batch_size"]), "--lr", str(spec["lr"]),
            "--decay", str(spec["reg"]), "--topks", "[%d]" % spec["topk"], "--testbatch", "100",
            "--tensorboard", "0", "--multicore", "0", "--seed", "2020"]

def note(message):
    print("[official %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)

import numpy as np
import torch
import world
world.device = torch.device("cpu")
world.GPU = False
import dataloader, model, utils, Procedure
stubbed = sorted(name for name in ("pandas", "sklearn", "tensorboardX")
                 if name in sys.modules
                 and (getattr(sys.modules[name], "__file__", "") or "").startswith(spec["shim_dir"]))
sampler = ("cpp extension (cppimport)" if utils.sample_ext
           else "pure-Python fallback (UniformSample_original_python; cppimport not installed)")
note("stubbed imports: %s; sampler: %s" % (stubbed or "none", sampler))
utils.set_seed(world.seed)

started = time.perf_counter()
dataset = dataloader.Loader(config=world.config, path=spec["data_dir"])
load_s = time.perf_counter() - started
note("Loader built in %.1fs" % load_s)

cache = os.path.join(spec["data_dir"], "s_pre_adj_mat.npz")
if os.path.exists(cache):
    os.remove(cache)
dataloader.sp.save_npz = lambda *args, **kwargs: None  # disable its cache: time the build, write nothing
'''

OFFICIAL_DRIVER = OFFICIAL_SETUP + r'''
started = time.perf_counter()
graph = dataset.getSparseGraph()
adjacency_s = time.perf_counter() - started
note("adjacency (getSparseGraph) %.1fs, nnz %d" % (adjacency_s, graph._nnz()))

recmodel = model.LightGCN(world.config, dataset).to(world.device)
bpr = utils.BPRLoss(recmodel, world.config)

recmodel.train()
started = time.perf_counter()
S = utils.UniformSample_original(dataset)
users = torch.Tensor(S[:, 0]).long().to(world.device)
pos_items = torch.Tensor(S[:, 1]).long().to(world.device)
neg_items = torch.Tensor(S[:, 2]).long().to(world.device)
users, pos_items, neg_items = utils.shuffle(users, pos_items, neg_items)
sample_s = time.perf_counter() - started
batch_size = world.config["bpr_batch_size"]
n_batches = -(-len(users) // batch_size)
note("epoch sampling %.1fs; %d batches per epoch" % (sample_s, n_batches))
steps = []
total = spec["warmup"] + spec["batches"]
for i, (batch_users, batch_pos, batch_neg) in enumerate(
        utils.minibatch(users, pos_items, neg_items, batch_size=batch_size)):
    if i == total:
        break
    started = time.perf_counter()
    loss = bpr.stageOne(batch_users, batch_pos, batch_neg)
    elapsed = time.perf_counter() - started
    if i >= spec["warmup"]:
        steps.append(elapsed)
    if (i + 1) % 10 == 0 or i + 1 == total:
        note("batch %d/%d: %.3fs (loss %.4f)" % (i + 1, total, elapsed, loss))

test_dict = dict(dataset.testDict)
n_eval_users = len(test_dict)
probe_users = min(spec["probe_users"], n_eval_users)
if probe_users % world.config["test_u_batch_size"] == 0 and probe_users < n_eval_users:
    probe_users += 1  # Test asserts len(users) // batch + 1 batches, false when the batch size divides it
dataset._Loader__testDict = dict(list(test_dict.items())[:probe_users])
started = time.perf_counter()
Procedure.Test(dataset, recmodel, 0, None, 0)
probe_s = time.perf_counter() - started
estimate = probe_s * n_eval_users / probe_users
note("Test on %d users took %.1fs -> full pass estimated %.0fs" % (probe_users, probe_s, estimate))
if probe_users < n_eval_users and estimate <= spec["max_eval_s"]:
    dataset._Loader__testDict = test_dict
    started = time.perf_counter()
    results = Procedure.Test(dataset, recmodel, 0, None, 0)
    eval_s, extrapolated, timed_users = time.perf_counter() - started, False, n_eval_users
    note("full Test %.1fs over %d users" % (eval_s, n_eval_users))
else:
    eval_s, extrapolated, timed_users = estimate, probe_users < n_eval_users, probe_users
    if extrapolated:
        note("full Test would exceed %.0fs: reporting the extrapolation from %d users"
             % (spec["max_eval_s"], probe_users))

peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
print(spec["marker"] + json.dumps({
    "implementation": "official", "data_load_s": load_s, "adjacency_s": adjacency_s, "steps": steps,
    "sample_s": sample_s, "n_batches": n_batches, "eval_s": eval_s, "eval_extrapolated": extrapolated,
    "eval_users": n_eval_users, "eval_users_timed": timed_users, "eval_probe_s": probe_s,
    "eval_probe_users": probe_users, "eval_batch_users": world.config["test_u_batch_size"],
    "n_users": dataset.n_users, "n_items": dataset.m_items, "n_train": dataset.trainDataSize,
    "threads": torch.get_num_threads(), "sampler": sampler, "stubbed_imports": stubbed,
    "loadavg_start": spec["loadavg_start"], "loadavg_end": os.getloadavg(),
    "peak_rss_bytes": int(peak)}), flush=True)
'''

SHIMS = {
    "pandas/__init__.py": '"""Stub: the official LightGCN code imports pandas only for its LastFM loader."""\n\n'
                          "def read_table(*args, **kwargs):\n"
                          "    raise NotImplementedError("
                          "'pandas stub (lightgcn_speed benchmark): LastFM is not used')\n",
    "sklearn/__init__.py": '"""Stub for the official LightGCN code\'s unused AUC metric."""\n',
    "sklearn/metrics.py": "def roc_auc_score(*args, **kwargs):\n"
                          "    raise NotImplementedError('sklearn stub (lightgcn_speed benchmark): AUC is not used')\n",
    "tensorboardX/__init__.py": '"""Stub: logging only (the benchmark runs with --tensorboard 0)."""\n\n'
                                "class SummaryWriter:\n"
                                "    def __init__(self, *args, **kwargs): pass\n"
                                "    def __getattr__(self, name): return lambda *args, **kwargs: None\n",
}


def official_data_copy(data_dir: Path) -> Path:
    """train.txt / test.txt as plain files in a cache directory outside the repository."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache_home / "recsys" / "lightgcn-speed" / data_dir.name
    target.mkdir(parents=True, exist_ok=True)
    for name in ("train.txt", "test.txt"):
        plain, packed, out = data_dir / name, data_dir / f"{name}.gz", target / name
        source = plain if plain.exists() else packed
        if not source.exists():
            raise SystemExit(f"{data_dir} has neither {name} nor {name}.gz")
        if out.exists() and out.stat().st_mtime >= source.stat().st_mtime:
            continue
        partial = out.with_suffix(".partial")
        with (
            (gzip.open(source, "rb") if source.suffix == ".gz" else source.open("rb")) as src,
            partial.open("wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        partial.replace(out)
    return target


def run_official_driver(official: Path, data_dir: Path, driver_text: str, settings: dict[str, Any]
                        ) -> dict[str, Any] | None:
    """Run a driver (``OFFICIAL_SETUP`` + its own part) on the official checkout in a subprocess, with
    the stubs it may need and ``settings`` over the paper's; returns the record it printed."""
    code_dir = official / "code"
    data_copy = official_data_copy(data_dir)
    with tempfile.TemporaryDirectory(prefix="lightgcn-official-") as tmp:
        shim_dir = Path(tmp) / "shims"
        for relative, text in SHIMS.items():
            path = shim_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        driver = Path(tmp) / "official_driver.py"
        driver.write_text(driver_text)
        spec = {**PAPER, **settings, "data_dir": str(data_copy), "shim_dir": str(shim_dir), "marker": RESULT_MARKER,
                "loadavg_start": os.getloadavg()}
        env = {**os.environ, "LIGHTGCN_SPEED_SPEC": json.dumps(spec), "CUDA_VISIBLE_DEVICES": "",
               "PYTHONPATH": str(code_dir), "PYTHONWARNINGS": "ignore"}
        return run_worker([sys.executable, str(driver)], code_dir, env, "official")


def run_official(official: Path, data_dir: Path, batches: int, warmup: int, probe_users: int,
                 max_eval_s: float) -> dict[str, Any] | None:
    raw = run_official_driver(official, data_dir, OFFICIAL_DRIVER, {
        "batches": batches, "warmup": warmup, "probe_users": probe_users, "max_eval_s": max_eval_s})
    if raw is None:
        return None
    training = per_batch_summary(raw.pop("steps"), raw.pop("sample_s"), raw.pop("n_batches"))
    return {**raw, **training, "checkout": str(official), "commit": official_commit(official)}


def official_commit(official: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(official), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return out.stdout.strip() or None


# ------------------------------------------------------------------------------------ orchestration


def run_worker(command: list[str], cwd: Path, env: dict[str, str], tag: str) -> dict[str, Any] | None:
    """Run a worker, echo its output live, return the record it printed (None if it failed)."""
    progress(tag, "starting worker: " + " ".join(command))
    result: dict[str, Any] | None = None
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER):])
        else:
            line = line.rstrip("\n")
            print(line if line.startswith(f"[{tag} ") else f"  {tag}| {line}", flush=True)
    code = proc.wait()
    if code != 0 or result is None:
        progress(tag, f"worker failed (exit code {code}); its numbers are missing")
        return None
    return result


ROWS = [("per-batch s", "per_batch_s"), ("epoch s", "epoch_s"), ("adjacency s", "adjacency_s"),
        ("eval s", "eval_s"), ("peak RSS GB", "peak_rss_gb")]


def format_value(value: float | None, extrapolated: bool = False) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return text + (" (est.)" if extrapolated else "")


def table(ours: dict[str, Any] | None, official: dict[str, Any] | None) -> tuple[str, list[dict[str, Any]]]:
    lines = ["| metric | ours | official | speed-up (official / ours) |", "|---|---:|---:|---:|"]
    rows = []
    for label, key in ROWS:
        a = ours.get(key) if ours else None
        b = official.get(key) if official else None
        ratio = b / a if a and b else None
        rows.append({"metric": label, "ours": a, "official": b, "ratio_official_over_ours": ratio})
        est = key == "eval_s" and bool(official and official.get("eval_extrapolated"))
        lines.append(f"| {label} | {format_value(a)} | {format_value(b, est)} | "
                     f"{'n/a' if ratio is None else f'{ratio:.1f}x'} |")
    return "\n".join(lines), rows


def details(record: dict[str, Any] | None) -> str:
    if not record:
        return "skipped / failed"
    parts = [f"step median {record['step_s_median']:.3f}s "
             f"(min {record['step_s_min']:.3f}, max {record['step_s_max']:.3f})",
             f"epoch sampling {record['sample_s_per_epoch']:.2f}s / {record['batches_per_epoch']} batches",
             f"data load {record['data_load_s']:.1f}s",
             f"eval {record['eval_users_timed']}/{record['eval_users']} users timed, "
             f"{record['eval_batch_users']} per batch",
             f"{record['threads']} threads",
             "load avg {:.1f} -> {:.1f}".format(record["loadavg_start"][0], record["loadavg_end"][0])]
    if "sampler" in record:
        parts.append(f"sampler: {record['sampler']}")
    if record.get("stubbed_imports"):
        parts.append(f"stubbed imports: {', '.join(record['stubbed_imports'])}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="LightGCN-format Gowalla directory (train.txt[.gz], test.txt)")
    parser.add_argument("--batches", type=int, default=30, help="timed training batches per implementation")
    parser.add_argument("--warmup", type=int, default=3, help="untimed training batches first")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "lightgcn_speed.json")
    parser.add_argument("--probe-users", type=int, default=1000,
                        help="official eval is first timed on this many users to extrapolate the full pass")
    parser.add_argument("--max-eval-s", type=float, default=600.0,
                        help="run the official full eval only if the probe extrapolates to at most this")
    parser.add_argument("--worker", choices=["ours"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.data_dir.exists():
        raise SystemExit(f"Gowalla data not found at {args.data_dir}; pass --data-dir or set RECSYS_SHARED_DATA")

    if args.worker == "ours":
        emit_result(run_ours(args.data_dir, args.batches, args.warmup))
        return

    wall = time.perf_counter()
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    ours = run_worker([sys.executable, str(Path(__file__).resolve()), "--worker", "ours", "--data-dir",
                       str(args.data_dir), "--batches", str(args.batches), "--warmup", str(args.warmup)],
                      REPO, env, "ours")

    official_dir = Path(os.environ.get("LIGHTGCN_OFFICIAL", DEFAULT_OFFICIAL))
    official: dict[str, Any] | None = None
    skipped_reason = None
    if not (official_dir / "code" / "model.py").exists():
        skipped_reason = f"official checkout not found at {official_dir} (set LIGHTGCN_OFFICIAL)"
        progress("official", f"reference skipped: {skipped_reason}")
    else:
        official = run_official(official_dir, args.data_dir, args.batches, args.warmup, args.probe_users,
                                args.max_eval_s)
        if official is None:
            skipped_reason = "official worker failed (see its output above)"

    for record in (ours, official):
        if record:
            record["peak_rss_gb"] = record["peak_rss_bytes"] / 1e9
    text, rows = table(ours, official)
    print("\nLightGCN on Gowalla, CPU, embedding 64, 3 layers, batch 2048, Adam lr 0.001, L2 1e-4 "
          f"({args.batches} timed batches after {args.warmup} warm-up; medians; GB = 10^9 bytes)\n")
    print(text)
    print(f"\nours: {details(ours)}")
    print(f"official: {details(official) if official else skipped_reason}")
    if official and official.get("eval_extrapolated"):
        print(f"official eval time extrapolated from {official['eval_users_timed']} of {official['eval_users']} users")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}; total {time.perf_counter() - wall:.0f}s")

    payload = {
        "benchmark": "lightgcn_speed", "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "processor": platform.processor() or platform.machine(), "loadavg_end": os.getloadavg()},
        "settings": {**PAPER, "timed_batches": args.batches, "warmup_batches": args.warmup,
                     "data_dir": str(args.data_dir), "device": "cpu"},
        "table": rows, "ours": ours, "official": official, "official_skipped": skipped_reason,
        "wall_s": time.perf_counter() - wall,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
