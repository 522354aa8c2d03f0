"""The numbered versions of the trading configuration, kept in ``<config>.history.jsonl``.

One JSON line per accepted change, appended and fsynced. The file is bounded: beyond
``max_versions`` versions or ``max_bytes`` bytes the oldest are dropped (a rollback can only go as
far back as what is kept). Pruning rewrites the file atomically, and only once the file has grown
a tenth past a limit, so a steady stream of changes costs one rewrite per many appends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from ictbot.filemodes import atomic_write_text, open_private_append

log = structlog.get_logger(__name__)

DEFAULT_MAX_VERSIONS = 500
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ConfigHistoryEntry:
    """One line of the config history file (every save, all changed sections); the API serves it as
    ``api.dto.ConfigVersion`` (redacted changes). The only record of config versions: the database
    has no copy (migration 0003 dropped the never-used ``config_versions`` table)."""

    version: int
    time_ms: int
    reason: str
    sections: tuple[str, ...]
    document: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "time_ms": self.time_ms, "reason": self.reason,
                "sections": list(self.sections), "document": self.document}

    def line(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True) + "\n"


class HistoryFile:
    """Versions in memory and on disk, pruned to ``max_versions`` and ``max_bytes``."""

    def __init__(self, path: Path, *, max_versions: int = DEFAULT_MAX_VERSIONS,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_versions < 1 or max_bytes < 1:
            raise ValueError("config history limits must be at least 1")
        self.path = path
        self.max_versions = max_versions
        self.max_bytes = max_bytes
        self._versions: list[ConfigHistoryEntry] = []
        self._sizes: list[int] = []

    @property
    def versions(self) -> list[ConfigHistoryEntry]:
        return list(self._versions)

    @property
    def latest(self) -> ConfigHistoryEntry | None:
        return self._versions[-1] if self._versions else None

    def load(self) -> None:
        self._versions, self._sizes = [], []
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                entry = ConfigHistoryEntry(int(raw["version"]), int(raw["time_ms"]), str(raw["reason"]),
                                      tuple(raw["sections"]), raw["document"])
            except (ValueError, KeyError, TypeError):
                log.warning("skipping unreadable config history line", path=str(self.path))
                continue
            self._versions.append(entry)
            self._sizes.append(len(line.encode()) + 1)
        self._prune(slack=1.0)

    def append(self, entry: ConfigHistoryEntry) -> None:
        text = entry.line()
        with os.fdopen(open_private_append(self.path), "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        self._versions.append(entry)
        self._sizes.append(len(text.encode()))
        self._prune(slack=1.1)

    def _prune(self, *, slack: float) -> None:
        """Drop the oldest versions once a limit is exceeded by ``slack``; the newest always stays."""
        if len(self._versions) <= self.max_versions * slack and sum(self._sizes) <= self.max_bytes * slack:
            return
        keep = min(len(self._versions), self.max_versions)
        total = sum(self._sizes[-keep:])
        while keep > 1 and total > self.max_bytes:
            total -= self._sizes[-keep]
            keep -= 1
        dropped = len(self._versions) - keep
        self._versions, self._sizes = self._versions[-keep:], self._sizes[-keep:]
        atomic_write_text(self.path, "".join(entry.line() for entry in self._versions))
        log.info("config history pruned", dropped=dropped, kept=keep, path=str(self.path))
