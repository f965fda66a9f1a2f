"""Item ids handed over as positions in an id list read as the ids themselves."""

from __future__ import annotations

import numpy as np

from core.item_ids import ItemsAt

SPACE = [f"P{i}" for i in range(10)]


def test_positions_read_as_their_ids():
    items = ItemsAt(SPACE, np.array([7, 2, 9], dtype=np.int64))
    assert len(items) == 3 and items[0] == "P7" and items[-1] == "P9"
    assert items[:2] == ["P7", "P2"] and list(items) == ["P7", "P2", "P9"] and "P2" in items
    assert [*items, "x"] == ["P7", "P2", "P9", "x"]
    assert list(ItemsAt(SPACE, np.zeros(0, dtype=np.uint16))) == []


def test_a_position_table_maps_one_list_onto_another_and_is_kept_per_pair():
    from core.item_ids import PositionTable

    tables, position = PositionTable(), {"P2": 0, "P7": 1}
    table = tables.of(SPACE, position)
    assert table.tolist() == [-1, -1, 0, -1, -1, -1, -1, 1, -1, -1]
    assert tables.of(SPACE, position) is table  # the same pair: kept
    assert tables.of(SPACE, {"P0": 5}).tolist()[0] == 5  # another mapping: built anew
