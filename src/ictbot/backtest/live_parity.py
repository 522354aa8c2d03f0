"""Order-level parity: the same candles through the real live pipeline against the exchange simulator.

The live side is the application exactly as ``ictbot run`` in paper mode wires it
(``app.wiring.build_pipeline``): market data over the simulator's WebSocket, candles stored in
SQLite, indicators, strategies, the risk service, the execution service with its order journal,
the Binance adapter (signed REST + user-data stream) and the position monitor, all on one bus. The
simulator replays the data file in stepped mode, one candle per step; after each step the driver
waits until the bot has digested the candle and every order it caused (bus idle, the bot's open
orders equal the simulator's, every open position protected). Nothing in a stage is replaced.

Two settings are pinned so the runs are comparable, both stated in docs/backtesting.md:

* the position monitor's stop rules are off (their default): a moved stop is a cancel and a new
  protective order live, but only a new level in the backtest, so the order lists could not be
  compared one to one (the CLI refuses ``--via-live`` with stop rules);
* the housekeeping timers are stretched (``timer_scale``) because the replay's market time runs far
  faster than the wall: otherwise the periodic order polls would spend the request-weight budget of
  a market minute and wait for market time that only moves when the driver steps.

``compare_orders`` then requires, for every trade, the same orders (client id, symbol, side, type,
quantity, price, stop price) and the same fills where the two fill models agree, and it checks every
documented difference by its formula instead of skipping it (see ``Difference``).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from ictbot.backtest.data import MarketData
from ictbot.backtest.fills import dec, default_instrument
from ictbot.backtest.ict import higher_timeframes
from ictbot.backtest.results import SymbolResult, Trade
from ictbot.backtest.run import BacktestSpec, build_strategy, risk_limits, run_backtest
from ictbot.bus import Envelope, Topic
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Symbol
from ictbot.domain.money import round_to_step
from ictbot.domain.order import Order, OrderLeg
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.ids import parse_client_id, position_id_for
from ictbot.execution.planning import split_tranches

STEP_TIMEOUT_S = 30.0
QUIET_TURNS = 3  # event-loop rounds between two looks at the bot (see _next_turns)
# Stretches the bot's wall-clock housekeeping (polls, reconcile, timers) far beyond the run.
TIMER_SCALE = 10_000.0


class Difference(str, Enum):
    """Every way the two runs are allowed to differ, each checked by its formula."""

    ENTRY_PRICE = "entry_price"  # live: best ask at the deciding close; backtest: the next open
    EXIT_QTY = "exit_qty"  # live legs carry the entry qty minus the base-asset buy commission
    PATH_ORDER = "path_order"  # both levels in one bearish candle: simulator path hits the target first
    END_OF_DATA = "end_of_data"  # the backtest closes at the last close; live keeps its orders resting
    OCO_SIBLING = "oco_sibling"  # live journals the OCO leg that did not fill (EXPIRED); backtest does not


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


# ---- the live run ------------------------------------------------------------------------------------


def live_risk_config(spec: BacktestSpec) -> dict[str, Any]:
    """The backtest's risk limits as the live config's ``risk`` section, circuit breakers included.

    The backtest applies the breakers only with ``--circuit-breakers``; the live risk service always
    does, so without the flag their thresholds are set where they cannot trip (a 100 % loss, an
    unreachable losing streak). The stale-data breaker is off on both sides: the backtest has no
    feed to go stale, and the stepped replay's market time is not the feed's health.
    """
    risk: dict[str, Any] = json.loads(risk_limits(spec).model_dump_json())
    risk["stale_data_halt_seconds"] = 0
    if not spec.circuit_breakers:
        risk.update(daily_loss_limit_pct="100", max_drawdown_pct="100", max_consecutive_losses=10**9)
    return risk


def simulator_config(data: MarketData, instrument: Instrument, spec: BacktestSpec) -> Any:
    """The simulator for the live side: the backtest's candles, symbol and instrument, as they are.

    The candles are handed over as loaded (no file re-read, no symbol guessed from a file name) and the
    exchange filters are the backtest's ``instrument`` — one set of lot steps and notionals on both sides.
    """
    from ictbot.exchange_sim import SimConfig
    from ictbot.exchange_sim.engine.config import MatchingConfig
    from ictbot.exchange_sim.market.series import CandleSeries

    frame = data.frame
    series = CandleSeries(data.symbol, data.timeframe, frame.open_time, frame.open, frame.high, frame.low,
                          frame.close, frame.volume)
    return SimConfig(
        symbols=(data.symbol,), series={data.symbol: series}, instruments=(instrument,),
        start_ms=int(frame.open_time[0]), futures=False, kline_updates=False,
        matching=MatchingConfig(maker_commission=spec.fee_rate, taker_commission=spec.fee_rate,
                                initial_balances={instrument.quote_asset: spec.initial_cash}),
    )


async def run_live(spec: BacktestSpec, data: MarketData, workdir: Path, instrument: Instrument) -> LiveRun:
    """Replay ``data`` through the simulator and the paper-mode application; collect what was sent."""
    from ictbot.app.application import Application
    from ictbot.app.settings import Settings, TradingMode
    from ictbot.app.wiring import PAPER_API_KEY, build_pipeline
    from ictbot.exchange_sim import SimulatorServer
    from ictbot.positions.rules import StopRules

    symbol = data.symbol
    sim = SimulatorServer(simulator_config(data, instrument, spec))
    strategy = build_strategy(spec)
    context = [tf.value for tf in higher_timeframes(strategy, data.timeframe)]
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps({
        "exchange": {"symbols": [symbol], "base_timeframe": data.timeframe.value, "context_timeframes": context},
        "risk": live_risk_config(spec),
        # Only the backtest's strategy object trades (installed below); the built-ins are switched off.
        "strategies": {sid: {"enabled": False} for sid in ("strategy_a", "strategy_b") if sid != strategy.id},
    }))
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=workdir / "parity.db",  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=config_file, LOG_DIR=workdir)
    await sim.start()
    application = Application(settings)
    application.config.load()
    pipeline = build_pipeline(application, clock=sim.clock, sim_port=sim.port, warmup_candles=0,
                              timer_scale=TIMER_SCALE)
    pipeline.registry.add(strategy)  # after configure() too: an id the config file leaves out is kept
    pipeline.execution.monitor.rules = StopRules()  # off: see the module docstring
    signals: list[tuple[int, str]] = []

    async def on_signal(envelope: Envelope) -> None:
        signals.append((envelope.payload.signal.time, envelope.payload.signal.id))

    application.bus.subscribe(Topic.SIGNAL_GENERATED, on_signal, name="parity.live.signals")
    started = time.perf_counter()
    await application.start()
    try:
        hub = sim.sim.hub  # type: ignore[union-attr]
        stream = f"{symbol.lower()}@kline_{data.timeframe.value}"
        await _until(lambda: hub.wants("spot-market", stream) and bool(pipeline.execution.health()["stream_up"]),
                     "the bot's market and user streams to connect")
        executor = pipeline.execution.executor

        step = pipeline.instruments[symbol].step_size

        def settled() -> bool:
            venue_open = {o.client_order_id for o in sim.control.open_orders(PAPER_API_KEY, symbol)}
            bot_open = {o.client_order_id for o in executor.open_orders()}
            # A remainder below the lot step (the base-asset commission's dust) cannot be protected;
            # once the position's legs are gone the executor writes it off (a spawned task).
            positions = pipeline.execution.positions.open_positions()
            return venue_open == bot_open and all(
                abs(p.qty) >= step and executor.protection_deficit(p.id, confirmed=True) < step for p in positions)

        async def settle(after: str) -> None:
            calm = 0
            deadline = time.monotonic() + STEP_TIMEOUT_S
            while calm < 2:  # two quiet looks in a row: nothing in flight between them
                await application.bus.wait_idle(timeout=STEP_TIMEOUT_S)
                calm = calm + 1 if settled() else 0
                if time.monotonic() > deadline:
                    venue_open = {o.client_order_id for o in sim.control.open_orders(PAPER_API_KEY, symbol)}
                    bot_open = {o.client_order_id: o.status for o in executor.open_orders()}
                    deficits = {p.id: executor.protection_deficit(p.id, confirmed=True)
                                for p in pipeline.execution.positions.open_positions()}
                    raise TimeoutError(f"the bot did not settle after {after}: venue open {venue_open}, "
                                       f"bot open {bot_open}, unprotected {deficits}")
                await _next_turns()

        for k in range(len(data)):
            # The candle's trading first (fills reach the bot), then its close (strategies decide):
            # the order a live feed delivers them in, minutes apart.
            await sim.control.step_to_close()
            await settle(f"the prices of candle {k}")
            await sim.control.step(1)
            await _until(lambda k=k: pipeline.market_data.published_closed > k, f"candle {k} to reach the bot")
            await settle(f"the close of candle {k}")
        orders = []
        trades = defaultdict(list)
        for t in sim.control.trades(PAPER_API_KEY, symbol):
            trades[t.client_order_id].append(VenueFill(t.time, t.price, t.qty, t.commission, t.commission_asset))
        for o in sim.control.orders(PAPER_API_KEY, symbol):
            stored = await pipeline.journal.get(o.client_order_id)
            orders.append(VenueOrder(
                o.client_order_id, o.symbol, o.side, o.type, o.orig_qty, o.price or None, o.stop_price or None,
                o.status, tuple(trades.get(o.client_order_id, ())),
                None if stored is None else stored.status.value,
            ))
        instrument = pipeline.instruments.get(symbol)
    finally:
        await application.stop()
        await sim.stop()
    return LiveRun(orders, signals, len(data), time.perf_counter() - started, instrument)


async def _until(condition: Any, what: str, seconds: float = STEP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await _next_turns()


async def _next_turns(turns: int = QUIET_TURNS) -> None:
    """Let the event loop run a few rounds (socket reads included) instead of sleeping on a timer.

    Everything the run waits for is on this loop — the simulator's HTTP/WS server, the bot's client
    sockets over loopback, the bus — so a round of the loop is what moves it; a timed sleep only adds
    wall time (it was most of the run's time: ~8 ms a candle of 2 ms sleeps on a loaded machine).
    """
    for _ in range(turns):
        await asyncio.sleep(0)


# ---- the comparison ----------------------------------------------------------------------------------


def _candle_of(time_ms: int, tf_ms: int) -> int:
    return time_ms - time_ms % tf_ms


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
    context = _Context(data, instrument, spec.fee_rate, ExecutionConfig().stop_limit_slippage)
    seen: set[str] = set()
    for trade in result.trades:
        position_id = position_id_for(trade.strategy_id, trade.signal_id)
        seen.add(position_id)
        theirs = {o.client_order_id: o for o in by_position.get(position_id, [])}
        if not theirs:
            report.problems.append(f"trade {trade.number} ({position_id}): no live orders")
            continue
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

    def index(self, open_time: int) -> int:
        return int(self.data.frame.open_time.searchsorted(open_time))

    def candle(self, time_ms: int) -> int:
        tf = self.data.timeframe.ms
        return time_ms - time_ms % tf


def _compare_trade(report: OrderParityReport, ctx: _Context, trade: Trade, targets: tuple[Decimal, ...],
                   mine: list[Order], theirs: dict[str, VenueOrder]) -> None:
    tag = f"trade {trade.number}"
    frame, instrument = ctx.data.frame, ctx.instrument
    entry = next(o for o in mine if o.leg is OrderLeg.ENTRY)
    live_entry = theirs.get(entry.client_order_id)
    if live_entry is None:
        report.problems.append(f"{tag}: entry {entry.client_order_id} not sent live")
        return
    report.compared_orders += 1
    expected = (entry.symbol, entry.side.value, entry.type.value, entry.quantity, None, None)
    sent = (live_entry.symbol, live_entry.side, live_entry.type, live_entry.quantity, live_entry.price,
            live_entry.stop_price)
    if expected != sent:
        report.problems.append(f"{tag}: entry {entry.client_order_id} {expected} vs live {sent}")
    if live_entry.status != "FILLED" or not live_entry.fills:
        report.problems.append(f"{tag}: live entry {live_entry.status}")
        return
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
    # Binance spot takes a buy's commission in the base asset: the position (and so every exit leg)
    # is the bought quantity minus it, floored to the lot step, split over the targets as the plan does.
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
            stop_leg = live_leg.type == "STOP_LOSS_LIMIT"
            want = (("STOP_LOSS_LIMIT", trade.stop_loss,
                     instrument.floor_price(trade.stop_loss * (1 - ctx.stop_slip))) if stop_leg
                    else ("LIMIT_MAKER", None, target))
            got = (live_leg.side, live_leg.type, live_leg.stop_price, live_leg.price)
            if got != ("SELL", *want):
                report.problems.append(f"{tag}: leg {live_leg.client_order_id} {got}, plan {want}")
            if live_leg.quantity != qty:
                report.problems.append(f"{tag}: leg {live_leg.client_order_id} qty {live_leg.quantity}, plan {qty}")
            mine_leg = filled_mine.get(live_leg.client_order_id)
            if mine_leg is not None and mine_leg.quantity != mine_tranches[k]:
                report.problems.append(f"{tag}: backtest leg {mine_leg.client_order_id} qty {mine_leg.quantity}, "
                                       f"its tranche {mine_tranches[k]}")
            if qty != mine_tranches[k]:
                report.differences[Difference.EXIT_QTY] += 1
            if end_of_data:
                if live_leg.status != "NEW":
                    report.problems.append(f"{tag}: backtest closed at the end of data, live leg "
                                           f"{live_leg.client_order_id} {live_leg.status}")
                continue
            if mine_leg is None:  # the backtest journals only filled legs
                report.differences[Difference.OCO_SIBLING] += 1
                # FILLED only as the partner of a `path_order` stop, which its own check decides.
                if live_leg.status not in ("EXPIRED", "FILLED"):
                    report.problems.append(f"{tag}: OCO leg {live_leg.client_order_id} {live_leg.status}")
                continue
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


# ---- entry point ---------------------------------------------------------------------------------------


def replay_both(spec: BacktestSpec, data: MarketData, workdir: Path | None = None
                ) -> tuple[SymbolResult, LiveRun, Instrument]:
    """The in-process backtest of ``data`` and the live pipeline's run on the simulator."""
    result = run_backtest(spec, loaded=[data]).results[0]
    instrument = result.instrument
    if instrument is None:
        pair = Symbol.parse(data.symbol)
        instrument = default_instrument(data.symbol, pair.base, pair.quote, spec.market)
    with tempfile.TemporaryDirectory() as scratch:
        live = asyncio.run(run_live(spec, data, workdir or Path(scratch), instrument))
    return result, live, instrument


def judge(result: SymbolResult, data: MarketData, live: LiveRun, spec: BacktestSpec,
          instrument: Instrument) -> OrderParityReport:
    """Orders and fills (``compare_orders``), exchange filters, and the signals decided while flat."""
    report = compare_orders(result, data, live, spec, instrument)
    if live.instrument is not None:
        venue = live.instrument
        ours = (instrument.tick_size, instrument.step_size, instrument.min_notional)
        theirs = (venue.tick_size, venue.step_size, venue.min_notional)
        if ours != theirs:
            report.problems.append(f"exchange filters differ: backtest {ours}, simulator {theirs}")
    flat = {(s.time, s.id) for s, was_flat in result.signal_log if was_flat}
    missing = flat - set(live.signal_ids)
    if missing:
        report.problems.append(f"signals the backtest saw while flat but the live pipeline did not: "
                               f"{sorted(missing)[:3]}")
    return report


def check_order_parity(spec: BacktestSpec, data: MarketData, workdir: Path | None = None) -> OrderParityReport:
    """Backtest ``data`` in-process and through the live pipeline + simulator; compare the orders."""
    result, live, instrument = replay_both(spec, data, workdir)
    return judge(result, data, live, spec, instrument)
