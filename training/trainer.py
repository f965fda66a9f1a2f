"""The training loop: Adam (or SGD), per-epoch validation, early stopping with patience, best
checkpoint kept, deterministic seeds, CUDA when present, a progress bar and JSON-lines history."""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from core.recent_item import last_items
from models.base import Recommender
from models.lightgcn import LightGCN
from models.ncf import GMF, MLP, NeuMF
from models.popularity import Popularity
from models.registry import build_model
from models.threads import fit_threads_to_load
from training import evaluation
from training.config import TrainConfig
from training.data.dataset import Dataset
from training.data.types import Interactions
from training.lr_schedule import epoch_learning_rate, training_progress
from training.plotting import plot_training_curves
from training.recency import recency_weights
from training.tasks import PairwiseTask, PointwiseTask, RatingTask, SoftmaxTask, Task, start_from_mean_rating

LOWER_IS_BETTER = ("rmse", "mae")

# Called after each epoch with that epoch's history row and the model; what it returns joins the row.
# It runs off the clock (outside the time budget, the schedule and the train/validation timings), so a
# benchmark can measure a curve without the measuring changing the run.
EpochObserver = Callable[[dict[str, float], Recommender], dict[str, float]]


@dataclass
class TrainResult:
    model: Recommender
    config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    valid_metrics: dict[str, float]
    test_metrics: dict[str, float]
    train_seconds: float  # the epochs' training steps only
    seconds_per_epoch: float
    # where train() spent its time: setup (pre-training, model, evaluator), train, validation, test,
    # and total (all of it, wall clock)
    timings: dict[str, float] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_model(config: TrainConfig, dataset: Dataset, device: torch.device) -> Recommender:
    model = build_model(config.model, dataset.n_users, dataset.n_items, **config.model_kwargs()).to(device)
    if isinstance(model, LightGCN):
        model.cosine = config.loss == "softmax"
        model.set_graph(dataset.train.users, dataset.train.items)
        if config.svd_init_scale > 0:
            model.init_from_svd(dataset.train.users, dataset.train.items, config.svd_init_scale)
        if config.recent_item_weight > 0:
            train = dataset.train
            model.set_recent_items(last_items(train.users, train.items, dataset.n_users, train.timestamps),
                                   config.recent_item_weight)
    if isinstance(model, Popularity):
        model.fit(dataset.train.items)
    return model


def make_task(config: TrainConfig, dataset: Dataset, device: torch.device) -> Task:
    common = {"n_items": dataset.n_items, "batch_size": config.batch_size, "seed": config.seed, "device": device}
    if config.loss == "bce":
        return PointwiseTask(dataset.train, num_negatives=config.num_negatives, **common)
    if config.loss == "bpr":
        return PairwiseTask(dataset.train, reg=config.reg, hard_negatives=config.hard_negatives,
                            hard_negative_rank=config.hard_negative_rank,
                            hard_negatives_share=config.hard_negatives_share,
                            hard_negative_mixing=config.hard_negative_mixing,
                            pair_weights=recency_weights(dataset.train.users, dataset.train.timestamps,
                                                         config.recency_weight, config.recency_shape)
                            if config.recency_weight else None,
                            **common)
    if config.loss == "softmax":
        return SoftmaxTask(dataset.train, num_negatives=config.num_negatives, temperature=config.temperature,
                           reg=config.reg, **common)
    return RatingTask(dataset.train, reg=config.reg, **common)


