"""Memory regression guard: the live pipeline's own allocations stop growing once its windows are full.

The bot runs against the stepped simulator (``ictbot.app.soak``). After an untraced warm-up, K
simulated days are traced and measured, then K more: every bounded structure (candle windows,
metric samples, pending-timing maps, order/position bookkeeping, bus queues) has turned over by
then, so the second increase is a small fraction of the first. A list that grows with time adds
the same amount in both halves and fails. No wall-clock timing is asserted.

What is traced: allocations made in ``ictbot`` source files, except the simulator (the test's
counterpart, not the bot) and ``ictbot/indicators`` — the indicator state is bounded by its own
parameters (``max_active`` zones per side and book, ``History.keep``, recent-event limits) but
takes weeks of simulated time to fill, longer than this test can run; ``bench/soak.py`` covers
it through the whole process's RSS.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from ictbot.app.soak import SoakRun, SoakSpec
from ictbot.domain.timeframe import Timeframe

WARMUP_DAYS = 2.0
K_DAYS = 1.0
# Allocator and cache noise between two measurements (a few KiB either way). A leak of one small
# object per candle (288 a day on one symbol) is already larger than this.
NOISE_BYTES = 4096
TRACED = [
    tracemalloc.Filter(True, "*/ictbot/*"),
    tracemalloc.Filter(False, "*/ictbot/exchange_sim/*"),
    tracemalloc.Filter(False, "*/ictbot/indicators/*"),
]


def traced_bytes() -> int:
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(TRACED)
    return sum(stat.size for stat in snapshot.statistics("filename"))


@pytest.mark.skipif(tracemalloc.is_tracing(), reason="needs tracemalloc to itself")
async def test_second_stretch_of_days_adds_almost_nothing(tmp_path: Path) -> None:
    # Small windows so that they turn over within K days (the defaults would need weeks).
    spec = SoakSpec(days=WARMUP_DAYS + 2 * K_DAYS + 1, symbols=1, warmup_candles=600, context=("15m", "1h"),
                    candle_window=20, metrics_window=100)
    async with SoakRun(spec, tmp_path) as run:
        await run.advance_days(WARMUP_DAYS)
        tracemalloc.start(1)
        try:
            await run.advance_days(K_DAYS)
            first = traced_bytes()
            await run.advance_days(K_DAYS)
            second = traced_bytes() - first
        finally:
            tracemalloc.stop()
        assert run.days_played == pytest.approx(WARMUP_DAYS + 2 * K_DAYS)
    assert first > 0
    assert second <= 0.10 * first + NOISE_BYTES, f"first {K_DAYS:g} days +{first} B, next {K_DAYS:g} days +{second} B"


async def test_soak_starts_with_every_candle_window_full(tmp_path: Path) -> None:
    # Growth "after warm-up" must measure leaks, not windows still filling: the default warm-up
    # history fills the largest context timeframe's window too (here 30 x 4h = 1,440 base candles,
    # more than the fixed 1,000 the soak used to fetch).
    spec = SoakSpec(days=1, symbols=1, context=("1h", "4h"), candle_window=30, metrics_window=100)
    async with SoakRun(spec, tmp_path) as run:
        assert run.pipeline is not None
        windows = run.pipeline.candles.windows
        sizes = {tf.value: len(windows.last("BTCUSDT", tf)) for tf in (Timeframe.M5, Timeframe.H1, Timeframe.H4)}
    assert sizes == {"5m": 30, "1h": 30, "4h": 30}
