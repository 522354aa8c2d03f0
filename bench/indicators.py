"""Indicator engine benchmark: full-suite batch time and streaming cost per candle per timeframe.

Run: .venv/bin/python bench/indicators.py [--candles N] [--baseline-python PATH]
     .venv/bin/python bench/indicators.py --quick   (streaming only, one month of candles, best of 3)

Streaming is measured twice per timeframe set: snapshots returned and dropped unread (their views are
then never built) and snapshots fully read on every candle (every view of every timeframe built, as a
strategy reading all its timeframes does); the engine-step share is the fold of ``TimeframeEngine.step``
over the same (resampled) candles.

Data: the 148,896 real BTCUSDT 5m candles in shared/data/binance_spot_raw_5m. The baseline is
``smartmoneyconcepts`` 0.0.27 (swing_highs_lows, bos_choch, fvg, ob, liquidity, previous_high_low,
sessions, retracements) run in a separate venv as a subprocess (default /work/benchenv-ind); if that
venv is missing the baseline is reported as missing. Ratios are computed from numbers measured in the
same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from ictbot.adapters.files import read_candle_files  # noqa: E402
from ictbot.domain.candle_frame import CandleFrame  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402
from ictbot.indicators.mtf import MultiTimeframeEngine  # noqa: E402
from ictbot.indicators.resampling import resample  # noqa: E402
from ictbot.indicators.stream import TimeframeEngine  # noqa: E402
from ictbot.indicators.suite import compute  # noqa: E402

MONTH = 30 * 288  # 5m candles

BASELINE_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    from smartmoneyconcepts import smc
import numpy as np, pandas as pd
raw = np.load(sys.argv[1])
df = pd.DataFrame({"open": raw["o"], "high": raw["h"], "low": raw["l"], "close": raw["c"], "volume": raw["v"]},
                  index=pd.to_datetime(raw["t"], unit="ms"))
timings = {}
cpu = {}
def timed(name, fn):
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    timings[name] = time.perf_counter() - start
    cpu[name] = time.process_time() - start_cpu
    return out
swings = timed("swing_highs_lows", lambda: smc.swing_highs_lows(df, swing_length=10))
timed("bos_choch", lambda: smc.bos_choch(df, swings))
timed("fvg", lambda: smc.fvg(df))
timed("ob", lambda: smc.ob(df, swings))
timed("liquidity", lambda: smc.liquidity(df, swings))
timed("previous_high_low_1D", lambda: smc.previous_high_low(df, time_frame="1D"))
timed("sessions_london", lambda: smc.sessions(df, session="London"))
timed("retracements", lambda: smc.retracements(df, swings))
print(json.dumps({"wall": timings, "cpu": cpu}))
"""


def load(limit: int | None) -> CandleFrame:
    files = sorted((REPO.parent / "shared" / "data" / "binance_spot_raw_5m").glob("*.csv"))
    if not files:
        files = sorted(Path("/work/shared/data/binance_spot_raw_5m").glob("*.csv"))
    frame = read_candle_files(files)
    return frame if limit is None else frame.slice(0, limit)


def bench_batch(frame: CandleFrame) -> tuple[float, float, int]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = compute(frame.open_time, frame.open, frame.high, frame.low, frame.close, Timeframe.M5)
    return time.perf_counter() - start, time.process_time() - start_cpu, len(result.events)


def _rows(frame: CandleFrame) -> list[tuple[int, float, float, float, float]]:
    return list(zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                    frame.close.tolist(), strict=True))


def bench_stream(frame: CandleFrame, higher: list[Timeframe], read: bool = False) -> tuple[float, float, int, int]:
    """Seconds for ``on_values`` over the frame, base candles fed, candles stepped over all timeframes.

    ``read``: every view of every snapshot is built (``len(snapshot.views)`` builds them all).
    """
    engine = MultiTimeframeEngine(Timeframe.M5, higher, resample_higher=True)
    rows = _rows(frame)
    feed = engine.on_values
    m5 = Timeframe.M5
    start, start_cpu = time.perf_counter(), time.process_time()
    if read:
        for t, o, h, lo, c in rows:
            snapshot = feed("BTCUSDT", m5, t, o, h, lo, c)
            assert snapshot is not None and len(snapshot.views) > 0
    else:
        for t, o, h, lo, c in rows:
            feed("BTCUSDT", m5, t, o, h, lo, c)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    stepped = sum(engine.engine("BTCUSDT", tf).count for tf in engine.timeframes)
    return elapsed, cpu, len(rows), stepped


def bench_steps(frame: CandleFrame, higher: list[Timeframe]) -> float:
    """CPU seconds of ``TimeframeEngine.step`` alone over the base candles and their resampled HTF candles."""
    total = 0.0
    for tf in (Timeframe.M5, *higher):
        series = frame if tf is Timeframe.M5 else resample(frame, Timeframe.M5, tf)[0]
        rows = _rows(series)
        step = TimeframeEngine(tf).step
        start = time.process_time()
        for t, o, h, lo, c in rows:
            step(t, o, h, lo, c)
        total += time.process_time() - start
    return total


