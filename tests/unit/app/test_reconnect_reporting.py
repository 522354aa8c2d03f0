"""Reconnects of the kline feed and of the user-data stream reach the monitoring system's storm rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ictbot.app.stage_links import report_reconnects
from ictbot.bus import EventBus
from ictbot.monitoring.collector import MetricsCollector
from ictbot.monitoring.system import MonitoringSystem
from ictbot.ports.clock import ManualClock

T0 = 1_700_000_000_000


class FeedWithListeners:
    def __init__(self) -> None:
        self.listeners: list[Callable[[], None]] = []

    def add_reconnect_listener(self, listener: Callable[[], None]) -> None:
        self.listeners.append(listener)


class UserStreamWithListeners:
    def __init__(self) -> None:
        self.subscriptions = 0
        self.listeners: list[Callable[[], Any]] = []

    def add_resubscribe_listener(self, listener: Callable[[], Any]) -> None:
        self.listeners.append(listener)

    def subscribe(self) -> None:
        self.subscriptions += 1
        for listener in self.listeners:
            listener()


class VenueWithStream:
    def __init__(self) -> None:
        self.user_stream = UserStreamWithListeners()


async def test_feed_and_user_stream_reconnects_raise_a_storm_alert_but_first_connects_do_not() -> None:
    clock = ManualClock(T0)
    bus = EventBus()
    monitor = MonitoringSystem(bus, MetricsCollector(clock=clock), clock=clock)
    feed, venue = FeedWithListeners(), VenueWithStream()
    report_reconnects(feed, venue, monitor)  # type: ignore[arg-type]
    await bus.start()

    venue.user_stream.subscribe()  # the first subscription is the connect
    assert await monitor.evaluate_once() == []

    for _ in range(5):
        for listener in feed.listeners:
            listener()
        venue.user_stream.subscribe()
        clock.advance(1)  # seconds
    alerts = await monitor.evaluate_once()
    sources = sorted(a.details["source"] for a in alerts if a.details.get("source"))
    assert sources == ["marketdata.binance", "user_stream"]
    await bus.stop()
