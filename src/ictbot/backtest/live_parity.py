"""Order-level parity: the same candles through the real live pipeline against the exchange simulator.

The live side is the application exactly as ``ictbot run`` in paper mode wires it
(``app.system``, the composition root): market data over the simulator's WebSocket, candles stored in
SQLite, indicators, strategies, the risk service, the execution service with its order journal,
the Binance adapter (signed REST + user-data stream) and the position monitor, all on one bus. The
simulator is configured from the backtest (``simulator_config``): its candles and symbol as loaded,
its ``Instrument`` as the exchange filters. It replays in stepped mode: while the bot holds an order,
one candle per step (prices, then the close); while it holds none, the candles up to the backtest's
next decision as one batch (``_batch``). After each step the driver waits until the bot has digested
the candles and every order they caused (bus idle, the bot's open orders equal the simulator's,
every open position protected). Nothing in a stage is replaced.

Settings pinned so the runs are comparable, all stated in docs/backtesting.md:

* the live risk config is the backtest's limits, the circuit breakers only as the backtest applies
  them (``live_risk_config``);

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
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ictbot.backtest.data import MarketData
from ictbot.backtest.ict import higher_timeframes
from ictbot.backtest.order_compare import (
    Difference,
    LiveRun,
    OrderParityReport,
    VenueFill,
    VenueOrder,
    compare_orders,
)
from ictbot.backtest.results import SymbolResult
from ictbot.backtest.run import BacktestSpec, build_strategy, risk_limits, run_backtest
from ictbot.bus import Envelope, Topic
from ictbot.domain.instrument import Instrument
from ictbot.instruments import default_catalogue

if TYPE_CHECKING:
    from ictbot.app.system import System
    from ictbot.strategies.base import Strategy

__all__ = ["Difference", "LiveRun", "OrderParityReport", "VenueFill", "VenueOrder", "check_order_parity",
           "compare_orders", "decision_candles", "judge", "live_risk_config", "replay_both", "run_live",
           "simulator_config"]

STEP_TIMEOUT_S = 30.0
QUIET_TURNS = 3  # event-loop rounds between two looks at the bot (see _next_turns)
MAX_BATCH = 288  # candles played at once while the bot is flat and the backtest decides nothing (a day of 5m)
# Stretches the bot's wall-clock housekeeping (polls, reconcile, timers) far beyond the run.
TIMER_SCALE = 10_000.0


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


async def run_live(spec: BacktestSpec, data: MarketData, workdir: Path, instrument: Instrument,
                   decisions: frozenset[int] | None = None) -> LiveRun:
    """Replay ``data`` through the simulator and the paper-mode application; collect what was sent.

    ``decisions`` (``decision_candles`` of the backtest): the candles after which the bot is expected
    to act; the candles between them play in batches (``_batch``). None: every candle alone.
    """
    if decisions is None:
        decisions = frozenset(range(len(data)))
    from ictbot.app.settings import Settings, TradingMode
    from ictbot.app.system import SystemSpec, assemble
    from ictbot.positions.rules import StopRules

    strategy = build_strategy(spec)
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=workdir / "parity.db",
                        ICTBOT_CONFIG_FILE=workdir / "config.json", LOG_DIR=workdir)
    system = await assemble(SystemSpec(settings, simulator=simulator_config(data, instrument, spec),
                                       config=_live_config(spec, data, strategy), warmup_candles=0,
                                       timer_scale=TIMER_SCALE))
    system.pipeline.registry.add(strategy)  # after configure() too: an id the config file leaves out is kept
    system.pipeline.execution.monitor.rules = StopRules()  # off: see the module docstring
    recorder = _SignalRecorder(system)
    started = time.perf_counter()
    try:
        await system.start()
        await _streams_up(system, data)
        startup = time.perf_counter() - started
        await _play(system, data, decisions)
        orders = await _venue_orders(system, data.symbol)
        venue_instrument = system.pipeline.instruments.get(data.symbol)
    finally:
        await system.stop()
    return LiveRun(orders, recorder.signals, len(data), time.perf_counter() - started, venue_instrument, startup,
                   recorder.rejected, recorder.equity)


def _live_config(spec: BacktestSpec, data: MarketData, strategy: Strategy) -> dict[str, Any]:
    context = [tf.value for tf in higher_timeframes(strategy, data.timeframe)]
    return {
        "exchange": {"symbols": [data.symbol], "base_timeframe": data.timeframe.value,
                     "context_timeframes": context},
        "risk": live_risk_config(spec),
        # Only the backtest's strategy object trades (installed by run_live); the built-ins are switched off.
        "strategies": {sid: {"enabled": False} for sid in ("strategy_a", "strategy_b") if sid != strategy.id},
    }


class _SignalRecorder:
    """The bot's signals (time, id), the equity each was sized from, and the risk gate's rejections."""

    def __init__(self, system: System) -> None:
        self.signals: list[tuple[int, str]] = []
        self.equity: dict[str, Decimal] = {}
        self.rejected: dict[str, str] = {}
        self._account = system.pipeline.risk.account
        bus = system.application.bus
        bus.subscribe(Topic.SIGNAL_GENERATED, self._on_signal, name="parity.live.signals")
        bus.subscribe(Topic.SIGNAL_REJECTED, self._on_rejected, name="parity.live.rejections")

    async def _on_signal(self, envelope: Envelope) -> None:
        self.signals.append((envelope.payload.signal.time, envelope.payload.signal.id))
        # What the risk service sizes this signal from (nothing moves while the bot handles a close).
        self.equity[envelope.payload.signal.id] = self._account.equity()

    async def _on_rejected(self, envelope: Envelope) -> None:
        self.rejected[envelope.payload.signal.id] = "; ".join(envelope.payload.reasons)


async def _streams_up(system: System, data: MarketData) -> None:
    sim = system.simulator
    assert sim is not None
    hub = sim.sim.hub  # type: ignore[union-attr]
    stream = f"{data.symbol.lower()}@kline_{data.timeframe.value}"
    execution = system.pipeline.execution
    await _until(lambda: hub.wants("spot-market", stream) and bool(execution.health()["stream_up"]),
                 "the bot's market and user streams to connect")


class _Settler:
    """Waits until the bot has caught up with the venue: the same open orders on both sides and every
    open position fully protected (two quiet looks in a row)."""

    def __init__(self, system: System, symbol: str) -> None:
        from ictbot.app.wiring import PAPER_API_KEY

        assert system.simulator is not None
        self.system, self.symbol, self.key = system, symbol, PAPER_API_KEY
        self.control = system.simulator.control
        self.executor = system.pipeline.execution.executor
        self.step = system.pipeline.instruments[symbol].step_size

    def settled(self) -> bool:
        venue_open = {o.client_order_id for o in self.control.open_orders(self.key, self.symbol)}
        bot_open = {o.client_order_id for o in self.executor.open_orders()}
        # A remainder below the lot step (the base-asset commission's dust) cannot be protected;
        # once the position's legs are gone the executor writes it off (a spawned task).
        positions = self.system.pipeline.execution.positions.open_positions()
        return venue_open == bot_open and all(
            abs(p.qty) >= self.step and self.executor.protection_deficit(p.id, confirmed=True) < self.step
            for p in positions)

    async def settle(self, after: str) -> None:
        calm = 0
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while calm < 2:  # two quiet looks in a row: nothing in flight between them
            await self.system.application.bus.wait_idle(timeout=STEP_TIMEOUT_S)
            calm = calm + 1 if self.settled() else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not settle after {after}: {self._unsettled()}")
            await _next_turns()

    def _unsettled(self) -> str:
        venue_open = {o.client_order_id for o in self.control.open_orders(self.key, self.symbol)}
        bot_open = {o.client_order_id: o.status for o in self.executor.open_orders()}
        deficits = {p.id: self.executor.protection_deficit(p.id, confirmed=True)
                    for p in self.system.pipeline.execution.positions.open_positions()}
        return f"venue open {venue_open}, bot open {bot_open}, unprotected {deficits}"


async def _play(system: System, data: MarketData, decisions: frozenset[int]) -> None:
    """Play every candle through the simulator, letting the bot settle after each step."""
    settler = _Settler(system, data.symbol)
    control = settler.control
    market_data = system.pipeline.market_data
    k = 0
    while k < len(data):
        # The candle's trading first (fills reach the bot), then its close (strategies decide):
        # the order a live feed delivers them in, minutes apart. Without an open order nothing can
        # fill inside a candle: the candles up to the next decision play as one batch.
        if control.open_orders(settler.key, data.symbol):
            played = 1
            await control.step_to_close()
            await settler.settle(f"the prices of candle {k}")
        else:
            played = _batch(k, len(data), decisions)
        await control.step(played)
        k += played
        await _until(lambda k=k: market_data.published_closed >= k, f"candle {k - 1} to reach the bot")
        await settler.settle(f"the close of candle {k - 1}")


async def _venue_orders(system: System, symbol: str) -> list[VenueOrder]:
    """Every order the venue saw, with its fills and the status the bot's journal holds for it."""
    from ictbot.app.wiring import PAPER_API_KEY

    assert system.simulator is not None
    control = system.simulator.control
    trades: defaultdict[str, list[VenueFill]] = defaultdict(list)
    for t in control.trades(PAPER_API_KEY, symbol):
        trades[t.client_order_id].append(VenueFill(t.time, t.price, t.qty, t.commission, t.commission_asset))
    orders = []
    for o in control.orders(PAPER_API_KEY, symbol):
        stored = await system.pipeline.journal.get(o.client_order_id)
        orders.append(VenueOrder(
            o.client_order_id, o.symbol, o.side, o.type, o.orig_qty, o.price or None, o.stop_price or None,
            o.status, tuple(trades.get(o.client_order_id, ())),
            None if stored is None else stored.status.value,
        ))
    return orders


