"""Found by the fault campaign: an exit that fills while the bot is down is counted twice in equity.

At start the bot re-bases its equity on the exchange's balances (which already contain the exit),
then the start reconciliation recovers the exit's fill and folds its realized P&L in again. The
bot's equity then differs from the exchange's by that trade's P&L (seen: +9 and −44 USDT on a
10 000 USDT account); the daily-loss and drawdown breakers judge a wrong figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.session import DATA_DIR, SessionConfig, run_session
from tests.conftest import require_shared

BUG = ("product bug: equity is restored before the start reconciliation recovers the missed exit, "
       "so its P&L is counted twice")


@pytest.mark.timeout(200)
def test_exit_filled_while_the_bot_is_down_is_counted_once_in_equity(tmp_path: Path) -> None:
    require_shared(DATA_DIR)
    result = run_session(SessionConfig(seed=2, root=tmp_path, faults=("bot_down_through_exit",), fault_count=1,
                                       duration_s=4.0))
    assert result.error is None, result.error
    # Preconditions fail loudly (not as the expected failure): the scenario must really have happened.
    assert result.figures.get("exits_while_down") == 1  # the scenario really happened
    problem = result.checks["equity within one fee"]
    if problem is not None:
        pytest.xfail(f"{BUG}: {problem}")
    # Strict: once the bug is fixed this fails, so the xfail is removed and the test guards the fix.
    pytest.fail("the exit was counted once: the bug is fixed, turn this into a plain assertion")
