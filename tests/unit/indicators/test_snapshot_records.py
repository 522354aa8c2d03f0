"""The fast positional builders of the snapshot records give ordinary frozen instances."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from ictbot.domain.ict import (
    IctEvent,
    IndicatorSnapshot,
    Leg,
    LiquidityLevel,
    TimeframeView,
    Zone,
    make_event,
    make_leg,
    make_level,
    make_snapshot,
    make_view,
    make_zone,
)


def test_builders_equal_the_dataclass_constructors_and_stay_frozen() -> None:
    event = make_event("5m:fvg:-:1:2:0", "fvg", 1, "5m", 3, 4, 1, 2, 2.5, 1.5, None, {"ce": 2.0})
    assert event == IctEvent("5m:fvg:-:1:2:0", "fvg", 1, "5m", 3, 4, 1, 2, top=2.5, bottom=1.5, extra={"ce": 2.0})
    zone = make_zone("z", "fvg", 1, "5m", 2.5, 1.5, 1, 2, False, {})
    assert zone == Zone("z", "fvg", 1, "5m", 2.5, 1.5, 1, 2) and zone.mid == 2.0
    level = make_level("l", 1, 3.0, "swing", "5m", 2)
    assert level == LiquidityLevel("l", 1, 3.0, "swing", "5m", 2) and hash(level) == hash(
        LiquidityLevel("l", 1, 3.0, "swing", "5m", 2))
    leg = make_leg("g", 1, "5m", 1.0, 2.0, 1, 2, 1.7, 1.2, 1.3)
    assert leg == Leg("g", 1, "5m", 1.0, 2.0, 1, 2, 1.7, 1.2, 1.3)
    view = make_view("5m", 2, 2.0, 1, 0, 0.5, (zone,), (), (), (), (level,), (event,), leg, (3.0, 1.0), (event,))
    assert view == TimeframeView("5m", 2, 2.0, trend=1, atr=0.5, fvgs=(zone,), liquidity=(level,),
                                 recent_events=(event,), leg=leg, dealing_range=(3.0, 1.0), new_events=(event,))
    snap = make_snapshot("BTCUSDT", 2, "5m", {"5m": view}, ("london",))
    assert snap == IndicatorSnapshot("BTCUSDT", 2, "5m", {"5m": view}, ("london",))
    for record in (event, zone, level, leg, view, snap):
        assert type(record) in (IctEvent, Zone, LiquidityLevel, Leg, TimeframeView, IndicatorSnapshot)
        assert dataclasses.is_dataclass(record) and pickle.loads(pickle.dumps(record)) == record
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(record)[0].name, "changed")
