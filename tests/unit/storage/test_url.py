from __future__ import annotations

from pathlib import Path

from ictbot.adapters.storage.url import database_url_from_env, normalize_url, redact, sqlite_file


def test_default_is_sqlite_under_data() -> None:
    assert database_url_from_env({}) == "sqlite:///data/ictbot.db"


def test_database_path_sets_the_sqlite_file() -> None:
    assert database_url_from_env({"DATABASE_PATH": "/tmp/x/bot.db"}) == "sqlite:////tmp/x/bot.db"


def test_database_url_wins_and_uses_psycopg3() -> None:
    env = {"DATABASE_URL": "postgres://u:p@h:5432/db", "DATABASE_PATH": "ignored.db"}
    assert database_url_from_env(env) == "postgresql+psycopg://u:p@h:5432/db"
    assert normalize_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalize_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"


def test_sqlite_file_and_redact() -> None:
    assert sqlite_file("sqlite:////tmp/a.db") == Path("/tmp/a.db")
    assert sqlite_file("sqlite:///rel/a.db?mode=ro") == Path("rel/a.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://h/db") is None
    assert redact("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert redact("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
