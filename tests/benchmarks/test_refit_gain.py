"""benchmarks/refit_gain: on a small time-ordered file, each setting yields the measured model's and
the refit model's scores on the same future items, and the refit model has trained on the
validation items but not on the future."""

from __future__ import annotations

from benchmarks import refit_gain


def test_each_setting_scores_the_measured_and_the_refit_model_on_the_future(tiny_beauty, monkeypatch):
    trained = []
    real_train = refit_gain.train

    def recording_train(data, config, **kwargs):
        trained.append((len(data.train), 0 if data.valid is None else len(data.valid), len(data.test)))
        return real_train(data, config, **kwargs)

    monkeypatch.setattr(refit_gain, "train", recording_train)
    monkeypatch.setattr("training.pipeline.train", recording_train)  # the refit step trains there
    rows = refit_gain.run_dataset("amazon-beauty-s3rec", [(0.0, "linear")], epochs=2, eval_every=1, patience=1,
                                  seed=0)
    assert [row["model"].split(" ")[0] for row in rows] == ["as", "refit"]
    # measured: 6 training rows per user, validation and test held out; refit: 7 rows, the future still out
    assert trained == [(200 * 6, 200, 200), (200 * 7, 0, 0)]
    assert all(0.0 <= row["ndcg@10"] <= 1.0 for row in rows) and "ndcg@10_vs_measured" in rows[1]
