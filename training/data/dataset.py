"""From loaded records to an indexed, split :class:`Dataset` that models and evaluation use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from core.catalogue import ItemCatalogue
from core.interactions import InteractionLog
from training.data import splits
from training.data.filtering import deduplicate, k_core
from training.data.types import Interactions, LoadedData


@dataclass
class SplitSpec:
    """How to split: one of splits.SPLITS plus its knobs."""

    method: str = "auto"  # auto: "given" when the files carry a split, else "loo"
    test_ratio: float = 0.2
    valid_ratio: float = 0.1
    with_valid: bool = True  # loo/given: hold out a validation interaction per user
    seed: int = 0


@dataclass
class Dataset:
    user_ids: np.ndarray  # dense index -> original id
    item_ids: np.ndarray
    train: Interactions
    valid: Interactions | None
    test: Interactions
    test_negatives: np.ndarray | None = None  # (n_test_rows, n_neg) item indices, aligned with test
    catalogue: ItemCatalogue | None = None
    source: str = ""
    fingerprint: str = ""
    info: dict[str, object] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "users": self.n_users,
            "items": self.n_items,
            "train": len(self.train),
            "valid": 0 if self.valid is None else len(self.valid),
            "test": len(self.test),
            "density": round(len(self.train) / max(1, self.n_users * self.n_items), 6),
            "fingerprint": self.fingerprint,
            **self.info,
        }

    def with_held_out_in_train(self) -> Dataset:
        """This dataset with its validation and test interactions moved into training, after the
        training rows (so each user's rows stay in time order under the loo and temporal splits),
        and nothing held out: what a model to serve is refit on once the held-out parts have
        measured the settings. Ratings and timestamps are kept where every part has them."""
        parts = [part for part in (self.train, self.valid, self.test) if part is not None and len(part)]

        def joined(column: str) -> np.ndarray | None:
            values = [getattr(part, column) for part in parts]
            return None if any(value is None for value in values) else np.concatenate(values)

        train = Interactions(joined("users"), joined("items"), joined("ratings"), joined("timestamps"))
        nothing = self.test.take(np.zeros(len(self.test), dtype=bool))
        return replace(self, train=train, valid=None, test=nothing, test_negatives=None,
                       info={**self.info, "held_out_in_train": True})



def _codes(log: InteractionLog, user_ids: np.ndarray, item_ids: np.ndarray) -> Interactions:
    """Vectorised id -> index with sorted unique id arrays (searchsorted, no Python dicts)."""
    users = np.searchsorted(user_ids, log.user_ids)
    items = np.searchsorted(item_ids, log.item_ids)
    return Interactions(users.astype(np.int64), items.astype(np.int64), log.ratings, log.timestamps)


def _distinct_pairs(log: InteractionLog) -> InteractionLog:
    """The log with repeated (user, item) rows collapsed to the latest."""
    user_ids, users = np.unique(log.user_ids, return_inverse=True)
    item_ids, items = np.unique(log.item_ids, return_inverse=True)
    kept = deduplicate(Interactions(users.astype(np.int64), items.astype(np.int64), log.ratings, log.timestamps),
                       len(item_ids))
    return InteractionLog(user_ids[kept.users], item_ids[kept.items], kept.ratings, kept.timestamps)


def fingerprint(inter: Interactions, n_users: int, n_items: int) -> str:
    """A content hash of the training interactions, stored in artifacts to tie them to their data."""
    digest = hashlib.sha256()
    digest.update(np.asarray([n_users, n_items], dtype=np.int64).tobytes())
    order = np.lexsort((inter.items, inter.users))
    digest.update(inter.users[order].tobytes())
    digest.update(inter.items[order].tobytes())
    return digest.hexdigest()[:16]


def build_dataset(loaded: LoadedData, split: SplitSpec | None = None, min_core: int = 0) -> Dataset:
    """Index ids, de-duplicate, optionally k-core filter, and split.

    Files that carry their own split (LightGCN, NCF) keep it; ``split.method`` must then be
    "given" (or is taken as such). Test users/items unseen in training are dropped from the test
    set, since no collaborative model can score them, and the count is reported in ``info``.
    """
    split = split or SplitSpec()
    log = loaded.interactions
    given = loaded.given_test is not None
    if split.method == "auto":
        split = SplitSpec(**{**split.__dict__, "method": "given" if given else "loo"})
    if given and split.method != "given":
        raise ValueError(f"{loaded.source} carries its own train/test split; use split 'given', not '{split.method}'")
    if not given and split.method == "given":
        raise ValueError(f"{loaded.source} has no train/test files; choose a split among loo, temporal, random")
    if min_core > 1 and not given:
        log = k_core(_distinct_pairs(log), min_core)  # count distinct items, not repeated rows
    all_users = log.user_ids if not given else np.concatenate([log.user_ids, loaded.given_test.user_ids])
    all_items = log.item_ids if not given else np.concatenate([log.item_ids, loaded.given_test.item_ids])
    user_ids = np.unique(all_users)
    item_ids = np.unique(all_items)
    n_items = len(item_ids)
    inter = deduplicate(_codes(log, user_ids, item_ids), n_items)
    info: dict[str, object] = {"split": "given" if given else split.method}
    test_negatives = None

    if given:
        test = deduplicate(_codes(loaded.given_test, user_ids, item_ids), n_items)
        train, valid = inter, None
        if split.with_valid:
            train, valid = splits.holdout_one_per_user(inter, seed=split.seed)
        # No collaborative model can score a user or item it never saw in training.
        train_items = np.zeros(n_items, dtype=bool)
        train_items[train.items] = True
        train_users = np.zeros(len(user_ids), dtype=bool)
        train_users[train.users] = True
        seen_item, seen_user = train_items[test.items], train_users[test.users]
        info["test_dropped_unseen_items"] = int((~seen_item).sum())
        info["test_dropped_unseen_users"] = int((~seen_user & seen_item).sum())
        test = test.take(seen_item & seen_user)
        if loaded.test_negatives is not None:
            test_negatives = _index_negatives(loaded.test_negatives, test, user_ids, item_ids)
    else:
        if split.method == "loo":
            parts = splits.leave_one_out(inter, with_valid=split.with_valid)
        elif split.method == "temporal":
            parts = splits.temporal(inter, split.test_ratio, split.valid_ratio)
        elif split.method == "random":
            parts = splits.random_ratio(inter, split.test_ratio, split.valid_ratio, split.seed)
        else:
            raise ValueError(f"unknown split '{split.method}'; choose from {', '.join(splits.SPLITS)}")
        train, valid, test = parts.train, parts.valid, parts.test

    return Dataset(
        user_ids=user_ids,
        item_ids=item_ids,
        train=train,
        valid=valid,
        test=test,
        test_negatives=test_negatives,
        catalogue=loaded.catalogue,
        source=loaded.source,
        fingerprint=fingerprint(train, len(user_ids), n_items),
        info=info,
    )


def _index_negatives(negatives: dict[str, np.ndarray], test: Interactions, user_ids: np.ndarray,
                     item_ids: np.ndarray) -> np.ndarray | None:
    """Align the NCF .negative lists with the test rows (one test row per user in that protocol)."""
    rows = []
    for user in test.users:
        negs = negatives.get(str(user_ids[user]))
        if negs is None:
            return None
        idx = np.searchsorted(item_ids, negs)
        idx = np.clip(idx, 0, len(item_ids) - 1)
        rows.append(idx[item_ids[idx] == negs])
    width = min(len(r) for r in rows) if rows else 0
    return np.stack([r[:width] for r in rows]).astype(np.int64) if rows else None
