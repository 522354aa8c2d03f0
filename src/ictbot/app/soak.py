"""A long run in one process: the live pipeline against the stepped simulator, as fast as it goes.

``bench/soak.py`` samples resources per simulated day with it and the memory regression test
measures the project's own allocations with it. The bot is the one ``ictbot demo`` runs (real
Binance adapter over 127.0.0.1, SQLite, the in-process bus); the simulator only moves when the
driver steps it, and each step waits until the bot has stored the closed candles and the bus is
idle, so a simulated day costs whatever the pipeline needs and nothing is skipped.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ictbot.app.application import Application
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.wiring import Pipeline, build_pipeline
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig, SimulatorServer

DAY_MS = 86_400_000
SOAK_BASE = Timeframe.M5
SOAK_CONTEXT = ("15m", "1h", "4h")
STEP_TIMEOUT_S = 120.0
# The synthetic market's symbols beyond the two demo ones: prices come from the seeded generator.
SOAK_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT",
                "DOTUSDT", "LINKUSDT", "AVAXUSDT", "TRXUSDT", "ATOMUSDT", "ETCUSDT", "XLMUSDT", "NEARUSDT")

# The breakers would stop new entries after a few losses on the random-walk market (day 2 of a
# 10-symbol run): a soak must keep the order path busy for all its days, as an operator who resets
# breakers does. One position per symbol may be open at once.
SOAK_RISK = {"max_consecutive_losses": 1_000_000, "daily_loss_limit_pct": "100", "max_drawdown_pct": "100",
             "max_open_positions": len(SOAK_SYMBOLS)}


@dataclass(frozen=True)
class SoakSpec:
    """``days`` simulated days after ``warmup_candles`` of history, on the first ``symbols`` symbols.

    ``warmup_candles=None`` (the default) gives the bot's start-up warm-up enough base candles to
    fill every closed-candle window, the largest context timeframe's included (4h x 500 = 24,000 5m
    candles, 83 days), as a real deployment's warm-up does: growth measured after it is then a
    leak, not a window still filling."""

    days: float = 90.0
    symbols: int = 10
    warmup_candles: int | None = None
    seed: int = 7
    context: tuple[str, ...] = SOAK_CONTEXT
    candle_window: int = 500  # ICTBOT_CANDLE_WINDOW
    metrics_window: int = 10_000  # ICTBOT_METRICS_WINDOW
    candles_per_step: int = 6  # base candles per simulator step (smaller: finer interleaving, slower)
    # Housekeeping (order polls, reconcile, monitoring) keeps the rate ``ictbot demo`` gives it at
    # 6000x: a replay that runs ahead of the wall would otherwise reconcile on every step.
    timer_scale: float = 6000.0

    def __post_init__(self) -> None:
        if not 1 <= self.symbols <= len(SOAK_SYMBOLS):
            raise ValueError(f"symbols: must be between 1 and {len(SOAK_SYMBOLS)}, got {self.symbols}")
        if self.days <= 0:
            raise ValueError(f"days: must be positive, got {self.days}")
        if self.candles_per_step < 1:
            raise ValueError(f"candles_per_step: must be at least 1, got {self.candles_per_step}")
        if self.warmup_candles is not None and self.warmup_candles < 0:
            raise ValueError(f"warmup_candles: must be >= 0 or None (fill every window), got {self.warmup_candles}")

    @property
    def history_candles(self) -> int:
        """Base candles of history before the bot starts: the warm-up it fetches."""
        return window_filling_warmup(self.context, self.candle_window) if self.warmup_candles is None \
            else self.warmup_candles

    @property
    def symbol_names(self) -> tuple[str, ...]:
        return SOAK_SYMBOLS[: self.symbols]

    @property
    def candles_per_day(self) -> int:
        return DAY_MS // SOAK_BASE.ms


def window_filling_warmup(context: tuple[str, ...], candle_window: int) -> int:
    """Base candles whose warm-up leaves every (timeframe, symbol) window of ``candle_window`` full.

    One largest-timeframe bucket more than the window, because the warm-up drops the still-forming
    bucket and the history's first bucket may start mid-way."""
    largest_ms = max((Timeframe(tf).ms for tf in context), default=SOAK_BASE.ms)
    return (candle_window + 1) * largest_ms // SOAK_BASE.ms + largest_ms // SOAK_BASE.ms


