"""Soak benchmark: the live pipeline against the simulator for N simulated days on M symbols.

Run: .venv/bin/python bench/soak.py [--days 90] [--symbols 10] [--warmup-days 3] [--csv out.csv]
         [--trace [--trace-from DAY]]

The bot is the one ``ictbot demo`` runs (real Binance adapter over 127.0.0.1, SQLite, in-process
bus; 5m base with 15m/1h/4h context), driven by the stepped simulator as fast as the pipeline
takes candles (``ictbot.app.soak``). After every simulated day it samples RSS, open file
descriptors, asyncio tasks, the deepest event-bus queue and the database size (with its WAL).
The bot starts with enough history for its warm-up to fill every candle window (4h x 500 = 83
days of 5m candles), as a deployment does; ``--warmup-days`` then lets the runtime windows
(metric samples, the simulator's price cache) reach their level before growth is measured.

``--trace``: tracemalloc from the end of the warm-up, snapshots a third of the way in (or
``--trace-from`` days after the warm-up: the last month of a long run) and at the end; prints the
growth between them per allocating line (every file, not only ``ictbot``), per area (bot,
simulator, libraries) and the live objects by type (``gc.get_objects``). Slower.

Printed at the end: per gauge, the level after warm-up, the growth per simulated day after
warm-up (least-squares slope over the daily samples) and the final level as a ratio of the
warm-up level. Target (docs/benchmarks.md): RSS growth after warm-up <= 2 MB per 30 simulated
days at 10 symbols; tasks and descriptors flat.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import logging
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import structlog

from ictbot.app.soak import SoakRun, SoakSpec

GAUGES = ("rss_mb", "py_blocks_k", "malloc_mb", "fds", "tasks", "bus_depth_max", "db_mb")


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares growth per unit of x (0 with fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


class Tracer:
    """Two points after warm-up: allocations per line and live objects per type, compared."""

    def __init__(self) -> None:
        self.first: tracemalloc.Snapshot | None = None
        self.first_types: Counter[str] = Counter()

    @staticmethod
    def types() -> Counter[str]:
        return Counter(type(o).__qualname__ for o in gc.get_objects())

    def mark(self) -> None:
        gc.collect()
        self.first, self.first_types = tracemalloc.take_snapshot(), self.types()

    def report(self, top: int = 30) -> list[str]:
        gc.collect()
        assert self.first is not None
        second, types = tracemalloc.take_snapshot(), self.types()
        diffs = second.compare_to(self.first, "lineno")
        lines = ["growth per allocating line (all files):"]
        lines += [f"  {d.size_diff / 1e3:+10.1f} kB {d.count_diff:+8d} blocks  {_where(d.traceback)}"
                  for d in diffs[:top] if d.size_diff]
        areas: Counter[str] = Counter()
        for d in diffs:
            areas[_area(d.traceback[0].filename)] += d.size_diff
        lines.append("growth per area: " + ", ".join(f"{a} {v / 1e3:+.1f} kB" for a, v in areas.most_common()))
        grown = (types - self.first_types).most_common(top)
        lines.append("live objects grown, by type: " + ", ".join(f"{t} +{n}" for t, n in grown))
        return lines


def _where(tb: tracemalloc.Traceback) -> str:
    frame = tb[0]
    name = frame.filename
    for marker in ("/src/ictbot/", "/site-packages/", "/lib/python3"):
        if marker in name:
            name = name.split(marker, 1)[1]
            break
    return f"{name}:{frame.lineno}"


def _area(filename: str) -> str:
    if "/ictbot/exchange_sim/" in filename:
        return "simulator"
    if "/ictbot/" in filename:
        return "bot"
    if "sqlalchemy" in filename or "sqlite" in filename:
        return "sqlalchemy/sqlite"
    if "/site-packages/" in filename:
        return "other libraries"
    return "stdlib/other"


async def soak(days: int, symbols: int, warmup_days: int, workdir: Path,
               tracer: Tracer | None = None, trace_from: int | None = None) -> list[dict[str, Any]]:
    spec = SoakSpec(days=days + warmup_days, symbols=symbols)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    # the first snapshot: a third of the way in, or ``trace_from`` days after the warm-up (the last month)
    mark_day = warmup_days + (max(1, days // 3) if trace_from is None else trace_from)
    async with SoakRun(spec, workdir) as run:
        print(f"started after a warm-up of {spec.history_candles} base candles per symbol "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
        for day in range(1, warmup_days + days + 1):
            if tracer is not None and day == warmup_days + 1:
                tracemalloc.start(1)
            await run.advance_days(1)
            if tracer is not None and day == mark_day:
                tracer.mark()
            sample = {"day": day, "wall_s": round(time.perf_counter() - started, 1), **run.resources()}
            samples.append(sample)
            print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in sample.items()),
                  flush=True)
        if tracer is not None:
            print("\n".join(tracer.report()), flush=True)
            tracemalloc.stop()
    return samples


def summary(samples: list[dict[str, Any]], warmup_days: int, symbols: int) -> list[str]:
    after = [s for s in samples if s["day"] >= warmup_days]
    base = after[0]
    xs = [float(s["day"]) for s in after]
    lines = [f"{'gauge':<14}{'after warm-up':>14}{'per sim. day':>14}{'per 30 days':>13}{'final/warm-up':>15}"]
    for gauge in GAUGES:
        ys = [float(s[gauge]) for s in after]
        per_day = slope(xs, ys)
        ratio = ys[-1] / ys[0] if ys[0] else float("nan")
        lines.append(f"{gauge:<14}{ys[0]:>14.2f}{per_day:>14.4f}{per_day * 30:>13.3f}{ratio:>15.3f}")
    lines.append(f"{len(after) - 1} simulated days after a {warmup_days}-day warm-up on {symbols} symbols; "
                 f"{samples[-1]['wall_s']:.0f} s wall; RSS at warm-up {base['rss_mb']:.1f} MB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90, help="simulated days measured after warm-up")
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--warmup-days", type=int, default=3,
                        help="simulated days after the start before the growth is measured")
    parser.add_argument("--csv", type=Path, default=None, help="also write the daily samples here")
    parser.add_argument("--trace", action="store_true", help="compare tracemalloc snapshots and object counts")
    parser.add_argument("--trace-from", type=int, default=None,
                        help="with --trace: first snapshot this many days after the warm-up (default days // 3)")
    args = parser.parse_args()
    if args.days < 2 or args.warmup_days < 1:
        sys.exit("--days must be >= 2 and --warmup-days >= 1")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    with tempfile.TemporaryDirectory(prefix="ictbot-soak-") as tmp:
        samples = asyncio.run(soak(args.days, args.symbols, args.warmup_days, Path(tmp),
                                   Tracer() if args.trace else None, args.trace_from))
    if args.csv is not None:
        with args.csv.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(samples[0]))
            writer.writeheader()
            writer.writerows(samples)
    print("\n".join(summary(samples, args.warmup_days, args.symbols)))


if __name__ == "__main__":
    main()
