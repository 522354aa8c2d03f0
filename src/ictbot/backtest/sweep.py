"""Parameter sweeps: the cartesian product of ``--sweep name=a,b,c`` run in parallel processes.

Each combination is an ordinary ``run_backtest`` of a spec with the parameters replaced, so a
sweep row equals the individual run with those parameters (tests check the fingerprints). Worker
processes load the candle files once and reuse them for every combination they get.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

from ictbot.backtest.data import MarketData, files_for_symbol, load_market_data
from ictbot.backtest.run import BacktestSpec, run_backtest

RISK_PREFIX = "risk."


def parse_value(text: str) -> Any:
    """``10`` → 10, ``0.5`` → 0.5, ``true`` → True, ``"x"``/``x`` → "x"."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        return stripped


def parse_sweep(items: Sequence[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise ValueError(f"--sweep {item!r}: expected name=a,b,c")
        if name.strip() in grid:
            raise ValueError(f"--sweep {name.strip()} given twice")
        grid[name.strip()] = [parse_value(v) for v in values.split(",") if v.strip()]
    return grid


def combinations(grid: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    names = list(grid)
    for values in itertools.product(*(grid[name] for name in names)):
        yield dict(zip(names, values, strict=True))


def apply_combination(spec: BacktestSpec, combination: Mapping[str, Any]) -> BacktestSpec:
    """Strategy parameters go to ``params``; ``risk.<field>`` overrides a risk limit."""
    params = {k: v for k, v in combination.items() if not k.startswith(RISK_PREFIX)}
    risk = {k[len(RISK_PREFIX):]: v for k, v in combination.items() if k.startswith(RISK_PREFIX)}
    updated = spec.with_params(**params)
    if risk:
        updated = replace(updated, risk={**(spec.risk or {}), **risk})
    return updated


@dataclass(frozen=True)
class SweepRow:
    combination: dict[str, Any]
    summary: dict[str, Any]
    fingerprint: str
    seconds: float
    error: str | None = None


_CACHE: dict[tuple[Any, ...], list[MarketData]] = {}


def _load(spec: BacktestSpec) -> list[MarketData]:
    key = (spec.data, spec.symbols, spec.timeframe, spec.start_ms, spec.end_ms, spec.detail_timeframe)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = [
            load_market_data(files_for_symbol(spec.data, s, spec.symbols), s, spec.timeframe, start_ms=spec.start_ms,
                             end_ms=spec.end_ms, detail_timeframe=spec.detail_timeframe)
            for s in spec.symbols
        ]
    return _CACHE[key]


def run_one(spec: BacktestSpec, combination: dict[str, Any]) -> SweepRow:
    """Worker entry point (module level so it pickles)."""
    try:
        outcome = run_backtest(apply_combination(spec, combination), loaded=_load(spec))
    except Exception as exc:  # a bad combination (invalid parameter) must not sink the sweep
        return SweepRow(combination, {}, "", 0.0, f"{type(exc).__name__}: {exc}")
    return SweepRow(combination, outcome.summary().to_json(), outcome.fingerprint, outcome.seconds)


def default_workers(jobs: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, jobs))


def run_sweep(
    spec: BacktestSpec,
    grid: Mapping[str, Sequence[Any]],
    *,
    workers: int | None = None,
    on_done: Callable[[SweepRow], None] | None = None,
) -> list[SweepRow]:
    combos = list(combinations(grid))
    count = default_workers(len(combos)) if workers is None else max(1, workers)
    rows: list[SweepRow] = []
    if count == 1:
        for combination in combos:
            rows.append(run_one(spec, combination))
            if on_done is not None:
                on_done(rows[-1])
        return rows
    with ProcessPoolExecutor(max_workers=count) as pool:
        futures: list[Future[SweepRow]] = [pool.submit(run_one, spec, c) for c in combos]
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            if on_done is not None:
                on_done(row)
    order = {json.dumps(c, sort_keys=True): i for i, c in enumerate(combos)}
    rows.sort(key=lambda r: order[json.dumps(r.combination, sort_keys=True)])
    return rows


def ranked(rows: Sequence[SweepRow], metric: str = "total_return_pct") -> list[SweepRow]:
    """Best first; failed runs and missing metrics last."""
    def key(row: SweepRow) -> tuple[int, float]:
        value = row.summary.get(metric)
        return (1, 0.0) if row.error or value is None else (0, -float(value))

    return sorted(rows, key=key)
