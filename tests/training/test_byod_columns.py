"""Bring your own data at the library level: named columns (CSV and Parquet), headerless CSV with a
column order, and the data checks in open_dataset (missing timestamps, k-core leaving nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.data.loaders import load, load_csv, load_parquet, parse_column_order
from training.data.sources import DataSpec, load_source, open_dataset
from training.data.types import DataFormatError

NAMED = "customer,product,stars,when\nc1,p1,5,100\nc1,p2,3,200\nc2,p1,4,150\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_column_map_names_every_column(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", NAMED)
    log = load_csv(path, column_map={"user": "customer", "item": "product", "rating": "stars", "time": "when"})
    log = log.interactions
    assert log.user_ids.tolist() == ["c1", "c1", "c2"] and log.item_ids.tolist() == ["p1", "p2", "p1"]
    assert log.ratings.tolist() == [5, 3, 4] and log.timestamps.tolist() == [100, 200, 150]


def test_column_map_leaves_other_roles_to_the_aliases(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Client;Sku;rating;ts\nc1;p1;2;7\n")
    log = load_csv(path, column_map={"user": "client", "item": "SKU"}).interactions  # case-insensitive fallback
    assert (log.user_ids.tolist(), log.item_ids.tolist()) == (["c1"], ["p1"])
    assert log.ratings.tolist() == [2] and log.timestamps.tolist() == [7]


def test_column_map_prefers_the_exact_case(tmp_path: Path) -> None:
    log = load_csv(write(tmp_path / "a.csv", "id,ID,item\na,b,i\n"), column_map={"user": "ID"}).interactions
    assert log.user_ids.tolist() == ["b"]


def test_column_map_unknown_column_lists_the_columns_found(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"a.csv:1: no column 'buyer' \(given as the user column\); "
                                              r"columns found: 'customer', 'product', 'stars', 'when'"):
        load_csv(write(tmp_path / "a.csv", NAMED), column_map={"user": "buyer", "item": "product"})


def test_column_map_mistakes_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", NAMED)
    with pytest.raises(ValueError, match="unknown column role 'buyer'"):
        load_csv(path, column_map={"buyer": "customer"})
    with pytest.raises(ValueError, match="column 'customer' is named for more than one"):
        load_csv(path, column_map={"user": "customer", "item": "customer"})


def test_no_matching_columns_names_those_found_and_the_flags(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError) as exc:
        load_csv(write(tmp_path / "a.csv", NAMED))
    message = str(exc.value)
    assert "no user or item column among the columns found ('customer', 'product', 'stars', 'when')" in message
    assert "--user-col and --item-col" in message and "\n" not in message


def test_data_in_the_header_line_suggests_columns(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"first line looks like data.*--columns"):
        load_csv(write(tmp_path / "a.csv", "c1,p1,5,100\nc2,p2,4,150\n"))


def test_headerless_csv_with_column_order(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", "\nu1\ti1\tjunk\t10\nu2\ti2\tjunk\t20\n")
    data = load_csv(path, column_order="user,item,-,time")
    log = data.interactions
    assert log.user_ids.tolist() == ["u1", "u2"] and log.item_ids.tolist() == ["i1", "i2"]
    assert log.ratings is None and log.timestamps.tolist() == [10, 20]
    assert data.source == f"csv:{path}"


def test_headerless_csv_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"a.csv:2: expected 3 ','-separated fields \(as the column order "
                                              r"says\), got 2"):
        load_csv(write(tmp_path / "a.csv", "u,i,1\nu,i\n"), column_order=["user", "item", "rating"])
    with pytest.raises(DataFormatError, match=r"b.csv:1: 'rating' value 'stars' is not a number; "
                                              r"if the first line is a header, drop --columns"):
        load_csv(write(tmp_path / "b.csv", NAMED), column_order="user,item,rating,time")
    with pytest.raises(DataFormatError, match=r"c.csv:3: 'time' value 'x' is not an integer$"):
        load_csv(write(tmp_path / "c.csv", "u,i,1\nu,j,2\nu,k,x\n"), column_order="user,item,time")


def test_parse_column_order() -> None:
    assert parse_column_order("User, item ,skip,TIME,-,rating") == ["user", "item", "-", "timestamp", "-", "rating"]
    with pytest.raises(ValueError, match="unknown column 'when' in the column order"):
        parse_column_order("user,item,when")
    with pytest.raises(ValueError, match="names user twice"):
        parse_column_order("user,item,user")
    with pytest.raises(ValueError, match="has no item column"):
        parse_column_order("user,rating")


def test_column_map_and_order_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        load_csv(write(tmp_path / "a.csv", NAMED), column_map={"user": "x"}, column_order="user,item")


def test_parquet_column_map(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"customer": ["c1", "c2"], "product": [7, 8], "when": [1_600_000_000_000] * 2}), path)
    log = load_parquet(path, column_map={"user": "customer", "item": "product", "time": "when"}).interactions
    assert log.item_ids.tolist() == ["7", "8"] and log.timestamps.tolist() == [1_600_000_000] * 2
    with pytest.raises(DataFormatError, match=r"no user or item column among the columns found \('customer', "
                                              r"'product', 'when'\).*--user-col and --item-col"):
        load_parquet(path)
    with pytest.raises(ValueError, match="Parquet files name their own columns"):
        load_parquet(path, column_order="user,item")


def test_column_options_pick_csv_for_any_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "export.dat", "u1,i1\nu2,i2\n")  # would not be detected as any format
    assert load(path, column_order="user,item").source == f"csv:{path}"
    with pytest.raises(DataFormatError, match="cannot detect"):  # None means "no column option"
        load(path, column_map=None, column_order=None)


def test_column_options_are_refused_for_other_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "u.data", "1\t2\t3\t4\n")
    with pytest.raises(ValueError, match=r"apply to CSV and Parquet files; .*u.data is in movielens format"):
        load(path, "movielens", column_map={"user": "a"})
    # With format auto, column options mean "this is a table": a headerless tab file reads as CSV.
    log = load(path, column_order="user,item,rating,time").interactions
    assert (log.user_ids.tolist(), log.timestamps.tolist()) == (["1"], [4])


def test_data_spec_passes_columns_through(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", NAMED)
    spec = DataSpec(path=str(path), column_map={"user": "customer", "item": "product"})
    assert load_source(spec).interactions.user_ids.tolist() == ["c1", "c1", "c2"]
    with pytest.raises(ValueError, match="not to synthetic data"):
        load_source(DataSpec(column_order=["user", "item"]))


def _no_time_csv(path: Path, n_users: int = 12, per_user: int = 5) -> Path:
    rows = [f"u{u},i{(u + k) % 20}" for u in range(n_users) for k in range(per_user)]
    return write(path, "user,item\n" + "\n".join(rows) + "\n")


def test_loo_without_timestamps_warns_once(tmp_path: Path) -> None:
    notes: list[str] = []
    dataset = open_dataset(DataSpec(path=str(_no_time_csv(tmp_path / "a.csv"))), warn=notes.append)
    assert len(dataset.test) == 12
    assert len(notes) == 1 and "has no timestamps" in notes[0] and "file order" in notes[0]
    assert "\n" not in notes[0]


def test_no_warning_when_time_is_not_used(tmp_path: Path) -> None:
    notes: list[str] = []
    open_dataset(DataSpec(path=str(_no_time_csv(tmp_path / "a.csv")), split="random"), warn=notes.append)
    open_dataset(DataSpec(path=str(write(tmp_path / "b.csv", NAMED)), column_map={"user": "customer",
                          "item": "product", "time": "when"}), warn=notes.append)
    assert notes == []


def test_temporal_without_timestamps_says_how_to_fix(tmp_path: Path) -> None:
    spec = DataSpec(path=str(_no_time_csv(tmp_path / "a.csv")), split="temporal")
    with pytest.raises(ValueError, match=r"has no timestamps, so a temporal split.*--time-col.*--split loo"):
        open_dataset(spec, warn=lambda message: None)


def test_min_core_leaving_nothing_is_refused(tmp_path: Path) -> None:
    spec = DataSpec(path=str(_no_time_csv(tmp_path / "a.csv")), min_core=50)
    with pytest.raises(ValueError, match=r"--min-core 50 leaves too little data: 0 of 12 users and 0 of 16 items"):
        open_dataset(spec, warn=lambda message: None)
    kept = open_dataset(DataSpec(path=spec.path, min_core=2), warn=lambda message: None)
    assert kept.n_users == 12 and len(kept.test) > 0


def test_synthetic_sizes_have_minimums() -> None:
    with pytest.raises(ValueError, match=r"at least 10 users, got 3: .*test and validation cases"):
        load_source(DataSpec(synthetic_users=3, synthetic_items=500))
    with pytest.raises(ValueError, match=r"at least 160 items, got 20: .*20 categories x 8 taste segments"):
        load_source(DataSpec(synthetic_users=50, synthetic_items=20))
    assert len(np.unique(load_source(DataSpec(synthetic_users=10, synthetic_items=160)).interactions.user_ids)) == 10
