"""Where the database lives: ``DATABASE_URL`` (PostgreSQL) or ``DATABASE_PATH`` (SQLite file)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SQLITE_PATH = "data/ictbot.db"


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


def normalize_url(url: str) -> str:
    """Pin PostgreSQL URLs to the psycopg 3 driver (``postgres://`` and ``postgresql://`` alike)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url_from_env(environ: dict[str, str] | None = None) -> str:
    """``DATABASE_URL`` when set, else SQLite at ``DATABASE_PATH`` (default ``data/ictbot.db``)."""
    env = os.environ if environ is None else environ
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return normalize_url(url)
    return sqlite_url(env.get("DATABASE_PATH", "").strip() or DEFAULT_SQLITE_PATH)


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    rest = rest.split("?", 1)[0]
    if not rest or rest == ":memory:":
        return None
    return Path(rest)


def redact(url: str) -> str:
    """The URL without its password, for logs and CLI output."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
