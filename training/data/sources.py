"""One entry point from a data location (or "synthetic") to a split :class:`Dataset`."""

from __future__ import annotations

from dataclasses import dataclass

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


def load_source(spec: DataSpec) -> LoadedData:
    if spec.format == "synthetic" or (spec.format == "auto" and spec.path == "synthetic"):
        data = synthetic.generate(synthetic.SyntheticConfig(
            n_users=spec.synthetic_users, n_items=spec.synthetic_items, seed=spec.seed))
        loaded = data.to_loaded()
        if spec.feedback == "explicit":
            loaded.interactions = data.interactions("explicit")
        return loaded
    if spec.format not in DATA_FORMATS:
        raise ValueError(f"unknown data format '{spec.format}'; choose from {', '.join(DATA_FORMATS)}")
    kwargs = {"meta_path": spec.meta} if spec.meta else {}
    return loaders.load(spec.path, spec.format, **kwargs)


def open_dataset(spec: DataSpec) -> Dataset:
    loaded = load_source(spec)
    if spec.feedback == "explicit" and loaded.interactions.ratings is None:
        raise ValueError(f"{loaded.source} has no ratings; explicit feedback needs a format with ratings")
    method = spec.split
    if method == "auto":
        method = "given" if loaded.given_test is not None else "loo"
    split = SplitSpec(method=method, test_ratio=spec.test_ratio, valid_ratio=spec.valid_ratio,
                      with_valid=spec.with_valid, seed=spec.seed)
    return build_dataset(loaded, split, min_core=spec.min_core)
