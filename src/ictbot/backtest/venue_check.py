"""The backtest's fill model checked against the shared matching engine, in-process.

The simulator's ``MatchingEngine`` (``exchange_sim.engine``) is the venue of paper trading and of
the integration tests. The backtest does not run on it (docs/backtesting.md, "Why not the matching
engine"): it would fill a market order at the price when the order arrives (the deciding close, or
the open only if the order is held back a candle) plus its synthetic spread, and it resolves a
candle by its price path (bearish candle: open → high → low → close, so the target before the
stop), where the specified model says "next open" and "stop first". What it can do is *check* the
fill model, trade by trade: each backtest trade is replayed on a fresh engine — the price moved to
the entry candle's open, the same market order, the live spot protection (OCO: STOP_LOSS_LIMIT +
LIMIT_MAKER, on the quantity left after the base-asset commission), then every candle's path until
a leg fills — and the exit candle, leg and price must be the backtest's, unless the candle reached
both levels and its path met the target first (counted, never silently accepted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.backtest.data import MarketData
from ictbot.backtest.fills import dec
from ictbot.backtest.results import SymbolResult, Trade
from ictbot.domain.market import Market
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.matching import MatchingEngine
from ictbot.exchange_sim.engine.model import OrderRequest
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.market.path import candle_path
from ictbot.exchange_sim.symbols import spec_for
from ictbot.execution.config import ExecutionConfig

ACCOUNT = "backtest-check"


@dataclass
class VenueCheck:
    trades: int = 0
    identical: int = 0  # same exit candle, leg and price
    outcomes: Counter[str] = field(default_factory=Counter)  # documented kinds of difference
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        verdict = "FILL MODEL AGREES WITH THE MATCHING ENGINE" if self.ok else "FILL MODEL DISAGREES"
        return (f"{verdict}: {self.trades} trades replayed, {self.identical} exits identical; "
                f"documented: {dict(sorted(self.outcomes.items()))}; problems: {self.problems[:5]}")


def check_fills_on_matching_engine(result: SymbolResult, data: MarketData, fee_rate: Decimal) -> VenueCheck:
    """Replay every long, single-target, market-entry spot trade of ``result`` on the matching engine."""
    check = VenueCheck()
    targets = {signal.id: len(signal.take_profits) for signal, _ in result.signal_log}
    for trade in result.trades:
        single = targets.get(trade.signal_id) == 1
        if trade.direction != "LONG" or trade.stop_loss is None or trade.take_profit is None or not single:
            check.outcomes["not checked (short, no stop/target or several tranches)"] += 1
            continue
        check.trades += 1
        _check_trade(check, trade, data, fee_rate)
    return check


def _check_trade(check: VenueCheck, trade: Trade, data: MarketData, fee_rate: Decimal) -> None:
    frame, symbol = data.frame, data.symbol
    e = trade.entry_index
    assert trade.stop_loss is not None and trade.take_profit is not None
    engine = MatchingEngine(
        MatchingConfig(maker_commission=fee_rate, taker_commission=fee_rate,
                       initial_balances={"USDT": Decimal(10) ** 12}),
        [spec_for(symbol, Market.SPOT, dec(frame.open[e]))],
    )
    entry_qty = _enter(check, engine, trade, data)
    if entry_qty is None:
        return
    spec = engine.spec(Market.SPOT, symbol)
    stop = trade.stop_loss
    limit = spec.to_instrument().floor_price(stop * (1 - ExecutionConfig().stop_limit_slippage))
    try:
        _, legs, _ = engine.place_oco(
            ACCOUNT, symbol, "SELL", entry_qty,
            above=OrderRequest(symbol, "SELL", "LIMIT_MAKER", quantity=entry_qty, price=trade.take_profit),
            below=OrderRequest(symbol, "SELL", "STOP_LOSS_LIMIT", quantity=entry_qty, price=limit, stop_price=stop,
                               time_in_force="GTC"),
            now=trade.entry_time,
        )
    except SimError as exc:  # the open was already beyond a level: the venue refuses the OCO
        check.outcomes[f"OCO refused at the entry open ({exc})"] += 1
        if trade.exit_index != e:
            check.problems.append(f"trade {trade.number}: OCO refused at the open but the backtest held the trade")
        return
    _play_until_exit(check, engine, trade, data, {o.order_id: ("target" if o.type == "LIMIT_MAKER" else "stop")
                                                  for o in legs})


def _enter(check: VenueCheck, engine: MatchingEngine, trade: Trade, data: MarketData) -> Decimal | None:
    """Buy at the entry candle's open on the engine; the position left after a base-asset commission,
    floored to the lot step (the OCO's quantity), or None when the fill differs from the expected one."""
    frame, symbol, e = data.frame, data.symbol, trade.entry_index
    spec = engine.spec(Market.SPOT, symbol)
    previous_close = dec(frame.close[e - 1]) if e > 0 else dec(frame.open[e])
    engine.move_price(symbol, previous_close, trade.entry_time - 1)
    opened = dec(frame.open[e])
    engine.move_price(symbol, opened, trade.entry_time, gap=opened != previous_close)
    entry, _ = engine.place(ACCOUNT, Market.SPOT, OrderRequest(symbol, "BUY", "MARKET", quantity=trade.qty),
                            trade.entry_time)
    buy = [t for t in engine.trades if t.order_id == entry.order_id]
    ask = spec.tick_size * (opened / spec.tick_size).to_integral_value(rounding="ROUND_FLOOR") + spec.tick_size
    if entry.executed_qty != trade.qty or any(t.price != ask for t in buy):
        check.problems.append(f"trade {trade.number}: engine entry {entry.executed_qty} at {[t.price for t in buy]}, "
                              f"expected {trade.qty} at the ask {ask} over the open {opened}")
        return None
    # The one-tick synthetic spread of the engine's book is the whole entry difference.
    check.outcomes["entry at open + 1 tick (engine spread)"] += 1
    commission = sum((t.commission for t in buy if t.commission_asset == spec.base), Decimal(0))
    return spec.to_instrument().floor_qty(trade.qty - commission)


def _play_until_exit(check: VenueCheck, engine: MatchingEngine, trade: Trade, data: MarketData,
                     ids: dict[int, str]) -> None:
    """Walk each candle's price path on the engine from the entry until a leg (``ids``: order id →
    target / stop) fills, then compare that exit with the backtest's."""
    frame, symbol, tf, e = data.frame, data.symbol, data.timeframe.ms, trade.entry_index
    last_close = dec(frame.close[e - 1]) if e > 0 else dec(frame.open[e])
    end = min(len(frame), trade.exit_index + 2)
    for j in range(e, end):
        o, h, low, c = dec(frame.open[j]), dec(frame.high[j]), dec(frame.low[j]), dec(frame.close[j])
        points = candle_path(int(frame.open_time[j]), tf, o, h, low, c)
        for k, point in enumerate(points):
            if j == e and k == 0:
                continue  # the entry candle's open is where the position was opened
            engine.move_price(symbol, point.price, point.time, gap=k == 0 and point.price != last_close)
        last_close = c
        fills = [t for t in engine.trades if t.order_id in ids]
        if fills:
            _compare(check, trade, ids[fills[0].order_id], j, fills[0].price, frame)
            return
    if trade.exit_reason == "end_of_data":
        check.identical += 1  # neither venue filled a leg before the data ended
    else:
        check.problems.append(f"trade {trade.number}: no leg filled on the engine by candle {end - 1}; backtest "
                              f"{trade.exit_reason} in {trade.exit_index}")


def _compare(check: VenueCheck, trade: Trade, leg: str, j: int, price: Decimal, frame: object) -> None:
    tag = f"trade {trade.number}"
    if j == trade.exit_index and leg == trade.exit_reason and price == trade.exit_price:
        check.identical += 1
        return
    f = frame
    x = trade.exit_index
    assert trade.stop_loss is not None and trade.take_profit is not None
    both = (float(f.low[x]) <= float(trade.stop_loss)  # type: ignore[attr-defined]
            and float(f.high[x]) > float(trade.take_profit))  # type: ignore[attr-defined]
    bearish = float(f.close[x]) < float(f.open[x])  # type: ignore[attr-defined]
    if j == x and trade.exit_reason == "stop" and leg == "target" and both and bearish:
        check.outcomes["both levels in a bearish candle: the engine's path hits the target first"] += 1
    elif (j == x and leg == trade.exit_reason == "target" and price == trade.take_profit
          and float(f.open[x]) > float(trade.take_profit)  # type: ignore[attr-defined]
          and trade.exit_price == dec(f.open[x])):  # type: ignore[attr-defined]
        # A candle that opens above the target: the resting limit fills at its price on the engine;
        # the backtest gives the (better) open, as a gap through a resting order would.
        check.outcomes["target gapped: engine fills at the limit, backtest at the open"] += 1
    else:
        check.problems.append(f"{tag}: engine {leg} in candle {j} at {price}; backtest {trade.exit_reason} in "
                              f"{x} at {trade.exit_price}")
