"""Several worker processes on one PostgreSQL study (database ``test`` on 127.0.0.1:5432): every
requested trial completes exactly once, also when a worker is killed (kill -9) in the middle of a
trial — the heartbeat check fails its trial and another worker runs it again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ictbot.optimize.storage import fold_study_name
from tests.conftest import REPO_ROOT, require_service
from tests.integration.optimize.support import PG_URL, data_file, drop_studies, unique_study

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # worker processes: ~20-40 s each here


@pytest.fixture
def study() -> Iterator[str]:
    require_service("postgres")
    data_file()
    name = unique_study()
    yield name
    drop_studies(PG_URL, name)


# s1_ema_cross holding 1 s per trial: ten trials outlast the gap between the two workers' start-ups
SLOW_STRATEGY = f"{Path(__file__).parent / 'user_strategies' / 'slow_ema.py'}:SlowEmaCross"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)])}


def _slow_worker(study: str, trials: int, delay: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.integration.optimize.slow_worker", PG_URL, study,
                             str(trials), str(delay)], cwd=REPO_ROOT, env=_env(), stderr=subprocess.PIPE)


def _trials(study: str) -> list[optuna.trial.FrozenTrial]:
    return _fold_trials(study, 1)


def _fold_trials(study: str, fold: int) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(PG_URL)
    try:
        loaded = optuna.load_study(study_name=fold_study_name(study, fold), storage=storage)
        return loaded.get_trials(deepcopy=True)
    finally:
        storage.engine.dispose()  # its pooled connections, else ResourceWarnings (errors in this suite)


def _wait(process: subprocess.Popen[bytes], timeout: float = 150) -> None:
    _out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err.decode()[-2000:]


def test_two_cli_workers_fill_one_study_exactly(study: str, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "ictbot", "optimize", "--data", data_file(), "--start", "2024-01-05", "--end",
            "2024-01-15", "--strategy", SLOW_STRATEGY, "--space", "fast=3:30", "--space", "slow=20:90:5",
            "--trials", "10", "--folds", "1", "--min-trades", "3", "--storage", PG_URL, "--study", study,
            "--heartbeat-interval", "1", "--grace-period", "3"]
    workers = [subprocess.Popen([*args, "--json", str(tmp_path / f"w{i}.json")], cwd=REPO_ROOT, env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, (out + err).decode()[-2000:]
    for fold in (1,):
        trials = _fold_trials(study, fold)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        assert len(complete) == 10
        assert len({t.number for t in complete}) == 10
        assert all(t.user_attrs["worker"].split(":")[-1].isdigit() for t in complete)
        assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING, TrialState.FAIL)]
    # Both processes read the same finished study: their results agree.
    first, second = (json.loads((tmp_path / f"w{i}.json").read_text()) for i in range(2))
    assert first["folds"] == second["folds"]
    assert len({w for f in first["folds"] for w in f["workers"]}) == 2  # both did work


def test_killed_worker_trial_is_failed_retried_and_counted_once(study: str) -> None:
    requested = 10
    victim = _slow_worker(study, requested, delay=3.0)
    survivor = _slow_worker(study, requested, delay=0.3)
    deadline = time.monotonic() + 90
    running = None
    while running is None and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            running = next((t for t in _trials(study) if t.state == TrialState.RUNNING
                            and t.user_attrs.get("worker", "").endswith(f":{victim.pid}")), None)
        except KeyError:  # the study is not created yet
            continue
    assert running is not None, "the first worker never started a trial"
    os.kill(victim.pid, signal.SIGKILL)  # mid-trial: its backtest holds for 3 s
    victim.communicate()  # reaps it and closes its stderr pipe (left open: a ResourceWarning, an error here)
    _wait(survivor)  # it must not leave while the dead worker's trial holds a slot
    trials = _trials(study)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.number for t in failed] == [running.number]
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == running.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == failed[0].params == running.params and running.params
    assert retried[0].user_attrs["worker"].endswith(f":{survivor.pid}")
    assert len([t for t in trials if t.state == TrialState.COMPLETE]) == requested
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
