"""Database mistakes a new user makes are one line each: a URL that is not one, a server that is away."""

from __future__ import annotations

import pytest

from cli.main import main
from stack.process import free_port


@pytest.mark.parametrize("argv", [["db", "upgrade"], ["data", "export", "--out", "x.parquet"]])
def test_a_url_that_is_not_a_database_url(argv, capsys):
    assert main([*argv, "--url", "notaurl://x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unsupported database URL (scheme 'notaurl://')" in err and "postgresql://" in err


def test_an_unreachable_postgresql_is_one_line_without_the_password(capsys):
    url = f"postgresql://someone:s3cret@127.0.0.1:{free_port()}/recsys"
    assert main(["db", "upgrade", "--url", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "the database is unreachable" in err and "s3cret" not in err
