"""``ictbot db``: schema migrations (``upgrade``, ``current``, ``downgrade``), ``backup`` and a content summary."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.table import Table

from ictbot.cli.common import fail, load_settings, make_console

out = make_console()
db_app = typer.Typer(help="Database schema migrations and contents.", no_args_is_help=True)

UrlOption = typer.Option(None, "--database-url", help="default: DATABASE_URL, else sqlite at DATABASE_PATH")


def _url(explicit: str | None) -> str:
    if explicit:
        return explicit
    return load_settings().resolved_database_url


@db_app.command("upgrade", help="Apply migrations up to REVISION (default: head).")
def upgrade(revision: str = typer.Argument("head"), database_url: str | None = UrlOption) -> None:
    from ictbot.adapters.storage import Database
    from ictbot.adapters.storage.url import redact

    db = Database(_url(database_url))
    try:
        db.upgrade(revision)
        out.print(f"{redact(db.url)} at revision [bold]{db.current_revision()}[/]")
    finally:
        db.close_sync()


@db_app.command("current", help="Show the applied and the newest revision.")
def current(database_url: str | None = UrlOption) -> None:
    from ictbot.adapters.storage import Database, head_revision
    from ictbot.adapters.storage.url import redact

    db = Database(_url(database_url))
    try:
        applied = db.current_revision()
        head = head_revision()
        state = "up to date" if applied == head else "needs `ictbot db upgrade`"
        out.print(f"{redact(db.url)}: revision {applied or '(none)'}; newest {head} — {state}")
    finally:
        db.close_sync()


@db_app.command("downgrade", help="Step back to REVISION (default -1: one step; 'base': drop all tables).")
def downgrade(
    revision: str = typer.Argument("-1"),
    database_url: str | None = UrlOption,
    yes: bool = typer.Option(False, "--yes", help="confirm dropping data without a prompt"),
) -> None:
    from ictbot.adapters.storage import Database, downgrade_database

    if not yes:
        typer.confirm(f"Downgrade the database to {revision}? Tables dropped lose their data.", abort=True)
    db = Database(_url(database_url))
    try:
        downgrade_database(revision=revision, engine=db.engine)
        out.print(f"now at revision {db.current_revision() or '(none)'}")
    finally:
        db.close_sync()


@db_app.command("candles", help="List stored candle series with counts and time spans.")
def candles(database_url: str | None = UrlOption) -> None:
    from ictbot.adapters.storage import Database, SqlCandleStore
    from ictbot.domain.timeframe import ms_to_datetime

    db = Database(_url(database_url))

    async def series() -> list[tuple[str, ...]]:
        try:
            found = await SqlCandleStore(db).series()
        finally:
            await db.close()
        return [
            (s.exchange, s.market, s.symbol, s.timeframe.value, str(s.count),
             ms_to_datetime(s.first_open_time).isoformat(), ms_to_datetime(s.last_open_time).isoformat())
            for s in found
        ]

    table = Table("exchange", "market", "symbol", "tf", "candles", "first open", "last open")
    for row in asyncio.run(series()):
        table.add_row(*row)
    out.print(table)


@db_app.command("backup")
def backup(
    path: Path = typer.Argument(..., help="file to write the copy to (created 0600; its folder 0700 if new)"),
    database_url: str | None = UrlOption,
    force: bool = typer.Option(False, "--force", help="replace PATH if it exists"),
) -> None:
    """Online backup of the SQLite database to PATH, safe while the bot runs (SQLite's backup API).

    The copy is a consistent committed state, checked with SQLite's integrity check, and needs no
    -wal file beside it. PostgreSQL: use pg_dump (see docs/deployment.md).
    """
    from ictbot.adapters.storage.backup import BackupError, backup_database

    try:
        result = backup_database(_url(database_url), path, overwrite=force)
    except BackupError as exc:
        fail(str(exc))
    out.print(f"backed up {result.source} to {result.target} ({result.bytes:,} bytes, {result.pages} pages, "
              "integrity ok)", soft_wrap=True, highlight=False)


@db_app.command("prune", help="Delete closed trades and candles older than --before (docs/storage.md).")
def prune(
    before: str = typer.Option(..., "--before", help="cut-off date (UTC), e.g. 2026-01-01 or 2026-01-01T12:00"),
    database_url: str | None = UrlOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="only count what would be deleted"),
    vacuum: bool = typer.Option(False, "--vacuum", help="SQLite: also rewrite the file to return the space"),
    yes: bool = typer.Option(False, "--yes", help="delete without a prompt"),
) -> None:
    from ictbot.adapters.storage import Database
    from ictbot.adapters.storage.prune import compact_sqlite, prune_history
    from ictbot.backtest.data import parse_time

    try:
        before_ms = parse_time(before)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--before") from None
    if before_ms is None:
        raise typer.BadParameter("must not be empty", param_hint="--before")
    if not dry_run and not yes:
        typer.confirm(f"Delete closed trades and candles older than {before}? This cannot be undone.", abort=True)
    db = Database(_url(database_url))
    try:
        result = db.write_sync(lambda connection: prune_history(connection, before_ms, dry_run=dry_run))
        if db.is_sqlite and not dry_run:
            with db.engine.connect() as connection:
                compact_sqlite(connection.execution_options(isolation_level="AUTOCOMMIT"), vacuum=vacuum)
    finally:
        db.close_sync()
    verb = "would delete" if dry_run else "deleted"
    counts = ", ".join(f"{count} {name}" for name, count in result.deleted.items())
    out.print(f"{verb} {counts} (before {before})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
