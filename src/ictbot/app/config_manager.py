"""Validated, versioned, hot-reloadable configuration.

* Every change (API call, file edit) is validated first; a bad change raises ``ConfigError`` with
  (field, reason) pairs and the running configuration stays as it was.
* Each accepted change gets the next version number and is appended to a history file
  (``<config>.history.jsonl``), so any earlier version can be restored with ``rollback``.
* Saves are atomic (temp file, fsync, rename): the file on disk is always a complete document.
* A change publishes CONFIG_UPDATED (and RISK_CONFIG_UPDATED for the risk section) with the full
  new section as ``changes``.
* ``None`` in a change unsets that setting (the default applies again).
* While the bot runs (``start_watching``, which also leaves a ``<config>.running`` marker for other
  processes such as ``ictbot config``), a change to the exchange section is refused with
  ``RestartRequired``: symbols, market and timeframes are wired into the pipeline at start.
* The file watcher is the task ``config.watch`` of the task supervisor it is given (the
  application's, so ``/status`` lists it): a read that raises restarts it with backoff, and one
  that keeps failing raises one ALERT when the supervisor gives up.
* The history is bounded (``config_history.HistoryFile``).
* Old spellings of keys (``config_legacy``) are read with a deprecation warning naming the new key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from ictbot.app.config_history import DEFAULT_MAX_BYTES, DEFAULT_MAX_VERSIONS, ConfigHistoryEntry, HistoryFile
from ictbot.app.config_legacy import upgrade_changes, upgrade_document
from ictbot.app.config_model import SECTIONS, StrategyConfigEntry, TradingConfig
from ictbot.app.tasks import TaskManager
from ictbot.bus import EventBus, Topic
from ictbot.domain.errors import ConfigError
from ictbot.domain.events import Alert, AlertLevel, ConfigUpdated
from ictbot.filemodes import atomic_write_text, private_file
from ictbot.ports.tasks import TaskSupervisor

log = structlog.get_logger(__name__)

WATCH_TASK = "config.watch"
SectionValidator = Callable[[Any], list[tuple[str, str]]]


def pydantic_errors(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        found.append((f"{prefix}{path}" if path else prefix.rstrip(".") or "<root>", error["msg"]))
    return found


class RestartRequired(ConfigError):
    """A valid change that only takes effect at start, refused while the bot runs."""


RESTART_MESSAGE = "takes effect only at start: stop the bot, change it, then start again"


def strategy_change(document: Mapping[str, Any], strategy_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with one strategy entry changed; ``None`` resets a field to its default.

    Keys that are not entry fields are strategy parameters (``params``); ``params: None`` clears
    them all, a parameter set to ``None`` is removed.
    """
    if not strategy_id or not strategy_id.replace("_", "").replace("-", "").isalnum():
        raise ConfigError("invalid strategy change", [("strategy_id", "must be letters, digits, _ or -")])
    changes, _ = upgrade_changes(changes, f"strategies.{strategy_id}")
    entry = dict(document["strategies"].get(strategy_id, StrategyConfigEntry().model_dump(mode="json")))
    params = dict(entry.get("params", {}))
    for key, value in changes.items():
        if key == "strategy_id":
            continue
        if key == "params":
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError("invalid strategy change", [("params", "must be an object")])
            params = {} if value is None else _merged(params, value)
        elif key in StrategyConfigEntry.model_fields:
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
        else:
            params = _merged(params, {key: value})
    entry["params"] = params
    return {**document, "strategies": {**document["strategies"], strategy_id: entry}}


