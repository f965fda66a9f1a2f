"""Refitting on every interaction: the dataset it trains on holds each user's held-out rows after
its training rows, and `recsys train --refit` ships that model, records it, keeps the held-out
figures and refuses re-evaluation on a test part it trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli.main import main
from models.loaded import load_model


def test_held_out_rows_join_training_after_each_users_own(small_dataset):
    everything = small_dataset.with_held_out_in_train()
    parts = (small_dataset.train, small_dataset.valid, small_dataset.test)
    assert len(everything.train) == sum(len(part) for part in parts)
    assert everything.valid is None and len(everything.test) == 0 and everything.test_negatives is None
    assert everything.info["held_out_in_train"] is True and "held_out_in_train" not in small_dataset.info
    for user in (0, 17, 1_000):
        rows = everything.train.items[everything.train.users == user]
        test_item = small_dataset.test.items[small_dataset.test.users == user]
        valid_item = small_dataset.valid.items[small_dataset.valid.users == user]
        assert rows[-1:].tolist() == test_item.tolist() and rows[-2:-1].tolist() == valid_item.tolist()
    if small_dataset.train.timestamps is not None:  # times travel with their rows
        assert len(everything.train.timestamps) == len(everything.train)


def _ratings_csv(path, n_users=80, n_items=40, per_user=10):
    rng = np.random.default_rng(3)
    lines = ["user,item,rating,timestamp"]
    for user in range(n_users):
        group = user % 4
        items = rng.choice(np.arange(group * n_items // 4, (group + 1) * n_items // 4), per_user, replace=False)
        lines += [f"u{user},i{item},{rng.integers(1, 6)},{1_600_000_000 + 1000 * user + t}"
                  for t, item in enumerate(items)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_refit_ships_a_model_that_knows_every_interaction(tmp_path, capsys):
    data = _ratings_csv(tmp_path / "ratings.csv")
    held, refit = tmp_path / "held", tmp_path / "refit"
    common = ["train", "--model", "lightgcn", "--data", str(data), "--epochs", "3", "--quiet", "--batch-size", "256"]
    assert main([*common, "--out", str(held)]) == 0
    assert main([*common, "--out", str(refit), "--refit"]) == 0
    capsys.readouterr()
    manifest = json.loads((refit / "manifest.json").read_text())
    assert manifest["training"]["refit"]["epochs"] == manifest["training"]["best_epoch"]
    assert manifest["training"]["refit"]["interactions"] == 80 * 10  # every row, none held out
    assert manifest["training"]["timings"]["refit_seconds"] > 0
    assert "refit" not in json.loads((held / "manifest.json").read_text())["training"]
    # the held-out figures are the first run's, the same as without --refit
    assert json.loads((refit / "metrics.json").read_text()) == json.loads((held / "metrics.json").read_text())
    # each user's latest interaction (the held-out test item) is now among what the served model saw
    served, measured = load_model(refit), load_model(held)
    lines = (data.read_text().splitlines()[1:])
    latest = {line.split(",")[0]: line.split(",")[1] for line in lines}  # rows are in time order per user
    for user in ("u0", "u41"):
        item = served.item_ids.index(latest[user])
        assert item in served.seen_items(user).tolist()
        assert item not in measured.seen_items(user).tolist()
    assert main(["evaluate", "--model-dir", str(refit)]) == 2
    assert "was refit on its held-out interactions" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["neumf", "pop"])
def test_other_models_refit_too(tmp_path, model, capsys):
    data = _ratings_csv(tmp_path / "ratings.csv")
    out = tmp_path / model
    assert main(["train", "--model", model, "--data", str(data), "--epochs", "2", "--quiet", "--batch-size", "256",
                 "--out", str(out), "--refit"]) == 0
    assert json.loads((out / "manifest.json").read_text())["training"]["refit"]["interactions"] == 800
