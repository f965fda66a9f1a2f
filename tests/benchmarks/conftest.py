"""Fixtures for the benchmark scripts' tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def tiny_beauty(tmp_path, monkeypatch):
    """A shared-data folder whose amazon-beauty-s3rec/Beauty.txt holds 200 users' lines of 8 of 60
    items each, in time order (the S3Rec files' format), and RECSYS_SHARED_DATA pointing at it."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "shared" / "amazon-beauty-s3rec"
    folder.mkdir(parents=True)
    lines = [" ".join([str(user)] + [str(item) for item in rng.choice(60, size=8, replace=False) + 1])
             for user in range(1, 201)]
    (folder / "Beauty.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("RECSYS_SHARED_DATA", str(folder.parent))
    return folder.parent
