"""The training Job's entrypoint: environment in, artifact and result file out, reasons on failure."""

from __future__ import annotations

import json

import pytest

from cli.job import JobSettings, JobSettingsError, main
from models.loaded import load_model


def _env(tmp_path, **extra):
    return {"RECSYS_JOB_MODEL": "lightgcn", "RECSYS_JOB_OUTPUT": f"file://{tmp_path / 'v7'}",
            "RECSYS_JOB_HYPERPARAMETERS": json.dumps({"epochs": 2, "batch_size": 2048, "lr": 0.01}),
            "RECSYS_JOB_SYNTHETIC_USERS": "600", "RECSYS_JOB_SYNTHETIC_ITEMS": "300", **extra}


def test_job_trains_and_writes_artifact_and_result(tmp_path):
    assert main(_env(tmp_path, RECSYS_JOB_METRIC="ndcg@20")) == 0
    result = json.loads((tmp_path / "v7" / "result.json").read_text())
    assert result["status"] == "succeeded" and result["version"] == "v7"
    assert result["metric"] == "ndcg@20" and result["value"] == result["metrics"]["ndcg@20"] > 0
    assert result["artifact_uri"] == f"file://{(tmp_path / 'v7').resolve()}"
    assert load_model(tmp_path / "v7").manifest["version"] == "v7"


def test_ncf_means_neumf(tmp_path):
    env = _env(tmp_path, RECSYS_JOB_MODEL="ncf", RECSYS_JOB_HYPERPARAMETERS='{"epochs": 1, "batch_size": 1024}')
    assert JobSettings.from_env(env).model == "neumf"


@pytest.mark.parametrize("change, message", [
    ({"RECSYS_JOB_MODEL": "svd"}, "RECSYS_JOB_MODEL must be one of"),
    ({"RECSYS_JOB_HYPERPARAMETERS": "{epochs: 2"}, "not JSON"),
    ({"RECSYS_JOB_HYPERPARAMETERS": '{"epochz": 2}'}, "unknown hyperparameters ['epochz']"),
    ({"RECSYS_JOB_OUTPUT": ""}, "RECSYS_JOB_OUTPUT"),
    ({"RECSYS_JOB_REFIT": "maybe"}, "RECSYS_JOB_REFIT must be true or false, got 'maybe'"),
])
def test_bad_settings_are_explained(tmp_path, change, message, capsys):
    with pytest.raises(JobSettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        JobSettings.from_env(_env(tmp_path, **change))
    assert main(_env(tmp_path, **change)) == 2
    assert message in capsys.readouterr().err


def test_a_failed_run_still_writes_a_result_with_the_reason(tmp_path):
    env = _env(tmp_path, RECSYS_JOB_DATA=str(tmp_path / "missing.csv"))
    assert main(env) == 1
    result = json.loads((tmp_path / "v7" / "result.json").read_text())
    assert result["status"] == "failed" and "missing.csv" in result["message"]


def test_a_refit_job_ships_the_model_trained_on_every_interaction(tmp_path):
    assert main(_env(tmp_path, RECSYS_JOB_REFIT="true")) == 0
    result = json.loads((tmp_path / "v7" / "result.json").read_text())
    manifest = load_model(tmp_path / "v7").manifest
    assert result["status"] == "succeeded" and result["metrics"] == manifest["metrics"]
    refit = manifest["training"]["refit"]
    assert refit["epochs"] == manifest["training"]["best_epoch"]
    assert refit["interactions"] == manifest["dataset"]["train"] and manifest["dataset"]["valid"] == 0
    assert not JobSettings.from_env(_env(tmp_path)).refit
