"""Readers for public recommendation data formats; each returns :class:`LoadedData`.

Ids stay the source's own strings. Gzip is recognised by content, so any file may be compressed
whatever its name. Malformed input raises DataFormatError as ``path:line: what was wrong``.
"""

from __future__ import annotations

import csv
import errno
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.ids import has_control_characters

from ._text import (
    PathLike,
    find_file,
    first_line,
    iter_lines,
    line_error,
    locate,
    no_interactions,
    parse_object,
    require_file,
    require_key,
    to_float,
    to_int,
)
from .types import DataFormatError, InteractionLog, ItemCatalogue, LoadedData

FORMATS = ("auto", "amazon", "sequence", "lightgcn", "ncf", "movielens", "csv", "parquet")

# Header aliases, matched case-insensitively; earlier aliases win when several are present
# (parent_asin before asin: 2023 reviews carry both and parent_asin groups product variants).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userid", "reviewerid", "uid"),
    "item": ("item", "item_id", "itemid", "parent_asin", "asin", "product_id", "iid", "movieid", "movie_id"),
    "rating": ("rating", "overall", "score", "value"),
    "timestamp": ("timestamp", "ts", "time", "unixreviewtime"),
}

# ML-100K's u.genre, used when the file is not beside u.item.
_ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                  "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                  "War", "Western"]

_INT_IDS = re.compile(r"\s*\d+(?:\s+\d+)*\s*")
_PRICE = re.compile(r"\s*\$?\s*(\d[\d,]*(?:\.\d+)?)")
_INF = float("inf")
_MS_THRESHOLD = 10**11  # as unix seconds this is year 5138, so larger values must be milliseconds


def _log(
    path: PathLike, users: list[str], items: list[str], ratings: list[float] | None, stamps: list[int] | None
) -> InteractionLog:
    if not users:
        raise no_interactions(path)
    # One conversion per column at the end: far cheaper than growing numpy arrays per row.
    return InteractionLog(
        np.asarray(users, dtype=str),
        np.asarray(items, dtype=str),
        None if ratings is None else np.asarray(ratings, dtype=np.float32),
        None if stamps is None else np.asarray(stamps, dtype=np.int64),
    )


# ---------------------------------------------------------------------------------------- amazon


def load_amazon(path: PathLike, meta_path: PathLike | None = None) -> LoadedData:
    """Amazon review JSON lines (2014/2018 or 2023 keys), plus an optional metadata file."""
    users: list[str] = []
    items: list[str] = []
    ratings: list[float] = []
    stamps: list[int] = []
    for lineno, line in enumerate(iter_lines(path), 1):
        if not line.strip():
            continue
        rec = parse_object(line, path, lineno)
        if "reviewerID" in rec:  # 2014 / 2018
            keys, per_second = (("reviewerID",), ("asin",), ("overall",), ("unixReviewTime",)), 1
        elif "user_id" in rec:  # 2023: parent_asin groups product variants; timestamps are milliseconds
            keys, per_second = (("user_id",), ("parent_asin", "asin"), ("rating",), ("timestamp",)), 1000
        else:
            raise line_error(path, lineno, "expected review keys 'reviewerID' (2014/2018) or 'user_id' (2023)")
        user, item, rating, stamp = (require_key(rec, key, path, lineno) for key in keys)
        users.append(str(user))
        items.append(str(item))
        ratings.append(to_float(str(rating), path, lineno, keys[2][0]))
        stamps.append(to_int(str(stamp), path, lineno, keys[3][0]) // per_second)
    log = _log(path, users, items, ratings, stamps)
    catalogue = None if meta_path is None else load_amazon_meta(meta_path)
    return LoadedData(log, f"amazon:{path}", catalogue=catalogue)


def _categories(value: Any) -> list[str]:
    # 2014 "categories" is a list of category paths (lists); 2018/2023 a flat list of strings.
    out: list[str] = []
    for entry in value if isinstance(value, list) else []:
        for name in entry if isinstance(entry, list) else [entry]:
            if isinstance(name, str) and name.strip() and name.strip() not in out:
                out.append(name.strip())
    return out


def _price(value: Any) -> float | None:
    # Numbers, "$12.99", "$1,299.00" or ranges "$5.99 - $9.99" (low end); anything else is unknown.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value == value and value >= 0 else None
    match = _PRICE.match(value) if isinstance(value, str) else None
    return float(match.group(1).replace(",", "")) if match else None


def load_amazon_meta(path: PathLike) -> ItemCatalogue:
    """Amazon product metadata JSON lines (2014/2018 or 2023 keys) as an ItemCatalogue."""
    catalogue = ItemCatalogue()
    seen = 0
    for lineno, line in enumerate(iter_lines(path), 1):
        if not line.strip():
            continue
        rec = parse_object(line, path, lineno)
        item = str(require_key(rec, ("parent_asin", "asin"), path, lineno))
        seen += 1
        title = rec.get("title")
        if isinstance(title, str) and title.strip():
            catalogue.titles[item] = title.strip()
        categories = _categories(rec.get("categories") or rec.get("category"))
        if categories:
            catalogue.categories[item] = categories
        details = rec.get("details")
        brand = rec.get("brand") or rec.get("store") or (details.get("Brand") if isinstance(details, dict) else None)
        if isinstance(brand, str) and brand.strip():
            catalogue.brands[item] = brand.strip()
        price = _price(rec.get("price"))
        if price is not None:
            catalogue.prices[item] = price
    if not seen:
        raise DataFormatError(f"{path}: file has no item records")
    return catalogue


# ------------------------------------------------------------------------ sequence and lightgcn


def _read_id_lists(path: PathLike, with_positions: bool, ints_only: bool) -> InteractionLog:
    """Lines "uid i1 i2 ..."; optionally timestamps = each item's position in its user's history."""
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] | None = [] if with_positions else None
    positions: dict[str, int] = {}
    for lineno, line in enumerate(iter_lines(path), 1):
        if (not _INT_IDS.fullmatch(line) if ints_only else "," in line) and line.strip():
            raise line_error(path, lineno, "expected whitespace-separated " + ("integer ids" if ints_only else "ids"))
        tokens = line.split()
        if len(tokens) < 2:  # blank, or a user with no items (LightGCN test files have these)
            continue
        uid = tokens[0]
        n = len(tokens) - 1
        users.extend([uid] * n)
        items.extend(tokens[1:])
        if stamps is not None:
            # Continue a user's count across lines so "uid iid" per-line files (SASRec) work too.
            start = positions.get(uid, 0)
            stamps.extend(range(start, start + n))
            positions[uid] = start + n
    return _log(path, users, items, None, stamps)


