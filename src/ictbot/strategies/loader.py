"""One place that turns a ``--strategy`` spec into a strategy class: a built-in kind, or user code.

Spec forms (docs/strategies.md):

* ``strategy_a`` — a built-in kind (plus the kinds a caller adds, e.g. the backtest's reference
  strategies);
* ``path/to/my_strategy.py:MyStrategy`` — a class in a Python file; ``path/to/my_strategy.py`` alone
  works when the file defines exactly one strategy class;
* ``package.module:MyStrategy`` — a class in an importable module.

Every failure is a ``StrategyLoadError`` naming the spec and the reason: a missing file, a missing
class, an import error with the file and line, or the protocol members the class lacks.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ictbot.domain.errors import ConfigError
from ictbot.strategies.base import BaseStrategy, Strategy

USER_MODULE_PREFIX = "ictbot_user_strategies"

# What the backtest, the analyses and the live runner call on a strategy class or its instances.
PROTOCOL_MEMBERS: tuple[tuple[str, str], ...] = (
    ("on_candle", "on_candle(self, context) -> Signal | None"),
    ("from_params", "classmethod from_params(params, strategy_id) -> strategy (BaseStrategy has it)"),
    ("required_timeframes", "property required_timeframes -> tuple[str, ...]"),
    ("warmup_candles", "property warmup_candles -> int"),
    ("id", "property id -> str"),
    ("config", "property config -> StrategyConfig"),
)


class StrategyLoadError(ConfigError):
    """A ``--strategy`` spec that names no usable strategy; ``errors`` holds (spec, reason)."""

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__("cannot load strategy", [(spec, reason)])
        self.spec = spec
        self.reason = reason


@dataclass(frozen=True)
class ResolvedStrategy:
    """A strategy class found for a spec. ``source`` is the file or module it came from (None: built-in)."""

    spec: str
    kind: str
    cls: type[Any]
    source: str | None = None

    @property
    def is_user(self) -> bool:
        return self.source is not None

    def factory(self) -> Callable[[Mapping[str, Any], str], Strategy]:
        """A registry factory ``(params, strategy_id) -> strategy`` for the class."""
        cls = self.cls

        def build(params: Mapping[str, Any], strategy_id: str) -> Strategy:
            built: Strategy = cls.from_params(params, strategy_id)
            return built

        return build

    def build(self, params: Mapping[str, Any] | None = None, strategy_id: str | None = None) -> Strategy:
        """An instance with validated ``params``; bad params raise ``ConfigError`` naming each field
        as ``strategies.<id>.params.<field>`` (the wording of ``ictbot config validate``)."""
        from ictbot.strategies.registry import StrategyRegistry

        name = strategy_id or self.kind
        registry = StrategyRegistry(include_builtins=False)
        registry.register_kind(self.kind, self.factory(), config_model=getattr(self.cls, "config_model", None))
        registry.configure({name: {"type": self.kind, "params": dict(params or {})}})
        return registry.get(name)




def builtin_classes() -> tuple[type[BaseStrategy[Any]], ...]:
    from ictbot.strategies.builtin import BUILTIN_STRATEGIES

    return BUILTIN_STRATEGIES


def is_user_spec(spec: str) -> bool:
    """True when ``spec`` names a file or a module rather than a built-in kind."""
    location = _split(spec)[0]
    return location.endswith(".py") or "/" in location or "\\" in location or ":" in spec or "." in location


def resolve_strategy(spec: str, *, extra: Sequence[type[Any]] = ()) -> ResolvedStrategy:
    """The strategy class ``spec`` names (see the module doc). ``extra``: more kinds by name."""
    text = spec.strip()
    if not text:
        raise StrategyLoadError(spec, "empty strategy name")
    if not is_user_spec(text):
        known = {cls.kind: cls for cls in (*builtin_classes(), *extra)}
        if text in known:
            return ResolvedStrategy(text, text, known[text])
        raise StrategyLoadError(spec, f"unknown strategy {text!r}; built-in: {', '.join(sorted(known))}; or give "
                                      "a file: path/to/my_strategy.py:ClassName")
    location, class_name = _split(text)
    if location.endswith(".py") or "/" in location or "\\" in location:
        path = Path(location).expanduser()
        if not path.is_file():
            reason = f"file {path} does not exist" if not path.exists() else f"{path} is not a file"
            raise StrategyLoadError(spec, reason)
        module = import_strategy_file(path, spec)
        source = str(path)
    else:
        module = _import_module(location, spec)
        source = location
    cls = _pick_class(module, class_name, spec)
    check_protocol(cls, spec)
    kind = getattr(cls, "kind", "") or cls.__name__
    return ResolvedStrategy(text, str(kind), cls, source)


def _split(spec: str) -> tuple[str, str | None]:
    """``location[:Class]``; a colon in a Windows drive (``C:\\x.py``) is not a class separator."""
    location, sep, name = spec.rpartition(":")
    if not sep or not name or "/" in name or "\\" in name or name.endswith(".py"):
        return spec, None
    return location, name


_imported: dict[tuple[Path, int, int], ModuleType] = {}


def import_strategy_file(path: Path, spec: str | None = None) -> ModuleType:
    """Import a user file as its own module (one per absolute path; imported again only when the file
    changed, so the class stays the same object across the builds of one run); errors name the file
    and line."""
    resolved = path.resolve()
    stat = resolved.stat()
    key = (resolved, stat.st_mtime_ns, stat.st_size)
    if key in _imported:
        return _imported[key]
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    name = f"{USER_MODULE_PREFIX}.{_identifier(resolved.stem)}_{digest}"
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise StrategyLoadError(spec or str(path), f"{path} is not an importable Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # a broken user file is reported with its own file and line
        sys.modules.pop(name, None)
        raise StrategyLoadError(spec or str(path), _import_failure(exc, resolved)) from exc
    _imported[key] = module
    return module


def _identifier(stem: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"m_{cleaned}"


def _import_failure(exc: BaseException, file: Path) -> str:
    """``file:line: Type: message`` for the innermost line of ``file`` in the failure."""
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == file:
        line = exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).resolve() == file:
                line = frame.lineno
    where = f"{file}:{line}" if line is not None else str(file)
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"import failed at {where}: {type(exc).__name__}: {message}"


def _import_module(name: str, spec: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise StrategyLoadError(spec, f"no file or module {name!r} ({exc})") from exc
    except Exception as exc:
        raise StrategyLoadError(spec, f"import of {name} failed: {type(exc).__name__}: {exc}") from exc


def strategy_classes(module: ModuleType) -> list[type[Any]]:
    """Classes defined in ``module`` itself that look like strategies (have ``on_candle``)."""
    return [member for _, member in inspect.getmembers(module, inspect.isclass)
            if member.__module__ == module.__name__ and callable(getattr(member, "on_candle", None))]


def _pick_class(module: ModuleType, class_name: str | None, spec: str) -> type[Any]:
    candidates = strategy_classes(module)
    if class_name is None:
        if len(candidates) == 1:
            return candidates[0]
        found = ", ".join(c.__name__ for c in candidates) or "none"
        raise StrategyLoadError(spec, f"name the class as FILE:ClassName (strategy classes found: {found})")
    found_class = getattr(module, class_name, None)
    if found_class is None:
        names = ", ".join(c.__name__ for c in candidates) or "none"
        raise StrategyLoadError(spec, f"no class {class_name!r} in {module.__file__ or module.__name__} "
                                      f"(strategy classes there: {names})")
    if not inspect.isclass(found_class):
        raise StrategyLoadError(spec, f"{class_name} is a {type(found_class).__name__}, not a class")
    return found_class


def check_protocol(cls: type[Any], spec: str) -> None:
    """Raise naming every protocol member ``cls`` lacks (``on_candle`` left abstract counts as missing)."""
    missing = [f"{name} ({signature})" for name, signature in PROTOCOL_MEMBERS if not hasattr(cls, name)]
    if getattr(cls, "on_candle", None) is BaseStrategy.on_candle:
        missing.insert(0, f"on_candle ({PROTOCOL_MEMBERS[0][1]}; BaseStrategy leaves it abstract)")
    if missing:
        raise StrategyLoadError(spec, f"{cls.__name__} does not implement the strategy protocol; missing: "
                                      + ", ".join(missing))
