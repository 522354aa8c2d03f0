"""Golden sequences for previous periods (§7), sessions / killzones (§8) and displacement (§9)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ictbot.indicators.ict.sessions import WINDOW_BY_ID, window_bounds
from ictbot.indicators.stream import TimeframeEngine
from tests.unit.indicators.helpers import T0, hl, only, run, summary, times

HOUR = 3_600_000


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(("window", "day", "start", "end"), [
    ("london_kz", date(2024, 3, 10), "2024-03-10T07:00", "2024-03-10T09:00"),  # 02:00 NY does not exist
    ("london_kz", date(2024, 3, 11), "2024-03-11T06:00", "2024-03-11T09:00"),
    ("london", date(2024, 3, 15), "2024-03-15T08:00", "2024-03-15T17:00"),  # NY on EDT, London still GMT
    ("new_york", date(2024, 3, 15), "2024-03-15T12:00", "2024-03-15T21:00"),
    ("london", date(2024, 7, 1), "2024-07-01T07:00", "2024-07-01T16:00"),
    ("asia_kz", date(2024, 7, 1), "2024-07-01T00:00", "2024-07-01T04:00"),  # ends on its trading date
    ("asia_kz", date(2024, 1, 2), "2024-01-02T01:00", "2024-01-02T05:00"),
    ("ny_pm_kz", date(2024, 1, 2), "2024-01-02T18:30", "2024-01-02T21:00"),
    ("tokyo", date(2024, 7, 1), "2024-07-01T00:00", "2024-07-01T09:00"),
    ("london_kz", date(2024, 11, 3), "2024-11-03T07:00", "2024-11-03T10:00"),  # NY back on EST at 02:00
])
def test_window_bounds_follow_the_tz_database(window: str, day: date, start: str, end: str) -> None:
    assert window_bounds(WINDOW_BY_ID[window], day) == (utc(start), utc(end))


def test_session_closed_events_in_confirm_then_table_order() -> None:
    events = only(run(hl([10.0] * 24, [9.0] * 24), tf="1h"), "session_closed")
    assert [(e.confirm_index, e.fields["window"]) for e in events] == [
        (4, "asia_kz"), (8, "tokyo"), (9, "london_kz"), (14, "ny_am_kz"), (16, "london_close_kz"), (16, "london"),
        (20, "ny_pm_kz"), (21, "new_york")]
    london = events[5]
    assert (london.anchor_index, london.top, london.bottom) == (8, 10.0, 9.0)
    assert london.fields["high_index"] == 8 and london.fields["low_index"] == 8  # ties: first candle
    assert events[6].anchor_index == 19  # the 18:00 candle overlaps 18:30 only partly


def test_session_closes_after_a_data_gap_and_partial_windows_are_skipped() -> None:
    events = only(run(hl([10.0] * 21, [9.0] * 21), tf="1h", skip=(15, 16, 17)), "session_closed")
    by_window = {e.fields["window"]: e for e in events}
    assert "london_close_kz" not in by_window  # no fully-inside candle survived the gap
    assert by_window["london"].confirm_index == 15  # the 18:00 candle, first after the gap
    late = only(run(hl([10.0] * 15, [9.0] * 15), tf="1h", start=T0 + 9 * HOUR), "session_closed")
    assert {e.fields["window"] for e in late}.isdisjoint({"tokyo", "london", "london_kz", "asia_kz"})


def test_active_windows_of_a_candle() -> None:
    engine = TimeframeEngine("1h")
    for t in times(14, "1h"):
        engine.step(t, 1.0, 2.0, 0.5, 1.5)
    assert engine.sessions.active == ("ny_am_kz", "london", "new_york")  # the 13:00 UTC candle


def test_previous_day_needs_a_fully_seen_day() -> None:
    highs = [10.0 + (k == 7) for k in range(48)]
    rows = hl(highs, [9.0 - (k == 3) for k in range(48)])
    prev = only(run(rows, tf="1h"), "previous_day")
    assert [(e.confirm_index, e.anchor_index, e.top, e.bottom, e.level) for e in prev] == [(24, 0, 11.0, 8.0, 9.0)]
    assert prev[0].fields == {"high_index": 7, "low_index": 3} and prev[0].direction == 0
    late = only(run(rows[:47], tf="1h", start=T0 + HOUR), "previous_day")
    assert late == []  # day one was only partly seen; day three is not in the data


def test_previous_week_and_month() -> None:
    events = run(hl([10.0 + k for k in range(40)], [9.0] * 40), tf="1d")
    weeks = only(events, "previous_week")
    assert [(e.confirm_index, e.anchor_index, e.top) for e in weeks] == [(7, 0, 16.0), (14, 7, 23.0),
                                                                         (21, 14, 30.0), (28, 21, 37.0),
                                                                         (35, 28, 44.0)]
    months = only(events, "previous_month")
    assert [(e.confirm_index, e.top, e.fields["high_index"]) for e in months] == [(31, 40.0, 30)]
    assert only(run(hl([10.0] * 10, [9.0] * 10), tf="1d", start=T0 + 86_400_000), "previous_week") == []


CALM = [(10.0, 10.5, 9.5, 10.0)] * 14  # true range 1 -> ATR[13] = 1


def test_displacement_candle_fvg_update_and_leg() -> None:
    rows = [*CALM, (10, 11.6, 9.9, 11.5), (11.5, 12, 10.8, 11.9), (11.9, 13, 11.8, 12.9)]
    events = run(rows)
    disp = only(events, "displacement", "displacement_with_fvg", "displacement_leg", "fvg")
    assert summary(disp) == [(14, "displacement", 1), (15, "fvg", 1), (15, "displacement_with_fvg", 1),
                             (16, "fvg", 1), (16, "displacement_leg", 1)]
    candle, fvg, update, _, leg = disp
    assert (candle.top, candle.bottom, candle.fields["body"], candle.fields["atr"]) == (11.6, 9.9, 1.5, 1.0)
    assert update.fields == {"parent_id": candle.id, "fvg_id": fvg.id} and update.anchor_index == 14
    assert (leg.anchor_index, leg.fields["length"], leg.top, leg.bottom, leg.fields["atr"]) == (14, 3, 13.0, 9.9, 1.0)
    assert leg.fields["body_sum"] == pytest.approx(2.9)


def test_no_displacement_below_thresholds_or_without_atr() -> None:
    weak = run([*CALM, (10, 11.6, 9.9, 11.49)])  # body 1.49 < 1.5 * ATR
    assert only(weak, "displacement") == []
    wicky = run([*CALM, (10, 13, 9, 11.6)])  # body 1.6 / range 4 < 0.6
    assert only(wicky, "displacement") == []
    early = run([*CALM[:5], (10, 20, 9.9, 19.9)])  # ATR not yet defined
    assert only(early, "displacement") == []


def test_bearish_displacement_mirrors() -> None:
    events = only(run([*CALM, (10, 10.1, 8.4, 8.5)]), "displacement")
    assert [(e.direction, e.fields["body"]) for e in events] == [(-1, 1.5)]


def test_previous_day_series_are_known_from_the_first_candle_of_the_day() -> None:
    import math

    from ictbot.indicators.suite import compute
    from tests.unit.indicators.helpers import arrays

    highs = [10.0] * 24
    highs[5] = 12.0
    rows = [*hl(highs, [9.0] * 24), (10, 11, 9.5, 10.5), (10.5, 13, 10, 12)]
    series = compute(*arrays(rows, "1h"), "1h", series=True).series
    assert math.isnan(series["pdh"][23]) and series["pdh"][24] == 12.0 and series["pdl"][25] == 9.0
    assert series["day_open"][25] == 10.0
    assert math.isnan(series["pdh_taken"][23])
    assert series["pdh_taken"][24] == 0.0 and series["pdh_taken"][25] == 1.0  # strict: 13 > 12


@pytest.mark.parametrize(("kind", "anchor", "at", "start", "end"), [
    ("day", "ny_17", "2024-01-02T22:30", "2024-01-02T22:00", "2024-01-03T22:00"),  # 17:30 EST -> next day
    ("day", "ny_17", "2024-07-02T20:30", "2024-07-01T21:00", "2024-07-02T21:00"),  # 16:30 EDT
    ("day", "ny_midnight", "2024-01-02T03:00", "2024-01-01T05:00", "2024-01-02T05:00"),
    ("day", "utc", "2024-01-02T03:00", "2024-01-02T00:00", "2024-01-03T00:00"),
    ("week", "ny_17", "2024-01-03T12:00", "2024-01-01T00:00", "2024-01-08T00:00"),  # weeks stay UTC
    ("month", "utc", "2024-02-15T12:00", "2024-02-01T00:00", "2024-03-01T00:00"),
])
def test_period_bounds(kind: str, anchor: str, at: str, start: str, end: str) -> None:
    from ictbot.indicators.ict.previous_period import period_bounds

    assert period_bounds(kind, utc(at), anchor) == (utc(start), utc(end))


def test_session_levels_are_tested_after_the_window_and_on_a_late_confirm_candle() -> None:
    highs = [10.0, 10.0, 12.0, 10.0, 10.0, 13.0]
    events = run(hl(highs, [9.0] * 6), tf="1h")
    taken = [e for e in only(events, "liquidity_taken") if e.fields["source"] == "asia_kz"]
    closed = next(e for e in only(events, "session_closed") if e.fields["window"] == "asia_kz")
    assert closed.confirm_index == 4 and (closed.anchor_index, closed.top) == (1, 12.0)
    assert [(e.confirm_index, e.anchor_index, e.level, e.fields["parent_id"]) for e in taken] == [
        (5, 2, 12.0, closed.id)]
    # the 04:00 and 05:00 candles are missing: the 06:00 candle confirms the window and may take its high
    gap = run(hl([10.0, 10.0, 12.0, 10.0, 13.0], [9.0] * 5), tf="1h", skip=(4, 5))
    kinds = [(e.confirm_index, e.kind) for e in gap
             if e.kind in ("liquidity_taken", "session_closed") and e.fields.get("source", e.fields.get("window"))
             == "asia_kz"]
    assert kinds == [(4, "liquidity_taken"), (4, "session_closed")]  # §5 is logged before §8
