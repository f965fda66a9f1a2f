"""benchmarks/recency_loo: its settings are checked before any training, and a run on a small
time-ordered file trains every setting, marks the one validation chose and compares each with the
unweighted reference."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import recency_loo


@pytest.mark.parametrize("text,expected", [("0", (0.0, "linear")), ("6", (6.0, "linear")),
                                           ("4:exponential", (4.0, "exponential")), ("2:linear", (2.0, "linear")),
                                           ("4:", (4.0, "linear"))])  # an empty shape is the default
def test_settings_parse(text, expected):
    assert recency_loo.setting(text) == expected


@pytest.mark.parametrize("text", ["-1", "x", "4:square"])
def test_bad_settings_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match=text.split(":")[0]):
        recency_loo.setting(text)


def test_every_setting_trains_and_validation_chooses(tiny_beauty):
    rows = recency_loo.run_dataset("amazon-beauty-s3rec", [(0.0, "linear"), (4.0, "exponential")], epochs=2,
                                   eval_every=1, patience=1, seed=0)
    assert [(row["recency_weight"], row["recency_shape"]) for row in rows] == [(0.0, None), (4.0, "exponential")]
    assert sum(row["chosen"] for row in rows) == 1
    chosen = next(row for row in rows if row["chosen"])
    assert chosen["valid_ndcg@10"] == max(row["valid_ndcg@10"] for row in rows)
    assert rows[0]["test_ndcg@10_vs_unweighted"] in (1.0, None)  # None only if the reference scored 0
