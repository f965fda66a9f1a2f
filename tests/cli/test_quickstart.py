"""The quickstart end to end on a tiny catalogue: table, artifacts and recommendations with titles."""

from __future__ import annotations

import json

from cli.quickstart import run_quickstart
from models.loaded import load_model


def test_quickstart_runs_end_to_end(tmp_path, capsys):
    rows = run_quickstart(tmp_path, n_users=500, n_items=300, epochs=1, progress=False)
    out = capsys.readouterr().out
    assert [row["model"] for row in rows] == ["pop", "neumf", "lightgcn"]
    assert "| model" in out and "recently:" in out and "LightGCN ->" in out
    assert "3 events stored, 1 malformed event in the dead-letter topic" in out
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(rows))
    for name in ("neumf", "lightgcn"):
        model = load_model(tmp_path / name)
        user = model.user_ids[0]
        top = model.predict(user, 3)
        assert len(top) == 3 and all(model.catalogue()[item]["title"] for item, _ in top)
