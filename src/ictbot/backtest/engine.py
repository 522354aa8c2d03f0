"""The backtest loop for one symbol: replayed candles → live strategies → risk → orders → positions.

Speed comes from *where* the loop stops, not from a different code path: the loop visits a candle
only when something can happen there — a strategy may decide (every candle for streaming/ICT
strategies; the precomputed candidates of a ``VectorisedStrategy``), an open trade's stop or target
fires (found with a vectorised scan when the trade opens), or a resting limit entry fills or expires.
Between those candles nothing in the live stages could change, so nothing is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ictbot.domain.events import OrderIntent, SignalRejected
from ictbot.domain.instrument import Instrument
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.market import Market, Symbol
from ictbot.domain.order import OrderSide
from ictbot.domain.signal import Direction, Signal
from ictbot.strategies.base import Strategy

from ictbot.backtest.broker import OpenTrade, SimulatedBroker
from ictbot.backtest.data import MarketData
from ictbot.backtest.driver import BareSnapshots, SnapshotSource, StrategyDriver
from ictbot.backtest.fills import (
    ExitKind,
    FillModel,
    ProtectiveHit,
    dec,
    default_instrument,
    first_protective_index,
    limit_fill_price,
    protective_hit,
    resolve_with_detail,
)
from ictbot.backtest.reference import EXIT_METADATA
from ictbot.backtest.results import Rejection, SymbolResult, ZoneMark
from ictbot.backtest.sizing import AccountView, FixedStakeRisk, RiskStage

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BacktestConfig:
    initial_cash: Decimal = Decimal(10_000)
    fill_model: FillModel = field(default_factory=FillModel)
    market: Market = Market.SPOT
    instrument: Instrument | None = None
    limit_ttl_candles: int = 12
    per_candle: bool = False  # visit every candle even for vectorised strategies (slower; same trades)
    close_at_end: bool = True  # close a trade still open after the last candle at its close


@dataclass(slots=True)
class _PendingLimit:
    intent: OrderIntent
    event_index: int  # candle where it fills, or at whose close it expires
    fill_price: float | None  # None: expires


def _is_exit(signal: Signal) -> bool:
    return EXIT_METADATA in signal.metadata


class BacktestEngine:
    def __init__(
        self,
        data: MarketData,
        strategies: Sequence[Strategy],
        config: BacktestConfig | None = None,
        *,
        risk: RiskStage | None = None,
        snapshots: SnapshotSource | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.data = data
        self.config = config or BacktestConfig()
        self.risk: RiskStage = risk or FixedStakeRisk()
        pair = Symbol.parse(data.symbol)
        self.instrument = self.config.instrument or default_instrument(data.symbol, pair.base, pair.quote)
        self.driver = StrategyDriver(
            strategies, data.frame, data.symbol, data.timeframe,
            snapshots or BareSnapshots(data.symbol, data.timeframe), per_candle=self.config.per_candle,
        )
        self.broker = SimulatedBroker(self.instrument, self.config.fill_model, self.config.initial_cash,
                                      self.config.market)
        self.rejections: list[Rejection] = []
        self.zones: list[ZoneMark] = []
        self.signals = 0
        self._progress = progress
        frame = data.frame
        self._o, self._h, self._l, self._c = frame.open, frame.high, frame.low, frame.close
        self._t = frame.open_time
        self._touch = self.config.fill_model.limit_fills_on_touch

    # ---- the loop ------------------------------------------------------------------------------
    def run(self) -> SymbolResult:
        n = len(self.data.frame)
        candidates = self.driver.candidates
        trade: OpenTrade | None = None
        hit_index = n
        pending: _PendingLimit | None = None
        i = 0
        report_every = max(1, n // 200)
        next_report = report_every
        while True:
            if candidates is None:
                k = i
            else:
                pos = int(np.searchsorted(candidates, i))
                k = int(candidates[pos]) if pos < len(candidates) else n
            if pending is not None and pending.event_index <= k:
                event = pending.event_index
                if pending.fill_price is not None:
                    trade, hit_index = self._fill_limit(pending, event)
                else:
                    self._reject(pending.intent.signal, ("limit entry expired unfilled",), int(self._t[event]))
                pending = None
                i = event
                continue
            if trade is not None and hit_index <= k and hit_index < n:
                self._exit_protective(trade, hit_index)
                i, trade, hit_index = hit_index, None, n
                continue
            if k >= n:
                break
            if self._progress is not None and k >= next_report:
                self._progress(k)
                next_report = k + report_every
            busy = trade is not None or pending is not None
            signals = self.driver.signals_at(k, () if trade is None else (trade.position,))
            i = k + 1
            for signal in signals:
                self.signals += 1
                if trade is not None:
                    if _is_exit(signal) or signal.direction.value != trade.intent.signal.direction.value:
                        if k + 1 < n:
                            self._exit_market(trade, k + 1)
                            trade, hit_index = None, n
                        break
                    continue
                if busy or _is_exit(signal):
                    continue
                outcome = self.risk.evaluate(signal, self._account(k))
                if isinstance(outcome, SignalRejected):
                    self._reject(signal, outcome.reasons, signal.time)
                    continue
                if k + 1 >= n:
                    self._reject(signal, ("no candle left to fill the entry",), signal.time)
                    continue
                self._remember_zones(signal, self.driver.last_snapshot)
                if outcome.entry_price is None:
                    trade, hit_index = self._enter_market(outcome, k + 1)
                else:
                    pending = self._place_limit(outcome, k + 1, n)
                busy = True
        if trade is not None and self.config.close_at_end:
            last = n - 1
            self.broker.close(trade, last, int(self._t[last]), dec(self._c[last]), ExitKind.END)
        return self._result(n)

    # ---- entries -------------------------------------------------------------------------------
    def _enter_market(self, intent: OrderIntent, j: int) -> tuple[OpenTrade, int]:
        side = OrderSide.BUY if intent.signal.direction is Direction.LONG else OrderSide.SELL
        price = self.config.fill_model.slipped(dec(self._o[j]), side, self.instrument)
        trade = self.broker.open(intent, j, int(self._t[j]), price)
        return trade, self._first_hit(trade, j)

    def _place_limit(self, intent: OrderIntent, j: int, n: int) -> _PendingLimit:
        assert intent.entry_price is not None
        limit = float(intent.entry_price)
        is_buy = intent.signal.direction is Direction.LONG
        end = min(n, j + self.config.limit_ttl_candles)
        if is_buy:
            window = self._l[j:end] <= limit if self._touch else self._l[j:end] < limit
        else:
            window = self._h[j:end] >= limit if self._touch else self._h[j:end] > limit
        found = np.flatnonzero(window)
        if not found.size:
            return _PendingLimit(intent, end - 1, None)
        m = j + int(found[0])
        price = limit_fill_price(is_buy, limit, float(self._o[m]), float(self._h[m]), float(self._l[m]),
                                 touch=self._touch)
        return _PendingLimit(intent, m, price)

    def _fill_limit(self, pending: _PendingLimit, m: int) -> tuple[OpenTrade, int]:
        assert pending.fill_price is not None
        trade = self.broker.open(pending.intent, m, int(self._t[m]), dec(pending.fill_price))
        at_open = pending.fill_price == float(self._o[m])
        # Filled inside candle m: its stop may still fire after the fill; its target only if we filled
        # at the open (otherwise the high may have come before the fill).
        stop, target = self._levels(trade)
        is_long = trade.position.qty > 0
        hit = protective_hit(is_long, stop, target, float(self._o[m]), float(self._h[m]), float(self._l[m]),
                             check_target=at_open, touch=self._touch)
        if hit is not None:
            return trade, m
        return trade, self._first_hit(trade, m + 1)

    # ---- exits ---------------------------------------------------------------------------------
    @staticmethod
    def _levels(trade: OpenTrade) -> tuple[float, float]:
        stop = float(trade.stop) if trade.stop is not None else float("nan")
        target = float(trade.target) if trade.target is not None else float("nan")
        return stop, target

    def _first_hit(self, trade: OpenTrade, start: int) -> int:
        stop, target = self._levels(trade)
        return first_protective_index(trade.position.qty > 0, stop, target, self._h, self._l, start,
                                      touch=self._touch)

    def _resolve(self, trade: OpenTrade, x: int) -> ProtectiveHit:
        stop, target = self._levels(trade)
        is_long = trade.position.qty > 0
        o, h, low = float(self._o[x]), float(self._h[x]), float(self._l[x])
        on_entry_limit_candle = (x == trade.entry_index and trade.intent.entry_price is not None
                                 and float(trade.entry_price) != o)
        hit = protective_hit(is_long, stop, target, o, h, low, check_target=not on_entry_limit_candle,
                             touch=self._touch)
        assert hit is not None, "scan and resolution disagree"
        detail = self.data.detail
        if hit.kind is ExitKind.STOP and detail is not None and not on_entry_limit_candle:
            both = protective_hit(is_long, float("nan"), target, o, h, low, touch=self._touch) is not None
            if both:
                start = int(self._t[x])
                lo = int(np.searchsorted(detail.open_time, start))
                hi = int(np.searchsorted(detail.open_time, start + self.data.timeframe.ms))
                finer = resolve_with_detail(is_long, stop, target, detail.open[lo:hi], detail.high[lo:hi],
                                            detail.low[lo:hi], touch=self._touch)
                if finer is not None:
                    hit = finer
        return hit

    def _exit_protective(self, trade: OpenTrade, x: int) -> None:
        hit = self._resolve(trade, x)
        price = dec(hit.price)
        if hit.kind is ExitKind.STOP:
            side = OrderSide.SELL if trade.position.qty > 0 else OrderSide.BUY
            price = self.config.fill_model.slipped(price, side, self.instrument)
        self.broker.close(trade, x, int(self._t[x]), price, hit.kind)

    def _exit_market(self, trade: OpenTrade, j: int) -> None:
        side = OrderSide.SELL if trade.position.qty > 0 else OrderSide.BUY
        price = self.config.fill_model.slipped(dec(self._o[j]), side, self.instrument)
        self.broker.close(trade, j, int(self._t[j]), price, ExitKind.SIGNAL)

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _account(self, k: int) -> AccountView:
        cash = self.broker.cash
        return AccountView(
            time=int(self._t[k]) + self.data.timeframe.ms, cash=cash, equity=cash, open_positions=0,
            instrument=self.instrument, market=self.config.market, fee_rate=self.config.fill_model.fee_rate,
        )

    def _reject(self, signal: Signal, reasons: tuple[str, ...], time: int) -> None:
        self.rejections.append(Rejection(time, signal.strategy_id, tuple(reasons)))

    def _remember_zones(self, signal: Signal, snapshot: IndicatorSnapshot | None) -> None:
        """Zones named by the signal (metadata ``zone_*`` or zone ids in ``reason``) for the report."""
        meta = dict(signal.metadata)
        if "zone_top" in meta and "zone_bottom" in meta:
            self.zones.append(ZoneMark(
                signal.time, meta.get("zone_kind", "zone"), int(meta.get("zone_direction", "1")),
                meta.get("zone_timeframe", signal.timeframe), float(meta["zone_top"]), float(meta["zone_bottom"]),
                int(meta.get("zone_start", str(signal.time))),
            ))
        if snapshot is None:
            return
        wanted = set(signal.reason) | set(meta.values())
        for view in snapshot.views.values():
            for zone in (*view.fvgs, *view.ifvgs, *view.order_blocks, *view.breakers):
                if zone.id in wanted:
                    self.zones.append(ZoneMark(signal.time, zone.kind, zone.direction, zone.timeframe,
                                               zone.top, zone.bottom, zone.anchor_time))

    def _result(self, n: int) -> SymbolResult:
        cash_delta = np.zeros(n, dtype=np.float64)
        qty_delta = np.zeros(n, dtype=np.float64)
        if self.broker.book:
            idx = np.array([b.index for b in self.broker.book], dtype=np.int64)
            np.add.at(cash_delta, idx, np.array([b.cash_delta for b in self.broker.book]))
            np.add.at(qty_delta, idx, np.array([b.qty_delta for b in self.broker.book]))
        qty = np.cumsum(qty_delta)
        qty[np.abs(qty) < 1e-12] = 0.0
        equity = float(self.config.initial_cash) + np.cumsum(cash_delta) + qty * self._c
        frame = self.data.frame
        return SymbolResult(
            symbol=self.data.symbol, strategy_ids=tuple(s.id for s in self.driver.strategies),
            initial_cash=self.config.initial_cash, trades=list(self.broker.trades), times=frame.open_time,
            equity=equity, position_qty=qty, rejections=self.rejections, zones=self.zones, signals=self.signals,
            candles=n, open=frame.open, high=frame.high, low=frame.low, close=frame.close,
            timeframe_ms=self.data.timeframe.ms,
        )
