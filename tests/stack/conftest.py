"""The node's network namespace is free before a module brings up a node on it."""

from __future__ import annotations

import pytest

from stack.cluster import NETNS, clear_node, held_node


@pytest.fixture(scope="module")
def free_node_namespace(tmp_path_factory) -> None:
    """A node left by an earlier test run that was killed before its teardown (its directory under
    pytest's temporary root) or one with nothing left running in it is cleared, so that one killed
    run does not fail every later one; a running node made elsewhere (`make cluster-up`) is left alone
    and the tests fail, saying how to stop it."""
    held = held_node()
    if held is None:
        return
    made_by_tests = held.root is not None and held.root.is_relative_to(tmp_path_factory.getbasetemp().parent)
    if held.processes and not made_by_tests:
        pytest.fail(f"a cluster is running ({held.root or 'directory unknown'}: {len(held.processes)} processes "
                    f"in network namespace {NETNS}); stop it with `make cluster-down`")
    left = clear_node(held)
    if left:
        pytest.fail(f"a node left by an earlier run could not be cleared: {', '.join(left)}")
