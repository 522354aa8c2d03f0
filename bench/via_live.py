"""`--via-live` throughput: the live pipeline trading a candle file on the exchange simulator.

Run: .venv/bin/python bench/via_live.py [--data FILE] [--symbol ETHUSDT] [--start 2025-03-01]
     [--end 2025-03-08] [--profile out.prof]

Prints the backtest's and the live run's candles/s (wall and CPU of the live run) and the parity
verdict, with the load average before and after (the machine is shared). ``--profile`` writes a
cProfile of the live run (``python -m pstats out.prof``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from pathlib import Path

from ictbot.backtest.data import load_market_data, parse_time
from ictbot.backtest.live_parity import decision_candles, judge, run_live
from ictbot.backtest.run import BacktestSpec, run_backtest
from ictbot.domain.timeframe import Timeframe

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/feather/harthor_marketlab/ETH_USDT-5m.feather"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--symbol", default="ETHUSDT")
    parser.add_argument("--start", default="2025-03-01")
    parser.add_argument("--end", default="2025-03-08")
    parser.add_argument("--strategy", default="strategy_a")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--per-candle", action="store_true", help="step every candle alone (no batches)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    spec = BacktestSpec(data=(args.data,), symbols=(args.symbol,), timeframe=Timeframe.M5, strategy=args.strategy,
                        start_ms=parse_time(args.start), end_ms=parse_time(args.end))
    data = load_market_data(spec.data, args.symbol, spec.timeframe, start_ms=spec.start_ms, end_ms=spec.end_ms)
    started = time.perf_counter()
    result = run_backtest(spec, loaded=[data]).results[0]
    backtest_s = time.perf_counter() - started
    assert result.instrument is not None
    profiler = cProfile.Profile() if args.profile else None
    cpu = time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        if profiler is not None:
            profiler.enable()
        decisions = None if args.per_candle else decision_candles(result, data)
        live = asyncio.run(run_live(spec, data, Path(scratch), result.instrument, decisions))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    cpu = time.process_time() - cpu
    report = judge(result, data, live, spec, result.instrument)
    print(f"{len(data)} candles, {len(result.trades)} trades, {len(live.orders)} live orders")
    print(f"backtest   {backtest_s:8.2f} s  {len(data) / backtest_s:10,.0f} candles/s")
    print(f"via-live   {live.seconds:8.2f} s  {len(data) / live.seconds:10,.1f} candles/s  "
          f"(CPU {cpu:.2f} s, {len(data) / cpu:,.1f} candles/CPU-s)")
    replay_s = live.seconds - live.startup_seconds
    print(f"  start-up {live.startup_seconds:6.2f} s; replay {replay_s:.2f} s = {len(data) / replay_s:,.1f} candles/s")
    print(report.describe())
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
