"""The LightGCN paper benchmark's ``--hard-negatives K[:N][@S]``: K candidates per pair, the N-th
highest-scored trains, for the first share S of the training; bad values are named."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.lightgcn_paper import hard_negative_choice


@pytest.mark.parametrize("text,choice", [("1", (1, 1, 1.0)), ("32", (32, 1, 1.0)), ("32:1", (32, 1, 1.0)),
                                         ("32:3", (32, 3, 1.0)), ("8:8", (8, 8, 1.0)), ("32@0.33", (32, 1, 0.33)),
                                         ("32:2@1", (32, 2, 1.0))])
def test_a_count_alone_means_the_hardest(text, choice):
    assert hard_negative_choice(text) == choice


@pytest.mark.parametrize("text", ["32:0", "4:5", "0", "x", "32:y", "32:", "32@0", "32@1.5", "32@x", "32:2@"])
def test_bad_choices_are_refused_with_the_value_named(text):
    with pytest.raises(argparse.ArgumentTypeError, match=text):
        hard_negative_choice(text)
