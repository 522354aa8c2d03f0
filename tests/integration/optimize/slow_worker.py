"""A worker process for the distributed tests: ``run_worker`` on a shared storage, each trial's
backtest held for DELAY seconds first (so a test can kill it mid-trial)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from ictbot.backtest.data import MarketData
from ictbot.backtest.run import BacktestOutcome, BacktestSpec
from ictbot.optimize.evaluate import backtest_window
from ictbot.optimize.runner import run_worker
from tests.integration.optimize.support import small_job


def main(url: str, study: str, trials: int, delay: float) -> None:
    def slow(spec: BacktestSpec, data: Sequence[MarketData]) -> BacktestOutcome:
        time.sleep(delay)
        return backtest_window(spec, data)

    run_worker(small_job(trials=trials, folds=1, seed=None, url=url, study=study), backtest=slow)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
