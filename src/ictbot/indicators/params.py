"""Frozen indicator parameters with the defaults of ict-spec §13, hashing and ``name=value`` overrides."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ictbot.domain.errors import ConfigError

WINDOW_IDS: tuple[str, ...] = ("asia_kz", "london_kz", "ny_am_kz", "london_close_kz", "ny_pm_kz", "tokyo",
                               "london", "new_york")
PERIOD_SOURCES: tuple[str, ...] = ("day", "week", "month")
LIQUIDITY_SOURCES: tuple[str, ...] = ("swing", "pool", *PERIOD_SOURCES, *WINDOW_IDS)


@dataclass(frozen=True, slots=True)
class AtrParams:
    length: int = 14


@dataclass(frozen=True, slots=True)
class SwingParams:
    """One named (L, R) fractal stream (§1)."""

    left: int = 3
    right: int = 3


@dataclass(frozen=True, slots=True)
class StructureParams:
    internal_left: int = 3
    internal_right: int = 3
    swing_left: int = 10
    swing_right: int = 10
    break_source: str = "close"  # close | wick
    require_sweep: bool = False
    streams: tuple[str, ...] = ("internal", "swing")

    def stream_params(self, name: str) -> SwingParams:
        if name == "internal":
            return SwingParams(self.internal_left, self.internal_right)
        return SwingParams(self.swing_left, self.swing_right)


@dataclass(frozen=True, slots=True)
class FvgParams:
    require_body_direction: bool = True
    require_close_beyond: bool = False
    require_displacement: bool = False
    min_ticks: float = 0.0
    tick_size: float = 0.0
    k_atr: float = 0.0
    max_age: int | None = None
    merge_adjacent: bool = False
    max_active: int | None = 50


@dataclass(frozen=True, slots=True)
class OrderBlockParams:
    selection: str = "lowest_down_close"  # lowest_down_close | lowest_low
    zone: str = "wick"  # wick | body
    invalidation_source: str = "close"  # close | wick
    breaker_requires_mss: bool = False
    mss_window: int = 10
    max_active: int | None = 50


@dataclass(frozen=True, slots=True)
class LiquidityParams:
    left: int = 3
    right: int = 3
    k_atr: float = 0.1
    k_bps: float = 0.0
    sweep_window: int = 0
    k_exc: float | None = None
    sources: tuple[str, ...] = LIQUIDITY_SOURCES


@dataclass(frozen=True, slots=True)
class PremiumDiscountParams:
    pd_stream: str = "swing"
    eq_band: float = 0.05
    ote_low: float = 0.62
    ote_high: float = 0.79
    sweet_spot: float = 0.705


@dataclass(frozen=True, slots=True)
class PreviousPeriodParams:
    day_anchor: str = "utc"  # utc | ny_midnight | ny_17


@dataclass(frozen=True, slots=True)
class SessionParams:
    windows: tuple[str, ...] = WINDOW_IDS


@dataclass(frozen=True, slots=True)
class DisplacementParams:
    k_body: float = 1.5
    min_body_ratio: float = 0.6
    max_leg: int = 3
    k_leg: float = 2.5


@dataclass(frozen=True, slots=True)
class IndicatorParams:
    """All parameters of one timeframe's engine (each timeframe may have its own, §10)."""

    atr: AtrParams = field(default_factory=AtrParams)
    structure: StructureParams = field(default_factory=StructureParams)
    fvg: FvgParams = field(default_factory=FvgParams)
    order_blocks: OrderBlockParams = field(default_factory=OrderBlockParams)
    liquidity: LiquidityParams = field(default_factory=LiquidityParams)
    premium_discount: PremiumDiscountParams = field(default_factory=PremiumDiscountParams)
    previous_period: PreviousPeriodParams = field(default_factory=PreviousPeriodParams)
    sessions: SessionParams = field(default_factory=SessionParams)
    displacement: DisplacementParams = field(default_factory=DisplacementParams)

    def __post_init__(self) -> None:
        problems = validate(self)
        if problems:
            raise ConfigError("invalid indicator parameters", problems)

    def with_overrides(self, assignments: list[str] | tuple[str, ...]) -> IndicatorParams:
        """Apply ``section.name=value`` strings (``none`` for optional values, ``a,b`` for tuples)."""
        result = self
        for assignment in assignments:
            result = _apply_override(result, assignment)
        return result


