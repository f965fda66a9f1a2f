"""Freezing a serving process's long-lived objects out of the garbage collector's full passes:
what is alive is frozen, a replaced model's reference cycles are still freed at the next freeze,
garbage made after the freeze is collected as usual, and the setting reads on/off."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from core.errors import SettingsError
from services.common.heap import FreezeAfterInstalls, freeze_long_lived
from services.common.settings import ServiceSettings
from services.gateway.settings import GatewaySettings


class Node:
    """Stands in for a model: objects that refer to each other (a cycle only the collector frees)."""

    def __init__(self) -> None:
        self.partner: Node | None = None


def cycle() -> tuple[Node, weakref.ref]:
    a, b = Node(), Node()
    a.partner, b.partner = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()


def test_objects_alive_at_the_freeze_are_left_out_of_collections():
    model, _ = cycle()
    frozen = freeze_long_lived()
    assert 0 < gc.get_freeze_count() <= frozen  # frozen objects may still die by reference counting since
    assert not any(obj is model for obj in gc.get_objects())  # not tracked by any generation any more
    assert model.partner.partner is model


def test_a_replaced_models_cycles_are_freed_by_the_next_freeze():
    old, old_ref = cycle()
    freeze_long_lived()
    del old  # replaced by a reload: only its cycle keeps it alive, and frozen objects are never collected
    gc.collect()
    assert old_ref() is not None
    new, _ = cycle()
    freeze_long_lived()  # what a reload calls after installing the new model
    assert old_ref() is None
    assert new.partner is not None


def test_garbage_made_after_the_freeze_is_collected_as_usual():
    freeze_long_lived()
    garbage, garbage_ref = cycle()
    del garbage
    gc.collect()
    assert garbage_ref() is None


def test_installs_close_together_cost_one_freeze():
    freezes: list[int] = []

    async def until(count: int) -> None:
        for _ in range(200):  # generous: a busy machine delays timers, it must not fail the test
            if len(freezes) >= count:
                return
            await asyncio.sleep(0.05)

    async def reload_four_parts_then_another_version() -> None:
        after_install = FreezeAfterInstalls(quiet_s=0.1, freeze=lambda: freezes.append(1))
        for _ in range(4):  # serve all's four parts of one version, installed within the quiet time
            after_install()
        await until(1)
        await asyncio.sleep(0.3)
        assert len(freezes) == 1
        after_install()  # the next version
        await until(2)

    asyncio.run(reload_four_parts_then_another_version())
    assert len(freezes) == 2


@pytest.mark.parametrize(("raw", "expected"), [(None, True), ("", True), ("on", True), ("off", False), ("0", False)])
def test_the_setting_is_on_unless_switched_off(raw, expected):
    env = {"RECSYS_ARTIFACT": "/models/current"} | ({"RECSYS_GC_FREEZE": raw} if raw is not None else {})
    assert ServiceSettings.from_env("retrieval", env).gc_freeze is expected
    assert GatewaySettings.from_env(env).gc_freeze is expected


def test_a_bad_setting_names_itself():
    with pytest.raises(SettingsError, match="RECSYS_GC_FREEZE must be on or off, got 'sometimes'"):
        ServiceSettings.from_env("retrieval", {"RECSYS_ARTIFACT": "/m", "RECSYS_GC_FREEZE": "sometimes"})
