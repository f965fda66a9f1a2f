"""Item ids handed over inside one process as positions in a model's id list, read only when
needed: `serve all`'s gateway passes retrieval 200 candidates and a user's seen items this way and
reads the ids of the ten it answers with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
