"""Test helpers: synthetic candles and a strategy that signals exactly where a test says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar

import numpy as np

from ictbot.backtest.data import MarketData
from ictbot.backtest.engine import BacktestConfig, BacktestEngine
from ictbot.backtest.fills import FillModel
from ictbot.backtest.reference import EXIT_METADATA
from ictbot.backtest.results import SymbolResult
from ictbot.backtest.sizing import RiskGate, reference_limits
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.instruments import default_catalogue
from ictbot.positions.rules import StopRules
from ictbot.strategies.base import BaseStrategy, StrategyConfig, StrategyContext

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
TF = Timeframe.M5


def frame(rows: Sequence[tuple[float, float, float, float]], tf: Timeframe = TF, start: int = T0) -> CandleFrame:
    """(open, high, low, close) rows → a CandleFrame with consecutive open times."""
    arr = np.array(rows, dtype=np.float64)
    times = start + np.arange(len(rows), dtype=np.int64) * tf.ms
    return CandleFrame(times, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy(),
                       np.ones(len(rows)))


def market(rows: Sequence[tuple[float, float, float, float]], *, detail: CandleFrame | None = None,
           detail_tf: Timeframe | None = None) -> MarketData:
    return MarketData("BTCUSDT", TF, frame(rows), detail_timeframe=detail_tf, detail=detail)


@dataclass(frozen=True)
class Plan:
    direction: Direction = Direction.LONG
    stop: str = "90"
    target: str = "120"
    target2: str | None = None
    limit: str | None = None
    exit: bool = False


class Scripted(BaseStrategy[StrategyConfig]):
    """Signals at the close of the given candle indexes (counted from the first candle)."""

    kind: ClassVar[str] = "scripted"

    def __init__(self, plans: Mapping[int, Plan]) -> None:
        super().__init__(StrategyConfig(), "scripted")
        self.plans = dict(plans)
        self.seen: list[int] = []

    def on_candle(self, context: StrategyContext) -> Signal | None:
        candle = context.candle
        index = (candle.open_time - T0) // candle.timeframe.ms
        self.seen.append(index)
        plan = self.plans.get(index)
        if plan is None:
            return None
        return Signal(
            strategy_id=self.id, symbol=candle.symbol, direction=plan.direction,
            entry_type=EntryType.LIMIT if plan.limit else EntryType.MARKET, stop_loss=Decimal(plan.stop),
            take_profits=(Decimal(plan.target),) + (() if plan.target2 is None else (Decimal(plan.target2),)),
            time=candle.close_time, reference_price=candle.close,
            entry_price=None if plan.limit is None else Decimal(plan.limit), reason=(f"plan@{index}",),
            metadata=(EXIT_METADATA,) if plan.exit else (),
        )


def run(
    rows: Sequence[tuple[float, float, float, float]],
    plans: Mapping[int, Plan],
    *,
    fee: str = "0",
    slippage_bps: str = "0",
    touch: bool = False,
    stake: str = "1000",
    instrument: Instrument | None = None,
    detail: CandleFrame | None = None,
    detail_tf: Timeframe | None = None,
    kind: Market = Market.SPOT,
    stop_rules: StopRules | None = None,
) -> tuple[SymbolResult, BacktestEngine]:
    # The scripted prices (~100) are a toy market below USD-M BTCUSDT's minPrice; the fill mechanics
    # under test do not depend on the market's filters, so both markets use spot BTCUSDT's.
    inst = instrument or replace(default_catalogue().instrument("BTCUSDT", Market.SPOT), market=kind)
    config = BacktestConfig(instrument=inst, fill_model=FillModel(Decimal(fee), Decimal(slippage_bps), touch),
                            market=kind, stop_rules=stop_rules or StopRules())
    engine = BacktestEngine(
        market(rows, detail=detail, detail_tf=detail_tf), [Scripted(plans)], config,
        risk=RiskGate(reference_limits(Decimal(stake), Decimal(fee)), inst),
    )
    return engine.run(), engine


FLAT = (100.0, 101.0, 99.0, 100.0)
