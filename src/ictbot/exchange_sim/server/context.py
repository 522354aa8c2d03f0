"""What a REST handler gets: the simulator, the parsed parameters, the account, server time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.errors import SimError, mandatory
from ictbot.exchange_sim.server.params import Params
from ictbot.exchange_sim.symbols import SymbolSpec

if TYPE_CHECKING:
    from ictbot.exchange_sim.core import Simulator


@dataclass
class Ctx:
    sim: Simulator
    params: Params
    account: str
    now: int
    market: Market

    def spec(self, name: str = "symbol") -> SymbolSpec:
        symbol = self.params.get(name)
        if symbol is None:
            raise mandatory(name)
        return self.sim.engine.spec(self.market, symbol)

    def interval(self) -> Timeframe:
        raw = self.params.required("interval")
        try:
            interval = Timeframe(raw)
        except ValueError:
            raise SimError(-1120, "Invalid interval.") from None
        if not interval.is_multiple_of(self.sim.replay.timeframe):
            raise SimError(-1120, "Invalid interval.")
        return interval

    def limit(self, default: int, maximum: int) -> int:
        limit = self.params.integer("limit", default) or default
        if limit <= 0 or limit > maximum:
            raise SimError(-1130, "Data sent for parameter 'limit' is not valid.")
        return limit


Handler = Callable[[Ctx], Awaitable[Any]]
WeightFn = Callable[[Params], int]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    weight: WeightFn
    security: str = "NONE"  # NONE | SIGNED | API_KEY
    market: Market = Market.SPOT
    places_order: bool = False
    free_on_success: bool = False  # order placement/cancel: 0 weight when successful (2026-04-02)


def fixed_weight(weight: int) -> WeightFn:
    return lambda _params: weight
