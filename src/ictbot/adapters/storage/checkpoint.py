"""SQLite WAL checkpoints on their own thread, off the write path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses ``wal_autocheckpoint`` pages
and fsyncs the database file there: 15–25 ms added to whichever write happens to cross it — on
the order path, an entry request delayed by that much once every ~100 entries (the p99 of the
execution benchmark). Here a daemon thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
connection every ``interval_s``; a PASSIVE checkpoint never blocks the writer (WAL lets both
proceed), and one with nothing new to copy does nothing. The automatic checkpoint stays on, at
``FALLBACK_AUTOCHECKPOINT_PAGES``, only as a bound on the WAL if this thread falls behind (a bulk
import writing faster than one checkpoint per interval).
"""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import Engine

log = structlog.get_logger(__name__)

FALLBACK_AUTOCHECKPOINT_PAGES = 20_000  # ≈ 80 MB of WAL with 4 KiB pages


class Checkpointer:
    def __init__(self, engine: Engine, *, interval_s: float = 1.0) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.failures = 0

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._loop, name="ictbot-db-checkpoint", daemon=True)
            self._thread.start()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint now (also used by the loop)."""
        with self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.checkpoint()
            except Exception as exc:  # e.g. the file went away: the automatic fallback still bounds the WAL
                self.failures += 1
                if self.failures == 1:
                    log.warning("WAL checkpoint failed", error=repr(exc))
