"""Compiled batch kernels (``ictbot.indicators.kernels``, numba) vs the Python fold of the streaming step.

Run: .venv/bin/python bench/indicator_kernels.py [--candles N] [--repeat K] [--compile] [--no-fold]
                                                 [--baseline-python PATH]

Same run, same data (the 148,896 real BTCUSDT 5m candles of shared/data/binance_spot_raw_5m):
* kernel "columns only" and "columns + Event objects", best of K runs, CPU seconds (time.process_time);
  CPU per section (ATR, FVG, ..., merge into log order);
* numba compile cost: with ``--compile``, first call in a fresh process on an empty cache (compile) and
  in a second fresh process on the cache it wrote (cache load), both in a temporary NUMBA_CACHE_DIR;
* the Python fold ``suite.compute`` once, with a parity check (kernel events == fold events);
* smartmoneyconcepts 0.0.27 (8 functions, see bench/indicators.py) if its venv exists.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ictbot.adapters.files import read_candle_files  # noqa: E402
from ictbot.domain.candle_frame import CandleFrame  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402
from ictbot.indicators.kernels import compute_columns  # noqa: E402
from ictbot.indicators.kernels.convert import to_events  # noqa: E402
from ictbot.indicators.suite import compute  # noqa: E402

FIRST_CALL = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.process_time()
from ictbot.indicators.kernels.batch import compute_columns
import numpy as np
t = np.arange(2000, dtype=np.int64) * 300_000 + 1_704_067_200_000
x = 100 + np.cumsum(np.sin(np.arange(2000)))
imported = time.process_time()
compute_columns(t, x, x + 1.5, x - 1.5, x + 0.5, "5m")
print(imported - start, time.process_time() - imported)
"""


def load(limit: int | None) -> CandleFrame:
    files = sorted(Path("/work/shared/data/binance_spot_raw_5m").glob("*.csv"))
    frame = read_candle_files(files)
    return frame if limit is None else frame.slice(0, limit)


def first_call(cache_dir: str) -> tuple[float, float]:
    """(import CPU s, first-call CPU s) in a fresh interpreter using ``cache_dir`` as numba cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, str(REPO / "src")], capture_output=True, text=True,
                          env=env, check=True, timeout=3600)
    imported, call = done.stdout.split()
    return float(imported), float(call)


def baseline(frame: CandleFrame, python: Path) -> dict[str, dict[str, float]] | None:
    """smartmoneyconcepts through bench/indicators.py's runner (None when its venv is missing)."""
    spec = importlib.util.spec_from_file_location("bench_indicators", REPO / "bench" / "indicators.py")
    if spec is None or spec.loader is None or not python.exists():
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, dict[str, float]] | None = module.bench_baseline(frame, python)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="measure cold compile + cache load (slow)")
    parser.add_argument("--no-fold", action="store_true", help="skip the Python fold baseline")
    parser.add_argument("--baseline-python", type=Path, default=Path("/work/benchenv-ind/bin/python"))
    args = parser.parse_args()
    frame = load(args.candles)
    data = (frame.open_time, frame.open, frame.high, frame.low, frame.close)
    n = len(frame)
    print(f"data: {n:,} BTCUSDT 5m candles; load average at start {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores)")
    if args.compile:
        with tempfile.TemporaryDirectory(prefix="ictbot-numba-") as cache:
            imp, cold = first_call(cache)
            imp2, warm = first_call(cache)
        print(f"numba first call, empty cache (compile): {cold:.1f} s cpu (import {imp:.2f} s); "
              f"first call from the on-disk cache: {warm:.2f} s cpu (import {imp2:.2f} s)")
    start = time.process_time()
    compute_columns(*data, Timeframe.M5)  # load / compile into this process
    print(f"first call in this process (repo cache): {time.process_time() - start:.2f} s cpu")
    best = float("inf")
    sections: dict[str, float] = {}
    cols: Any = None
    for _ in range(args.repeat):
        start = time.process_time()
        cols = compute_columns(*data, Timeframe.M5)
        best = min(best, time.process_time() - start)
        for name, value in cols.cpu.items():
            sections[name] = min(sections.get(name, float("inf")), value)
    print(f"kernel, columns only: best of {args.repeat} {best:.3f} s cpu ({best / n * 1e6:.2f} µs/candle), "
          f"{len(cols):,} events; load {os.getloadavg()[0]:.1f}")
    print("  per section (best): " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in sections.items()))
    start = time.process_time()
    events = to_events(compute_columns(*data, Timeframe.M5))
    with_events = time.process_time() - start
    print(f"kernel, columns + Event objects: {with_events:.2f} s cpu")
    if not args.no_fold:
        start = time.process_time()
        fold = compute(*data, Timeframe.M5).events
        fold_cpu = time.process_time() - start
        print(f"python fold suite.compute: {fold_cpu:.2f} s cpu, {len(fold):,} events; parity "
              f"{'OK' if fold == events else 'MISMATCH'}; load {os.getloadavg()[0]:.1f}")
        print(f"ratio (cpu): columns {fold_cpu / best:.0f}x, columns + events {fold_cpu / with_events:.1f}x "
              "faster than the fold")
    result = baseline(frame, args.baseline_python)
    if result is None:
        print(f"smartmoneyconcepts baseline missing ({args.baseline_python})")
        return
    smc = sum(result["cpu"].values())
    print(f"smartmoneyconcepts 0.0.27 (8 functions): {smc:.1f} s cpu -> kernel columns {smc / best:.0f}x, "
          f"columns + events {smc / with_events:.1f}x faster (target >= 50x)")


if __name__ == "__main__":
    main()