def load_sequence(path: PathLike) -> LoadedData:
    """Per-user chronological sequences "uid i1 i2 ..."; timestamps are positions 0, 1, 2, ..."""
    return LoadedData(_read_id_lists(path, with_positions=True, ints_only=False), f"sequence:{path}")


def load_lightgcn(path: PathLike) -> LoadedData:
    """LightGCN split: a directory with train.txt and test.txt (either may be gzip'd or .gz)."""
    directory = Path(path)
    if directory.is_file():  # train.txt itself was given
        directory = directory.parent
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, "No such directory", str(directory))
    train, test = (
        _read_id_lists(locate(directory, name), False, ints_only=True) for name in ("train.txt", "test.txt")
    )
    return LoadedData(train, f"lightgcn:{path}", given_test=test)


# ---------------------------------------------------------------------------- ncf and movielens


def _read_rating_rows(path: PathLike, sep: str, sep_name: str) -> InteractionLog:
    """Exactly four fields per line: user, item, rating, timestamp."""
    users: list[str] = []
    items: list[str] = []
    ratings: list[float] = []
    stamps: list[int] = []
    for lineno, line in enumerate(iter_lines(path), 1):
        fields = line.strip().split(sep)
        if len(fields) != 4:
            if not line.strip():
                continue
            raise line_error(path, lineno, f"expected 4 {sep_name}-separated fields, got {len(fields)}")
        user, item, rating, stamp = fields
        if not user or not item:
            raise line_error(path, lineno, "empty user or item id")
        try:  # fast path; the helpers re-parse only to word the error (or accept "123.0")
            value, when = float(rating), int(stamp)
            if not -_INF < value < _INF:
                raise ValueError
        except ValueError:
            value, when = to_float(rating, path, lineno, "rating"), to_int(stamp, path, lineno, "timestamp")
        ratings.append(value)
        stamps.append(when)
        users.append(user)
        items.append(item)
    return _log(path, users, items, ratings, stamps)


