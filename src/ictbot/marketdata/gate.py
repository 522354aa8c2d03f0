"""Pure bookkeeping of one (symbol, timeframe) stream: every closed candle exactly once, in order.

The gate never trusts the ``x`` flag alone: when the exchange clock has passed a candle's close (plus
a grace period) and the closed candle has not arrived, ``overdue`` asks for a REST backfill. Live
updates that would skip a candle (a gap after a reconnect or a lost ``x:true`` frame) are held back
until the backfill has filled the hole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class Gap:
    """Candles the exchange itself did not deliver (outage): ``[first_open, last_open]``."""

    symbol: str
    timeframe: Timeframe
    first_open: int
    last_open: int


@dataclass(slots=True)
class LiveResult:
    emit: list[Candle] = field(default_factory=list)
    need_backfill: bool = False


@dataclass(slots=True)
class CandleGate:
    symbol: str
    timeframe: Timeframe
    last_closed: int | None = None  # open time of the last closed candle handed out

    @property
    def next_open(self) -> int | None:
        return None if self.last_closed is None else self.last_closed + self.timeframe.ms

    def offer_live(self, candle: Candle) -> LiveResult:
        tf_ms = self.timeframe.ms
        if self.last_closed is None:
            # First sight: the feed starts here; nothing before it is owed.
            if candle.closed:
                self.last_closed = candle.open_time
            else:
                self.last_closed = candle.open_time - tf_ms
            return LiveResult(emit=[candle])
        if candle.open_time <= self.last_closed:
            return LiveResult()  # duplicate of something already handed out, or stale
        expected = self.last_closed + tf_ms
        if candle.closed:
            if candle.open_time == expected:
                self.last_closed = candle.open_time
                return LiveResult(emit=[candle])
            return LiveResult(need_backfill=True)  # missed closed candles before this one
        if candle.open_time == expected:
            return LiveResult(emit=[candle])  # update of the currently open candle
        return LiveResult(need_backfill=True)  # the exchange moved on without our x:true

    def offer_backfill(self, candles: list[Candle]) -> tuple[list[Candle], list[Gap]]:
        """Closed candles from REST (sorted by open time) → those to emit, and holes REST also has."""
        emitted: list[Candle] = []
        gaps: list[Gap] = []
        tf_ms = self.timeframe.ms
        for candle in sorted(candles, key=lambda c: c.open_time):
            if not candle.closed or (self.last_closed is not None and candle.open_time <= self.last_closed):
                continue
            if self.last_closed is not None and candle.open_time != self.last_closed + tf_ms:
                gaps.append(Gap(self.symbol, self.timeframe, self.last_closed + tf_ms, candle.open_time - tf_ms))
            self.last_closed = candle.open_time
            emitted.append(candle)
        return emitted, gaps

    def overdue(self, server_now_ms: int, grace_ms: int) -> bool:
        """True when the next closed candle should exist by the exchange clock but was not handed out."""
        nxt = self.next_open
        return nxt is not None and server_now_ms >= nxt + self.timeframe.ms + grace_ms
