"""A new user's usual mistakes with `recsys train` / `evaluate`: each gets one line on stderr and a
non-zero exit, never a traceback, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import cli.main
from cli.main import main

RECSYS = Path(sys.executable).with_name("recsys")
TINY = ["--model", "mf", "--epochs", "1", "--quiet", "--synthetic-users", "40", "--synthetic-items", "160"]
QUICKEST = ["--model", "pop", *TINY[2:]]  # no training at all: subprocess tests pay only the start-up


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("recsys ") and "Traceback" not in err, err
    return err


def test_cuda_without_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "m"
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(out), "--device", "cuda"]))
    assert "CUDA is not available here" in err and "--device cpu" in err and "--device auto" in err
    assert not out.exists()


def test_cuda_index_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(tmp_path / "m"), "--device", "cuda:3"]))
    assert "device 'cuda:3' does not exist: 1 CUDA device(s) here" in err


def test_unknown_device_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(tmp_path / "m"), "--device", "gpu"]))
    assert "unknown device 'gpu'; use auto, cpu, cuda or cuda:N" in err


def test_evaluate_checks_the_device_too(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    err = _one_line_error(capsys, main(["evaluate", "--model-dir", str(tmp_path), "--device", "cuda"]))
    assert "CUDA is not available here" in err


@pytest.mark.parametrize("flags,expected", [
    (["--metric", "foo@3"], "unknown metric 'foo@3'; with the sampled protocol, --ks 10,20 choose one of: "
                            "ndcg@10, ndcg@20, hr@10, hr@20, mrr@10, mrr@20"),
    (["--metric", "recall@20", "--protocol", "full"], None),  # valid: no error from the metric check
    (["--metric", "ndcg@5"], "metric 'ndcg@5' needs 5 among the cut-offs (--ks is 10,20)"),
    (["--ks", "5"], "metric 'ndcg@10' needs 10 among the cut-offs (--ks is 5)"),  # the model's default metric
    (["--metric", "ndcg@10", "--feedback", "explicit"], "with explicit feedback choose one of: rmse, mae"),
])
def test_metric_names_list_the_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
                                       expected: str | None) -> None:
    # --out under a file makes the valid case stop right after the metric check, before any data.
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["train", *TINY, "--out", str(blocker / "m"), *flags])
    err = _one_line_error(capsys, code)
    assert (expected or "is a file, so no directory can be created") in err


@pytest.mark.parametrize("flags,expected", [
    (["--synthetic-users", "3"], "synthetic data needs at least 10 users, got 3: each user's latest interactions "
                                 "become the test and validation cases"),
    (["--synthetic-items", "20"], "synthetic data needs at least 160 items, got 20: the catalogue is spread over "
                                  "20 categories x 8 taste segments"),
])
def test_synthetic_sizes_too_small(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
                                   expected: str) -> None:
    out = tmp_path / "m"
    assert expected in _one_line_error(capsys, main(["train", *TINY, "--out", str(out), *flags]))
    assert not out.exists()


def test_out_under_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("hello\n")
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(readme / "x")]))
    assert f"--out {readme / 'x'}: {readme} is a file, so no directory can be created under it" in err
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(readme)]))
    assert "that is an existing file, not a directory" in err
    assert readme.read_text() == "hello\n"


def test_min_core_that_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m"
    err = _one_line_error(capsys, main(["train", *TINY, "--out", str(out), "--min-core", "500"]))
    assert "--min-core 500 leaves too little data: 0 of 40 users and 0 of" in err and "lower --min-core" in err
    assert not out.exists()


def test_broken_pipe_in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def closed_reader(args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli.main, "_cmd_train", closed_reader)
    assert main(["train", "--model", "mf", "--out", "unused"]) == 1
    assert capsys.readouterr().err == ""


def test_broken_pipe_console_script(tmp_path: Path) -> None:
    """Output into a pipe nobody reads (the `| head` case once head has exited): quiet exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as after `head -1` has quit
    try:
        proc = subprocess.run([str(RECSYS), "train", *QUICKEST, "--out", str(tmp_path / "m")], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr and "Exception" not in proc.stderr


def test_head_keeps_the_first_line(tmp_path: Path) -> None:
    command = f"'{RECSYS}' train {' '.join(QUICKEST)} --out '{tmp_path / 'm'}' | head -1"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("data: 40 users") and proc.stdout.count("\n") == 1
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr
