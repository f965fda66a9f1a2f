"""Every setting a process reads is listed by the `--help` of the command that runs it, and the
serving commands take a TOML config file under the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.main import build_parser, main

REPO = Path(__file__).resolve().parents[2]
INTERNAL = {"RECSYS_WORKER_INDEX"}  # set by `serve all` for its own worker processes

READERS = {
    "serve": ["services/common/settings.py", "services/common/tracing.py", "services/gateway/settings.py",
              "cli/serve_all.py", "cli/settings.py"],
    "stream": ["stream/settings.py", "stream/main.py", "events/bus.py"],
    "operator": ["operator/recsys_operator/settings.py", "operator/recsys_operator/main.py",
                 "operator/recsys_operator/handlers.py"],
}


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("command", sorted(READERS))
def test_help_lists_every_setting_the_process_reads(command, capsys):
    read = {name for path in READERS[command]
            for name in re.findall(r"RECSYS_[A-Z][A-Z_]*[A-Z]", (REPO / path).read_text())} - INTERNAL
    listed = _help(command, capsys)
    assert sorted(name for name in read if name not in listed) == []


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--version"])
    assert exit_info.value.code == 0 and re.match(r"recsys \d+\.\d+", capsys.readouterr().out)


def test_a_config_file_feeds_the_settings_and_its_mistakes_are_one_line(tmp_path, capsys):
    config = tmp_path / "serve.toml"
    config.write_text('RECSYS_ARTIFACT = "/nowhere/lightgcn"\nRECSYS_BLEND_WEIGHT = 7\n')
    assert main(["serve", "gateway", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == "recsys serve: error: RECSYS_BLEND_WEIGHT must be within 0..1, got 7.0"
    config.write_text("RECSYS_BLEND_WIEGHT = 0.5\n")
    assert main(["serve", "gateway", "--config", str(config)]) == 2
    assert "unknown setting(s) RECSYS_BLEND_WIEGHT" in capsys.readouterr().err


def test_serve_all_without_models_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("RECSYS_ARTIFACT", "RECSYS_SCORING_ARTIFACT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "all"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run `make quickstart`" in err and "RECSYS_ARTIFACT" in err
