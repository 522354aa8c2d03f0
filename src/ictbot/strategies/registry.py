"""Which strategies exist, which are enabled, and how a misbehaving one is contained.

The registry knows strategy *kinds* (classes: the built-ins plus user classes loaded from a folder
or a dotted path) and strategy *instances* (an id, a kind and validated parameters). Configuration
(the ``strategies`` section) is a mapping ``{strategy_id: {"enabled", "type", "params", "source"}}``;
``configure`` applies it, ``validate_config`` reports its problems without applying anything.

A strategy that raises is isolated: the error is counted, the other strategies still run, and after
``max_consecutive_errors`` consecutive failures the strategy is disabled and an alert is produced.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ictbot.domain.errors import ConfigError
from ictbot.domain.events import Alert, AlertLevel
from ictbot.strategies.base import BaseStrategy, Strategy

StrategyFactory = Callable[[Mapping[str, Any], str], Strategy]
"""Builds a strategy from (params, strategy_id); raises ``pydantic.ValidationError`` on bad params."""


class StrategyEntry(BaseModel):
    """One entry of the ``strategies`` configuration section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    type: str | None = Field(default=None, description="Strategy kind; defaults to the entry's id.")
    params: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(
        default=None, description="Folder or dotted path (module or module:Class) to load the kind from."
    )
    symbols: list[str] | None = Field(
        default=None, description="Shorthand for params.symbols (params win when both are given)."
    )
    max_positions: int | None = Field(
        default=None, ge=1, description="Shorthand for params.max_open_positions, for kinds that have it."
    )



