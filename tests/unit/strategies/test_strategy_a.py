from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from ictbot.domain.ict import IndicatorSnapshot, TimeframeView
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies.base import StrategyContext
from ictbot.strategies.builtin.strategy_a import StrategyA, StrategyAConfig
from tests.unit.risk.support import open_position
from tests.unit.strategies.snapshots import MIN, T, candle, event, liquidity, snapshot, view, zone

FVG_TIME = T - 15 * MIN
SWEEP_TIME = T - 30 * MIN


def bullish_setup(
    *, sweep_time: int = SWEEP_TIME, sweep_direction: int = -1, touch_time: int = T, trend_4h: int = 1,
    fvg_active: bool = True, targets: tuple[float, ...] = (112.0, 120.0), sweep_tf: str = "5m",
) -> IndicatorSnapshot:
    fvg = zone("fvg", 1, 102.0, 104.0, FVG_TIME, id="5m:fvg:-:x:y:0")
    sweep = event("sweep", sweep_direction, sweep_time, tf=sweep_tf, level=100.0, excursion=1.0, source="swing")
    touch = event("fvg_touched", 1, touch_time, parent_id=fvg.id, top=104.0, bottom=102.0)
    base_events = (sweep, touch) if sweep_tf == "5m" else (touch,)
    views = {
        "5m": view("5m", close=103.0, atr=1.0, fvgs=(fvg,) if fvg_active else (), recent_events=base_events,
                   liquidity=liquidity(1, *targets) + liquidity(-1, 95.0)),
        "15m": view("15m", recent_events=(sweep,) if sweep_tf == "15m" else ()),
        "1h": view("1h", trend=1),
        "4h": view("4h", trend=trend_4h),
    }
    return snapshot(views)


def bearish_setup() -> IndicatorSnapshot:
    fvg = zone("fvg", -1, 96.0, 98.0, FVG_TIME, id="bear-fvg")
    sweep = event("sweep", 1, SWEEP_TIME, level=100.0, excursion=1.0, source="day")
    touch = event("fvg_touched", -1, T, parent_id=fvg.id)
    views = {
        "5m": view("5m", close=97.0, atr=1.0, fvgs=(fvg,), recent_events=(sweep, touch),
                   liquidity=liquidity(-1, 88.0, 80.0)),
        "15m": view("15m"), "1h": view("1h", trend=-1), "4h": view("4h", trend=-1),
    }
    return snapshot(views)




def run(snap: IndicatorSnapshot, *, bar: Any = None, positions: tuple[Any, ...] = (), **params: Any) -> Signal | None:
    strategy = StrategyA(StrategyAConfig(**params))
    bar = bar or candle(open=105.0, high=105.5, low=102.5, close=103.0)
    return strategy.on_candle(StrategyContext(candle=bar, snapshot=snap, positions=positions))


def test_long_after_sell_side_sweep_on_first_fvg_touch() -> None:
    signal = run(bullish_setup())
    assert signal is not None
    assert signal.direction is Direction.LONG and signal.entry_type is EntryType.MARKET
    assert signal.strategy_id == "strategy_a" and signal.time == T and signal.timeframe == "5m"
    assert signal.reference_price == Decimal("103.0")
    assert signal.stop_loss == Decimal("98.9")  # sweep extreme 99 minus 0.1 ATR
    assert signal.take_profits == (Decimal("112.0"), Decimal("120.0"))
    assert signal.reward_risk >= 2


def test_short_mirror() -> None:
    signal = run(bearish_setup(), bar=candle(open=95.0, high=97.5, low=94.5, close=97.0))
    assert signal is not None and signal.direction is Direction.SHORT
    assert signal.stop_loss == Decimal("101.1")
    assert signal.take_profits == (Decimal("88.0"), Decimal("80.0"))


def test_outside_killzone_no_signal_but_empty_killzones_means_any_time() -> None:
    outside = replace(bullish_setup(), active_windows=("asia_kz",))
    assert run(outside) is None
    assert run(outside, killzones=()) is not None


@pytest.mark.parametrize("trend_4h", [0, -1])
def test_needs_agreeing_htf_bias(trend_4h: int) -> None:
    assert run(bullish_setup(trend_4h=trend_4h)) is None
    assert run(bullish_setup(trend_4h=trend_4h), bias_timeframes=("1h",)) is not None


def test_sweep_age_boundary() -> None:
    assert run(bullish_setup(sweep_time=T - 120 * MIN)) is not None
    assert run(bullish_setup(sweep_time=T - 125 * MIN)) is None
    assert run(bullish_setup(sweep_time=T - 125 * MIN), max_sweep_age_minutes=125) is not None


def test_sweep_must_be_against_the_bias_and_before_the_gap() -> None:
    assert run(bullish_setup(sweep_direction=1)) is None
    assert run(bullish_setup(sweep_time=FVG_TIME)) is not None
    assert run(bullish_setup(sweep_time=FVG_TIME + 5 * MIN)) is None


def test_higher_timeframe_sweep_counts_when_configured() -> None:
    assert run(bullish_setup(sweep_tf="15m")) is not None
    assert run(bullish_setup(sweep_tf="15m"), sweep_timeframes=("5m",)) is None


def test_only_the_first_touch_at_this_close() -> None:
    assert run(bullish_setup(touch_time=T - 5 * MIN)) is None
    assert run(bullish_setup(fvg_active=False)) is None


def test_fvg_age_boundary() -> None:
    assert run(bullish_setup(), max_fvg_age_minutes=15) is not None
    assert run(bullish_setup(), max_fvg_age_minutes=14) is None


def test_candle_through_the_stop_or_closing_below_the_gap() -> None:
    assert run(bullish_setup(), bar=candle(open=105.0, high=105.5, low=98.9, close=103.0)) is None
    assert run(bullish_setup(), bar=candle(open=105.0, high=105.5, low=101.0, close=101.9)) is None


def test_reward_risk_boundary() -> None:
    # entry 103, stop 98.9: risk 4.1, so 2 R is 111.2
    assert run(bullish_setup(targets=(111.2,))) is not None
    assert run(bullish_setup(targets=(111.19,))) is None
    signal = run(bullish_setup(targets=(110.0, 111.5)))
    assert signal is not None and signal.take_profits == (Decimal("111.5"),)  # 110 is too near


def test_no_new_entry_while_a_position_is_open() -> None:
    assert run(bullish_setup(), positions=(open_position(),)) is None
    assert run(bullish_setup(), positions=(open_position(),), max_open_positions=2) is not None


def test_missing_views_mean_no_signal() -> None:
    snap = bullish_setup()
    views: dict[str, TimeframeView] = {k: v for k, v in snap.views.items() if k != "4h"}
    assert run(replace(snap, views=views)) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"killzones": ("lunch_kz",)}, "unknown killzone"),
        ({"bias_timeframes": ("2x",)}, "unknown timeframe"),
        ({"min_reward_risk": 0}, "greater than 0"),
        ({"max_sweep_age": 10}, "Extra inputs"),
        ({"bias_timeframes": ()}, "at least 1"),
    ],
)
def test_config_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        StrategyAConfig(**params)
    assert message in str(info.value)


def test_required_timeframes() -> None:
    assert StrategyA(StrategyAConfig()).required_timeframes == ("5m", "1h", "4h", "15m")
