"""Binance's rate limits: request weight per minute (per client), unfilled orders per 10 s / day
(per account), 429 then 418 bans with Retry-After. Windows are fixed intervals of *server* time
(the simulated clock), like Binance's ``X-MBX-USED-WEIGHT-1M`` counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from ictbot.exchange_sim.errors import SimError

MINUTE_MS = 60_000
TEN_SECONDS_MS = 10_000
DAY_MS = 86_400_000


@dataclass(slots=True)
class _ClientState:
    window: int = -1
    used: int = 0
    limited_requests: int = 0
    banned_until: int = 0
    bans: int = 0


@dataclass(slots=True)
class _OrderCounts:
    window_10s: int = -1
    count_10s: int = 0
    window_1d: int = -1
    count_1d: int = 0


@dataclass
class RateLimiter:
    weight_limit: int
    orders_10s: int
    orders_1d: int
    requests_until_ban: int = 3
    ban_seconds: int = 120
    clients: dict[str, _ClientState] = field(default_factory=dict)
    accounts: dict[str, _OrderCounts] = field(default_factory=dict)

    def charge(self, client: str, weight: int, now: int, forced: bool = False) -> int:
        """Add ``weight``; raise 429/418 ``SimError`` when over the limit. Returns the used weight."""
        state = self.clients.setdefault(client, _ClientState())
        if now < state.banned_until:
            seconds = -(-(state.banned_until - now) // 1000)
            raise SimError(-1003, f"Way too much request weight used; IP banned until {state.banned_until}. "
                                  "Please use WebSocket Streams for live updates to avoid bans.", 418, seconds)
        window = now // MINUTE_MS
        if window != state.window:
            state.window, state.used, state.limited_requests = window, 0, 0
        state.used += weight
        if forced or state.used > self.weight_limit:
            state.limited_requests += 1
            if state.limited_requests > self.requests_until_ban + 1:
                state.bans += 1
                duration = self.ban_seconds * 1000 * 2 ** (state.bans - 1)
                state.banned_until = now + duration
                raise SimError(-1003, f"Way too much request weight used; IP banned until {state.banned_until}. "
                                      "Please use WebSocket Streams for live updates to avoid bans.", 418,
                               duration // 1000)
            retry = max(1, -(-((window + 1) * MINUTE_MS - now) // 1000))
            raise SimError(-1003, f"Too much request weight used; current limit is {self.weight_limit} request "
                                  "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                                  "polling the API.", 429, retry)
        return state.used

    def used_weight(self, client: str, now: int) -> int:
        state = self.clients.get(client)
        if state is None or state.window != now // MINUTE_MS:
            return 0
        return state.used

    def _counts(self, account: str, now: int) -> _OrderCounts:
        counts = self.accounts.setdefault(account, _OrderCounts())
        if counts.window_10s != now // TEN_SECONDS_MS:
            counts.window_10s, counts.count_10s = now // TEN_SECONDS_MS, 0
        if counts.window_1d != now // DAY_MS:
            counts.window_1d, counts.count_1d = now // DAY_MS, 0
        return counts

    def check_order(self, account: str, now: int) -> None:
        counts = self._counts(account, now)
        if counts.count_10s >= self.orders_10s:
            retry = -(-((counts.window_10s + 1) * TEN_SECONDS_MS - now) // 1000)
            raise SimError(-1015, f"Too many new orders; current limit is {self.orders_10s} orders per 10 SECOND.",
                           429, retry)
        if counts.count_1d >= self.orders_1d:
            retry = -(-((counts.window_1d + 1) * DAY_MS - now) // 1000)
            raise SimError(-1015, f"Too many new orders; current limit is {self.orders_1d} orders per DAY.", 429,
                           retry)

    def count_order(self, account: str, now: int) -> tuple[int, int]:
        counts = self._counts(account, now)
        counts.count_10s += 1
        counts.count_1d += 1
        return counts.count_10s, counts.count_1d

    def order_filled_first_time(self, account: str, now: int) -> None:
        """An order's first fill gives one unfilled-order slot back in every interval."""
        counts = self._counts(account, now)
        counts.count_10s = max(0, counts.count_10s - 1)
        counts.count_1d = max(0, counts.count_1d - 1)

    def order_counts(self, account: str, now: int) -> tuple[int, int]:
        counts = self._counts(account, now)
        return counts.count_10s, counts.count_1d
