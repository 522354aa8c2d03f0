"""Parameters (defaults, overrides, hashing) and event records / export rows."""

from __future__ import annotations

import pytest

from ictbot.domain.errors import ConfigError
from ictbot.indicators.events import iso_utc
from ictbot.indicators.params import FvgParams, IndicatorParams, params_hash
from tests.unit.indicators.helpers import T0, run


def test_defaults_follow_the_spec_table() -> None:
    p = IndicatorParams()
    assert (p.atr.length, p.structure.internal_left, p.structure.swing_right, p.fvg.max_active) == (14, 3, 10, 50)
    assert (p.liquidity.k_atr, p.premium_discount.pd_stream, p.displacement.k_leg) == (0.1, "swing", 2.5)
    assert len(p.liquidity.sources) == 13 and len(p.sessions.windows) == 8


def test_overrides_parse_types_and_none() -> None:
    p = IndicatorParams().with_overrides(["fvg.max_active=none", "fvg.k_atr=0.5", "fvg.merge_adjacent=on",
                                          "structure.break_source=wick", "liquidity.sources=swing,day"])
    assert p.fvg == FvgParams(max_active=None, k_atr=0.5, merge_adjacent=True)
    assert p.structure.break_source == "wick" and p.liquidity.sources == ("swing", "day")
    with pytest.raises(ConfigError, match="unknown section"):
        IndicatorParams().with_overrides(["nope.x=1"])
    with pytest.raises(ConfigError, match="break_source"):
        IndicatorParams().with_overrides(["structure.break_source=body"])


def test_params_hash_is_stable_and_sensitive() -> None:
    assert params_hash(FvgParams()) == params_hash(FvgParams())
    assert params_hash(FvgParams()) != params_hash(FvgParams(k_atr=0.1))
    assert len(params_hash(FvgParams())) == 12


def test_export_row_uses_iso_utc_times() -> None:
    event = run([(10, 11, 9, 10.5), (10.5, 14, 10.4, 13.8), (13.8, 15, 12, 14.5)])[0]
    row = event.to_row()
    assert row["anchor_time"] == "2024-01-01T00:05:00Z" and row["confirm_time"] == "2024-01-01T00:15:00Z"
    assert row["ce"] == 11.5 and row["params_hash"] == event.params_hash
    assert iso_utc(T0 + 1) == "2024-01-01T00:00:00.001Z"
    ict = event.to_ict()
    assert ict.id == event.id and ict.extra["ce"] == 11.5 and ict.timeframe == "5m"


def test_out_of_order_candle_is_an_input_error_and_warm_flag() -> None:
    from ictbot.indicators.stream import OutOfOrderCandle, TimeframeEngine

    engine = TimeframeEngine("5m")
    for k in range(20):
        engine.step(T0 + k * 300_000, 10.0, 11.0, 9.0, 10.5)
        assert engine.is_warm == (k + 1 >= 21)  # swing stream needs L + R + 1 = 21 candles
    with pytest.raises(OutOfOrderCandle):
        engine.step(T0, 10.0, 11.0, 9.0, 10.5)
