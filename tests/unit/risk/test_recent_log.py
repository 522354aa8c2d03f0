"""``RecentSignalLog.relevant_to`` must give the validator the verdict a scan of the whole log gives."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ictbot.domain.signal import Direction
from ictbot.risk.limits import RiskLimits
from ictbot.risk.recent import RecentSignalLog
from ictbot.risk.state import MarketQuote, RecentSignal, RiskState
from ictbot.risk.validator import validate
from tests.unit.risk.support import make_signal, real_instrument

NOW = 1_700_000_000_000
BTC = real_instrument("BTCUSDT")
LIMITS = RiskLimits(max_symbol_exposure_pct=Decimal(100), duplicate_window_seconds=600)

# (strategy, direction, minutes before NOW, accepted, stop variant): few values, so collisions happen.
entries = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([Direction.LONG, Direction.SHORT]),
                             st.integers(0, 30), st.booleans(), st.integers(0, 2)), max_size=40)


def _recent(strategy: str, direction: Direction, minutes: int, accepted: bool, variant: int) -> RecentSignal:
    signal = make_signal(strategy_id=strategy, time=NOW - minutes * 60_000, stop=str(59_400 - variant))
    return RecentSignal(signal.id, strategy, signal.symbol, direction, signal.time, accepted)


def _verdict(recent: tuple[RecentSignal, ...], strategy: str, variant: int) -> object:
    signal = make_signal(strategy_id=strategy, time=NOW, stop=str(59_400 - variant))
    state = RiskState(now_ms=NOW, equity=Decimal(10_000), recent_signals=recent)
    result = validate(signal, state, LIMITS, BTC, MarketQuote(Decimal(60_000), NOW))
    return getattr(result, "reasons", None) or result


@settings(max_examples=200, deadline=None)
@given(entries, st.sampled_from(["a", "b"]), st.integers(0, 2), st.integers(1, 50))
def test_relevant_entries_give_the_verdict_of_the_whole_log(
    seen: list[tuple[str, Direction, int, bool, int]], strategy: str, variant: int, capacity: int,
) -> None:
    log = RecentSignalLog(capacity=capacity)
    for item in seen:
        log.add(NOW - item[2] * 60_000, _recent(*item))
    log.expire(NOW, 20 * 60_000)
    whole = log.all()
    assert len(whole) == len(log) <= capacity
    assert not whole or NOW - whole[0].time <= 20 * 60_000  # expiry drops from the oldest arrival on
    probe = make_signal(strategy_id=strategy, time=NOW, stop=str(59_400 - variant))
    relevant = log.relevant_to(probe, LIMITS.duplicate_window_seconds * 1000)
    assert set(relevant) <= set(whole)
    assert list(relevant) == [r for r in whole if r in relevant]  # arrival order kept
    assert _verdict(relevant, strategy, variant) == _verdict(whole, strategy, variant)


def test_capacity_and_expiry_drop_the_oldest_from_the_indexes_too() -> None:
    log = RecentSignalLog(capacity=2)
    first, second, third = (_recent("a", Direction.LONG, minutes, True, 0) for minutes in (9, 5, 1))
    for item in (first, second, third):
        log.add(item.time, item)
    assert log.all() == (second, third)
    probe = make_signal(strategy_id="a", time=NOW)
    assert first not in log.relevant_to(probe, 3_600_000) and log.relevant_to(probe, 3_600_000)[-1] == third
    log.expire(NOW, 3 * 60_000)
    assert log.all() == (third,)
    log.expire(NOW, 0)
    assert log.all() == () and log.relevant_to(probe, 3_600_000) == ()
