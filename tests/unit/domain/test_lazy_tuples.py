"""``LazyTuple`` / ``EventWindow``: replayed view fields that stand for tuples and are built when read."""

from __future__ import annotations

import pickle
from dataclasses import replace

from ictbot.bus import Topic
from ictbot.bus.codec import decode, encode
from ictbot.domain.candle import Candle
from ictbot.domain.events import IndicatorsUpdated
from ictbot.domain.ict import EventWindow, IctEvent, IndicatorSnapshot, LazyTuple, TimeframeView, Zone
from ictbot.domain.timeframe import Timeframe


def _event(g: int) -> IctEvent:
    kind = "sweep" if g % 3 == 0 else "fvg"
    return IctEvent(f"5m:{kind}:-:{g}:{g}:0", kind, 1, "5m", g, g, g * 300_000, g * 300_000 + 300_000, extra={"n": g})


class _Counting:
    def __init__(self) -> None:
        self.built: list[int] = []

    def __call__(self, g: int) -> IctEvent:
        self.built.append(g)
        return _event(g)


def test_an_event_window_is_the_tuple_it_stands_for() -> None:
    window = EventWindow(_event, 10, 20)
    plain = tuple(_event(g) for g in range(10, 20))
    assert window == plain and plain == window
    assert len(window) == 10 and window[0] == plain[0] and window[-1] == plain[-1] and window[2:4] == plain[2:4]
    assert list(reversed(window)) == list(reversed(plain))
    assert window + (plain[0],) == (*plain, plain[0]) and (plain[0],) + window == (plain[0], *plain)  # noqa: RUF005
    assert pickle.loads(pickle.dumps(window)) == plain and type(pickle.loads(pickle.dumps(window))) is tuple
    assert repr(window) == repr(plain)
    assert EventWindow(_event, 10, 19) != plain


def test_reading_the_tail_builds_only_what_is_read() -> None:
    load = _Counting()
    window = EventWindow(load, 0, 200)
    for event in reversed(window):
        if event.confirm_time < 195 * 300_000:
            break
    assert sorted(load.built) == list(range(193, 200))  # 193: the first one found too old


def test_tail_by_kind_and_time_builds_only_the_matching_records() -> None:
    load = _Counting()
    times = {g: g * 300_000 + 300_000 for g in range(200)}
    window = EventWindow(load, 0, 200, kind_of=lambda g: "sweep" if g % 3 == 0 else "fvg", time_of=times.__getitem__)
    found = window.tail(180 * 300_000 + 300_000, frozenset({"sweep"}))
    assert [e.anchor_index for e in found] == [180, 183, 186, 189, 192, 195, 198]
    assert load.built == [198, 195, 192, 189, 186, 183, 180]
    # without the cheap readers (or once built) the same answer comes from the records
    plain = EventWindow(_event, 0, 200)
    assert plain.tail(180 * 300_000 + 300_000, frozenset({"sweep"})) == found
    assert window.tail(0) == list(plain)


class _Zones(LazyTuple[Zone]):
    def __init__(self, zones: tuple[Zone, ...]) -> None:
        super().__init__()
        self._zones = zones
        self.builds = 0

    def _build(self) -> tuple[Zone, ...]:
        self.builds += 1
        return self._zones


def test_a_view_with_lazy_fields_equals_travels_and_decodes_as_plain_tuples() -> None:
    zone = Zone("5m:fvg:-:1:2:0", "fvg", 1, "5m", 2.5, 1.5, 1, 2, extra={"ce": 2.0})
    lazy_zones = _Zones((zone,))
    lazy = TimeframeView("5m", 2, 2.0, fvgs=lazy_zones, recent_events=EventWindow(_event, 0, 3))
    plain = TimeframeView("5m", 2, 2.0, fvgs=(zone,), recent_events=tuple(_event(g) for g in range(3)))
    assert lazy == plain
    assert lazy_zones.builds == 1  # built once, then kept
    candle = Candle("BTCUSDT", Timeframe.M5, 0, *(1,) * 5)  # type: ignore[arg-type]
    snapshot = IndicatorSnapshot("BTCUSDT", 2, "5m", {"5m": lazy})
    topic, payload = decode(encode(Topic.INDICATORS_UPDATED, IndicatorsUpdated(snapshot, candle)))
    assert topic is Topic.INDICATORS_UPDATED
    decoded = payload.snapshot.views["5m"]
    assert decoded == plain and type(decoded.fvgs) is tuple and type(decoded.recent_events) is tuple
    assert replace(plain, fvgs=lazy_zones) == plain