def report_stream(frame: CandleFrame, repeat: int) -> None:
    for higher in ([], [Timeframe.M15, Timeframe.H1, Timeframe.H4]):
        names = ",".join(["5m", *(tf.value for tf in higher)])
        steps = min(bench_steps(frame, higher) for _ in range(repeat))
        unread = min((bench_stream(frame, higher) for _ in range(repeat)), key=lambda r: r[1])
        read = min((bench_stream(frame, higher, read=True) for _ in range(repeat)), key=lambda r: r[1])
        base, stepped = unread[2], unread[3]
        per = 1e6 / base
        print(f"streaming MultiTimeframeEngine [{names}] over {base:,} base candles ({stepped:,} candles stepped "
              f"over all timeframes), µs cpu per base candle / per candle per timeframe (target <= 50):")
        print(f"  snapshots returned, unread: {unread[1] * per:.1f} / {unread[1] / stepped * 1e6:.1f} "
              f"(wall {unread[0] * per:.1f} per base candle)")
        print(f"  snapshots read (all views): {read[1] * per:.1f} / {read[1] / stepped * 1e6:.1f} "
              f"(wall {read[0] * per:.1f} per base candle)")
        print(f"  parts per base candle: engine steps {steps * per:.1f}, resampling + HTF tracking + snapshot "
              f"object {(unread[1] - steps) * per:.1f}, building the views {(read[1] - unread[1]) * per:.1f}")


def bench_baseline(frame: CandleFrame, python: Path) -> dict[str, dict[str, float]] | None:
    if not python.exists():
        return None
    import numpy as np

    path = Path("/tmp") / f"ictbot-bench-{os.getpid()}.npz"
    np.savez(path, t=frame.open_time, o=frame.open, h=frame.high, l=frame.low, c=frame.close, v=frame.volume)
    try:
        done = subprocess.run([str(python), "-c", BASELINE_SCRIPT, str(path)], capture_output=True, text=True,
                              timeout=3600, check=False)
    finally:
        path.unlink(missing_ok=True)
    if done.returncode != 0:
        print(f"baseline failed: {done.stderr.strip()[-400:]}")
        return None
    parsed: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=None, help="use only the first N candles")
    parser.add_argument("--stream-candles", type=int, default=50_000, help="base candles for the streaming run")
    parser.add_argument("--baseline-python", type=Path, default=Path("/work/benchenv-ind/bin/python"))
    parser.add_argument("--quick", action="store_true",
                        help="streaming only, on one month (8,640 candles) unless --stream-candles is given")
    parser.add_argument("--repeat", type=int, default=None, help="best of N streaming runs (default 1, quick 3)")
    args = parser.parse_args()
    if args.quick:
        stream_candles = args.stream_candles if args.stream_candles != 50_000 else MONTH
        frame = load(stream_candles)
    else:
        stream_candles = args.stream_candles
        frame = load(args.candles)
    n = len(frame)
    repeat = args.repeat or (3 if args.quick else 1)
    print(f"data: {n:,} BTCUSDT 5m candles; machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")

    load_avg = os.getloadavg()
    print(f"load average at start: {load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f} (wall times are unreliable "
          "when it exceeds the core count; CPU times are reported alongside and used for the ratio)")
    if not args.quick:
        seconds, cpu, events = bench_batch(frame)
        print(f"ictbot full suite (batch = fold of the streaming step): wall {seconds:.2f} s, cpu {cpu:.2f} s, "
              f"{events:,} events, {cpu / n * 1e6:.1f} µs cpu/candle")

    report_stream(frame.slice(0, min(stream_candles, n)), repeat)
    load_avg = os.getloadavg()
    print(f"load average after streaming: {load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f}")
    if args.quick:
        return

    baseline = bench_baseline(frame, args.baseline_python)
    if baseline is None:
        print(f"baseline missing: smartmoneyconcepts venv not found at {args.baseline_python} "
              "(python -m venv /work/benchenv-ind && /work/benchenv-ind/bin/pip install smartmoneyconcepts==0.0.27)")
        return
    total_wall = sum(baseline["wall"].values())
    total_cpu = sum(baseline["cpu"].values())
    detail = ", ".join(f"{name} {value:.2f}s" for name, value in baseline["cpu"].items())
    print(f"smartmoneyconcepts 0.0.27 (same data): wall {total_wall:.2f} s, cpu {total_cpu:.2f} s ({detail})")
    print(f"ratio (cpu): ictbot full suite runs {total_cpu / cpu:.2f}x as fast as smartmoneyconcepts "
          f"(target >= 50x); ictbot computes more (two structure streams, lifecycles, IFVGs, breakers, pools, "
          f"sessions, displacement) and is look-ahead free; wall ratio {total_wall / seconds:.2f}x")


if __name__ == "__main__":
    main()
