"""The backtest loop for one symbol: replayed candles → live strategies → risk → orders → positions.

Speed comes from *where* the loop stops, not from a different code path: the loop visits a candle
only when something can happen there — a strategy may decide (every candle for streaming/ICT
strategies; the precomputed candidates of a ``VectorisedStrategy``), an open trade's stop or target
fires (found with a vectorised scan when the trade opens), or a resting limit entry fills or expires.
Between those candles nothing in the live stages could change, so nothing is called.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np

from ictbot.backtest.broker import OpenTrade, SimulatedBroker
from ictbot.backtest.cursor import Cursor, PendingLimit, next_decision
from ictbot.backtest.data import MarketData
from ictbot.backtest.driver import BareSnapshots, SnapshotSource, StrategyDriver
from ictbot.backtest.fills import (
    ExitKind,
    FillModel,
    ProtectiveHit,
    dec,
    first_protective_index,
    limit_fill_price,
    protective_hit,
    resolve_with_detail,
)
from ictbot.backtest.reference import EXIT_METADATA
from ictbot.backtest.results import Rejection, SymbolResult, ZoneMark, zone_marks
from ictbot.backtest.sizing import AccountView, RiskGate, RiskStage
from ictbot.domain.events import OrderIntent, SignalRejected
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderSide
from ictbot.domain.signal import Direction, Signal
from ictbot.execution.planning import entry_problems
from ictbot.instruments import default_catalogue
from ictbot.positions.rules import StopRules, next_stop
from ictbot.risk.limits import RiskLimits
from ictbot.strategies.base import Strategy

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
    # Breakeven / trailing stop moves, decided at each candle's close as the live position monitor
    # does (it marks on closed candles) and in force from the next candle.
    stop_rules: StopRules = field(default_factory=StopRules)


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
        self.instrument = self.config.instrument or default_catalogue().instrument(data.symbol, self.config.market)
        self.risk: RiskStage = risk or RiskGate(RiskLimits(), self.instrument)
        self.driver = StrategyDriver(
            strategies, data.frame, data.symbol, data.timeframe,
            snapshots or BareSnapshots(data.symbol, data.timeframe), per_candle=self.config.per_candle,
        )
        self.broker = SimulatedBroker(self.instrument, self.config.fill_model, self.config.initial_cash,
                                      self.config.market)
        self.rejections: list[Rejection] = []
        self.zones: list[ZoneMark] = []
        self.signals = 0
        self.signal_log: list[tuple[Signal, bool]] = []  # every signal, and whether the strategy was flat
        self.held: set[int] = set()
        self._stopped_at = -1  # candle from which a lasting breaker trip left nothing to decide
        self._progress = progress
        frame = data.frame
        self._o, self._h, self._l, self._c = frame.open, frame.high, frame.low, frame.close
        self._t = frame.open_time
        self._hl = (frame.high.tolist(), frame.low.tolist())
        self._touch = self.config.fill_model.limit_fills_on_touch
        self._tf_ms = data.timeframe.ms
        self._snapshot_zones = snapshots is not None  # bare snapshots carry no zones
        self._rules = self.config.stop_rules if self.config.stop_rules.active else None

    # ---- the loop ------------------------------------------------------------------------------
    def run(self) -> SymbolResult:
        # With a vectorised strategy the loop allocates only per decision and per trade (bounded,
        # acyclic: orders, fills, positions), and the cyclic collector's passes over the young
        # generation cost 10-20 % of such a run; it is paused for the loop and restored after.
        pause_gc = self.driver.candidates is not None and gc.isenabled()
        if pause_gc:
            gc.disable()
        try:
            return self._run()
        finally:
            if pause_gc:
                # What the loop left alive is the result (trades, the order journal, the equity book),
                # tens of thousands of objects. Re-enabled as is, the collector's next young-generation
                # pass would walk them all (20-60 ms) only to promote them; moved straight to the oldest
                # generation instead (freeze + unfreeze is two list splices), they are scanned only by
                # the rare full collections, like any long-lived data.
                gc.freeze()
                gc.unfreeze()
                gc.enable()

    def _run(self) -> SymbolResult:
        n = len(self.data.frame)
        # Python lists + bisect: cheaper per lookup than numpy calls on a handful of values.
        entry_candidates = None if self.driver.candidates is None else self.driver.candidates.tolist()
        exit_candidates = None if self.driver.exit_candidates is None else self.driver.exit_candidates.tolist()
        at = Cursor(scan_from=n)
        report_every = max(1, n // 200)
        next_report = report_every
        while True:
            if at.trade is None and at.pending is None and self.risk.stopped is not None:
                self._stopped_at = at.i
                break
            k = next_decision(at, exit_candidates if at.trade is not None else entry_candidates, n)
            if at.pending is not None and at.pending.event_index <= k:
                self._settle_pending(at, at.pending)
                continue
            if at.trade is not None and self._protective_exit(at, at.trade, min(k, n - 1), k):
                continue
            if k >= n:
                break
            if self._progress is not None and k >= next_report:
                self._progress(k)
                next_report = k + report_every
            self._decide(at, k, n)
        if at.trade is not None and self.config.close_at_end:
            last = n - 1
            self._close(at.trade, last, dec(self._c[last]), ExitKind.END)
        return self._result(n)

    def _settle_pending(self, at: Cursor, pending: PendingLimit) -> None:
        """The resting entry's event candle: it filled (a trade opens) or it expired."""
        event = pending.event_index
        if pending.fill_price is not None:
            at.trade, at.hit_index, at.scan_from = self._fill_limit(pending, event)
        else:
            self._reject(pending.intent.signal, ("limit entry expired unfilled",), int(self._t[event]))
        at.pending = None
        at.i = event

    def _protective_exit(self, at: Cursor, trade: OpenTrade, last_scan: int, k: int) -> bool:
        """Find where the trade's stop / target fires up to the next decision candle ``k`` and exit
        there if it comes first; True when the loop must look again from the cursor."""
        if at.hit_index < 0 and at.scan_from <= last_scan:
            # Scan only up to the next decision candle: a trade that a signal closes first
            # never needs the rest of the series scanned.
            upto = last_scan + 1
            found = self._scan(trade, at.scan_from, upto)
            at.hit_index, at.scan_from = (found, at.scan_from) if found >= 0 else (-1, upto)
        if not 0 <= at.hit_index <= k:
            return False
        if self._exit_protective(trade, at.hit_index):
            at.i, at.trade, at.hit_index = at.hit_index, None, -1
        else:  # one target tranche filled: look again from the same candle for the rest
            at.hit_index, at.scan_from = -1, at.hit_index
        return True

    def _decide(self, at: Cursor, k: int, n: int) -> None:
        """The strategy's signals at the close of candle ``k``: exit the open trade or enter one."""
        busy = at.trade is not None or at.pending is not None
        signals = self.driver.signals_at(k, () if at.trade is None else (at.trade.position,))
        at.i = k + 1
        if busy:
            self.held.add(int(self._t[k]) + self._tf_ms)
        for signal in signals:
            self.signals += 1
            self.signal_log.append((signal, not busy))
            trade = at.trade
            if trade is not None:
                if _is_exit(signal) or signal.direction.value != trade.intent.signal.direction.value:
                    if k + 1 < n:
                        self._exit_market(trade, k + 1)
                        at.trade, at.hit_index = None, -1
                    break
                continue
            if busy or _is_exit(signal):
                continue
            busy = self._enter(at, signal, k, n)

    def _enter(self, at: Cursor, signal: Signal, k: int, n: int) -> bool:
        """Risk-check and size the signal, then enter at the next open or rest a limit; True if entered."""
        outcome = self.risk.evaluate(signal, self._account(k))
        if isinstance(outcome, SignalRejected):
            self._reject(signal, outcome.reasons, signal.time)
            return False
        if k + 1 >= n:
            self._reject(signal, ("no candle left to fill the entry",), signal.time)
            return False
        self.zones += zone_marks(signal, self.driver.last_snapshot if self._snapshot_zones else None)
        order = self.broker.entry_order(outcome, signal.time)
        problems = entry_problems(order, self.instrument, dec(self._c[k]))
        if problems:
            self.broker.reject(order, "; ".join(problems), signal.time)
            self._reject(signal, tuple(problems), signal.time)
            return False
        if outcome.entry_price is None:
            at.trade = self._enter_market(order, outcome, k + 1)
            at.hit_index, at.scan_from = -1, k + 1
        else:
            at.pending = self._place_limit(order, outcome, k + 1, n)
        return True

    # ---- entries -------------------------------------------------------------------------------
    def _enter_market(self, order: Order, intent: OrderIntent, j: int) -> OpenTrade:
        price = self.config.fill_model.slipped(dec(self._o[j]), order.side, self.instrument)
        return self.broker.open(order, intent, j, int(self._t[j]), price)

    def _place_limit(self, order: Order, intent: OrderIntent, j: int, n: int) -> PendingLimit:
        assert order.price is not None
        limit = float(order.price)
        is_buy = intent.signal.direction is Direction.LONG
        end = min(n, j + self.config.limit_ttl_candles)
        if is_buy:
            window = self._l[j:end] <= limit if self._touch else self._l[j:end] < limit
        else:
            window = self._h[j:end] >= limit if self._touch else self._h[j:end] > limit
        found = np.flatnonzero(window)
        if not found.size:
            return PendingLimit(order, intent, end - 1, None)
        m = j + int(found[0])
        price = limit_fill_price(is_buy, limit, float(self._o[m]), float(self._h[m]), float(self._l[m]),
                                 touch=self._touch)
        return PendingLimit(order, intent, m, price)

    def _fill_limit(self, pending: PendingLimit, m: int) -> tuple[OpenTrade, int, int]:
        """Open the trade; returns it with (hit index or -1, first candle still to scan)."""
        assert pending.fill_price is not None
        trade = self.broker.open(pending.order, pending.intent, m, int(self._t[m]), dec(pending.fill_price))
        at_open = pending.fill_price == float(self._o[m])
        # Filled inside candle m: its stop may still fire after the fill; its target only if we filled
        # at the open (otherwise the high may have come before the fill).
        stop, target = self._levels(trade)
        is_long = trade.position.qty > 0
        hit = protective_hit(is_long, stop, target, float(self._o[m]), float(self._h[m]), float(self._l[m]),
                             check_target=at_open, touch=self._touch)
        if hit is not None:
            return trade, m, m
        self._move_stop(trade, m)
        return trade, -1, m + 1

    # ---- exits ---------------------------------------------------------------------------------
    @staticmethod
    def _levels(trade: OpenTrade) -> tuple[float, float]:
        return trade.float_levels()

    def _scan(self, trade: OpenTrade, start: int, stop_index: int) -> int:
        """First candle in ``[start, stop_index)`` where the trade's stop or target fires, else -1."""
        if self._rules is not None:
            return self._scan_moving_stop(trade, start, stop_index)
        return self._scan_fixed(trade, start, stop_index)

    def _scan_fixed(self, trade: OpenTrade, start: int, stop_index: int) -> int:
        """``_scan`` while the trade's stop and target stay where they are."""
        stop, target = self._levels(trade)
        is_long = trade.position.qty > 0
        # Most trades end within a few candles: a plain loop over Python floats is cheaper than
        # numpy calls for those; the vectorised scan takes over for longer stretches.
        highs, lows, touch = self._hl[0], self._hl[1], self._touch
        end = min(stop_index, start + 16)
        for j in range(start, end):
            h, low = highs[j], lows[j]
            if is_long:
                if low <= stop or h > target or (touch and h == target):
                    return j
            elif h >= stop or low < target or (touch and low == target):
                return j
        if end >= stop_index:
            return -1
        found = first_protective_index(is_long, stop, target, self._h[:stop_index], self._l[:stop_index], end,
                                       touch=touch)
        return found if found < stop_index else -1

    def _scan_moving_stop(self, trade: OpenTrade, start: int, stop_index: int) -> int:
        """``_scan`` candle by candle, moving the stop at each close that leaves the trade open."""
        for j in range(start, stop_index):
            if self._scan_fixed(trade, j, j + 1) >= 0:
                return j
            self._move_stop(trade, j)
        return -1

    def _move_stop(self, trade: OpenTrade, j: int) -> None:
        rules = self._rules
        position = trade.position
        if rules is None or trade.stop is None or trade.intent.stop_loss <= 0:
            return
        initial_risk = abs(position.avg_entry - trade.intent.stop_loss)
        moved = next_stop(position, dec(self._c[j]), initial_risk, rules)
        if moved is not None:
            trade.stop = moved
            trade.position = replace(position, stop_loss=moved)
            trade.levels = None

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

    def _exit_protective(self, trade: OpenTrade, x: int) -> bool:
        """Fill what fires in candle ``x``; True when the trade is finished."""
        hit = self._resolve(trade, x)
        price = dec(hit.price)
        if hit.kind is ExitKind.STOP:
            side = OrderSide.SELL if trade.position.qty > 0 else OrderSide.BUY
            price = self.config.fill_model.slipped(price, side, self.instrument)
            self._close(trade, x, price, hit.kind)
            return True
        record = self.broker.take_profit(trade, x, int(self._t[x]), price)
        if record is None:
            return False
        self.risk.on_trade_closed(record.symbol, record.pnl, False, int(self._t[x]), self.broker.cash)
        return True

    def _exit_market(self, trade: OpenTrade, j: int) -> None:
        side = OrderSide.SELL if trade.position.qty > 0 else OrderSide.BUY
        price = self.config.fill_model.slipped(dec(self._o[j]), side, self.instrument)
        self._close(trade, j, price, ExitKind.SIGNAL)

    def _close(self, trade: OpenTrade, index: int, price: Decimal, reason: ExitKind) -> None:
        time = int(self._t[index])
        record = self.broker.close(trade, index, time, price, reason)
        self.risk.on_trade_closed(record.symbol, record.pnl, reason is ExitKind.STOP, time, self.broker.cash)

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _account(self, k: int) -> AccountView:
        """Decisions happen only while flat (one position per symbol): equity is the cash."""
        return AccountView(time=int(self._t[k]) + self.data.timeframe.ms, equity=self.broker.cash,
                           price=dec(self._c[k]))

    def _reject(self, signal: Signal, reasons: tuple[str, ...], time: int) -> None:
        self.rejections.append(Rejection(time, signal.strategy_id, tuple(reasons)))

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
        # Candles at whose close the strategy was not flat: from the entry decision to the exit candle
        # (also the ones the fast path never visited).
        first = np.searchsorted(self._t, [t.signal_time - self._tf_ms for t in self.broker.trades]).tolist()
        spans = [(f + 1, t.exit_index) for f, t in zip(first, self.broker.trades, strict=True)]
        stop = self.risk.stopped if self._stopped_at >= 0 else None
        if stop is not None:  # the strategy was not asked from here on: like a held stretch for parity checks
            spans.append((self._stopped_at, n))
        return SymbolResult(
            symbol=self.data.symbol, strategy_ids=tuple(s.id for s in self.driver.strategies),
            initial_cash=self.config.initial_cash, trades=list(self.broker.trades), times=frame.open_time,
            equity=equity, position_qty=qty, rejections=self.rejections, zones=self.zones, signals=self.signals,
            candles=n, open=frame.open, high=frame.high, low=frame.low, close=frame.close,
            timeframe_ms=self.data.timeframe.ms, signal_log=self.signal_log, held_visited=self.held, held_spans=spans,
            orders=self.broker.replay_orders, instrument=self.instrument,
            trading_stopped=None if stop is None else (stop.tripped_at, f"{stop.reason}: {stop.message}"),
        )
