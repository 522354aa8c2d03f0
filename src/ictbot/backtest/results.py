"""What a backtest produces: trades, equity, summary, metadata and a reproducibility fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Order
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import ms_to_datetime

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip. Times are the open time (ms UTC) of the candle in which each fill happened."""

    number: int
    symbol: str
    strategy_id: str
    direction: str
    entry_time: int
    entry_price: Decimal
    exit_time: int
    exit_price: Decimal
    qty: Decimal
    fees: Decimal
    pnl: Decimal
    exit_reason: str
    entry_reason: tuple[str, ...] = ()
    signal_id: str = ""
    signal_time: int = 0
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    entry_index: int = 0
    exit_index: int = 0

    @property
    def gross_pnl(self) -> Decimal:
        """P&L before fees: ``pnl`` is net (the position's realised P&L, every fill's fee deducted)."""
        return self.pnl + self.fees

    @property
    def return_pct(self) -> float:
        notional = self.entry_price * self.qty
        return float(self.pnl / notional * 100) if notional else 0.0

    def canonical(self) -> dict[str, Any]:
        """The fields that define a trade, as strings and ints (stable across platforms)."""
        return {
            "symbol": self.symbol, "strategy_id": self.strategy_id, "direction": self.direction,
            "entry_time": self.entry_time, "entry_price": str(self.entry_price),
            "exit_time": self.exit_time, "exit_price": str(self.exit_price), "qty": str(self.qty),
            "fees": str(self.fees), "pnl": str(self.pnl), "exit_reason": self.exit_reason,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number, **self.canonical(),
            "entry_at": ms_to_datetime(self.entry_time).isoformat(),
            "exit_at": ms_to_datetime(self.exit_time).isoformat(),
            "gross_pnl": str(self.gross_pnl), "net_pnl": str(self.pnl),
            "return_pct": round(self.return_pct, 6), "entry_reason": list(self.entry_reason),
            "signal_id": self.signal_id, "signal_time": self.signal_time,
            "stop_loss": None if self.stop_loss is None else str(self.stop_loss),
            "take_profit": None if self.take_profit is None else str(self.take_profit),
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    time: int
    strategy_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ZoneMark:
    """An ICT zone (or level) that took part in a signal, for the report's chart."""

    signal_time: int
    kind: str
    direction: int
    timeframe: str
    top: float
    bottom: float
    start_time: int


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")


def count_reasons(rejections: Sequence[Rejection]) -> dict[str, int]:
    """Rejection reasons counted by kind: the whole text with its numbers replaced by ``#`` (so
    ``reward:risk 1.21 below minimum 1.5`` and ``... 1.07 ...`` count together), most frequent first."""
    counts: dict[str, int] = {}
    for rejection in rejections:
        for reason in rejection.reasons:
            key = _NUMBER.sub("#", reason)[:160]
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def fingerprint(trades: list[Trade]) -> str:
    """sha256 over the canonical JSON of the trades: same inputs and code ⇒ same fingerprint."""
    canonical = json.dumps([t.canonical() for t in trades], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class SymbolResult:
    symbol: str
    strategy_ids: tuple[str, ...]
    initial_cash: Decimal
    trades: list[Trade]
    times: I64
    equity: F64
    position_qty: F64
    rejections: list[Rejection] = field(default_factory=list)
    zones: list[ZoneMark] = field(default_factory=list)
    signals: int = 0
    candles: int = 0
    open: F64 = field(default_factory=lambda: np.empty(0))
    high: F64 = field(default_factory=lambda: np.empty(0))
    low: F64 = field(default_factory=lambda: np.empty(0))
    close: F64 = field(default_factory=lambda: np.empty(0))
    timeframe_ms: int = 0
    signal_log: list[tuple[Signal, bool]] = field(default_factory=list)  # (signal, decided while flat)
    held_visited: set[int] = field(default_factory=set)  # close times visited while not flat
    held_spans: list[tuple[int, int]] = field(default_factory=list)  # [first, last) candle index per trade
    # Every order in its final state, replayed through ``Order.apply`` on demand (parity checks).
    orders: Callable[[], list[Order]] = field(default=list)
    instrument: Instrument | None = None  # the filters the run traded on (``--via-live`` configures the simulator)
    # (time, why) of a lasting circuit-breaker trip after which no entry could follow (live: until an
    # operator resets it); the rest of the data was not traded and the strategy not asked.
    trading_stopped: tuple[int, str] | None = None

    @property
    def held_candle_times(self) -> set[int]:
        """Close times of the candles at which the strategy was not flat (built on demand: parity only)."""
        held = set(self.held_visited)
        for first, last in self.held_spans:
            held.update((self.times[first:last] + self.timeframe_ms).tolist())
        return held

    @property
    def final_equity(self) -> Decimal:
        return self.initial_cash + sum((t.pnl for t in self.trades), Decimal(0))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.trades)


def zone_marks(signal: Signal, snapshot: IndicatorSnapshot | None) -> list[ZoneMark]:
    """The zones a signal names (metadata ``zone_*``, or zone ids in its ``reason`` / metadata values,
    looked up in the snapshot) as marks for the report."""
    marks: list[ZoneMark] = []
    meta = dict(signal.metadata)
    if "zone_top" in meta and "zone_bottom" in meta:
        marks.append(ZoneMark(
            signal.time, meta.get("zone_kind", "zone"), int(meta.get("zone_direction", "1")),
            meta.get("zone_timeframe", signal.timeframe), float(meta["zone_top"]), float(meta["zone_bottom"]),
            int(meta.get("zone_start", str(signal.time))),
        ))
    if snapshot is None:
        return marks
    wanted = set(signal.reason) | set(meta.values())
    # a zone's id starts with "<timeframe>:<kind>:" (ict-spec §0): only the views and zone kinds that
    # a wanted id names are read (a replayed view builds its zones when first read)
    named = {tuple(text.split(":", 2)[:2]) for text in wanted}
    named_timeframes = {key[0] for key in named}
    views = snapshot.views
    for timeframe in views:
        if timeframe not in named_timeframes:
            continue
        view = views[timeframe]
        for kind, zones in (("fvg", view.fvgs), ("ifvg", view.ifvgs), ("order_block", view.order_blocks),
                            ("breaker", view.breakers)):
            if (timeframe, kind) not in named:
                continue
            for zone in zones:
                if zone.id in wanted:
                    marks.append(ZoneMark(signal.time, zone.kind, zone.direction, zone.timeframe, zone.top,
                                          zone.bottom, zone.anchor_time))
    return marks
