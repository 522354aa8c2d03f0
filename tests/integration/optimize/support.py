"""Shared pieces of the optimisation tests: a small slice of the shared BTCUSDT data (ten days,
2,880 five-minute candles) and PostgreSQL study clean-up."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import optuna

from ictbot.backtest.data import MarketData, parse_time
from ictbot.backtest.run import BacktestSpec
from ictbot.domain.timeframe import Timeframe
from ictbot.optimize.folds import Walk
from ictbot.optimize.runner import OptimizeJob, data_identity, load_datasets, make_folds
from ictbot.optimize.space import parse_space
from ictbot.optimize.storage import StorageOptions
from ictbot.optimize.worker import Search
from tests.conftest import DATA, require_shared

DATA_FILE = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"
START, END = "2024-01-05", "2024-01-15"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SPACE = ("fast=3:30", "slow=20:90:5")


def data_file() -> str:
    return str(require_shared(DATA_FILE))


def small_spec() -> BacktestSpec:
    return BacktestSpec(data=(data_file(),), symbols=("BTCUSDT",), timeframe=Timeframe.M5, strategy="s1_ema_cross",
                        start_ms=parse_time(START), end_ms=parse_time(END))


def small_job(*, trials: int, folds: int = 2, seed: int | None = 7, url: str | None = None, study: str = "t",
              datasets: Sequence[MarketData] | None = None, heartbeat: int = 1, grace: int = 3,
              walk: Walk = Walk.ANCHORED) -> OptimizeJob:
    spec = small_spec()
    loaded = datasets if datasets is not None else load_datasets(spec)
    return OptimizeJob(
        spec=spec, search=Search(parse_space(SPACE), "net_return", 3, trials),
        folds=make_folds(loaded, folds=folds, walk=walk, oos_fraction=0.5), walk=walk,
        oos_fraction=0.5, study=study, storage=StorageOptions(url, heartbeat, grace), seed=seed,
        data_id=data_identity(loaded))


def unique_study() -> str:
    return f"test-optimize-{uuid.uuid4().hex[:12]}"


def drop_studies(url: str, prefix: str) -> None:
    storage = optuna.storages.RDBStorage(url)
    try:
        for summary in storage.get_all_studies():
            if summary.study_name.startswith(prefix):
                optuna.delete_study(study_name=summary.study_name, storage=storage)
    finally:
        storage.engine.dispose()  # its pooled connections (a ResourceWarning, an error in this suite)
