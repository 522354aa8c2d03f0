"""Online backup of the SQLite database: a consistent copy taken while the bot keeps writing.

SQLite's backup API copies the database page by page under its own locking, WAL content
included, so the copy is a committed state even while the bot writes; copying the file with
``cp`` could catch a half-written page or miss the ``-wal`` file. PostgreSQL is backed up with
``pg_dump`` instead (docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ictbot.adapters.storage.database import SQLITE_BUSY_TIMEOUT_MS, database_file_problem
from ictbot.adapters.storage.url import sqlite_file
from ictbot.domain.errors import IctbotError
from ictbot.filemodes import FILE_MODE, private_dir

PAGES_PER_STEP = 1024  # copy in steps so the bot's writers get the lock between them


class BackupError(IctbotError):
    """The backup could not be made; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    source: Path
    target: Path
    bytes: int
    pages: int


def backup_database(url: str, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the SQLite database behind ``url`` to ``target`` (0600), checked with ``integrity_check``.

    The copy is written beside ``target`` and renamed into place, so ``target`` is either the old
    file or a complete backup, never half a copy.
    """
    source = sqlite_file(url)
    if source is None:
        raise BackupError(f"{url.split(':', 1)[0]} database: `ictbot db backup` copies SQLite files only; "
                          "back PostgreSQL up with pg_dump (docs/deployment.md)")
    if not source.exists():
        raise BackupError(f"database file {source} does not exist")
    problem = database_file_problem(source)
    if problem is not None:
        raise BackupError(problem)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; choose a new name or pass --force to replace it")
    if target.resolve() == source.resolve():
        raise BackupError(f"{target} is the database itself")
    private_dir(target.parent)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        pages = _copy(source, partial)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupResult(source=source, target=target, bytes=target.stat().st_size, pages=pages)


def _copy(source: Path, partial: Path) -> int:
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
    # read-only URI: a backup must never create, migrate or checkpoint the live database
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(partial)
    try:
        live.backup(copy, pages=PAGES_PER_STEP)
        # a backup is for restoring: it must not need the -wal file next to it
        copy.execute("PRAGMA journal_mode=DELETE")
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        copy.close()
        live.close()
    if verdict != "ok":
        raise BackupError(f"the copy of {source} fails SQLite's integrity check: {verdict}")
    return pages
