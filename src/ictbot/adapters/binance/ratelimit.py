"""One request-weight / order-count budget per process, shared by every Binance component.

``RateBudget`` is the small interface; ``LocalRateBudget`` keeps the counts in memory. Binance counts
in fixed windows (per minute, per 10 s, per day) aligned to the epoch, so each rule is a counter for
the current window id ``now // interval``. A request waits until every rule it touches has room;
it never exceeds a limit knowingly. Response headers (``X-MBX-USED-WEIGHT-1M``,
``X-MBX-ORDER-COUNT-10S`` ...) are the server's count, which includes other processes on the same
IP/account, so the local count is raised to them. A 429/418 ``Retry-After`` blocks everything.

A Redis-backed budget for several processes implements the same four methods: ``acquire`` runs a
Lua script that, for each rule, ``INCRBY``s key ``rl:<scope>:<kind>:<interval>:<window_id>`` (with
``PEXPIRE`` of one interval) only if every counter stays within its limit, otherwise returns the ms
to wait; ``observe_headers`` does ``SET key max(value, header)`` in the same script;
``pause`` sets ``rl:<scope>:blocked_until`` (``SET ... PX``) which ``acquire`` checks first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import structlog

from ictbot.ports.clock import Clock, SystemClock

log = structlog.get_logger(__name__)

_INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_HEADER_UNIT_MS = {"S": 1_000, "M": 60_000, "H": 3_600_000, "D": 86_400_000}


class LimitKind(StrEnum):
    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    ORDERS = "ORDERS"
    RAW_REQUESTS = "RAW_REQUESTS"


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    kind: LimitKind
    interval_ms: int
    limit: int

    @classmethod
    def from_exchange(cls, raw: Mapping[str, Any]) -> RateLimitRule:
        """One ``exchangeInfo.rateLimits`` entry: ``{rateLimitType, interval, intervalNum, limit}``."""
        unit = _INTERVAL_MS[str(raw["interval"])]
        return cls(LimitKind(str(raw["rateLimitType"])), unit * int(raw.get("intervalNum", 1)), int(raw["limit"]))


# Conservative defaults until exchangeInfo has been read (Binance spot values of 2026).
DEFAULT_SPOT_RULES = (
    RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 6000),
    RateLimitRule(LimitKind.ORDERS, 10_000, 100),
    RateLimitRule(LimitKind.ORDERS, 86_400_000, 200_000),
    RateLimitRule(LimitKind.RAW_REQUESTS, 300_000, 300_000),
)
DEFAULT_USDM_RULES = (
    RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 2400),
    RateLimitRule(LimitKind.ORDERS, 10_000, 300),
    RateLimitRule(LimitKind.ORDERS, 60_000, 1200),
)


class RateBudget(Protocol):
    async def acquire(self, weight: int = 1, orders: int = 0) -> None:
        """Wait until ``weight`` request weight and ``orders`` order count fit, then reserve them."""
        ...

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Correct the counts from the server's ``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*``."""
        ...

    def pause(self, seconds: float) -> None:
        """Stop every request for ``seconds`` (429/418 ``Retry-After``)."""
        ...

    def configure(self, rules: Iterable[RateLimitRule]) -> None:
        """Replace the limits (from ``exchangeInfo.rateLimits``)."""
        ...


@dataclass(slots=True)
class _Counter:
    rule: RateLimitRule
    window: int = -1
    used: int = 0