class Evaluator:
    """Evaluates a model on the validation or test part under the configured protocol. Sampled
    candidates are drawn once (seeded) so every epoch and every model sees the same ones."""

    def __init__(self, dataset: Dataset, config: TrainConfig, device: torch.device) -> None:
        self.dataset, self.config, self.device = dataset, config, device
        self._negatives: dict[str, torch.Tensor] = {}
        self.known = [p for p in (dataset.train, dataset.valid, dataset.test) if p is not None]
        if config.feedback == "explicit" and dataset.train.ratings is not None:
            self.rating_range = (float(np.nanmin(dataset.train.ratings)), float(np.nanmax(dataset.train.ratings)))

    def part(self, name: str) -> Interactions | None:
        return self.dataset.valid if name == "valid" else self.dataset.test

    def negatives(self, name: str) -> torch.Tensor:
        if name not in self._negatives:
            target = self.part(name)
            given = self.dataset.test_negatives
            if name == "test" and given is not None and len(given) == len(target):
                self._negatives[name] = torch.from_numpy(given)
            else:
                self._negatives[name] = evaluation.sample_eval_negatives(
                    self.known, target, self.dataset.n_items, seed=12345 + (name == "test"), device=self.device)
        return self._negatives[name]

    def evaluate(self, model: Recommender, name: str) -> dict[str, float]:
        target = self.part(name)
        if target is None or len(target) == 0:
            return {}
        if self.config.feedback == "explicit":
            return evaluation.rating_error(model, target, self.rating_range, device=self.device)
        if self.config.protocol == "sampled":
            return evaluation.sampled_ranking(model, target, self.negatives(name), list(self.config.ks),
                                              device=self.device)
        exclude = [self.dataset.train] + (
            [self.dataset.valid] if name == "test" and self.dataset.valid is not None else [])
        return evaluation.full_ranking(model, target, exclude, list(self.config.ks),
                                       batch_users=self.config.eval_batch_users, device=self.device)


def _is_better(value: float, best: float | None, metric: str) -> bool:
    if best is None:
        return True
    return value < best if metric.split("@")[0] in LOWER_IS_BETTER else value > best


def _optimizer(model: Recommender, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def _train_one_epoch(model: Recommender, task: Task, optimizer: torch.optim.Optimizer, epoch: int,
                     config: TrainConfig, progress: bool) -> float:
    """One pass over the task's batches; returns the mean loss per training row."""
    model.train()
    # The running loss stays on the device: reading it back every batch would sync a GPU each step.
    total = torch.zeros((), device=next(model.parameters()).device)
    count = 0
    bar = tqdm(task.batches(epoch), total=task.n_batches(), desc=f"{config.model} epoch {epoch}/{config.epochs}",
               leave=False, disable=not progress, mininterval=1.0, dynamic_ncols=True)
    for step, batch in enumerate(bar, start=1):
        optimizer.zero_grad(set_to_none=True)
        loss = task.loss(model, batch)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch[0])
        count += len(batch[0])
        if progress and step % 50 == 0:
            bar.set_postfix(loss=f"{float(total) / count:.4f}")
    return float(total) / max(1, count)


class BestEpoch:
    """Early-stopping bookkeeping: the best validation value, its epoch, weights and metrics."""

    def __init__(self, metric: str, patience: int) -> None:
        self.metric, self.patience = metric, patience
        self.value: float | None = None
        self.epoch, self.stale = 0, 0
        self.state: dict[str, torch.Tensor] | None = None
        self.metrics: dict[str, float] = {}

    def update(self, epoch: int, metrics: dict[str, float], model: Recommender) -> bool:
        value = metrics[self.metric]
        if not _is_better(value, self.value, self.metric):
            self.stale += 1
            return False
        self.value, self.epoch, self.metrics, self.stale = value, epoch, metrics, 0
        self.state = copy.deepcopy(model.state_dict())
        return True

    @property
    def exhausted(self) -> bool:
        return self.stale >= self.patience


def _pretrain_branches(dataset: Dataset, config: TrainConfig, out_dir: Path | None, progress: bool,
                       echo: Callable[[str], None]) -> tuple[GMF, MLP]:
    """The NCF paper's scheme: GMF and MLP trained on their own (with their own defaults) first."""
    branches = []
    for branch in ("gmf", "mlp"):
        echo(f"pre-training {branch.upper()} for NeuMF")
        sub = replace(config, model=branch, pretrain=False, batch_size=None, lr=None, metric=None)
        branches.append(train(dataset, sub, out_dir / f"pretrain_{branch}" if out_dir else None, progress, echo).model)
    return branches[0], branches[1]


