"""The backtest loop's next decision candle (``backtest.cursor.next_decision``)."""

from __future__ import annotations

from typing import Any

from ictbot.backtest.cursor import Cursor, PendingLimit, next_decision


def test_without_candidates_every_candle_is_a_decision() -> None:
    assert next_decision(Cursor(scan_from=10, i=4), None, 10) == 4


def test_the_next_candidate_from_the_cursor_on_or_the_end_when_none_is_left() -> None:
    candidates = [2, 5, 9]
    assert next_decision(Cursor(scan_from=10, i=0), candidates, 10) == 2
    assert next_decision(Cursor(scan_from=10, i=5), candidates, 10) == 5
    assert next_decision(Cursor(scan_from=10, i=6), candidates, 10) == 9
    assert next_decision(Cursor(scan_from=10, i=10), candidates, 10) == 10


def test_a_resting_entry_decides_first_when_there_are_candidates() -> None:
    unused: Any = None
    pending = PendingLimit(order=unused, intent=unused, event_index=7, fill_price=None)
    assert next_decision(Cursor(scan_from=10, i=1, pending=pending), [2, 9], 10) == 7
    assert next_decision(Cursor(scan_from=10, i=1, pending=pending), None, 10) == 1
