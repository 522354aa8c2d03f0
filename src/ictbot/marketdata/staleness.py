"""Staleness watchdog: flips ``stale`` when no market data arrived for ``stale_after_s``."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable

import structlog

from ictbot.domain.events import Alert, AlertLevel

log = structlog.get_logger(__name__)

AlertSink = Callable[[Alert], Awaitable[None] | None]
StaleListener = Callable[[bool], None]


class StalenessWatchdog:
    """``touch()`` on every piece of fresh data; ``run()`` checks every ``check_every_s``.

    On the transition to stale it sends a WARNING alert (and listeners get ``True``); on recovery an
    INFO alert (listeners get ``False``). The risk layer reads ``stale`` (or listens) to stop entries.
    """

    def __init__(
        self,
        stale_after_s: float,
        *,
        source: str = "marketdata",
        check_every_s: float = 1.0,
        alert_sink: AlertSink | None = None,
    ) -> None:
        self.stale_after_s = stale_after_s
        self.check_every_s = check_every_s
        self.source = source
        self.alert_sink = alert_sink
        self._listeners: list[StaleListener] = []
        self._last_fresh: float | None = None
        self._stale = False
        self._changed = asyncio.Event()

    @property
    def stale(self) -> bool:
        return self._stale

    def add_listener(self, listener: StaleListener) -> None:
        self._listeners.append(listener)

    def touch(self) -> None:
        self._last_fresh = asyncio.get_running_loop().time()

    async def wait_for_state(self, stale: bool) -> None:
        """Return once ``stale`` equals the given value (tests and start-up gates)."""
        while self._stale is not stale:
            self._changed.clear()
            await self._changed.wait()

    async def check(self, reason: str = "") -> None:
        now = asyncio.get_running_loop().time()
        if self._last_fresh is None:
            self._last_fresh = now
        silent_for = now - self._last_fresh
        await self._set(silent_for > self.stale_after_s, silent_for, reason)

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.check_every_s)

    async def _set(self, stale: bool, silent_for: float, reason: str) -> None:
        if stale is self._stale:
            return
        self._stale = stale
        self._changed.set()
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                listener(stale)
        if stale:
            alert = Alert(
                AlertLevel.WARNING,
                self.source,
                f"market data stale: nothing for {silent_for:.1f}s",
                {"silent_s": round(silent_for, 3), "reason": reason},
            )
        else:
            alert = Alert(AlertLevel.INFO, self.source, "market data fresh again")
        log.warning(alert.message) if stale else log.info(alert.message)
        if self.alert_sink is not None:
            result = self.alert_sink(alert)
            if inspect.isawaitable(result):
                await result
