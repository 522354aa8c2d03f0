from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ictbot.domain.candle import Candle
from ictbot.domain.ict import IctEvent, IndicatorSnapshot
from ictbot.domain.signal import Direction, Signal
from ictbot.strategies.base import StrategyContext
from ictbot.strategies.builtin.strategy_b import StrategyB, StrategyBConfig
from tests.unit.strategies.snapshots import MIN, T, candle, event, leg, liquidity, snapshot, view, zone


def bullish_setup(
    *, break_kind: str = "choch", mss: bool = True, ote_time: int = T, ote_parent: str = "leg1",
    ob: tuple[float, float] = (101.5, 103.0), ob_touched: bool = True, b: float = 110.0, trend_1h: int = 1,
    impulse_event: bool = True, extra_events: tuple[IctEvent, ...] = (), ote: bool = True,
) -> IndicatorSnapshot:
    current = leg(1, 100.0, b)
    brk = event(break_kind, 1, T - 100 * MIN, tf="15m", id="brk", level=104.0, mss=mss, stream="swing")
    impulse = event("impulse_leg", 1, T - 100 * MIN, tf="15m", id="leg1", parent_id="brk", a=100.0, b=b)
    entered = event("ote_entered", 1, ote_time, tf="15m", parent_id=ote_parent, top=current.ote_top,
                    bottom=current.ote_bottom, level=current.sweet_spot)
    block = zone("order_block", 1, ob[0], ob[1], T - 100 * MIN, tf="15m", id="ob1", touched=ob_touched,
                 break_id="brk", stream="swing")
    events = ((brk, impulse) if impulse_event else (brk,)) + ((entered,) if ote else ()) + extra_events
    views = {
        "5m": view("5m", close=103.2),
        "15m": view("15m", atr=1.0, leg=current, recent_events=events, order_blocks=(block,),
                    liquidity=liquidity(1, 115.0, tf="15m")),
        "1h": view("1h", trend=trend_1h),
        "4h": view("4h"),
    }
    return snapshot(views, windows=())


def bearish_setup() -> IndicatorSnapshot:
    current = leg(-1, 110.0, 100.0)
    brk = event("choch", -1, T - 100 * MIN, tf="15m", id="brk", level=104.0, mss=True, stream="swing")
    impulse = event("impulse_leg", -1, T - 100 * MIN, tf="15m", id="leg1", parent_id="brk")
    entered = event("ote_entered", -1, T, tf="15m", parent_id="leg1", top=current.ote_top, bottom=current.ote_bottom)
    block = zone("order_block", -1, 107.0, 108.5, T - 100 * MIN, tf="15m", id="ob1", break_id="brk")
    views = {
        "5m": view("5m"),
        "15m": view("15m", atr=1.0, leg=current, recent_events=(brk, impulse, entered), order_blocks=(block,),
                    liquidity=liquidity(-1, 95.0, tf="15m")),
    }
    return snapshot(views, windows=())


BAR = candle(open=104.0, high=104.2, low=102.5, close=103.2)


def run(snap: IndicatorSnapshot, *, bar: Candle = BAR, **params: Any) -> Signal | None:
    return StrategyB(StrategyBConfig(**params)).on_candle(StrategyContext(candle=bar, snapshot=snap))


def test_long_at_order_block_inside_ote_after_mss() -> None:
    signal = run(bullish_setup())
    assert signal is not None and signal.direction is Direction.LONG
    assert signal.stop_loss == Decimal("101.4")  # OB bottom 101.5 minus 0.1 ATR
    assert signal.take_profits == (Decimal("110.0"), Decimal("115.0"))  # leg extreme first
    assert dict(signal.metadata) == {"leg_id": "leg1", "order_block_id": "ob1"}


def test_short_mirror() -> None:
    signal = run(bearish_setup(), bar=candle(open=106.0, high=107.6, low=105.8, close=107.2))
    assert signal is not None and signal.direction is Direction.SHORT
    assert signal.stop_loss == Decimal("108.6")
    assert signal.take_profits == (Decimal("100.0"), Decimal("95.0"))


