"""The first backtest of an install compiles the indicator kernels (1-2 min at 0 %): the job says so.

The worker reports a ``phase`` around the compile; the runner shows it in the job's status while the
job runs and drops it once candles run. The worker here is a stand-in executable that speaks the
worker's JSON lines, so the status is read exactly as the API reads it, without a real compile.
"""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from ictbot.app.facade_backtests import BacktestJobRunner, JobSettings
from ictbot.backtest.run import BacktestSpec
from ictbot.cli import backtest_job
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators import kernels
from ictbot.ports.dashboard import BacktestJobRequest

JAN_1 = 1_704_067_200_000


def _stand_in_worker(tmp_path: Path, go_on: Path) -> Path:
    """An executable that answers like ``python -m ictbot.cli.backtest_job``: started, the compile phase
    until ``go_on`` exists, then progress and done."""
    lines = [{"event": "started", "done": 0, "total": 96},
             {"event": "phase", "phase": backtest_job.COMPILING_KERNELS}]
    rest = [{"event": "phase", "phase": None}, {"event": "progress", "done": 48, "total": 96},
            {"event": "progress", "done": 96, "total": 96}, {"event": "done", "result": "r.json"}]
    script = tmp_path / "worker"
    script.write_text(
        "#!/bin/sh\n"
        + "".join(f"echo '{json.dumps(line)}'\n" for line in lines)
        + f"while [ ! -e '{go_on}' ]; do sleep 0.02; done\n"
        + "".join(f"echo '{json.dumps(line)}'\n" for line in rest)
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_the_job_status_names_the_compile_while_it_runs_then_shows_the_progress(tmp_path: Path) -> None:
    go_on = tmp_path / "compiled"
    settings = JobSettings(reports_dir=tmp_path, database_url="sqlite://", market="spot",
                           base_timeframe=Timeframe.M5, config_file=None)
    runner = BacktestJobRunner(settings, python=str(_stand_in_worker(tmp_path, go_on)))
    request = BacktestJobRequest(strategy="s2_fvg", symbol="BTCUSDT", timeframe=Timeframe.M15,
                                 start_ms=JAN_1, end_ms=JAN_1 + 86_400_000)
    try:
        job = runner.start(request)
        deadline = time.monotonic() + 10
        while runner.get(job.id).phase is None and time.monotonic() < deadline:
            time.sleep(0.01)
        compiling = runner.get(job.id)
        assert compiling.state == "running" and compiling.percent == 0.0
        assert compiling.phase == "compiling indicator kernels (first run only, ~1–2 min)"
        assert runner.listing().items[0].phase == compiling.phase  # the dashboard's list shows it too
        go_on.touch()
        finished = runner.wait(job.id, 10)
        assert finished.state == "done" and finished.percent == 100.0 and finished.phase is None
    finally:
        runner.close()


def test_the_worker_announces_the_compile_before_it_starts_and_clears_it_after(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    said_before_compiling: list[str] = []
    monkeypatch.setattr(kernels, "warm_up", lambda: said_before_compiling.append(capsys.readouterr().out))
    backtest_job.compile_kernels_announced()
    (announced,) = [json.loads(line) for line in said_before_compiling[0].splitlines()]
    assert announced == {"event": "phase", "phase": backtest_job.COMPILING_KERNELS}
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [{"event": "phase", "phase": None}]


@pytest.mark.skipif(not kernels.available(), reason="numba is not installed")
def test_only_a_kernel_replay_on_an_install_without_the_cache_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    ict = BacktestSpec(("m.csv",), ("BTCUSDT",), Timeframe.M5, "strategy_a")  # replays the kernels
    monkeypatch.setattr(kernels, "compiled", lambda: False)
    assert backtest_job._kernels_to_compile(ict)
    per_candle = BacktestSpec(("m.csv",), ("BTCUSDT",), Timeframe.M5, "strategy_a", per_candle=True)
    assert not backtest_job._kernels_to_compile(per_candle)  # the Python engine: no kernels
    assert not backtest_job._kernels_to_compile(BacktestSpec(("m.csv",), ("BTCUSDT",), Timeframe.M5, "s1_ema_cross"))
    monkeypatch.setattr(kernels, "compiled", lambda: True)
    assert not backtest_job._kernels_to_compile(ict)
