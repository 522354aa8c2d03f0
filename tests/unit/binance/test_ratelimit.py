"""The shared rate budget under bursts, driven by a fake clock (no timed assertions)."""

from __future__ import annotations

import asyncio
from collections import Counter

from ictbot.adapters.binance import BinanceEndpoints, BinanceRestClient
from ictbot.adapters.binance.ratelimit import LimitKind, LocalRateBudget, RateLimitRule, shared_budget
from ictbot.ports.clock import ManualClock

WEIGHT_10 = RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 10)
ORDERS_3 = RateLimitRule(LimitKind.ORDERS, 10_000, 3)


async def test_burst_waits_for_the_next_window_instead_of_exceeding() -> None:
    clock = ManualClock(start_ms=1_000)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    granted: list[int] = []

    async def one() -> None:
        await budget.acquire(weight=1)
        granted.append(clock.now_ms())

    await asyncio.gather(*(one() for _ in range(25)))
    per_window = Counter(t // 60_000 for t in granted)
    assert len(granted) == 25
    assert max(per_window.values()) <= 10
    assert sorted(per_window.values()) == [5, 10, 10]
    assert budget.waited_s > 0


async def test_weights_are_summed_per_window() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    await budget.acquire(weight=6)
    await budget.acquire(weight=4)
    assert clock.now_ms() == 0  # exactly at the limit: no wait
    await budget.acquire(weight=1)
    assert clock.now_ms() == 60_000
    assert budget.used(LimitKind.REQUEST_WEIGHT, 60_000) == 1


async def test_server_headers_raise_the_local_count() -> None:
    clock = ManualClock(start_ms=5_000)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    budget.observe_headers({"x-mbx-used-weight-1m": "9", "X-MBX-USED-WEIGHT": "9"})
    assert budget.used(LimitKind.REQUEST_WEIGHT, 60_000) == 9
    await budget.acquire(weight=2)
    assert clock.now_ms() == 60_000  # 9 used elsewhere on the IP: waited for the next minute


async def test_lower_header_does_not_undercount_in_flight_requests() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    await budget.acquire(weight=8)
    budget.observe_headers({"X-MBX-USED-WEIGHT-1M": "3"})
    assert budget.used(LimitKind.REQUEST_WEIGHT, 60_000) == 8


async def test_order_count_limit_and_headers() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10, ORDERS_3], clock=clock, utilization=1.0)
    times = []
    for _ in range(5):
        await budget.acquire(weight=0, orders=1)
        times.append(clock.now_ms())
    assert times == [0, 0, 0, 10_000, 10_000]
    budget.observe_headers({"X-MBX-ORDER-COUNT-10S": "3"})
    await budget.acquire(weight=0, orders=1)
    assert clock.now_ms() == 20_000
    # weight-only requests are not held back by the order count
    budget.observe_headers({"X-MBX-ORDER-COUNT-10S": "3"})
    await budget.acquire(weight=1)
    assert clock.now_ms() == 20_000


async def test_retry_after_blocks_everything() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    budget.pause(5.0)
    await budget.acquire(weight=1)
    assert clock.now_ms() >= 5_000


async def test_utilization_leaves_headroom() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 100)], clock=clock, utilization=0.5)
    for _ in range(50):
        await budget.acquire(weight=1)
    assert clock.now_ms() == 0
    await budget.acquire(weight=1)
    assert clock.now_ms() == 60_000


async def test_configure_keeps_counts_of_unchanged_rules() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    await budget.acquire(weight=7)
    budget.configure([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 8), ORDERS_3])
    await budget.acquire(weight=2)
    assert clock.now_ms() == 60_000
    assert budget.rules == (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 8), ORDERS_3)


def test_one_shared_budget_per_api_family() -> None:
    assert shared_budget("spot") is shared_budget("spot")
    assert shared_budget("spot") is not shared_budget("usdm")


def test_one_shared_budget_per_server() -> None:
    # weights are counted per server: a simulator's traffic must not use up the exchange's budget
    assert shared_budget("spot", "api.binance.com") is shared_budget("spot", "api.binance.com")
    assert shared_budget("spot", "127.0.0.1:8001") is not shared_budget("spot", "127.0.0.1:8002")


def test_clients_of_different_servers_do_not_share_a_budget() -> None:
    clients = [BinanceRestClient(BinanceEndpoints.local(port)) for port in (8001, 8001, 8002)]
    try:
        assert clients[0].budget is clients[1].budget
        assert clients[0].budget is not clients[2].budget
    finally:
        for client in clients:
            asyncio.run(client.aclose())


def test_budget_survives_a_new_event_loop() -> None:
    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)

    async def contended() -> None:
        await asyncio.gather(*(budget.acquire(weight=1) for _ in range(12)))

    asyncio.run(contended())
    asyncio.run(contended())  # an asyncio.Lock bound to the first loop would raise here
    assert clock.now_ms() >= 120_000


async def test_a_wait_is_logged_with_its_cause_and_length() -> None:
    from structlog.testing import capture_logs

    clock = ManualClock(start_ms=0)
    budget = LocalRateBudget([WEIGHT_10], clock=clock, utilization=1.0)
    await budget.acquire(weight=10)
    with capture_logs() as logs:
        await budget.acquire(weight=1)  # the minute is used up: waits for the next window
        budget.pause(30)  # a 429 with Retry-After: 30
        await budget.acquire(weight=1)
    waits = [entry for entry in logs if entry["event"] == "rate-limit wait"]
    assert [(w["seconds"], w["cause"]) for w in waits] == [
        (60.0, "REQUEST_WEIGHT 10+1 > 10 per 60s"),
        (30.0, "blocked by the exchange (429/418 Retry-After)"),
    ]
    assert budget.last_wait == (60_000, 30_000, "blocked by the exchange (429/418 Retry-After)")
