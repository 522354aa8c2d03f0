"""S1/S2 in backtesting.py — run by bench/backtest.py inside a separate venv (never the project's).

Usage: python bench/backtest_bt_reference.py FILE... > result.json

Same definitions as ictbot.backtest.reference: EMA with alpha 2/(n+1) seeded at the first close and
undefined before n-1; crossover strict on both candles; S2 stop low[i-2], target 2R from close[i].
Indicators are computed on the real (unscaled) prices, inside ``init()`` (so inside the timed
``run()``, like ictbot's ``prepare``), so both engines see identical signal inputs;
FractionalBacktest(fractional_unit=1e-5) trades BTC in 0.00001 steps (the lot step).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings

import numpy as np
import pandas as pd
from backtesting import Strategy
from backtesting.lib import FractionalBacktest, crossover

UNIT = 1e-5
REPEAT = int(__import__("os").environ.get("BT_REPEAT", "3"))
STAKE = 1000.0


def ema(values: np.ndarray, period: int) -> np.ndarray:
    out = np.empty_like(values)
    alpha = 2.0 / (period + 1.0)
    keep = 1.0 - alpha
    series = values.tolist()
    level = series[0]
    result = [level]
    for value in series[1:]:
        level = alpha * value + keep * level
        result.append(level)
    out[:] = result
    out[: max(0, period - 1)] = np.nan
    return out


def load(paths: list[str]) -> pd.DataFrame:
    frames = []
    for path in sorted(paths):
        raw = pd.read_csv(path, header=None, usecols=range(6))
        t = raw[0].to_numpy(dtype="int64")
        t = np.where(t < 10**14, t, t // 1000)
        frames.append(pd.DataFrame({name: raw[k].to_numpy(dtype="float64") for k, name in
                                    ((1, "Open"), (2, "High"), (3, "Low"), (4, "Close"), (5, "Volume"))},
                                   index=pd.DatetimeIndex(pd.to_datetime(t, unit="ms", utc=True))))
    return pd.concat(frames)


def units(price_scaled: float) -> int:
    return math.floor(STAKE / price_scaled + 1e-9)


def make_strategies(real: pd.DataFrame) -> tuple[type[Strategy], type[Strategy]]:
    close = real["Close"].to_numpy()
    low = real["Low"].to_numpy()
    high = real["High"].to_numpy()

    # The EMAs are computed in init(), i.e. inside the timed Backtest.run(), as ictbot's strategies
    # compute theirs in prepare() inside its timed run: both timings cover indicators + simulation.
    class S1(Strategy):
        def init(self) -> None:
            self.fast = self.I(lambda: ema(close, 20), name="ema20", overlay=False)
            self.slow = self.I(lambda: ema(close, 50), name="ema50", overlay=False)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                if not self.position:
                    self.buy(size=units(self.data.Close[-1]))
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    class S2(Strategy):
        def init(self) -> None:
            self.ema200 = ema(close, 200)
            self.trend = self.I(lambda: self.ema200, name="ema200", overlay=False)

        def next(self) -> None:
            i = len(self.data) - 1
            if self.position or i < 2:
                return
            if low[i] > high[i - 2] and close[i] > self.ema200[i]:
                stop = low[i - 2]
                target = close[i] + 2 * (close[i] - stop)
                self.buy(size=units(self.data.Close[-1]), sl=stop * UNIT, tp=target * UNIT)

    return S1, S2


def main() -> None:
    paths = sys.argv[1:]
    started = time.perf_counter()
    data = load(paths)
    load_s = time.perf_counter() - started
    out = {"version": __import__("backtesting").__version__, "candles": len(data), "load_seconds": load_s}
    s1, s2 = make_strategies(data)
    for name, cls in (("s1", s1), ("s2", s2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = FractionalBacktest(data, cls, cash=10_000, commission=0.001, fractional_unit=UNIT,
                                    finalize_trades=True, exclusive_orders=False)
            best = cpu_best = float("inf")
            for _ in range(REPEAT):
                started, cpu = time.perf_counter(), time.process_time()
                stats = bt.run()
                best = min(best, time.perf_counter() - started)
                cpu_best = min(cpu_best, time.process_time() - cpu)
            seconds = best
        trades = stats["_trades"]
        out[name] = {
            "seconds": seconds, "cpu_seconds": cpu_best, "trades": len(trades),
            "final_equity": float(stats["Equity Final [$]"]),
            "return_pct": float(stats["Return [%]"]),
            "list": [[int(e.value // 10**6), int(x.value // 10**6), float(ep), float(xp), float(sz)]
                     for e, x, ep, xp, sz in zip(trades["EntryTime"], trades["ExitTime"], trades["EntryPrice"],
                                                 trades["ExitPrice"], trades["Size"], strict=True)],  # ms, prices, qty
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
