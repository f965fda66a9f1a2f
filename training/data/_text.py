"""Text-file plumbing shared by the loaders: transparent gzip, numbered lines, located errors."""

from __future__ import annotations

import ast
import errno
import gzip
import json
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from .types import DataFormatError

PathLike = str | os.PathLike[str]

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: PathLike) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name says)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def require_file(path: PathLike) -> Path:
    """The path as a Path, or FileNotFoundError naming it."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(errno.ENOENT, "No such file", str(p))
    return p


def open_text(path: PathLike, encoding: str = "utf-8") -> TextIO:
    """Open a text file for reading, decompressing it when its content is gzip."""
    p = require_file(path)
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"  # identical for plain UTF-8, and drops the BOM some exporters write
    if is_gzip(p):
        return gzip.open(p, "rt", encoding=encoding)
    return open(p, encoding=encoding)


def line_error(path: PathLike, lineno: int, what: str) -> DataFormatError:
    """A DataFormatError located as ``path:line: what`` (the compiler convention editors parse)."""
    return DataFormatError(f"{path}:{lineno}: {what}")


def no_interactions(path: PathLike) -> DataFormatError:
    return DataFormatError(f"{path}: file has no interactions")


def iter_lines(path: PathLike, encoding: str = "utf-8") -> Iterator[str]:
    """Lines of a (possibly gzip'd) text file; decoding and gzip damage become located errors."""
    lineno = 0
    with open_text(path, encoding) as stream:
        try:
            for line in stream:
                lineno += 1
                yield line
        except UnicodeDecodeError as exc:
            where = _undecodable_line(path, encoding) or lineno + 1
            raise line_error(path, where, f"not valid {encoding} text ({exc.reason})") from exc
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise line_error(path, lineno + 1, f"corrupt or truncated gzip data ({exc})") from exc


def _undecodable_line(path: PathLike, encoding: str) -> int:
    # Text streams decode whole chunks ahead of the lines handed out, so find the real line afresh.
    with (gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")) as raw:
        for lineno, line in enumerate(raw, 1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return lineno
    return 0


def find_file(directory: Path, name: str) -> Path | None:
    """``directory/name`` or ``directory/name.gz``, whichever exists first."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def locate(directory: Path, name: str) -> Path:
    """Like find_file, but FileNotFoundError naming ``directory/name`` when neither exists."""
    return find_file(directory, name) or require_file(directory / name)


def to_float(text: str, path: PathLike, lineno: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # nan/inf would poison every average downstream
        raise line_error(path, lineno, f"{what} {text!r} is not a number")
    return value


def to_int(text: str, path: PathLike, lineno: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:  # some exports write integral timestamps as "881250949.0"
        value = float(text)
        if value.is_integer():
            return int(value)
    except ValueError:
        pass
    raise line_error(path, lineno, f"{what} {text!r} is not an integer")


def first_line(path: PathLike) -> str:
    """The first non-blank line, stripped ("" for a blank file)."""
    for line in iter_lines(path):
        if line.strip():
            return line.strip()
    return ""


def parse_object(line: str, path: PathLike, lineno: int) -> dict[str, Any]:
    """One JSON-lines record; the 2014 Amazon dumps are Python dict reprs, so those parse too."""
    try:
        record = json.loads(line)
    except ValueError:
        try:
            record = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise line_error(path, lineno, "not a JSON object or Python dict literal") from None
    if not isinstance(record, dict):
        raise line_error(path, lineno, f"expected an object, got {type(record).__name__}")
    return record


def require_key(record: dict[str, Any], keys: tuple[str, ...], path: PathLike, lineno: int) -> Any:
    """The value of the first of ``keys`` that is present and non-empty."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    raise line_error(path, lineno, "missing " + " or ".join(repr(k) for k in keys))
