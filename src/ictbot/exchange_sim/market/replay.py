"""Candle replay: plays each symbol's base candles along their intra-candle paths, in time order.

The replay is the simulated exchange's notion of time. ``step()`` plays one base candle for every
symbol (open, the two extremes, close, then the close event at ``open_time + duration``) and
returns those events in time order; the simulator core moves the clock, the matching engine and
the streams with them. REST klines are served from the same arrays (``klines``), aggregated from
the base series, so REST and WebSocket always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market.path import candle_path
from ictbot.exchange_sim.market.series import CandleSeries, price_decimal

ZERO = Decimal(0)
POINTS_PER_CANDLE = 4
_MONDAY_EPOCH_MS = 4 * 86_400_000


# Candles converted to Decimals, most of them recent (REST klines re-read the last few hundred):
# ~0.6 kB each, so at most ~2.5 MB, and full within hours at 10 symbols. 20,000 took a month of a
# 2-symbol soak to fill, which showed as simulator growth in the bot's process.
DECIMAL_CACHE_SIZE = 4_096


@dataclass(frozen=True, slots=True)
class Bar:
    """A kline as the exchange reports it (in progress unless ``closed``)."""

    symbol: str
    interval: Timeframe
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    first_trade: int
    last_trade: int
    closed: bool

    @property
    def close_time(self) -> int:
        return self.open_time + self.interval.ms - 1

    @property
    def quote_volume(self) -> Decimal:
        return self.volume * (self.open + self.high + self.low + self.close) / 4


@dataclass(frozen=True, slots=True)
class PricePoint:
    symbol: str
    time: int
    price: Decimal
    volume: Decimal  # traded since the previous point
    gap: bool  # a jump from the previous candle's close to this open (no trading in between)
    trade_id: int
    bar: Bar  # the base candle so far


@dataclass(frozen=True, slots=True)
class CandleClosed:
    symbol: str
    time: int
    bar: Bar


ReplayEvent = PricePoint | CandleClosed


def bucket_open(interval: Timeframe, times: np.ndarray) -> np.ndarray:
    if interval is Timeframe.W1:
        return times - (times - _MONDAY_EPOCH_MS) % interval.ms  # type: ignore[no-any-return]
    return times - times % interval.ms  # type: ignore[no-any-return]


class Replay:
    def __init__(self, series: dict[str, CandleSeries], ticks: dict[str, Decimal], start_ms: int | None = None,
                 path_mode: str = "ohlc", seed: int = 0, warmup: int = 500) -> None:
        if not series:
            raise ValueError("replay needs at least one symbol")
        timeframes = {s.timeframe for s in series.values()}
        if len(timeframes) != 1:
            raise ValueError(f"all series must share one timeframe, got {sorted(t.value for t in timeframes)}")
        self.series = series
        self.ticks = ticks
        self.timeframe: Timeframe = timeframes.pop()
        self.path_mode = path_mode
        self.seed = seed
        first = min(int(s.open_time[0]) for s in series.values())
        if start_ms is None:
            longest = max(series.values(), key=len)
            start_ms = int(longest.open_time[min(warmup, len(longest) - 1)])
        self.cursor_ms = self.timeframe.floor(max(start_ms, first))
        self.index = {sym: s.index_at(self.cursor_ms) for sym, s in series.items()}
        self.running: dict[str, Bar | None] = dict.fromkeys(series)
        self._decimal_cache: dict[tuple[str, int], tuple[Decimal, Decimal, Decimal, Decimal, Decimal]] = {}
        self.last_close: dict[str, Decimal] = {sym: self._last_close(sym) for sym in series}

    # ---- playing ------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return all(self.index[sym] >= len(s) for sym, s in self.series.items())

    @property
    def end_ms(self) -> int:
        return max(int(s.open_time[-1]) for s in self.series.values()) + self.timeframe.ms

    def _last_close(self, symbol: str) -> Decimal:
        i = self.index[symbol]
        series = self.series[symbol]
        if i == 0:
            return price_decimal(float(series.open[0]), self.ticks[symbol])
        return self.candle(symbol, i - 1)[3]

    def candle(self, symbol: str, i: int) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        key = (symbol, i)
        cached = self._decimal_cache.get(key)
        if cached is None:
            s, tick = self.series[symbol], self.ticks[symbol]
            cached = (price_decimal(float(s.open[i]), tick), price_decimal(float(s.high[i]), tick),
                      price_decimal(float(s.low[i]), tick), price_decimal(float(s.close[i]), tick),
                      Decimal(f"{float(s.volume[i]):.8f}"))
            if len(self._decimal_cache) >= DECIMAL_CACHE_SIZE:
                self._decimal_cache.clear()
            self._decimal_cache[key] = cached
        return cached

    def step(self) -> list[ReplayEvent]:
        """Plan the candle that opens at ``cursor_ms`` for every symbol that has one.

        The caller applies the events in order and passes each to ``note`` before the next step.
        """
        duration = self.timeframe.ms
        events: list[ReplayEvent] = []
        for symbol, series in self.series.items():
            i = self.index[symbol]
            if i >= len(series) or int(series.open_time[i]) != self.cursor_ms:
                continue
            o, h, low, c, volume = self.candle(symbol, i)
            points = candle_path(self.cursor_ms, duration, o, h, low, c, mode=self.path_mode, seed=self.seed,
                                 symbol=symbol)
            share = volume / (len(points) - 1)
            first_trade = i * POINTS_PER_CANDLE + 1
            bar = Bar(symbol, self.timeframe, self.cursor_ms, o, o, o, o, ZERO, first_trade, first_trade, False)
            for k, point in enumerate(points):
                bar = replace(bar, high=max(bar.high, point.price), low=min(bar.low, point.price), close=point.price,
                              volume=volume if k == len(points) - 1 else bar.volume + (share if k else ZERO),
                              last_trade=first_trade + k)
                events.append(PricePoint(symbol, point.time, point.price, share if k else ZERO,
                                         gap=k == 0 and point.price != self.last_close[symbol],
                                         trade_id=first_trade + k, bar=bar))
            closed = replace(bar, high=h, low=low, closed=True)
            events.append(CandleClosed(symbol, self.cursor_ms + duration, closed))
        self.cursor_ms += duration
        events.sort(key=lambda e: (e.time, isinstance(e, PricePoint)))
        return events

    def note(self, event: ReplayEvent) -> None:
        """Record a played event (the running candle REST shows while a candle is in progress)."""
        if isinstance(event, PricePoint):
            self.running[event.symbol] = event.bar
        else:
            self.running[event.symbol] = None
            self.index[event.symbol] += 1
            self.last_close[event.symbol] = event.bar.close

    # ---- REST klines -------------------------------------------------------------------------------

    def closed_count(self, symbol: str) -> int:
        """Base candles already closed (``index`` advances when a candle's close event is noted)."""
        return self.index[symbol]

    def klines(self, symbol: str, interval: Timeframe, start_ms: int | None = None, end_ms: int | None = None,
               limit: int = 500) -> list[Bar]:
        """Bars of ``interval`` with open time ≤ now (closed ones, then the one in progress)."""
        series = self.series[symbol]
        n_closed = self.closed_count(symbol)
        running = self.running.get(symbol)
        times = series.open_time[:n_closed]
        if start_ms is not None:
            lo = int(np.searchsorted(times, int(bucket_open(interval, np.array([start_ms]))[0]), side="left"))
        else:
            newest = int(times[-1]) if n_closed else self.cursor_ms
            if running is not None:
                newest = running.open_time
            first_bucket = int(bucket_open(interval, np.array([newest]))[0]) - (limit - 1) * interval.ms
            lo = int(np.searchsorted(times, first_bucket, side="left"))
        bars = self._aggregate(symbol, interval, lo, n_closed)
        if running is not None:
            bars = self._merge_running(bars, running, interval)
        elif bars:
            last = bars[-1]
            if last.open_time + interval.ms > self.cursor_ms:  # bucket not complete yet: still open
                bars[-1] = replace(last, closed=False)
        if start_ms is not None:
            bars = [b for b in bars if b.open_time >= start_ms]
        if end_ms is not None:
            bars = [b for b in bars if b.open_time <= end_ms]
        return bars[:limit] if start_ms is not None else bars[-limit:]

    def _aggregate(self, symbol: str, interval: Timeframe, lo: int, hi: int) -> list[Bar]:
        if hi <= lo:
            return []
        s = self.series[symbol]
        times = s.open_time[lo:hi]
        if interval is self.timeframe:
            return [self._bar(symbol, interval, lo + k, lo + k + 1) for k in range(hi - lo)]
        buckets = bucket_open(interval, times)
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        ends = np.r_[starts[1:], len(times)]
        return [self._bar(symbol, interval, lo + int(a), lo + int(b), int(buckets[int(a)]))
                for a, b in zip(starts, ends, strict=True)]

    def _bar(self, symbol: str, interval: Timeframe, a: int, b: int, open_time: int | None = None) -> Bar:
        s = self.series[symbol]
        tick = self.ticks[symbol]
        if b - a == 1:
            o, h, low, c, v = self.candle(symbol, a)
        else:
            o, c = self.candle(symbol, a)[0], self.candle(symbol, b - 1)[3]
            h = price_decimal(float(s.high[a:b].max()), tick)
            low = price_decimal(float(s.low[a:b].min()), tick)
            v = Decimal(f"{float(s.volume[a:b].sum()):.8f}")
        start = int(s.open_time[a]) if open_time is None else open_time
        return Bar(symbol, interval, start, o, h, low, c, v, a * POINTS_PER_CANDLE + 1, b * POINTS_PER_CANDLE,
                   closed=True)

    def _merge_running(self, bars: list[Bar], running: Bar, interval: Timeframe) -> list[Bar]:
        bucket = int(bucket_open(interval, np.array([running.open_time]))[0])
        live = replace(running, interval=interval, open_time=bucket, closed=False)
        if bars and bars[-1].open_time == bucket:
            prev = bars[-1]
            live = replace(live, open=prev.open, high=max(prev.high, running.high), low=min(prev.low, running.low),
                           volume=prev.volume + running.volume, first_trade=prev.first_trade)
            return [*bars[:-1], live]
        return [*bars, live]

    def live_bar(self, symbol: str, interval: Timeframe, base: Bar) -> Bar:
        """The ``interval`` bar containing base bar ``base`` (its state at that moment)."""
        if interval is self.timeframe:
            return base
        series = self.series[symbol]
        bucket = int(bucket_open(interval, np.array([base.open_time]))[0])
        base_index = series.index_at(base.open_time)
        lo = series.index_at(bucket)
        earlier = self._aggregate(symbol, interval, lo, base_index)
        bars = self._merge_running(earlier, replace(base, closed=False), interval)
        bar = bars[-1]
        closes_bucket = base.closed and base.open_time + self.timeframe.ms >= bucket + interval.ms
        return replace(bar, closed=closes_bucket)
