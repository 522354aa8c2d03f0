"""Rate limiter (429 → 418, order counts) and the simulated clock."""

from __future__ import annotations

import asyncio

import pytest

from ictbot.exchange_sim.clock import SimClock
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.ratelimit import RateLimiter


def test_weight_429_then_418_with_retry_after() -> None:
    limiter = RateLimiter(weight_limit=10, orders_10s=5, orders_1d=100, requests_until_ban=2, ban_seconds=120)
    now = 60_000 * 100 + 15_000
    assert limiter.charge("ip", 10, now) == 10
    statuses = []
    for _ in range(4):
        with pytest.raises(SimError) as caught:
            limiter.charge("ip", 1, now)
        statuses.append((caught.value.http_status, caught.value.retry_after))
    assert statuses[:3] == [(429, 45)] * 3
    assert statuses[3] == (418, 120)
    with pytest.raises(SimError) as banned:
        limiter.charge("ip", 1, now + 60_000)  # a new minute does not lift a ban
    assert banned.value.http_status == 418 and banned.value.retry_after == 60
    assert limiter.charge("ip", 1, now + 121_000) == 1
    assert limiter.charge("other", 1, now) == 1  # per client


def test_order_count_limit_and_first_fill_decrement() -> None:
    limiter = RateLimiter(weight_limit=100, orders_10s=2, orders_1d=100)
    limiter.count_order("a", 0)
    limiter.count_order("a", 0)
    with pytest.raises(SimError) as caught:
        limiter.check_order("a", 0)
    assert (caught.value.code, caught.value.http_status) == (-1015, 429)
    assert caught.value.msg == "Too many new orders; current limit is 2 orders per 10 SECOND."
    limiter.order_filled_first_time("a", 0)
    limiter.check_order("a", 0)
    assert limiter.order_counts("a", 10_000) == (0, 1)


async def test_clock_stands_still_in_step_mode_and_sleep_wakes_on_replay_time() -> None:
    clock = SimClock(1_000)
    clock.skew_ms = 250
    assert clock.now_ms() == 1_250
    sleeper = asyncio.create_task(clock.sleep(2))
    await asyncio.sleep(0)
    clock.set(2_000)
    await asyncio.sleep(0)
    assert not sleeper.done()
    clock.set(3_000)
    await asyncio.wait_for(sleeper, 1)


def test_clock_interpolates_towards_the_horizon_at_speed() -> None:
    wall = [100.0]
    clock = SimClock(0, wall=lambda: wall[0])
    clock.set(0, horizon_ms=10_000, speed=2.0)
    wall[0] += 1.5
    assert clock.replay_ms == 3_000
    wall[0] += 100
    assert clock.replay_ms == 10_000  # never past the next replayed point


async def test_sleep_during_timed_replay_follows_the_interpolated_time() -> None:
    clock = SimClock(0)
    clock.set(0, horizon_ms=100_000, speed=1000.0)  # next replayed point 100 s of market time away
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(clock.sleep(1.0), 2)  # 1 s of market time = 1 ms of wall time at 1000×
    assert asyncio.get_running_loop().time() - started < 1.0
    assert clock.replay_ms >= 1_000
