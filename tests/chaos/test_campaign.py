"""A short fixed-seed fault campaign: simulator and bot as processes, every invariant must hold.

The long campaign (hundreds of sessions) is ``scripts/chaos_campaign.py``; its tally is in
docs/reliability.md.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.chaos.campaign import run_campaign
from tests.chaos.faults import FAULTS
from tests.chaos.session import DATA_DIR
from tests.conftest import require_service, require_shared

CI_SEED = 1000
# Every fault kind, the bot kills included: the equity double count they used to expose (a stop or
# target filled while the bot was down) is fixed and pinned by
# tests/integration/risk/test_restart_exit_counted_once.py.
CI_FAULTS = tuple(FAULTS)
# The second session takes the kinds added last, so each is drawn (seed 1022 draws all four).
CI_NEW_SEED = 1022
NEW_FAULTS = ("duplicate_events", "reorder_events", "partial_fill_disconnect", "db_loss")


@pytest.fixture(autouse=True)
def _shared_data() -> None:
    require_shared(DATA_DIR)


@pytest.mark.timeout(600)  # two sessions of ~35-45 s each idle, run side by side; 280 s seen at load 15 in a row
def test_short_fixed_seed_campaign_keeps_every_invariant(tmp_path: Path) -> None:
    # the sessions are independent (own workdir, ports and database) and mostly wait on real time, so
    # they run at once: the campaigns of docs/reliability.md ran four at a time and held every invariant
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(run_campaign, 1, CI_SEED, tmp_path, faults=CI_FAULTS, fault_count=3, duration_s=15.0)
        second = pool.submit(run_campaign, 1, CI_NEW_SEED, tmp_path, faults=NEW_FAULTS, fault_count=4,
                             duration_s=15.0)
        tally = first.result()
        tally.sessions += second.result().sessions
    failures = {s.seed: s.error or {k: v for k, v in s.checks.items() if v} for s in tally.failed}
    assert not failures, tally.render()
    assert sum(tally.injected().values()) >= 4  # the faults really were injected
    # (a partial fill needs the price to reach a near target: 23 of 24 applied in docs/reliability.md,
    # so it may still be skipped; the others may not)
    assert {"duplicate_events", "reorder_events", "db_loss"} <= set(tally.injected()), tally.render()
    assert all(s.figures.get("entries_accepted", 0) >= 1 for s in tally.sessions)  # and there was order flow


@pytest.mark.postgres
@pytest.mark.timeout(400)  # ~40 s idle, 100 s seen at load 15
def test_postgres_session_survives_connection_loss(tmp_path: Path) -> None:
    require_service("postgres")
    from tests.chaos.session import SessionConfig, run_session

    result = run_session(SessionConfig(seed=CI_SEED + 3, root=tmp_path, faults=("db_loss",), fault_count=2,
                                       duration_s=12.0, postgres=True))
    assert result.passed, (result.error, {k: v for k, v in result.checks.items() if v})
    assert result.database == "postgresql" and result.injected["db_loss"] == 2
