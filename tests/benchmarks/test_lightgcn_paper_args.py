"""The LightGCN paper benchmark's ``--hard-negatives K[:N|:mix][@S]``: K candidates per pair, the N-th
highest-scored trains (or, with mix, a negative mixed from them), for the first share S of the
training; bad values are named."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.lightgcn_paper import hard_negative_choice


@pytest.mark.parametrize("text,choice", [("1", (1, 1, 1.0, False)), ("32", (32, 1, 1.0, False)),
                                         ("32:1", (32, 1, 1.0, False)), ("32:3", (32, 3, 1.0, False)),
                                         ("8:8", (8, 8, 1.0, False)), ("32@0.33", (32, 1, 0.33, False)),
                                         ("32:2@1", (32, 2, 1.0, False)), ("16:mix", (16, 1, 1.0, True)),
                                         ("16:mix@0.5", (16, 1, 0.5, True))])
def test_a_count_alone_means_the_hardest(text, choice):
    assert hard_negative_choice(text) == choice


@pytest.mark.parametrize("text", ["32:0", "4:5", "0", "x", "32:y", "32:", "32@0", "32@1.5", "32@x", "32:2@",
                                  "1:mix", "8:mixed"])
def test_bad_choices_are_refused_with_the_value_named(text):
    with pytest.raises(argparse.ArgumentTypeError, match=text):
        hard_negative_choice(text)


def test_a_negative_recency_weight_is_refused_before_any_data_is_read(monkeypatch, capsys):
    from benchmarks import lightgcn_paper

    monkeypatch.setattr("sys.argv", ["lightgcn_paper", "--no-valid", "--recency-weight", "6", "--recency-weight",
                                     "-1"])
    monkeypatch.setattr(lightgcn_paper, "run", lambda *args, **kwargs: pytest.fail("trained despite a bad weight"))
    with pytest.raises(SystemExit) as exit_info:
        lightgcn_paper.main()
    assert exit_info.value.code == 2
    assert "--recency-weight takes weights >= 0" in capsys.readouterr().err


def test_each_seed_trains_every_weight(monkeypatch, tmp_path):
    from benchmarks import lightgcn_paper

    monkeypatch.setattr("sys.argv", ["lightgcn_paper", "--no-valid", "--recency-weight", "0", "--recency-weight", "6",
                                     "--seed", "1", "--seed", "2", "--out", str(tmp_path / "out.json")])
    trained = []

    def fake_run(*args, **kwargs):  # the training itself is tested in tests/training
        trained.append((args[-2], args[-1]))
        return [{"recency_weight": args[-2], "seed": args[-1], "curve": []}]

    monkeypatch.setattr(lightgcn_paper, "run", fake_run)
    lightgcn_paper.main()
    assert trained == [(0.0, 1), (0.0, 2), (6.0, 1), (6.0, 2)]
    assert '"seed": 2' in (tmp_path / "out.json").read_text()


def test_the_recency_shape_reaches_every_run_and_an_unknown_one_is_refused(monkeypatch, tmp_path, capsys):
    from benchmarks import lightgcn_paper

    monkeypatch.setattr("sys.argv", ["lightgcn_paper", "--no-valid", "--recency-weight", "4", "--recency-shape",
                                     "exponential", "--seed", "1", "--out", str(tmp_path / "out.json")])
    shapes = []
    monkeypatch.setattr(lightgcn_paper, "run", lambda *args, **kwargs: shapes.append(kwargs["recency_shape"]) or [
        {"recency_weight": args[-2], "recency_shape": kwargs["recency_shape"], "seed": args[-1], "curve": []}])
    lightgcn_paper.main()
    assert shapes == ["exponential"]
    monkeypatch.setattr("sys.argv", ["lightgcn_paper", "--recency-shape", "square"])
    with pytest.raises(SystemExit):
        lightgcn_paper.main()
    assert "invalid choice: 'square'" in capsys.readouterr().err
