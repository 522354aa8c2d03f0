"""Validated, versioned, hot-reloadable configuration.

* Every change (API call, file edit) is validated first; a bad change raises ``ConfigError`` with
  (field, reason) pairs and the running configuration stays as it was.
* Each accepted change gets the next version number and is appended to a history file
  (``<config>.history.jsonl``), so any earlier version can be restored with ``rollback``.
* Saves are atomic (temp file, fsync, rename): the file on disk is always a complete document.
* A change publishes CONFIG_UPDATED (and RISK_CONFIG_UPDATED for the risk section) with the full
  new section as ``changes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from ictbot.app.config_model import SECTIONS, StrategyEntry, TradingConfig
from ictbot.bus import EventBus, Topic
from ictbot.domain.errors import ConfigError
from ictbot.domain.events import Alert, AlertLevel, ConfigUpdated
from ictbot.filemodes import open_private_append, private_dir

log = structlog.get_logger(__name__)

SectionValidator = Callable[[Any], list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    version: int
    time_ms: int
    reason: str
    sections: tuple[str, ...]
    document: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "time_ms": self.time_ms, "reason": self.reason,
                "sections": list(self.sections), "document": self.document}


def pydantic_errors(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        found.append((f"{prefix}{path}" if path else prefix.rstrip(".") or "<root>", error["msg"]))
    return found


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; the file is owner-only (mkstemp creates it 0600)."""
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class ConfigManager:
    def __init__(
        self,
        path: Path,
        bus: EventBus | None = None,
        *,
        section_validators: Mapping[str, SectionValidator] | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.history_path = self.path.with_name(self.path.name + ".history.jsonl")
        self._bus = bus
        self._validators: dict[str, SectionValidator] = dict(section_validators or {})
        self._poll_interval = poll_interval
        self._config = TradingConfig()
        self._history: list[ConfigVersion] = []
        self._file_stamp: tuple[int, int] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # ---- reading --------------------------------------------------------------------------
    @property
    def config(self) -> TradingConfig:
        return self._config

    @property
    def version(self) -> int:
        return self._history[-1].version if self._history else 0

    def document(self) -> dict[str, Any]:
        return self._config.model_dump(mode="json")

    def history(self) -> list[ConfigVersion]:
        return list(self._history)

    def add_section_validator(self, section: str, validator: SectionValidator) -> None:
        self._validators[section] = validator

    # ---- validation -----------------------------------------------------------------------
    def validate(self, document: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Field-level problems of a whole document (empty list: valid)."""
        try:
            model = TradingConfig.model_validate(document)
        except ValidationError as exc:
            return pydantic_errors(exc)
        errors: list[tuple[str, str]] = []
        for section, validator in self._validators.items():
            value = getattr(model, section)
            dumped = value if isinstance(value, dict) else value.model_dump(mode="json")
            if section == "strategies":
                dumped = {key: entry.model_dump(mode="json") for key, entry in model.strategies.items()}
            errors.extend((f"{section}.{field}" if field else section, reason)
                          for field, reason in validator(dumped))
        return errors

    def parse(self, document: Mapping[str, Any]) -> TradingConfig:
        errors = self.validate(document)
        if errors:
            raise ConfigError("invalid configuration", errors)
        return TradingConfig.model_validate(document)

    # ---- loading and saving -----------------------------------------------------------------
    def load(self) -> TradingConfig:
        """Load the file (creating it with defaults when absent) and the version history."""
        self._history = self._read_history()
        if self.path.exists():
            document = self._read_file()
            self._config = self.parse(document)
        else:
            self._config = self.parse(TradingConfig().model_dump(mode="json"))
            self.save()
        current = self.document()
        if not self._history or self._history[-1].document != current:
            self._record(current, "loaded from file" if self._history else "initial", SECTIONS)
        return self._config

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.document(), indent=2, sort_keys=True) + "\n")
        self._file_stamp = self._stamp()

    # ---- changes --------------------------------------------------------------------------
    async def update_strategy_config(self, strategy_id: str, changes: Mapping[str, Any], reason: str = "api") -> int:
        if not strategy_id or not strategy_id.replace("_", "").replace("-", "").isalnum():
            raise ConfigError("invalid strategy change", [("strategy_id", "must be letters, digits, _ or -")])
        document = self.document()
        entry = dict(document["strategies"].get(strategy_id, StrategyEntry().model_dump(mode="json")))
        params = dict(entry.get("params", {}))
        for key, value in changes.items():
            if key == "strategy_id":
                continue
            if key in StrategyEntry.model_fields and key != "params":
                entry[key] = value
            elif key == "params":
                if not isinstance(value, Mapping):
                    raise ConfigError("invalid strategy change", [("params", "must be an object")])
                params.update(value)
            else:
                params[key] = value
        entry["params"] = params
        document["strategies"] = {**document["strategies"], strategy_id: entry}
        return await self._apply(document, reason, ("strategies",))

    async def update_risk_config(self, changes: Mapping[str, Any], reason: str = "api") -> int:
        document = self.document()
        document["risk"] = {**document["risk"], **dict(changes)}
        return await self._apply(document, reason, ("risk",))

    async def update_section(self, section: str, value: Any, reason: str = "api") -> int:
        if section not in SECTIONS:
            raise ConfigError("invalid change", [("section", f"unknown section {section!r}")])
        document = self.document()
        document[section] = value
        return await self._apply(document, reason, (section,))

    async def replace(self, document: Mapping[str, Any], reason: str) -> int:
        changed = tuple(s for s in SECTIONS if document.get(s) != self.document().get(s))
        return await self._apply(dict(document), reason, changed)

    async def rollback(self, version: int) -> int:
        target = next((item for item in self._history if item.version == version), None)
        if target is None:
            raise ConfigError("rollback failed", [("version", f"no version {version} in history")])
        current = self.document()
        changed = tuple(s for s in SECTIONS if target.document.get(s) != current.get(s))
        return await self._apply(dict(target.document), f"rollback to version {version}", changed)

    # ---- hot reload -------------------------------------------------------------------------
    async def start_watching(self) -> None:
        if self._watch_task is None:
            self._file_stamp = self._stamp()
            self._watch_task = asyncio.get_running_loop().create_task(self._watch(), name="config-watch")

    async def stop_watching(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None

    async def check_file(self) -> bool:
        """Reload the file if it changed on disk. Returns True when a new version was applied."""
        stamp = self._stamp()
        if stamp is None or stamp == self._file_stamp:
            return False
        self._file_stamp = stamp
        try:
            document = self._read_file()
            if document == self.document():
                return False
            await self.replace(document, "file changed on disk")
            return True
        except ConfigError as exc:
            log.error("config file change rejected; keeping the running configuration", errors=exc.errors)
            await self._publish_alert(f"config file change rejected: {exc}")
            return False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self.check_file()
            except Exception:  # a watcher must never die on a transient read error
                log.exception("config watcher error")

    # ---- internals ----------------------------------------------------------------------------
    async def _apply(self, document: dict[str, Any], reason: str, sections: tuple[str, ...]) -> int:
        async with self._lock:
            new_config = self.parse(document)
            old = self.document()
            self._config = new_config
            current = self.document()
            changed = tuple(s for s in sections if current.get(s) != old.get(s)) or sections
            version = self._record(current, reason, changed)
            self.save()
        for section in changed:
            await self._publish(version, section, current[section])
        return version

    def _record(self, document: Mapping[str, Any], reason: str, sections: tuple[str, ...]) -> int:
        entry = ConfigVersion(self.version + 1, int(time.time() * 1000), reason, sections, document)
        self._history.append(entry)
        with os.fdopen(open_private_append(self.history_path), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry.as_dict(), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry.version

    def _read_history(self) -> list[ConfigVersion]:
        if not self.history_path.exists():
            return []
        versions: list[ConfigVersion] = []
        for line in self.history_path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                versions.append(ConfigVersion(int(raw["version"]), int(raw["time_ms"]), str(raw["reason"]),
                                              tuple(raw["sections"]), raw["document"]))
            except (ValueError, KeyError, TypeError):
                log.warning("skipping unreadable config history line", path=str(self.history_path))
        return versions

    def _read_file(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self.path} is not valid JSON",
                              [(f"line {exc.lineno} column {exc.colno}", exc.msg)]) from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.path} must hold a JSON object", [("<root>", "not an object")])
        return raw

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    async def _publish(self, version: int, section: str, value: Any) -> None:
        if self._bus is None:
            return
        topic = Topic.RISK_CONFIG_UPDATED if section == "risk" else Topic.CONFIG_UPDATED
        changes = value if isinstance(value, dict) else {"value": value}
        await self._bus.publish(topic, ConfigUpdated(version, section, changes))
        if topic is Topic.RISK_CONFIG_UPDATED:
            await self._bus.publish(Topic.CONFIG_UPDATED, ConfigUpdated(version, section, value))

    async def _publish_alert(self, message: str) -> None:
        if self._bus is not None:
            await self._bus.publish(Topic.ALERT, Alert(AlertLevel.WARNING, "config", message))