def _ncf_prefix(path: PathLike) -> Path:
    p = Path(path)
    if p.is_dir():
        names = [f.name.removesuffix(".gz") for f in p.iterdir() if f.is_file()]
        prefixes = sorted({n.removesuffix(".train.rating") for n in names if n.endswith(".train.rating")})
        if not prefixes:
            raise FileNotFoundError(errno.ENOENT, "No NCF train file", str(p / "*.train.rating"))
        if len(prefixes) > 1:
            raise ValueError(f"{p} holds several NCF datasets ({', '.join(prefixes)}); pass one prefix")
        return p / prefixes[0]
    name = p.name.removesuffix(".gz")
    for suffix in (".train.rating", ".test.rating", ".test.negative"):  # one of the files was given
        if p.is_file() and name.endswith(suffix):
            return p.with_name(name[: -len(suffix)])
    return p


def _read_ncf_negatives(path: Path) -> dict[str, np.ndarray]:
    negatives: dict[str, np.ndarray] = {}
    for lineno, line in enumerate(iter_lines(path), 1):
        fields = line.split()
        if not fields:
            continue
        pair = fields[0]
        if not (pair.startswith("(") and pair.endswith(")") and pair.count(",") == 1):
            raise line_error(path, lineno, f"expected '(user,item)' first, got {pair!r}")
        user = pair[1:-1].split(",")[0].strip()
        if user in negatives:
            raise line_error(path, lineno, f"second negatives line for user {user!r}")
        negatives[user] = np.asarray(fields[1:], dtype=str)
    return negatives


def load_ncf(path: PathLike) -> LoadedData:
    """NCF files <prefix>.train.rating / .test.rating / optional .test.negative; path: prefix or directory."""
    prefix = _ncf_prefix(path)
    train, test = (
        _read_rating_rows(locate(prefix.parent, f"{prefix.name}.{part}"), "\t", "tab")
        for part in ("train.rating", "test.rating")
    )
    negatives_file = find_file(prefix.parent, f"{prefix.name}.test.negative")
    negatives = None if negatives_file is None else _read_ncf_negatives(negatives_file)
    return LoadedData(train, f"ncf:{path}", given_test=test, test_negatives=negatives)


def _read_movielens_items(directory: Path) -> ItemCatalogue | None:
    """Titles and genres from u.item (+ u.genre) or movies.dat beside the ratings."""
    u_item, movies = find_file(directory, "u.item"), find_file(directory, "movies.dat")
    if u_item is not None:
        genres = _read_genre_names(directory)
        path, sep, n_fields = u_item, "|", 5 + len(genres)

        def genres_of(fields: list[str]) -> list[str]:
            return [genre for genre, flag in zip(genres, fields[5:]) if flag.strip() == "1"]

    elif movies is not None:
        path, sep, n_fields = movies, "::", 3

        def genres_of(fields: list[str]) -> list[str]:
            return [g for g in fields[2].split("|") if g and g != "(no genres listed)"]

    else:
        return None
    catalogue = ItemCatalogue()
    for lineno, line in enumerate(iter_lines(path, "latin-1"), 1):  # both files are Latin-1
        fields = line.rstrip("\r\n").split(sep)
        if len(fields) != n_fields:
            if not line.strip():
                continue
            raise line_error(path, lineno, f"expected {n_fields} {sep!r}-separated fields, got {len(fields)}")
        catalogue.titles[fields[0]] = fields[1]
        if flagged := genres_of(fields):
            catalogue.categories[fields[0]] = flagged
    return catalogue


def _read_genre_names(directory: Path) -> list[str]:
    path = find_file(directory, "u.genre")
    if path is None:
        return list(_ML100K_GENRES)
    indexed: dict[int, str] = {}
    for lineno, line in enumerate(iter_lines(path, "latin-1"), 1):
        name, _, index = line.strip().rpartition("|")
        if line.strip():
            indexed[to_int(index, path, lineno, "genre index")] = name
    return [indexed[i] for i in sorted(indexed)]


def load_movielens(path: PathLike) -> LoadedData:
    """MovieLens u.data (tab) or ratings.dat ('::'), with titles/genres from u.item or movies.dat."""
    p = Path(path)
    if p.is_dir():
        ratings = find_file(p, "u.data") or find_file(p, "ratings.dat")
        if ratings is None:
            raise FileNotFoundError(errno.ENOENT, "No u.data or ratings.dat", str(p / "u.data"))
    else:
        ratings = require_file(p)
    sep, sep_name = ("::", "'::'") if "::" in first_line(ratings) else ("\t", "tab")  # ratings.dat vs u.data
    log = _read_rating_rows(ratings, sep, sep_name)
    return LoadedData(log, f"movielens:{path}", catalogue=_read_movielens_items(ratings.parent))


