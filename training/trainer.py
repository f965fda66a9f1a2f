"""The training loop: Adam (or SGD), per-epoch validation, early stopping with patience, best
checkpoint kept, deterministic seeds, CUDA when present, a progress bar and JSON-lines history."""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from training import evaluation
from training.config import TrainConfig
from training.data.dataset import Dataset
from training.data.types import Interactions
from training.models.base import Recommender
from training.models.lightgcn import LightGCN
from training.models.ncf import GMF, MLP, NeuMF
from training.models.popularity import Popularity
from training.models.registry import build_model
from training.plotting import plot_training_curves
from training.tasks import PairwiseTask, PointwiseTask, RatingTask, Task, start_from_mean_rating

LOWER_IS_BETTER = ("rmse", "mae")


@dataclass
class TrainResult:
    model: Recommender
    config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    valid_metrics: dict[str, float]
    test_metrics: dict[str, float]
    train_seconds: float
    seconds_per_epoch: float


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
        model.set_graph(dataset.train.users, dataset.train.items)
    if isinstance(model, Popularity):
        model.fit(dataset.train.items)
    return model


def make_task(config: TrainConfig, dataset: Dataset, device: torch.device) -> Task:
    common = {"n_items": dataset.n_items, "batch_size": config.batch_size, "seed": config.seed, "device": device}
    if config.loss == "bce":
        return PointwiseTask(dataset.train, num_negatives=config.num_negatives, **common)
    if config.loss == "bpr":
        return PairwiseTask(dataset.train, reg=config.reg, **common)
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
        exclude = [self.dataset.train] + ([self.dataset.valid] if name == "test" and self.dataset.valid is not None else [])
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


def train(dataset: Dataset, config: TrainConfig, out_dir: Path | None = None, progress: bool = True,
          echo: Callable[[str], None] = print) -> TrainResult:
    """Train ``config.model`` on ``dataset``; keep the best validation epoch; evaluate it on test."""
    config = config.resolved()
    seed_everything(config.seed)
    device = resolve_device(config.device)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    pretrained: tuple[GMF, MLP] | None = None
    if config.model == "neumf" and config.pretrain:
        parts = []
        for branch in ("gmf", "mlp"):
            echo(f"pre-training {branch.upper()} for NeuMF")
            sub = replace(config, model=branch, pretrain=False, batch_size=None, lr=None, metric=None)
            parts.append(train(dataset, sub, out_dir / f"pretrain_{branch}" if out_dir else None, progress, echo).model)
        pretrained = (parts[0], parts[1])
        seed_everything(config.seed)

    model = make_model(config, dataset, device)
    optimizer_name = config.optimizer
    if isinstance(model, NeuMF) and pretrained is not None:
        model.load_pretrained(*pretrained, alpha=config.pretrain_alpha)
        optimizer_name = config.pretrain_optimizer
    evaluator = Evaluator(dataset, config, device)
    history: list[dict[str, float]] = []
    best_value: float | None = None
    best_state = copy.deepcopy(model.state_dict())
    best_epoch, best_valid, stale = 0, {}, 0
    train_seconds = 0.0
    trainable = config.epochs > 0 and any(p.requires_grad for p in model.parameters())

    if trainable:
        task = make_task(config, dataset, device)
        if isinstance(task, RatingTask) and pretrained is None:
            start_from_mean_rating(model, task.mean_rating)
        optimizer = _optimizer(model, optimizer_name, config.lr, config.weight_decay)
        history_file = (out_dir / "history.jsonl").open("w") if out_dir else None
        for epoch in range(1, config.epochs + 1):
            model.train()
            started = time.perf_counter()
            total, count = 0.0, 0
            bar = tqdm(task.batches(epoch), total=task.n_batches(), desc=f"{config.model} epoch {epoch}/{config.epochs}",
                       leave=False, disable=not progress, mininterval=1.0, dynamic_ncols=True)
            for batch in bar:
                optimizer.zero_grad(set_to_none=True)
                loss = task.loss(model, batch)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch[0])
                count += len(batch[0])
                if count % (50 * config.batch_size) < config.batch_size:
                    bar.set_postfix(loss=f"{total / count:.4f}")
            epoch_seconds = time.perf_counter() - started
            train_seconds += epoch_seconds
            row: dict[str, float] = {"epoch": epoch, "loss": total / max(1, count), "epoch_seconds": epoch_seconds}
            note = ""
            if dataset.valid is not None and len(dataset.valid) and epoch % config.eval_every == 0:
                eval_started = time.perf_counter()
                valid = evaluator.evaluate(model, "valid")
                row["eval_seconds"] = time.perf_counter() - eval_started
                row.update({f"valid_{k}": v for k, v in valid.items()})
                value = valid[config.metric]
                if _is_better(value, best_value, config.metric):
                    best_value, best_epoch, best_valid, stale = value, epoch, valid, 0
                    best_state = copy.deepcopy(model.state_dict())
                    if out_dir:
                        torch.save(best_state, out_dir / "checkpoint.pt")
                    note = " *"
                else:
                    stale += 1
                note = f" valid {config.metric} {value:.4f}{note}"
            elif dataset.valid is None or len(dataset.valid) == 0:
                best_epoch, best_state = epoch, None  # no validation: the last epoch is the model
            history.append(row)
            if history_file:
                history_file.write(json.dumps(row) + "\n")
                history_file.flush()
            echo(f"{config.model} epoch {epoch:3d}/{config.epochs} loss {row['loss']:.4f}{note} ({epoch_seconds:.1f}s)")
            if stale >= config.patience:
                echo(f"early stop: no {config.metric} gain for {config.patience} evaluations; best epoch {best_epoch}")
                break
            if config.time_budget_s is not None and train_seconds >= config.time_budget_s:
                echo(f"time budget of {config.time_budget_s:.0f}s reached after epoch {epoch}; best epoch {best_epoch}")
                break
        if history_file:
            history_file.close()
        if best_state is not None:
            model.load_state_dict(best_state)
        if out_dir and history:
            plot_training_curves(history, config.metric, out_dir / "training_curves.png",
                                 title=f"{config.model} on {dataset.source}")
    test = evaluator.evaluate(model, "test")
    if not best_valid and dataset.valid is not None and len(dataset.valid):
        best_valid = evaluator.evaluate(model, "valid")
    return TrainResult(model, config, history, best_epoch, best_valid, test, train_seconds,
                       train_seconds / max(1, len(history)))
