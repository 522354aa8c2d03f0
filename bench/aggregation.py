"""Aggregation benchmark: the 130,708 real BTCUSDT 1m candles → 5m/15m/1h/4h/1d.

Run: ``.venv/bin/python bench/aggregation.py``. In the same run:

* ``ictbot.candles.aggregate`` (numpy, used by backtests and the simulator), all five targets;
* ``StreamingAggregator`` (Decimal, used live by the candle service), candle by candle;
* baseline: a plain-Python dict-of-buckets aggregation over float tuples (what one writes
  without numpy), all five targets.

Prints input candles/s per method (best of ``--repeat``) and ratios against the baseline, and
checks that all three produce the same candles.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tests.conftest import DATA  # noqa: E402

from ictbot.adapters.files import read_candle_file  # noqa: E402
from ictbot.candles import DEFAULT_TARGETS, StreamingAggregator, aggregate  # noqa: E402
from ictbot.domain.candle_frame import CandleFrame  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402

FILE = DATA / "feather" / "filimonov_freqtrade" / "BTC_USDT-1m.feather"
Bar = tuple[int, float, float, float, float, float]


def python_baseline(rows: list[Bar], targets: tuple[Timeframe, ...]) -> dict[Timeframe, list[Bar]]:
    out: dict[Timeframe, list[Bar]] = {}
    last_close = rows[-1][0] + Timeframe.M1.ms
    for tf in targets:
        buckets: dict[int, list[float]] = {}
        for t, o, h, lo, c, v in rows:
            key = t - t % tf.ms
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = [o, h, lo, c, v]
            else:
                if h > bucket[1]:
                    bucket[1] = h
                if lo < bucket[2]:
                    bucket[2] = lo
                bucket[3] = c
                bucket[4] += v
        out[tf] = [(k, *b) for k, b in buckets.items() if k + tf.ms <= last_close]  # type: ignore[misc]
    return out


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = read_candle_file(FILE)
    n = len(frame)
    rows: list[Bar] = list(zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(),
                               frame.low.tolist(), frame.close.tolist(), frame.volume.tolist(), strict=True))
    candles = frame.to_candles("BTCUSDT", Timeframe.M1)
    print(f"aggregation bench: {n:,} real 1m candles → {', '.join(tf.value for tf in DEFAULT_TARGETS)}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    base_s, base_out = best_of(args.repeat, lambda: python_baseline(rows, DEFAULT_TARGETS))
    numpy_s, numpy_out = best_of(args.repeat, lambda: {tf: aggregate(frame, Timeframe.M1, tf)
                                                       for tf in DEFAULT_TARGETS})
    stream_s, stream_out = best_of(
        1, lambda: StreamingAggregator(Timeframe.M1, DEFAULT_TARGETS).add_many(candles)
    )

    assert isinstance(numpy_out, dict) and isinstance(base_out, dict) and isinstance(stream_out, list)
    for tf in DEFAULT_TARGETS:
        ours: CandleFrame = numpy_out[tf]
        theirs = base_out[tf]
        assert ours.open_time.tolist() == [b[0] for b in theirs], tf
        assert np.array_equal(ours.high, [b[2] for b in theirs]) and np.array_equal(ours.close, [b[4] for b in theirs])
        streamed = [e.candle for e in stream_out if e.candle.timeframe is tf]
        assert [c.open_time for c in streamed] == ours.open_time.tolist(), tf
        assert np.array_equal([float(c.volume) for c in streamed], ours.volume), tf

    def line(name: str, seconds: float) -> str:
        return f"  {name:44s} {n / seconds:>14,.0f} 1m candles/s ({seconds * 1000:8.1f} ms)  x{base_s / seconds:.2f}"

    print(line("pure-Python dict buckets, floats (baseline)", base_s))
    print(line("aggregate() numpy, exact volume sums", numpy_s))
    print(line("StreamingAggregator, Decimal, candle by candle", stream_s))
    produced = sum(len(numpy_out[tf]) for tf in DEFAULT_TARGETS)
    print(f"  produced {produced:,} higher-timeframe candles; all three methods agree")


if __name__ == "__main__":
    main()
