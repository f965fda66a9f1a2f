"""Item ids handed over inside one process as positions in a model's id list, read only when
needed: `serve all`'s gateway passes retrieval 200 candidates and a user's seen items this way and
reads the ids of the ten it answers with."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import overload

import numpy as np


class ItemsAt(Sequence[str]):
    """The ids at ``positions`` of ``space`` (an item id list)."""

    __slots__ = ("space", "positions")

    def __init__(self, space: Sequence[str], positions: np.ndarray) -> None:
        self.space = space
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            space = self.space
            return [space[p] for p in self.positions[index].tolist()]
        return self.space[int(self.positions[index])]

    def __iter__(self) -> Iterator[str]:
        space = self.space
        return iter([space[p] for p in self.positions.tolist()])


class PositionTable:
    """One id list's items at their positions in another (``position``: id -> position there; -1
    where the other has no such item), kept for the last pair asked about: inside one process the
    same two lists meet on every request, so each id is looked up once, not once per request."""

    def __init__(self) -> None:
        self._kept: tuple[Sequence[str], Mapping[str, int], np.ndarray] | None = None

    def of(self, space: Sequence[str], position: Mapping[str, int]) -> np.ndarray:
        kept = self._kept
        if kept is not None and kept[0] is space and kept[1] is position:
            return kept[2]
        table = np.fromiter((position.get(i, -1) for i in space), dtype=np.int64, count=len(space))
        self._kept = (space, position, table)
        return table
