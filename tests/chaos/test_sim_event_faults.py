"""The simulator's stream faults the campaign uses: a report sent twice, a report sent out of order."""

from __future__ import annotations

from ictbot.exchange_sim.faults import FaultPlan


def _report(n: int) -> dict[str, int]:
    return {"i": n}


def test_a_duplicated_report_is_sent_twice_and_only_the_next_ones_counted() -> None:
    plan = FaultPlan(duplicated_events={"executionReport": 1})
    assert plan.execution_reports("a", _report(1)) == [("a", _report(1)), ("a", _report(1))]
    assert plan.execution_reports("a", _report(2)) == [("a", _report(2))]


def test_a_delayed_report_comes_right_after_the_accounts_next_one() -> None:
    plan = FaultPlan(delayed_events={"executionReport": 1})
    assert plan.execution_reports("a", _report(1)) == []  # held
    assert plan.execution_reports("b", _report(9)) == [("b", _report(9))]  # another account's: not released
    assert plan.execution_reports("a", _report(2)) == [("a", _report(2)), ("a", _report(1))]
    assert plan.execution_reports("a", _report(3)) == [("a", _report(3))]
    assert plan.held_reports == []
