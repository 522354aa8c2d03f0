"""Database outages as a real server or file shows them, for the campaign and the targeted tests.

PostgreSQL: the server refuses new connections to the database and terminates the open ones (a
restart or failover looks like this to a client); the pool's pre-ping cannot hide it, so every
read and write fails until the outage ends. SQLite: another process holds the file's write lock
(a backup, a CLI tool, a long checkpoint); writers wait up to their busy timeout, readers go on.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg


def pg_refuse(admin_url: str, database: str) -> None:
    """Refuse new connections to ``database`` and terminate the ones open now."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))


def pg_accept(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')


def pg_outage_in_background(admin_url: str, database: str, seconds: float) -> threading.Thread:
    """Start an outage of ``seconds`` now; the returned thread ends it (join it before checking)."""
    pg_refuse(admin_url, database)
    ended = threading.Thread(target=_end_later, args=(admin_url, database, seconds), daemon=True)
    ended.start()
    return ended


def _end_later(admin_url: str, database: str, seconds: float) -> None:
    threading.Event().wait(seconds)
    pg_accept(admin_url, database)


def sqlite_write_lock(file: Path, seconds: float) -> threading.Thread:
    """Hold ``file``'s write lock (``BEGIN EXCLUSIVE``) for ``seconds`` from another connection."""
    taken = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(file, timeout=10.0, isolation_level=None)
        try:
            connection.execute("BEGIN EXCLUSIVE")
            taken.set()
            threading.Event().wait(seconds)
            connection.execute("ROLLBACK")
        finally:
            taken.set()
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    taken.wait(15.0)
    return holder
