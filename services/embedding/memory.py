"""How many users' fresh interactions the embedding service may remember, sized from the memory
the container may use, so a busy event stream fills a bounded share of the pod's limit instead of
growing until the kernel kills it."""

from __future__ import annotations

from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
UNLIMITED_V1 = 1 << 62  # cgroup v1 reports "no limit" as a huge page-rounded number
MAX_USERS = 1_000_000  # the bound without a limit (a laptop, `serve all`)
SHARE_OF_LIMIT = 4  # a quarter of the limit: the model's matrices and the runtime need the rest
# one remembered user at the per-user item cap: a list of that many references to the model's own
# id strings (8 bytes each), the list and dictionary entries and the user id (~250 bytes)
POINTER_BYTES, USER_OVERHEAD_BYTES = 8, 256


def container_memory_limit(cgroup: Path = CGROUP) -> int | None:
    """The memory limit of this process's cgroup in bytes (v2 ``memory.max`` or v1
    ``memory.limit_in_bytes``), or None when there is none or it cannot be read."""
    for candidate in (cgroup / "memory.max", cgroup / "memory" / "memory.limit_in_bytes"):
        try:
            text = candidate.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < UNLIMITED_V1:
            return int(text)
        return None
    return None


def foldin_user_bound(limit_bytes: int | None, max_items_per_user: int) -> int:
    """Users to remember: a quarter of ``limit_bytes`` at the full per-user cost, at most MAX_USERS."""
    if limit_bytes is None:
        return MAX_USERS
    per_user = max_items_per_user * POINTER_BYTES + USER_OVERHEAD_BYTES
    return max(1, min(MAX_USERS, limit_bytes // SHARE_OF_LIMIT // per_user))
