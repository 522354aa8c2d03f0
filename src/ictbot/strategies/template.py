"""The file ``ictbot new-strategy NAME`` writes: a small, commented, working strategy to start from.

It must stay a strategy that passes ``ictbot analyze lookahead`` and ``recursive`` and backtests out
of the box (tests/integration/analysis/test_template.py runs all three on real candles).
"""

from __future__ import annotations

import keyword
import re

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

TEMPLATE = '''"""{class_name}: a strategy for ictbot (docs/strategies.md explains the contract).

Idea: trade with the {{trend_timeframe}} market structure, on the first touch of a fresh fair value
gap on the base timeframe that points the same way. Stop beyond the gap, one target at
``reward_risk`` times the risk.

Try it:
    ictbot backtest --data BTCUSDT-5m-2024-01.csv --strategy {file_name}:{class_name}
    ictbot analyze lookahead --data BTCUSDT-5m-2024-01.csv --strategy {file_name}:{class_name}
    ictbot analyze recursive --data BTCUSDT-5m-2024-0*.csv --strategy {file_name}:{class_name}
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ictbot.domain.ict import IctEvent, TimeframeView
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.strategies.base import BaseStrategy, DecisionCalendar, StrategyConfig, StrategyContext


class {class_name}Config(StrategyConfig):
    """The parameters (``params`` in the trading config; ``--sweep name=a,b`` in backtests).

    Inherited: ``symbols`` (empty: every symbol) and ``base_timeframe`` (default 5m). Unknown keys
    are refused, so a misspelt parameter is an error rather than silently ignored.
    """

    trend_timeframe: str = Field(default="1h", description="Whose structure trend sets the direction.")
    max_gap_age_candles: int = Field(default=12, ge=1, description="Oldest gap (in base candles) still traded.")
    stop_buffer_atr: float = Field(default=1.0, ge=0, description="Stop distance beyond the gap, in ATRs.")
    reward_risk: float = Field(default=2.5, gt=0, description="Target distance in multiples of the risk.")
    max_open_positions: int = Field(default=1, ge=1, description="Per symbol, for this strategy.")


class {class_name}(BaseStrategy[{class_name}Config]):
    # ``kind``: the name in the trading config's ``strategies`` section and in results.
    kind: ClassVar[str] = "{kind}"
    config_model: ClassVar[type[StrategyConfig]] = {class_name}Config

    @property
    def required_timeframes(self) -> tuple[str, ...]:
        # Every timeframe the strategy reads: the engine builds the higher ones from the base candles,
        # and a snapshot holds a higher-timeframe candle only once it has closed.
        return (self.config.base_timeframe, self.config.trend_timeframe)

    @property
    def warmup_candles(self) -> int:
        # History (in base candles) before decisions stop depending on where the data started: here
        # 200 candles of the trend timeframe, enough for its swings and structure breaks to settle.
        # `ictbot analyze recursive` checks this number; declare more if it finds differences.
        ratio = Timeframe.parse(self.config.trend_timeframe).ms // Timeframe.parse(self.config.base_timeframe).ms
        return 200 * max(1, ratio)

    def on_candle(self, context: StrategyContext) -> Signal | None:
        """Called at every closed base candle with what was known at its close; None: no trade."""
        config, snapshot, candle = self.config, context.snapshot, context.candle
        if len(context.positions) >= config.max_open_positions:
            return None
        trend_view = snapshot.view(config.trend_timeframe)
        base = snapshot.view(config.base_timeframe)
        if trend_view is None or base is None or trend_view.trend == 0:
            return None
        direction = trend_view.trend  # +1 bullish structure, -1 bearish
        gaps = {{zone.id: zone for zone in base.fvgs if zone.direction == direction}}
        oldest = snapshot.time - config.max_gap_age_candles * Timeframe.parse(config.base_timeframe).ms
        for touch in _confirmed_at(base, snapshot.time, "fvg_touched"):
            gap = gaps.get(str(touch.extra.get("parent_id", "")))
            if gap is None or gap.confirm_time < oldest:
                continue
            entry = float(candle.close)
            stop = (gap.bottom if direction > 0 else gap.top) - direction * config.stop_buffer_atr * (base.atr or 0.0)
            risk = (entry - stop) * direction
            if risk <= 0:
                continue  # the candle already closed through the gap
            return Signal(
                strategy_id=self.id, symbol=snapshot.symbol,
                direction=Direction.LONG if direction > 0 else Direction.SHORT,
                entry_type=EntryType.MARKET,  # filled at the next candle's open
                stop_loss=_price(stop), take_profits=(_price(entry + direction * config.reward_risk * risk),),
                time=snapshot.time,  # must be this candle's close
                reference_price=candle.close, timeframe=config.base_timeframe,
                reason=(f"{{config.trend_timeframe}} trend {{direction:+d}}", f"first touch of FVG {{gap.id}}"),
            )
        return None

    def decision_candles(self, calendar: DecisionCalendar) -> npt.NDArray[np.int64]:
        """Optional fast path for backtests: every base candle where ``on_candle`` could return a
        signal (a superset is fine, a candle left out changes the results). Delete this method and
        the backtest asks ``on_candle`` at every candle instead (slower, same trades)."""
        trend = calendar.trend(self.config.trend_timeframe)  # per base candle, as on_candle sees it
        found = [np.empty(0, dtype=np.int64)]
        for direction in (1, -1):
            touched = calendar.new_event_candles(self.config.base_timeframe, ("fvg_touched",), direction)
            found.append(touched[trend[touched] == direction])
        return np.unique(np.concatenate(found))


def _confirmed_at(view: TimeframeView, time: int, kind: str) -> list[IctEvent]:
    """Events of ``kind`` confirmed exactly at ``time`` (this close): acted on once, not on every
    candle they stay in the view."""
    found = {{event.id: event for event in view.new_events if event.confirm_time == time and event.kind == kind}}
    for event in reversed(view.recent_events):
        if event.confirm_time < time:
            break
        if event.kind == kind:
            found.setdefault(event.id, event)
    return list(found.values())


def _price(value: float) -> Decimal:
    return Decimal(repr(round(value, 8)))  # the risk stage rounds to the symbol's tick size
'''


def check_name(name: str) -> str:
    """``name`` as a strategy kind (snake case); raises ValueError naming the rule it breaks."""
    if not _NAME.match(name):
        raise ValueError(f"NAME {name!r}: use lower case letters, digits and _, starting with a letter "
                         "(e.g. my_breakout)")
    if keyword.iskeyword(name):
        raise ValueError(f"NAME {name!r} is a Python keyword")
    return name


def class_name_for(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def render_template(name: str) -> str:
    """The template source for strategy ``name`` (its file is ``<name>.py``)."""
    kind = check_name(name)
    return TEMPLATE.format(class_name=class_name_for(kind), kind=kind, file_name=f"{kind}.py")
