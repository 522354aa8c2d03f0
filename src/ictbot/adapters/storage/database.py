"""``Database``: the engine, the single writer and concurrent readers, built from a URL.

SQLite (default) runs in WAL mode with ``synchronous=NORMAL`` (durable across process crashes; a
power loss may drop the last commits), foreign-key checks off (see ``_sqlite_pragmas``) and a busy
timeout, so other processes (a CLI download
while the bot runs) wait instead of failing. A file database is checkpointed by its own thread
(``checkpoint.py``), not inside the commits. PostgreSQL is used through psycopg 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event, pool

from ictbot.adapters.storage.checkpoint import FALLBACK_AUTOCHECKPOINT_PAGES, Checkpointer
from ictbot.adapters.storage.migrate import current_revision, head_revision, upgrade_database
from ictbot.adapters.storage.url import database_url_from_env, normalize_url, sqlite_file
from ictbot.adapters.storage.writer import SerialWriter
from ictbot.filemodes import FILE_MODE, private_dir, private_file

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_AUTOCHECKPOINT_PAGES}")
        # foreign_keys stays OFF (SQLite's default): the only foreign key (candles -> candle_series)
        # costs ~35% of bulk-insert speed when checked per row, and the store always takes series ids
        # from the table itself. PostgreSQL enforces it.
    finally:
        cursor.close()


def _prepare_private_file(file: Path) -> None:
    """Owner-only database: the directory 0700 when we create it, the file (and WAL/SHM) 0600.

    SQLite gives its -wal and -shm files the database file's mode, so creating the file 0600 first
    covers them too.
    """
    private_dir(file.parent)
    if not file.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for path in (file, *(file.with_name(file.name + suffix) for suffix in _SIDE_FILES)):
        private_file(path)


def database_file_problem(file: Path) -> str | None:
    """Why an existing SQLite file must not be opened as the bot's database (None: fine or absent).

    SQLite treats a zero-byte file as a new, empty database: the bot would start without its
    journal, positions and breaker state and adopt the exchange's orders as strangers. A file
    without SQLite's header, or shorter than the pages its header declares, is damaged.
    """
    if not file.exists():
        return None
    size = file.stat().st_size
    if size == 0:
        return (f"database file {file} is empty (0 bytes): it would start fresh without the order journal "
                "and breaker state")
    with file.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        return f"database file {file} is not an SQLite database (truncated or another kind of file)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = file.with_name(file.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0  # pages may still live in the WAL
    if not wal_pending and pages and size < pages * page_size:
        return f"database file {file} is truncated ({size} bytes, its header declares {pages * page_size})"
    return None


def set_aside_database(file: Path, stamp: str) -> Path:
    """Rename a damaged database (and its WAL/SHM) to ``<name>.broken-<stamp>``; returns the new name."""
    target = file.with_name(f"{file.name}.broken-{stamp}")
    for suffix in ("", *_SIDE_FILES):
        source = file.with_name(file.name + suffix)
        if source.exists():
            source.rename(target.with_name(target.name + suffix))
    return target


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        file = sqlite_file(url)
        if file is None:
            # In-memory: one shared connection; the Database routes reads through the writer thread.
            engine = sa.create_engine(
                url, echo=echo, poolclass=pool.StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            _prepare_private_file(file)
            engine = sa.create_engine(
                url, echo=echo, pool_size=8, max_overflow=8,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, echo=echo, pool_size=8, max_overflow=8, pool_pre_ping=True)


class Database:
    """Owns the engine. ``write`` goes through the single writer; ``read`` runs on a worker thread."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url, echo=echo)
        self._memory = self.url.startswith("sqlite") and sqlite_file(self.url) is None
        # A SQLite file keeps one writer connection (no pool round trip per write) and runs small
        # trading-path writes inline when the writer is idle (see writer.py). PostgreSQL takes a
        # pooled connection per write (the pool's pre-ping replaces one the server dropped) and
        # never blocks the event loop on the network; an in-memory SQLite has only one
        # connection, shared with the reads.
        sqlite_file_db = self.is_sqlite and not self._memory
        self.writer = SerialWriter(self.engine, keep_connection=sqlite_file_db, allow_inline=sqlite_file_db)
        # Started by the first write: a process that only reads never checkpoints.
        self.checkpointer = Checkpointer(self.engine) if self.is_sqlite and not self._memory else None

    @classmethod
    def from_env(cls, *, echo: bool = False) -> Database:
        return cls(database_url_from_env(), echo=echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    # ---- schema ------------------------------------------------------------------------------------
    def upgrade(self, revision: str = "head") -> None:
        upgrade_database(revision=revision, engine=self.engine)

    def current_revision(self) -> str | None:
        return current_revision(engine=self.engine)

    def is_current(self) -> bool:
        return self.current_revision() == head_revision()

    # ---- access ------------------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T], *, inline: bool = False) -> T:
        """Run ``fn`` in one transaction through the single writer; committed when this returns.

        ``inline``: ``fn`` writes a few rows on a latency-critical path (an order, a closed candle)
        and may run on the calling thread when the writer is idle (SQLite files only; see
        ``writer.py``). ``fn`` must only write: it may run again after a rollback.
        """
        if self.checkpointer is not None:
            self.checkpointer.start()
        return await self.writer.submit(fn, inline=inline)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        if self.checkpointer is not None:
            self.checkpointer.start()
        return self.writer.run_sync(fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self._memory:  # its one connection must not be used by two threads at once
            return await self.writer.call(lambda: self.read_sync(fn))
        return await asyncio.get_running_loop().run_in_executor(None, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            return fn(connection)

    async def close(self) -> None:
        await self.writer.close()
        self._stop_checkpoints()
        self.engine.dispose()

    def close_sync(self) -> None:
        """Close from synchronous code (no event loop running)."""
        self.writer.close_sync()
        self._stop_checkpoints()
        self.engine.dispose()

    def _stop_checkpoints(self) -> None:
        # No final checkpoint here: SQLite checkpoints when the engine's last connection closes.
        if self.checkpointer is not None:
            self.checkpointer.stop()
