"""One entry point from a data location (or "synthetic") to a split :class:`Dataset`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training.data import loaders, synthetic
from training.data.dataset import Dataset, SplitSpec, build_dataset
from training.data.types import LoadedData

DATA_FORMATS = loaders.FORMATS + ("synthetic",)


@dataclass
class DataSpec:
    """Where the data comes from and how it is prepared; stored in artifacts so `evaluate` can
    rebuild exactly the same split."""

    path: str = "synthetic"
    format: str = "auto"
    split: str = "auto"  # auto: "given" when the files carry a split, else leave-one-out
    test_ratio: float = 0.2
    valid_ratio: float = 0.1
    with_valid: bool = True
    min_core: int = 0
    feedback: str = "implicit"
    seed: int = 0
    synthetic_users: int = 10_000
    synthetic_items: int = 5_000
    meta: str | None = None  # Amazon metadata file for product titles/categories/brands/prices
    # CSV/Parquet only: role (user, item, rating, timestamp) -> the file's column name.
    column_map: dict[str, str] | None = None
    # Headerless CSV only: each column's role left to right (user, item, rating, time, "-" to skip).
    column_order: list[str] | None = None


def _is_synthetic(spec: DataSpec) -> bool:
    return spec.format == "synthetic" or (spec.format == "auto" and spec.path == "synthetic")


def load_source(spec: DataSpec) -> LoadedData:
    if _is_synthetic(spec):
        if spec.column_map or spec.column_order:
            raise ValueError("column options (--user-col, --columns, ...) apply to your own CSV or Parquet data, "
                             "not to synthetic data; pass --data PATH")
        synthetic.check_training_size(spec.synthetic_users, spec.synthetic_items)
        data = synthetic.generate(synthetic.SyntheticConfig(
            n_users=spec.synthetic_users, n_items=spec.synthetic_items, seed=spec.seed))
        loaded = data.to_loaded()
        if spec.feedback == "explicit":
            loaded.interactions = data.interactions("explicit")
        return loaded
    if spec.format not in DATA_FORMATS:
        raise ValueError(f"unknown data format '{spec.format}'; choose from {', '.join(DATA_FORMATS)}")
    kwargs = {key: value for key, value in (("meta_path", spec.meta), ("column_map", spec.column_map),
                                            ("column_order", spec.column_order)) if value}
    return loaders.load(spec.path, spec.format, **kwargs)


def warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _check_time_order(loaded: LoadedData, method: str, warn: Callable[[str], None]) -> None:
    """Leave-one-out and temporal splits order by time; say so when the data has no times."""
    if loaded.interactions.timestamps is not None or method not in ("loo", "temporal"):
        return
    if method == "temporal":
        raise ValueError(f"{loaded.source} has no timestamps, so a temporal split cannot order it by time; "
                         f"name the time column (--time-col, or time in --columns) or use --split loo or random")
    # Not an error: file order is a fair stand-in for time in many exports (logs appended in order).
    warn(f"{loaded.source} has no timestamps; leave-one-out takes each user's last rows in file order as the "
         f"latest (name a time column with --time-col if there is one)")


def _check_enough_left(dataset: Dataset, loaded: LoadedData, min_core: int) -> None:
    """A k-core filter can remove everything; refuse rather than train on (and save) nothing."""
    if min_core <= 1 or (len(dataset.train) and len(dataset.test)):
        return
    users = len(np.unique(loaded.interactions.user_ids))
    items = len(np.unique(loaded.interactions.item_ids))
    raise ValueError(f"--min-core {min_core} leaves too little data: {dataset.n_users:,} of {users:,} users and "
                     f"{dataset.n_items:,} of {items:,} items have at least {min_core} interactions each, "
                     f"giving {len(dataset.train):,} train and {len(dataset.test):,} test interactions; "
                     f"lower --min-core")


def open_dataset(spec: DataSpec, warn: Callable[[str], None] = warn_on_stderr) -> Dataset:
    """Load and split ``spec``'s data; ``warn`` receives one-line notes about questionable choices."""
    loaded = load_source(spec)
    if spec.feedback == "explicit" and loaded.interactions.ratings is None:
        raise ValueError(f"{loaded.source} has no ratings; explicit feedback needs a format with ratings")
    method = spec.split
    if method == "auto":
        method = "given" if loaded.given_test is not None else "loo"
    _check_time_order(loaded, method, warn)
    split = SplitSpec(method=method, test_ratio=spec.test_ratio, valid_ratio=spec.valid_ratio,
                      with_valid=spec.with_valid, seed=spec.seed)
    dataset = build_dataset(loaded, split, min_core=spec.min_core)
    _check_enough_left(dataset, loaded, spec.min_core)
    return dataset
