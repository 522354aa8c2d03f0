"""Run the packaged Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, pool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as attributes, not main options: ConfigParser would choke on "%" in URLs.
    if url is not None:
        config.attributes["url"] = url
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found")
    return head


def _engine(url: str | None, engine: Engine | None) -> tuple[Engine, bool]:
    if engine is not None:
        return engine, False
    if url is None:
        raise ValueError("give a database url or an engine")
    return create_engine(url, poolclass=pool.NullPool), True


def _run(action: str, revision: str, url: str | None, engine: Engine | None) -> None:
    eng, owned = _engine(url, engine)
    try:
        with eng.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        if owned:
            eng.dispose()


def upgrade_database(url: str | None = None, revision: str = "head", *, engine: Engine | None = None) -> None:
    """Bring the schema to ``revision`` (default: the newest). Safe to call on every start."""
    _run("upgrade", revision, url, engine)


def downgrade_database(url: str | None = None, revision: str = "-1", *, engine: Engine | None = None) -> None:
    """Step the schema back (``"-1"``: one revision; ``"base"``: drop everything)."""
    _run("downgrade", revision, url, engine)


def current_revision(url: str | None = None, *, engine: Engine | None = None) -> str | None:
    eng, owned = _engine(url, engine)
    try:
        with eng.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            eng.dispose()
