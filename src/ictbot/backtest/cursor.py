"""Where the backtest's event loop (``BacktestEngine._run``) stands between two decisions: the open
trade, the resting limit entry, how far the trade's exits were scanned, and the next candle to look at."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from ictbot.backtest.broker import OpenTrade
from ictbot.domain.events import OrderIntent
from ictbot.domain.order import Order


@dataclass(slots=True)
class PendingLimit:
    order: Order
    intent: OrderIntent
    event_index: int  # candle where it fills, or at whose close it expires
    fill_price: float | None  # None: expires


@dataclass(slots=True)
class Cursor:
    """The loop's position: next candle, open trade and how far its exits were scanned, resting entry."""

    scan_from: int  # first candle not yet scanned for the open trade's stop / target
    i: int = 0  # the next candle to look at
    trade: OpenTrade | None = None
    hit_index: int = -1  # candle where the open trade's stop/target fires; -1: not found up to scan_from
    pending: PendingLimit | None = None


def next_decision(at: Cursor, candidates: list[int] | None, n: int) -> int:
    """The next candle where something can happen: the resting entry's event, else the next candidate
    candle from the cursor on (every candle without candidates); ``n`` (the series' length) when none is left."""
    if candidates is None:
        return at.i
    if at.pending is not None:
        return at.pending.event_index  # flat with a resting entry: nothing can be decided before it
    pos = bisect_left(candidates, at.i)
    return candidates[pos] if pos < len(candidates) else n
