"""CandleGate: each closed candle exactly once, in order; gaps ask for a backfill."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.gate import CandleGate, Gap

M = 60_000


def c(i: int, closed: bool = True, close: str = "1") -> Candle:
    p = Decimal(close)
    return Candle("BTCUSDT", Timeframe.M1, i * M, p, p, p, p, Decimal(1), closed=closed)


def test_first_sight_starts_the_feed() -> None:
    gate = CandleGate("BTCUSDT", Timeframe.M1)
    assert gate.offer_live(c(5, closed=False)).emit == [c(5, closed=False)]
    assert gate.last_closed == 4 * M
    assert gate.offer_live(c(5)).emit == [c(5)]
    assert gate.offer_live(c(5)).emit == []  # duplicate x:true
    assert gate.offer_live(c(5, closed=False)).emit == []  # late open update of a closed candle


def test_skipped_closed_candle_requests_backfill_and_backfill_fills_it() -> None:
    gate = CandleGate("BTCUSDT", Timeframe.M1, last_closed=1 * M)
    result = gate.offer_live(c(3))
    assert result.emit == [] and result.need_backfill
    emitted, gaps = gate.offer_backfill([c(2), c(3), c(4, closed=False)])
    assert emitted == [c(2), c(3)] and gaps == []
    assert gate.offer_live(c(3)).emit == []


def test_open_update_of_a_later_candle_means_the_previous_closed_unseen() -> None:
    gate = CandleGate("BTCUSDT", Timeframe.M1, last_closed=1 * M)
    assert gate.offer_live(c(2, closed=False)).emit == [c(2, closed=False)]
    result = gate.offer_live(c(3, closed=False))
    assert result.need_backfill and result.emit == []


def test_overdue_by_exchange_clock() -> None:
    gate = CandleGate("BTCUSDT", Timeframe.M1, last_closed=1 * M)
    assert not gate.overdue(3 * M + 2_999, grace_ms=3000)  # candle 2 closed at 3M, grace not over
    assert gate.overdue(3 * M + 3_000, grace_ms=3000)
    assert not CandleGate("X", Timeframe.M1).overdue(10**12, 0)  # nothing owed before the start


def test_exchange_side_hole_is_reported_as_gap_and_skipped() -> None:
    gate = CandleGate("BTCUSDT", Timeframe.M1, last_closed=1 * M)
    emitted, gaps = gate.offer_backfill([c(2), c(5), c(6)])
    assert emitted == [c(2), c(5), c(6)]
    assert gaps == [Gap("BTCUSDT", Timeframe.M1, 3 * M, 4 * M)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.booleans()), max_size=80))
def test_any_interleaving_hands_out_closed_candles_once_and_in_order(
    events: list[tuple[int, bool, bool]],
) -> None:
    """Live frames arrive in any order/duplication; backfills return the truth up to some candle."""
    gate = CandleGate("BTCUSDT", Timeframe.M1, last_closed=0)
    out: list[int] = []
    for index, closed, backfill in events:
        if backfill:
            emitted, _ = gate.offer_backfill([c(i) for i in range(1, index + 1)])
        else:
            emitted = [x for x in gate.offer_live(c(index, closed)).emit if x.closed]
        out.extend(x.open_time // M for x in emitted)
    assert out == list(range(1, len(out) + 1))  # contiguous, ascending, no duplicates
