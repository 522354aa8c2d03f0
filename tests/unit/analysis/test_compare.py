"""The analyses' comparison rules: field differences, one-sided signals, truncated trades, cut choice."""

from __future__ import annotations

from decimal import Decimal

from ictbot.analysis.compare import compare_signals, compare_trades, same
from ictbot.analysis.lookahead import choose_cuts
from ictbot.analysis.recursive import default_offsets
from ictbot.backtest.results import Trade
from ictbot.domain.signal import Direction, EntryType, Signal

T0 = 1_704_067_500_000


def signal(time: int, stop: str = "99", targets: tuple[str, ...] = ("105",)) -> Signal:
    return Signal(strategy_id="s", symbol="BTCUSDT", direction=Direction.LONG, entry_type=EntryType.MARKET,
                  stop_loss=Decimal(stop), take_profits=tuple(Decimal(t) for t in targets), time=time,
                  reference_price=Decimal(100))


def trade(entry_time: int, exit_reason: str = "target", exit_price: str = "105") -> Trade:
    return Trade(number=1, symbol="BTCUSDT", strategy_id="s", direction="LONG", entry_time=entry_time,
                 entry_price=Decimal(100), exit_time=entry_time + 600_000, exit_price=Decimal(exit_price),
                 qty=Decimal(1), fees=Decimal("0.2"), pnl=Decimal(5), exit_reason=exit_reason,
                 signal_time=entry_time)


def test_equal_runs_have_no_differences() -> None:
    signals = [signal(T0), signal(T0 + 300_000)]
    assert compare_signals(signals, list(signals), label="x") == []


def test_a_changed_field_is_named_with_both_values() -> None:
    (found,) = compare_signals([signal(T0)], [signal(T0, targets=("105", "110"))], label="cut")
    assert (found.kind, found.time, found.only_in, found.variant) == ("signal", T0, None, "cut")
    assert [(f.name, f.reference, f.variant) for f in found.fields] == [("take_profits", "[105]", "[105, 110]")]
    assert "take_profits: [105] -> [105, 110]" in found.describe()


def test_one_sided_signals_and_the_filters() -> None:
    found = compare_signals([signal(T0)], [signal(T0 + 300_000)], label="x")
    assert [(d.time, d.only_in) for d in found] == [(T0, "reference"), (T0 + 300_000, "variant")]
    assert compare_signals([signal(T0)], [], label="x", counts=lambda s: s.time > T0) == []
    assert compare_signals([signal(T0)], [], label="x", one_sided_counts=lambda _s, _run: False) == []


def test_price_tolerance_is_relative_and_off_by_default() -> None:
    a, b = signal(T0, stop="40238.80528789208"), signal(T0, stop="40238.80528789235")
    assert len(compare_signals([a], [b], label="x")) == 1
    assert compare_signals([a], [b], label="x", rel_tol=1e-9) == []
    assert len(compare_signals([a], [signal(T0, stop="40238.9")], label="x", rel_tol=1e-9)) == 1
    assert same((Decimal(1), Decimal(2)), (Decimal(1), Decimal(2))) and not same((Decimal(1),), ())


def test_a_trade_closed_by_the_end_of_the_data_is_compared_on_its_entry_only() -> None:
    full, cut = trade(T0), trade(T0, exit_reason="end_of_data", exit_price="101")
    assert compare_trades([full], [cut], label="x", counts=lambda _t: True) == []
    (found,) = compare_trades([full], [trade(T0, exit_price="104")], label="x", counts=lambda _t: True)
    assert [f.name for f in found.fields] == ["exit_price"]
    (missing,) = compare_trades([full], [], label="x", counts=lambda _t: True)
    assert missing.only_in == "reference"


def test_cuts_are_seeded_and_half_follow_signals() -> None:
    signals = [100, 200, 300, 400]
    first = choose_cuts(1000, signals, 4, seed=7)
    assert first == choose_cuts(1000, signals, 4, seed=7) and len(first) == 4
    assert len({101, 201, 301, 401} & set(first)) >= 2
    assert all(2 <= c < 1000 for c in first)
    assert choose_cuts(1000, signals, 4, seed=8) != first or choose_cuts(1000, signals, 4, seed=9) != first
    assert choose_cuts(2, [], 3, seed=0) == [] and len(choose_cuts(10, [], 50, seed=0)) == 8


def test_default_offsets_leave_a_warm_up_and_something_to_compare() -> None:
    assert default_offsets(1000, 200) == [200, 400, 599]
    assert all(o + 200 < 1000 for o in default_offsets(1000, 200))
    assert default_offsets(100, 100) == []