# -------------------------------------------------------------------------------- csv and parquet


ColumnMap = Mapping[str, str]  # role (user, item, rating, time) -> the file's column name

# Words a column order or a column map may use for each role (a column order may also skip one).
_ROLE_WORDS = {"user": "user", "item": "item", "rating": "rating", "time": "timestamp", "timestamp": "timestamp"}
_SKIP = "-"


def parse_column_order(order: str | Sequence[str]) -> list[str]:
    """The roles of a headerless file's columns, left to right: user, item, rating, time, or - / skip.

    Returns role names ("timestamp" for time, "-" for skipped columns); needs user and item.
    """
    words = order.split(",") if isinstance(order, str) else list(order)
    roles: list[str] = []
    for word in (w.strip().lower() for w in words):
        role = _SKIP if word in ("", "-", "_", "skip") else _ROLE_WORDS.get(word)
        if role is None:
            raise ValueError(f"unknown column {word!r} in the column order; "
                             f"use user, item, rating, time, or - (or skip) to skip one")
        if role != _SKIP and role in roles:
            raise ValueError(f"the column order names {word} twice")
        roles.append(role)
    missing = [role for role in ("user", "item") if role not in roles]
    if missing:
        raise ValueError(f"the column order {','.join(words)!r} has no {' or '.join(missing)} column")
    return roles


def _normalise_column_map(column_map: ColumnMap) -> dict[str, str]:
    roles: dict[str, str] = {}
    for word, name in column_map.items():
        role = _ROLE_WORDS.get(word.strip().lower())
        if role is None:
            raise ValueError(f"unknown column role {word!r}; use user, item, rating or time")
        roles[role] = name.strip()
    names = list(roles.values())
    for name in names:
        if names.count(name) > 1:  # one column cannot be, say, both the user and the item
            raise ValueError(f"column {name!r} is named for more than one of {', '.join(roles)}")
    return roles


def _listed(header: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in header) or "none"


def _looks_like_data(header: Sequence[str]) -> bool:
    # Real headers are words; a number among the "names" means the first line is a data row.
    for name in header:
        try:
            float(name)
            return True
        except ValueError:
            continue
    return False


def _missing_columns(header: Sequence[str], where: str, missing: list[str], headerless_hint: bool) -> DataFormatError:
    known = "; ".join(f"{role}: {', '.join(COLUMN_ALIASES[role])}" for role in missing)
    if headerless_hint and _looks_like_data(header):
        hint = "the first line looks like data: for a file without a header give --columns, e.g. user,item,rating,time"
    else:
        hint = "name yours with " + " and ".join(f"--{role}-col" for role in missing)
    return DataFormatError(f"{where}: no {' or '.join(missing)} column among the columns found ({_listed(header)}); "
                           f"recognised names are {known}; {hint}")


def _column_index(name: str, names: list[str], lowered: list[str]) -> int | None:
    # An exact match first, so that "ID" and "id" in one file stay distinguishable; then any case.
    if name in names:
        return names.index(name)
    return lowered.index(name.lower()) if name.lower() in lowered else None


def _match_columns(header: list[str], path: PathLike, where: str, column_map: ColumnMap | None = None,
                   headerless_hint: bool = True) -> dict[str, int]:
    """Role -> column index: names from ``column_map`` first, then the aliases for the other roles."""
    names = [name.strip() for name in header]
    lowered = [name.lower() for name in names]
    found: dict[str, int] = {}
    for role, name in _normalise_column_map(column_map or {}).items():
        index = _column_index(name, names, lowered)
        if index is None:
            label = "time" if role == "timestamp" else role
            raise DataFormatError(f"{path}{where}: no column {name!r} (given as the {label} column); "
                                  f"columns found: {_listed(header)}")
        found[role] = index
    for role, aliases in COLUMN_ALIASES.items():
        if role in found:
            continue
        hit = next((lowered.index(a) for a in aliases if a in lowered and lowered.index(a) not in found.values()),
                   None)
        if hit is not None:
            found[role] = hit
    missing = [role for role in ("user", "item") if role not in found]
    if missing:
        raise _missing_columns(header, f"{path}{where}", missing, headerless_hint)
    return found


def _to_seconds(stamps: np.ndarray) -> np.ndarray:
    # Tabular exports (e.g. Amazon 2023 CSVs) often hold milliseconds; the log wants seconds.
    return stamps // 1000 if len(stamps) and stamps.max() > _MS_THRESHOLD else stamps