def risk_change(document: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with risk settings changed; ``None`` removes a setting (its default applies)."""
    changes, _ = upgrade_changes(changes, "risk")
    return {**document, "risk": _merged(document["risk"], changes)}


def warn_deprecated(notes: list[str]) -> None:
    for note in notes:
        log.warning("deprecated configuration key", detail=note)


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if not (key in changes and changes[key] is None)}


def symbol_problems(model: TradingConfig) -> list[tuple[str, str]]:
    """A strategy may trade only symbols the exchange section configures (and the exchange lists)."""
    configured = model.exchange.symbols
    problems: list[tuple[str, str]] = []
    for strategy_id, entry in model.strategies.items():
        unknown = [symbol for symbol in entry.symbols or [] if symbol not in configured]
        if unknown:
            problems.append((f"strategies.{strategy_id}.symbols",
                             f"{', '.join(unknown)} not in exchange.symbols ({', '.join(configured)})"))
    return problems


def _running_pid(marker: Path) -> int | None:
    """The pid in a running marker when that process is alive (a stale marker counts as absent)."""
    try:
        pid = int(marker.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


class ConfigManager:
    def __init__(
        self,
        path: Path,
        bus: EventBus | None = None,
        *,
        section_validators: Mapping[str, SectionValidator] | None = None,
        poll_interval: float = 1.0,
        history_versions: int = DEFAULT_MAX_VERSIONS,
        history_bytes: int = DEFAULT_MAX_BYTES,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        """``tasks``: the supervisor the file watcher runs under (default: one of its own)."""
        self.path = Path(path)
        self.history_path = self.path.with_name(self.path.name + ".history.jsonl")
        self.running_marker = self.path.with_name(self.path.name + ".running")
        self._bus = bus
        self._validators: dict[str, SectionValidator] = dict(section_validators or {})
        self._poll_interval = poll_interval
        self._config = TradingConfig()
        self._history = HistoryFile(self.history_path, max_versions=history_versions, max_bytes=history_bytes)
        self._running = False
        self._file_stamp: tuple[int, int] | None = None
        self._tasks: TaskSupervisor = tasks if tasks is not None else TaskManager(bus)
        self._watching = False
        self._lock = asyncio.Lock()

    # ---- reading --------------------------------------------------------------------------
    @property
    def config(self) -> TradingConfig:
        return self._config

    @property
    def version(self) -> int:
        latest = self._history.latest
        return latest.version if latest else 0

    def document(self) -> dict[str, Any]:
        return self._config.model_dump(mode="json")

    def history(self) -> list[ConfigHistoryEntry]:
        return self._history.versions

    def add_section_validator(self, section: str, validator: SectionValidator) -> None:
        self._validators[section] = validator

    # ---- validation -----------------------------------------------------------------------
    def validate(self, document: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Field-level problems of a whole document (empty list: valid)."""
        try:
            document, _ = upgrade_document(document)
        except ConfigError as exc:
            return list(exc.errors)
        try:
            model = TradingConfig.model_validate(document)
        except ValidationError as exc:
            return pydantic_errors(exc)
        errors = symbol_problems(model)
        for section, validator in self._validators.items():
            value = getattr(model, section)
            dumped = value if isinstance(value, dict) else value.model_dump(mode="json")
            if section == "strategies":
                dumped = {key: entry.model_dump(mode="json") for key, entry in model.strategies.items()}
            errors.extend((f"{section}.{field}" if field else section, reason)
                          for field, reason in validator(dumped))
        return errors

    def parse(self, document: Mapping[str, Any]) -> TradingConfig:
        document, notes = upgrade_document(document)
        warn_deprecated(notes)
        errors = self.validate(document)
        if errors:
            raise ConfigError("invalid configuration", errors)
        return TradingConfig.model_validate(document)

    # ---- loading and saving -----------------------------------------------------------------
    def load(self) -> TradingConfig:
        """Load the file (creating it with defaults when absent) and the version history."""
        self._history.load()
        if self.path.exists():
            private_file(self.path)
            document = self._read_file()
            self._config = self.parse(document)
        else:
            self._config = self.parse(TradingConfig().model_dump(mode="json"))
            self.save()
        current = self.document()
        latest = self._history.latest
        if latest is None or latest.document != current:
            self._record(current, "loaded from file" if latest else "initial", SECTIONS)
        return self._config

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.document(), indent=2, sort_keys=True) + "\n")
        self._file_stamp = self._stamp()

    # ---- changes --------------------------------------------------------------------------
    async def update_strategy_config(self, strategy_id: str, changes: Mapping[str, Any], reason: str = "api") -> int:
        warn_deprecated(upgrade_changes(changes, f"strategies.{strategy_id}")[1])
        return await self._apply(strategy_change(self.document(), strategy_id, changes), reason, ("strategies",))

    async def update_risk_config(self, changes: Mapping[str, Any], reason: str = "api") -> int:
        warn_deprecated(upgrade_changes(changes, "risk")[1])
        return await self._apply(risk_change(self.document(), changes), reason, ("risk",))

    async def replace(self, document: Mapping[str, Any], reason: str) -> int:
        changed = tuple(s for s in SECTIONS if document.get(s) != self.document().get(s))
        return await self._apply(dict(document), reason, changed)

    def is_active(self, version: int) -> bool:
        """True when ``version``'s configuration is the one in force (rolling back to it changes nothing)."""
        target = next((item for item in self._history.versions if item.version == version), None)
        if target is None:
            return False
        try:  # an old version may spell keys the old way
            document = TradingConfig.model_validate(upgrade_document(target.document)[0]).model_dump(mode="json")
        except (ConfigError, ValidationError):
            return False
        current = self.document()
        return all(document.get(s) == current.get(s) for s in SECTIONS)

    async def rollback(self, version: int) -> int:
        target = next((item for item in self._history.versions if item.version == version), None)
        if target is None:
            raise ConfigError("rollback failed", [("version", f"no version {version} in history")])
        current = self.document()
        changed = tuple(s for s in SECTIONS if target.document.get(s) != current.get(s))
        return await self._apply(dict(target.document), f"rollback to version {version}", changed)

    # ---- hot reload -------------------------------------------------------------------------
    @property
    def running_elsewhere(self) -> int | None:
        """The pid of a running bot that uses this file (not this process), else None."""
        pid = _running_pid(self.running_marker)
        return pid if pid is not None and pid != os.getpid() else None

    def restart_problems(self, document: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The start-only fields ``document`` changes while a bot runs (empty: fine or not running)."""
        if not self._running and self.running_elsewhere is None:
            return []
        current = self.document()["exchange"]
        candidate = document.get("exchange")
        if not isinstance(candidate, Mapping):
            return []
        changed = sorted(key for key in set(current) | set(candidate) if current.get(key) != candidate.get(key))
        return [(f"exchange.{key}", RESTART_MESSAGE) for key in changed]

    async def start_watching(self) -> None:
        """Follow file edits; from now on this process is the running bot (start-only fields freeze)."""
        self._running = True
        atomic_write_text(self.running_marker, f"{os.getpid()}\n")
        if not self._watching:
            self._file_stamp = self._stamp()
            self._tasks.spawn(WATCH_TASK, self._watch, restart_on_exit=True)
            self._watching = True

    async def stop_watching(self) -> None:
        self._running = False
        if _running_pid(self.running_marker) in (os.getpid(), None):
            with contextlib.suppress(FileNotFoundError):
                self.running_marker.unlink()
        if self._watching:
            self._watching = False
            await self._tasks.cancel(WATCH_TASK)

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
        # A read that raises (other than a rejected document, which check_file answers with an
        # ALERT) ends the loop: the supervisor restarts it with backoff and lists the error.
        while True:
            await asyncio.sleep(self._poll_interval)
            await self.check_file()

    # ---- internals ----------------------------------------------------------------------------
    async def _apply(self, document: dict[str, Any], reason: str, sections: tuple[str, ...]) -> int:
        async with self._lock:
            new_config = self.parse(document)
            restart = self.restart_problems(new_config.model_dump(mode="json"))
            if restart:
                raise RestartRequired("change needs a restart", restart)
            old = self.document()
            current = new_config.model_dump(mode="json")
            if current == old:
                return self.version  # nothing changes: no new version (a repeated PUT must not grow the history)
            self._config = new_config
            changed = tuple(s for s in sections if current.get(s) != old.get(s)) or sections
            version = self._record(current, reason, changed)
            self.save()
        for section in changed:
            await self._publish(version, section, current[section])
        return version

    def _record(self, document: Mapping[str, Any], reason: str, sections: tuple[str, ...]) -> int:
        entry = ConfigHistoryEntry(self.version + 1, int(time.time() * 1000), reason, sections, document)
        self._history.append(entry)
        return entry.version

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
