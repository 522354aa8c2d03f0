"""Do the two constructor speed tricks of the domain earn their keep (issue #20, item 5)?

* ``domain/ict.py`` ``make_*`` (twin builders, removed: it earned < 20 %): indicator records built on an
  ``exec``-generated mutable twin class, then re-typed (``__class__``) to the frozen dataclass.
* ``fast_init`` (was ``domain/records.py``, removed: it earned < 20 %): the same re-typing inside the
  ``__init__`` of 30 frozen records (``Candle``, ``Order``, ``Fill``, ``Position``, events, backtest
  results ...); this bench installs it on those classes to repeat the measurement.

Each trick is measured against the plain version in the same process, interleaved rounds, best CPU
time of each variant. Both tricks are gone from src, so the bench installs the twin construction as
the ``__init__`` of the classes concerned for the "trick" rounds (for the ICT records this is the
``make_*`` technique behind the class's own constructor, a little slower than the former free
functions); "plain" is the code as it is. Workloads:

* micro: one record built 200,000 times;
* streaming: ``MultiTimeframeEngine`` [5m, 15m, 1h, 4h] over real 5m candles, every snapshot read;
* backtest: ``run_backtest`` of ``s1_ema_cross`` (domain records on every candle and trade) and of
  ``strategy_a`` (indicator snapshots + records; replayed from the compiled kernels by default, the
  streaming engine with ``--per-candle``) over the same candles. The first run of each workload is a
  warm-up (numba compiles or loads its kernels) and is not counted.

Rule (issue #20): a trick stays only where it earns >= 20 % on a real workload.

Run: .venv/bin/python bench/speed_tricks.py [--candles N] [--rounds R]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ictbot.backtest.data import MarketData, load_market_data  # noqa: E402
from ictbot.backtest.run import BacktestSpec, run_backtest  # noqa: E402
from ictbot.domain import ict  # noqa: E402
from ictbot.domain.position import Position  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402
from ictbot.indicators.mtf import MultiTimeframeEngine  # noqa: E402

DATA = Path(os.environ.get("ICTBOT_SHARED_DIR", ROOT.parent / "shared")) / "data" / "binance_spot_raw_5m"
# Both tricks were removed from src (each earned < 20 %, docs/benchmarks/speed_tricks.md); the bench keeps
# the twin construction and the classes it served so that the measurement can be repeated.
ICT_RECORDS = {"ictbot.domain.ict": ("IctEvent", "Zone", "LiquidityLevel", "Leg", "TimeframeView", "IndicatorSnapshot")}
FAST_INIT_CLASSES = {
    "ictbot.backtest.results": ("Trade", "Rejection", "ZoneMark"),
    "ictbot.backtest.sizing": ("AccountView",),
    "ictbot.domain.candle": ("Candle",),
    "ictbot.domain.events": ("KlineUpdated", "CandleStored", "IndicatorsUpdated", "SignalGenerated", "OrderIntent",
                             "SignalValidated", "SignalRejected", "OrderExecuted", "OrderUpdated", "PositionUpdated",
                             "PositionClosed"),
    "ictbot.domain.order": ("Fill", "OrderAccepted", "OrderRejected", "OrderFilled", "OrderCanceled", "OrderExpired",
                            "Order"),
    "ictbot.domain.position": ("Position",),
    "ictbot.domain.signal": ("Signal",),
    "ictbot.risk.state": ("RecentSignal", "PendingIntent", "RiskState", "MarketQuote", "Rejection"),
}


def fast_init(cls: type) -> Callable[..., None]:
    """The removed ``domain/records.py`` constructor: store the fields on a same-layout mutable twin."""
    twin = type(f"_{cls.__name__}Twin", cls.__bases__, {"__slots__": cls.__slots__})  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"_frozen": cls, "_twin": twin, "_retype": object.__setattr__,
                                 "_MISSING": dataclasses.MISSING, "_dataclass_init": cls.__init__}
    signature: list[str] = []
    resolve: list[str] = []
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    for f in fields:
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            signature.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            signature.append(f"{f.name}=_MISSING")
            resolve.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            signature.append(f.name)
    names = ", ".join(f"{f.name}={f.name}" for f in fields)
    body = [*resolve, f"    if self.__class__ is not _frozen:\n        return _dataclass_init(self, {names})",
            "    _retype(self, '__class__', _twin)", *(f"    self.{f.name} = {f.name}" for f in fields),
            "    self.__class__ = _frozen"]
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    exec(f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body) + "\n", namespace)
    init: Callable[..., None] = namespace["__init__"]
    return init


@contextmanager
def twin_construction(classes: dict[str, tuple[str, ...]]) -> Iterator[None]:
    """The twin ``__init__`` installed on ``classes`` for the duration of the block."""
    saved: list[tuple[type, Any]] = []
    for module_name, names in classes.items():
        module = importlib.import_module(module_name)
        for name in names:
            cls = getattr(module, name)
            saved.append((cls, cls.__init__))
            type.__setattr__(cls, "__init__", fast_init(cls))
    try:
        yield
    finally:
        for cls, init in saved:
            type.__setattr__(cls, "__init__", init)


def cpu_of(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def compare(label: str, work: Callable[[], object], rounds: int, *,
            trick: Callable[[], Any] = nullcontext, plain: Callable[[], Any] = nullcontext) -> None:
    """Best CPU seconds of the trick and of the plain version, interleaved; ratio plain / trick."""
    for variant in (trick, plain):  # warm-up (imports, caches, numba's compiled kernels), not counted
        with variant():
            work()
    trick_s = plain_s = float("inf")
    for _ in range(rounds):
        with trick():
            trick_s = min(trick_s, cpu_of(work))
        with plain():
            plain_s = min(plain_s, cpu_of(work))
    saving = 1 - trick_s / plain_s
    print(f"  {label:58s} trick {trick_s:8.3f} s  plain {plain_s:8.3f} s  "
          f"plain/trick {plain_s / trick_s:5.2f}x  saves {saving * 100:5.1f} %")


def on_ict_records() -> Any:
    return twin_construction(ICT_RECORDS)


def on_fast_init_records() -> Any:
    return twin_construction(FAST_INIT_CLASSES)


def micro_event() -> None:
    for i in range(200_000):
        ict.IctEvent("fvg", "bull", i, "5m", i, i, i, i, 1.0, 2.0, None, {})


def micro_position() -> None:
    one = Decimal(1)
    for i in range(200_000):
        Position(id="p", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", strategy_id="s", qty=one,
                 avg_entry=one, opened_at=i)


def streaming(rows: list[tuple[int, float, float, float, float]]) -> Callable[[], object]:
    def run() -> object:
        engine = MultiTimeframeEngine(Timeframe.M5, [Timeframe.M15, Timeframe.H1, Timeframe.H4], resample_higher=True)
        feed, m5 = engine.on_values, Timeframe.M5
        for t, o, h, lo, c in rows:
            snapshot = feed("BTCUSDT", m5, t, o, h, lo, c)
            assert snapshot is not None and len(snapshot.views) > 0
        return engine
    return run


def backtest(strategy: str, data: MarketData, *, per_candle: bool = False) -> Callable[[], object]:
    spec = BacktestSpec((), ("BTCUSDT",), Timeframe.M5, strategy, per_candle=per_candle)

    def run() -> object:
        outcome = run_backtest(spec, loaded=[data])
        return outcome
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=30 * 288, help="5m candles (default one month)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    files = sorted(glob.glob(str(DATA / "*.csv")))
    if not files:
        sys.exit(f"no data in {DATA}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    full = load_market_data(files, "BTCUSDT", Timeframe.M5)
    frame = full.frame.slice(0, args.candles)
    data = load_market_data(files, "BTCUSDT", Timeframe.M5, end_ms=int(frame.open_time[-1]) + 1) \
        if args.candles < len(full.frame) else full
    rows = list(zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                    frame.close.tolist(), strict=True))
    print(f"{len(rows):,} candles; best of {args.rounds} rounds\n")

    print("twin construction of the ICT records (was domain/ict.py make_*) vs their dataclass constructors:")
    compare("micro: IctEvent x 200,000", micro_event, args.rounds, trick=on_ict_records)
    compare("streaming MultiTimeframeEngine 5m+15m/1h/4h, snapshots read", streaming(rows), args.rounds,
            trick=on_ict_records)
    compare("backtest strategy_a (snapshot replay, the default)", backtest("strategy_a", data), args.rounds,
            trick=on_ict_records)
    compare("backtest strategy_a --per-candle (streaming engine)", backtest("strategy_a", data, per_candle=True),
            args.rounds, trick=on_ict_records)
    print("\ntwin construction of 30 domain records (was domain/records.py fast_init) vs their own __init__:")
    compare("micro: Position x 200,000", micro_position, args.rounds, trick=on_fast_init_records)
    compare("streaming MultiTimeframeEngine 5m+15m/1h/4h, snapshots read", streaming(rows), args.rounds,
            trick=on_fast_init_records)
    compare("backtest s1_ema_cross", backtest("s1_ema_cross", data), args.rounds, trick=on_fast_init_records)
    compare("backtest s2_fvg", backtest("s2_fvg", data), args.rounds, trick=on_fast_init_records)
    compare("backtest strategy_a (snapshot replay, the default)", backtest("strategy_a", data), args.rounds,
            trick=on_fast_init_records)
    compare("backtest strategy_a --per-candle (streaming engine)", backtest("strategy_a", data, per_candle=True),
            args.rounds, trick=on_fast_init_records)

if __name__ == "__main__":
    main()