def load_csv(path: PathLike, column_map: ColumnMap | None = None,
             column_order: str | Sequence[str] | None = None) -> LoadedData:
    """Delimited file; delimiter sniffed among , tab ; | .

    With a header (the default) columns are matched by alias, or by name through ``column_map``
    (role -> column name). ``column_order`` declares the file headerless and gives each column's
    role left to right (see :func:`parse_column_order`).
    """
    if column_map and column_order:
        raise ValueError("give either a column order (a file without a header) or column names "
                         "(a file with a header), not both")
    roles = None if column_order is None else parse_column_order(column_order)
    lines = iter_lines(path)
    skipped = 0  # lines before the first data row, to turn reader.line_num into file lines
    for first_line_text in lines:
        skipped += 1
        if first_line_text.strip():
            break
    else:
        raise no_interactions(path)
    delimiter = max(",\t;|", key=first_line_text.count)  # ties keep the earlier, more common one
    if roles is None:
        header = next(csv.reader([first_line_text], delimiter=delimiter))
        cols = _match_columns(header, path, f":{skipped}", column_map)
        rows: Iterator[str] = lines
    else:
        header = ["time" if role == "timestamp" else role for role in roles]  # names for error messages
        cols = {role: index for index, role in enumerate(roles) if role != _SKIP}
        rows, skipped = itertools.chain([first_line_text], lines), skipped - 1
    log = _read_csv_rows(path, rows, delimiter, header, cols, skipped, headerless=roles is not None)
    seconds = None if log.timestamps is None else _to_seconds(log.timestamps)
    return LoadedData(InteractionLog(log.user_ids, log.item_ids, log.ratings, seconds), f"csv:{path}")


def _read_csv_rows(path: PathLike, lines: Iterator[str], delimiter: str, header: list[str], cols: dict[str, int],
                   skipped: int, headerless: bool) -> InteractionLog:
    ui, ii, ri, ti = cols["user"], cols["item"], cols.get("rating"), cols.get("timestamp")
    users: list[str] = []
    items: list[str] = []
    ratings: list[float] = []
    stamps: list[int] = []
    reader = csv.reader(lines, delimiter=delimiter)
    name = {"\t": "tab"}.get(delimiter, repr(delimiter))
    expected = f"{len(header)} {name}-separated fields" + (" (as the column order says)" if headerless else "")
    try:
        for row in reader:
            lineno = reader.line_num + skipped
            if len(row) != len(header):
                if not any(field.strip() for field in row):
                    continue
                raise line_error(path, lineno, f"expected {expected}, got {len(row)}")
            user, item = row[ui].strip(), row[ii].strip()
            if not user or not item:
                raise line_error(path, lineno, "empty user or item id")
            if has_control_characters(user) or has_control_characters(item):
                # numpy would drop a trailing NUL and merge two ids: refuse instead
                raise line_error(path, lineno, "a user or item id holds a control character")
            users.append(user)
            items.append(item)
            try:
                if ri is not None:
                    ratings.append(to_float(row[ri].strip(), path, lineno, f"{header[ri]!r} value"))
                if ti is not None:
                    stamps.append(to_int(row[ti].strip(), path, lineno, f"{header[ti]!r} value"))
            except DataFormatError as exc:
                if headerless and len(users) == 1:  # the usual cause: the file has a header after all
                    raise DataFormatError(f"{exc}; if the first line is a header, drop --columns") from None
                raise
    except csv.Error as exc:
        raise line_error(path, reader.line_num + skipped, f"bad CSV ({exc})") from None
    return _log(path, users, items, None if ri is None else ratings, None if ti is None else stamps)


