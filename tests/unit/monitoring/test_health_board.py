"""HealthBoard: observations in, healthy | degraded | down with reason and last_ok_ms out."""

from __future__ import annotations

from ictbot.domain.errors import InsufficientBalanceError, NetworkError, RateLimitedError
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring.health import HealthBoard, HealthLimits
from ictbot.monitoring.reports import HealthState
from ictbot.ports.clock import ManualClock

T0 = 1_700_000_000_000
REFUSED = NetworkError("GET /api/v3/account: connection failed (ConnectError)")


def board(**kwargs: object) -> tuple[HealthBoard, ManualClock]:
    clock = ManualClock(T0)
    return HealthBoard(wall=clock, **kwargs), clock  # type: ignore[arg-type]


def test_exchange_failures_degrade_then_take_it_down_and_a_reply_heals() -> None:
    health, clock = board()
    health.request_outcome("GET", "/api/v3/time", None)
    assert health.exchange().status is HealthState.HEALTHY and health.exchange().last_ok_ms == T0
    clock.advance(1)
    health.request_outcome("GET", "/api/v3/account", REFUSED)
    first = health.exchange()
    assert first.status is HealthState.DEGRADED and "connection failed" in first.reason and first.last_ok_ms == T0
    clock.advance(10)  # failing for 10 s with no success: down even without a third failure
    assert health.exchange().status is HealthState.DOWN
    health.request_outcome("GET", "/api/v3/account", None)
    assert health.exchange().status is HealthState.HEALTHY and health.exchange().last_ok_ms == T0 + 11_000


def test_three_failures_in_a_row_are_down_and_business_rejections_prove_reachability() -> None:
    health, _ = board()
    for _ in range(3):
        health.request_outcome("GET", "/api/v3/account", NetworkError("HTTP 503 ", http_status=503))
    assert health.exchange().status is HealthState.DOWN
    health.request_outcome("POST", "/api/v3/order", InsufficientBalanceError("-2010 insufficient balance"))
    assert health.exchange().status is HealthState.HEALTHY
    entry = health.order_entry({})
    assert entry.status is HealthState.DEGRADED and "insufficient balance" in entry.reason


def test_rate_limit_reports_the_wait_and_clears_itself() -> None:
    health, clock = board()
    health.request_outcome("GET", "/api/v3/klines", RateLimitedError("429", -1003, 429, retry_after=42))
    limited = health.rate_limit()
    assert limited.status is HealthState.DEGRADED and limited.until_ms == T0 + 42_000
    assert "HTTP 429" in limited.reason and "42.0 s" in limited.reason
    assert health.exchange().status is HealthState.HEALTHY  # limited is not unreachable
    clock.advance(42)
    assert health.rate_limit().status is HealthState.HEALTHY
    health.request_outcome("GET", "/api/v3/klines", RateLimitedError("418", -1003, 418, retry_after=120))
    assert health.rate_limit().status is HealthState.DOWN and "HTTP 418" in health.rate_limit().reason


def test_user_stream_grace_degradation_and_permanent_stop() -> None:
    health, clock = board(user_stream_required=True)
    health.user_stream_state(False, "ConnectionRefusedError")
    assert health.user_stream().status is HealthState.DEGRADED  # never connected: no grace
    health.user_stream_state(True)
    assert health.user_stream().status is HealthState.HEALTHY
    clock.advance(30)
    health.user_stream_state(False, "ConnectionClosedError: 1006")
    clock.advance(2)
    assert health.user_stream().status is HealthState.HEALTHY and health.user_stream().reason == "reconnecting"
    clock.advance(10)
    lost = health.user_stream()
    assert lost.status is HealthState.DEGRADED and "disconnected for 12 s (ConnectionClosedError: 1006)" in lost.reason
    assert lost.last_ok_ms == T0 + 0
    health.user_stream_state(False, "-2015 Invalid API-key", final=True)
    assert health.user_stream().status is HealthState.DOWN and "Invalid API-key" in health.user_stream().reason
    paper, _ = board(user_stream_required=False)
    paper.user_stream_state(False, "-2015 Invalid API-key", final=True)
    assert paper.user_stream().status is HealthState.DEGRADED


def test_market_data_is_stale_after_two_base_intervals_per_symbol() -> None:
    market = ManualClock(T0)
    health = HealthBoard(wall=ManualClock(T0), market=market, limits=HealthLimits(stale_intervals=2))
    health.watch_market(("BTCUSDT", "ETHUSDT"), Timeframe.M1)
    last_open = T0 // 60_000 * 60_000 - 60_000
    health.candle_closed("BTCUSDT", Timeframe.M1, last_open)
    health.candle_closed("ETHUSDT", Timeframe.M1, last_open)
    health.candle_closed("ETHUSDT", Timeframe.M5, last_open + 10 * 60_000)  # another timeframe: ignored
    assert health.market_data().status is HealthState.HEALTHY
    market.set(last_open + 60_000 + 100_000)
    health.candle_closed("BTCUSDT", Timeframe.M1, last_open + 60_000)
    assert health.market_data().status is HealthState.HEALTHY  # ETH's newest closed 100 s ago: within 120 s
    market.set(last_open + 60_000 + 121_000)
    stale = health.market_data()
    assert stale.status is HealthState.DEGRADED
    assert stale.reason == "stale (limit 120 s): ETHUSDT no closed 1m candle for 121 s"


def test_components_include_what_is_watched() -> None:
    health, _ = board()
    assert set(health.components()) == {"exchange", "rate_limit", "order_entry"}
    health.user_stream_state(True)
    health.watch_market(("BTCUSDT",), Timeframe.M5)
    blocked = health.components(entries_blocked={"startup": "reconciling after start"})
    assert set(blocked) == {"exchange", "rate_limit", "order_entry", "user_stream", "market_data"}
    assert blocked["order_entry"].reason == "entries blocked: reconciling after start"
