"""The comparison behind ``--via-live``: the backtest's orders and fills against what the live
pipeline sent to the exchange simulator (``backtest.live_parity`` runs both sides).

Every trade must have the same orders (client id, symbol, side, type, quantity, price, stop price) and
the same fills where the two fill models agree; every allowed difference is a ``Difference``, each
checked by its formula instead of skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import Enum

from ictbot.backtest.data import MarketData
from ictbot.backtest.fills import dec
from ictbot.backtest.results import SymbolResult, Trade
from ictbot.backtest.run import BacktestSpec, risk_limits
from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.money import round_to_step
from ictbot.domain.order import Order, OrderLeg
from ictbot.domain.signal import Signal
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.ids import parse_client_id, position_id_for
from ictbot.execution.planning import split_tranches
from ictbot.risk.limits import RiskLimits
from ictbot.risk.state import MarketQuote, RiskState
from ictbot.risk.validator import validate


class Difference(str, Enum):
    """Every way the two runs are allowed to differ, each checked by its formula."""

    ENTRY_PRICE = "entry_price"  # live: best ask at the deciding close; backtest: the next open
    EXIT_QTY = "exit_qty"  # live legs carry the entry qty minus the base-asset buy commission
    PATH_ORDER = "path_order"  # both levels in one bearish candle: simulator path hits the target first
    END_OF_DATA = "end_of_data"  # the backtest closes at the last close; live keeps its orders resting
    OCO_SIBLING = "oco_sibling"  # live journals the OCO leg that did not fill (EXPIRED); backtest does not
    # Risk-based sizing reads each side's own equity, which earlier fills (entry_price, exit_qty) made
    # differ: the live entry's quantity is re-derived by the validator from the live equity.
    SIZE_FROM_EQUITY = "size_from_equity"
    # Live stamps a stop-out at its fill inside the candle, the backtest at the candle's open: a signal
    # a cooldown later falls after the backtest's cooldown but inside the live one.
    COOLDOWN_EDGE = "cooldown_edge"


@dataclass(frozen=True, slots=True)
class VenueFill:
    time: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the simulator received it from the live pipeline, and its fate."""

    client_order_id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: str
    fills: tuple[VenueFill, ...] = ()
    journal_status: str | None = None  # the bot's own order journal (SQLite), None when absent


@dataclass
class LiveRun:
    orders: list[VenueOrder]
    signal_ids: list[tuple[int, str]]
    candles: int
    seconds: float
    instrument: Instrument | None = None
    startup_seconds: float = 0.0  # application start until the bot's streams are connected
    rejected: dict[str, str] = field(default_factory=dict)  # signal id → the live risk gate's reasons
    equity: dict[str, Decimal] = field(default_factory=dict)  # signal id → the live risk equity at the signal