def load_parquet(path: PathLike, column_map: ColumnMap | None = None,
                 column_order: str | Sequence[str] | None = None) -> LoadedData:
    """Parquet table with the same column aliases as CSV, or names given by ``column_map``."""
    if column_order:
        raise ValueError("Parquet files name their own columns, so a column order (--columns) does not apply; "
                         "pick columns with --user-col, --item-col, --rating-col and --time-col")
    import pyarrow as pa  # imported here: only this format needs pyarrow
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    p = require_file(path)
    try:
        names = pq.read_schema(p).names
        cols = _match_columns(names, p, "", column_map, headerless_hint=False)
        table = pq.read_table(p, columns=[names[i] for i in cols.values()])
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(f"{p}: not a readable Parquet file ({exc})") from exc
    if table.num_rows == 0:
        raise no_interactions(p)
    out: dict[str, np.ndarray] = {}
    for role, index in cols.items():
        column = table.column(names[index])
        if column.null_count:
            row = int(np.argmax(pc.is_null(column).to_numpy(zero_copy_only=False))) + 1
            raise DataFormatError(f"{p}: row {row}: null in column {names[index]!r}")
        try:
            if role in ("user", "item"):
                out[role] = column.cast(pa.string()).to_numpy(zero_copy_only=False).astype(str)
            elif role == "rating":
                out[role] = column.cast(pa.float64()).to_numpy().astype(np.float32)
            elif pa.types.is_timestamp(column.type):
                unit = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[column.type.unit]
                out[role] = column.cast(pa.int64()).to_numpy() // unit
            elif pa.types.is_integer(column.type):
                out[role] = _to_seconds(column.cast(pa.int64()).to_numpy())
            else:
                out[role] = _to_seconds(np.floor(column.cast(pa.float64()).to_numpy()).astype(np.int64))
        except (pa.ArrowException, ValueError) as exc:
            raise DataFormatError(f"{p}: column {names[index]!r} is not numeric ({exc})") from exc
    log = InteractionLog(out["user"], out["item"], out.get("rating"), out.get("timestamp"))
    return LoadedData(log, f"parquet:{path}")


# ------------------------------------------------------------------------------------- dispatch


def detect_format(path: PathLike) -> str:
    """Guess the format from the directory layout, file names, then the first non-empty line."""
    p = Path(path)
    if p.is_dir():
        if find_file(p, "train.txt") and find_file(p, "test.txt"):
            return "lightgcn"
        if any(f.name.removesuffix(".gz").endswith((".train.rating", ".test.rating")) for f in p.iterdir()):
            return "ncf"  # even without a train file, so that loading names the missing one
        if find_file(p, "u.data") or find_file(p, "ratings.dat"):
            return "movielens"
        raise DataFormatError(f"{p}: cannot detect the format of this directory; pass fmt= one of {FORMATS[1:]}")
    if not p.exists():
        if find_file(p.parent, f"{p.name}.train.rating") or find_file(p.parent, f"{p.name}.test.rating"):
            return "ncf"  # an NCF prefix
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(p))
    name = p.name.lower().removesuffix(".gz")
    if name in ("u.data", "ratings.dat"):
        return "movielens"
    if name.endswith((".train.rating", ".test.rating", ".test.negative")):
        return "ncf"
    if name in ("train.txt", "test.txt") and find_file(p.parent, "test.txt") and find_file(p.parent, "train.txt"):
        return "lightgcn"
    suffix = Path(name).suffix
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".json", ".jsonl"):
        return "amazon"
    if suffix in (".csv", ".tsv"):
        return "csv"
    first = first_line(p)
    if first.startswith("{"):
        return "amazon"
    if len(first.split()) >= 2 and not any(c in first for c in "\t,"):
        return "sequence"
    raise DataFormatError(f"{p}: cannot detect the format; pass fmt= one of {FORMATS[1:]}")


_LOADERS: dict[str, Callable[..., LoadedData]] = {
    "amazon": load_amazon,
    "sequence": load_sequence,
    "lightgcn": load_lightgcn,
    "ncf": load_ncf,
    "movielens": load_movielens,
    "csv": load_csv,
    "parquet": load_parquet,
}


TABULAR_FORMATS = ("csv", "parquet")  # the formats whose columns a caller may name


def _tabular_format(path: PathLike) -> str:
    # Column options say the file is a table, so a .txt or .dat file with commas is CSV too.
    p = Path(path)
    if not p.is_file():
        return detect_format(p)  # raises the usual not-found / directory messages
    return "parquet" if p.name.lower().removesuffix(".gz").endswith(".parquet") else "csv"


def load(path: PathLike, fmt: str = "auto", **kwargs: Any) -> LoadedData:
    """Load ``path`` in format ``fmt`` (one of FORMATS; "auto" detects it).

    ``column_map`` / ``column_order`` (see :func:`load_csv`) apply to CSV and Parquet only.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    columns = {key: value for key in ("column_map", "column_order") if (value := kwargs.pop(key, None))}
    if fmt == "auto":
        fmt = _tabular_format(path) if columns else detect_format(path)
    if columns and fmt not in TABULAR_FORMATS:
        raise ValueError(f"column options (--user-col, --columns, ...) apply to CSV and Parquet files; "
                         f"{path} is in {fmt} format")
    return _LOADERS[fmt](path, **kwargs, **columns)
