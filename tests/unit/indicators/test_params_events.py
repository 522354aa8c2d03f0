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


def test_event_ids_number_repeats_of_kind_tag_and_anchor_within_a_candle() -> None:
    from ictbot.indicators.events import EventFactory

    factory = EventFactory("5m", 300_000)
    factory.begin(7, T0)
    first = factory.make("sweep", 1, "day", 3, T0 - 900_000, "h")
    again = factory.make("sweep", 1, "day", 3, T0 - 900_000, "h")
    other_tag = factory.make("sweep", 1, "week", 3, T0 - 900_000, "h")
    other_anchor = factory.make("sweep", 1, "day", 4, T0 - 600_000, "h")
    close = T0 + 300_000
    assert [first.id, again.id] == [f"5m:sweep:day:{T0 - 900_000}:{close}:0", f"5m:sweep:day:{T0 - 900_000}:{close}:1"]
    assert other_tag.id.endswith(":0") and other_anchor.id.endswith(":0")
    assert (again.confirm_index, again.confirm_time, again.anchor_index, again.fields) == (7, close, 3, {})
    factory.begin(8, close)  # a new candle numbers from 0 again
    renewed = factory.make("sweep", 1, "day", 3, T0 - 900_000, "h")
    assert renewed.id == f"5m:sweep:day:{T0 - 900_000}:{close + 300_000}:0"


def test_event_ids_stay_exact_past_the_anchor_text_cache_bound() -> None:
    from ictbot.indicators.events import EventFactory

    factory = EventFactory("1h", 3_600_000)
    factory.begin(0, T0)
    ids = [factory.make("fvg", 1, "-", k, T0 - k * 1000, "h").id for k in range(5000)]
    ids.append(factory.make("fvg", 1, "-", 0, T0, "h").id)  # first anchor again, after the cache was cleared
    assert ids[:2] == [f"1h:fvg:-:{T0}:{T0 + 3_600_000}:0", f"1h:fvg:-:{T0 - 1000}:{T0 + 3_600_000}:0"]
    assert ids[4999] == f"1h:fvg:-:{T0 - 4_999_000}:{T0 + 3_600_000}:0"
    assert ids[-1] == f"1h:fvg:-:{T0}:{T0 + 3_600_000}:1"


def test_resampler_buckets_match_timeframe_floor_including_monday_weeks() -> None:
    from ictbot.domain.timeframe import Timeframe
    from ictbot.indicators.resampling import Resampler

    for target in (Timeframe.H4, Timeframe.D1, Timeframe.W1):
        sampler = Resampler(Timeframe.H1, target)
        start = T0 + 5 * 3_600_000  # mid-bucket for every target (2024-01-01 was a Monday)
        opens = []
        for k in range(24 * 16):
            opens += [bar.open_time for bar in sampler.add(start + k * 3_600_000, 1.0, 2.0, 0.5, 1.5)]
        assert opens and opens == sorted(set(opens))
        assert all(target.floor(t) == t for t in opens)
        assert opens[0] == target.floor(start)
