"""The `recsys` command line end to end on tiny data, including its error messages."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cli.main import main


def _write_csv(path, n_users=120, n_items=60, per_user=12, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["user,item,rating,timestamp"]
    for u in range(n_users):
        group = u % 4  # four taste groups, each owning a quarter of the items
        items = rng.choice(np.arange(group * n_items // 4, (group + 1) * n_items // 4), per_user, replace=False)
        for t, i in enumerate(items):
            lines.append(f"user{u},item{i},{rng.integers(1, 6)},{1_600_000_000 + 1000 * u + t}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_then_evaluate_reproduces_metrics(tmp_path, capsys):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "model"
    code = main(["train", "--model", "gmf", "--data", str(data), "--out", str(out), "--epochs", "2", "--quiet",
                 "--batch-size", "128"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"hr@10", "ndcg@10", "hr@20", "ndcg@20"} <= set(metrics)
    assert (out / "training_curves.png").stat().st_size > 1000
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in history] == [1, 2] and "valid_ndcg@10" in history[0]
    capsys.readouterr()
    assert main(["evaluate", "--model-dir", str(out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    for key, value in metrics.items():
        assert evaluated[key] == pytest.approx(value, abs=1e-9)


def test_a_time_budget_stops_training_and_every_second_is_accounted_for(tmp_path, capsys):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "model"
    assert main(["train", "--model", "neumf", "--data", str(data), "--out", str(out), "--epochs", "50", "--quiet",
                 "--batch-size", "64", "--protocol", "full", "--metric", "recall@20", "--time-budget", "0.001"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{"):])
    assert "time budget of 0s reached after epoch 1" in printed
    timings = summary["timings"]
    assert set(timings) == {"load_seconds", "setup_seconds", "train_seconds", "validation_seconds", "test_seconds",
                            "total_seconds", "save_seconds", "wall_seconds"}
    assert timings["validation_seconds"] > 0 and timings["test_seconds"] > 0  # evaluation counts, not only steps
    parts = sum(timings[k] for k in ("load_seconds", "total_seconds", "save_seconds"))
    assert parts <= timings["wall_seconds"] + 0.01 and timings["wall_seconds"] - parts < 1.0
    inside = sum(timings[k] for k in ("setup_seconds", "train_seconds", "validation_seconds", "test_seconds"))
    assert inside <= timings["total_seconds"] + 0.01
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["timings"]["validation_seconds"] == timings["validation_seconds"]


def test_train_anneals_the_learning_rate_with_lr_schedule_cosine(tmp_path):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "cosine"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(out), "--epochs", "4", "--quiet",
                 "--batch-size", "256", "--lr", "0.01", "--lr-schedule", "cosine"]) == 0
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [round(row["lr"], 6) for row in history] == [0.01, 0.008536, 0.005, 0.001464]


def test_train_lightgcn_with_recency_weighted_pairs_records_the_weight(tmp_path):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "recency"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(out), "--epochs", "2", "--quiet",
                 "--batch-size", "256", "--recency-weight", "2"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["config"]["recency_weight"] == 2.0
    assert len((out / "history.jsonl").read_text().splitlines()) == 2


def test_train_lightgcn_with_exponential_recency_records_the_shape(tmp_path):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "recency-exponential"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(out), "--epochs", "1", "--quiet",
                 "--batch-size", "256", "--recency-weight", "4", "--recency-shape", "exponential"]) == 0
    config = json.loads((out / "manifest.json").read_text())["training"]["config"]
    assert (config["recency_weight"], config["recency_shape"]) == (4.0, "exponential")


def test_train_lightgcn_full_protocol_keys(tmp_path):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "lgcn"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(out), "--epochs", "2",
                 "--quiet", "--batch-size", "256"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"recall@20", "ndcg@20", "precision@10", "map@20", "mrr@10", "coverage@20"} <= set(metrics)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["candidates"] == "candidates.npy"  # retrieval's lookup rows, by default
    none = tmp_path / "lgcn-without"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(none), "--epochs", "1",
                 "--quiet", "--batch-size", "256", "--precompute-candidates", "0"]) == 0
    assert "candidates" not in json.loads((none / "manifest.json").read_text())["files"]


def test_train_lightgcn_with_the_softmax_loss_ships_unit_vectors_that_evaluate_alike(tmp_path, capsys):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "softmax"
    assert main(["train", "--model", "lightgcn", "--data", str(data), "--out", str(out), "--epochs", "3", "--quiet",
                 "--batch-size", "256", "--lr", "0.01", "--loss", "softmax", "--num-negatives", "32",
                 "--temperature", "0.2"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["hyperparameters"]["cosine"] is True
    assert manifest["training"]["config"]["loss"] == "softmax"
    assert manifest["training"]["config"]["num_negatives"] == 32
    with np.load(out / manifest["files"]["embeddings"]) as embeddings:
        for vectors in embeddings.values():  # retrieval's inner products are the trained cosines
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    metrics = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", "--model-dir", str(out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["recall@20"] == pytest.approx(metrics["recall@20"], abs=1e-9)


def test_explicit_feedback_writes_rmse(tmp_path):
    data = _write_csv(tmp_path / "ratings.csv")
    out = tmp_path / "explicit"
    assert main(["train", "--model", "mf", "--feedback", "explicit", "--split", "random", "--data", str(data),
                 "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"rmse", "mae"} and metrics["rmse"] > 0


def test_evaluate_refuses_different_data(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", "--model", "mf", "--data", str(_write_csv(tmp_path / "a.csv")), "--out", str(out),
                 "--epochs", "1", "--quiet"]) == 0
    other = _write_csv(tmp_path / "b.csv", seed=1)
    assert main(["evaluate", "--model-dir", str(out), "--data", str(other)]) == 2
    assert "differs from the artifact's training data" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["train", "--model", "gmf", "--data", "/no/such/file.csv", "--out", "x"], "/no/such/file.csv"),
    (["train", "--model", "lightgcn", "--feedback", "explicit", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "explicit feedback needs"),
    (["train", "--model", "gmf", "--split", "temporal", "--data", "DATA", "--out", "x", "--test-ratio", "1.5"],
     "bad split ratios"),
    (["train", "--model", "lightgcn", "--out", "x", "--synthetic-users", "50", "--synthetic-items", "200",
      "--precompute-candidates", "-1"], "precomputed candidates must be >= 0"),
    (["train", "--model", "neumf", "--loss", "softmax", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "the softmax loss trains lightgcn"),
    (["train", "--model", "lightgcn", "--loss", "softmax", "--temperature", "0", "--out", "x", "--synthetic-users",
      "50", "--synthetic-items", "200"], "temperature > 0"),
    (["train", "--model", "lightgcn", "--recent-item-weight", "-0.5", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "the recent-item weight must be >= 0"),
    (["train", "--model", "neumf", "--recent-item-weight", "0.5", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "the recent-item weight applies to lightgcn"),
    (["train", "--model", "lightgcn", "--hard-negatives", "0", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "hard negatives count the candidates drawn per pair"),
    (["train", "--model", "neumf", "--hard-negatives", "8", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "hard negatives pick BPR's negative for lightgcn"),
    (["train", "--model", "lightgcn", "--recency-weight", "-1", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "the recency weight must be >= 0, got -1.0"),
    (["train", "--model", "neumf", "--recency-weight", "2", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "the recency weight weighs BPR's pairs; loss 'bce' takes 0"),
    (["train", "--model", "lightgcn", "--recency-shape", "exponential", "--out", "x", "--synthetic-users", "50",
      "--synthetic-items", "200"], "--recency-shape shapes --recency-weight's weights"),
])
def test_bad_input_gets_a_message_not_a_traceback(tmp_path, capsys, argv, message):
    argv = [str(_write_csv(tmp_path / "d.csv")) if a == "DATA" else a for a in argv]
    argv = [str(tmp_path / "x") if a == "x" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_argparse_rejects_bad_flags(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--model", "nope", "--out", "x"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, check=True)
    assert "quickstart" in out.stdout and "train" in out.stdout
