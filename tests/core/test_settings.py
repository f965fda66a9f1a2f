"""Declared settings: help text, TOML config files under the environment, clear errors."""

from __future__ import annotations

import pytest

from core.errors import SettingsError
from core.settings import Setting, effective_environment, read_config_file, settings_help

KNOWN = (Setting("RECSYS_PORT", "50051", "gRPC port"), Setting("RECSYS_TRACES", "none", "exporter"),
         Setting("RECSYS_DATABASE_URL", "", "the store"))


def test_help_lists_every_setting_with_its_default():
    text = settings_help("gateway settings", KNOWN)
    assert text.splitlines()[0].startswith("gateway settings")
    assert "RECSYS_PORT" in text and "[default: 50051]" in text and "RECSYS_DATABASE_URL" in text


def test_config_file_values_sit_under_the_environment(tmp_path):
    config = tmp_path / "recsys.toml"
    config.write_text('RECSYS_PORT = 6000\nRECSYS_TRACES = "console"\n')
    env = effective_environment(config, KNOWN, {"RECSYS_TRACES": "otlp"})
    assert env["RECSYS_PORT"] == "6000" and env["RECSYS_TRACES"] == "otlp"
    assert effective_environment(None, KNOWN, {"A": "b"}) == {"A": "b"}


@pytest.mark.parametrize("text, message", [
    ("RECSYS_PROT = 1\n", "unknown setting(s) RECSYS_PROT"),
    ("RECSYS_PORT = \n", "not valid TOML"),
    ("[RECSYS_PORT]\nx = 1\n", "must be a single value"),
])
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    config = tmp_path / "recsys.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_config_file(config, KNOWN)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml", KNOWN)
