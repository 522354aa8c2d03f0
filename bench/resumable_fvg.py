"""The resumable ATR + FVG prototype against today's three implementations (#20 item 8).

Run: .venv/bin/python bench/resumable_fvg.py [--candles N] [--repeat K] [--compile]

Same run, same data (the real BTCUSDT 5m candles of shared/data/binance_spot_raw_5m), CPU seconds
(time.process_time), best of K, default parameters:
* batch: today's kernels (atr_series + displacement_direction + fvg_kernel) vs one ``step_range`` call;
* streaming, per candle: today's Python section (AtrState.update + FvgIndicator.step, as the engine drives
  them) and the whole TimeframeEngine (all sections, for scale) vs one ``step_range`` call per candle;
* snapshot views, as a backtest reads them (live zones at every 12th candle): the streaming book vs
  ``step_range`` in chunks + ``live_zones``;
* ``--compile``: first call in a fresh process on an empty numba cache and on the cache it wrote;
* lines of code that implement the FVG/ATR rules today and in the prototype.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ictbot.adapters.files import read_candle_files  # noqa: E402
from ictbot.domain.candle_frame import CandleFrame  # noqa: E402
from ictbot.indicators.core.atr import AtrState  # noqa: E402
from ictbot.indicators.core.history import History  # noqa: E402
from ictbot.indicators.events import Event, EventFactory  # noqa: E402
from ictbot.indicators.ict.fvg import FvgIndicator  # noqa: E402
from ictbot.indicators.kernels.codes import SLOT_FVG  # noqa: E402
from ictbot.indicators.kernels.fvg import atr_series, displacement_direction, fvg_kernel  # noqa: E402
from ictbot.indicators.params import IndicatorParams  # noqa: E402
from ictbot.indicators.resumable.fvg import Columns, init_state, live_zones, step_range  # noqa: E402
from ictbot.indicators.stream import TimeframeEngine  # noqa: E402

P = IndicatorParams()
EVERY = 12  # decision candles of a backtest on 5m candles: hourly

FIRST_CALL = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
t = np.arange(2000, dtype=np.int64) * 300_000 + 1_704_067_200_000
x = 100 + np.cumsum(np.sin(np.arange(2000)))
start = time.process_time()
if sys.argv[2] == "today":
    from ictbot.indicators.kernels.fvg import atr_series, displacement_direction, fvg_kernel
    atr = atr_series(x + 1.5, x - 1.5, x + 0.5, 14)
    disp = displacement_direction(x, x + 1.5, x - 1.5, x + 0.5, atr, 1.0, 0.5)
    fvg_kernel(t, x, x + 1.5, x - 1.5, x + 0.5, atr, disp, True, False, False, 0.0, 0.0, -1, False, 50, 4)
else:
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.resumable.fvg import Columns, init_state, step_range
    step_range(init_state(IndicatorParams()), Columns(t, x, x + 1.5, x - 1.5, x + 0.5), 0, 2000)
print(time.process_time() - start)
"""


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def batch_today(c: Columns) -> None:
    atr = atr_series(c.h, c.lo, c.c, 14)
    disp = displacement_direction(c.o, c.h, c.lo, c.c, np.concatenate(([np.nan], atr[:-1])), 1.0, 0.5)
    fvg_kernel(c.t, c.o, c.h, c.lo, c.c, atr, disp, True, False, False, 0.0, 0.0, -1, False, 50, SLOT_FVG)


def streaming_section_today(frame: CandleFrame, read_every: int = 0) -> int:
    """AtrState + FvgIndicator driven per candle as ``TimeframeEngine.step`` drives them."""
    hist = History(8)
    factory = EventFactory("5m", 300_000)
    atr = AtrState(P.atr.length)
    fvg = FvgIndicator(P.fvg, "bench")
    out: list[Event] = []
    seen = 0
    rows = zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
               frame.close.tolist(), strict=True)
    for i, (t, o, h, lo, c) in enumerate(rows):
        hist.append(t, o, h, lo, c)
        factory.begin(i, t)
        fvg.step(hist, i, h, lo, c, atr.update(h, lo, c), 0, factory, out)
        if read_every and i % read_every == 0:
            seen += len(fvg.book.alive(1)) + len(fvg.book.alive(-1))
    return seen