class LocalRateBudget:
    """In-process budget. ``utilization`` < 1 leaves headroom for requests we cannot see."""

    def __init__(
        self,
        rules: Iterable[RateLimitRule] = DEFAULT_SPOT_RULES,
        clock: Clock | None = None,
        utilization: float = 0.95,
    ) -> None:
        if not 0 < utilization <= 1:
            raise ValueError("utilization must be in (0, 1]")
        self._clock = clock or SystemClock()
        self._utilization = utilization
        self._counters: list[_Counter] = []
        self._blocked_until_ms = 0
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.waited_s = 0.0
        self.last_wait: tuple[int, int, str] | None = None  # (at ms, wait ms, cause) of the latest wait
        self.configure(rules)

    # ---- RateBudget ---------------------------------------------------------------------
    def configure(self, rules: Iterable[RateLimitRule]) -> None:
        previous = {(c.rule.kind, c.rule.interval_ms): c for c in self._counters}
        counters = []
        for rule in rules:
            old = previous.get((rule.kind, rule.interval_ms))
            counters.append(_Counter(rule, old.window, old.used) if old else _Counter(rule))
        self._counters = counters

    async def acquire(self, weight: int = 1, orders: int = 0) -> None:
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:  # the process-wide budget may outlive an event loop (tests, CLI)
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:  # FIFO: a waiting request is not overtaken by later ones
            while True:
                wait_ms, cause = self._wait_ms(weight, orders)
                if wait_ms <= 0:
                    break
                self.waited_s += wait_ms / 1000
                # An operator must see why the bot is silent: a wait is logged with its cause and length.
                log.warning("rate-limit wait", seconds=round(wait_ms / 1000, 3), cause=cause, weight=weight,
                            orders=orders)
                self.last_wait = (self._clock.now_ms(), wait_ms, cause)
                await self._clock.sleep(wait_ms / 1000)
            self._reserve(weight, orders)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        now = self._clock.now_ms()
        for name, value in headers.items():
            upper = name.upper()
            if upper.startswith("X-MBX-USED-WEIGHT-"):
                self._correct(LimitKind.REQUEST_WEIGHT, upper.removeprefix("X-MBX-USED-WEIGHT-"), value, now)
            elif upper.startswith("X-MBX-ORDER-COUNT-"):
                self._correct(LimitKind.ORDERS, upper.removeprefix("X-MBX-ORDER-COUNT-"), value, now)

    def pause(self, seconds: float) -> None:
        until = self._clock.now_ms() + int(seconds * 1000)
        self._blocked_until_ms = max(self._blocked_until_ms, until)

    # ---- introspection ------------------------------------------------------------------
    def used(self, kind: LimitKind, interval_ms: int) -> int:
        now = self._clock.now_ms()
        for counter in self._counters:
            if counter.rule.kind is kind and counter.rule.interval_ms == interval_ms:
                return counter.used if counter.window == now // interval_ms else 0
        raise KeyError((kind, interval_ms))

    @property
    def rules(self) -> tuple[RateLimitRule, ...]:
        return tuple(c.rule for c in self._counters)

    # ---- internals ----------------------------------------------------------------------
    def _cost(self, counter: _Counter, weight: int, orders: int) -> int:
        kind = counter.rule.kind
        if kind is LimitKind.REQUEST_WEIGHT:
            return weight
        if kind is LimitKind.ORDERS:
            return orders
        return 1  # RAW_REQUESTS

    def _cap(self, rule: RateLimitRule) -> int:
        return max(1, int(rule.limit * self._utilization))

    def _wait_ms(self, weight: int, orders: int) -> tuple[int, str]:
        """Milliseconds this request must wait, and why (the rule or the server's Retry-After)."""
        now = self._clock.now_ms()
        wait = self._blocked_until_ms - now
        cause = "blocked by the exchange (429/418 Retry-After)"
        for counter in self._counters:
            cost = self._cost(counter, weight, orders)
            if cost <= 0:
                continue
            window = now // counter.rule.interval_ms
            used = counter.used if counter.window == window else 0
            cap = self._cap(counter.rule)
            if used + cost > cap and used > 0:  # a single oversized request still goes alone
                until_next = (window + 1) * counter.rule.interval_ms - now
                if until_next > wait:
                    wait = until_next
                    cause = (f"{counter.rule.kind.value} {used}+{cost} > {cap} per "
                             f"{counter.rule.interval_ms // 1000}s")
        return wait, cause

    def _reserve(self, weight: int, orders: int) -> None:
        now = self._clock.now_ms()
        for counter in self._counters:
            cost = self._cost(counter, weight, orders)
            window = now // counter.rule.interval_ms
            if counter.window != window:
                counter.window, counter.used = window, 0
            counter.used += max(cost, 0)

    def _correct(self, kind: LimitKind, suffix: str, value: str, now: int) -> None:
        try:
            interval_ms = int(suffix[:-1]) * _HEADER_UNIT_MS[suffix[-1]]
            reported = int(value)
        except (KeyError, ValueError, IndexError):
            return
        for counter in self._counters:
            if counter.rule.kind is kind and counter.rule.interval_ms == interval_ms:
                window = now // interval_ms
                if counter.window != window:
                    counter.window, counter.used = window, 0
                counter.used = max(counter.used, reported)


_shared: dict[tuple[str, str], LocalRateBudget] = {}


def shared_budget(market: str = "spot", host: str = "") -> LocalRateBudget:
    """The process-wide budget of one API family on one server (``host`` = ``name:port``).

    Spot and USD-M weights are counted separately, and so are different servers: each keeps its own
    count per client address (the live exchange, its testnet and a local simulator never share one).
    """
    key = (market, host)
    budget = _shared.get(key)
    if budget is None:
        budget = LocalRateBudget(DEFAULT_USDM_RULES if market == "usdm" else DEFAULT_SPOT_RULES)
        _shared[key] = budget
    return budget
