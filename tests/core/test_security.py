"""Security settings: what each variable turns on, the mistakes refused at startup, and token checks."""

from __future__ import annotations

import pytest

from core.errors import SettingsError
from core.security import Security

TOKEN = "a-token-of-twenty-chars"


def _tls_dir(tmp_path, missing: str = ""):
    for name in ("tls.crt", "tls.key", "ca.crt"):
        if name != missing:
            (tmp_path / name).write_text("pem")
    return str(tmp_path)


def test_nothing_set_is_plain_text_and_open():
    security = Security.from_env({})
    assert not security.tls and not security.writes_need_token and not security.reads_need_token
    assert "PLAIN TEXT" in security.describe() and "writes OPEN" in security.describe()


def test_every_variable(tmp_path):
    security = Security.from_env({"RECSYS_TLS_DIR": _tls_dir(tmp_path), "RECSYS_MTLS": "on",
                                  "RECSYS_AUTH_TOKENS": f" {TOKEN} , second-token-0123456,",
                                  "RECSYS_AUTH_READS": "token"})
    assert security.tls and security.mutual_tls and security.ca_file == tmp_path / "ca.crt"
    assert security.tokens == (TOKEN, "second-token-0123456") and security.reads_need_token
    assert security.authorization() == f"Bearer {TOKEN}"
    assert security.describe() == "mutual TLS; writes need a bearer token, reads too"
    assert TOKEN not in repr(security)


@pytest.mark.parametrize("env, message", [
    ({"RECSYS_MTLS": "on"}, "RECSYS_MTLS=on needs RECSYS_TLS_DIR"),
    ({"RECSYS_MTLS": "maybe"}, "RECSYS_MTLS must be on or off"),
    ({"RECSYS_AUTH_TOKENS": "short"}, "at least 16 characters"),
    ({"RECSYS_AUTH_TOKENS": "has a space in the token"}, "spaces or control characters"),
    ({"RECSYS_AUTH_READS": "token"}, "RECSYS_AUTH_READS=token needs RECSYS_AUTH_TOKENS"),
    ({"RECSYS_AUTH_READS": "closed", "RECSYS_AUTH_TOKENS": TOKEN}, "must be open or token"),
])
def test_mistakes_are_settings_errors(env, message):
    with pytest.raises(SettingsError, match=message):
        Security.from_env(env)


def test_a_tls_dir_missing_a_file_names_it(tmp_path):
    with pytest.raises(SettingsError, match="has no tls.key"):
        Security.from_env({"RECSYS_TLS_DIR": _tls_dir(tmp_path, missing="tls.key")})


@pytest.mark.parametrize("header, accepted", [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), ("Bearer second-token-0123456", True),
    (f"Bearer {TOKEN}x", False), (f"Basic {TOKEN}", False), (TOKEN, False), ("Bearer ", False), (None, False),
])
def test_bearer_tokens(header, accepted):
    security = Security.from_env({"RECSYS_AUTH_TOKENS": f"{TOKEN},second-token-0123456"})
    assert security.authorized(header) is accepted


def test_no_tokens_configured_authorizes_nobody():
    assert not Security().authorized(f"Bearer {TOKEN}")