class SoakRun:
    """``async with SoakRun(spec, workdir) as run: await run.advance_days(1)``."""

    def __init__(self, spec: SoakSpec, workdir: Path) -> None:
        self.spec = spec
        self.workdir = workdir
        total = spec.history_candles + int(spec.days * spec.candles_per_day) + spec.candles_per_step + 2
        self.sim = SimulatorServer(SimConfig(
            symbols=spec.symbol_names, synthetic_timeframe=SOAK_BASE, synthetic_candles=total,
            warmup_candles=spec.history_candles, seed=spec.seed, futures=False,
        ))
        self.application: Application | None = None
        self.pipeline: Pipeline | None = None
        self.candles_played = 0

    @property
    def days_played(self) -> float:
        return self.candles_played / self.spec.candles_per_day

    async def __aenter__(self) -> SoakRun:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_file = self.workdir / "soak_config.json"
        config_file.write_text(json.dumps({
            "exchange": {"symbols": list(self.spec.symbol_names), "base_timeframe": SOAK_BASE.value,
                         "context_timeframes": list(self.spec.context)},
            "strategies": {"strategy_a": {"enabled": True}, "strategy_b": {"enabled": True}},
            "risk": SOAK_RISK,
        }))
        settings = Settings(TRADING_MODE=TradingMode.PAPER,
                            DATABASE_PATH=self.workdir / "soak.db", ICTBOT_CONFIG_FILE=config_file,
                            LOG_DIR=self.workdir, ICTBOT_CANDLE_WINDOW=self.spec.candle_window,
                            ICTBOT_METRICS_WINDOW=self.spec.metrics_window)
        await self.sim.start()
        self.application = Application(settings)
        self.application.config.load()
        self.pipeline = build_pipeline(self.application, clock=self.sim.clock, sim_port=self.sim.port,
                                       warmup_candles=self.spec.history_candles,
                                       timer_scale=self.spec.timer_scale)
        await self.application.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.application is not None:
            await self.application.stop()
        await self.sim.stop()

    async def advance_days(self, days: float) -> None:
        await self.advance_candles(round(days * self.spec.candles_per_day))

    async def advance_candles(self, count: int) -> None:
        """Play ``count`` base candles (every symbol) and wait until the bot has handled them."""
        assert self.application is not None and self.pipeline is not None, "use SoakRun as a context manager"
        market = self.pipeline.market_data
        done = 0
        while done < count:
            chunk = min(self.spec.candles_per_step, count - done)
            target = market.published_closed + chunk * self.spec.symbols
            played = await self.sim.control.step(chunk)
            if played < chunk:
                raise RuntimeError(f"the simulator ran out of candles after {self.candles_played + played}")
            await _until(lambda target=target: market.published_closed >= target, "the closed candles")
            await self.application.bus.wait_idle(timeout=STEP_TIMEOUT_S)
            done += chunk
            self.candles_played += chunk

    def resources(self) -> dict[str, Any]:
        """Process-level gauges: RSS, live heap, descriptors, asyncio tasks, bus queue depths, database size.

        RSS alone can hide growth: memory the start-up warm-up freed stays resident and is reused
        first. ``py_blocks_k`` (Python objects' small blocks alive) and ``malloc_mb`` (bytes in use
        from the C allocator: large objects, arrays, SQLite's cache) count what is alive."""
        assert self.application is not None
        depths = [sub.depth for sub in self.application.bus.subscriptions()]
        gc.collect()
        return {
            "rss_mb": rss_bytes() / 1e6,
            "py_blocks_k": sys.getallocatedblocks() / 1000,
            "malloc_mb": malloc_in_use() / 1e6,
            "fds": open_fds(),
            "tasks": len(asyncio.all_tasks()),
            "bus_depth_max": max(depths, default=0),
            "bus_depth_sum": sum(depths),
            "db_mb": sum(p.stat().st_size for p in self.workdir.glob("soak.db*")) / 1e6,
        }


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def rss_bytes() -> int:
    """Resident set size now (Linux ``/proc``; elsewhere the peak from ``resource``)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def malloc_in_use() -> int:
    """Bytes allocated and not freed through the C allocator (glibc ``mallinfo2``; -1 elsewhere)."""
    try:
        libc = ctypes.CDLL(None)
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return -1
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return int(info.uordblks + info.hblkhd)  # heap chunks in use + large blocks mapped on their own


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def open_fds() -> int:
    fd_dir = Path("/proc/self/fd")
    return len(list(fd_dir.iterdir())) if fd_dir.exists() else -1
