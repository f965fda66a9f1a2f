"""Declared settings: each process lists the environment variables it reads (name, default,
meaning) once, and that list drives its ``--help`` and its optional config file.

Precedence, highest first: the environment, then the config file (``--config FILE``), then the
defaults. A config file is TOML whose top-level keys are the same variable names::

    RECSYS_PORT = 50051
    RECSYS_ARTIFACT = "artifacts/quickstart/lightgcn"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import SettingsError


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    default: str  # as shown to people; "" means unset
    help: str


def settings_help(title: str, settings: Sequence[Setting]) -> str:
    """A plain-text table for an ``argparse`` epilog."""
    width = max(len(s.name) for s in settings)
    lines = [f"{title} (environment variables; a --config file may set them too):"]
    for setting in settings:
        default = f" [default: {setting.default}]" if setting.default else ""
        lines.append(f"  {setting.name.ljust(width)}  {setting.help}{default}")
    return "\n".join(lines)


def read_config_file(path: Path, known: Sequence[Setting]) -> dict[str, str]:
    """The settings a TOML config file sets; SettingsError for an unreadable file or an unknown key
    (a typo must not be silently ignored)."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"config file {path} is not valid TOML: {error}") from None
    names = {s.name for s in known}
    unknown = sorted(set(document) - names)
    if unknown:
        raise SettingsError(f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(names))}")
    values = {}
    for key, value in document.items():
        if isinstance(value, (dict, list)):
            raise SettingsError(f"config file {path}: {key} must be a single value, got {type(value).__name__}")
        values[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def effective_environment(config: Path | None, known: Sequence[Setting],
                          environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with a config file's values underneath it (a variable set to the empty
    string counts as unset, so it does not hide the file's value)."""
    environ = os.environ if environ is None else environ
    file_values = read_config_file(config, known) if config is not None else {}
    return {**file_values, **{k: v for k, v in environ.items() if v != "" or k not in file_values}}