def decision_candles(result: SymbolResult, data: MarketData) -> frozenset[int]:
    """Indexes of the candles at whose close the backtest saw a signal (the candle holding the
    signal's time and the one before, whichever convention the time follows)."""
    found: set[int] = set()
    times = data.frame.open_time
    for signal, _ in result.signal_log:
        at = int(times.searchsorted(signal.time, side="right")) - 1
        found.update((at - 1, at))
    return frozenset(found)


def _batch(k: int, total: int, decisions: frozenset[int]) -> int:
    """How many candles from ``k`` play at once: up to and including the next decision candle.

    Only while the bot holds no order (nothing can fill) — and a live signal inside a batch, where the
    backtest decided nothing, is a parity break that the comparison reports anyway (a live position
    without a backtest trade), so batching skips only waits in which nothing is expected to happen.
    """
    played = 1
    while played < MAX_BATCH and k + played < total and k + played - 1 not in decisions:
        played += 1
    return played


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


# ---- entry point ---------------------------------------------------------------------------------------


def replay_both(spec: BacktestSpec, data: MarketData, workdir: Path | None = None
                ) -> tuple[SymbolResult, LiveRun, Instrument]:
    """The in-process backtest of ``data`` and the live pipeline's run on the simulator."""
    result = run_backtest(spec, loaded=[data]).results[0]
    instrument = result.instrument
    if instrument is None:
        instrument = default_catalogue().instrument(data.symbol, spec.market)
    with tempfile.TemporaryDirectory() as scratch:
        live = asyncio.run(run_live(spec, data, workdir or Path(scratch), instrument,
                                    decision_candles(result, data)))
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
