"""Bring your own data through `recsys train` / `evaluate`: --user-col and friends, --columns for
headerless CSV, and the one-line warnings and errors around them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import main

FAST = ["--model", "mf", "--epochs", "1", "--quiet", "--batch-size", "64"]


def _rows(n_users: int = 30, per_user: int = 6, seed: int = 0) -> list[tuple[str, str, int, int]]:
    rng = np.random.default_rng(seed)
    return [(f"c{u}", f"p{i}", int(rng.integers(1, 6)), 1_600_000_000 + 100 * u + t)
            for u in range(n_users) for t, i in enumerate(rng.choice(40, per_user, replace=False))]


def _write(path: Path, rows: list[tuple], header: str | None) -> Path:
    lines = ([header] if header else []) + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_named_csv_columns_train_and_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path / "shop.csv", _rows(), "customer,product,stars,when")
    out = tmp_path / "model"
    assert main(["train", *FAST, "--data", str(data), "--out", str(out), "--user-col", "customer",
                 "--item-col", "product", "--rating-col", "stars", "--time-col", "when"]) == 0
    captured = capsys.readouterr()
    assert "30 users" in captured.out and "warning" not in captured.err
    trained = json.loads((out / "metrics.json").read_text())
    # The artifact remembers the column names, so evaluate needs no column flags.
    assert main(["evaluate", "--model-dir", str(out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["hr@10"] == pytest.approx(trained["hr@10"])
    # The same data without a header: evaluate's column flags replace the artifact's.
    copy = _write(tmp_path / "copy.csv", _rows(), None)
    assert main(["evaluate", "--model-dir", str(out), "--json", "--data", str(copy),
                 "--columns", "user,item,rating,time"]) == 0
    assert json.loads(capsys.readouterr().out)["hr@10"] == pytest.approx(trained["hr@10"])


def test_headerless_csv_with_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path / "events.txt", [(t, u, i) for u, i, _, t in _rows()], None)
    out = tmp_path / "model"
    assert main(["train", *FAST, "--data", str(data), "--out", str(out), "--columns", "time,user,item"]) == 0
    assert "30 users" in capsys.readouterr().out
    assert (out / "metrics.json").exists()


def test_parquet_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = _rows()
    path = tmp_path / "shop.parquet"
    pq.write_table(pa.table({"buyer": [r[0] for r in rows], "sku": [r[1] for r in rows],
                             "at": [r[3] for r in rows]}), path)
    assert main(["train", *FAST, "--data", str(path), "--out", str(tmp_path / "m"), "--user-col", "buyer",
                 "--item-col", "sku", "--time-col", "at"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_no_timestamps_warns_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path / "plain.csv", [(u, i) for u, i, _, _ in _rows()], "user,item")
    assert main(["train", *FAST, "--data", str(data), "--out", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("recsys train: warning: ") and "no timestamps" in err


def test_temporal_without_timestamps_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path / "plain.csv", [(u, i) for u, i, _, _ in _rows()], "user,item")
    assert main(["train", *FAST, "--data", str(data), "--out", str(tmp_path / "m"), "--split", "temporal"]) == 2
    assert "has no timestamps, so a temporal split" in _error_line(capsys)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("flags,header,message", [
    ([], "customer,product", "no user or item column among the columns found ('customer', 'product')"),
    (["--user-col", "buyer", "--item-col", "product"], "customer,product",
     "no column 'buyer' (given as the user column); columns found: 'customer', 'product'"),
    (["--columns", "user,item", "--user-col", "customer"], "customer,product", "give one or the other"),
    (["--columns", "user,item,thing"], None, "unknown column 'thing' in the column order"),
    ([], None, "the first line looks like data: for a file without a header give --columns"),
])
def test_column_mistakes_get_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
                                      header: str | None, message: str) -> None:
    rows = _rows(5, 3) if header is None else [(u, i) for u, i, _, _ in _rows(5, 3)]
    data = _write(tmp_path / "d.csv", rows, header)
    assert main(["train", *FAST, "--data", str(data), "--out", str(tmp_path / "m"), *flags]) == 2
    assert message in _error_line(capsys)


def test_column_flags_with_synthetic_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", *FAST, "--out", str(tmp_path / "m"), "--user-col", "who"]) == 2
    assert "not to synthetic data" in _error_line(capsys)


def test_help_documents_the_column_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--user-col", "--item-col", "--rating-col", "--time-col", "--columns", "user,item,rating,time"):
        assert flag in out