@dataclass
class OrderParityReport:
    trades: int
    live_orders: int
    compared_orders: int = 0
    agreeing_fills: int = 0
    differences: dict[Difference, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        verdict = "ORDER PARITY OK" if self.ok else "ORDER PARITY BROKEN"
        documented = ", ".join(f"{d.value}={n}" for d, n in sorted(self.differences.items())) or "none"
        return (f"{verdict}: {self.trades} trades, {self.live_orders} orders sent to the simulator, "
                f"{self.compared_orders} compared, {self.agreeing_fills} fills identical; documented "
                f"differences: {documented}; problems: {self.problems[:5]}")


# ---- the comparison ----------------------------------------------------------------------------------


def compare_orders(result: SymbolResult, data: MarketData, live: LiveRun, spec: BacktestSpec,
                   instrument: Instrument) -> OrderParityReport:
    report = OrderParityReport(len(result.trades), len(live.orders))
    by_position: dict[str, list[VenueOrder]] = defaultdict(list)
    for order in live.orders:
        parsed = parse_client_id(order.client_order_id)
        if parsed is None:
            report.problems.append(f"foreign client id on the venue: {order.client_order_id}")
            continue
        by_position[parsed[0]].append(order)
        if order.journal_status is None:
            report.problems.append(f"{order.client_order_id}: sent but not in the bot's order journal")
        elif order.journal_status != order.status:
            report.problems.append(f"{order.client_order_id}: journal {order.journal_status} vs venue {order.status}")
    backtest_orders: dict[str, list[Order]] = defaultdict(list)
    for mine in result.orders():
        backtest_orders[mine.position_id].append(mine)
    signals = {signal.id: signal for signal, _ in result.signal_log}
    context = _Context(data, instrument, spec.fee_rate, ExecutionConfig().stop_limit_slippage, risk_limits(spec),
                       live, signals)
    seen: set[str] = set()
    previous: Trade | None = None
    for trade in result.trades:
        position_id = position_id_for(trade.strategy_id, trade.signal_id)
        seen.add(position_id)
        theirs = {o.client_order_id: o for o in by_position.get(position_id, [])}
        if not theirs:
            _check_not_taken(report, context, trade, previous)
            previous = trade
            continue
        previous = trade
        targets = tuple(instrument.round_price(t) for t in signals[trade.signal_id].take_profits)
        _compare_trade(report, context, trade, targets, backtest_orders[position_id], theirs)
    for position_id in sorted(by_position.keys() - seen):
        report.problems.append(f"live position {position_id} has no backtest trade")
    return report


@dataclass(frozen=True)
class _Context:
    data: MarketData
    instrument: Instrument
    fee: Decimal
    stop_slip: Decimal
    limits: RiskLimits
    live: LiveRun
    signals: dict[str, Signal]

    def index(self, open_time: int) -> int:
        return int(self.data.frame.open_time.searchsorted(open_time))

    def candle(self, time_ms: int) -> int:
        tf = self.data.timeframe.ms
        return time_ms - time_ms % tf


def _compare_trade(report: OrderParityReport, ctx: _Context, trade: Trade, targets: tuple[Decimal, ...],
                   mine: list[Order], theirs: dict[str, VenueOrder]) -> None:
    tag = f"trade {trade.number}"
    instrument = ctx.instrument
    entry = next(o for o in mine if o.leg is OrderLeg.ENTRY)
    live_entry = theirs.get(entry.client_order_id)
    if live_entry is None:
        report.problems.append(f"{tag}: entry {entry.client_order_id} not sent live")
        return
    if not _compare_entry(report, ctx, tag, trade, entry, live_entry):
        return
    # Binance spot takes a buy's commission in the base asset: the position (and so every exit leg)
    # is the bought quantity minus it, floored to the lot step, split over the targets as the plan does.
    fill = live_entry.fills[0]
    commission = fill.commission if fill.commission_asset == instrument.base_asset else Decimal(0)
    if commission and commission != live_entry.quantity * ctx.fee:
        report.problems.append(f"{tag}: live buy commission {commission} is not {ctx.fee} of the quantity")
    assert trade.stop_loss is not None
    live_tranches = split_tranches(instrument.floor_qty(live_entry.quantity - commission), len(targets),
                                   instrument, trade.stop_loss)
    plan = _live_plan(theirs, live_tranches, targets)
    if plan is None:
        report.problems.append(f"{tag}: live protection {sorted(theirs)} is not one OCO per target")
        return
    filled_mine = {o.client_order_id: o for o in mine if o.leg is not OrderLeg.ENTRY}
    end_of_data = trade.exit_reason == "end_of_data"
    if end_of_data:  # the backtest closes at the last close; live, the position and its legs stay
        report.differences[Difference.END_OF_DATA] += 1
    mine_tranches = split_tranches(trade.qty, len(targets), instrument, trade.stop_loss)
    for k, legs in enumerate(plan):
        for live_leg, qty, target in legs:
            report.compared_orders += 1
            _check_leg_plan(report, ctx, tag, trade, live_leg, qty, target)
            mine_leg = filled_mine.get(live_leg.client_order_id)
            if mine_leg is not None and mine_leg.quantity != mine_tranches[k]:
                report.problems.append(f"{tag}: backtest leg {mine_leg.client_order_id} qty {mine_leg.quantity}, "
                                       f"its tranche {mine_tranches[k]}")
            if qty != mine_tranches[k]:
                report.differences[Difference.EXIT_QTY] += 1
            _compare_leg_outcome(report, ctx, tag, live_leg, mine_leg, end_of_data, legs)


def _compare_entry(report: OrderParityReport, ctx: _Context, tag: str, trade: Trade, entry: Order,
                   live_entry: VenueOrder) -> bool:
    """The entry as sent and as filled (candle, price: the ask at the decision close vs the next open);
    False when it did not fill live (nothing more to compare)."""
    frame, instrument = ctx.data.frame, ctx.instrument
    report.compared_orders += 1
    expected = (entry.symbol, entry.side.value, entry.type.value, None, None)
    sent = (live_entry.symbol, live_entry.side, live_entry.type, live_entry.price, live_entry.stop_price)
    if expected != sent:
        report.problems.append(f"{tag}: entry {entry.client_order_id} {expected} vs live {sent}")
    if live_entry.quantity != entry.quantity:
        _check_size(report, ctx, trade, entry.quantity, live_entry)
    if live_entry.status != "FILLED" or not live_entry.fills:
        report.problems.append(f"{tag}: live entry {live_entry.status}")
        return False
    fill = live_entry.fills[0]
    decided = ctx.index(trade.entry_time) - 1  # the candle at whose close the signal was decided
    close = dec(frame.close[decided])
    best_ask = round_to_step(close, instrument.tick_size, ROUND_DOWN) + instrument.tick_size
    if ctx.candle(fill.time) != trade.entry_time:
        report.problems.append(f"{tag}: live entry filled in candle {ctx.candle(fill.time)}, "
                               f"backtest {trade.entry_time}")
    if fill.price != best_ask or trade.entry_price != dec(frame.open[decided + 1]):
        report.problems.append(f"{tag}: entry prices live {fill.price} (ask at close {close}) / "
                               f"backtest {trade.entry_price} (next open)")
    elif fill.price == trade.entry_price:
        report.agreeing_fills += 1
    else:
        report.differences[Difference.ENTRY_PRICE] += 1
    return True


def _check_leg_plan(report: OrderParityReport, ctx: _Context, tag: str, trade: Trade, live_leg: VenueOrder,
                    qty: Decimal, target: Decimal | None) -> None:
    """A live protective leg is what the plan says: a SELL stop-limit at the stop, or a LIMIT_MAKER at
    its target, with the tranche's quantity."""
    assert trade.stop_loss is not None
    instrument = ctx.instrument
    stop_leg = live_leg.type == "STOP_LOSS_LIMIT"
    want = (("STOP_LOSS_LIMIT", trade.stop_loss,
             instrument.floor_price(trade.stop_loss * (1 - ctx.stop_slip))) if stop_leg
            else ("LIMIT_MAKER", None, target))
    got = (live_leg.side, live_leg.type, live_leg.stop_price, live_leg.price)
    if got != ("SELL", *want):
        report.problems.append(f"{tag}: leg {live_leg.client_order_id} {got}, plan {want}")
    if live_leg.quantity != qty:
        report.problems.append(f"{tag}: leg {live_leg.client_order_id} qty {live_leg.quantity}, plan {qty}")


def _compare_leg_outcome(report: OrderParityReport, ctx: _Context, tag: str, live_leg: VenueOrder,
                         mine_leg: Order | None, end_of_data: bool,
                         legs: list[tuple[VenueOrder, Decimal, Decimal | None]]) -> None:
    """What became of a live leg against the backtest's filled leg of the same id (if any)."""
    if end_of_data:
        if live_leg.status != "NEW":
            report.problems.append(f"{tag}: backtest closed at the end of data, live leg "
                                   f"{live_leg.client_order_id} {live_leg.status}")
        return
    if mine_leg is None:  # the backtest journals only filled legs
        report.differences[Difference.OCO_SIBLING] += 1
        # FILLED only as the partner of a `path_order` stop, which its own check decides.
        if live_leg.status not in ("EXPIRED", "FILLED"):
            report.problems.append(f"{tag}: OCO leg {live_leg.client_order_id} {live_leg.status}")
        return
    want_order = (mine_leg.side.value, mine_leg.type.value, mine_leg.stop_price, mine_leg.price)
    got_order = (live_leg.side, live_leg.type, live_leg.stop_price, live_leg.price)
    if want_order != got_order:
        report.problems.append(f"{tag}: leg {live_leg.client_order_id} {got_order}, backtest {want_order}")
    _compare_exit_fill(report, ctx, tag, mine_leg, live_leg, legs)


def _live_plan(theirs: dict[str, VenueOrder], tranches: list[Decimal], targets: tuple[Decimal, ...]
               ) -> list[list[tuple[VenueOrder, Decimal, Decimal | None]]] | None:
    """The live OCO pairs by attempt (tranche k = k-th attempt), with the quantity and target they must carry."""
    by_attempt: dict[int, list[VenueOrder]] = defaultdict(list)
    for order in theirs.values():
        parsed = parse_client_id(order.client_order_id)
        if parsed is not None and parsed[1] in (OrderLeg.STOP, OrderLeg.TAKE_PROFIT):
            by_attempt[parsed[2]].append(order)
    attempts = sorted(by_attempt)
    if len(attempts) != len(tranches):
        return None
    plan = []
    for k, attempt in enumerate(attempts):
        target = targets[k] if k < len(targets) else None
        plan.append([(order, tranches[k], target) for order in sorted(by_attempt[attempt],
                                                                       key=lambda o: o.client_order_id)])
    return plan


def _compare_exit_fill(report: OrderParityReport, ctx: _Context, tag: str, mine: Order, live_leg: VenueOrder,
                       pair: list[tuple[VenueOrder, Decimal, Decimal | None]]) -> None:
    price = mine.average_price
    if live_leg.status == "FILLED" and live_leg.fills:
        fill = live_leg.fills[-1]
        if ctx.candle(fill.time) != mine.updated_at:
            report.problems.append(f"{tag}: {mine.client_order_id} filled live in candle {ctx.candle(fill.time)}, "
                                   f"backtest {mine.updated_at}")
        elif fill.price != price:
            report.problems.append(f"{tag}: {mine.client_order_id} live fill {fill.price}, backtest {price}")
        else:
            report.agreeing_fills += 1
        return
    # The backtest's leg did not fill live: allowed only when the candle reached both levels and the
    # simulator's path (bearish candle: open → high → low → close) met the target first.
    frame = ctx.data.frame
    x = ctx.index(mine.updated_at)
    o, h, low, c = (float(frame.open[x]), float(frame.high[x]), float(frame.low[x]), float(frame.close[x]))
    target = next((t for _, _, t in pair if t is not None), None)
    both = mine.stop_price is not None and target is not None and low <= float(mine.stop_price) and h > float(target)
    sibling = next((leg for leg, _, _ in pair if leg is not live_leg), None)
    target_filled = (sibling is not None and sibling.status == "FILLED" and bool(sibling.fills)
                     and ctx.candle(sibling.fills[-1].time) == mine.updated_at)
    if mine.leg is OrderLeg.STOP and both and c < o and target_filled:
        report.differences[Difference.PATH_ORDER] += 1
    else:
        report.problems.append(f"{tag}: backtest {mine.client_order_id} filled, live {live_leg.status}")




def _check_size(report: OrderParityReport, ctx: _Context, trade: Trade, mine: Decimal, live: VenueOrder) -> None:
    """A different entry quantity must be what the validator sizes from the live equity at the signal."""
    tag = f"trade {trade.number}: entry {live.client_order_id}"
    theirs = live.quantity
    equity = ctx.live.equity.get(trade.signal_id)
    if equity is None:
        report.problems.append(f"{tag}: entry quantity live {theirs}, backtest {mine} (live equity unknown)")
        return
    decided = ctx.index(trade.entry_time) - 1
    quote = MarketQuote(dec(ctx.data.frame.close[decided]), trade.entry_time)
    sized = validate(ctx.signals[trade.signal_id], RiskState(now_ms=trade.entry_time, equity=equity), ctx.limits,
                     ctx.instrument, quote)
    if isinstance(sized, OrderIntent) and sized.quantity == theirs:
        report.differences[Difference.SIZE_FROM_EQUITY] += 1
    else:
        expected = sized.quantity if isinstance(sized, OrderIntent) else sized.reasons
        report.problems.append(f"{tag}: entry quantity live {theirs}, backtest {mine}; sized from the live "
                               f"equity {equity} it is {expected}")


COOLDOWN = "cooldown after a stop-out"


def _check_not_taken(report: OrderParityReport, ctx: _Context, trade: Trade, previous: Trade | None) -> None:
    """A backtest trade without live orders: allowed only on the cooldown edge (see ``COOLDOWN_EDGE``)."""
    why = ctx.live.rejected.get(trade.signal_id, "not rejected by risk either")
    tag = f"trade {trade.number} ({position_id_for(trade.strategy_id, trade.signal_id)})"
    cooldown = ctx.limits.cooldown_after_stop_minutes * 60_000
    stops = [f.time for o in ctx.live.orders for f in o.fills
             if o.type.startswith("STOP") and f.time < trade.entry_time]
    on_edge = (why.startswith(COOLDOWN) and ";" not in why and previous is not None and previous.exit_reason == "stop"
               and bool(stops) and previous.exit_time + cooldown <= trade.entry_time < max(stops) + cooldown)
    if on_edge:
        report.differences[Difference.COOLDOWN_EDGE] += 1
    else:
        report.problems.append(f"{tag}: no live orders ({why})")
