"""Field-by-field comparison of the signals and trades of two runs over the same candles."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from ictbot.backtest.fills import ExitKind
from ictbot.backtest.results import Trade
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import ms_to_datetime

ENTRY_FIELDS = ("symbol", "strategy_id", "direction", "entry_time", "entry_price", "qty", "signal_id",
                "signal_time", "stop_loss", "take_profit", "entry_reason")
"""What a trade still open at the end of a truncated run must share with the full run."""

EXIT_FIELDS = ("exit_time", "exit_price", "fees", "pnl", "exit_reason")


@dataclass(frozen=True)
class FieldDifference:
    name: str
    reference: str  # the value in the reference run (full data / earliest start)
    variant: str  # the value in the run being checked (cut copy / later start)

    def to_json(self) -> dict[str, str]:
        return {"field": self.name, "reference": self.reference, "variant": self.variant}


@dataclass(frozen=True)
class Difference:
    """A signal or trade decided at ``time`` that is not the same in the two runs.

    ``only_in``: ``reference`` or ``variant`` when one run has it and the other does not (then
    ``fields`` is empty); None when both have it and ``fields`` lists what differs.
    """

    kind: str  # "signal" | "trade"
    symbol: str
    time: int  # decision time, ms UTC (the signal's candle close)
    variant: str  # which run: "cut at ...", "start +N candles"
    only_in: str | None = None
    fields: tuple[FieldDifference, ...] = ()

    def describe(self) -> str:
        when = ms_to_datetime(self.time).isoformat()
        if self.only_in is not None:
            return f"{self.symbol} {self.kind} at {when}: only in the {self.only_in} run ({self.variant})"
        changes = "; ".join(f"{f.name}: {f.reference} -> {f.variant}" for f in self.fields)
        return f"{self.symbol} {self.kind} at {when} ({self.variant}): {changes}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "symbol": self.symbol, "time": self.time,
                "at": ms_to_datetime(self.time).isoformat(), "variant": self.variant, "only_in": self.only_in,
                "fields": [f.to_json() for f in self.fields]}


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def same(a: Any, b: Any, rel_tol: float = 0.0) -> bool:
    """Equal, numbers within ``rel_tol`` of the larger magnitude (element-wise in tuples)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y, rel_tol) for x, y in zip(a, b, strict=True))
    numeric = (Decimal, float, int)
    if rel_tol > 0 and isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool):
        x, y = Decimal(str(a)), Decimal(str(b))
        return abs(x - y) <= Decimal(str(rel_tol)) * max(abs(x), abs(y))
    return bool(a == b)


def signal_fields(signal: Signal) -> dict[str, Any]:
    return {f.name: getattr(signal, f.name) for f in dataclasses.fields(signal)}


def trade_fields(trade: Trade) -> dict[str, Any]:
    return {name: getattr(trade, name) for name in (*ENTRY_FIELDS, *EXIT_FIELDS)}


def _field_differences(reference: Mapping[str, Any], variant: Mapping[str, Any], names: Iterable[str],
                       rel_tol: float = 0.0) -> tuple[FieldDifference, ...]:
    return tuple(FieldDifference(n, _text(reference[n]), _text(variant[n])) for n in names
                 if not same(reference[n], variant[n], rel_tol))


def compare_signals(reference: Sequence[Signal], variant: Sequence[Signal], *, label: str,
                    counts: Callable[[Signal], bool] = lambda _s: True,
                    one_sided_counts: Callable[[Signal, str], bool] = lambda _s, _run: True,
                    rel_tol: float = 0.0) -> list[Difference]:
    """Differences among the signals ``counts`` selects (in either run), keyed by (symbol, strategy,
    time). ``one_sided_counts(signal, run)``: whether a signal that only ``run`` has is a finding
    (False when the other run had a reason not to speak, e.g. it held a position then). Prices within
    ``rel_tol`` (relative) count as equal."""
    def keyed(signals: Sequence[Signal]) -> dict[tuple[str, str, int], Signal]:
        return {(s.symbol, s.strategy_id, s.time): s for s in signals if counts(s)}

    ref, var = keyed(reference), keyed(variant)
    found: list[Difference] = []
    for key in sorted(ref.keys() | var.keys(), key=lambda k: (k[2], k[0], k[1])):
        a, b = ref.get(key), var.get(key)
        if a is None or b is None:
            present, run = (b, "variant") if a is None else (a, "reference")
            assert present is not None
            if one_sided_counts(present, run):
                found.append(Difference("signal", key[0], key[2], label, only_in=run))
            continue
        first, second = signal_fields(a), signal_fields(b)
        changed = _field_differences(first, second, first, rel_tol)
        if changed:
            found.append(Difference("signal", key[0], key[2], label, fields=changed))
    return found


def compare_trades(reference: Sequence[Trade], variant: Sequence[Trade], *, label: str,
                   counts: Callable[[Trade], bool]) -> list[Difference]:
    """Differences among the trades ``counts`` selects, keyed by (symbol, entry time); a variant trade
    closed only because its data ended is compared on its entry alone."""
    ref = {(t.symbol, t.entry_time): t for t in reference if counts(t)}
    var = {(t.symbol, t.entry_time): t for t in variant if counts(t)}
    found: list[Difference] = []
    for key in sorted(ref.keys() | var.keys(), key=lambda k: (k[1], k[0])):
        a, b = ref.get(key), var.get(key)
        if a is None or b is None:
            present = b if a is None else a
            assert present is not None
            found.append(Difference("trade", key[0], present.signal_time, label,
                                    only_in="variant" if a is None else "reference"))
            continue
        ended = ExitKind.END.value in b.exit_reason.split("+")
        names = ENTRY_FIELDS if ended else (*ENTRY_FIELDS, *EXIT_FIELDS)
        changed = _field_differences(trade_fields(a), trade_fields(b), names)
        if changed:
            found.append(Difference("trade", key[0], a.signal_time, label, fields=changed))
    return found
