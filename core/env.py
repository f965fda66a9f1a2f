"""Reading typed settings from environment variables, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import SettingsError


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """An integer environment variable with a default and a lower bound; SettingsError names it."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got '{raw}'") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_switch(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """An on/off environment variable (on, 1, true, yes / off, 0, false, no; unset or empty is ``default``)."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("on", "1", "true", "yes"):
        return True
    if raw in ("off", "0", "false", "no"):
        return False
    raise SettingsError(f"{name} must be on or off, got '{raw}'")
