"""Runs an optimisation: loads the candles, cuts the folds, and fills one Optuna study per fold in
this process (``run_worker``) or in N local processes sharing a SQLite study (``run_local``)."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from ictbot.backtest.data import MarketData, files_for_symbol, load_market_data
from ictbot.backtest.run import BacktestSpec
from ictbot.optimize.evaluate import Backtest, Evaluator, backtest_window
from ictbot.optimize.folds import Fold, Walk, walk_forward
from ictbot.optimize.space import space_to_json
from ictbot.optimize.storage import StorageOptions, fold_study_name, load_or_create, open_storage
from ictbot.optimize.worker import Search, complete_count, fill_study, make_objective, settle_fold

Progress = Callable[[int, int], None]  # (fold number, COMPLETE trials of that fold)


@dataclass(frozen=True)
class OptimizeJob:
    """Everything a worker process needs (picklable: local workers get a copy)."""

    spec: BacktestSpec
    search: Search
    folds: tuple[Fold, ...]
    walk: Walk
    oos_fraction: float
    study: str
    storage: StorageOptions
    seed: int | None = None
    data_id: tuple[tuple[str, str], ...] = ()  # (file name, sha256) of the candles, see data_identity
    worker_index: int = 0  # local workers: 0..N-1, so their samplers draw different parameters

    def sampler(self, fold: Fold) -> optuna.samplers.BaseSampler:
        seed = None if self.seed is None else self.seed + 1000 * fold.number + 7919 * self.worker_index
        return optuna.samplers.TPESampler(seed=seed)

    def meta(self, fold: Fold) -> dict[str, Any]:
        # Paths and the config file's location differ between machines; the content must not.
        base = {k: v for k, v in self.spec.describe().items() if k not in ("params", "start", "end", "config_file")}
        return {
            "strategy": self.spec.strategy, "space": space_to_json(self.search.space),
            "objective": self.search.objective, "min_trades": self.search.min_trades, "trials": self.search.trials,
            "fold": fold.to_json(), "folds": len(self.folds), "walk": self.walk.value,
            "oos_fraction": self.oos_fraction, "data": [list(d) for d in self.data_id] or sorted(self.spec.data),
            "base": base, "config_file": self.spec.config_file,
            "base_params": dict(self.spec.params),
        }


def load_datasets(spec: BacktestSpec) -> list[MarketData]:
    return [load_market_data(files_for_symbol(spec.data, s, spec.symbols), s, spec.timeframe, start_ms=spec.start_ms,
                             end_ms=spec.end_ms, detail_timeframe=spec.detail_timeframe) for s in spec.symbols]


def data_identity(datasets: Sequence[MarketData]) -> tuple[tuple[str, str], ...]:
    """The candle files by name and content: workers on other machines may keep them elsewhere."""
    return tuple(sorted((f"{d.symbol}:{Path(f.path).name}", f.sha256) for d in datasets for f in d.files))


def make_folds(datasets: Sequence[MarketData], *, folds: int, walk: Walk, oos_fraction: float) -> tuple[Fold, ...]:
    """Folds on the first symbol's candles (several symbols: the same calendar windows for each)."""
    first = datasets[0]
    return walk_forward(first.frame.open_time, first.timeframe.ms, folds=folds, walk=walk, oos_fraction=oos_fraction)


def run_worker(job: OptimizeJob, *, datasets: Sequence[MarketData] | None = None, storage: Any = None,
               progress: Progress | None = None, backtest: Backtest = backtest_window) -> list[dict[str, Any]]:
    """Fill every fold's study (with whoever else works on it), then settle each fold."""
    loaded = tuple(datasets) if datasets is not None else tuple(load_datasets(job.spec))
    evaluator = Evaluator(job.spec, loaded, backtest)
    store = storage if storage is not None else open_storage(job.storage)
    settled = []
    for fold in job.folds:
        study = load_or_create(store, fold_study_name(job.study, fold.number), job.meta(fold), job.sampler(fold))
        on_progress = None if progress is None else (lambda done, n=fold.number: progress(n, done))
        fill_study(study, make_objective(job.search, evaluator, fold), job.search.trials, on_progress=on_progress)
        settled.append(dict(settle_fold(study, job.search, evaluator, fold)))
    return settled


def _local_worker(job: OptimizeJob) -> None:
    run_worker(job)


def sqlite_url(directory: str) -> str:
    return f"sqlite:///{Path(directory) / 'study.db'}"


def run_local(job: OptimizeJob, workers: int, *, progress: Progress | None = None) -> None:
    """``workers`` processes on one storage (``job.storage``, else a temporary SQLite file); returns
    when all exited. A worker that dies leaves its trial to the heartbeat check of the others."""
    if job.storage.url is None:
        raise ValueError("run_local needs a storage URL the processes share")
    store = open_storage(job.storage)  # create the schema and the studies once, before the workers race
    for fold in job.folds:
        load_or_create(store, fold_study_name(job.study, fold.number), job.meta(fold), job.sampler(fold))
    context = multiprocessing.get_context("spawn")  # no inherited database connections or threads
    processes = [context.Process(target=_local_worker, args=(replace(job, worker_index=i),), daemon=True)
                 for i in range(workers)]
    for process in processes:
        process.start()
    try:
        while any(p.is_alive() for p in processes):
            _report_progress(store, job, progress)
            time.sleep(0.5)
    finally:
        for process in processes:
            process.join(timeout=5)
    _report_progress(store, job, progress)
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if len(failed) == len(processes):
        raise RuntimeError(f"every local worker failed (exit codes {failed})")


def _report_progress(store: Any, job: OptimizeJob, progress: Progress | None) -> None:
    if progress is None:
        return
    for fold in job.folds:
        study = optuna.load_study(study_name=fold_study_name(job.study, fold.number), storage=store)
        progress(fold.number, complete_count(study))


def temporary_storage(job: OptimizeJob, directory: str | None = None) -> tuple[OptimizeJob, str]:
    """``job`` on a fresh SQLite file (for ``--workers N`` without ``--storage``) and its folder."""
    folder = directory or tempfile.mkdtemp(prefix="ictbot-optimize-")
    return replace(job, storage=replace(job.storage, url=sqlite_url(folder))), folder