def train(dataset: Dataset, config: TrainConfig, out_dir: Path | None = None, progress: bool = True,
          echo: Callable[[str], None] = print, observe: EpochObserver | None = None) -> TrainResult:
    """Train ``config.model`` on ``dataset``; keep the best validation epoch; evaluate it on test.

    Without a validation part the last epoch is the model. Test metrics are computed once, at the end.
    ``observe`` (benchmarks' curves) is called after every epoch, off the clock.
    """
    began = time.perf_counter()
    config = config.resolved()
    device = resolve_device(config.device)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    pretrained = _pretrain_branches(dataset, config, out_dir, progress, echo) if (
        config.model == "neumf" and config.pretrain) else None
    seed_everything(config.seed)
    model = make_model(config, dataset, device)
    optimizer_name = config.optimizer
    if isinstance(model, NeuMF) and pretrained is not None:
        model.load_pretrained(*pretrained, alpha=config.pretrain_alpha)
        optimizer_name = config.pretrain_optimizer
    evaluator = Evaluator(dataset, config, device)
    has_valid = dataset.valid is not None and len(dataset.valid) > 0
    best = BestEpoch(config.metric, config.patience)
    history: list[dict[str, float]] = []
    train_seconds = validation_seconds = observer_seconds = 0.0
    setup_seconds = time.perf_counter() - began

    if config.epochs > 0 and any(p.requires_grad for p in model.parameters()):
        task = make_task(config, dataset, device)
        if isinstance(task, RatingTask) and pretrained is None:
            start_from_mean_rating(model, task.mean_rating)
        optimizer = _optimizer(model, optimizer_name, config.lr, config.weight_decay)
        history_file = (out_dir / "history.jsonl").open("w") if out_dir else None
        for epoch in range(1, config.epochs + 1):
            threads = fit_threads_to_load()  # other work may have taken cores since the last epoch
            lr = epoch_learning_rate(config, epoch, train_seconds + validation_seconds)
            if isinstance(task, PairwiseTask) and task.reached(
                    training_progress(config, epoch, train_seconds + validation_seconds)):
                echo(f"the uniform negative draw from epoch {epoch} on")
            for group in optimizer.param_groups:
                group["lr"] = lr
            started = time.perf_counter()
            row: dict[str, float] = {"epoch": epoch, "loss": _train_one_epoch(model, task, optimizer, epoch, config,
                                                                              progress)}
            row["threads"] = threads
            row["lr"] = lr
            row["epoch_seconds"] = time.perf_counter() - started
            train_seconds += row["epoch_seconds"]
            note = ""
            if has_valid and epoch % config.eval_every == 0:
                started = time.perf_counter()
                valid = evaluator.evaluate(model, "valid")
                row["eval_seconds"] = time.perf_counter() - started
                validation_seconds += row["eval_seconds"]
                row.update({f"valid_{k}": v for k, v in valid.items()})
                improved = best.update(epoch, valid, model)
                if improved and out_dir:
                    torch.save(best.state, out_dir / "checkpoint.pt")
                note = f" valid {config.metric} {valid[config.metric]:.4f}{' *' if improved else ''}"
            if observe is not None:
                started = time.perf_counter()
                row.update(observe(dict(row), model))
                observer_seconds += time.perf_counter() - started
            history.append(row)
            if history_file:
                history_file.write(json.dumps(row) + "\n")
                history_file.flush()
            echo(f"{config.model} epoch {epoch:3d}/{config.epochs} loss {row['loss']:.4f}{note} "
                 f"({row['epoch_seconds']:.1f}s)")
            if best.exhausted:
                echo(f"early stop: no {config.metric} gain for {config.patience} evaluations; best epoch {best.epoch}")
                break
            if config.time_budget_s is not None and train_seconds + validation_seconds >= config.time_budget_s:
                echo(f"time budget of {config.time_budget_s:.0f}s reached after epoch {epoch}")
                break
        if history_file:
            history_file.close()
        if best.state is not None:
            model.load_state_dict(best.state)
        if out_dir and history:
            plot_training_curves(history, config.metric, out_dir / "training_curves.png",
                                 title=f"{config.model} on {dataset.source}")
    best_epoch = best.epoch if best.state is not None else len(history)
    started = time.perf_counter()
    test = evaluator.evaluate(model, "test")
    test_seconds = time.perf_counter() - started
    started = time.perf_counter()
    valid = best.metrics or (evaluator.evaluate(model, "valid") if has_valid else {})
    validation_seconds += time.perf_counter() - started
    total = time.perf_counter() - began
    timings = {"setup_seconds": setup_seconds, "train_seconds": train_seconds,
               "validation_seconds": validation_seconds, "test_seconds": test_seconds, "total_seconds": total}
    if observe is not None:
        timings["observer_seconds"] = observer_seconds
    return TrainResult(model, config, history, best_epoch, valid, test, train_seconds,
                       train_seconds / max(1, len(history)), {k: round(v, 3) for k, v in timings.items()})
