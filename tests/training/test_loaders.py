"""Loaders for the public formats: tiny files per format, auto-detection, located errors, real data."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from training.data._text import open_text
from training.data.loaders import (
    FORMATS,
    detect_format,
    load,
    load_amazon,
    load_csv,
    load_lightgcn,
    load_movielens,
    load_ncf,
    load_parquet,
    load_sequence,
)
from training.data.types import DataFormatError, LoadedData


def write(path: Path, text: str, compress: bool = False, encoding: str = "utf-8") -> Path:
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def ids(array: np.ndarray | None) -> list[str]:
    assert array is not None
    return array.tolist()


# ----------------------------------------------------------------------------------------- open_text


def test_open_text_detects_gzip_by_content_not_name(tmp_path: Path) -> None:
    write(tmp_path / "plain.gz", "not compressed\n")
    write(tmp_path / "hidden.txt", "compressed\n", compress=True)
    with open_text(tmp_path / "plain.gz") as a, open_text(tmp_path / "hidden.txt") as b:
        assert (a.read(), b.read()) == ("not compressed\n", "compressed\n")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_amazon(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load(tmp_path / "nope.json")


# -------------------------------------------------------------------------------------------- amazon

AMAZON_2014 = (
    '{"reviewerID": "A1", "asin": "B001", "overall": 5.0, "unixReviewTime": 1393545600, "reviewText": "ok"}\n'
    "{'reviewerID': 'A2', 'asin': 'B002', 'overall': 3.0, 'unixReviewTime': 1363392000, 'verified': True}\n"
    "\n"
)
AMAZON_2023 = (
    '{"rating": 4.0, "asin": "B00V1", "parent_asin": "B00P", "user_id": "U9", "timestamp": 1588687728923}\n'
    '{"rating": 2.0, "asin": "B00X", "user_id": "U8", "timestamp": 1600000000000}\n'
)
AMAZON_META = (
    "{'asin': 'B001', 'title': 'Pop Filter', 'price': '$12.99', 'brand': 'Nady',"
    " 'categories': [['Musical Instruments', 'Accessories'], ['Musical Instruments', 'Cables']]}\n"
    '{"asin": "B002", "title": "Strings", "price": 5, "category": ["Guitars", "Strings"]}\n'
    '{"parent_asin": "B00P", "title": "Capo", "price": null, "store": null, "details": {"Brand": "Kyser"},'
    ' "categories": ["Guitar", "Capos"]}\n'
    '{"asin": "B003", "price": "<span>n/a</span>"}\n'
)


def test_amazon_2014_json_and_python_literal_gzip(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.json.gz", AMAZON_2014, compress=True)
    data = load_amazon(path)
    log = data.interactions
    assert ids(log.user_ids) == ["A1", "A2"] and ids(log.item_ids) == ["B001", "B002"]
    assert log.ratings is not None and log.ratings.dtype == np.float32 and log.ratings.tolist() == [5.0, 3.0]
    assert log.timestamps is not None and log.timestamps.dtype == np.int64
    assert log.timestamps.tolist() == [1393545600, 1363392000]
    assert data.source == f"amazon:{path}" and data.catalogue is None and data.given_test is None


def test_amazon_2023_parent_asin_and_millisecond_timestamps(tmp_path: Path) -> None:
    log = load_amazon(write(tmp_path / "Beauty.jsonl", AMAZON_2023)).interactions
    assert ids(log.user_ids) == ["U9", "U8"] and ids(log.item_ids) == ["B00P", "B00X"]
    assert log.timestamps is not None and log.timestamps.tolist() == [1588687728, 1600000000]
    assert log.ratings is not None and log.ratings.tolist() == [4.0, 2.0]


def test_amazon_metadata_catalogue(tmp_path: Path) -> None:
    reviews = write(tmp_path / "r.json", AMAZON_2014)
    catalogue = load_amazon(reviews, meta_path=write(tmp_path / "meta.json", AMAZON_META)).catalogue
    assert catalogue is not None
    assert catalogue.titles == {"B001": "Pop Filter", "B002": "Strings", "B00P": "Capo"}
    assert catalogue.prices == {"B001": 12.99, "B002": 5.0}
    assert catalogue.brands == {"B001": "Nady", "B00P": "Kyser"}
    assert catalogue.categories == {
        "B001": ["Musical Instruments", "Accessories", "Cables"],
        "B002": ["Guitars", "Strings"],
        "B00P": ["Guitar", "Capos"],
    }
    assert len(catalogue) == 3  # B003 has no usable field


@pytest.mark.parametrize(
    "line, what",
    [
        ("{not json at all\n", "not a JSON object or Python dict literal"),
        ("[1, 2]\n", "expected an object"),
        ('{"asin": "B1", "overall": 5}\n', "expected review keys"),
        ('{"reviewerID": "A", "asin": "B1", "unixReviewTime": 1}\n', "missing 'overall'"),
        ('{"reviewerID": "A", "asin": "B1", "overall": "five", "unixReviewTime": 1}\n', "'five' is not a number"),
    ],
)
def test_amazon_malformed_line_is_located(tmp_path: Path, line: str, what: str) -> None:
    path = write(tmp_path / "bad.json", AMAZON_2014 + line)
    with pytest.raises(DataFormatError, match="bad.json:4: ") as info:
        load_amazon(path)
    assert what in str(info.value)


def test_amazon_meta_malformed_line_is_located(tmp_path: Path) -> None:
    meta = write(tmp_path / "meta.json", AMAZON_META + '{"title": "no id"}\n')
    with pytest.raises(DataFormatError, match=r"meta.json:5: missing 'parent_asin' or 'asin'"):
        load_amazon(write(tmp_path / "r.json", AMAZON_2014), meta_path=meta)


# ------------------------------------------------------------------------------------------ sequence


def test_sequence_positions_as_timestamps(tmp_path: Path) -> None:
    data = load_sequence(write(tmp_path / "Beauty.txt", "1 10 11 12\n2 11\n\n3 12 10\n"))
    log = data.interactions
    assert ids(log.user_ids) == ["1", "1", "1", "2", "3", "3"]
    assert ids(log.item_ids) == ["10", "11", "12", "11", "12", "10"]
    assert log.timestamps is not None and log.timestamps.tolist() == [0, 1, 2, 0, 0, 1]
    assert log.ratings is None and data.source.startswith("sequence:")


def test_sequence_one_pair_per_line_keeps_counting(tmp_path: Path) -> None:
    # SASRec's "uid iid" per line: positions continue across a user's lines.
    log = load_sequence(write(tmp_path / "Video.txt.gz", "1 5\n1 6\n2 5\n1 7\n", compress=True)).interactions
    assert log.timestamps is not None and log.timestamps.tolist() == [0, 1, 0, 2]


def test_sequence_malformed_line_is_located(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"seq.txt:2: expected whitespace-separated ids"):
        load_sequence(write(tmp_path / "seq.txt", "1 2 3\n4,5,6\n"))


# ------------------------------------------------------------------------------------------ lightgcn


def lightgcn_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "gowalla"
    directory.mkdir()
    write(directory / "train.txt.gz", "0 0 1 2\n1 3\n2\n3 0 4\n", compress=True)
    write(directory / "test.txt", "0 5\n1 4 0\n2\n")
    return directory


def test_lightgcn_train_gz_and_user_without_items(tmp_path: Path) -> None:
    directory = lightgcn_dir(tmp_path)
    data = load_lightgcn(directory)
    assert ids(data.interactions.user_ids) == ["0", "0", "0", "1", "3", "3"]
    assert ids(data.interactions.item_ids) == ["0", "1", "2", "3", "0", "4"]
    assert data.interactions.timestamps is None and data.interactions.ratings is None
    assert data.given_test is not None
    assert ids(data.given_test.user_ids) == ["0", "1", "1"] and ids(data.given_test.item_ids) == ["5", "4", "0"]
    assert data.source == f"lightgcn:{directory}"


def test_lightgcn_missing_files(tmp_path: Path) -> None:
    directory = lightgcn_dir(tmp_path)
    (directory / "test.txt").unlink()
    with pytest.raises(FileNotFoundError, match="test.txt"):
        load_lightgcn(directory)
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_lightgcn(tmp_path / "elsewhere")


def test_lightgcn_malformed_line_is_located(tmp_path: Path) -> None:
    directory = lightgcn_dir(tmp_path)
    write(directory / "test.txt", "0 5\n\n1 x 2\n")
    with pytest.raises(DataFormatError, match=r"test.txt:3: expected whitespace-separated integer ids"):
        load_lightgcn(directory)


# ----------------------------------------------------------------------------------------------- ncf


def ncf_files(tmp_path: Path, negatives: bool = True) -> Path:
    write(tmp_path / "ml-1m.train.rating", "0\t32\t4\t978824330\n0\t34\t4\t978824330\n1\t10\t5\t978300174\n")
    write(tmp_path / "ml-1m.test.rating.gz", "0\t25\t5\t978824351\n1\t133\t3\t978300174\n", compress=True)
    if negatives:
        write(tmp_path / "ml-1m.test.negative", "(0,25)\t1064\t174\t2791\n(1,133)\t1072\t3154\t3368\n")
    return tmp_path / "ml-1m"


def test_ncf_train_test_and_negatives(tmp_path: Path) -> None:
    prefix = ncf_files(tmp_path)
    data = load_ncf(prefix)
    train, test = data.interactions, data.given_test
    assert ids(train.user_ids) == ["0", "0", "1"] and ids(train.item_ids) == ["32", "34", "10"]
    assert train.ratings is not None and train.ratings.tolist() == [4.0, 4.0, 5.0]
    assert train.timestamps is not None and train.timestamps.tolist() == [978824330, 978824330, 978300174]
    assert test is not None and ids(test.user_ids) == ["0", "1"] and ids(test.item_ids) == ["25", "133"]
    assert data.test_negatives is not None
    assert {u: v.tolist() for u, v in data.test_negatives.items()} == {
        "0": ["1064", "174", "2791"],
        "1": ["1072", "3154", "3368"],
    }
    assert data.source == f"ncf:{prefix}"
    assert load_ncf(tmp_path).test_negatives is not None  # the directory works too


def test_ncf_without_negatives(tmp_path: Path) -> None:
    assert load_ncf(ncf_files(tmp_path, negatives=False)).test_negatives is None
    assert load_ncf(tmp_path / "ml-1m.train.rating").source.startswith("ncf:")  # any one file names the prefix


def test_ncf_directory_with_two_datasets_is_ambiguous(tmp_path: Path) -> None:
    ncf_files(tmp_path)
    write(tmp_path / "pinterest-20.train.rating", "0\t1\t1\t0\n")
    with pytest.raises(ValueError, match="ml-1m, pinterest-20"):
        load_ncf(tmp_path)


def test_ncf_missing_train_names_it(tmp_path: Path) -> None:
    prefix = ncf_files(tmp_path)
    (tmp_path / "ml-1m.train.rating").unlink()
    with pytest.raises(FileNotFoundError, match=r"ml-1m\.train\.rating"):
        load_ncf(prefix)
    with pytest.raises(FileNotFoundError, match=r"train\.rating"):
        load(tmp_path)


def test_ncf_malformed_lines_are_located(tmp_path: Path) -> None:
    prefix = ncf_files(tmp_path)
    write(tmp_path / "ml-1m.train.rating", "0\t32\t4\t978824330\n0\t34\n")
    with pytest.raises(DataFormatError, match=r"ml-1m.train.rating:2: expected 4 tab-separated fields, got 2"):
        load_ncf(prefix)
    ncf_files(tmp_path)
    write(tmp_path / "ml-1m.test.negative", "(0,25)\t1\n0\t2\n")
    with pytest.raises(DataFormatError, match=r"ml-1m.test.negative:2: expected '\(user,item\)'"):
        load_ncf(prefix)


# ----------------------------------------------------------------------------------------- movielens

U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Caf\xe9 (1995)|01-Jan-1995||http://y|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n"
)
U_GENRE = (
    "unknown|0\nAction|1\nAdventure|2\nAnimation|3\nChildren's|4\nComedy|5\nCrime|6\nDocumentary|7\nDrama|8\n"
    "Fantasy|9\nFilm-Noir|10\nHorror|11\nMusical|12\nMystery|13\nRomance|14\nSci-Fi|15\nThriller|16\nWar|17\n"
    "Western|18\n\n"
)


def test_movielens_100k_with_titles_and_genres(tmp_path: Path) -> None:
    write(tmp_path / "u.data", "196\t1\t3\t881250949\n186\t2\t3.5\t891717742\n")
    write(tmp_path / "u.item", U_ITEM, encoding="latin-1")
    write(tmp_path / "u.genre", U_GENRE)
    for path in (tmp_path, tmp_path / "u.data"):
        data = load_movielens(path)
        log = data.interactions
        assert ids(log.user_ids) == ["196", "186"] and ids(log.item_ids) == ["1", "2"]
        assert log.ratings is not None and log.ratings.tolist() == [3.0, 3.5]
        assert log.timestamps is not None and log.timestamps.tolist() == [881250949, 891717742]
        assert data.catalogue is not None
        assert data.catalogue.titles == {"1": "Toy Story (1995)", "2": "Caf\xe9 (1995)"}
        assert data.catalogue.categories == {
            "1": ["Animation", "Children's", "Comedy"],
            "2": ["Action", "Adventure", "Thriller"],
        }
        assert data.source == f"movielens:{path}"


def test_movielens_1m_ratings_dat_with_movies_dat(tmp_path: Path) -> None:
    write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n", compress=True)
    movies = "1193::One Flew (1975)::Drama\n661::Peach (1996)::Animation|Children's\n"
    write(tmp_path / "movies.dat", movies, encoding="latin-1")
    data = load_movielens(tmp_path)
    log = data.interactions
    assert ids(log.user_ids) == ["1", "1"] and ids(log.item_ids) == ["1193", "661"]
    assert log.ratings is not None and log.ratings.tolist() == [5.0, 3.0]
    assert log.timestamps is not None and log.timestamps.tolist() == [978300760, 978302109]
    assert data.catalogue is not None and data.catalogue.titles == {"1193": "One Flew (1975)", "661": "Peach (1996)"}
    assert data.catalogue.categories == {"1193": ["Drama"], "661": ["Animation", "Children's"]}


def test_movielens_without_item_file_has_no_catalogue(tmp_path: Path) -> None:
    assert load_movielens(write(tmp_path / "u.data", "1\t2\t3\t4\n")).catalogue is None


def test_movielens_malformed_lines_are_located(tmp_path: Path) -> None:
    write(tmp_path / "u.data", "196\t1\t3\t881250949\n186\t2\tbad\t891717742\n")
    with pytest.raises(DataFormatError, match=r"u.data:2: rating 'bad' is not a number"):
        load_movielens(tmp_path)
    write(tmp_path / "u.data", "196\t1\t3\t881250949\n")
    write(tmp_path / "u.item", U_ITEM + "3|short\n", encoding="latin-1")
    with pytest.raises(DataFormatError, match=r"u.item:3: expected 24 '\|'-separated fields, got 2"):
        load_movielens(tmp_path)


# ----------------------------------------------------------------------------------------------- csv


def test_csv_aliases_and_sniffed_tab(tmp_path: Path) -> None:
    text = "ReviewerID\tASIN\tOverall\tunixReviewTime\textra\nA1\tB1\t5.0\t100\tx,y\n\nA2\tB2\t4\t200.0\ty\n"
    path = write(tmp_path / "ratings.csv", text)  # tab-separated despite the name: sniffed, not guessed
    data = load_csv(path)
    log = data.interactions
    assert ids(log.user_ids) == ["A1", "A2"] and ids(log.item_ids) == ["B1", "B2"]
    assert log.ratings is not None and log.ratings.tolist() == [5.0, 4.0]
    assert log.timestamps is not None and log.timestamps.tolist() == [100, 200]
    assert data.source == f"csv:{path}"


def test_csv_optional_columns_quotes_and_milliseconds(tmp_path: Path) -> None:
    log = load_csv(write(tmp_path / "a.csv", 'user_id,parent_asin,timestamp\n"U,1",P1,1588687728923\n')).interactions
    assert ids(log.user_ids) == ["U,1"] and ids(log.item_ids) == ["P1"] and log.ratings is None
    assert log.timestamps is not None and log.timestamps.tolist() == [1588687728]


def test_csv_semicolon_and_pipe(tmp_path: Path) -> None:
    assert ids(load_csv(write(tmp_path / "a.csv", "uid;iid\n1;2\n")).interactions.item_ids) == ["2"]
    assert ids(load_csv(write(tmp_path / "b.csv", "userId|movieId|rating\n1|2|3\n")).interactions.item_ids) == ["2"]


def test_csv_missing_column_lists_header(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"a.csv:1: no item column.*'User', 'what'"):
        load_csv(write(tmp_path / "a.csv", "User,what\n1,2\n"))


def test_csv_tab_error_names_line(tmp_path: Path) -> None:
    text = "user\titem\trating\ttimestamp\n" + "u\ti\t1\t2\n" * 15 + "u\ti\n"
    with pytest.raises(DataFormatError, match=r"ratings.csv:17: expected 4 tab-separated fields, got 2"):
        load_csv(write(tmp_path / "ratings.csv", text))


def test_csv_byte_order_mark_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfUser,Item\n1,2\n")
    assert ids(load_csv(path).interactions.user_ids) == ["1"]
    with pytest.raises(DataFormatError, match=r"n.csv:3: 'rating' value 'nan' is not a number"):
        load_csv(write(tmp_path / "n.csv", "user,item,rating\n1,2,3\n1,3,nan\n"))


def test_csv_bad_values_are_located(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"a.csv:3: 'rating' value 'x' is not a number"):
        load_csv(write(tmp_path / "a.csv", "user,item,rating\n1,2,3\n1,3,x\n"))
    with pytest.raises(DataFormatError, match=r"b.csv:4: 'ts' value '2020-01-01' is not an integer"):
        load_csv(write(tmp_path / "b.csv", "\nuser,item,ts\n1,2,3\n1,3,2020-01-01\n"))
    with pytest.raises(DataFormatError, match=r"c.csv:2: expected 3 ','-separated fields, got 2"):
        load_csv(write(tmp_path / "c.csv", "user,item,rating\n1,2\n"))


# ------------------------------------------------------------------------------------------- parquet


def test_parquet_aliases_and_types(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "UserID": pa.array([1, 2], pa.int64()),
            "item_id": ["a", "b"],
            "score": pa.array([4.5, 3.0], pa.float64()),
            "time": pa.array([1_000_000, 2_000_000], pa.timestamp("ms")),
        }
    )
    path = tmp_path / "x.parquet"
    pq.write_table(table, path)
    data = load_parquet(path)
    log = data.interactions
    assert ids(log.user_ids) == ["1", "2"] and ids(log.item_ids) == ["a", "b"]
    assert log.ratings is not None and log.ratings.dtype == np.float32 and log.ratings.tolist() == [4.5, 3.0]
    assert log.timestamps is not None and log.timestamps.dtype == np.int64 and log.timestamps.tolist() == [1000, 2000]
    assert data.source == f"parquet:{path}"


def test_parquet_errors(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"user": ["u"], "thing": ["i"]}), tmp_path / "a.parquet")
    with pytest.raises(DataFormatError, match=r"a.parquet: no item column"):
        load_parquet(tmp_path / "a.parquet")
    pq.write_table(pa.table({"user": ["u", "v"], "item": ["i", "j"], "rating": ["1", "x"]}), tmp_path / "b.parquet")
    with pytest.raises(DataFormatError, match=r"b.parquet: column 'rating' is not numeric"):
        load_parquet(tmp_path / "b.parquet")
    pq.write_table(pa.table({"user": ["u", None], "item": ["i", "j"]}), tmp_path / "c.parquet")
    with pytest.raises(DataFormatError, match=r"c.parquet: row 2: null in column 'user'"):
        load_parquet(tmp_path / "c.parquet")
    write(tmp_path / "d.parquet", "not parquet")
    with pytest.raises(DataFormatError, match=r"d.parquet: not a readable Parquet file"):
        load_parquet(tmp_path / "d.parquet")


# -------------------------------------------------------------------------- empty files, dispatching


@pytest.mark.parametrize(
    "name, loader",
    [("e.json", load_amazon), ("e.txt", load_sequence), ("u.data", load_movielens), ("e.csv", load_csv)],
)
def test_empty_file_has_no_interactions(tmp_path: Path, name: str, loader) -> None:
    path = write(tmp_path / name, "\n\n", compress=name == "e.txt")
    with pytest.raises(DataFormatError, match=f"{name}: file has no interactions"):
        loader(path)


def test_csv_header_only_has_no_interactions(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="h.csv: file has no interactions"):
        load_csv(write(tmp_path / "h.csv", "user,item\n"))


def test_undecodable_text_names_the_exact_line(tmp_path: Path) -> None:
    for name, compress in (("plain.txt", False), ("packed.txt", True)):
        path = write(tmp_path / name, "1 2\n" * 5000 + "3 \xff\n", compress, encoding="latin-1")
        with pytest.raises(DataFormatError, match=f"{name}:5001: not valid utf-8 text"):
            load_sequence(path)


def test_rating_rows_reject_nan(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"u.data:1: rating 'nan' is not a number"):
        load_movielens(write(tmp_path / "u.data", "1\t2\tnan\t3\n"))


def test_corrupt_gzip_is_a_format_error(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "1 2 3\n" * 1000, compress=True)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataFormatError, match=r"t.txt:\d+: corrupt or truncated gzip"):
        load_sequence(path)
    path.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(DataFormatError, match=r"t.txt:1: corrupt or truncated gzip"):
        load_sequence(path)


def test_auto_detection(tmp_path: Path) -> None:
    cases = {}
    cases["lightgcn"] = lightgcn_dir(tmp_path)
    ncf_dir = tmp_path / "ncf"
    ncf_dir.mkdir()
    cases["ncf"] = ncf_files(ncf_dir)  # a prefix
    ml = tmp_path / "ml"
    ml.mkdir()
    write(ml / "ratings.dat", "1::2::3::4\n")
    cases["movielens"] = ml
    cases["amazon"] = write(tmp_path / "r.json.gz", AMAZON_2023, compress=True)
    cases["csv"] = write(tmp_path / "r.tsv", "user\titem\n1\t2\n")
    cases["sequence"] = write(tmp_path / "Beauty.txt", "1 2 3\n")
    for fmt, path in cases.items():
        assert detect_format(path) == fmt, path
        assert load(path).source == f"{fmt}:{path}"
    assert detect_format(ncf_dir) == "ncf" and detect_format(ml / "ratings.dat") == "movielens"
    assert detect_format(write(tmp_path / "u.data", "1\t2\t3\t4\n")) == "movielens"
    assert detect_format(write(tmp_path / "reviews", "\n" + AMAZON_2014)) == "amazon"
    assert detect_format(cases["lightgcn"] / "train.txt.gz") == "lightgcn"
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    pq.write_table(pa.table({"user": ["u"], "item": ["i"]}), tmp_path / "t.parquet")
    assert load(tmp_path / "t.parquet").source.startswith("parquet:")


def test_auto_detection_failures(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot detect"):
        load(write(tmp_path / "odd", "1\t2\t3\n"))
    with pytest.raises(DataFormatError, match="cannot detect"):
        load(tmp_path)


def test_format_names(tmp_path: Path) -> None:
    assert FORMATS == ("auto", "amazon", "sequence", "lightgcn", "ncf", "movielens", "csv", "parquet")
    with pytest.raises(ValueError, match="lightgcn") as info:
        load(tmp_path, fmt="gowalla")
    assert "gowalla" in str(info.value) and not isinstance(info.value, DataFormatError)
    path = write(tmp_path / "x.txt", "1 2 3\n")
    assert load(path, fmt="sequence").interactions.timestamps is not None
    meta = write(tmp_path / "m.json", AMAZON_META)
    assert load(write(tmp_path / "r.json", AMAZON_2014), meta_path=meta).catalogue is not None


# ------------------------------------------------------------------------------------------ real data


def shared_data() -> Path:
    return Path(os.environ.get("RECSYS_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")


def real(relative: str) -> Path:
    path = shared_data() / relative
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


def n_unique(array: np.ndarray) -> int:
    return len(np.unique(array))


def test_real_gowalla_lightgcn() -> None:
    path = real("gowalla-lightgcn")
    data = load(path)
    assert data.source.startswith("lightgcn:")
    assert len(data.interactions) == 810_128 and n_unique(data.interactions.user_ids) == 29_858
    assert data.given_test is not None and len(data.given_test) == 217_242


def test_real_ml100k() -> None:
    data: LoadedData = load(real("ml-100k"))
    log = data.interactions
    assert data.source.startswith("movielens:")
    assert (len(log), n_unique(log.user_ids), n_unique(log.item_ids)) == (100_000, 943, 1_682)
    assert data.catalogue is not None and data.catalogue.titles["1"] == "Toy Story (1995)"
    assert data.catalogue.categories["1"] == ["Animation", "Children's", "Comedy"]


def test_real_amazon_musical_instruments() -> None:
    data = load(real("amazon-musical-instruments-5core-2014/reviews_Musical_Instruments_5.json.gz"))
    log = data.interactions
    assert data.source.startswith("amazon:") and len(log) == 10_261
    assert (n_unique(log.user_ids), n_unique(log.item_ids)) == (1_429, 900)
    assert log.ratings is not None and set(log.ratings.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_a_control_character_in_an_id_is_refused_not_merged(tmp_path):
    """numpy drops a trailing NUL, so "u1\\0" and "u1" would silently become one user."""
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\nu1\x00,p1,5\nu1,p2,4\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv:2: a user or item id holds a control character"):
        load(path)