def test_break_must_be_a_choch_with_displacement() -> None:
    assert run(bullish_setup(mss=False)) is None
    assert run(bullish_setup(mss=False), require_mss=False) is not None
    assert run(bullish_setup(break_kind="bos")) is None
    assert run(bullish_setup(break_kind="bos"), allow_bos=True) is not None


def test_break_found_without_the_impulse_leg_event() -> None:
    assert run(bullish_setup(impulse_event=False)) is not None


def test_only_when_ote_is_entered_at_this_close_for_this_leg() -> None:
    assert run(bullish_setup(ote_time=T - 15 * MIN)) is None
    assert run(bullish_setup(ote_parent="older-leg")) is None


@pytest.mark.parametrize(
    ("ob", "fires"),
    [
        ((101.5, 103.0), True),
        ((100.5, 102.1), True),  # top exactly on the OTE bottom (110 − 0.79 × 10): overlaps
        ((100.5, 102.0), False),  # just below the band
        ((103.8, 104.5), True),  # bottom exactly on the OTE top
    ],
)
def test_order_block_must_overlap_the_ote_band(ob: tuple[float, float], fires: bool) -> None:
    bar = candle(open=104.0, high=104.6, low=103.9, close=104.2)
    assert (run(bullish_setup(ob=ob), bar=bar) is not None) is fires


def test_untouched_order_block_is_not_an_entry() -> None:
    assert run(bullish_setup(ob_touched=False)) is None


def test_close_below_the_block_or_candle_through_the_stop() -> None:
    assert run(bullish_setup(), bar=candle(open=104.0, high=104.2, low=101.42, close=101.45)) is None
    assert run(bullish_setup(), bar=candle(open=104.0, high=104.2, low=101.3, close=102.0)) is None


def test_leg_extreme_too_close_falls_back_to_further_liquidity() -> None:
    # entry 103.2, stop 101.4: risk 1.8; leg extreme 106 is 1.56 R, liquidity at 115 is 6.6 R
    signal = run(bullish_setup(b=106.0), bar=candle(open=103.5, high=103.6, low=102.0, close=103.2))
    assert signal is not None and signal.take_profits == (Decimal("115.0"),)
    assert run(bullish_setup(b=106.0), min_reward_risk=7) is None


def test_optional_trend_filter_and_killzones() -> None:
    assert run(bullish_setup(trend_1h=-1), trend_timeframes=("1h",)) is None
    assert run(bullish_setup(trend_1h=1), trend_timeframes=("1h",)) is not None
    assert run(bullish_setup(), killzones=("ny_am_kz",)) is None


def test_later_targets_lie_beyond_the_leg_extreme() -> None:
    snap = bullish_setup()
    views = dict(snap.views)
    views["1h"] = views["1h"].__class__(timeframe="1h", last_close_time=T, close=100.0, trend=1,
                                        liquidity=liquidity(1, 108.0, 112.0, tf="1h"))
    signal = run(IndicatorSnapshot(snap.symbol, snap.time, snap.base_timeframe, views, snap.active_windows))
    assert signal is not None
    assert signal.take_profits == (Decimal("110.0"), Decimal("112.0"))  # 108 is nearer but below the extreme


def test_first_touch_of_the_block_after_ote_was_entered_earlier() -> None:
    touch = event("ob_touched", 1, T, tf="15m", parent_id="ob1")
    assert run(bullish_setup(ote_time=T - 30 * MIN, extra_events=(touch,))) is not None
    other = event("ob_touched", 1, T, tf="15m", parent_id="some-other-block")
    assert run(bullish_setup(ote_time=T - 30 * MIN, extra_events=(other,))) is None
    assert run(bullish_setup(ote=False, extra_events=(touch,))) is None  # never reached OTE
