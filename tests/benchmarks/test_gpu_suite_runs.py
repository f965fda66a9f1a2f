"""The GPU suite's ``--run`` specs: each part parsed, hard negatives with BPR only, bad specs named."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.gpu_suite import DEFAULT_RUNS, LightGCNRun


def test_a_run_with_hard_negatives_is_parsed():
    run = LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32")
    assert (run.dataset, run.batch_size, run.lr, run.schedule, run.loss, run.hard_negatives) == (
        "gowalla", 16384, 0.01, "cosine", "bpr", 32)
    assert run.name == "LightGCN gowalla b16384 lr 0.01 cosine bpr hardest of 32"


def test_loss_and_candidates_default_to_the_papers_uniform_bpr():
    run = LightGCNRun.parse("yelp2018:4096:0.002:constant")
    assert (run.loss, run.hard_negatives, run.mixing, run.epochs) == ("bpr", 1, False, None)


def test_a_mixgcf_run_counted_in_epochs_is_parsed():
    run = LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32mix@45")
    assert (run.hard_negatives, run.mixing, run.epochs) == (32, True, 45)
    assert run.name == "LightGCN gowalla b16384 lr 0.01 cosine bpr mixed from 32 45 epochs"
    assert LightGCNRun.parse("yelp2018:16384:0.01:cosine@16").epochs == 16


@pytest.mark.parametrize("spec", ["gowalla:16384:0.01:cosine:softmax:32", "gowalla:16384:0.01:cosine:bpr:0",
                                  "gowalla:16384:0.01:cosine:bpr:x", "gowalla:16384:0.01:cosine:bpr:2:3:4",
                                  "gowalla:16384:0.01:cosine:bpr:32:-1", "gowalla:16384:0.01:cosine:softmax:1:6",
                                  "movielens:16384:0.01:cosine", "gowalla:16384:0.01:cosine:bpr:1mix",
                                  "gowalla:16384:0.01:cosine:bpr:32@0", "gowalla:16384:0.01:cosine:bpr:32@x",
                                  "gowalla:16384:0.01:cosine:bpr:mix", "gowalla:16384:0.01:cosine:bpr:32:0exp",
                                  "gowalla:16384:0.01:cosine:bpr:32:exp", "gowalla:16384:0.01:cosine:bpr:32:4ex"])
def test_bad_specs_are_refused_with_the_spec_named(spec):
    with pytest.raises(argparse.ArgumentTypeError, match=spec.split(":")[0]):
        LightGCNRun.parse(spec)


def test_the_default_runs_parse():
    assert [LightGCNRun.parse(spec).dataset for spec in DEFAULT_RUNS] == ["gowalla", "gowalla", "yelp2018", "gowalla",
                                                                          "yelp2018", "gowalla"]


def test_a_recency_weighted_run_is_parsed_and_named():
    run = LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32:6@23")
    assert (run.hard_negatives, run.recency_weight, run.epochs) == (32, 6.0, 23)
    assert run.name == "LightGCN gowalla b16384 lr 0.01 cosine bpr hardest of 32 recency-weighted 6 23 epochs"
    assert LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32").recency_weight == 0.0


def test_an_exponential_recency_run_is_parsed_and_named():
    run = LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32:4exp@23")
    assert (run.recency_weight, run.recency_shape, run.epochs) == (4.0, "exponential", 23)
    assert run.name == ("LightGCN gowalla b16384 lr 0.01 cosine bpr hardest of 32 recency-weighted exponential 4 "
                        "23 epochs")
    assert LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32:6").recency_shape == "linear"


def test_a_run_counted_in_epochs_trains_for_them_without_a_time_budget():
    config = LightGCNRun.parse("gowalla:16384:0.01:cosine:bpr:32:4exp@23").train_config("cpu", 900.0,
                                                                                          eval_batch_users=2048)
    assert (config.epochs, config.time_budget_s, config.lr_schedule) == (23, None, "cosine")
    assert (config.hard_negatives, config.recency_weight, config.recency_shape) == (32, 4.0, "exponential")
    assert (config.batch_size, config.lr, config.eval_batch_users) == (16384, 0.01, 2048)


def test_a_run_without_epochs_trains_for_the_time_budget():
    config = LightGCNRun.parse("yelp2018:4096:0.002:constant").train_config("cuda", 100.0)
    assert (config.time_budget_s, config.device) == (100.0, "cuda")
    assert (config.hard_negatives, config.recency_weight) == (1, 0.0)


def test_the_time_curves_default_runs_parse_and_start_with_the_recipe():
    """benchmarks.lightgcn_time_curve's default --ours specs, in the suite's grammar; the first is the
    recipe that reaches the paper (exponential recency weights)."""
    from benchmarks.lightgcn_time_curve import DEFAULT_OURS

    runs = [LightGCNRun.parse(spec) for spec in DEFAULT_OURS]
    assert runs[0].train_config("cpu", 900.0).recency_shape == "exponential"
    assert {run.dataset for run in runs} == {"gowalla"}