def engine_today(frame: CandleFrame) -> None:
    engine = TimeframeEngine("5m", P)
    for row in zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                   frame.close.tolist(), strict=True):
        engine.step(*row)


def streaming_resumable(c: Columns, n: int) -> None:
    state = init_state(P)
    for i in range(n):
        step_range(state, c, i, i + 1)


def snapshots_resumable(c: Columns, n: int) -> int:
    state = init_state(P)
    seen = 0
    for i0 in range(0, n, EVERY):
        step_range(state, c, i0, min(i0 + EVERY, n))
        seen += len(live_zones(state))
    return seen


def first_call(which: str, cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, str(REPO / "src"), which], capture_output=True,
                          text=True, env=env, check=True, timeout=3600)
    return float(done.stdout.split()[-1])


def lines(*paths: str) -> int:
    return sum(len((REPO / "src/ictbot" / p).read_text().splitlines()) for p in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=None, help="first N candles (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also measure cold compile and cache load")
    args = parser.parse_args()
    frame = read_candle_files(sorted(Path("/work/shared/data/binance_spot_raw_5m").glob("*.csv")))
    if args.candles:
        frame = frame.slice(0, args.candles)
    n = len(frame)
    cols = Columns(frame.open_time, frame.open, frame.high, frame.low, frame.close)
    step_range(init_state(P), cols, 0, 100)  # compile / load both outside the timings
    batch_today(Columns(cols.t[:100], cols.o[:100], cols.h[:100], cols.lo[:100], cols.c[:100]))
    print(f"{n:,} BTCUSDT 5m candles, CPU s, best of {args.repeat}")
    a = best(lambda: batch_today(cols), args.repeat)
    b = best(lambda: step_range(init_state(P), cols, 0, n), args.repeat)
    print(f"batch       today's kernels {a:8.3f}   resumable, one call {b:8.3f}   ratio {b / a:5.2f}")
    a = best(lambda: streaming_section_today(frame), 1)
    e = best(lambda: engine_today(frame), 1)
    b = best(lambda: streaming_resumable(cols, n), 1)
    print(f"streaming   python ATR+FVG {1e6 * a / n:6.2f} µs/candle   whole engine {1e6 * e / n:6.2f} µs/candle   "
          f"resumable, one call per candle {1e6 * b / n:6.2f} µs/candle   ratio vs python section {b / a:5.2f}")
    a = best(lambda: streaming_section_today(frame, EVERY), 1)
    b = best(lambda: snapshots_resumable(cols, n), args.repeat)
    print(f"snapshots   python section + book every {EVERY} {a:8.3f}   resumable chunks + live_zones {b:8.3f}   "
          f"ratio {b / a:5.2f}")
    if args.compile:
        for which in ("today", "resumable"):
            with tempfile.TemporaryDirectory() as cache:
                cold = first_call(which, cache)
                warm = first_call(which, cache)
            print(f"compile     {which:9s} cold {cold:6.2f} s   from cache {warm:6.2f} s")
    today = lines("indicators/core/atr.py", "indicators/ict/fvg.py", "indicators/kernels/fvg.py",
                  "indicators/replay/zones.py", "indicators/replay/zones_base.py")
    proto = lines("indicators/resumable/kernel.py", "indicators/resumable/compact.py", "indicators/resumable/fvg.py",
                  "indicators/resumable/layout.py")
    print(f"lines       today (atr, ict/fvg, kernels/fvg, replay/zones*) {today}   prototype {proto}")


if __name__ == "__main__":
    main()
