"""Indicator memory over a long run: the live engine alone on the soak's market, far liquidity levels packed or not.

Run: .venv/bin/python bench/soak_indicators.py [--days 90] [--symbols 1] [--every 10]

``MultiTimeframeEngine`` as the bot runs it (5m base, 15m/1h/4h resampled, every view built on
every base candle, the default ``liquidity_limit``) after the soak's window-filling warm-up of
24,096 candles, on ``ictbot.exchange_sim``'s synthetic series (the market ``bench/soak.py`` plays).
The same candles run twice in one process: far alive liquidity levels packed (the default) and every
level an object (``set_near_levels(None)``, the old behaviour). Every ``--every`` days it prints the
memory tracemalloc counts as allocated since the warm-up, alive levels and packed rows, then the
growth per 30 days over the last third of the run and the ratio of the two. No timing is claimed.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from ictbot.app.soak import SOAK_SYMBOLS, window_filling_warmup
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market import synthetic
from ictbot.indicators.mtf import MultiTimeframeEngine

M5 = Timeframe.M5
CONTEXT = (Timeframe.M15, Timeframe.H1, Timeframe.H4)
PER_DAY = 288
ORIGIN_MS = 1_699_999_200_000 - 1_699_999_200_000 % 14_400_000


def run(days: int, symbols: int, every: int, packed: bool) -> list[tuple[int, float, int, int]]:
    """(day, MB allocated since the warm-up, alive levels, packed rows) every ``every`` days."""
    warmup = window_filling_warmup(tuple(tf.value for tf in CONTEXT), 500)
    names = SOAK_SYMBOLS[:symbols]
    series = [synthetic.generate(name, ORIGIN_MS, warmup + days * PER_DAY, M5, 7) for name in names]
    columns = [[s.open_time.tolist(), s.open.tolist(), s.high.tolist(), s.low.tolist(), s.close.tolist()]
               for s in series]
    engine = MultiTimeframeEngine(M5, CONTEXT, resample_higher=True)
    frames = [engine.engine(name, tf) for name in names for tf in (M5, *CONTEXT)]
    if not packed:
        for frame in frames:
            frame.liquidity.set_near_levels(None)

    def feed(start: int, stop: int) -> None:
        for i in range(start, stop):
            for name, (t, o, h, lo, c) in zip(names, columns, strict=True):
                snapshot = engine.on_values(name, M5, t[i], o[i], h[i], lo[i], c[i])
                if snapshot is not None:
                    for tf in ("5m", "15m", "1h", "4h"):
                        snapshot.view(tf)

    feed(0, warmup)
    gc.collect()
    tracemalloc.start(1)
    base = tracemalloc.get_traced_memory()[0]
    rows = []
    for day in range(1, days + 1):
        feed(warmup + (day - 1) * PER_DAY, warmup + day * PER_DAY)
        if day % every == 0 or day == days:
            gc.collect()
            alive = sum(len(frame.liquidity.alive_levels()) for frame in frames)
            cold = sum(len(frame.liquidity.cold[1]) + len(frame.liquidity.cold[-1]) for frame in frames)
            rows.append((day, (tracemalloc.get_traced_memory()[0] - base) / 1e6, alive, cold))
    tracemalloc.stop()
    return rows


def last_third_per_30_days(rows: list[tuple[int, float, int, int]], days: int) -> float:
    start = min(rows, key=lambda row: abs(row[0] - (days - days // 3)))
    return (rows[-1][1] - start[1]) / max(rows[-1][0] - start[0], 1) * 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--symbols", type=int, default=1)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    results = {mode: run(args.days, args.symbols, args.every, mode == "packed") for mode in ("packed", "objects")}
    print(f"{'day':>5}" + "".join(f"{m + ' MB':>14}{m + ' alive':>15}{'packed rows':>13}" for m in results))
    for packed_row, object_row in zip(results["packed"], results["objects"], strict=True):
        print(f"{packed_row[0]:>5}" + "".join(f"{row[1]:>14.3f}{row[2]:>15}{row[3]:>13}"
                                              for row in (packed_row, object_row)))
    growth = {mode: last_third_per_30_days(rows, args.days) for mode, rows in results.items()}
    print(f"last third, per 30 days: packed {growth['packed']:+.3f} MB, objects {growth['objects']:+.3f} MB; "
          f"at day {args.days}: packed/objects = {results['packed'][-1][1] / results['objects'][-1][1]:.3f}")


if __name__ == "__main__":
    main()