def registry_section(section: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's view of an app-level ``strategies`` section.

    The app config also carries per-strategy keys for other stages (e.g. ``risk_per_trade_pct``); only
    ``StrategyEntry``'s own keys are kept. A non-mapping entry is passed through for validation to name.
    """
    known = StrategyEntry.model_fields
    return {
        sid: {k: v for k, v in raw.items() if k in known} if isinstance(raw, Mapping) else raw
        for sid, raw in section.items()
    }

@dataclass(slots=True)
class StrategyStatus:
    """Runtime bookkeeping of one strategy instance (exposed to API/CLI through the facade)."""

    id: str
    kind: str
    enabled: bool
    consecutive_errors: int = 0
    total_errors: int = 0
    signals: int = 0
    last_error: str | None = None
    disabled_reason: str | None = None


@dataclass(slots=True)
class _Slot:
    strategy: Strategy
    status: StrategyStatus
    entry: StrategyEntry | None = None


def entry_params(entry: StrategyEntry, config_model: type[BaseModel] | None) -> dict[str, Any]:
    """The entry's ``params`` with the entry-level shorthands folded in (``params`` win)."""
    params = dict(entry.params)
    if entry.symbols is not None:
        params.setdefault("symbols", entry.symbols)
    fields: set[str] = set(config_model.model_fields) if config_model is not None else set()
    if entry.max_positions is not None and "max_open_positions" in fields:
        params.setdefault("max_open_positions", entry.max_positions)
    return params


def default_strategies_config() -> dict[str, dict[str, Any]]:
    """The built-in strategies, enabled with default parameters."""
    return {"strategy_a": {"enabled": True, "params": {}}, "strategy_b": {"enabled": True, "params": {}}}


class StrategyRegistry:
    def __init__(
        self, *, max_consecutive_errors: int = 3, include_builtins: bool = True, sources: Sequence[str] = (),
    ) -> None:
        """``sources``: user strategy folders / files / dotted paths to load at once (see ``load_source``)."""
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be at least 1")
        self.max_consecutive_errors = max_consecutive_errors
        self._kinds: dict[str, StrategyFactory] = {}
        self._models: dict[str, type[BaseModel]] = {}
        self._slots: dict[str, _Slot] = {}
        self._loaded_sources: set[str] = set()
        if include_builtins:
            from ictbot.strategies.builtin import BUILTIN_STRATEGIES

            for cls in BUILTIN_STRATEGIES:
                self.register_kind(cls.kind, cls.from_params_factory(), config_model=cls.config_model)
        for source in sources:
            self.load_source(source)

    # ---- kinds ------------------------------------------------------------------------------
    def register_kind(
        self, kind: str, factory: StrategyFactory, *, config_model: type[BaseModel] | None = None
    ) -> None:
        """Make ``kind`` available; ``config_model`` (optional) lets entry shorthands map onto it."""
        if not kind:
            raise ValueError("a strategy kind needs a non-empty name")
        if kind in self._kinds:
            raise ConfigError("duplicate strategy kind", [(kind, "already registered")])
        self._kinds[kind] = factory
        if config_model is not None:
            self._models[kind] = config_model

    @property
    def config_models(self) -> Mapping[str, type[BaseModel]]:
        """Each kind's parameter model (kinds registered without one are absent)."""
        return dict(self._models)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._kinds))

    def load_source(self, source: str) -> list[str]:
        """Register the strategy classes found in a folder, a ``.py`` file or a dotted path.

        ``path/to/file.py:Class`` registers that one class (``strategies.loader``). A dotted path is
        ``package.module`` (every strategy class in it) or ``package.module:Class``.
        Loading the same source twice is a no-op. Returns the kinds registered by this call.
        """
        if source in self._loaded_sources:
            return []
        location, _, class_name = source.rpartition(":")
        if class_name and location.endswith(".py"):  # one class of a file: the --strategy form
            from ictbot.strategies.loader import resolve_strategy

            resolved = resolve_strategy(source)
            model = getattr(resolved.cls, "config_model", None)
            self.register_kind(resolved.kind, resolved.factory(), config_model=model)
            self._loaded_sources.add(source)
            return [resolved.kind]
        path = Path(source)
        if path.is_dir():
            modules = [_import_file(file) for file in sorted(path.glob("*.py")) if not file.name.startswith("_")]
            classes = [cls for module in modules for cls in _strategy_classes(module)]
        elif path.suffix == ".py" and path.is_file():
            classes = _strategy_classes(_import_file(path))
        else:
            module_name, _, attribute = source.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ConfigError("cannot load strategies", [(source, str(exc))]) from exc
            if attribute:
                found = getattr(module, attribute, None)
                if not (inspect.isclass(found) and issubclass(found, BaseStrategy) and found.kind):
                    raise ConfigError("cannot load strategies", [(source, "not a BaseStrategy with a kind")])
                classes = [found]
            else:
                classes = _strategy_classes(module)
        if not classes:
            raise ConfigError("cannot load strategies", [(source, "no strategy class (BaseStrategy with kind)")])
        registered = []
        for cls in classes:
            self.register_kind(cls.kind, cls.from_params_factory(), config_model=cls.config_model)
            registered.append(cls.kind)
        self._loaded_sources.add(source)
        return registered

    # ---- instances --------------------------------------------------------------------------
    def add(self, strategy: Strategy, *, enabled: bool = True, kind: str | None = None) -> None:
        """Install a ready-made strategy object (tests, embedding); replaces one with the same id."""
        status = StrategyStatus(id=strategy.id, kind=kind or type(strategy).__name__, enabled=enabled)
        self._slots[strategy.id] = _Slot(strategy, status)

    def get(self, strategy_id: str) -> Strategy:
        return self._slot(strategy_id).strategy

    def ids(self) -> tuple[str, ...]:
        return tuple(self._slots)

    def enabled(self) -> tuple[Strategy, ...]:
        return tuple(slot.strategy for slot in self._slots.values() if slot.status.enabled)

    def is_enabled(self, strategy_id: str) -> bool:
        return self._slot(strategy_id).status.enabled

    def set_enabled(self, strategy_id: str, enabled: bool) -> None:
        """Switch a strategy on or off; switching on clears its error streak."""
        status = self._slot(strategy_id).status
        status.enabled = enabled
        if enabled:
            status.consecutive_errors = 0
            status.disabled_reason = None
        else:
            status.disabled_reason = status.disabled_reason or "disabled by operator"

    def status(self) -> list[StrategyStatus]:
        return [slot.status for slot in self._slots.values()]

    # ---- configuration ----------------------------------------------------------------------
    def validate_config(self, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(field path, reason) for every problem in a ``strategies`` section; empty when valid."""
        problems: list[tuple[str, str]] = []
        for strategy_id, raw in config.items():
            try:
                self._build(str(strategy_id), raw)
            except ConfigError as exc:
                problems.extend(exc.errors)
        return problems

    def configure(self, config: Mapping[str, Any]) -> list[str]:
        """Apply a full ``strategies`` section. All-or-nothing: on any problem nothing changes.

        New ids are built, ids whose kind/params changed are rebuilt (error counters reset), and
        ``enabled`` is applied when the entry changed since it was last applied, so re-sending an
        unchanged section does not re-enable a strategy that was disabled for repeated errors.
        Configured ids missing from ``config`` are disabled. Returns the ids that changed.
        """
        built: dict[str, tuple[StrategyEntry, Strategy | None]] = {}
        problems: list[tuple[str, str]] = []
        for strategy_id, raw in config.items():
            try:
                built[str(strategy_id)] = self._build(str(strategy_id), raw, reuse=True)
            except ConfigError as exc:
                problems.extend(exc.errors)
        if problems:
            raise ConfigError("invalid strategies configuration", problems)
        changed: list[str] = []
        for strategy_id, (entry, strategy) in built.items():
            slot = self._slots.get(strategy_id)
            if strategy is not None:
                kind = entry.type or strategy_id
                self._slots[strategy_id] = _Slot(
                    strategy, StrategyStatus(id=strategy_id, kind=kind, enabled=entry.enabled), entry
                )
                changed.append(strategy_id)
            elif slot is not None and slot.entry != entry:
                slot.entry = entry
                self.set_enabled(strategy_id, entry.enabled)
                changed.append(strategy_id)
        for strategy_id, slot in self._slots.items():
            if strategy_id not in built and slot.entry is not None and slot.status.enabled:
                slot.status.enabled = False
                slot.status.disabled_reason = "removed from configuration"
                changed.append(strategy_id)
        return changed

    def _build(
        self, strategy_id: str, raw: Any, *, reuse: bool = False
    ) -> tuple[StrategyEntry, Strategy | None]:
        """Validate one entry; the built strategy is None when ``reuse`` and nothing but ``enabled`` changed."""
        try:
            entry = StrategyEntry.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError("invalid strategy entry", _pydantic_errors(f"strategies.{strategy_id}", exc)) from exc
        if entry.source:
            try:
                self.load_source(entry.source)
            except ConfigError as exc:
                raise ConfigError("cannot load", [(f"strategies.{strategy_id}.source", str(exc))]) from exc
        kind = entry.type or strategy_id
        factory = self._kinds.get(kind)
        if factory is None:
            known = ", ".join(self.kinds) or "none"
            raise ConfigError(
                "unknown strategy", [(f"strategies.{strategy_id}.type", f"unknown kind {kind!r} (known: {known})")]
            )
        slot = self._slots.get(strategy_id)
        if reuse and slot is not None and slot.entry is not None and (
            slot.entry.model_dump(exclude={"enabled"}) == entry.model_dump(exclude={"enabled"})
        ):
            return entry, None
        try:
            strategy = factory(entry_params(entry, self._models.get(kind)), strategy_id)
        except ValidationError as exc:
            raise ConfigError(
                "invalid strategy params", _pydantic_errors(f"strategies.{strategy_id}.params", exc)
            ) from exc
        return entry, strategy

    # ---- error isolation --------------------------------------------------------------------
    def record_success(self, strategy_id: str, *, produced_signal: bool) -> None:
        status = self._slot(strategy_id).status
        status.consecutive_errors = 0
        if produced_signal:
            status.signals += 1

    def record_error(self, strategy_id: str, error: BaseException) -> Alert | None:
        """Count a failure; returns the alert to publish when the strategy gets disabled by it."""
        status = self._slot(strategy_id).status
        status.consecutive_errors += 1
        status.total_errors += 1
        status.last_error = f"{type(error).__name__}: {error}"
        if status.enabled and status.consecutive_errors >= self.max_consecutive_errors:
            status.enabled = False
            status.disabled_reason = f"{status.consecutive_errors} consecutive errors"
            return Alert(
                level=AlertLevel.CRITICAL,
                source=f"strategy:{strategy_id}",
                message=(
                    f"strategy {strategy_id} disabled after {status.consecutive_errors} consecutive errors; "
                    f"last: {status.last_error}"
                ),
                details={"strategy_id": strategy_id, "errors": status.total_errors, "last_error": status.last_error},
            )
        return None

    def _slot(self, strategy_id: str) -> _Slot:
        try:
            return self._slots[strategy_id]
        except KeyError:
            raise KeyError(f"unknown strategy id {strategy_id!r}") from None


def _pydantic_errors(prefix: str, exc: ValidationError) -> list[tuple[str, str]]:
    return [
        (".".join([prefix, *(str(part) for part in error["loc"])]), error["msg"]) for error in exc.errors()
    ]


def _import_file(path: Path) -> ModuleType:
    module_name = f"ictbot_user_strategies.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError("cannot load strategies", [(str(path), "not an importable Python file")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken user file is a configuration problem, reported with its path
        sys.modules.pop(module_name, None)
        raise ConfigError("cannot load strategies", [(str(path), f"{type(exc).__name__}: {exc}")]) from exc
    return module


def _strategy_classes(module: ModuleType) -> list[type[BaseStrategy[Any]]]:
    """Strategy classes defined in ``module`` itself (not imported into it) that declare a kind."""
    return [
        member
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, BaseStrategy) and member.kind and member.__module__ == module.__name__
    ]
