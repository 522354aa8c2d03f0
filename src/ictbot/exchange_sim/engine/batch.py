"""The events of one engine call, plus the accounts and assets it touched (their balances follow)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ictbot.exchange_sim.engine.model import EngineEvent


@dataclass(slots=True)
class Batch:
    events: list[EngineEvent] = field(default_factory=list)
    touched_spot: dict[str, set[str]] = field(default_factory=dict)
    touched_futures: dict[str, set[str]] = field(default_factory=dict)
    funding: bool = False

    def touch_spot(self, account: str, *assets: str) -> None:
        self.touched_spot.setdefault(account, set()).update(assets)

    def touch_futures(self, account: str, symbol: str) -> None:
        self.touched_futures.setdefault(account, set()).add(symbol)