def params_hash(*parts: Any) -> str:
    """First 12 hex digits of SHA-256 over canonical JSON of the parameters (§0)."""
    payload = [dataclasses.asdict(p) if dataclasses.is_dataclass(p) and not isinstance(p, type) else p
               for p in parts]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def validate(params: IndicatorParams) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def need(condition: bool, path: str, reason: str) -> None:
        if not condition:
            problems.append((path, reason))

    s = params.structure
    need(params.atr.length >= 1, "atr.length", "must be >= 1")
    for name in ("internal_left", "internal_right", "swing_left", "swing_right"):
        need(getattr(s, name) >= 1, f"structure.{name}", "must be >= 1")
    need(s.break_source in ("close", "wick"), "structure.break_source", "close or wick")
    need(set(s.streams) <= {"internal", "swing"}, "structure.streams", "subset of internal, swing")
    need(params.fvg.max_age is None or params.fvg.max_age >= 1, "fvg.max_age", "none or >= 1")
    need(params.fvg.max_active is None or params.fvg.max_active >= 1, "fvg.max_active", "none or >= 1")
    ob = params.order_blocks
    need(ob.selection in ("lowest_down_close", "lowest_low"), "order_blocks.selection",
         "lowest_down_close or lowest_low")
    need(ob.zone in ("wick", "body"), "order_blocks.zone", "wick or body")
    need(ob.invalidation_source in ("close", "wick"), "order_blocks.invalidation_source", "close or wick")
    need(ob.mss_window >= 0, "order_blocks.mss_window", "must be >= 0")
    need(ob.max_active is None or ob.max_active >= 1, "order_blocks.max_active", "none or >= 1")
    liq = params.liquidity
    need(liq.left >= 1 and liq.right >= 1, "liquidity.left/right", "must be >= 1")
    need(liq.sweep_window >= 0, "liquidity.sweep_window", "must be >= 0")
    need(set(liq.sources) <= set(LIQUIDITY_SOURCES), "liquidity.sources", f"subset of {LIQUIDITY_SOURCES}")
    need(params.premium_discount.pd_stream in ("internal", "swing"), "premium_discount.pd_stream",
         "internal or swing")
    need(params.previous_period.day_anchor in ("utc", "ny_midnight", "ny_17"), "previous_period.day_anchor",
         "utc, ny_midnight or ny_17")
    need(set(params.sessions.windows) <= set(WINDOW_IDS), "sessions.windows", f"subset of {WINDOW_IDS}")
    need(params.displacement.max_leg >= 0, "displacement.max_leg", "must be >= 0")
    return problems


def _apply_override(params: IndicatorParams, assignment: str) -> IndicatorParams:
    name, sep, raw = assignment.partition("=")
    section_name, dot, field_name = name.strip().partition(".")
    if not sep or not dot:
        raise ConfigError("bad --param", [(assignment, "expected section.name=value, e.g. fvg.k_atr=0.5")])
    sections = {f.name: f for f in fields(params)}
    if section_name not in sections:
        raise ConfigError("bad --param", [(name, f"unknown section; one of {', '.join(sections)}")])
    section = getattr(params, section_name)
    hints = typing.get_type_hints(type(section))
    if field_name not in hints:
        known = ", ".join(f.name for f in fields(section))
        raise ConfigError("bad --param", [(name, f"unknown parameter; one of {known}")])
    try:
        value = _parse_value(raw.strip(), hints[field_name])
    except ValueError as exc:
        raise ConfigError("bad --param", [(name, str(exc))]) from None
    return replace(params, **{section_name: replace(section, **{field_name: value})})


def _parse_value(raw: str, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if raw.lower() in ("none", "null", "off") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse_value(raw, inner[0])
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if hint is bool:
        lowered = raw.lower()
        if lowered in ("1", "true", "on", "yes"):
            return True
        if lowered in ("0", "false", "off", "no"):
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if hint is int:
        return int(raw)
    if hint is float:
        return float(raw)
    return raw
